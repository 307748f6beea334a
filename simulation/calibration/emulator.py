"""Emulators: cheap stand-ins for the simulator's target moments as functions of the free
parameters, with an honest error, so that the posterior can be explored with millions of
evaluations instead of thousands of simulations.

Each moment gets a polynomial in the unit-cube parameters: linear terms in every parameter,
plus squares and pairwise interactions among its ``ACTIVE`` most influential ones (the
"active variables" of history matching: Vernon et al. 2010; Andrianakis et al. 2015). With 60
free parameters a full quadratic has 1,890 terms, more than a wave has points; a moment
responds strongly to a handful of parameters, and the rest enter linearly. Active variables
are those with the largest coefficients of a linear fit; the linear or the active-quadratic
form, and the ridge penalty, are chosen by 5-fold cross-validation. The emulator's error
variance is the cross-validated mean squared error: what it gets wrong at a point it did not
see, which includes the noise of the simulations it was fitted to (see ``posterior.py``).

A polynomial is a poor global fit over a wide prior box and a good local one: history
matching (``history.py``) refits it on a shrinking region, wave by wave, and the error
variance shrinks with it.
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import cache

import numpy as np

ALPHAS = np.logspace(-4, 4, 17)  # ridge penalties tried (on standardised features)
ACTIVE = 10  # parameters per moment that get quadratic terms


@dataclass
class Emulator:
    """Polynomial emulators of several moments over the unit cube of the free parameters."""

    dim: int
    centre: np.ndarray  # feature means and scales (standardisation)
    scale: np.ndarray
    intercept: np.ndarray  # per moment (NaN: no emulator, the moment was never defined)
    coef: np.ndarray  # features x moments (zero where a moment does not use a feature)
    variance: np.ndarray  # cross-validated error variance per moment
    terms: np.ndarray  # features used per moment
    points: np.ndarray  # points fitted per moment

    def features(self, z: np.ndarray) -> np.ndarray:
        """Standardised quadratic features of points ``z`` (n x dim) in the unit cube."""
        return (quadratic_features(np.atleast_2d(z)) - self.centre) / self.scale

    def predict(self, z: np.ndarray) -> np.ndarray:
        """Emulated moments (n x moments); NaN for a moment without an emulator."""
        return self.intercept + self.features(z) @ self.coef

    @property
    def defined(self) -> np.ndarray:
        return np.isfinite(self.intercept)

    def gradient(self, z: np.ndarray, eps: float = 1e-4) -> np.ndarray:
        """d moments / d z at one point (moments x dim), by central differences."""
        z = np.asarray(z, float)
        pts = np.vstack([z + eps * e for e in np.eye(self.dim)]
                        + [z - eps * e for e in np.eye(self.dim)])
        y = self.predict(pts)
        return ((y[:self.dim] - y[self.dim:]) / (2 * eps)).T


def quadratic_features(z: np.ndarray) -> np.ndarray:
    """Linear terms first, then z_i z_j for i <= j in row-major order (no constant): the
    columns of scikit-learn's PolynomialFeatures(degree=2, include_bias=False), computed
    directly (its input checks cost more than the products when a sampler calls it)."""
    i, j = _pairs(z.shape[1])
    return np.hstack([z, z[:, i] * z[:, j]])


@cache
def _pairs(dim: int) -> tuple[np.ndarray, np.ndarray]:
    return np.triu_indices(dim)


def _involved(dim: int) -> np.ndarray:
    """features x dim: which parameters each feature of ``quadratic_features`` involves."""
    i, j = np.triu_indices(dim)
    out = np.zeros((dim + len(i), dim), bool)
    out[np.arange(dim), np.arange(dim)] = True
    out[dim + np.arange(len(i)), i] = True
    out[dim + np.arange(len(i)), j] = True
    return out


def _ridge_path(x: np.ndarray, y: np.ndarray, alphas: np.ndarray) -> np.ndarray:
    """Ridge coefficients of centred ``x`` on centred ``y`` for every penalty at once:
    (alphas x features), by one SVD."""
    u, sv, vt = np.linalg.svd(x, full_matrices=False)
    shrink = sv[None, :] / (sv[None, :] ** 2 + alphas[:, None])  # (alphas x rank)
    return (shrink * (u.T @ y)[None, :]) @ vt


def _cv_errors(x: np.ndarray, y: np.ndarray, alphas: np.ndarray, folds: int) -> np.ndarray:
    """K-fold mean squared error of ridge predictions, per penalty. K-fold, not the
    leave-one-out shortcut: with fewer points than features the shortcut's hat matrix is
    nearly the identity and its error estimate collapses to zero."""
    fold = np.random.default_rng(0).permutation(len(x)) % folds
    err = np.zeros(len(alphas))
    for k in range(folds):
        tr, te = fold != k, fold == k
        mean, xm = y[tr].mean(), x[tr].mean(axis=0)
        coef = _ridge_path(x[tr] - xm, y[tr] - mean, alphas)
        pred = mean + (x[te] - xm) @ coef.T  # (test points x alphas)
        err += ((pred - y[te][:, None]) ** 2).sum(axis=0)
    return err / len(x)


def _fit(x: np.ndarray, y: np.ndarray, folds: int) -> tuple[float, np.ndarray, float]:
    """(intercept, coefficients, cross-validated error) at the best penalty."""
    err = _cv_errors(x, y, ALPHAS, folds)
    a = int(np.argmin(err))
    mean, xm = y.mean(), x.mean(axis=0)
    coef = _ridge_path(x - xm, y - mean, ALPHAS[a:a + 1])[0]
    return float(mean - xm @ coef), coef, float(err[a])


def fit_emulator(z: np.ndarray, y: np.ndarray, min_points: int = 8, folds: int = 5,
                 active: int = ACTIVE) -> Emulator:
    """Fit one polynomial per column of ``y`` (points x moments) on points ``z`` (points x
    dim); see the module docstring. Rows where a moment is NaN are left out of that moment's
    fit; a moment with fewer than ``min_points`` defined values gets no emulator."""
    z = np.atleast_2d(np.asarray(z, float))
    y = np.asarray(y, float).reshape(len(z), -1)
    dim = z.shape[1]
    raw = quadratic_features(z)
    centre = raw.mean(axis=0)
    scale = raw.std(axis=0)
    scale[scale == 0] = 1.0
    f = (raw - centre) / scale
    m = y.shape[1]
    intercept = np.full(m, np.nan)
    coef = np.zeros((f.shape[1], m))
    variance = np.full(m, np.nan)
    terms = np.zeros(m, int)
    points = np.zeros(m, int)
    involved = _involved(dim)
    for j in range(m):
        rows = np.isfinite(y[:, j])
        if rows.sum() < max(min_points, folds):
            continue
        fj, yj = f[rows], y[rows, j]
        b0, lin, e_lin = _fit(fj[:, :dim], yj, folds)
        best = (e_lin, b0, np.arange(dim), lin)
        if active > 0:
            top = np.argsort(-np.abs(lin), kind="stable")[:min(active, dim)]
            mask = np.zeros(dim, bool)
            mask[top] = True
            quad = np.flatnonzero(involved[dim:][:, ~mask].sum(axis=1) == 0) + dim
            cols = np.concatenate([np.arange(dim), quad])
            b1, cq, e_q = _fit(fj[:, cols], yj, folds)
            if e_q < e_lin:
                best = (e_q, b1, cols, cq)
        variance[j], intercept[j] = best[0], best[1]
        coef[best[2], j] = best[3]
        terms[j], points[j] = len(best[2]), int(rows.sum())
    return Emulator(dim, centre, scale, intercept, coef, variance, terms, points)

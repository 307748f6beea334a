"""Emulators: cheap stand-ins for the simulator's target moments as functions of the free
parameters, with an honest error, so that the posterior can be explored with millions of
evaluations instead of thousands of simulations.

Each moment gets a second-order polynomial in the unit-cube parameters (all squares and
pairwise interactions; or only the linear terms when those cross-validate better), fitted by
ridge regression whose penalty is chosen by 5-fold cross-validation. The emulator's error
variance is the cross-validated mean squared error: what the emulator gets wrong at a point
it did not see,
which includes both its lack of fit and the noise of the simulations it was fitted to (the
posterior subtracts the latter, see ``posterior.py``). A quadratic is a poor global fit over a
wide prior box and a good local one: history matching (``history.py``) refits it on a
shrinking region, wave by wave, and the error variance shrinks with it.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from sklearn.preprocessing import PolynomialFeatures

ALPHAS = np.logspace(-4, 4, 17)  # ridge penalties tried (on standardised features)


@dataclass
class MomentEmulator:
    """One moment's fitted quadratic: coefficients on standardised features."""

    intercept: float
    coef: np.ndarray
    loo_mse: float  # cross-validated mean squared error at the chosen terms and penalty
    alpha: float
    n: int


@dataclass
class Emulator:
    """Quadratic emulators of several moments over the unit cube of the free parameters."""

    dim: int
    centre: np.ndarray  # feature means and scales (standardisation)
    scale: np.ndarray
    moments: list[MomentEmulator | None]  # None: the moment was never defined in the data

    def features(self, z: np.ndarray) -> np.ndarray:
        """Standardised quadratic features of points ``z`` (n x dim) in the unit cube."""
        f = _poly(self.dim).transform(np.atleast_2d(z))
        return (f - self.centre) / self.scale

    def predict(self, z: np.ndarray) -> np.ndarray:
        """Emulated moments (n x moments); NaN for a moment without an emulator."""
        f = self.features(z)
        out = np.full((len(f), len(self.moments)), np.nan)
        for j, m in enumerate(self.moments):
            if m is not None:
                out[:, j] = m.intercept + f @ m.coef
        return out

    @property
    def variance(self) -> np.ndarray:
        """Cross-validated error variance per moment (NaN without an emulator)."""
        return np.array([m.loo_mse if m is not None else np.nan for m in self.moments])

    def gradient(self, z: np.ndarray, eps: float = 1e-4) -> np.ndarray:
        """d moments / d z at one point (moments x dim), by central differences."""
        z = np.asarray(z, float)
        pts = np.vstack([z + eps * e for e in np.eye(self.dim)]
                        + [z - eps * e for e in np.eye(self.dim)])
        y = self.predict(pts)
        return ((y[:self.dim] - y[self.dim:]) / (2 * eps)).T


def _poly(dim: int) -> PolynomialFeatures:
    """Squares and pairwise interactions, without the constant (the intercept is separate)."""
    return PolynomialFeatures(degree=2, include_bias=False).fit(np.zeros((1, dim)))


def _ridge_path(x: np.ndarray, y: np.ndarray, alphas: np.ndarray) -> np.ndarray:
    """Ridge coefficients for every penalty at once: (alphas x features x targets), by SVD."""
    u, sv, vt = np.linalg.svd(x, full_matrices=False)
    uty = u.T @ y
    shrink = sv[None, :] / (sv[None, :] ** 2 + alphas[:, None])  # (alphas x rank)
    return np.einsum("fr,ar,rt->aft", vt.T, shrink, uty)


def _cv_errors(x: np.ndarray, y: np.ndarray, alphas: np.ndarray, folds: int
               ) -> np.ndarray:
    """K-fold mean squared error of ridge predictions, (alphas x targets). K-fold, not the
    leave-one-out shortcut: with fewer points than features the shortcut's hat matrix is
    nearly the identity and its error estimate collapses to zero."""
    fold = np.random.default_rng(0).permutation(len(x)) % folds
    err = np.zeros((len(alphas), y.shape[1]))
    for k in range(folds):
        tr, te = fold != k, fold == k
        mean, xm = y[tr].mean(axis=0), x[tr].mean(axis=0)
        coef = _ridge_path(x[tr] - xm, y[tr] - mean, alphas)
        pred = mean + np.einsum("nf,aft->ant", x[te] - xm, coef)
        err += ((pred - y[te]) ** 2).sum(axis=1)
    return err / len(x)


def fit_emulator(z: np.ndarray, y: np.ndarray, min_points: int = 8, folds: int = 5
                 ) -> Emulator:
    """Fit one polynomial per column of ``y`` (points x moments) on points ``z`` (points x
    dim): for each moment, linear or quadratic terms and the ridge penalty, whichever
    cross-validates best; its cross-validated error is the emulator's error variance.

    Rows where a moment is NaN are left out of that moment's fit; a moment with fewer than
    ``min_points`` defined values gets no emulator (and is left out of the likelihood)."""
    z = np.atleast_2d(np.asarray(z, float))
    y = np.asarray(y, float).reshape(len(z), -1)
    dim = z.shape[1]
    raw = _poly(dim).transform(z)
    centre = raw.mean(axis=0)
    scale = raw.std(axis=0)
    scale[scale == 0] = 1.0
    f = (raw - centre) / scale
    out: list[MomentEmulator | None] = [None] * y.shape[1]
    finite = np.isfinite(y)
    # moments defined at the same rows are fitted together (one solve for many outputs)
    patterns: dict[bytes, list[int]] = {}
    for j in range(y.shape[1]):
        patterns.setdefault(finite[:, j].tobytes(), []).append(j)
    for key, cols in patterns.items():
        rows = np.frombuffer(key, dtype=bool)
        if rows.sum() < max(min_points, folds):
            continue
        x, yy = f[rows], y[np.ix_(rows, cols)]
        # linear terms are the first ``dim`` features: a quadratic with too few points to
        # support it loses to the plain linear fit in cross-validation
        errs = {terms: _cv_errors(x[:, :terms], yy, ALPHAS, folds)
                for terms in (dim, x.shape[1])}
        mean = yy.mean(axis=0)
        for k, j in enumerate(cols):
            terms, a = min(((t, int(np.argmin(e[:, k]))) for t, e in errs.items()),
                           key=lambda c: errs[c[0]][c[1], k])
            coef = np.zeros(x.shape[1])
            coef[:terms] = _ridge_path(x[:, :terms], (yy[:, k] - mean[k])[:, None],
                                       ALPHAS[a:a + 1])[0, :, 0]
            out[j] = MomentEmulator(float(mean[k]), coef, float(errs[terms][a, k]),
                                    float(ALPHAS[a]), int(rows.sum()))
    return Emulator(dim, centre, scale, out)

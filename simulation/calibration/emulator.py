"""Emulators: cheap stand-ins for the simulator's target moments as functions of the free
parameters, with an honest error, so that the posterior can be explored with millions of
evaluations instead of thousands of simulations.

Each moment gets a second-order polynomial in the unit-cube parameters (all squares and
pairwise interactions), fitted by ridge regression whose penalty is chosen by exact
leave-one-out cross-validation (scikit-learn's RidgeCV). The emulator's error variance is the
leave-one-out mean squared error: it is what the emulator gets wrong at a point it did not see,
which includes both its lack of fit and the noise of the simulations it was fitted to (the
posterior subtracts the latter, see ``posterior.py``). A quadratic is a poor global fit over a
wide prior box and a good local one: history matching (``history.py``) refits it on a
shrinking region, wave by wave, and the error variance shrinks with it.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from sklearn.linear_model import RidgeCV
from sklearn.preprocessing import PolynomialFeatures

ALPHAS = np.logspace(-6, 3, 19)  # ridge penalties tried (on standardised features)


@dataclass
class MomentEmulator:
    """One moment's fitted quadratic: coefficients on standardised features."""

    intercept: float
    coef: np.ndarray
    loo_mse: float  # leave-one-out mean squared error at the chosen penalty
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
        """Leave-one-out error variance per moment (NaN without an emulator)."""
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


def fit_emulator(z: np.ndarray, y: np.ndarray, min_points: int = 8) -> Emulator:
    """Fit one quadratic per column of ``y`` (points x moments) on points ``z`` (points x dim).

    Rows where a moment is NaN are left out of that moment's fit; a moment with fewer than
    ``min_points`` defined values gets no emulator (and is left out of the likelihood)."""
    z = np.atleast_2d(np.asarray(z, float))
    y = np.asarray(y, float).reshape(len(z), -1)
    raw = _poly(z.shape[1]).transform(z)
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
        if rows.sum() < min_points:
            continue
        yy = y[np.ix_(rows, cols)]
        mean = yy.mean(axis=0)
        model = RidgeCV(alphas=ALPHAS, fit_intercept=False, alpha_per_target=True,
                        store_cv_results=True).fit(f[rows], yy - mean)
        loo = model.cv_results_  # (n, targets, alphas): squared LOO errors
        alphas = np.atleast_1d(model.alpha_)
        coef = np.atleast_2d(model.coef_)
        for k, j in enumerate(cols):
            a = int(np.flatnonzero(alphas[k] == ALPHAS)[0])
            out[j] = MomentEmulator(float(mean[k]), coef[k].copy(),
                                    float(loo[:, k, a].mean()), float(alphas[k]),
                                    int(rows.sum()))
    return Emulator(z.shape[1], centre, scale, out)

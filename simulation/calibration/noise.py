"""Replicate noise of the target moments: how much one run's moments scatter around the model's
mean at fixed parameters. The register is one realisation of the world as one replicate is one
of the model, so this covariance belongs in the likelihood (``posterior.py``)."""

from __future__ import annotations

import warnings

import numpy as np
from sklearn.covariance import LedoitWolf

from simulation.calibration.evaluations import Evaluator
from simulation.calibration.spec import Moment


def replicate_covariance(evaluator: Evaluator, theta: dict[str, float], moments: list[Moment],
                         n: int, stream: str = "noise") -> np.ndarray:
    """Covariance (moments x moments) of single-replicate moments at ``theta`` from ``n`` fresh
    seeds, shrunk towards its diagonal (Ledoit-Wolf: with ~30 moments and ~24 replicates the
    sample covariance is nearly singular). A moment undefined in some replicates keeps only
    its variance over the replicates where it is defined."""
    values = evaluator.evaluate([theta], stream=stream, n=n)[0]
    m = evaluator.moments(values, moments)
    full = np.all(np.isfinite(m), axis=0)
    cov = np.zeros((len(moments), len(moments)))
    if full.sum() >= 2:
        cov[np.ix_(full, full)] = LedoitWolf().fit(m[:, full]).covariance_
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", RuntimeWarning)
        for j in np.flatnonzero(~full):
            cov[j, j] = np.nanvar(m[:, j], ddof=1) if np.isfinite(m[:, j]).sum() > 1 else 0.0
    return np.nan_to_num(cov)

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
    seeds: each moment's sample variance, and correlations shrunk towards zero (Ledoit-Wolf:
    with ~30 moments and ~24 replicates the sample correlation matrix is nearly singular).
    A moment undefined in some replicates keeps only
    its variance over the replicates where it is defined."""
    values = evaluator.evaluate([theta], stream=stream, n=n)[0]
    m = evaluator.moments(values, moments)
    full = np.all(np.isfinite(m), axis=0)
    cov = np.zeros((len(moments), len(moments)))
    if full.sum() >= 2:
        # shrink the correlations, not the covariance: Ledoit-Wolf's target is a multiple of
        # the identity, and moments on different scales (shares, counts of municipalities,
        # persons) would each receive the average variance, a count's for a share
        x = m[:, full]
        sd = x.std(axis=0, ddof=1)
        sd[sd == 0] = 1.0
        corr = LedoitWolf().fit(x / sd).covariance_
        scale = np.sqrt(np.diag(corr))
        cov[np.ix_(full, full)] = corr / np.outer(scale, scale) * np.outer(sd, sd)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", RuntimeWarning)
        for j in np.flatnonzero(~full):
            cov[j, j] = np.nanvar(m[:, j], ddof=1) if np.isfinite(m[:, j]).sum() > 1 else 0.0
    return np.nan_to_num(cov)

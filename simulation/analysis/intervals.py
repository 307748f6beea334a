"""The one way secmig turns a set of runs into a 5-95 % interval.

An interval from K runs (posterior draws x replicates) is read as "90 % of outcomes lie
inside". numpy's and pandas' default quantile (linear interpolation, position (K - 1) p + 1)
makes it narrower than that: its 5th and 95th percentiles cover on average (K - 1) / (K + 1)
x 90 % of the distribution the runs are drawn from, 81 % for K = 20 and 86 % for K = 40.
The Weibull plotting position (K + 1) p, numpy's ``method="weibull"``, is unbiased for that
coverage: the j-th smallest of K draws sits on average at the j / (K + 1) quantile of their
distribution (Hyndman & Fan 1996, "Sample quantiles in statistical packages", definition 6).
With fewer than 19 runs its 5th and 95th percentiles are the smallest and largest run, which
cover (K - 1) / (K + 1) on average, less than 90 %: no interval from so few runs can do better.
"""

from __future__ import annotations

import warnings

import numpy as np
import pandas as pd

LOW, HIGH = 0.05, 0.95  # the interval's quantiles: 90 %
METHOD = "weibull"
#: the fewest runs whose 5-95 % interval can cover 90 % on average
MIN_RUNS = 19


def quantile(values: np.ndarray, q: float | list[float], axis: int | None = None
             ) -> np.ndarray:
    """Quantile(s) ``q`` of ``values`` (NaNs ignored; all-NaN slices give NaN)."""
    v = np.asarray(values, dtype=np.float64)
    if not np.isnan(v).any():  # nanquantile loops in Python along an axis: only when needed
        return np.quantile(v, q, axis=axis, method=METHOD)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", RuntimeWarning)  # an all-NaN slice: NaN
        return np.nanquantile(v, q, axis=axis, method=METHOD)


def bounds(values: np.ndarray) -> tuple[float, float]:
    """The 5th and 95th percentiles of ``values`` (NaNs ignored)."""
    lo, hi = quantile(values, [LOW, HIGH])
    return float(lo), float(hi)


def grouped(groups: pd.core.groupby.GroupBy, q: float) -> pd.DataFrame | pd.Series:
    """Quantile ``q`` of every column of a pandas groupby, by :func:`quantile` (pandas'
    own ``quantile`` has no Weibull position)."""
    return groups.agg(lambda s: float(quantile(s.to_numpy(dtype=np.float64), q)))

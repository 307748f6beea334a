"""The 5-95 % interval from K runs covers 90 % of the distribution they come from on average
(analysis/intervals.py); numpy's default position covers (K - 1) / (K + 1) x 90 %."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from scipy.stats import norm

from simulation.analysis.intervals import MIN_RUNS, bounds, grouped, quantile
from simulation.runs.ensemble import interval


def _coverage(k: int, method: str, trials: int = 20_000) -> tuple[float, float]:
    """Mean and standard error over trials of the normal probability between the 5th and
    95th percentiles of k standard normal draws (exact per trial, so the only noise is the
    trials')."""
    x = np.random.default_rng(2026).standard_normal((trials, k))
    lo, hi = np.quantile(x, [0.05, 0.95], axis=1, method=method)
    cover = norm.cdf(hi) - norm.cdf(lo)
    return float(cover.mean()), float(cover.std() / np.sqrt(trials))


@pytest.mark.parametrize("k", [20, 40, 200])
def test_the_weibull_interval_covers_ninety_percent(k):
    mean, se = _coverage(k, "weibull")
    assert abs(mean - 0.90) < 4 * se + 0.002  # 0.002: the interpolation between draws
    linear, se_l = _coverage(k, "linear")
    assert abs(linear - 0.9 * (k - 1) / (k + 1)) < 4 * se_l + 0.002
    if k == 20:
        assert linear < 0.83  # the default position's interval from 20 runs: about 81 %


def test_fewer_runs_than_the_minimum_give_the_extremes():
    v = np.arange(10.0)
    assert MIN_RUNS == 19 and bounds(v) == (0.0, 9.0)
    assert bounds(np.arange(19.0)) == (0.0, 18.0)  # position (K + 1) 0.05 = 1: the smallest
    assert bounds(np.arange(39.0))[0] == pytest.approx(1.0)


def test_one_implementation_everywhere():
    """NaNs are ignored, all-NaN gives NaN, groupby and the ensemble's interval agree."""
    v = np.array([3.0, np.nan, 1.0, 2.0, 5.0])
    assert bounds(v) == tuple(np.quantile([1.0, 2.0, 3.0, 5.0], [0.05, 0.95],
                                          method="weibull"))
    assert np.isnan(quantile(np.full(3, np.nan), 0.05))
    assert interval(v)[1:] == bounds(v)
    frame = pd.DataFrame({"g": [0, 0, 0, 1, 1], "x": v})
    by = grouped(frame.groupby("g")["x"], 0.95)
    assert by[0] == bounds([3.0, 1.0])[1] and by[1] == bounds([2.0, 5.0])[1]

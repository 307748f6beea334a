"""Labour-market strength (0..1) of a municipality from observed figures.

Why a composite: the model needs one number for "how easily does an adult living here find
work" (it scales employment entry and the move decision). No single statistic says that, so
three observed ones are combined (weights are an ASSUMPTION, chosen before looking at any
model output):

* ``employment_rate`` (weight 0.35): employed residents 15-74 as % of residents, SSB 2022 --
  the direct measure of how many working-age residents hold a job, counted where they live,
  so commuting to jobs elsewhere is included.
* ``unemployment`` (weight 0.15, reversed): registered unemployment, NAV November 2018 -- the
  slack in the labour market when the 2015-2017 refugee cohorts entered it (the 2022 rate is
  years later). Lower weight: cyclical and noisy in small places.
* ``log10(commuting_area_jobs)`` (weight 0.5): jobs at the places the residents commute to,
  weighted by where they work -- the depth and variety of the reachable labour market
  (newcomers' entry jobs in services and industry concentrate in large markets). It takes the
  place of the size term of the old proxy with an observed quantity. Largest weight: with
  less, Stavanger (high unemployment in 2018, after the oil-price fall) fell below the 80th
  percentile, which no account of Norway's labour markets would accept.

Each part is scaled to 0..1 between its 5th and 95th percentile over Norway's 357
municipalities (fixed bounds from the built-in data, so a user table of a few municipalities
scores them as in the full country; clipped outside, so an outlier such as Hasvik's 11 %
unemployment does not squeeze everyone else), and the weighted sum is in 0..1, higher =
stronger. It rises in employment and market depth and falls in unemployment (monotone).
"""

from __future__ import annotations

import numpy as np

__all__ = ["WEIGHTS", "composite", "reference_bounds"]

WEIGHTS: dict[str, float] = {
    "employment_rate": 0.35,
    "unemployment": 0.15,
    "log_area_jobs": 0.5,
}
_PERCENTILES = (5.0, 95.0)


def reference_bounds(
    employment_rate: np.ndarray, unemployment: np.ndarray, area_jobs: np.ndarray
) -> dict[str, tuple[float, float]]:
    """The 5th and 95th percentile of each part over the reference (built-in) municipalities."""
    parts = {
        "employment_rate": employment_rate,
        "unemployment": unemployment,
        "log_area_jobs": np.log10(area_jobs),
    }
    return {
        k: (float(np.percentile(v, _PERCENTILES[0])), float(np.percentile(v, _PERCENTILES[1])))
        for k, v in parts.items()
    }


def composite(
    employment_rate: np.ndarray,
    unemployment: np.ndarray,
    area_jobs: np.ndarray,
    bounds: dict[str, tuple[float, float]],
) -> np.ndarray:
    """Labour-market strength in [0, 1]; NaN where any input is missing."""

    def scaled(x: np.ndarray, key: str) -> np.ndarray:
        lo, hi = bounds[key]
        return np.clip((np.asarray(x, dtype=np.float64) - lo) / (hi - lo), 0.0, 1.0)

    with np.errstate(divide="ignore", invalid="ignore"):
        log_jobs = np.log10(np.asarray(area_jobs, dtype=np.float64))
    return (
        WEIGHTS["employment_rate"] * scaled(employment_rate, "employment_rate")
        + WEIGHTS["unemployment"] * (1.0 - scaled(unemployment, "unemployment"))
        + WEIGHTS["log_area_jobs"] * scaled(log_jobs, "log_area_jobs")
    )

"""The floor of the engine benchmark: a trivial vectorized rule on the same households and
years, written as plain, reasonably efficient numpy (preallocated columns, one generator, no
Python loop over households). What no vectorized simulation of this size can beat by much:
the engine's time over this one says what its rules and bookkeeping cost.

Each year: the year's new households are appended (age, size, a municipality drawn in
proportion to population), everyone alive ages, exits happen with a fixed probability, moves
with a fixed probability to a municipality drawn in proportion to population
(cumulative sum + searchsorted), and persons per municipality are counted (bincount).
"""

from __future__ import annotations

import time

import numpy as np


def floor_run(cohort_sizes: list[int], population: np.ndarray, p_exit: float, p_move: float,
              seed: int = 0) -> tuple[float, int]:
    """Run the trivial rule; returns (seconds, household-years alive at the year ends)."""
    rng = np.random.default_rng(seed)
    n_m = len(population)
    cdf = np.cumsum(population, dtype=np.float64)
    cdf /= cdf[-1]
    cap = int(sum(cohort_sizes))
    age = np.zeros(cap, dtype=np.int16)
    size = np.zeros(cap, dtype=np.int16)
    muni = np.zeros(cap, dtype=np.int16)
    alive = np.zeros(cap, dtype=bool)
    n = 0
    household_years = 0
    t0 = time.perf_counter()
    for new in cohort_sizes:
        rows = slice(n, n + new)
        age[rows] = rng.integers(18, 60, new)
        size[rows] = rng.integers(1, 6, new)
        muni[rows] = np.minimum(np.searchsorted(cdf, rng.random(new), side="right"), n_m - 1)
        alive[rows] = True
        n += new
        a = alive[:n]
        age[:n] += a
        a &= rng.random(n) >= p_exit
        movers = np.flatnonzero(a & (rng.random(n) < p_move))
        muni[movers] = np.minimum(np.searchsorted(cdf, rng.random(len(movers)), side="right"),
                                  n_m - 1)
        live = np.flatnonzero(a)
        persons = np.bincount(muni[live], weights=size[live], minlength=n_m)
        assert len(persons) == n_m
        household_years += len(live)
    return time.perf_counter() - t0, household_years

"""The counter-based streams (randomness.py): the compiled SplitMix64 equals its definition on
Python integers, a row's number does not depend on how many rows are drawn, and the numbers
have the moments, independence and distribution they claim. Tolerances are sampling error:
with n = 1,000,000 a mean's standard error is sd / 1000, so 5 of them is a 1-in-a-million miss.
"""

from __future__ import annotations

import numpy as np
import pytest
from scipy import stats

from simulation.engine.randomness import (
    MASK,
    Streams,
    _mix64,
    counter_normals,
    counter_normals_at,
    counter_uniforms,
    counter_uniforms_at,
)

N = 1_000_000
SE = 5 / np.sqrt(N)  # five standard errors of a unit-variance mean


def test_compiled_words_are_splitmix64():
    state, gamma = Streams(11).counter("exits", "exit", 2015)
    expected = [(_mix64((int(state) + (i + 1) * int(gamma)) & MASK) >> 11) * 2.0**-53
                for i in range(1000)]
    assert np.array_equal(counter_uniforms(state, gamma, 1000), expected)
    assert int(gamma) % 2 == 1


def test_row_numbers_do_not_depend_on_the_count():
    """Common random numbers: row i gets the same number whatever the number of rows."""
    key = Streams(3).counter("life_course", "income_noise", 2012)
    assert np.array_equal(counter_uniforms(*key, 500), counter_uniforms(*key, 2000)[:500])
    assert np.array_equal(counter_normals(*key, 500), counter_normals(*key, 2000)[:500])


def test_numbers_of_some_rows_are_those_of_the_full_draw():
    """The draws for chosen rows only (what the kernels and the income use) give those rows
    exactly the numbers of the full draw, in any order and with repeats."""
    key = Streams(6).counter("life_course", "income_noise", 2013)
    rows = np.array([1999, 0, 7, 7, 1234, 500], dtype=np.int64)
    assert np.array_equal(counter_uniforms_at(*key, rows), counter_uniforms(*key, 2000)[rows])
    assert np.array_equal(counter_normals_at(*key, rows), counter_normals(*key, 2000)[rows])
    empty = np.zeros(0, dtype=np.int64)
    assert len(counter_uniforms_at(*key, empty)) == len(counter_normals_at(*key, empty)) == 0
    draws = Streams(6).draws("life_course", 2013)
    assert np.array_equal(draws.uniform_at("work", rows),
                          counter_uniforms(*Streams(6).counter("life_course", "work", 2013),
                                           2000)[rows])
    assert draws.counter("income_noise") == key
    with pytest.raises(ValueError, match="asked for twice"):
        draws.uniform("work", 5)


def test_keys_differ_by_draw_year_and_seed():
    keys = {Streams(s).counter(st, nm, y) for s in (1, 2) for (st, nm) in
            (("exits", "exit"), ("life_course", "work")) for y in (2010, 2011)}
    assert len(keys) == 8
    # a replicate's spawned seed is its own stream
    a, b = np.random.SeedSequence(5).spawn(2)
    assert Streams(a).counter("exits", "exit", 2010) != Streams(b).counter("exits", "exit", 2010)


@pytest.mark.parametrize("seed", [1, 2])
def test_uniforms_are_uniform_and_independent(seed):
    s = Streams(seed)
    u = counter_uniforms(*s.counter("life_course", "work", 2011), N)
    v = counter_uniforms(*s.counter("life_course", "work_b", 2011), N)
    w = counter_uniforms(*s.counter("life_course", "work", 2012), N)
    sd = np.sqrt(1 / 12)
    assert abs(u.mean() - 0.5) < SE * sd
    assert abs(u.var() - 1 / 12) < SE * np.sqrt(1 / 180)  # sd of (u - 1/2)^2 is sqrt(1/180)
    assert u.min() >= 0.0 and u.max() < 1.0
    # correlations between draws, years and neighbouring rows: each has se 1 / sqrt(N)
    for x, y in ((u, v), (u, w), (u[:-1], u[1:])):
        assert abs(np.corrcoef(x, y)[0, 1]) < SE
    assert stats.kstest(u, "uniform").pvalue > 1e-6
    # joint uniformity of consecutive rows in a 16 x 16 grid (chi-square, 255 df)
    grid = np.histogram2d(u[:-1:2], u[1::2], bins=16, range=[[0, 1], [0, 1]])[0]
    assert stats.chisquare(grid.ravel()).pvalue > 1e-6


def test_normals_are_standard_normal():
    z = counter_normals(*Streams(4).counter("life_course", "income_noise", 2014), N)
    assert abs(z.mean()) < SE
    assert abs(z.var() - 1) < SE * np.sqrt(2)
    assert abs(stats.skew(z)) < SE * np.sqrt(6)
    assert abs(stats.kurtosis(z)) < SE * np.sqrt(24)
    assert stats.kstest(z, "norm").pvalue > 1e-6
    assert abs(np.corrcoef(z[:-1], z[1:])[0, 1]) < SE

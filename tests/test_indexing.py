"""engine/indexing.py: grouping by counting gives exactly what numpy's sort-based unique and
stable argsort give (the engine's results depend on the order)."""

from __future__ import annotations

import numpy as np
import pytest

from simulation.engine.indexing import stable_order, unique_inverse


@pytest.mark.parametrize("span", [1, 50, 40_000, 10**12])
@pytest.mark.parametrize("n", [0, 1, 7, 5_000])
def test_unique_inverse_is_numpys(span, n):
    rng = np.random.default_rng(span + n)
    key = rng.integers(0, span, n, dtype=np.int64) + 123_456  # counted or (wide) sorted
    cells, inverse = unique_inverse(key)
    expected_cells, expected_inverse = np.unique(key, return_inverse=True)
    assert np.array_equal(cells, expected_cells) and cells.dtype == expected_cells.dtype
    assert np.array_equal(inverse, expected_inverse)
    assert np.array_equal(cells[inverse], key)


@pytest.mark.parametrize("count", [1, 30, 32_767, 32_768, 100_000])
def test_stable_order_is_a_stable_argsort(count):
    rng = np.random.default_rng(count)
    index = rng.integers(0, count, 20_000).astype(np.int64)
    assert np.array_equal(stable_order(index, count), np.argsort(index, kind="stable"))

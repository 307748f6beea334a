"""Grouping household rows by a small integer key without sorting: the engine groups rows by
keys of a short range every year (a cohort's panel cells, the movers' destination-choice
combinations), and counting beats a sort there (a sort was a twentieth of the run)."""

from __future__ import annotations

import numpy as np

# a key range up to this many times the rows (plus a floor) is counted; wider ones are sorted
SPAN_PER_ROW = 4
SPAN_FLOOR = 65536


def unique_inverse(key: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """``np.unique(key, return_inverse=True)`` (ascending distinct keys, and each row's index
    among them) for integer keys: by counting when their range is short, else by sorting."""
    if len(key) == 0:
        return np.unique(key, return_inverse=True)
    low = int(key.min())
    span = int(key.max()) - low + 1
    if span > SPAN_PER_ROW * len(key) + SPAN_FLOOR:
        return np.unique(key, return_inverse=True)
    offset = key - low
    present = np.bincount(offset, minlength=span) > 0
    number = np.cumsum(present) - 1
    return np.flatnonzero(present) + low, number[offset]


def stable_order(index: np.ndarray, count: int) -> np.ndarray:
    """``np.argsort(index, kind="stable")`` for indices in 0..count-1: rows grouped by index,
    in row order within a group (a stable order is unique, so any stable sort gives it;
    numpy radix-sorts 16-bit integers)."""
    if count <= np.iinfo(np.int16).max:
        return np.argsort(index.astype(np.int16), kind="stable")
    return np.argsort(index, kind="stable")

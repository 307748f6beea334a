"""Households drawn into the assigned slots, with the replicate's random stream.

Of the households of one slot kind that the baseline put in municipality m, as many as the
assignment keeps there stay (chosen at random); the others of that kind, in random order,
fill the kind's new places municipality by municipality. Same seed, same draw: the order
comes from one counter-based uniform per household row.
"""

from __future__ import annotations

import numpy as np


def draw_into_slots(slot_of: np.ndarray, baseline: np.ndarray, x: np.ndarray,
                    u: np.ndarray) -> np.ndarray:
    """The municipality of each household (aligned with ``slot_of``, its slot kind, and
    ``baseline``, its baseline municipality) so that ``x[s, m]`` households of slot kind s
    are in m; ``u`` one uniform per household orders the draw."""
    n_s, n_m = x.shape
    slot_of = slot_of.astype(np.int64)
    baseline = baseline.astype(np.int64)
    x0 = np.zeros((n_s, n_m), dtype=np.int64)
    np.add.at(x0, (slot_of, baseline), 1)
    if (x.sum(axis=1) != x0.sum(axis=1)).any():
        raise ValueError("the assignment does not place every household exactly once")
    keep = np.minimum(x, x0)
    # rank of each household among those of its (slot kind, baseline municipality), by u
    cell = slot_of * n_m + baseline
    order = np.lexsort((u, cell))
    cell_sorted = cell[order]
    first = np.r_[0, np.flatnonzero(np.diff(cell_sorted)) + 1]
    start = np.zeros(len(cell), dtype=np.int64)
    start[first] = first
    rank = np.arange(len(cell)) - np.maximum.accumulate(start)
    out = np.empty(len(cell), dtype=np.int64)
    stays = rank < keep.ravel()[cell_sorted]
    out[order[stays]] = baseline[order[stays]]
    # the others of each slot kind, in the order of u, into the kind's new places
    pool = order[~stays]
    pool = pool[np.lexsort((u[pool], slot_of[pool]))]
    added = (x - keep).ravel()
    places = np.repeat(np.tile(np.arange(n_m), n_s), added)  # slot-major, like pool
    if len(places) != len(pool):
        raise ValueError("the assignment's new places do not match the households to move")
    out[pool] = places
    return out

"""Household kinds: what a placement officer knows about a household when it is placed.

A kind is (household type, country group, youth needing upper-secondary school, health need,
head's age band); a *slot kind* adds the number of persons, because capacities are in persons
and a household is placed whole. The predictions are made per kind and municipality; the
assignment is solved per slot kind and municipality. Productivity, a tie elsewhere and the
like are not known at placement and are not part of a kind.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from simulation.engine.households import ADULTS_BY_TYPE, Households

# head's age bands by the programme's age limits: under 18 (unaccompanied minors), 18-55,
# 56 and over. Within a band the prediction uses the kind's mean age: age's own effect on
# moving is additive, the same in every municipality, so finer bands would change the
# ranking of municipalities little and cost a kind each (the assignment's size).
AGE_BAND_EDGES = np.array([18, 56])


@dataclass(frozen=True)
class Kinds:
    """The kinds and slot kinds of a set of households (rows of a cohort)."""

    # per kind: htype, group, need_school, need_health, age band, mean head's age
    htype: np.ndarray
    group: np.ndarray
    need_school: np.ndarray
    need_health: np.ndarray
    age: np.ndarray  # mean age of the kind's heads (the prediction uses it)
    # per slot kind: its kind, persons per household, households
    slot_kind: np.ndarray
    slot_size: np.ndarray
    slot_count: np.ndarray
    # per household: its slot kind
    of_household: np.ndarray

    @property
    def n_kinds(self) -> int:
        return len(self.htype)

    @property
    def n_slots(self) -> int:
        return len(self.slot_kind)

    @property
    def adults(self) -> np.ndarray:
        """Adults per household of each kind."""
        return ADULTS_BY_TYPE[self.htype].astype(np.int64)


def household_kinds(hh: Households, rows: np.ndarray) -> Kinds:
    """The kinds of households ``rows`` of ``hh``."""
    band = np.searchsorted(AGE_BAND_EDGES, hh.age0[rows], side="right")
    kind_key = np.stack([hh.htype[rows].astype(np.int64), hh.group[rows].astype(np.int64),
                         hh.need_school[rows].astype(np.int64),
                         hh.need_health[rows].astype(np.int64), band], axis=1)
    kinds, kind_of = np.unique(kind_key, axis=0, return_inverse=True)
    kind_of = kind_of.ravel()
    mean_age = (np.bincount(kind_of, weights=hh.age0[rows].astype(np.float64),
                            minlength=len(kinds))
                / np.maximum(np.bincount(kind_of, minlength=len(kinds)), 1))
    size = hh.size[rows].astype(np.int64)
    slot_key = np.stack([kind_of, size], axis=1)
    slots, slot_of, counts = np.unique(slot_key, axis=0, return_inverse=True,
                                       return_counts=True)
    return Kinds(htype=kinds[:, 0].astype(np.int8), group=kinds[:, 1].astype(np.int8),
                 need_school=kinds[:, 2].astype(bool), need_health=kinds[:, 3].astype(bool),
                 age=mean_age, slot_kind=slots[:, 0], slot_size=slots[:, 1],
                 slot_count=counts.astype(np.int64), of_household=slot_of.ravel())

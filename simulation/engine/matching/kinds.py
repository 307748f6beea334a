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
from simulation.inputs.categories import COUNTRY_GROUPS

# head's age bands by the programme's age limits: under 18 (unaccompanied minors), 18-55,
# 56 and over. Within a band the prediction uses the kind's mean age: age's own effect on
# moving is additive, the same in every municipality, so finer bands would change the
# ranking of municipalities little and cost a kind each (the assignment's size).
AGE_BAND_EDGES = np.array([18, 56])


@dataclass(frozen=True)
class Kinds:
    """The kinds and slot kinds of a set of households (rows of a cohort)."""

    # per kind: htype, group, need_school, need_health, mean head's age
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
    n_groups = len(COUNTRY_GROUPS)
    n_bands = len(AGE_BAND_EDGES) + 1
    # one integer per kind (np.unique on a 1-d key is ~20x faster than on rows)
    key = ((((hh.htype[rows].astype(np.int64) * n_groups + hh.group[rows]) * 2
             + hh.need_school[rows]) * 2 + hh.need_health[rows]) * n_bands + band)
    kinds, kind_of = np.unique(key, return_inverse=True)
    kind_of = kind_of.ravel()
    rest = kinds // n_bands
    rest, health = np.divmod(rest, 2)
    rest, school = np.divmod(rest, 2)
    htype, group = np.divmod(rest, n_groups)
    mean_age = (np.bincount(kind_of, weights=hh.age0[rows].astype(np.float64),
                            minlength=len(kinds))
                / np.maximum(np.bincount(kind_of, minlength=len(kinds)), 1))
    size = hh.size[rows].astype(np.int64)
    slots, slot_of, counts = np.unique(kind_of * (int(size.max(initial=1)) + 1) + size,
                                       return_inverse=True, return_counts=True)
    slot_kind, slot_size = np.divmod(slots, int(size.max(initial=1)) + 1)
    return Kinds(htype=htype.astype(np.int8), group=group.astype(np.int8),
                 need_school=school.astype(bool), need_health=health.astype(bool),
                 age=mean_age, slot_kind=slot_kind, slot_size=slot_size,
                 slot_count=counts.astype(np.int64), of_household=slot_of.ravel())

"""Households as columns: one numpy array per attribute, one row per household.

Rows are appended cohort by cohort and never removed or reordered, so a household's row index
is its id for the whole run (exits only clear ``alive``). That keeps ids stable for the event
log and lets random draws be indexed by household, which is what gives two scenarios with the
same seed common random numbers.
"""

from __future__ import annotations

from dataclasses import dataclass, field, fields

import numpy as np

# integer codes of HOUSEHOLD_TYPES, in its order
SINGLE_MAN, SINGLE_WOMAN, COUPLE, FAMILY, LONE_PARENT = range(5)
ADULTS_BY_TYPE = np.array([1, 1, 2, 2, 1], dtype=np.int8)
FAMILY_TYPES = (FAMILY, LONE_PARENT)

EXIT_NONE, EXIT_EMIGRATION, EXIT_DEATH = 0, 1, 2

NO_MUNICIPALITY = -1


def _col(dtype: type | str, fill: float = 0) -> np.ndarray:
    return field(default_factory=lambda: np.full(0, fill, dtype=dtype))


@dataclass
class Households:
    """All households ever settled in the run, column-wise."""

    cohort: np.ndarray = _col(np.int16)  # settlement year
    settlement: np.ndarray = _col(np.int16)  # settlement municipality (index)
    municipality: np.ndarray = _col(np.int16)  # current municipality (index)
    htype: np.ndarray = _col(np.int8)  # index into HOUSEHOLD_TYPES
    group: np.ndarray = _col(np.int8)  # index into COUNTRY_GROUPS
    size: np.ndarray = _col(np.int16)  # persons
    age0: np.ndarray = _col(np.int16)  # head's age at settlement
    alive: np.ndarray = _col(np.bool_)  # living in Norway
    exit_year: np.ndarray = _col(np.int16, -1)
    exit_reason: np.ndarray = _col(np.int8)
    employed: np.ndarray = _col(np.bool_)  # at least one adult employed (sync_employed)
    # adults by slot: a is the single adult, the lone parent or the man of a couple; b is the
    # woman of a couple and exists only where ADULTS_BY_TYPE is 2 (children do not work)
    employed_a: np.ndarray = _col(np.bool_)
    employed_b: np.ndarray = _col(np.bool_)
    female_a: np.ndarray = _col(np.bool_)
    female_b: np.ndarray = _col(np.bool_)
    # household income (G) in the run's last year (set by that year's life course; income is
    # worked out only where it is recorded: terms.household_incomes)
    income: np.ndarray = _col(np.float64)
    productivity: np.ndarray = _col(np.float64)  # lasting individual earnings factor
    programme_lost: np.ndarray = _col(np.bool_)  # moved away during the programme
    rights_lost: np.ndarray = _col(np.bool_)  # moved without agreement inside the window
    delayed_move: np.ndarray = _col(np.bool_)  # a move held back by the rights rule, pending
    belonging: np.ndarray = _col(np.float64)
    need_school: np.ndarray = _col(np.bool_)
    need_higher: np.ndarray = _col(np.bool_)
    need_health: np.ndarray = _col(np.bool_)
    tie: np.ndarray = _col(np.int16, NO_MUNICIPALITY)  # municipality of a tie, or -1
    moves: np.ndarray = _col(np.int16)  # number of moves so far
    pending_event: np.ndarray = _col(np.int64, -1)  # move event awaiting income-after

    def __len__(self) -> int:
        return len(self.cohort)

    def append(self, new: Households) -> None:
        """Add a cohort's households at the end (their row indices become their ids).

        Each column is a view of a buffer with room to spare (grown by half when full), so a
        year's cohort is copied in, not every row so far: re-concatenating all columns every
        year was 2 % of the engine's time. A column that a stage replaced by a new array
        (``sync_employed``, the last year's income) is copied into a fresh buffer."""
        n, k = len(self), len(new)
        buffers = self.__dict__.setdefault("_buffers", {})
        for f in fields(self):
            column, extra = getattr(self, f.name), getattr(new, f.name)
            buffer = buffers.get(f.name)
            if buffer is None or column.base is not buffer or len(buffer) < n + k:
                buffer = np.empty(max(n + k, (n + k) * 3 // 2, 1024), dtype=column.dtype)
                buffer[:n] = column
                buffers[f.name] = buffer
            buffer[n:n + k] = extra
            setattr(self, f.name, buffer[:n + k])

    @classmethod
    def empty(cls, n: int) -> Households:
        """``n`` fresh rows with the column defaults, for a cohort to fill in."""
        hh = cls()
        for f in fields(cls):
            column = getattr(hh, f.name)
            fill = -1 if f.name in ("exit_year", "tie", "pending_event") else 0
            setattr(hh, f.name, np.full(n, fill, dtype=column.dtype))
        return hh

    def years_since(self, year: int) -> np.ndarray:
        """Years since settlement (0 in the settlement year)."""
        return year - self.cohort.astype(np.int32)

    def age(self, year: int) -> np.ndarray:
        """Head's age this year."""
        return self.age0 + self.years_since(year)

    @property
    def adults(self) -> np.ndarray:
        """Adults in each household (income is per adult)."""
        return ADULTS_BY_TYPE[self.htype]

    @property
    def has_b(self) -> np.ndarray:
        """Households with a second adult (slot b): couples with or without children (the
        types with two adults in ADULTS_BY_TYPE)."""
        return (self.htype == COUPLE) | (self.htype == FAMILY)

    @property
    def employed_adults(self) -> np.ndarray:
        """Employed adults per household (0, 1 or 2)."""
        return self.employed_a.astype(np.int64) + (self.employed_b & self.has_b)

    def set_sex(self, rows: np.ndarray, lone_parent_female: np.ndarray) -> None:
        """Sex of the adults of newly settled ``rows``: it follows from the household type
        (couples: a man in slot a, a woman in slot b); ``lone_parent_female`` says which lone
        parents are mothers (drawn by the caller)."""
        htype = self.htype[rows]
        self.female_a[rows] = (htype == SINGLE_WOMAN) | ((htype == LONE_PARENT)
                                                         & lone_parent_female)
        self.female_b[rows] = ADULTS_BY_TYPE[htype] == 2

    def sync_employed(self) -> None:
        """The one writer of ``employed``: a household has work when at least one adult has
        (a household without an employed adult is benefit-dependent for the rights rule)."""
        self.employed_b &= self.has_b
        self.employed = self.employed_a | self.employed_b

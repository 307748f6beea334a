"""Stage 7, observation: yearly aggregates on 1 January of the next year (MODEL.md 7).

Everything a later indicator needs is aggregated here with bincounts over household columns,
so results stay small (no per-household panel) yet retention can be cut by cohort, household
type, country group and settlement municipality (hence centrality and county).
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np
import pandas as pd

from simulation.engine import kernels
from simulation.engine.households import ADULTS_BY_TYPE
from simulation.engine.indexing import unique_inverse
from simulation.engine.world import World
from simulation.inputs.categories import COUNTRY_GROUPS, HOUSEHOLD_TYPES


def hoover_index(persons: np.ndarray, population: np.ndarray) -> float:
    """Hoover (dissimilarity) index of ``persons`` against ``population`` across areas, 0..1."""
    total = persons.sum()
    if total <= 0:
        return float("nan")
    return float(0.5 * np.abs(persons / total - population / population.sum()).sum())


#: adults are counted for employment while the head is of working age (the register: 15-66)
WORKING_AGE = (15, 66)


def working_age(world: World, year: int) -> np.ndarray:
    """Households alive whose head is of working age at the end of ``year``."""
    hh = world.households
    age = hh.age(year)
    return hh.alive & (age >= WORKING_AGE[0]) & (age <= WORKING_AGE[1])


def employment_table(adults: np.ndarray, employed: np.ndarray, first: int, year: int
                     ) -> dict[str, np.ndarray]:
    """The employment rows from counts over flat (cohort, type, group, sex) keys: one row per
    key with adults, as the Results' employment table holds them."""
    n_g, n_t = len(COUNTRY_GROUPS), len(HOUSEHOLD_TYPES)
    keys = np.flatnonzero(adults)
    return {
        "year": np.full(len(keys), year + 1, dtype=np.int16),
        "cohort": (first + keys // (n_t * n_g * 2)).astype(np.int16),
        "household_type": ((keys // (n_g * 2)) % n_t).astype(np.int8),
        "country_group": ((keys // 2) % n_g).astype(np.int8),
        "female": (keys % 2).astype(bool),
        "adults": adults[keys].astype(np.int64),
        "employed": employed[keys].astype(np.int64),
    }


def employment_chunk(world: World, year: int, counted: np.ndarray | None = None
                     ) -> dict[str, np.ndarray]:
    """Adults of working age and employed adults on 1 January of ``year + 1`` by (cohort,
    country group, household type, sex): the employment indicators' counts. An adult's age is
    taken as the head's. ``counted``: :func:`working_age` if the caller has it already.

    The engine counts in ``kernels.observe_counts``; this is its specification, compared bit
    for bit in tests/test_kernels.py."""
    hh = world.households
    n_g, n_t = len(COUNTRY_GROUPS), len(HOUSEHOLD_TYPES)
    counted = working_age(world, year) if counted is None else counted
    first = int(hh.cohort.min())
    n_c = year - first + 1
    rows = np.flatnonzero(counted)  # counts are whole numbers: any order sums them exactly
    base = ((hh.cohort[rows].astype(np.int64) - first) * n_t + hh.htype[rows]) * n_g \
        + hh.group[rows]
    bins = n_c * n_t * n_g * 2
    adults = np.zeros(bins)
    employed = np.zeros(bins)
    has_b = hh.has_b[rows]
    for present, female, works in ((slice(None), hh.female_a[rows], hh.employed_a[rows]),
                                   (has_b, hh.female_b[rows], hh.employed_b[rows])):
        key = (base * 2 + female)[present]
        adults += np.bincount(key, minlength=bins)
        employed += np.bincount(key, weights=works[present], minlength=bins)
    return employment_table(adults, employed, first, year)


def municipal_adults(world: World, year: int, employed: bool = False,
                     counted: np.ndarray | None = None) -> np.ndarray:
    """Adults of working age (``employed``: employed adults) living in each municipality at
    the end of ``year``. ``counted``: :func:`working_age` if the caller has it already.

    The engine counts in ``kernels.observe_counts``; this is its specification, compared bit
    for bit in tests/test_kernels.py."""
    hh = world.households
    counted = working_age(world, year) if counted is None else counted
    weights = hh.employed_adults if employed else hh.adults
    return np.bincount(hh.municipality[counted], weights=weights[counted].astype(np.float64),
                       minlength=world.geography.n)


@dataclass
class Observer:
    """Collects the yearly aggregates as column chunks."""

    panel: list[dict[str, np.ndarray]] = field(default_factory=list)
    cohorts: list[dict[str, np.ndarray]] = field(default_factory=list)
    stocks: list[dict[str, np.ndarray]] = field(default_factory=list)
    residence: list[dict[str, np.ndarray]] = field(default_factory=list)
    employment: list[dict[str, np.ndarray]] = field(default_factory=list)
    # the last year's adults and employed adults per municipality (the yearly municipality
    # series read them here, so working age is worked out once a year)
    municipal: dict[str, np.ndarray] = field(default_factory=dict)
    # retention-panel cells: a household's (cohort, type, group, settlement municipality)
    # never changes, so each row is given its cell once; cells are numbered in the order of
    # their key, so the panel comes out in the order a dense bincount over keys gives
    _row_cell: np.ndarray = field(default_factory=lambda: np.zeros(0, dtype=np.int32))
    _cell_key: np.ndarray = field(default_factory=lambda: np.zeros(0, dtype=np.int64))

    def panel_cells(self, world: World) -> tuple[np.ndarray, np.ndarray]:
        """Each household row's panel cell, and each cell's key (absolute cohort, type, group,
        settlement, mixed-radix); rows added since the last call get their cells now."""
        hh = world.households
        n, n_g, n_t = world.geography.n, len(COUNTRY_GROUPS), len(HOUSEHOLD_TYPES)
        seen = len(self._row_cell)
        new = slice(seen, len(hh))
        key = (((hh.cohort[new].astype(np.int64) * n_t + hh.htype[new]) * n_g
                + hh.group[new]) * n + hh.settlement[new])
        if len(key):
            cells, inverse = unique_inverse(key)
            if len(self._cell_key) and cells[0] <= self._cell_key[-1]:
                # not a later cohort (rows appended out of cohort order): number afresh
                self._row_cell = np.zeros(0, dtype=np.int32)
                self._cell_key = np.zeros(0, dtype=np.int64)
                return self.panel_cells(world)
            self._row_cell = np.concatenate([self._row_cell,
                                             (len(self._cell_key) + inverse).astype(np.int32)])
            self._cell_key = np.concatenate([self._cell_key, cells])
        return self._row_cell, self._cell_key

    def observe(self, world: World, year: int) -> None:
        """Record the state on 1 January of ``year + 1`` (after this year's moves).

        The counts come from one compiled pass over the rows (kernels.observe_counts, equal
        to the bincounts of :func:`employment_chunk` and :func:`municipal_adults`: person
        counts are whole numbers, so every sum is exact in any order; tests/test_kernels.py
        compares them)."""
        hh = world.households
        n = world.geography.n
        n_g, n_t = len(COUNTRY_GROUPS), len(HOUSEHOLD_TYPES)
        first = int(hh.cohort.min())
        n_c = year - first + 1
        row_cell, cell_key = self.panel_cells(world)
        cell_persons = np.zeros(len(cell_key))
        cell_home = np.zeros(len(cell_key))
        cohort_households = np.zeros(n_c)
        cohort_settled = np.zeros(n_c)
        cohort_alive = np.zeros(n_c)
        cohort_home = np.zeros(n_c)
        residence = np.zeros(n_c * n)
        bins = n_c * n_t * n_g * 2
        adults = np.zeros(bins)
        employed = np.zeros(bins)
        municipal = np.zeros(n)
        municipal_employed = np.zeros(n)
        kernels.observe_counts(
            hh.alive, hh.cohort, hh.age0, hh.municipality, hh.settlement, hh.htype, hh.group,
            hh.size, hh.employed_a, hh.employed_b, hh.female_a, hh.female_b, row_cell, year,
            first, n, n_g, n_t, WORKING_AGE[0], WORKING_AGE[1], ADULTS_BY_TYPE, cell_persons,
            cell_home, cohort_households, cohort_settled, cohort_alive, cohort_home,
            residence, adults, employed, municipal, municipal_employed)

        # retention panel: persons by (cohort, type, group, settlement municipality)
        cells = np.flatnonzero(cell_persons)
        persons, at_home, keys = cell_persons[cells], cell_home[cells], cell_key[cells]
        self.panel.append({
            "year": np.full(len(keys), year + 1, dtype=np.int16),
            "cohort": (keys // (n_t * n_g * n)).astype(np.int16),
            "household_type": ((keys // (n_g * n)) % n_t).astype(np.int8),
            "country_group": ((keys // n) % n_g).astype(np.int8),
            "settlement_index": (keys % n).astype(np.int16),
            "persons_alive": persons.astype(np.int32),
            "persons_in_settlement": at_home.astype(np.int32),
        })

        # cohort accounting: settled = alive + exited, every year (cohorts with households)
        present = np.flatnonzero(cohort_households)
        settled = cohort_settled[present].astype(np.int64)
        alive_now = cohort_alive[present].astype(np.int64)
        self.cohorts.append({
            "year": np.full(len(present), year + 1, dtype=np.int16),
            "cohort": (first + present).astype(np.int16),
            "households": cohort_households[present].astype(np.int32),
            "persons_settled": settled,
            "persons_alive": alive_now,
            "persons_exited": settled - alive_now,
            "persons_in_settlement": cohort_home[present].astype(np.int64),
        })

        # where each cohort lives now: persons alive by (cohort, current municipality), for
        # the regional net change of a cohort (where they went, not only whether they left)
        keys = np.flatnonzero(residence)
        self.residence.append({
            "year": np.full(len(keys), year + 1, dtype=np.int16),
            "cohort": (first + keys // n).astype(np.int16),
            "municipality_index": (keys % n).astype(np.int16),
            "persons": residence[keys].astype(np.int64),
        })

        # stocks of settled households by municipality and group (background excluded)
        stock = world.resident
        muni, grp = np.nonzero(stock.T)
        self.stocks.append({
            "year": np.full(len(muni), year + 1, dtype=np.int16),
            "municipality_index": muni.astype(np.int16),
            "country_group": grp.astype(np.int8),
            "persons": stock[grp, muni].astype(np.int32),
        })

        # employment: adults of working age by (cohort, group, type, sex), as employment_chunk
        self.employment.append(employment_table(adults, employed, first, year))
        self.municipal = {"adults": municipal, "employed_adults": municipal_employed}

    @staticmethod
    def frame(chunks: list[dict[str, np.ndarray]]) -> pd.DataFrame:
        """Concatenate the chunks of one table."""
        if not chunks:
            return pd.DataFrame()
        return pd.DataFrame({k: np.concatenate([c[k] for c in chunks]) for k in chunks[0]})

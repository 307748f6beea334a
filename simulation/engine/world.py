"""The simulated state that the yearly stages read and update: households, municipalities'
dynamic attributes (network stocks, integration quality), this year's move plans and the log
of move events.

Static municipality facts (population, centrality, services, distances) stay in
:class:`~simulation.inputs.geography.Geography`; what changes year to year lives here as arrays
indexed by municipality, so every stage stays vectorized. What is fixed for a run (parameters,
inputs, tables derived from them) is not here but in
:class:`~simulation.engine.runparams.RunParams`.

The refugee stock by (group, municipality) is state too: every change of who lives where goes
through :meth:`World.settle_households`, :meth:`World.remove` or :meth:`World.relocate`, which
keep ``resident`` and ``stock`` current, so no stage recounts the households.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

from simulation.engine.households import Households
from simulation.inputs.categories import COUNTRY_GROUPS
from simulation.inputs.geography import Geography
from simulation.inputs.settlement_history import municipal_history

LATE_YEARS = (2022, 2023, 2024)  # observed years after the built-in window's start

EVENT_COLUMNS: dict[str, type | str] = {
    "year": np.int16, "household": np.int64, "cohort": np.int16, "origin": np.int16,
    "destination": np.int16, "persons": np.int16, "job_move": np.bool_,
    "years_since_settlement": np.int16, "from_settlement": np.bool_,
    "employed_before": np.bool_, "employed_after": np.bool_, "health_need": np.bool_,
    "income_before": np.float64, "income_after": np.float64,
    "delayed": np.bool_,  # a move the rights rule had held back, carried out when free
}


@dataclass
class EventLog:
    """Move events as growing column chunks; ``income_after`` is filled a year later."""

    chunks: list[dict[str, np.ndarray]] = field(default_factory=list)
    size: int = 0
    _income_after: list[np.ndarray] = field(default_factory=list)

    def add(self, columns: dict[str, np.ndarray]) -> np.ndarray:
        """Append events; returns their global event ids."""
        n = len(columns["household"])
        chunk = {k: np.asarray(columns[k], dtype=t) for k, t in EVENT_COLUMNS.items()
                 if k != "income_after"}
        self.chunks.append(chunk)
        self._income_after.append(np.full(n, np.nan))
        ids = np.arange(self.size, self.size + n)
        self.size += n
        return ids

    def set_income_after(self, event_ids: np.ndarray, income: np.ndarray) -> None:
        """Record income one year after the move for the given events."""
        if len(event_ids) == 0:
            return
        flat = np.concatenate(self._income_after)
        flat[event_ids] = income
        bounds = np.cumsum([len(c) for c in self._income_after])[:-1]
        self._income_after = list(np.split(flat, bounds))

    def columns(self) -> dict[str, np.ndarray]:
        """All events as one array per column."""
        out: dict[str, np.ndarray] = {}
        for k, t in EVENT_COLUMNS.items():
            parts = self._income_after if k == "income_after" else [c[k] for c in self.chunks]
            out[k] = np.concatenate(parts) if parts else np.zeros(0, dtype=t)
        return out


@dataclass
class MovePlans:
    """This year's movers (row ids), set by the move decision, completed by the destination
    choice and carried out (then cleared) by the moves stage."""

    movers: np.ndarray
    job: np.ndarray  # for the movers: a job move rather than a general move
    holds_rights: np.ndarray  # for the movers: rights still held when they decided
    destination: np.ndarray | None = None  # for the movers, once chosen
    delayed: np.ndarray | None = None  # for the movers: a move the rights rule had delayed


@dataclass
class World:
    """Everything that changes during a run."""

    geography: Geography
    households: Households
    background: np.ndarray  # (groups, municipalities) network stock before the window
    quality: np.ndarray  # integration quality per municipality, 0..1
    settled_now: np.ndarray  # persons settled in each municipality this year
    settling_now: np.ndarray  # bool: municipality settles this year
    moves_in: np.ndarray  # persons moving in this year
    moves_out: np.ndarray  # persons moving out this year
    resident: np.ndarray  # (groups, municipalities) persons of households alive, int64
    stock: np.ndarray  # (groups, municipalities) background + resident: the network stock
    events: EventLog = field(default_factory=EventLog)
    plans: MovePlans | None = None  # this year's moves, between decision and moving
    # the move decision's cache of each row's tie pull, with the (municipality, tie) it was
    # worked out for (kernels.move_logits recomputes a row only when either changed)
    # what placement by matching did each year (engine/matching; empty without it)
    matching_log: list = field(default_factory=list)
    # the (state, gamma) of this year's income noise, set by the life course: income is
    # worked out only for the rows where it is recorded (terms.household_incomes)
    income_noise: tuple[np.uint64, np.uint64] | None = None
    tie_pull_seen: tuple[np.ndarray, np.ndarray, np.ndarray] = field(
        default_factory=lambda: (np.zeros(0, dtype=np.int16), np.zeros(0, dtype=np.int16),
                                 np.zeros(0)))

    @classmethod
    def start(cls, geography: Geography, background: np.ndarray) -> World:
        n = geography.n
        resident = np.zeros((len(COUNTRY_GROUPS), n), dtype=np.int64)
        return cls(
            geography=geography,
            households=Households(),
            background=np.asarray(background, dtype=np.float64),
            quality=initial_quality(geography),
            settled_now=np.zeros(n),
            settling_now=np.zeros(n, dtype=bool),
            moves_in=np.zeros(n),
            moves_out=np.zeros(n),
            resident=resident,
            stock=np.asarray(background, dtype=np.float64) + resident,
        )

    def _persons(self, rows: np.ndarray, municipality: np.ndarray) -> np.ndarray:
        """Persons of households ``rows`` as a (group, municipality) table, if they lived in
        ``municipality`` (aligned with ``rows``)."""
        n = self.geography.n
        hh = self.households
        key = hh.group[rows].astype(np.int64) * n + municipality
        counts = np.bincount(key, weights=hh.size[rows], minlength=len(COUNTRY_GROUPS) * n)
        return counts.reshape(len(COUNTRY_GROUPS), n).astype(np.int64)

    def _update_stock(self, delta: np.ndarray) -> None:
        self.resident += delta
        self.stock = self.background + self.resident

    def settle_households(self, cohort: Households) -> np.ndarray:
        """Add a placed cohort (``municipality`` set) and return its new row ids."""
        first = len(self.households)
        self.households.append(cohort)
        rows = np.arange(first, len(self.households))
        self._update_stock(self._persons(rows, cohort.municipality))
        return rows

    def remove(self, rows: np.ndarray, year: int, reason: np.ndarray | int) -> None:
        """Households ``rows`` leave Norway (emigration or death) in ``year``."""
        hh = self.households
        hh.exit_reason[rows] = reason
        hh.exit_year[rows] = year
        hh.alive[rows] = False
        self._update_stock(-self._persons(rows, hh.municipality[rows]))

    def relocate(self, rows: np.ndarray, destination: np.ndarray) -> None:
        """Households ``rows`` now live in ``destination`` (aligned with ``rows``)."""
        hh = self.households
        delta = self._persons(rows, destination) - self._persons(rows, hh.municipality[rows])
        hh.municipality[rows] = destination
        self._update_stock(delta)

    def count_stock(self) -> np.ndarray:
        """The stock recounted from the household columns (a check on ``stock``; the model
        itself never needs it)."""
        hh = self.households
        live = np.flatnonzero(hh.alive)
        return self.background + self._persons(live, hh.municipality[live])


def size_score(geography: Geography) -> np.ndarray:
    """Municipality size on 0..1 (log population between 200 and Oslo's ~720,000)."""
    logp = np.log10(geography.population.astype(float))
    return np.clip((logp - np.log10(200)) / (np.log10(720_000) - np.log10(200)), 0.0, 1.0)


def initial_quality(geography: Geography) -> np.ndarray:
    """Integration quality in the first year: capacity grows with size and with continuous
    settlement (MODEL.md 4.4). Continuity is the share of 2012-2015 in which the municipality
    settled (IMDi; the observed years nearest the start stand in for its earlier history,
    ESTIMATE): one that settled every year starts at 0.3 + 0.4 * size, one that never did at
    0.3. A municipality without observed history (codes not in the file) counts as continuous."""
    early = municipal_history(geography, exclude_years=LATE_YEARS)
    continuity = np.where(early.known, early.years_settled_share, 1.0)
    return 0.3 + 0.4 * size_score(geography) * continuity

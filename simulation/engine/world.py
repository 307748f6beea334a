"""The simulated state that the yearly stages read and update: households, municipalities'
dynamic attributes (network stocks, integration quality) and the log of move events.

Static municipality facts (population, centrality, services, distances) stay in
:class:`~simulation.inputs.geography.Geography`; what changes year to year lives here as arrays
indexed by municipality, so every stage stays vectorized.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

from simulation.engine.households import COUNTRY_GROUPS, Households
from simulation.inputs.geography import Geography

EVENT_COLUMNS: dict[str, type | str] = {
    "year": np.int16, "household": np.int64, "cohort": np.int16, "origin": np.int16,
    "destination": np.int16, "persons": np.int16, "job_move": np.bool_,
    "years_since_settlement": np.int16, "from_settlement": np.bool_,
    "employed_before": np.bool_, "employed_after": np.bool_, "health_need": np.bool_,
    "income_before": np.float64, "income_after": np.float64,
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
    events: EventLog = field(default_factory=EventLog)
    static_utility: np.ndarray | None = None  # destination utility that never changes, (n, n)

    @classmethod
    def start(cls, geography: Geography, background: np.ndarray) -> World:
        n = geography.n
        return cls(
            geography=geography,
            households=Households(),
            background=background,
            quality=initial_quality(geography),
            settled_now=np.zeros(n),
            settling_now=np.zeros(n, dtype=bool),
            moves_in=np.zeros(n),
            moves_out=np.zeros(n),
        )

    def stock(self) -> np.ndarray:
        """Refugee-background persons by (group, municipality): background + households alive."""
        hh = self.households
        n = self.geography.n
        live = hh.alive
        key = hh.group[live].astype(np.int64) * n + hh.municipality[live]
        counts = np.bincount(key, weights=hh.size[live], minlength=len(COUNTRY_GROUPS) * n)
        return self.background + counts.reshape(len(COUNTRY_GROUPS), n)


def size_score(geography: Geography) -> np.ndarray:
    """Municipality size on 0..1 (log population between 200 and Oslo's ~720,000)."""
    logp = np.log10(geography.population.astype(float))
    return np.clip((logp - np.log10(200)) / (np.log10(720_000) - np.log10(200)), 0.0, 1.0)


def initial_quality(geography: Geography) -> np.ndarray:
    """Integration quality in the first year: larger municipalities start with more capacity."""
    return 0.3 + 0.4 * size_score(geography)

"""The model the app runs: SecondaryMigrationModel with the lesson's controls as keywords.

Mesa's SolaraViz rebuilds a model as ``cls(**slider_values)``, so the controls become keyword
arguments here and are translated into the engine's ``Params`` (calibrated point estimate) and
``Inputs`` (real geography, or the toy country). Each year it also keeps the few aggregates the
charts draw, computed with bincounts over the household columns, so drawing never rescans the
run.
"""

from __future__ import annotations

from dataclasses import dataclass, replace

import numpy as np
import pandas as pd

from simulation.analysis.measures import retention_sums
from simulation.app.toy import toy_inputs
from simulation.engine.model import SecondaryMigrationModel
from simulation.inputs.defaults import AllocationPolicy, Inputs, default_inputs
from simulation.inputs.parameters import Params, calibrated

NORWAY, TOY = "Norway", "Toy country"
WORLDS = (NORWAY, TOY)
MAX_K = 20  # years since settlement tracked by the retention curve


@dataclass(frozen=True)
class YearView:
    """What the charts show for one simulated year (state on 1 January of the next)."""

    year: int
    concentration: dict[str, float]  # label -> value, drawn as lines over the years
    persons_moving: float
    moving_in_window: float  # of those, households still inside the rights window
    split: dict[str, float]  # destination split of persons leaving their settlement place


def build_inputs(world: str, volume_percent: int, exclude_below: int) -> Inputs:
    """Inputs for the chosen world with the settlement controls applied."""
    share = volume_percent / 100.0
    if world == TOY:
        return toy_inputs(share, int(exclude_below))
    allocation = AllocationPolicy(exclude_below_population=int(exclude_below))
    if world != NORWAY:
        raise ValueError(f"unknown world {world!r} (allowed: {', '.join(WORLDS)})")
    base = default_inputs(allocation=allocation)
    return replace(base, volumes={y: v * share for y, v in base.volumes.items()})


def build_params(network_strength: float, rights_years: int, job_exemption: bool) -> Params:
    """The calibrated parameters with the lesson's three behavioural levers set."""
    return calibrated().replace(dest_network_effect=float(network_strength),
                                rights_years=int(rights_years),
                                job_move_exemption=int(bool(job_exemption)))


class TeachingModel(SecondaryMigrationModel):
    """The full engine plus a per-year record of the charted indicators."""

    def __init__(self, world: str = NORWAY, network_strength: float = 0.5,
                 rights_years: int = 5, job_exemption: bool = False, exclude_below: int = 0,
                 volume_percent: int = 100, seed: int = 1) -> None:
        if not 0 <= volume_percent <= 1000:
            raise ValueError("volume_percent must be 0..1000")
        inputs = build_inputs(world, volume_percent, exclude_below)
        super().__init__(build_params(network_strength, rights_years, job_exemption), inputs,
                         int(seed))
        # no agents are created after this point, so mesa's class-level id counter for this
        # model can go now; otherwise every Reset in the app would keep a model alive
        self.release()
        self.world_name = world
        self.controls = {"network strength": float(network_strength),
                         "rights years": int(rights_years),
                         "job exemption": bool(job_exemption),
                         "exclude below": int(exclude_below),
                         "volume %": int(volume_percent), "seed": int(seed)}
        geo = inputs.geography
        # "the largest": Norway's 10 largest municipalities, or the toy country's towns
        n_largest = int((geo.population >= 20_000).sum()) if world == TOY else 10
        self.largest = np.argsort(-geo.population, kind="stable")[:n_largest]
        self.largest_label = (f"share in the {n_largest} towns" if world == TOY
                              else "share in the 10 largest")
        self.net_moves = np.zeros(geo.n, dtype=np.float64)
        self.retention_sums = np.zeros((2, MAX_K + 1))  # persons alive, at home, by k
        self.years: list[YearView] = []

    @property
    def last_year(self) -> int | None:
        """The last simulated year (None before the first step)."""
        return self.years[-1].year if self.years else None

    def step(self) -> None:
        """One year of the engine, then the app's aggregates for it."""
        year = self.year
        super().step()
        w = self.world
        hh = w.households
        # float64 before subtracting: the engine may keep counts in narrow types (a 16-bit
        # wrap-around once hit the reports' net migration)
        self.net_moves += (np.asarray(w.moves_in, dtype=np.float64)
                           - np.asarray(w.moves_out, dtype=np.float64))
        # retention: this year's chunk of the observer's retention panel (1 January year+1),
        # summed by k with the measure the reports use, pooled over the years so far
        sums = retention_sums(pd.DataFrame(self.observer.panel[-1]), ["years_since_settlement"])
        k = sums.index.to_numpy(np.int64)
        keep = k <= MAX_K
        self.retention_sums[0, k[keep]] += sums["persons_alive"].to_numpy(np.float64)[keep]
        self.retention_sums[1, k[keep]] += sums["persons_in_settlement"].to_numpy(
            np.float64)[keep]
        alive = hh.alive
        size = hh.size[alive].astype(np.float64)
        self.years.append(YearView(
            year=year,
            concentration=self._concentration(hh.municipality[alive], size),
            persons_moving=float(np.asarray(w.moves_out, dtype=np.float64).sum()),
            moving_in_window=self._moving_in_window(year),
            split=self._destination_split(year),
        ))

    def _concentration(self, where: np.ndarray, size: np.ndarray) -> dict[str, float]:
        """Hoover index and share in the largest places of settled persons; in the toy
        country also how far each group sits in one town (1/3 = spread, 1 = all in one)."""
        n = self.world.geography.n
        persons = np.bincount(where.astype(np.int64), weights=size, minlength=n)
        total = persons.sum()
        out = {"Hoover index": self.hoover(),
               self.largest_label: float(persons[self.largest].sum() / total) if total
               else float("nan")}
        if self.world_name == TOY:
            towns = np.asarray(self.stock, dtype=np.float64)[:, self.largest]  # (groups, towns)
            per_group = towns.sum(axis=1)
            ok = per_group > 0
            out["group in its main town"] = (float(towns.max(axis=1)[ok].sum()
                                                   / per_group[ok].sum()) if ok.any()
                                             else float("nan"))
        return out

    def _this_years_events(self, year: int) -> dict[str, np.ndarray] | None:
        chunks = self.world.events.chunks
        if chunks and len(chunks[-1]["year"]) and int(chunks[-1]["year"][0]) == year:
            return chunks[-1]
        return None

    def _moving_in_window(self, year: int) -> float:
        ev = self._this_years_events(year)
        if ev is None:
            return 0.0
        inside = ev["years_since_settlement"] < self.params.rights_years
        return float(ev["persons"][inside].astype(np.float64).sum())

    def _destination_split(self, year: int) -> dict[str, float]:
        """Persons leaving their settlement municipality this year, by kind of destination:
        Norway uses the register's Oslo / same county / other county, the toy country
        town / village (it has no capital)."""
        geo = self.world.geography
        ev = self._this_years_events(year)
        if ev is None:
            ev = {"origin": np.zeros(0, np.int64), "destination": np.zeros(0, np.int64),
                  "persons": np.zeros(0), "from_settlement": np.zeros(0, bool)}
        sel = ev["from_settlement"]
        o, d = ev["origin"][sel].astype(np.int64), ev["destination"][sel].astype(np.int64)
        p = ev["persons"][sel].astype(np.float64)
        if self.world_name == TOY:
            town = geo.population[d] >= 20_000
            return {"to a town": float(p[town].sum()), "to a village": float(p[~town].sum())}
        oslo = geo.oslo[d]
        same = ~oslo & (geo.county_index[o] == geo.county_index[d])
        return {"Oslo": float(p[oslo].sum()), "same county": float(p[same].sum()),
                "other county": float(p[~oslo & ~same].sum())}

    def retention_curve(self) -> dict[int, float]:
        """Pooled R(k): share of persons k years after settlement still in their settlement
        municipality (all cohorts observed at k so far)."""
        alive, home = self.retention_sums
        return {k: float(home[k] / alive[k]) for k in range(1, MAX_K) if alive[k] > 0}

    def out_migration_share(self) -> np.ndarray:
        """Per municipality: of the persons settled there (alive), the share living elsewhere
        now (NaN where nobody has been settled)."""
        hh = self.world.households
        n = self.world.geography.n
        w = hh.size.astype(np.float64) * hh.alive  # int16 sizes: cast before arithmetic
        where = hh.settlement.astype(np.int64)
        settled = np.bincount(where, weights=w, minlength=n)
        gone = np.bincount(where, weights=w * (hh.municipality != hh.settlement), minlength=n)
        with np.errstate(invalid="ignore", divide="ignore"):
            return np.where(settled > 0, gone / settled, np.nan)

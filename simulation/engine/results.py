"""What a run returns: small, picklable pandas tables, and the indicators computed from them.

Municipalities appear by their 4-digit code; household types and country groups by name.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pandas as pd

from simulation.engine.households import COUNTRY_GROUPS, HOUSEHOLD_TYPES

RETENTION_DIMENSIONS = ("all", "cohort", "household_type", "centrality", "county",
                        "country_group")


def _categorical(codes: np.ndarray, names: tuple[str, ...]) -> pd.Categorical:
    return pd.Categorical.from_codes(codes.astype(np.int64), categories=list(names))


def widen(frame: pd.DataFrame) -> pd.DataFrame:
    """Every integer column as int64 and every float column as float64, in place.

    The engine stores households and events in narrow types to save memory; a published
    table must not: pandas keeps int16 through ``groupby().sum()``, and ``1000 * net`` then
    wraps around (Oslo's +10,627 persons once read as 0.00 per 1,000)."""
    for col in frame.columns:
        kind = frame[col].dtype.kind
        if kind in "iu" and frame[col].dtype != np.int64:
            frame[col] = frame[col].astype(np.int64)
        elif kind == "f" and frame[col].dtype != np.float64:
            frame[col] = frame[col].astype(np.float64)
    return frame


@dataclass
class Results:
    """The tables of one run (one replicate)."""

    seed: int | None
    params: dict[str, float]
    start: int
    end: int
    municipalities: pd.DataFrame  # static facts, one row per municipality
    households: pd.DataFrame  # one row per household ever settled, final state
    moves: pd.DataFrame  # one row per move event
    retention_panel: pd.DataFrame  # persons alive / in settlement municipality, 1 Jan each year
    cohorts: pd.DataFrame  # persons settled / alive / exited per cohort, 1 Jan each year
    stocks: pd.DataFrame  # persons of settled households by municipality and group, 1 Jan
    yearly: pd.DataFrame  # national series per calendar year
    municipality_yearly: pd.DataFrame  # per municipality per calendar year
    timings: dict[str, float] = field(default_factory=dict)

    def retention(self, by: str = "all", cohorts: range | list[int] | None = None
                  ) -> pd.DataFrame:
        """Retention R(k) by one dimension: share of persons still in Norway who live in their
        settlement municipality on 1 January of year cohort + k (SSB's definition)."""
        if by not in RETENTION_DIMENSIONS:
            raise ValueError(f"by must be one of {RETENTION_DIMENSIONS}, got {by!r}")
        panel = self.retention_panel
        if cohorts is not None:
            panel = panel[panel["cohort"].isin(list(cohorts))]
        panel = panel.assign(years_since_settlement=panel["year"] - panel["cohort"])
        if by in ("centrality", "county"):
            facts = self.municipalities.set_index("code")[by]
            panel = panel.assign(**{by: panel["settlement_municipality"].map(facts).to_numpy()})
        keys = ["years_since_settlement"] if by == "all" else [by, "years_since_settlement"]
        out = (panel.groupby(keys, observed=True)[["persons_alive", "persons_in_settlement"]]
               .sum().reset_index())
        out["share"] = out["persons_in_settlement"] / out["persons_alive"]
        out.insert(0, "dimension", by)
        if by == "all":
            out.insert(1, "group", "all")
        else:
            out = out.rename(columns={by: "group"})
            out["group"] = out["group"].astype(str)
        return out

    def indicators(self, **options: Any) -> dict[str, Any]:
        """The indicators of MODEL.md section 7, by id (ids match the register targets)."""
        from simulation.analysis.indicators import compute_indicators

        return compute_indicators(self, **options)

    def municipality_indicators(self) -> pd.DataFrame:
        """Per municipality: settled, out-migration share, net secondary migration, pressure."""
        from simulation.analysis.indicators import municipality_table

        return municipality_table(self)


def retention_table(res: Results) -> pd.DataFrame:
    """Retention by every dimension, long format, plus the pooled 2010-2016 cohorts' curve
    (dimension ``pooled_2010_2016``) that the register's R(5) and R(7) figures describe."""
    pooled = res.retention("all", cohorts=range(2010, 2017)).assign(
        dimension="pooled_2010_2016", group="2010-2016")
    return pd.concat([*(res.retention(by) for by in RETENTION_DIMENSIONS), pooled],
                     ignore_index=True)


def build_results(model: Any, seed: int | None, timings: dict[str, float]) -> Results:
    """Turn a finished model into Results tables."""
    world = model.world
    geo = world.geography
    code_of = np.asarray(geo.codes)
    hh = world.households
    munis = geo.table[["code", "name", "county", "region", "population", "centrality", "lat",
                       "lon", "labour_market", "upper_secondary", "higher_education",
                       "hospital"]].copy()
    households = pd.DataFrame({
        "household": np.arange(len(hh)),
        "cohort": hh.cohort, "settlement_municipality": code_of[hh.settlement],
        "municipality": code_of[hh.municipality],
        "household_type": _categorical(hh.htype, HOUSEHOLD_TYPES),
        "country_group": _categorical(hh.group, COUNTRY_GROUPS),
        "persons": hh.size, "age_of_head_at_settlement": hh.age0, "alive": hh.alive,
        "exit_year": hh.exit_year, "exit_reason": hh.exit_reason, "moves": hh.moves,
        "employed": hh.employed, "income": hh.income, "belonging": hh.belonging,
        "need_school": hh.need_school, "need_higher": hh.need_higher,
        "need_health": hh.need_health,
    })
    ev = world.events.columns()
    moves = pd.DataFrame(ev)
    moves["origin"] = code_of[ev["origin"]]
    moves["destination"] = code_of[ev["destination"]]
    panel = model.observer.frame(model.observer.panel)
    panel.insert(2, "settlement_municipality", code_of[panel.pop("settlement_index")])
    panel["household_type"] = _categorical(panel["household_type"].to_numpy(), HOUSEHOLD_TYPES)
    panel["country_group"] = _categorical(panel["country_group"].to_numpy(), COUNTRY_GROUPS)
    stocks = model.observer.frame(model.observer.stocks)
    stocks.insert(1, "municipality", code_of[stocks.pop("municipality_index")])
    stocks["country_group"] = _categorical(stocks["country_group"].to_numpy(), COUNTRY_GROUPS)
    yearly = model.datacollector.get_model_vars_dataframe().reset_index(drop=True)
    series = model.municipality_series.model_vars
    years = np.repeat(np.arange(model.inputs.start, model.inputs.start + len(yearly)), geo.n)
    muni_yearly = pd.DataFrame({"year": years, "municipality": np.tile(code_of, len(yearly))})
    for name, values in series.items():
        muni_yearly[name] = np.concatenate(values) if values else np.zeros(0)
    cohorts = model.observer.frame(model.observer.cohorts)
    for table in (munis, households, moves, panel, cohorts, stocks, yearly, muni_yearly):
        widen(table)
    return Results(
        seed=seed, params=dict(model.params), start=model.inputs.start, end=model.inputs.end,
        municipalities=munis, households=households, moves=moves, retention_panel=panel,
        cohorts=cohorts, stocks=stocks, yearly=yearly, municipality_yearly=muni_yearly,
        timings=timings,
    )

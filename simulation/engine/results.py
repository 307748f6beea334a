"""What a run returns: small, picklable pandas tables, plain data built by the model.

Municipalities appear by their 4-digit code; household types and country groups by name.
Indicators, retention and per-municipality tables are computed from these tables in
``simulation.analysis`` (``simulation.indicators(res)``, ``simulation.retention(res)``).
"""

from __future__ import annotations

from dataclasses import asdict, dataclass, field
from typing import Any

import numpy as np
import pandas as pd

from simulation.inputs.categories import COUNTRY_GROUPS, HOUSEHOLD_TYPES


def _categorical(codes: np.ndarray, names: tuple[str, ...]) -> pd.Categorical:
    return pd.Categorical.from_codes(codes.astype(np.int64), categories=list(names))


def code_array(codes: Any) -> Any:
    """Municipality codes as one pandas array of the dtype a DataFrame would give them, so
    that a column of codes by index is a ``take`` (a pyarrow take for pandas' string dtype):
    converting numpy's unicode array row by row cost about 35 ms a run."""
    codes = np.asarray(codes)
    return pd.array(codes, dtype=pd.Series(codes[:1]).dtype)


def codes_at(codes: Any, index: Any) -> Any:
    """``codes[index]`` for a ``code_array`` (or a numpy array)."""
    return codes.take(np.asarray(index, dtype=np.intp))


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
    """The tables of one run (one replicate): data only, no methods that compute (see
    ``simulation.analysis``), and nothing outside the model adds to them."""

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
    residence: pd.DataFrame  # persons alive by cohort and current municipality, 1 Jan
    yearly: pd.DataFrame  # national series per calendar year
    municipality_yearly: pd.DataFrame  # per municipality per calendar year
    # adults of working age and employed adults by cohort, group, type and sex, 1 Jan each year
    employment: pd.DataFrame = field(default_factory=pd.DataFrame)
    # placement by matching, one row per year (empty without it): engine/matching/place.py
    matching: pd.DataFrame = field(default_factory=pd.DataFrame)
    # the municipal ledger: year, municipality, item, nok (nominal) and nok_<price year>
    # (engine/ledger.py); empty if not kept
    ledger: pd.DataFrame = field(default_factory=pd.DataFrame)
    # the national amounts per item for persons in their five grant years, and those
    # persons, per year (engine/ledger.grant_period): the cost per refugee's population
    ledger_grant_period: pd.DataFrame = field(default_factory=pd.DataFrame)
    timings: dict[str, float] = field(default_factory=dict)


def build_results(model: Any, seed: int | None, timings: dict[str, float]) -> Results:
    """Turn a finished model into Results tables."""
    world = model.world
    geo = world.geography
    code_of = code_array(geo.codes)
    hh = world.households
    columns = ["code", "name", "county", "region", "population", "centrality", "lat", "lon",
               "labour_market", "upper_secondary", "higher_education", "hospital"]
    # the pre-2020 county, where the geography knows it (the regional register figures)
    columns += [c for c in ("county_pre2020",) if c in geo.table]
    munis = geo.table[columns].copy()
    households = pd.DataFrame({
        "household": np.arange(len(hh)),
        "cohort": hh.cohort, "settlement_municipality": codes_at(code_of, hh.settlement),
        "municipality": codes_at(code_of, hh.municipality),
        "household_type": _categorical(hh.htype, HOUSEHOLD_TYPES),
        "country_group": _categorical(hh.group, COUNTRY_GROUPS),
        "persons": hh.size, "age_of_head_at_settlement": hh.age0, "alive": hh.alive,
        "exit_year": hh.exit_year, "exit_reason": hh.exit_reason, "moves": hh.moves,
        "employed": hh.employed, "employed_adults": hh.employed_adults,
        "income": hh.income, "belonging": hh.belonging,
        "need_school": hh.need_school, "need_higher": hh.need_higher,
        "need_health": hh.need_health,
    })
    ev = world.events.columns()
    moves = pd.DataFrame(ev)
    moves["origin"] = codes_at(code_of, ev["origin"])
    moves["destination"] = codes_at(code_of, ev["destination"])
    panel = model.observer.frame(model.observer.panel)
    panel.insert(2, "settlement_municipality", codes_at(code_of, panel.pop("settlement_index")))
    panel["household_type"] = _categorical(panel["household_type"].to_numpy(), HOUSEHOLD_TYPES)
    panel["country_group"] = _categorical(panel["country_group"].to_numpy(), COUNTRY_GROUPS)
    stocks = model.observer.frame(model.observer.stocks)
    stocks.insert(1, "municipality", codes_at(code_of, stocks.pop("municipality_index")))
    stocks["country_group"] = _categorical(stocks["country_group"].to_numpy(), COUNTRY_GROUPS)
    yearly = model.datacollector.get_model_vars_dataframe().reset_index(drop=True)
    series = model.municipality_series.model_vars
    years = np.repeat(np.arange(model.inputs.start, model.inputs.start + len(yearly)), geo.n)
    muni_yearly = pd.DataFrame({"year": years, "municipality": codes_at(
        code_of, np.tile(np.arange(geo.n), len(yearly)))})
    for name, values in series.items():
        muni_yearly[name] = np.concatenate(values) if values else np.zeros(0)
    cohorts = model.observer.frame(model.observer.cohorts)
    residence = model.observer.frame(model.observer.residence)
    residence.insert(2, "municipality", codes_at(code_of, residence.pop("municipality_index")))
    employment = model.observer.frame(model.observer.employment)
    if not employment.empty:
        employment["household_type"] = _categorical(employment["household_type"].to_numpy(),
                                                    HOUSEHOLD_TYPES)
        employment["country_group"] = _categorical(employment["country_group"].to_numpy(),
                                                   COUNTRY_GROUPS)
    kept = getattr(model, "ledger", None)
    ledger = kept.frame(code_of) if kept else pd.DataFrame()
    grant_period = kept.grant_period_frame() if kept else pd.DataFrame()
    log = getattr(model, "matching_log", world.matching_log)
    matching = pd.DataFrame([asdict(y) for y in log])
    for table in (munis, households, moves, panel, cohorts, stocks, residence, yearly,
                  muni_yearly, employment, matching, ledger, grant_period):
        widen(table)
    return Results(
        seed=seed, params=dict(model.params), start=model.inputs.start, end=model.inputs.end,
        municipalities=munis, households=households, moves=moves, retention_panel=panel,
        cohorts=cohorts, stocks=stocks, residence=residence, yearly=yearly,
        municipality_yearly=muni_yearly, employment=employment, matching=matching,
        ledger=ledger, ledger_grant_period=grant_period,
        timings=timings,
    )

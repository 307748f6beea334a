"""The calibration's fast path: one run reduced straight to the target moments.

A fit evaluates thousands of parameter points; per run, building the pandas Results tables and
every indicator costs about as much as the simulation itself. :func:`simulate_moments` runs the
same engine (the same model class, the same seeds, so the same households) and computes only
the moments asked for, from the model's own arrays: the observer's yearly chunks, the event
log and the household columns. No Results tables, no figures.

The indicators here are a second route to the numbers of ``simulation.indicators`` (which works
on Results tables). What keeps the two equal is tests/test_fastpath.py: every target and holdout
name of the calibration files, for several seeds and parameter points, to 1e-12 relative. Where
an indicator already takes plain numbers (``regional_pattern``, ``count_at_least``), it is
called, not copied. Person counts are whole numbers, so sums over them are exact in any order.

>>> from simulation.calibration.fastpath import simulate_moments     # doctest: +SKIP
>>> simulate_moments(Params(), 1, default_inputs(), ["retention_7y"])  # doctest: +SKIP
array([0.66...])
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from functools import cached_property
from typing import Any

import numpy as np

from simulation.analysis.indicators import OSLO, count_at_least
from simulation.analysis.measures import (
    PooledRetention,
    counting_emigrants,
    out_shares_counting_emigrants,
)
from simulation.analysis.regional import COUNTY_2020, regional_pattern
from simulation.analysis.registry import (
    EMPLOYMENT_SEX_YEAR,
    MAX_HAZARD_YEAR,
    MIN_MUNICIPAL_ADULTS,
    MOVED_BY_YEAR_2_COHORTS,
    MUNICIPAL_EMPLOYMENT_KEYS,
    MUNICIPAL_EMPLOYMENT_YEAR,
    OUT_5Y_COUNTIES,
    OUT_SHARE_CUTS,
    PRE2020_COUNTIES,
    REGIONAL_NET_CHANGE_COHORTS,
    SETTLEMENT_COUNTY_COHORTS,
    UKRAINIAN_KEYS,
    UKRAINIAN_YEAR,
    WEAKEST_COUNTIES,
    WEAKEST_COUNTY_COHORTS,
    cohorts_with,
    county_key,
    employment_years,
)
from simulation.engine.driver import check_params, check_seed
from simulation.engine.households import EXIT_EMIGRATION
from simulation.engine.model import SecondaryMigrationModel
from simulation.inputs.categories import COUNTRY_GROUPS, HOUSEHOLD_TYPES
from simulation.inputs.defaults import Inputs
from simulation.inputs.parameters import Params

NAN = float("nan")
INCOME_THRESHOLD = 0.10  # as indicators(): a change within 10 % is "about the same"


def _concat(chunks: list[dict[str, np.ndarray]]) -> dict[str, np.ndarray]:
    """One array per column from the observer's yearly chunks."""
    if not chunks:
        return {}
    return {k: np.concatenate([c[k] for c in chunks]) for k in chunks[0]}


def _rate(adults: np.ndarray, employed: np.ndarray) -> float:
    """Employed over adults (NaN if none), as indicators._employment_rate."""
    total = adults.sum()
    return float(employed.sum() / total) if total else NAN


@dataclass
class RunArrays:
    """What one finished run leaves, as arrays: the raw material of the moments."""

    start: int
    end: int
    codes: np.ndarray  # municipality codes, in geography order
    county: np.ndarray  # 2024 county name per municipality
    county_pre2020: np.ndarray | None  # pre-2020 county per municipality, if known
    labour_market: np.ndarray
    panel: dict[str, np.ndarray]  # the retention panel (observer chunks, concatenated)
    residence: dict[str, np.ndarray]
    employment: dict[str, np.ndarray]
    adults: np.ndarray  # (years, municipalities) adults of working age, end of each year
    employed_adults: np.ndarray
    households: dict[str, np.ndarray]  # cohort, settlement, size, alive, exit_year, emigrated
    events: dict[str, np.ndarray]  # the move events, one array per column

    def cohorts(self, k: int, first: int, last: int) -> list[int]:
        """Cohorts in [first, last] observed k years after settlement in this run."""
        return cohorts_with(self.start, self.end, k, first, last)

    @cached_property
    def retention_sums(self) -> dict[tuple[int, int], tuple[float, float]]:
        """(cohort, k) -> (persons alive, persons in the settlement municipality)."""
        p = self.panel
        if not p:
            return {}
        cohort = p["cohort"].astype(np.int64)
        k = p["year"].astype(np.int64) - cohort
        first = int(cohort.min())
        width = int(k.max()) + 1
        key = (cohort - first) * width + k
        alive = np.bincount(key, weights=p["persons_alive"])
        home = np.bincount(key, weights=p["persons_in_settlement"])
        seen = np.bincount(key)
        return {(first + int(i) // width, int(i) % width): (float(alive[i]), float(home[i]))
                for i in np.flatnonzero(seen)}

    def pooled(self, k: int, cohorts: Sequence[int]) -> float:
        """R(k) of these cohorts together (measures.PooledRetention on these sums)."""
        return PooledRetention(sums=self.retention_sums)(k, cohorts)

    def pooled_counting_emigrants(self, k: int, cohorts: Sequence[int]) -> float:
        """R(k) with emigrants counted as having left (measures.counting_emigrants)."""
        hh = self.households
        return PooledRetention(sums=counting_emigrants(
            self.retention_sums, hh["cohort"], hh["exit_year"], hh["emigrated"],
            hh["size"]))(k, cohorts)


def run_arrays(params: Params, seed: np.random.SeedSequence | int, inputs: Inputs) -> RunArrays:
    """Run the engine (the model ``simulation.run`` runs) and keep its arrays."""
    model = SecondaryMigrationModel(check_params(params), inputs, check_seed(seed))
    while model.running:
        model.step()
    world, obs = model.world, model.observer
    geo = world.geography
    hh = world.households
    series = model.municipality_series.model_vars
    table = geo.table
    arrays = RunArrays(
        start=inputs.start, end=inputs.end, codes=np.asarray(geo.codes),
        county=table["county"].to_numpy(),
        county_pre2020=(table["county_pre2020"].to_numpy() if "county_pre2020" in table
                        else None),
        labour_market=table["labour_market"].to_numpy(dtype=np.float64),
        panel=_concat(obs.panel), residence=_concat(obs.residence),
        employment=_concat(obs.employment),
        adults=np.array(series["adults"]), employed_adults=np.array(series["employed_adults"]),
        households={"cohort": hh.cohort, "settlement": hh.settlement, "size": hh.size,
                    "alive": hh.alive, "exit_year": hh.exit_year,
                    "emigrated": hh.exit_reason == EXIT_EMIGRATION},
        events=world.events.columns(),
    )
    model.release()
    return arrays


# --- the indicator families, by id (each returns a float or a dict of floats by key) --------

def _retention(a: RunArrays) -> dict[str, Any]:
    s, e = a.start, a.end
    out: dict[str, Any] = {
        "retention_7y": a.pooled(7, a.cohorts(7, 2010, 2016)),
        "retention_7y_counting_emigrants": a.pooled_counting_emigrants(7, a.cohorts(7, 2010,
                                                                                 2016)),
        "retention_5y_cohorts_2013_2015": a.pooled(5, a.cohorts(5, 2013, 2015)),
        "retention_5y_cohort_2010": a.pooled(5, a.cohorts(5, 2010, 2010)),
        "retention_3y": a.pooled(3, a.cohorts(3, s, e)),
        "retention_7y_all_cohorts": a.pooled(7, a.cohorts(7, s, e)),
        "retention_5y": a.pooled(5, a.cohorts(5, s, e)),
        "moved_in_settlement_year": 1.0 - a.pooled(1, a.cohorts(1, 2010, 2016)),
        "moved_by_end_of_year_2": {c: 1.0 - a.pooled(2, [c]) for c in MOVED_BY_YEAR_2_COHORTS
                                   if c in a.cohorts(2, c, c)},
        "retention_5y_by_cohort": {c: a.pooled(5, [c]) for c in a.cohorts(5, s, e)},
        "retention_7y_by_cohort": {c: a.pooled(7, [c]) for c in a.cohorts(7, s, e)},
    }
    cohorts = a.cohorts(6, s, e)
    if cohorts:
        r4, r5, r6 = (a.pooled(k, cohorts) for k in (4, 5, 6))
        h5, h6 = 1 - r5 / r4, 1 - r6 / r5
        out["no_break_after_year_5"] = float(h6 / h5) if h5 > 0 else NAN
    else:
        out["no_break_after_year_5"] = NAN
    hazards: dict[int, float] = {}
    for k in range(1, MAX_HAZARD_YEAR + 1):
        cohorts = a.cohorts(k, s, e)
        if not cohorts:
            break
        before = 1.0 if k == 1 else a.pooled(k - 1, cohorts)
        hazards[k] = 1.0 - a.pooled(k, cohorts) / before
    out["leaving_hazard_by_year"] = hazards
    return out


def _by_household_type(a: RunArrays) -> dict[str, Any]:
    """R(5) by household type and of all types, pooled over the cohorts with 5 years."""
    cohorts = a.cohorts(5, a.start, a.end)
    if not cohorts:
        return {"retention_5y_by_household_type_2005": {"all": NAN}}
    p = a.panel
    sel = np.isin(p["cohort"], cohorts) & (p["year"] - p["cohort"].astype(np.int64) == 5)
    htype = p["household_type"][sel].astype(np.int64)
    alive = np.bincount(htype, weights=p["persons_alive"][sel], minlength=len(HOUSEHOLD_TYPES))
    home = np.bincount(htype, weights=p["persons_in_settlement"][sel],
                       minlength=len(HOUSEHOLD_TYPES))
    seen = np.bincount(htype, minlength=len(HOUSEHOLD_TYPES))
    out: dict[str, float] = {
        t: float(np.int64(home[i]) / np.int64(alive[i])) if seen[i] else NAN
        for i, t in enumerate(HOUSEHOLD_TYPES)}
    out["all"] = a.pooled(5, cohorts)
    return {"retention_5y_by_household_type_2005": out}


def _moves(a: RunArrays) -> dict[str, Any]:
    """Where movers go, their income change, and persons moving per year."""
    ev = a.events
    cohort, persons = ev["cohort"], ev["persons"].astype(np.int64)
    mv = ev["from_settlement"] & np.isin(cohort, a.cohorts(1, 2010, 2014))
    total = persons[mv].sum()
    if total:
        origin, dest = ev["origin"][mv], ev["destination"][mv]
        to_oslo = a.codes[dest] == OSLO
        same = ~to_oslo & (a.county[origin] == a.county[dest])
        w = persons[mv]
        split = {"oslo": float(w[to_oslo].sum() / total),
                 "same_county": float(w[same].sum() / total),
                 "other_county": float(w[~to_oslo & ~same].sum() / total)}
    else:
        split = {"oslo": NAN, "same_county": NAN, "other_county": NAN}

    before, after = ev["income_before"], ev["income_after"]
    mv = np.isin(cohort, a.cohorts(0, 2010, 2016)) & ~np.isnan(after) & (before > 0)
    total = persons[mv].sum()
    if total:
        ratio = after[mv] / before[mv]
        w = persons[mv]
        higher = ratio > 1 + INCOME_THRESHOLD
        lower = ratio < 1 - INCOME_THRESHOLD
        income = {"higher": float(w[higher].sum() / total),
                  "about_same": float(w[~higher & ~lower].sum() / total),
                  "lower": float(w[lower].sum() / total)}
    else:
        income = {"higher": NAN, "about_same": NAN, "lower": NAN}
    years = np.arange(a.start, a.end + 1)
    per_year = np.bincount(ev["year"].astype(np.int64) - a.start, weights=persons,
                           minlength=len(years))[:len(years)]
    return {"destination_split_of_movers": split, "income_change_of_movers": income,
            "moves_per_year": float(per_year.mean()) if len(years) else NAN}


def _out_shares(a: RunArrays, first: int = 2010, last: int = 2016, observed: int = 2024
                ) -> dict[str, Any]:
    """Municipalities by the share of their settled persons who left (as out_migration_shares
    and count_at_least)."""
    p = a.panel
    year = min(observed, a.end + 1)
    sel = (p["year"] == year) & (p["cohort"] >= first) & (p["cohort"] <= last)
    m = p["settlement_index"][sel].astype(np.int64)
    n = len(a.codes)
    alive = np.bincount(m, weights=p["persons_alive"][sel], minlength=n).astype(np.int64)
    home = np.bincount(m, weights=p["persons_in_settlement"][sel], minlength=n).astype(np.int64)
    keep = alive > 0
    shares = 1.0 - home[keep] / alive[keep]
    hh = a.households
    gone = (hh["emigrated"] & (hh["exit_year"] >= 0) & (hh["exit_year"] < year)
            & (hh["cohort"] >= first) & (hh["cohort"] <= last))
    emigrants = np.bincount(hh["settlement"][gone].astype(np.int64),
                            weights=hh["size"][gone], minlength=n).astype(np.int64)
    shares_e = out_shares_counting_emigrants(alive, home, emigrants)
    return {"municipalities_by_out_share": {key: count_at_least(shares, cut)
                                            for key, cut in OUT_SHARE_CUTS.items()},
            "municipalities_by_out_share_counting_emigrants": {
                key: count_at_least(shares_e, cut) for key, cut in OUT_SHARE_CUTS.items()}}


def _settled_still_here(a: RunArrays) -> dict[str, Any]:
    hh = a.households
    sel = hh["alive"] & (hh["cohort"] >= 2010) & (hh["cohort"] <= 2023)
    return {"settled_persons_2010_2023_still_in_norway":
            float(hh["size"][sel].astype(np.int64).sum())}


def _k5(a: RunArrays, first: int, last: int) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Settlement municipality, persons alive and in it, five years after, cohorts first..last."""
    p = a.panel
    cohorts = a.cohorts(5, first, last)
    sel = np.isin(p["cohort"], cohorts) & (p["year"] == p["cohort"].astype(np.int64) + 5)
    return (p["settlement_index"][sel].astype(np.int64),
            p["persons_alive"][sel].astype(np.float64),
            p["persons_in_settlement"][sel].astype(np.float64))


def _regional(a: RunArrays) -> dict[str, Any]:
    """The regional indicators (as analysis.regional)."""
    out: dict[str, Any] = {}
    m, alive, home = _k5(a, *SETTLEMENT_COUNTY_COHORTS)
    out5: dict[str, float] = {}
    if len(m):
        county = np.array([COUNTY_2020.get(c, c) for c in a.county], dtype=object)[m]
        for name in OUT_5Y_COUNTIES:
            sel = county == name
            out5[county_key(name)] = 1.0 - home[sel].sum() / alive[sel].sum() \
                if alive[sel].sum() else NAN
        out5["national"] = 1.0 - home.sum() / alive.sum() if alive.sum() else NAN
    out["out_5y_by_settlement_county"] = out5

    if a.county_pre2020 is None:
        out["retention_5y_weakest_counties"] = NAN
    else:
        m, alive, home = _k5(a, *WEAKEST_COUNTY_COHORTS)
        sel = np.isin(a.county_pre2020[m], WEAKEST_COUNTIES)
        al, ho = alive[sel].sum(), home[sel].sum()
        out["retention_5y_weakest_counties"] = float(ho / al) if al else NAN

    cohorts = a.cohorts(5, *REGIONAL_NET_CHANGE_COHORTS)
    keys = [county_key(c) for c in PRE2020_COUNTIES]
    if not cohorts or a.county_pre2020 is None:
        net = dict.fromkeys(keys, NAN) if cohorts else {}
    else:
        old = a.county_pre2020
        hh = a.households
        mine = np.isin(hh["cohort"], cohorts)
        settled_at = old[hh["settlement"][mine]]
        size = hh["size"][mine].astype(np.int64)
        r = a.residence
        live = np.isin(r["cohort"], cohorts) & (r["year"] == r["cohort"].astype(np.int64) + 5)
        later_at = old[r["municipality_index"][live]]
        later_persons = r["persons"][live].astype(np.int64)
        net = {}
        for county in PRE2020_COUNTIES:
            s = float(size[settled_at == county].sum())
            later = float(later_persons[later_at == county].sum())
            net[county_key(county)] = 100.0 * (later - s) / s if s else NAN
    out["net_change_by_county"] = net
    out["regional_pattern"] = regional_pattern(net)
    return out


def _employment(a: RunArrays) -> dict[str, Any]:
    """The employment block (as indicators.employment_indicators)."""
    emp = a.employment
    s, e = a.start, a.end
    if emp:
        year, cohort = emp["year"].astype(np.int64), emp["cohort"].astype(np.int64)
        adults, employed = emp["adults"], emp["employed"]
    else:
        year = cohort = adults = employed = np.zeros(0, dtype=np.int64)

    def at(k: int, cohorts: list[int]) -> np.ndarray:
        if not emp or not cohorts:
            return np.zeros(len(year), dtype=bool)
        return np.isin(cohort, cohorts) & (year == cohort + k)

    def rate(sel: np.ndarray) -> float:
        return _rate(adults[sel], employed[sel])

    sex = at(EMPLOYMENT_SEX_YEAR, cohorts_with(s, e, EMPLOYMENT_SEX_YEAR, s, e))
    female = emp["female"] if emp else np.zeros(0, dtype=bool)
    out: dict[str, Any] = {
        "employment_rate_by_duration": {k: rate(at(k, cohorts_with(s, e, k, s, e)))
                                        for k in employment_years(s, e)},
        "employment_rate_by_sex": {"men": rate(sex & ~female) if sex.any() else NAN,
                                   "women": rate(sex & female) if sex.any() else NAN},
        "employment_rate_2018": rate(year == 2019) if emp else NAN,
        "resettled_refugees_employed_after_7_years": rate(at(7, cohorts_with(s, e, 7, 2010,
                                                                             2016))),
    }
    if emp:
        ukr = (emp["country_group"] == COUNTRY_GROUPS.index("ukraine")) \
            & (year == UKRAINIAN_YEAR + 1)
        out["ukrainians_employed_by_duration_2024"] = {
            "all_working_age": rate(ukr), "about_2_years": rate(ukr & (cohort == UKRAINIAN_YEAR
                                                                       - 1))}
    else:
        out["ukrainians_employed_by_duration_2024"] = dict.fromkeys(UKRAINIAN_KEYS, NAN)

    spread = dict.fromkeys(MUNICIPAL_EMPLOYMENT_KEYS, NAN)
    i = min(e, MUNICIPAL_EMPLOYMENT_YEAR) - s
    if 0 <= i < len(a.adults):
        adults_m, employed_m = a.adults[i], a.employed_adults[i]
        keep = adults_m >= MIN_MUNICIPAL_ADULTS
        if keep.sum() >= 3:
            r = employed_m[keep] / adults_m[keep]
            slope = float(np.polyfit(a.labour_market[keep], r, 1)[0])
            spread = {"sd": float(r.std(ddof=1)), "labour_market_slope": slope}
    out["refugee_employment_by_municipality"] = spread
    return out


#: family -> the indicator ids it computes (a moment name is "id" or "id.key")
FAMILIES: dict[Callable[[RunArrays], dict[str, Any]], tuple[str, ...]] = {
    _retention: ("retention_7y", "retention_7y_counting_emigrants",
                 "retention_5y_cohorts_2013_2015", "retention_5y_cohort_2010",
                 "retention_3y", "retention_7y_all_cohorts", "retention_5y",
                 "moved_in_settlement_year", "moved_by_end_of_year_2", "retention_5y_by_cohort",
                 "retention_7y_by_cohort", "no_break_after_year_5", "leaving_hazard_by_year"),
    _by_household_type: ("retention_5y_by_household_type_2005",),
    _moves: ("destination_split_of_movers", "income_change_of_movers", "moves_per_year"),
    _out_shares: ("municipalities_by_out_share",
                  "municipalities_by_out_share_counting_emigrants"),
    _settled_still_here: ("settled_persons_2010_2023_still_in_norway",),
    _regional: ("out_5y_by_settlement_county", "retention_5y_weakest_counties",
                "net_change_by_county", "regional_pattern"),
    _employment: ("employment_rate_by_duration", "employment_rate_by_sex",
                  "employment_rate_2018", "resettled_refugees_employed_after_7_years",
                  "ukrainians_employed_by_duration_2024", "refugee_employment_by_municipality"),
}
FAMILY_OF = {i: family for family, ids in FAMILIES.items() for i in ids}


def _split(name: str) -> tuple[str, str | None]:
    base, _, key = name.partition(".")
    return base, (key or None)


def moments(arrays: RunArrays, names: Sequence[str]) -> np.ndarray:
    """The moments ``names`` (flattened indicator names) of one run's arrays; NaN where the
    run cannot show a value (as a name missing from ``flatten(indicators(res))``)."""
    unknown = sorted({_split(n)[0] for n in names} - FAMILY_OF.keys())
    if unknown:
        raise KeyError(f"fastpath: no fast route for {unknown}; allowed ids: "
                       f"{sorted(FAMILY_OF)}")
    values: dict[str, Any] = {}
    for family in {FAMILY_OF[_split(n)[0]] for n in names}:
        values.update(family(arrays))
    out = np.full(len(names), np.nan)
    for i, name in enumerate(names):
        base, key = _split(name)
        value = values.get(base, NAN)
        if isinstance(value, dict):
            value = {str(k): v for k, v in value.items()}.get(key, NAN) if key else NAN
        elif key is not None:
            value = NAN
        out[i] = float(value)
    return out


def simulate_moments(params: Params, seed: np.random.SeedSequence | int, inputs: Inputs,
                     names: Sequence[str]) -> np.ndarray:
    """One run of the engine reduced to the moments ``names`` (float64, NaN where undefined):
    the same values as ``flatten(indicators(run(params, seed, inputs)))[name]``, without
    building Results tables."""
    return moments(run_arrays(params, seed, inputs), names)

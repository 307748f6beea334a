"""Indicators of MODEL.md section 7, computed from Results tables with the register's
definitions. Where an indicator matches a target in register_targets.yaml it has the same id;
every id, its words, unit and kind are in ``analysis.registry``.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from functools import cached_property
from typing import TYPE_CHECKING, Any

import numpy as np
import pandas as pd

from simulation.analysis.measures import (
    PooledRetention,
    area_shares,
    counting_emigrants,
    out_shares_counting_emigrants,
    retention,
    retention_sums,
)
from simulation.analysis.regional import regional_indicators
from simulation.analysis.registry import (
    EMPLOYMENT_SEX_YEAR,
    GROUP_THRESHOLD,
    MAX_HAZARD_YEAR,
    MIN_MUNICIPAL_ADULTS,
    MOVED_BY_YEAR_2_COHORTS,
    MUNICIPAL_EMPLOYMENT_KEYS,
    MUNICIPAL_EMPLOYMENT_YEAR,
    OUT_SHARE_CUTS,
    UKRAINIAN_KEYS,
    UKRAINIAN_YEAR,
    cohorts_with,
    employment_years,
)
from simulation.analysis.settlement_pattern import settling_municipalities
from simulation.engine.households import EXIT_EMIGRATION
from simulation.engine.observe import hoover_index
from simulation.inputs.categories import HOUSEHOLD_TYPES

if TYPE_CHECKING:
    from simulation.engine.results import Results

OSLO = "0301"
NAN = float("nan")


def _cohorts_with(res: Results, k: int, first: int, last: int) -> list[int]:
    """Cohorts in [first, last] that have k years of history in this run."""
    return cohorts_with(res.start, res.end, k, first, last)


def _move_hazard_ratio(res: Results, pooled: PooledRetention) -> float:
    """Yearly leaving hazard in year 6 over that in year 5 (from pooled retention)."""
    cohorts = _cohorts_with(res, 6, res.start, res.end)
    if not cohorts:
        return NAN
    r4, r5, r6 = (pooled(k, cohorts) for k in (4, 5, 6))
    h5, h6 = 1 - r5 / r4, 1 - r6 / r5
    return float(h6 / h5) if h5 > 0 else NAN


def _by_household_type(res: Results, pooled: PooledRetention, k: int = 5) -> dict[str, float]:
    """R(k) by household type (NaN for a type with no one observed) and of all types, pooled
    over the cohorts with k years of history."""
    cohorts = _cohorts_with(res, k, res.start, res.end)
    if not cohorts:
        return {"all": NAN}
    table = retention(res, "household_type", cohorts)
    share = table[table["years_since_settlement"] == k].set_index("group")["share"]
    out = {t: float(share.get(t, NAN)) for t in HOUSEHOLD_TYPES}
    out["all"] = pooled(k, cohorts)
    return out


def _destination_split(res: Results, cohorts: list[int]) -> dict[str, float]:
    """Where persons go when they leave their settlement municipality."""
    mv = res.moves
    mv = mv[mv["from_settlement"] & mv["cohort"].isin(cohorts)]
    total = mv["persons"].sum()
    if not total:
        return {"oslo": NAN, "same_county": NAN, "other_county": NAN}
    county = res.municipalities.set_index("code")["county"]
    to_oslo = mv["destination"] == OSLO
    same = ~to_oslo & (mv["origin"].map(county) == mv["destination"].map(county))
    return {"oslo": float(mv.loc[to_oslo, "persons"].sum() / total),
            "same_county": float(mv.loc[same, "persons"].sum() / total),
            "other_county": float(mv.loc[~to_oslo & ~same, "persons"].sum() / total)}


def _settled_sums(res: Results, first: int, last: int, observed: int
                  ) -> tuple[int, pd.DataFrame]:
    """The observation year (``observed`` or the run's last 1 January) and, per settlement
    municipality, the persons of cohorts first..last alive then and still there."""
    panel = res.retention_panel
    year = min(observed, res.end + 1)
    rows = panel[(panel["year"] == year) & panel["cohort"].between(first, last)]
    return year, retention_sums(rows, ["settlement_municipality"])


def out_migration_shares(res: Results, first: int = 2010, last: int = 2016,
                         observed: int = 2024) -> pd.Series:
    """Per settlement municipality: share of persons settled in cohorts first..last (still in
    Norway) no longer living there on 1 January ``observed`` (or the run's last 1 January)."""
    _, sums = _settled_sums(res, first, last, observed)
    sums = sums[sums["persons_alive"] > 0]
    return 1.0 - sums["persons_in_settlement"] / sums["persons_alive"]


def out_migration_shares_counting_emigrants(res: Results, first: int = 2010, last: int = 2016,
                                            observed: int = 2024) -> np.ndarray:
    """As :func:`out_migration_shares`, with the persons of those cohorts who emigrated before
    the observation counted as having left (measures.out_shares_counting_emigrants)."""
    year, sums = _settled_sums(res, first, last, observed)
    hh = res.households
    gone = hh[(hh["exit_reason"] == EXIT_EMIGRATION) & (hh["exit_year"] >= 0)
              & (hh["exit_year"] < year) & hh["cohort"].between(first, last)]
    emigrants = gone.groupby("settlement_municipality")["persons"].sum()
    index = sums.index.union(emigrants.index)
    return out_shares_counting_emigrants(
        sums["persons_alive"].reindex(index, fill_value=0).to_numpy(dtype=np.int64),
        sums["persons_in_settlement"].reindex(index, fill_value=0).to_numpy(dtype=np.int64),
        emigrants.reindex(index, fill_value=0).to_numpy(dtype=np.int64))


def count_at_least(shares: pd.Series | np.ndarray, cut: float) -> int:
    """Municipalities whose out-migration share is at least ``cut`` (a share computed as
    1 - stayed/alive may land a rounding error below an exact 0.8): the one count that the
    indicator, the report's table and the histogram's legend all use."""
    values = np.asarray(shares, dtype=np.float64)
    return int((values[~np.isnan(values)] >= cut - 1e-12).sum())


def _income_change(res: Results, cohorts: list[int], threshold: float) -> dict[str, float]:
    mv = res.moves
    mv = mv[mv["cohort"].isin(cohorts) & mv["income_after"].notna() & (mv["income_before"] > 0)]
    total = mv["persons"].sum()
    if not total:
        return {"higher": NAN, "about_same": NAN, "lower": NAN}
    ratio = mv["income_after"] / mv["income_before"]
    higher = ratio > 1 + threshold
    lower = ratio < 1 - threshold
    return {"higher": float(mv.loc[higher, "persons"].sum() / total),
            "about_same": float(mv.loc[~higher & ~lower, "persons"].sum() / total),
            "lower": float(mv.loc[lower, "persons"].sum() / total)}


def final_distribution(res: Results) -> pd.Series:
    """Persons of settled households by municipality on the last 1 January of the run."""
    stocks = res.stocks[res.stocks["year"] == res.end + 1]
    per = stocks.groupby("municipality")["persons"].sum()
    return per.reindex(res.municipalities["code"], fill_value=0).astype(float)


def concentration(res: Results) -> dict[str, float]:
    """Hoover index, central/peripheral shares and top-10 share, refugees against population."""
    munis = res.municipalities
    persons = final_distribution(res).to_numpy()
    pop = munis["population"].to_numpy(dtype=float)
    share = {k: float(v[0]) for k, v in area_shares(persons, munis).items()}
    pop_share = {k: float(v[0]) for k, v in area_shares(pop, munis).items()}
    return {
        "hoover_index": hoover_index(persons, pop),
        "share_centrality_1_2": share["centrality_1_2"],
        "population_share_centrality_1_2": pop_share["centrality_1_2"],
        "share_centrality_5_6": share["centrality_5_6"],
        "population_share_centrality_5_6": pop_share["centrality_5_6"],
        "share_in_10_largest": share["10_largest"],
        "population_share_in_10_largest": pop_share["10_largest"],
    }


def location_quotients(res: Results) -> pd.DataFrame:
    """Per municipality and country group: group's local share of persons over its national
    share (1 = as spread as the population), on the last 1 January."""
    stocks = res.stocks[res.stocks["year"] == res.end + 1]
    table = stocks.pivot_table(index="municipality", columns="country_group", values="persons",
                               aggfunc="sum", fill_value=0, observed=False)
    table = table.reindex(res.municipalities["code"], fill_value=0)
    pop = res.municipalities.set_index("code")["population"].astype(float)
    local = table.div(pop, axis=0)
    national = table.sum() / pop.sum()
    return local.div(national.replace(0, np.nan), axis=1)


def leaving_hazards(res: Results, pooled: PooledRetention | None = None,
                    max_k: int = MAX_HAZARD_YEAR) -> dict[int, float]:
    """Yearly hazard of not living in the settlement municipality, by year since settlement:
    h(k) = 1 - R(k) / R(k-1), pooled over the cohorts that have k years (R(0) = 1). With the
    rights window of R years, h(R) is the last year inside it and h(R + 1) the first after
    (up to k = 12, so that the 10-year window's first year after it is observed)."""
    pooled = pooled or PooledRetention(res)
    out: dict[int, float] = {}
    for k in range(1, max_k + 1):
        cohorts = _cohorts_with(res, k, res.start, res.end)
        if not cohorts:
            break
        before = 1.0 if k == 1 else pooled(k - 1, cohorts)
        out[k] = 1.0 - pooled(k, cohorts) / before
    return out


def grant_years_in_settlement(res: Results, years: int = 5) -> float:
    """Share of the integration-grant person-years (settlement year and the four after, as
    1 January snapshots k = 1..5) that refugees still in Norway spent in the settlement
    municipality, which receives the grant: cohorts with all five years in the window."""
    panel = res.retention_panel
    k = panel["year"] - panel["cohort"]
    rows = panel[(k >= 1) & (k <= years) & (panel["cohort"] + years <= res.end + 1)]
    alive = rows["persons_alive"].sum()
    return float(rows["persons_in_settlement"].sum() / alive) if alive else NAN


def settled_five_years(res: Results) -> pd.DataFrame:
    """Households still in Norway at the end that were settled at least five years before it:
    the population whose employment and income at the end the indicators describe (past the
    programme and the rights window, so the end state is not the first years' state)."""
    hh = res.households
    return hh[hh["alive"] & (hh["cohort"] <= res.end - 4)]


def employed_share(households: pd.DataFrame) -> float:
    """Share of the persons of ``households`` who live in a household with work (at least
    one adult employed); NaN for no one."""
    w = households["persons"].sum()
    return float((households["employed"] * households["persons"]).sum() / w) if w else NAN


def mean_income(households: pd.DataFrame) -> float:
    """Mean income (G) of ``households`` (per household, as the register's household income
    is); NaN for none."""
    return float(households["income"].mean()) if len(households) else NAN


def movers_and_stayers(res: Results) -> dict[str, float]:
    """Employment and income (G) at the end, of households that moved and that stayed, among
    those settled at least five years before the end and still in Norway (persons-weighted)."""
    hh = settled_five_years(res)
    out: dict[str, float] = {}
    for label, sel in (("movers", hh["moves"] > 0), ("stayers", hh["moves"] == 0)):
        g = hh[sel]
        out[f"employment_rate_{label}"] = employed_share(g)
        out[f"income_{label}"] = mean_income(g)
    return out


def households_with_needs(res: Results) -> pd.DataFrame | None:
    """Households still in Norway at the end with an education or health need, with
    ``needs_met``: whether they live where every need is met (upper-secondary school, higher
    education, hospital). None for results without the need columns."""
    hh = res.households
    if "need_school" not in hh:
        return None
    hh = hh[hh["alive"] & (hh["need_school"] | hh["need_higher"] | hh["need_health"])]
    facts = res.municipalities.set_index("code")
    where = facts.index.get_indexer(hh["municipality"])  # -1: a code the table lacks

    def has(service: str) -> np.ndarray:
        # as a lookup by code would: an unknown code (-1, the appended last value) counts
        # as having the service
        return np.append(facts[service].to_numpy().astype(bool), True)[where]

    unmet = ((hh["need_school"].to_numpy(bool) & ~has("upper_secondary"))
             | (hh["need_higher"].to_numpy(bool) & ~has("higher_education"))
             | (hh["need_health"].to_numpy(bool) & ~has("hospital")))
    return hh.assign(needs_met=~unmet)


def met_share(households: pd.DataFrame | None) -> float:
    """Share of ``households`` (from :func:`households_with_needs`) whose needs are met, per
    household; NaN for none."""
    if households is None or households.empty:
        return NAN
    return float(households["needs_met"].mean())


def needs_met_share(res: Results) -> float:
    """Of households still in Norway with an education or health need at the end, the share
    living where every need is met (upper-secondary school, higher education, hospital)."""
    return met_share(households_with_needs(res))


def group_concentration(res: Results, threshold: float = GROUP_THRESHOLD) -> dict[str, float]:
    """Per country group: the number of municipalities where the group's settled persons are
    at least ``threshold`` of the population, and the group's highest location quotient
    among municipalities of 5,000 inhabitants or more."""
    lq = location_quotients(res)
    pop = res.municipalities.set_index("code")["population"].astype(float)
    stocks = res.stocks[res.stocks["year"] == res.end + 1]
    per = stocks.pivot_table(index="municipality", columns="country_group", values="persons",
                             aggfunc="sum", fill_value=0, observed=False).reindex(
        pop.index, fill_value=0)
    share = per.div(pop, axis=0)
    big = pop >= 5000
    out: dict[str, float] = {}
    for group in per.columns:
        out[f"{group}_municipalities_over_{threshold:.0%}"] = float(
            (share[group] >= threshold).sum())
        out[f"{group}_max_location_quotient"] = float(lq.loc[big, group].max()) \
            if lq[group].notna().any() else NAN
    out[f"any_group_municipalities_over_{threshold:.0%}"] = float(
        (share >= threshold).any(axis=1).sum())
    return out


def settlement_summary(res: Results) -> dict[str, float]:
    """Where the window's persons were settled: the share under 5,000 inhabitants (all years
    pooled) and the mean number of municipalities settling a year."""
    yearly = res.municipality_yearly
    pop = res.municipalities.set_index("code")["population"]
    settled = yearly["settled"].to_numpy(dtype=np.float64)
    small = yearly["municipality"].map(pop).to_numpy() < 5000
    total = settled.sum()
    return {
        "settled_share_under_5000": float(settled[small].sum() / total) if total else NAN,
        "settling_municipalities_per_year": float(settling_municipalities(res).mean()),
    }


def matching_predicted_gain(res: Results) -> float:
    """What placement by matching predicted at placement (engine/matching) for the cohorts
    whose five-year retention the run shows (those of ``retention_5y``): the gain in the
    chance of still living in the settlement municipality at the matching's horizon, over
    every person settled in those cohorts (family reunification, not matched, counts with no
    gain), so that it sets beside the simulated paired difference in ``retention_5y``. NaN
    without matching."""
    log = res.matching
    if log.empty:
        return NAN
    rows = log[log["year"].isin(_cohorts_with(res, 5, res.start, res.end))]
    persons = rows["cohort_persons"].sum()
    gain = (rows["persons"] * (rows["predicted_retention_matched"]
                               - rows["predicted_retention_baseline"])).sum()
    return float(gain / persons) if persons else NAN


class _Run:
    """One run's intermediates that several indicators share, each worked out when first
    needed (an indicator asked for alone costs only what it reads)."""

    def __init__(self, res: Results, income_threshold: float) -> None:
        self.res = res
        self.income_threshold = income_threshold

    def cohorts(self, k: int, first: int, last: int) -> list[int]:
        return _cohorts_with(self.res, k, first, last)

    @cached_property
    def pooled(self) -> PooledRetention:
        return PooledRetention(self.res)

    @cached_property
    def with_emigrants(self) -> PooledRetention:
        hh = self.res.households
        return PooledRetention(sums=counting_emigrants(
            self.pooled.sums, hh["cohort"].to_numpy(), hh["exit_year"].to_numpy(),
            (hh["exit_reason"] == EXIT_EMIGRATION).to_numpy(), hh["persons"].to_numpy()))

    @cached_property
    def out_share(self) -> pd.Series:
        return out_migration_shares(self.res)

    @cached_property
    def out_share_e(self) -> pd.Series:
        return out_migration_shares_counting_emigrants(self.res)


def _still_in_norway(res: Results) -> float:
    hh = res.households
    return float(hh.loc[hh["alive"] & hh["cohort"].between(2010, 2023), "persons"].sum())


def _moves_per_year(res: Results) -> float:
    return float(res.moves.groupby("year")["persons"].sum().reindex(
        range(res.start, res.end + 1), fill_value=0).mean())


# one indicator id -> how it is computed from a run's shared intermediates, in the order
# indicators() publishes them
_SINGLE: dict[str, Callable[[_Run], Any]] = {
    "retention_7y": lambda r: r.pooled(7, r.cohorts(7, 2010, 2016)),
    "retention_5y_cohorts_2013_2015": lambda r: r.pooled(5, r.cohorts(5, 2013, 2015)),
    "retention_5y_cohort_2010": lambda r: r.pooled(5, r.cohorts(5, 2010, 2010)),
    "retention_3y": lambda r: r.pooled(3, r.cohorts(3, r.res.start, r.res.end)),
    "retention_7y_all_cohorts": lambda r: r.pooled(7, r.cohorts(7, r.res.start, r.res.end)),
    "retention_5y": lambda r: r.pooled(5, r.cohorts(5, r.res.start, r.res.end)),
    "moved_in_settlement_year": lambda r: 1.0 - r.pooled(1, r.cohorts(1, 2010, 2016)),
    "moved_by_end_of_year_2": lambda r: {c: 1.0 - r.pooled(2, [c])
                                         for c in MOVED_BY_YEAR_2_COHORTS
                                         if c in r.cohorts(2, c, c)},
    "retention_5y_by_cohort": lambda r: {c: r.pooled(5, [c])
                                         for c in r.cohorts(5, r.res.start, r.res.end)},
    "retention_7y_by_cohort": lambda r: {c: r.pooled(7, [c])
                                         for c in r.cohorts(7, r.res.start, r.res.end)},
    "retention_7y_counting_emigrants": lambda r: r.with_emigrants(7, r.cohorts(7, 2010, 2016)),
    "no_break_after_year_5": lambda r: _move_hazard_ratio(r.res, r.pooled),
    "retention_5y_by_household_type_2005": lambda r: _by_household_type(r.res, r.pooled),
    "destination_split_of_movers": lambda r: _destination_split(r.res, r.cohorts(1, 2010, 2014)),
    "municipalities_by_out_share": lambda r: {
        key: count_at_least(r.out_share, cut) for key, cut in OUT_SHARE_CUTS.items()},
    "municipalities_by_out_share_counting_emigrants": lambda r: {
        key: count_at_least(r.out_share_e, cut) for key, cut in OUT_SHARE_CUTS.items()},
    "income_change_of_movers": lambda r: _income_change(r.res, r.cohorts(0, 2010, 2016),
                                                        r.income_threshold),
    "settled_persons_2010_2023_still_in_norway": lambda r: _still_in_norway(r.res),
    "moves_per_year": lambda r: _moves_per_year(r.res),
    "leaving_hazard_by_year": lambda r: leaving_hazards(r.res, r.pooled),
    "grant_years_in_settlement_municipality": lambda r: grant_years_in_settlement(r.res),
    "needs_met_share": lambda r: needs_met_share(r.res),
    "matching_predicted_retention_gain": lambda r: matching_predicted_gain(r.res),
    "group_concentration": lambda r: group_concentration(r.res),
}
# functions that compute several ids at once (the ids each returns, in its order)
_GROUPS: tuple[tuple[tuple[str, ...], Callable[[Results], dict[str, Any]]], ...] = (
    (("out_5y_by_settlement_county", "retention_5y_weakest_counties", "net_change_by_county",
      "regional_pattern"), regional_indicators),
    (("settled_share_under_5000", "settling_municipalities_per_year"), settlement_summary),
    (("employment_rate_movers", "income_movers", "employment_rate_stayers", "income_stayers"),
     lambda res: movers_and_stayers(res)),
    (("hoover_index", "share_centrality_1_2", "population_share_centrality_1_2",
      "share_centrality_5_6", "population_share_centrality_5_6", "share_in_10_largest",
      "population_share_in_10_largest"), lambda res: concentration(res)),
    (("employment_rate_by_duration", "employment_rate_by_sex", "employment_rate_2018",
      "resettled_refugees_employed_after_7_years", "ukrainians_employed_by_duration_2024",
      "refugee_employment_by_municipality"), lambda res: employment_indicators(res)),
)
#: every id indicators() returns, in its order
INDICATOR_IDS: tuple[str, ...] = (*_SINGLE, *(i for ids, _ in _GROUPS for i in ids))


def indicators(res: Results, income_threshold: float = 0.10,
               ids: Iterable[str] | None = None) -> dict[str, Any]:
    """All national indicators of one run, by id (``analysis.registry`` describes each).

    Args:
        res: a run's results (``simulation.run(...)``).
        income_threshold: an income change within this share counts as "about the same"
            (``income_change_of_movers``).
        ids: only these indicators (a list of ids of ``INDICATOR_IDS``; a flattened name
            such as ``destination_split_of_movers.oslo`` asks for its id, and its key is not
            checked): a sweep that analyses five of them computes about a tenth of the rest.
            Default: all.

    Returns:
        Id -> a float, or a dict of floats by key for a family such as
        ``destination_split_of_movers``; NaN where the run's window cannot show a value.
        The values do not depend on which others were asked for.

    Example:
        >>> res = simulation.run(seed=1)                                 # doctest: +SKIP
        >>> simulation.indicators(res)["retention_7y"]                   # doctest: +SKIP
        0.62...
        >>> simulation.indicators(res, ids=["hoover_index"])             # doctest: +SKIP
        {'hoover_index': 0.14...}
    """
    if isinstance(ids, str):
        raise TypeError(f"ids must be a list of indicator ids, not the string {ids!r}; "
                        f"write ids=[{ids!r}]")
    wanted = None if ids is None else {str(i).split(".", 1)[0] for i in ids}
    if ids is not None and (unknown := [i for i in ids
                                        if str(i).split(".", 1)[0] not in INDICATOR_IDS]):
        raise ValueError(f"unknown indicator id(s) {', '.join(map(repr, unknown))}; "
                         f"allowed: {', '.join(INDICATOR_IDS)} (a key after a dot, as in "
                         "destination_split_of_movers.oslo, is not checked here)")
    run = _Run(res, income_threshold)
    out = {k: f(run) for k, f in _SINGLE.items() if wanted is None or k in wanted}
    for group_ids, compute in _GROUPS:
        if wanted is None or wanted.intersection(group_ids):
            values = compute(res)
            out.update(values if wanted is None else
                       {k: v for k, v in values.items() if k in wanted})
    return out


# --- employment (work helper, issue 13): per-adult employment from Results.employment ------

def _employment_rate(table: pd.DataFrame) -> float:
    """Employed adults over adults of working age in ``table`` (NaN if none)."""
    adults = table["adults"].sum()
    return float(table["employed"].sum() / adults) if adults else NAN


def _employment_at(res: Results, k: int, cohorts: list[int]) -> pd.DataFrame:
    """Employment rows of ``cohorts`` on 1 January of cohort + k."""
    emp = res.employment
    if emp.empty or not cohorts:
        return emp.iloc[0:0]
    return emp[emp["cohort"].isin(cohorts) & (emp["year"] == emp["cohort"] + k)]


def employment_by_duration(res: Results) -> dict[int, float]:
    """Employment rate of adults k years after settlement (1 January of cohort + k), pooled
    over the cohorts observed k years after, for the durations of EMPLOYMENT_YEARS."""
    return {k: _employment_rate(_employment_at(res, k, _cohorts_with(res, k, res.start,
                                                                    res.end)))
            for k in employment_years(res.start, res.end)}


def employment_by_sex(res: Results, k: int = EMPLOYMENT_SEX_YEAR) -> dict[str, float]:
    """Employment rate of men and women k years after settlement (pooled cohorts)."""
    rows = _employment_at(res, k, _cohorts_with(res, k, res.start, res.end))
    return {"men": _employment_rate(rows[~rows["female"]]) if len(rows) else NAN,
            "women": _employment_rate(rows[rows["female"]]) if len(rows) else NAN}


def employment_in_year(res: Results, year: int) -> float:
    """Employment rate of all adults of working age settled in the run, in the 4th quarter of
    ``year`` (the 1 January after it); NaN if the run does not reach it."""
    emp = res.employment
    return _employment_rate(emp[emp["year"] == year + 1]) if not emp.empty else NAN


def ukrainian_employment(res: Results) -> dict[str, float]:
    """Ukrainian adults (settled from 2022) at the end of March 2024, taken as 1 January 2024
    (the end of 2023): all, and those settled in 2022 (close to two years in Norway)."""
    emp = res.employment
    if emp.empty:
        return {key: NAN for key in UKRAINIAN_KEYS}
    rows = emp[(emp["country_group"] == "ukraine") & (emp["year"] == UKRAINIAN_YEAR + 1)]
    return {"all_working_age": _employment_rate(rows),
            "about_2_years": _employment_rate(rows[rows["cohort"] == UKRAINIAN_YEAR - 1])}


def employment_across_municipalities(res: Results) -> dict[str, float]:
    """At the end of MUNICIPAL_EMPLOYMENT_YEAR (or of the run, if earlier), across
    municipalities with at least MIN_MUNICIPAL_ADULTS adults: the standard deviation of the
    employment rate and its least-squares slope on the local labour market (0..1), for
    comparison with the register's spread in 2013 (a stock mostly past the programme, as the
    model's is then, before the Ukrainian arrivals)."""
    mun = res.municipality_yearly
    if "adults" not in mun:
        return {key: NAN for key in MUNICIPAL_EMPLOYMENT_KEYS}
    year = min(res.end, MUNICIPAL_EMPLOYMENT_YEAR)
    last = mun[(mun["year"] == year) & (mun["adults"] >= MIN_MUNICIPAL_ADULTS)]
    if len(last) < 3:
        return {key: NAN for key in MUNICIPAL_EMPLOYMENT_KEYS}
    rate = (last["employed_adults"] / last["adults"]).to_numpy(dtype=float)
    labour = last["municipality"].map(res.municipalities.set_index("code")["labour_market"])
    slope = float(np.polyfit(labour.to_numpy(dtype=float), rate, 1)[0])
    return {"sd": float(rate.std(ddof=1)), "labour_market_slope": slope}


def employment_indicators(res: Results) -> dict[str, Any]:
    """The employment block of :func:`indicators`."""
    return {
        "employment_rate_by_duration": employment_by_duration(res),
        "employment_rate_by_sex": employment_by_sex(res),
        "employment_rate_2018": employment_in_year(res, 2018),
        "resettled_refugees_employed_after_7_years": _employment_rate(
            _employment_at(res, 7, _cohorts_with(res, 7, 2010, 2016))),
        "ukrainians_employed_by_duration_2024": ukrainian_employment(res),
        "refugee_employment_by_municipality": employment_across_municipalities(res),
    }


def municipality_indicators(res: Results) -> pd.DataFrame:
    """Per municipality: persons and households settled, out-migration share (cohorts
    2010-2016), net secondary migration, and the welfare-pressure proxy of MODEL.md 7 (per
    1,000 inhabitants).

    Args:
        res: a run's results (``simulation.run(...)``).

    Returns:
        One row per municipality of the run's geography: ``municipality`` (code), ``name``,
        ``county``, ``centrality``, ``population``, ``persons_settled``,
        ``households_settled``, ``out_migration_share_2010_2016``,
        ``net_secondary_migration`` (persons), ``net_secondary_migration_per_1000``,
        ``net_without_work_or_with_health_needs_per_1000`` and ``end_stock``.

    Example:
        >>> res = simulation.run(seed=1)                                 # doctest: +SKIP
        >>> simulation.municipality_indicators(res).nlargest(5, "net_secondary_migration")
        ... # doctest: +SKIP
    """
    munis = res.municipalities.set_index("code")
    codes = munis.index

    def persons_by(frame: pd.DataFrame, key: str) -> pd.Series:
        # int64 whatever the table's dtype: sums of persons must never wrap around
        return (frame["persons"].astype(np.int64).groupby(frame[key]).sum()
                .reindex(codes, fill_value=0).astype(np.int64))

    mv = res.moves
    needy = mv[~mv["employed_after"] | mv["health_need"]]
    population = munis["population"].astype(np.float64)
    net = persons_by(mv, "destination") - persons_by(mv, "origin")
    net_needy = persons_by(needy, "destination") - persons_by(needy, "origin")
    out = pd.DataFrame(index=codes)
    out["name"] = munis["name"]
    out["county"] = munis["county"]
    out["centrality"] = munis["centrality"].astype(np.int64)
    out["population"] = munis["population"].astype(np.int64)
    out["persons_settled"] = persons_by(res.households, "settlement_municipality")
    out["households_settled"] = (res.households["settlement_municipality"].value_counts()
                                 .reindex(codes, fill_value=0).astype(np.int64))
    out["out_migration_share_2010_2016"] = out_migration_shares(res).reindex(codes)
    out["net_secondary_migration"] = net
    out["net_secondary_migration_per_1000"] = 1000.0 * net.astype(np.float64) / population
    out["net_without_work_or_with_health_needs_per_1000"] = (
        1000.0 * net_needy.astype(np.float64) / population)
    out["end_stock"] = final_distribution(res).reindex(codes)
    return out.reset_index().rename(columns={"code": "municipality"})


def concentration_series(res: Results) -> pd.DataFrame:
    """Concentration at the end of each calendar year (from the 1 January stocks that follow):
    Hoover index, share in the 10 largest municipalities and in centrality classes 1-2, 5-6."""
    munis = res.municipalities
    pop = munis["population"].to_numpy(dtype=float)
    table = res.stocks.pivot_table(index="year", columns="municipality", values="persons",
                                   aggfunc="sum", fill_value=0)
    table = table.reindex(columns=munis["code"], fill_value=0)
    persons = table.to_numpy(dtype=float)
    shares = area_shares(persons, munis)
    return pd.DataFrame({
        "year": table.index.to_numpy() - 1,
        "hoover_index": [hoover_index(row, pop) for row in persons],
        "share_in_10_largest": shares["10_largest"],
        "share_centrality_1_2": shares["centrality_1_2"],
        "share_centrality_5_6": shares["centrality_5_6"],
    })

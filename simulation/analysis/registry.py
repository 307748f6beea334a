"""Every indicator a run reports, described once: id, words, unit, kind and direction.

Reports, compare briefs, the command line's tables, sweeps, calibration files and the policy
notes all read their labels and number formats here, and sweep and calibration files are
checked against :func:`indicator_ids` without running a simulation. The keys of a keyed
family (``destination_split_of_movers.oslo``, ``retention_5y_by_cohort.2012``) follow from
the run's window with the same functions the indicators are computed with
(:func:`cohorts_with`), so the list cannot drift from what a run reports; a test checks it
against real runs.

>>> from simulation.analysis.registry import describe, indicator_ids
>>> "destination_split_of_movers.oslo" in indicator_ids(2010, 2023)
True
>>> describe("leaving_hazard_by_year.6", rights_years=5).label
'yearly leaving hazard in year 6 (first year after the 5-year rights window)'
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from functools import cache
from typing import Literal

from simulation.inputs.categories import COUNTRY_GROUPS, HOUSEHOLD_TYPES
from simulation.inputs.municipal import OLD_COUNTIES

Kind = Literal["share", "count", "ratio", "index", "amount"]
Direction = Literal["higher_is_better", "higher_is_worse", "neutral"]

#: the register's cuts of municipal out-migration shares (Fafo-rapport 2025:14)
OUT_SHARE_CUTS = {"at_least_80pct": 0.8, "at_least_90pct": 0.9, "all_100pct": 1.0}
#: cohorts whose share moved by the end of year 2 the register reports
MOVED_BY_YEAR_2_COHORTS = (2011, 2015)
#: leaving hazards are reported up to this year since settlement (the 10-year window's
#: first year after it is then observed)
MAX_HAZARD_YEAR = 12
#: a country group "concentrates" where its settled persons are this share of the population
GROUP_THRESHOLD = 0.02
DESTINATIONS = ("oslo", "same_county", "other_county")
#: the regional figures (register_targets_more.yaml): the counties (2020 borders) of SSB's
#: five-year out-migration monitor, the pre-2020 counties and the five weakest of them, and
#: the cohorts the model pools for each figure
OUT_5Y_COUNTIES = ("Nordland", "Troms og Finnmark", "Oslo")
PRE2020_COUNTIES = tuple(OLD_COUNTIES.values())  # the 19, in the order of their old codes
WEAKEST_COUNTIES = ("Sogn og Fjordane", "Nord-Trøndelag", "Nordland", "Troms", "Finnmark")
SETTLEMENT_COUNTY_COHORTS = (2013, 2016)
WEAKEST_COUNTY_COHORTS = (2010, 2014)
REGIONAL_NET_CHANGE_COHORTS = (2010, 2014)
REGIONAL_PATTERN_KEYS = ("sign_agreement", "rank_correlation")
INCOME_CHANGES = ("higher", "about_same", "lower")


def cohorts_with(start: int, end: int, k: int, first: int, last: int) -> list[int]:
    """Cohorts in [first, last] that a run over start..end observes k years after settlement
    (on 1 January of cohort + k, at the latest the 1 January after ``end``)."""
    return [c for c in range(max(first, start), last + 1) if c + k <= end + 1]


def county_key(name: str) -> str:
    """A county's name as an ASCII key of a flat indicator id ("Sogn og Fjordane" ->
    "sogn_og_fjordane", "Østfold" -> "ostfold")."""
    plain = name.lower().replace("æ", "ae").replace("ø", "o").replace("å", "a")
    return plain.replace(" ", "_").replace("-", "_")


_COUNTY_NAMES = {county_key(c): c for c in (*PRE2020_COUNTIES, *OUT_5Y_COUNTIES)}


def _out_5y_keys(start: int, end: int) -> list[str]:
    first, last = SETTLEMENT_COUNTY_COHORTS
    if not cohorts_with(start, end, 5, first, last):
        return []
    return [*(county_key(c) for c in OUT_5Y_COUNTIES), "national"]


def _net_change_keys(start: int, end: int) -> list[str]:
    first, last = REGIONAL_NET_CHANGE_COHORTS
    return [county_key(c) for c in PRE2020_COUNTIES] \
        if cohorts_with(start, end, 5, first, last) else []


def _regional_pattern_keys(start: int, end: int) -> list[str]:
    return list(REGIONAL_PATTERN_KEYS) if _net_change_keys(start, end) else []


def _out_5y_words(key: str, rights_years: float | None) -> tuple[str, str]:
    where = "all counties" if key == "national" else _COUNTY_NAMES[key]
    return (f"no longer in the settlement municipality after 5 years, settled in {where} "
            "(cohorts 2013-2016)", f"out 5 y {where}"[:24])


def _net_change_words(key: str, rights_years: float | None) -> tuple[str, str]:
    county = _COUNTY_NAMES[key]
    return (f"net change of persons settled in {county} (pre-2020 county) five years on, in "
            "percent of those settled there (cohorts 2010-2014)", f"net change {county}"[:24])


_PATTERN_WORDS = {
    "sign_agreement": ("counties whose net change has the register's sign (Iraqis 2005-2010)",
                       "county signs agree", "share", "share of counties"),
    "rank_correlation": ("rank correlation of the counties' net change with the register's "
                         "(Iraqis 2005-2010)", "county rank corr.", "ratio", "Spearman rho"),
}

# --- employment (work helper, issue 13) -------------------------------------------------------
#: employment by duration is reported for these years since settlement (1 January snapshots)
EMPLOYMENT_MAX_YEAR = 8
#: employment by sex is reported this many years after settlement (SSB's "after 8 years")
EMPLOYMENT_SEX_YEAR = 8
#: NAV's Ukrainian figures (end of March 2024) are compared with the end of this year
UKRAINIAN_YEAR = 2023
UKRAINIAN_KEYS = ("all_working_age", "about_2_years")
#: the spread across municipalities counts municipalities with at least this many adults
MIN_MUNICIPAL_ADULTS = 50
MUNICIPAL_EMPLOYMENT_KEYS = ("sd", "labour_market_slope")
#: ... at the end of this year (the last before the Ukrainian arrivals), or of the run
MUNICIPAL_EMPLOYMENT_YEAR = 2021


def employment_years(start: int, end: int) -> list[int]:
    """Years since settlement k for which a run over start..end reports employment."""
    return [k for k in range(1, EMPLOYMENT_MAX_YEAR + 1)
            if cohorts_with(start, end, k, start, end)]


def hazard_years(start: int, end: int) -> list[int]:
    """Years since settlement k for which a run over start..end reports a leaving hazard."""
    return [k for k in range(1, MAX_HAZARD_YEAR + 1) if cohorts_with(start, end, k, start, end)]


def group_keys(threshold: float = GROUP_THRESHOLD) -> list[str]:
    """The keys of ``group_concentration``, in the order a run reports them."""
    per_group = [f"{g}_{what}" for g in COUNTRY_GROUPS
                 for what in (f"municipalities_over_{threshold:.0%}", "max_location_quotient")]
    return [*per_group, f"any_group_municipalities_over_{threshold:.0%}"]


@dataclass(frozen=True)
class Described:
    """One flat indicator id, as a table or sentence shows it."""

    id: str
    label: str  # words that fit inside a sentence; ``title`` capitalises them for a table row
    short: str  # at most about 20 characters, for terminal tables
    unit: str
    kind: Kind
    direction: Direction

    @property
    def title(self) -> str:
        return self.label[:1].upper() + self.label[1:]


#: per key, the words and, where they differ from the family's, the kind and unit
KeyWords = Callable[[str, float | None], tuple[str, str] | tuple[str, str, Kind, str]]


@dataclass(frozen=True)
class Indicator:
    """One indicator id, a single number or a family of numbers by key.

    ``keys(start, end)`` lists a family's keys for a run window (``None``: a single number);
    ``words(key, rights_years)`` gives a key's label and short label, and may override kind and
    unit. A single number's words are ``label`` and ``short``. ``direction`` says whether a
    higher value is better or worse for the people settled; most indicators are neutral (the
    model describes where people live, it does not judge it)."""

    id: str
    label: str
    short: str
    unit: str
    kind: Kind
    direction: Direction = "neutral"
    keys: Callable[[int, int], list[str]] | None = None
    words: KeyWords | None = None

    def flat_ids(self, start: int, end: int) -> list[str]:
        if self.keys is None:
            return [self.id]
        return [f"{self.id}.{key}" for key in self.keys(start, end)]

    def describe(self, key: str = "", rights_years: float | None = None) -> Described:
        if not key or self.words is None:
            flat = f"{self.id}.{key}" if key else self.id
            return Described(flat, self.label, self.short, self.unit, self.kind, self.direction)
        got = self.words(key, rights_years)
        label, short = got[0], got[1]
        kind, unit = (got[2], got[3]) if len(got) == 4 else (self.kind, self.unit)
        return Described(f"{self.id}.{key}", label, short, unit, kind, self.direction)


def _fixed(keys: tuple[str, ...]) -> Callable[[int, int], list[str]]:
    return lambda start, end: list(keys)


def _cohort_keys(k: int) -> Callable[[int, int], list[str]]:
    return lambda start, end: [str(c) for c in cohorts_with(start, end, k, start, end)]


def _moved_by_year_2(start: int, end: int) -> list[str]:
    return [str(c) for c in MOVED_BY_YEAR_2_COHORTS if cohorts_with(start, end, 2, c, c)]


def _household_type_keys(start: int, end: int) -> list[str]:
    return [*HOUSEHOLD_TYPES, "all"] if cohorts_with(start, end, 5, start, end) else ["all"]


def _hazard_words(key: str, rights_years: float | None) -> tuple[str, str]:
    k, r = int(key), int(rights_years or 0)
    if r and k == r:
        return (f"yearly leaving hazard in year {k} (last year of the {r}-year rights window)",
                f"hazard year {k} (last)")
    if r and k == r + 1:
        return (f"yearly leaving hazard in year {k} (first year after the {r}-year rights "
                "window)", f"hazard year {k} (after)")
    return f"yearly leaving hazard in year {k} since settlement", f"hazard year {k}"


_DESTINATION_WORDS = {
    "oslo": ("of those who leave: moved to Oslo", "movers to Oslo"),
    "same_county": ("of those who leave: moved within the county", "movers in county"),
    "other_county": ("of those who leave: moved to another county", "movers other county"),
}
_OUT_SHARE_WORDS = {
    "at_least_80pct": ("municipalities that lost at least 80 % of those they settled 2010-2016",
                       "munis >=80 % out"),
    "at_least_90pct": ("municipalities that lost at least 90 % of those they settled 2010-2016",
                       "munis >=90 % out"),
    "all_100pct": ("municipalities that lost all of those they settled 2010-2016",
                   "munis 100 % out"),
}
_INCOME_WORDS = {
    "higher": ("movers with a higher income one year after moving", "movers income up"),
    "about_same": ("movers with about the same income one year after moving",
                   "movers income same"),
    "lower": ("movers with a lower income one year after moving", "movers income down"),
}


def _group_words(key: str, rights_years: float | None) -> tuple[str, str, Kind, str]:
    group, _, what = key.partition("_")
    pct = f"{100 * GROUP_THRESHOLD:g} %"
    origin = "other countries" if group == "other" else group.capitalize()
    if group == "any":
        return (f"municipalities where one country group is at least {pct} of the population",
                f"munis group >={pct}", "count", "municipalities")
    if what.startswith("municipalities_over"):
        return (f"municipalities where settled persons from {origin} are at least {pct} of the "
                "population", f"munis {group} >={pct}", "count", "municipalities")
    return (f"highest location quotient of persons from {origin} (municipalities of 5,000 "
            "inhabitants or more)", f"max LQ {group}", "ratio", "local share / national share")


PERSONS = "share of persons"
STILL_HOME = "still living in the settlement municipality"

INDICATORS: tuple[Indicator, ...] = (
    Indicator("retention_7y", f"{STILL_HOME} after 7 years (cohorts 2010-2016)",
              "retention 7 y", PERSONS, "share"),
    Indicator("retention_5y_cohorts_2013_2015", f"{STILL_HOME} after 5 years (cohorts "
              "2013-2015)", "retention 5 y 13-15", PERSONS, "share"),
    Indicator("retention_5y_cohort_2010", f"{STILL_HOME} after 5 years (cohort 2010)",
              "retention 5 y 2010", PERSONS, "share"),
    Indicator("retention_3y", f"{STILL_HOME} after 3 years", "retention 3 y", PERSONS,
              "share"),
    Indicator("retention_7y_all_cohorts", f"{STILL_HOME} after 7 years (all cohorts)",
              "retention 7 y all", PERSONS, "share"),
    Indicator("retention_5y", f"{STILL_HOME} after 5 years", "retention 5 y", PERSONS,
              "share"),
    Indicator("moved_in_settlement_year", "moved away already in the settlement year",
              "moved in year 1", PERSONS, "share"),
    Indicator("moved_by_end_of_year_2", "moved away by the end of the second year, by cohort",
              "moved by year 2", PERSONS, "share", keys=_moved_by_year_2,
              words=lambda key, r: (f"moved away by the end of the second year (cohort {key})",
                                    f"moved by year 2 ({key})")),
    Indicator("retention_5y_by_cohort", f"{STILL_HOME} after 5 years, by cohort",
              "retention 5 y", PERSONS, "share", keys=_cohort_keys(5),
              words=lambda key, r: (f"{STILL_HOME} after 5 years (cohort {key})",
                                    f"retention 5 y {key}")),
    Indicator("retention_7y_by_cohort", f"{STILL_HOME} after 7 years, by cohort",
              "retention 7 y", PERSONS, "share", keys=_cohort_keys(7),
              words=lambda key, r: (f"{STILL_HOME} after 7 years (cohort {key})",
                                    f"retention 7 y {key}")),
    Indicator("retention_7y_counting_emigrants", f"{STILL_HOME} after 7 years (cohorts "
              "2010-2016), emigrants counted as having left", "retention 7 y (emigrants out)",
              "share of persons settled (not dead)", "share"),
    Indicator("no_break_after_year_5", "leaving hazard in year 6 over that in year 5 (1 = no "
              "break after the fifth year)", "hazard 6 / hazard 5", "ratio of yearly hazards",
              "ratio"),
    Indicator("retention_5y_by_household_type_2005", f"{STILL_HOME} after 5 years, by "
              "household type", "retention 5 y", PERSONS, "share", keys=_household_type_keys,
              words=lambda key, r: (f"{STILL_HOME} after 5 years ({key.replace('_', ' ')})",
                                    f"retention 5 y {key}"[:24])),
    Indicator("destination_split_of_movers", "where persons leaving the settlement "
              "municipality go", "destinations", "share of movers", "share",
              keys=_fixed(DESTINATIONS), words=lambda key, r: _DESTINATION_WORDS[key]),
    Indicator("municipalities_by_out_share", "municipalities by the share of those they "
              "settled 2010-2016 who left", "munis by out share", "municipalities", "count",
              keys=_fixed(tuple(OUT_SHARE_CUTS)), words=lambda key, r: _OUT_SHARE_WORDS[key]),
    Indicator("municipalities_by_out_share_counting_emigrants", "municipalities by the share of "
              "those they settled 2010-2016 who left, emigrants counted as having left",
              "munis by out share (emigrants out)", "municipalities", "count",
              keys=_fixed(tuple(OUT_SHARE_CUTS)),
              words=lambda key, r: tuple(w + (", emigrants counted as having left" if i == 0
                                              else " (emig. out)")
                                         for i, w in enumerate(_OUT_SHARE_WORDS[key]))),
    Indicator("income_change_of_movers", "income one year after moving against before",
              "movers' income", "share of movers", "share", keys=_fixed(INCOME_CHANGES),
              words=lambda key, r: _INCOME_WORDS[key]),
    Indicator("settled_persons_2010_2023_still_in_norway", "persons settled 2010-2023 still "
              "living in Norway, at the end", "settled, in Norway", "persons", "count"),
    Indicator("moves_per_year", "persons moving between municipalities per year",
              "moves per year", "persons a year", "count"),
    Indicator("leaving_hazard_by_year", "yearly leaving hazard by year since settlement",
              "leaving hazard", "share of persons a year", "share",
              keys=lambda start, end: [str(k) for k in hazard_years(start, end)],
              words=_hazard_words),
    Indicator("grant_years_in_settlement_municipality", "integration-grant years (first five) "
              "spent in the settlement municipality", "grant years at home", "share of "
              "person-years", "share"),
    Indicator("needs_met_share", "households with education or health needs living where "
              "they are met", "needs met", "share of households", "share",
              "higher_is_better"),
    Indicator("matching_predicted_retention_gain", "predicted gain in retention from "
              "placement by matching, at its horizon, as predicted at placement (cohorts with "
              "five years in the run; NaN without matching)", "predicted gain",
              "share of persons", "share", "higher_is_better"),
    Indicator("group_concentration", "concentration of country groups", "group concentration",
              "municipalities", "count", keys=lambda start, end: group_keys(),
              words=_group_words),
    # --- the regional pattern (analysis/regional.py)
    Indicator("out_5y_by_settlement_county", "no longer in the settlement municipality after "
              "5 years, by county of settlement (cohorts 2013-2016)", "out 5 y by county",
              PERSONS, "share", keys=_out_5y_keys, words=_out_5y_words),
    Indicator("retention_5y_weakest_counties", f"{STILL_HOME} after 5 years in the five "
              "weakest pre-2020 counties (cohorts 2010-2014)", "retention 5 y weakest",
              PERSONS, "share"),
    Indicator("net_change_by_county", "net change of persons settled in each pre-2020 county "
              "five years on (cohorts 2010-2014)", "net change by county",
              "percent of those settled", "ratio", keys=_net_change_keys,
              words=_net_change_words),
    Indicator("regional_pattern", "agreement of the counties' net change with the register's",
              "regional pattern", "share of counties", "share", keys=_regional_pattern_keys,
              words=lambda key, r: _PATTERN_WORDS[key]),
    # --- where people are settled (analysis/settlement_pattern.py)
    Indicator("settled_share_under_5000", "share of persons settled in municipalities under "
              "5,000 inhabitants (the whole window)", "settled under 5,000", PERSONS, "share"),
    Indicator("settling_municipalities_per_year", "municipalities settling refugees, mean per "
              "year", "settling munis / year", "municipalities", "count"),
    Indicator("employment_rate_movers", "employment among movers (settled 5+ years before the "
              "end)", "employment movers", PERSONS, "share", "higher_is_better"),
    Indicator("income_movers", "income of movers (settled 5+ years before the end)",
              "income movers", "G per household", "amount", "higher_is_better"),
    Indicator("employment_rate_stayers", "employment among stayers (settled 5+ years before "
              "the end)", "employment stayers", PERSONS, "share", "higher_is_better"),
    Indicator("income_stayers", "income of stayers (settled 5+ years before the end)",
              "income stayers", "G per household", "amount", "higher_is_better"),
    Indicator("hoover_index", "Hoover index against the population (0 = spread like the "
              "population), at the end", "Hoover index", "index from 0 to 1", "index"),
    Indicator("share_centrality_1_2", "share living in the most central municipalities "
              "(classes 1-2), at the end", "share central 1-2", PERSONS, "share"),
    Indicator("population_share_centrality_1_2", "share of the population in centrality "
              "classes 1-2", "population 1-2", "share of inhabitants", "share"),
    Indicator("share_centrality_5_6", "share living in the least central municipalities "
              "(classes 5-6), at the end", "share central 5-6", PERSONS, "share"),
    Indicator("population_share_centrality_5_6", "share of the population in centrality "
              "classes 5-6", "population 5-6", "share of inhabitants", "share"),
    Indicator("share_in_10_largest", "share living in the 10 largest municipalities, at the "
              "end", "share in 10 largest", PERSONS, "share"),
    Indicator("population_share_in_10_largest", "share of the population in the 10 largest "
              "municipalities", "population 10 largest", "share of inhabitants", "share"),
    # --- employment (work helper, issue 13) ---
    Indicator("employment_rate_by_duration", "employment rate of adults by years since "
              "settlement", "employment by year", "share of adults", "share",
              "higher_is_better",
              keys=lambda start, end: [str(k) for k in employment_years(start, end)],
              words=lambda key, r: (f"employment rate of adults {key} year"
                                    f"{'' if key == '1' else 's'} after settlement",
                                    f"employed year {key}")),
    Indicator("employment_rate_by_sex", f"employment rate of adults {EMPLOYMENT_SEX_YEAR} "
              "years after settlement, by sex", "employment by sex", "share of adults",
              "share", "higher_is_better", keys=_fixed(("men", "women")),
              words=lambda key, r: (f"employment rate of {key} {EMPLOYMENT_SEX_YEAR} years "
                                    "after settlement",
                                    f"employed {key} {EMPLOYMENT_SEX_YEAR} y")),
    Indicator("employment_rate_2018", "employment rate of adults of working age settled in the "
              "run, 4th quarter 2018", "employment 2018", "share of adults", "share",
              "higher_is_better"),
    Indicator("resettled_refugees_employed_after_7_years", "employment rate of adults 7 years "
              "after settlement (cohorts 2010-2016)", "employed after 7 y", "share of adults",
              "share", "higher_is_better"),
    Indicator("ukrainians_employed_by_duration_2024", "employment rate of Ukrainian adults, "
              "end of 2023 (NAV: end of March 2024)", "Ukrainians employed", "share of adults",
              "share", "higher_is_better", keys=_fixed(UKRAINIAN_KEYS),
              words=lambda key, r: (("employment rate of Ukrainian adults (all), end of 2023",
                                     "Ukrainians employed") if key == "all_working_age" else
                                    ("employment rate of Ukrainian adults settled in 2022, end "
                                     "of 2023", "Ukrainians 2 y"))),
    Indicator("refugee_employment_by_municipality", "employment across municipalities, end "
              f"of {MUNICIPAL_EMPLOYMENT_YEAR} (municipalities with {MIN_MUNICIPAL_ADULTS}+ "
              "adults)", "employment spread",
              "share of adults", "share", keys=_fixed(MUNICIPAL_EMPLOYMENT_KEYS),
              words=lambda key, r: (
                  ("standard deviation of the employment rate across municipalities",
                   "employment sd", "share", "share of adults") if key == "sd" else
                  ("change in the municipal employment rate per unit of labour-market strength",
                   "employment labour slope", "ratio", "share per unit"))),
)

BY_ID: dict[str, Indicator] = {i.id: i for i in INDICATORS}


@cache
def indicator_ids(start: int, end: int) -> tuple[str, ...]:
    """Every flat id a run over the calendar years start..end reports, in the order of
    ``runs.ensemble.flatten(simulation.indicators(res))``, without running it.

    >>> indicator_ids(2013, 2016)[:3]
    ('retention_7y', 'retention_5y_cohorts_2013_2015', 'retention_5y_cohort_2010')
    """
    return tuple(flat for ind in INDICATORS for flat in ind.flat_ids(start, end))


def indicator_keys(start: int, end: int) -> dict[str, list[str]]:
    """Indicator id -> its keys for a run over start..end ([] for a single number)."""
    return {ind.id: [] if ind.keys is None else ind.keys(start, end) for ind in INDICATORS}


def describe(flat_id: str, rights_years: float | None = None) -> Described:
    """The words, unit, kind and direction of one flat id (``hoover_index``,
    ``destination_split_of_movers.oslo``). ``rights_years``: the scenario's rights window,
    which the leaving hazards' labels name (None or 0: neutral words).

    >>> describe("destination_split_of_movers.oslo").kind
    'share'
    """
    head, _, key = flat_id.partition(".")
    if head not in BY_ID:
        raise KeyError(f"unknown indicator {flat_id!r}")
    return BY_ID[head].describe(key, rights_years)


def label(flat_id: str, rights_years: float | None = None) -> str:
    """The words of a flat id (the id itself for an id this registry does not know)."""
    head = flat_id.partition(".")[0]
    return describe(flat_id, rights_years).label if head in BY_ID else flat_id


# --- the selections that reports show (ids only: words and kinds come from above) -----------

def headline_ids(rights_years: float | None = None) -> tuple[str, ...]:
    """The run report's headline rows. The timing rows follow the rights window: with R years,
    the yearly leaving hazard in year R (the last of the window) and R + 1 (the first after);
    without one (R = 0, or scenarios with different windows side by side), years 5 and 6."""
    r = int(rights_years or 0)
    timing = (r, r + 1) if r else (5, 6)
    return (
        "retention_3y", "retention_5y", "retention_7y", "moved_in_settlement_year",
        *(f"destination_split_of_movers.{k}" for k in DESTINATIONS),
        *(f"municipalities_by_out_share.{k}" for k in OUT_SHARE_CUTS),
        "income_change_of_movers.higher", "income_change_of_movers.lower",
        "hoover_index", "share_in_10_largest", "share_centrality_5_6", "moves_per_year",
        *(f"leaving_hazard_by_year.{k}" for k in timing),
        "grant_years_in_settlement_municipality", "needs_met_share",
        "employment_rate_movers", "employment_rate_stayers",
        f"group_concentration.{group_keys()[-1]}",
        "settled_persons_2010_2023_still_in_norway",
    )


#: the comparison brief's sentence per scenario
BRIEF_IDS = ("retention_5y", "moves_per_year", "municipalities_by_out_share.at_least_80pct",
             "share_in_10_largest", "hoover_index")
#: the terminal's table of paired differences after `secmig compare`
TERMINAL_COMPARE_IDS = ("retention_5y", "retention_7y", "moves_per_year",
                        "municipalities_by_out_share.at_least_80pct", "share_in_10_largest",
                        "hoover_index")
#: indicators without a register figure that the terminal's run table adds
TERMINAL_CONTEXT_IDS = ("hoover_index", "share_in_10_largest", "share_centrality_5_6",
                        "moves_per_year")
#: the policy notes' tables (docs/make_policy.py)
POLICY_IDS = ("retention_3y", "retention_5y", "retention_7y_all_cohorts", "moves_per_year",
              "leaving_hazard_by_year.5", "leaving_hazard_by_year.6", "hoover_index",
              "share_centrality_1_2", "share_centrality_5_6", "share_in_10_largest",
              f"group_concentration.{group_keys()[-1]}",
              *(f"municipalities_by_out_share.{k}" for k in OUT_SHARE_CUTS),
              "grant_years_in_settlement_municipality", "employment_rate_movers",
              "employment_rate_stayers", "income_movers", "income_stayers", "needs_met_share",
              "resettled_refugees_employed_after_7_years")

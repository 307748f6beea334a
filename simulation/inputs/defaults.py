"""Run inputs that are not behavioural parameters: window, volumes, composition, geography.

Defaults come from the register figures vendored in ``data/register_targets.yaml`` (a copy of
the project's shared calibration file). Figures that are estimates rather than published
values are marked ``ESTIMATE`` where they are set, with the reasoning.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import dataclass, field, replace
from functools import lru_cache
from importlib.resources import files
from typing import Any

import numpy as np

from simulation.inputs.categories import COUNTRY_GROUPS
from simulation.inputs.geography import Geography
from simulation.inputs.geography_csv import load_geography
from simulation.inputs.settlement_history import MunicipalHistory, municipal_history, observed
from simulation.inputs.yamlsource import safe_load

REGISTER_FILE = files("simulation") / "data" / "register_targets.yaml"
# the second register file (regions, employment, settlement shares, evidence), a copy of the
# project's shared calibration/register_targets_more.yaml
REGISTER_MORE_FILE = files("simulation") / "data" / "register_targets_more.yaml"

# Persons-settled categories of IMDi's reports, and the shares used to turn them into
# household types (see settlement.make_cohort).
CATEGORIES = ("single_adults", "unaccompanied_minors", "families_with_children",
              "families_without_children")

# 2024 counties formed from the pre-2020 counties of the 2008 stock (small boundary moves,
# e.g. Jevnaker and Lunner, are ignored).
COUNTY_2008_TO_2024 = {
    "Oslo": "Oslo", "Akershus": "Akershus", "Rogaland": "Rogaland", "Østfold": "Østfold",
    "Hordaland": "Vestland", "Sogn og Fjordane": "Vestland", "Buskerud": "Buskerud",
    "Vest-Agder": "Agder", "Aust-Agder": "Agder", "Vestfold": "Vestfold",
    "Sør-Trøndelag": "Trøndelag", "Nord-Trøndelag": "Trøndelag", "Telemark": "Telemark",
    "Oppland": "Innlandet", "Hedmark": "Innlandet", "Nordland": "Nordland",
    "Møre og Romsdal": "Møre og Romsdal", "Troms": "Troms", "Finnmark": "Finnmark",
}

# ESTIMATE: country groups among people with refugee background living in Norway in 2008
# (before the window: many Somalis, Iraqis, Iranians, Bosnians, Vietnamese -> "other").
BACKGROUND_GROUP_SHARES = {"syria": 0.01, "eritrea": 0.03, "somalia": 0.15,
                           "afghanistan": 0.07, "ukraine": 0.0, "other": 0.74}


@lru_cache(maxsize=1)
def register() -> dict[str, Any]:
    """The vendored register figures (targets and inputs), loaded safely once."""
    return safe_load(REGISTER_FILE.read_text(encoding="utf-8"))


@lru_cache(maxsize=1)
def register_more() -> dict[str, Any]:
    """The vendored second register file (regional and employment figures), loaded safely."""
    return safe_load(REGISTER_MORE_FILE.read_text(encoding="utf-8"))


@dataclass(frozen=True)
class Composition:
    """Who arrives in a year: shares of persons by category, plus splits within categories."""

    category_shares: dict[str, float]  # over CATEGORIES, sums to 1
    lone_parent_share: float  # of persons in families with children, share in lone-parent ones
    single_male_share: float  # of single adults, men
    country_shares: dict[str, float]  # over COUNTRY_GROUPS, sums to 1
    estimated: bool


@dataclass(frozen=True)
class MatchingPolicy:
    """Placement by matching (``settlement.allocation.method: matching``, docs/placement.md):
    each year's households by agreement are re-assigned to the baseline allocation's
    municipalities so as to maximise a predicted outcome, within capacities and constraints.

    ``objective`` weighs the two predicted outcomes per household: ``retention`` (persons
    still in the municipality after ``horizon`` years) and ``employment`` (adults employed
    after ``horizon`` years); all weights zero keeps the baseline assignment."""

    objective: Mapping[str, float] = field(default_factory=lambda: {"retention": 1.0})
    horizon: int = 5  # years after settlement the outcomes are predicted for
    slack: float = 0.0  # capacity = the baseline allocation's persons x (1 + slack)
    # each municipality takes at least this share of its baseline persons (balance)
    minimum_fill: float = 0.0
    upper_secondary_for_youth: bool = False  # households with youth: a school within reach
    hospital_for_health_needs: bool = False  # households with health needs: a hospital
    max_group_share: float | None = None  # of one country group in a municipality's capacity
    group_share_floor: int = 10  # persons of one group always allowed (small intakes)
    # municipality code -> persons a year it has agreed to take at least (scale 1)
    minimum_intake: Mapping[str, float] | None = None

    def weight(self, outcome: str) -> float:
        return float(self.objective.get(outcome, 0.0))


@dataclass(frozen=True)
class AllocationPolicy:
    """Which municipalities may settle refugees, or fixed quotas (scenario levers of 4.1)."""

    exclude_below_population: int = 0
    exclude_centrality: tuple[int, ...] = ()
    quotas: Mapping[str, float] | None = None  # municipality code -> weight (share of volume)
    # only the municipalities that settle every year (the low-volume set), whatever the volume
    continuity_only: bool = False
    # place IMDi's observed persons in the years that have them (False: the allocation model
    # in every year, e.g. to validate it)
    observed: bool = True
    # re-assign each year's households by matching (None: the baseline allocation as is)
    matching: MatchingPolicy | None = None


@dataclass(frozen=True)
class Inputs:
    """Everything a run needs besides parameters and a seed."""

    start: int
    end: int
    volumes: dict[int, float]  # persons settled by agreement, per year
    composition: dict[int, Composition]
    geography: Geography
    background_stock: np.ndarray  # (n_groups, n_municipalities) persons before the window
    allocation: AllocationPolicy = field(default_factory=AllocationPolicy)
    scale: float = 1.0  # 0.1 = a tenth of the people (volumes and background stock)
    # IMDi's persons settled by agreement per municipality (scale 1), for the window's years
    # that have them, aligned with ``geography`` (empty for a geography whose codes differ)
    observed_settled: Mapping[int, np.ndarray] = field(default_factory=dict)
    settlement_history: MunicipalHistory | None = None  # each municipality's, if codes match

    @property
    def years(self) -> range:
        return range(self.start, self.end + 1)

    def scaled(self, scale: float) -> Inputs:
        """The same inputs with volumes and background stock multiplied by ``scale``."""
        scale = check_scale(scale)
        return replace(self, scale=self.scale * scale,
                       volumes={y: v * scale for y, v in self.volumes.items()},
                       background_stock=self.background_stock * scale)


MAX_SCALE = 10.0


def check_scale(scale: object) -> float:
    """``scale`` as a float if it is a finite number > 0 and <= MAX_SCALE; else TypeError
    (not a number) or ValueError (out of range), saying what is allowed."""
    allowed = f"allowed: a number greater than 0 and at most {MAX_SCALE:g}"
    if isinstance(scale, bool) or not isinstance(scale, (int, float, np.integer, np.floating)):
        raise TypeError(f"scale: got {scale!r}; {allowed}")
    value = float(scale)
    if not math.isfinite(value) or not 0 < value <= MAX_SCALE:
        raise ValueError(f"scale: got {scale!r}; {allowed}")
    return value


def default_volumes() -> dict[int, float]:
    """Persons settled by agreement per year: IMDi's per-municipality counts summed where the
    settlement file has them (2012-2015, 2022-2024; suppressed cells imputed, see
    settlement_history), else the register file's figure (some years estimates).

    The observed totals replace the register file's rounded figures: 2012 5,800 -> 5,757,
    2013 6,560 -> 6,511, 2014 7,770 -> 7,719, 2015 11,342 -> 11,268 (without 74 of unknown
    municipality), 2022 31,500 -> 31,084, 2023 33,000 -> 33,603 (the lower bound 33,420
    already exceeds the old estimate), 2024 23,000 -> 21,663 (a partial year, to 13 Nov)."""
    volumes = {int(y): float(v)
               for y, v in register()["inputs"]["settled_per_year"]["value"].items()}
    hist = observed()
    return {**volumes, **{y: float(hist.national(y)) for y in hist.years}}


def _category_shares(year: int) -> tuple[dict[str, float], bool]:
    table = register()["inputs"]["household_composition_of_settled"]
    read = {int(k): v for k, v in table.items() if str(k).isdigit()}
    if year in read:
        row = read[year]
        total = sum(row[c] for c in CATEGORIES)
        return {c: row[c] / total for c in CATEGORIES}, False
    if year >= 2022:
        # ESTIMATE: Ukrainian arrivals (2022 cohort: 10.6k men, 18.4k women, 10k under 18):
        # more families with children, mostly mothers alone with them, few minors alone.
        return {"single_adults": 0.35, "unaccompanied_minors": 0.02,
                "families_with_children": 0.55, "families_without_children": 0.08}, True
    # ESTIMATE: other years use the mean person shares of the four read years 2015-2018.
    shares = {c: float(np.mean([_category_shares(y)[0][c] for y in read])) for c in CATEGORIES}
    return shares, True


def _country_shares(year: int) -> tuple[dict[str, float], bool]:
    cb = register()["inputs"]["country_background"]
    base = cb["settled_2010_2019"]
    named = {g: base[g] / base["total"] for g in ("syria", "eritrea", "somalia", "afghanistan")}
    pre_2022 = {**named, "ukraine": 0.0, "other": 1.0 - sum(named.values())}
    if year < 2022:
        # ESTIMATE: the 2010-2019 mix applied to every year before 2022.
        return pre_2022, True
    if year == 2022:
        # the read 2022 cohort of Ukrainians over the year's volume (IMDi's observed total)
        ukraine = min(cb["ukraine_2022_cohort"]["total"] / default_volumes()[2022], 1.0)
    else:  # 2023 read; ESTIMATE: later years like 2023
        ukraine = cb["settled_2023"]["ukraine"] / cb["settled_2023"]["total"]
    rest = {g: s * (1.0 - ukraine) for g, s in pre_2022.items() if g != "ukraine"}
    return {**rest, "ukraine": ukraine}, year != 2023


def default_composition(year: int) -> Composition:
    """Arrivals' composition in ``year``: read where the register has it, else estimated."""
    categories, est_c = _category_shares(year)
    countries, est_g = _country_shares(year)
    ukraine_era = year >= 2022
    return Composition(
        category_shares=categories,
        # ESTIMATE: lone parents hold ~25 % of persons in families with children (55 % in the
        # Ukrainian years); ~70 % of single adults are men (45 % among Ukrainians).
        lone_parent_share=0.55 if ukraine_era else 0.25,
        single_male_share=0.45 if ukraine_era else 0.70,
        country_shares={g: float(countries.get(g, 0.0)) for g in COUNTRY_GROUPS},
        estimated=est_c or est_g,
    )


def background_stock(geography: Geography) -> np.ndarray:
    """People with refugee background before the window, by group and municipality.

    SSB's 1 Jan 2008 county figures, mapped to 2024 counties, spread within each county in
    proportion to population, and split by group with BACKGROUND_GROUP_SHARES (estimate).
    A user geography whose counties do not match gets the national total spread by population.
    """
    by_county: dict[str, float] = {}
    for old, persons in register()["inputs"]["refugee_background_stock_by_county_2008"][
            "value"].items():
        new = COUNTY_2008_TO_2024[old]
        by_county[new] = by_county.get(new, 0.0) + float(persons)
    pop = geography.population.astype(float)
    counties = geography.table["county"].to_numpy()
    per_muni = np.zeros(geography.n)
    known = np.isin(counties, list(by_county))
    for county, persons in by_county.items():
        mask = counties == county
        if mask.any():
            per_muni[mask] = persons * pop[mask] / pop[mask].sum()
    missing = sum(v for c, v in by_county.items() if not (counties == c).any())
    if missing or not known.all():
        per_muni[~known] = 0.0
        per_muni += missing * pop / pop.sum() if missing else 0.0
    shares = np.array([BACKGROUND_GROUP_SHARES[g] for g in COUNTRY_GROUPS])
    return shares[:, None] * per_muni[None, :]


def default_inputs(start: int = 2010, end: int = 2023, *, geography: Geography | None = None,
                   scale: float = 1.0,
                   allocation: AllocationPolicy | None = None) -> Inputs:
    """The built-in 2010-2023 baseline inputs (or another window inside the register years)."""
    scale = check_scale(scale)
    for label, year in (("start", start), ("end", end)):
        if isinstance(year, bool) or not isinstance(year, (int, np.integer)):
            raise TypeError(f"default_inputs: {label}: got {year!r}; allowed: a whole "
                            "number (a year)")
    if geography is not None and not isinstance(geography, Geography):
        raise TypeError(f"default_inputs: geography: got {type(geography).__name__}; "
                        "allowed: a Geography (see simulation.inputs.geography.load_geography)")
    if allocation is not None and not isinstance(allocation, AllocationPolicy):
        raise TypeError(f"default_inputs: allocation: got {type(allocation).__name__}; "
                        "allowed: an AllocationPolicy")
    volumes = default_volumes()
    if end < start:
        raise ValueError(f"end year {end} is before start year {start}")
    missing = [y for y in range(start, end + 1) if y not in volumes]
    if missing:
        raise ValueError(f"no built-in settlement volume for years {missing}; "
                         f"built-in years are {min(volumes)}-{max(volumes)}")
    return build_inputs(start, end, volumes, geography or load_geography(),
                        allocation=allocation, scale=scale)


def _settlement_data(geography: Geography, years: range, allocation: AllocationPolicy
                     ) -> dict[str, Any]:
    """Observed settlement for the window's years with data and the municipalities' history,
    when ``geography``'s codes are the file's (else none: the allocation model alone, with
    its size fallback)."""
    hist = observed()
    history = municipal_history(geography, history=hist)
    if not history.known.any():
        return {"observed_settled": {}, "settlement_history": None}
    found = {y: hist.aligned(geography, y) for y in years} if allocation.observed else {}
    return {"observed_settled": {y: v for y, v in found.items() if v is not None},
            "settlement_history": history}


#: the last year with the register's arrivals' composition: later years are like it
LAST_COMPOSITION_YEAR = 2024


def build_inputs(start: int, end: int, volumes: Mapping[int, float], geography: Geography, *,
                 allocation: AllocationPolicy | None = None,
                 composition_like: int | None = None,
                 background: np.ndarray | None = None, scale: float = 1.0) -> Inputs:
    """The one way to assemble :class:`Inputs` (the built-in defaults, scenario files and the
    teaching app's toy country all come through here), from checked values.

    Args:
        start, end: the simulated years, inclusive.
        volumes: persons settled per year; the window's years are taken.
        geography: the municipalities.
        allocation: who may settle (default: every municipality, by size).
        composition_like: use this year's arrivals' composition for every year (default:
            each year's own, years after ``LAST_COMPOSITION_YEAR`` like that year).
        background: persons with refugee background before the window, by country group and
            municipality (default: the register's 2008 stock spread over ``geography``).
        scale: the share of people simulated (volumes and background stock).

    Example::

        from simulation.inputs.defaults import build_inputs
        from simulation.inputs.geography_csv import load_geography

        inputs = build_inputs(2025, 2030, {y: 10_000.0 for y in range(2025, 2031)},
                              load_geography(), composition_like=2019)
    """
    years = range(start, end + 1)
    inputs = Inputs(
        start=start, end=end,
        volumes={y: float(volumes[y]) for y in years},
        composition={y: default_composition(composition_like or min(y, LAST_COMPOSITION_YEAR))
                     for y in years},
        geography=geography,
        background_stock=background_stock(geography) if background is None else background,
        allocation=allocation or AllocationPolicy(),
        **_settlement_data(geography, years, allocation or AllocationPolicy()),
    )
    return inputs.scaled(scale) if scale != 1.0 else inputs

"""Terms several stages share: the logistic link, the programme and rights status, the local
co-ethnic network, unmet needs, the employment log-odds and the placement of a tie.

Stages import these from here and never from each other, so each stage module reads on its
own and a rule written here is written once. The constants are also what the per-household
reference model (reference.py) uses, so the two cannot drift apart.
"""

from __future__ import annotations

import math

import numpy as np

from simulation.engine import kernels
from simulation.engine.households import FAMILY_TYPES
from simulation.engine.randomness import counter_normals_at
from simulation.engine.world import World
from simulation.inputs.categories import COUNTRY_GROUPS
from simulation.inputs.parameters import Params

# Co-ethnic presence counts fully for belonging from about 1,000 persons.
NETWORK_SATURATION = math.log1p(1000.0)
# A tie points where the household's group lives, with this little weight on population so
# that a group without a network can still have ties.
TIE_POPULATION_WEIGHT = 0.0005
# Reference levels of the move decision's size term (log population relative to 10,000) and
# centrality term (classes relative to 3.5).
REFERENCE_POPULATION = 10_000
REFERENCE_CENTRALITY = 3.5
# Years since settlement count for finding work up to this many.
EMPLOYMENT_DURATION_CAP = 6
# ASSUMPTION: people within about 50 km are within reach (a day's visit, a commute): the
# distance scale of the network-in-reach term and of a tie's pull (weight 1 - exp(-km / 50)).
REACH_KM = 50.0
# Centrality classes counted as rural for emigration after settlement (SSB classes 5-6), and
# the first years after settlement in which that extra emigration applies (CMI: "usually soon
# after arrival"; the three years are an ASSUMPTION).
RURAL_CENTRALITY = 5
EARLY_EMIGRATION_YEARS = 3
# The country group whose job finding starts slower (NAV, Arbeid og velferd 2/2024).
UKRAINE = COUNTRY_GROUPS.index("ukraine")
# ESTIMATE: share of refugee lone parents who are mothers (most lone parents in Norway are
# mothers; among Ukrainian arrivals men of 18-60 could rarely leave).
LONE_PARENT_FEMALE_SHARE = 0.9


def logistic(x: np.ndarray) -> np.ndarray:
    """Probability from log-odds."""
    return 1.0 / (1.0 + np.exp(-x))


#: participants under this age get two thirds of the introduction stipend (the law)
STIPEND_FULL_AGE = 25


def stipend_per_adult(params: Params, age: np.ndarray) -> np.ndarray:
    """The introduction stipend of a participant of ``age``, in G a year: ``stipend_level``,
    two thirds under 25 (the household's income in the programme, and the municipality's
    cost in the ledger)."""
    return params.stipend_level * np.where(age < STIPEND_FULL_AGE, 2 / 3, 1.0)


def household_incomes(world: World, params: Params, year: int, rows: np.ndarray
                      ) -> np.ndarray:
    """This year's household income (G) of ``rows``, from the state between the life course
    and the moves (life_course.household_income, whose noise draw ``world.income_noise``
    holds): income is an outcome no rule reads, so it is worked out only where it is
    recorded (movers, a move's year after, the run's last year), not for every row every
    year: its normal cost about a tenth of the engine's time."""
    if world.income_noise is None:
        raise RuntimeError("household_incomes: no income noise drawn this year (the life "
                           "course sets world.income_noise)")
    hh = world.households
    rows = np.asarray(rows, dtype=np.int64)
    noise = counter_normals_at(*world.income_noise, rows)
    np.multiply(noise, params.income_noise, out=noise)
    np.exp(noise, out=noise)
    local_wage = params.wage_level * (1 + params.wage_labour_effect
                                      * (world.geography.labour_market - 0.5))
    out = np.empty(len(rows))
    kernels.household_incomes(
        rows, hh.alive, hh.cohort, hh.age0, hh.municipality, hh.settlement, hh.htype,
        hh.programme_lost, hh.employed_a, hh.employed_b, hh.productivity, local_wage, noise,
        year, np.array([params.programme_years, params.stipend_level, params.benefit_level],
                       dtype=np.float64), out)
    return out


def in_programme(world: World, params: Params, year: int) -> np.ndarray:
    """Households in the introduction programme: first years, adult head, never moved away."""
    hh = world.households
    age = hh.age(year)
    return (hh.alive & (hh.years_since(year) < params.programme_years) & (age >= 18)
            & (age <= 55) & ~hh.programme_lost & (hh.municipality == hh.settlement))


def holds_rights(world: World, params: Params, year: int) -> np.ndarray:
    """Inside the rights window and not yet lost by an earlier move without agreement."""
    hh = world.households
    return (hh.years_since(year) < params.rights_years) & ~hh.rights_lost


def unmet_needs(world: World) -> np.ndarray:
    """Households with an education or health need their municipality cannot meet."""
    hh = world.households
    geo = world.geography
    m = hh.municipality
    return ((hh.need_school & ~geo.upper_secondary[m]) | (hh.need_higher & ~geo.higher_education[m])
            | (hh.need_health & ~geo.hospital[m]))


def co_ethnics(world: World) -> np.ndarray:
    """Co-ethnic persons (the current stock) where each household lives."""
    hh = world.households
    return world.stock[hh.group, hh.municipality]


def local_network(world: World, here: np.ndarray | None = None) -> np.ndarray:
    """log(1 + co-ethnic persons) where each household lives (the current stock); ``here``:
    :func:`co_ethnics` if the caller has it already."""
    return np.log1p(co_ethnics(world) if here is None else here)


def network_share(world: World, here: np.ndarray | None = None) -> np.ndarray:
    """Percent of the municipality's population from the household's own group (the network's
    share, beside its size); ``here``: :func:`co_ethnics` if the caller has it already."""
    hh = world.households
    pop = world.geography.population.astype(np.float64)
    here = co_ethnics(world) if here is None else here
    return 100.0 * here / pop[hh.municipality]


def reach_kernel(distance_km: np.ndarray) -> np.ndarray:
    """Weights exp(-km / REACH_KM) of every other municipality (0 on the diagonal): who is
    within reach, for the network-in-reach term."""
    kernel = np.exp(-np.asarray(distance_km, dtype=np.float64) / REACH_KM)
    np.fill_diagonal(kernel, 0.0)
    return kernel


def network_reach(world: World, kernel: np.ndarray) -> np.ndarray:
    """log(1 + co-ethnics in other municipalities within reach) where each household lives."""
    hh = world.households
    # (groups, municipalities): the kernel is symmetric, and multiplying by it as stored
    # (C order) is ~20x faster than by its transpose; log1p on the small table, then gather
    return np.log1p(world.stock @ kernel)[hh.group, hh.municipality]


def tie_pull(world: World) -> np.ndarray:
    """A tie elsewhere weighted by its distance, 1 - exp(-km / REACH_KM); 0 without one."""
    hh = world.households
    m = hh.municipality
    elsewhere = np.flatnonzero((hh.tie >= 0) & (hh.tie != m))
    pull = np.zeros(len(hh))  # computed only where there is a tie elsewhere
    km = world.geography.distance_km[m[elsewhere], hh.tie[elsewhere]]
    pull[elsewhere] = -np.expm1(-km / REACH_KM)
    return pull


def employment_logit(world: World, params: Params, year: int, municipality: np.ndarray,
                     programme: np.ndarray, female: np.ndarray,
                     rows: np.ndarray | slice = slice(None)) -> np.ndarray:
    """Log-odds of finding work this year for one adult of each household ``rows``, living in
    ``municipality``, a woman where ``female`` (MODEL.md 4.2): rises with years since
    settlement (up to EMPLOYMENT_DURATION_CAP), the local labour market and belonging; lower in
    the programme, for women, for mothers and for Ukrainians."""
    hh = world.households
    years = np.minimum(year - hh.cohort[rows].astype(np.int32), EMPLOYMENT_DURATION_CAP)
    htype = hh.htype[rows]
    mother = female & ((htype == FAMILY_TYPES[0]) | (htype == FAMILY_TYPES[1]))
    return (params.employment_intercept + params.employment_duration_effect * years
            + params.employment_labour_effect * world.geography.labour_market[municipality]
            + params.employment_belonging_effect * hh.belonging[rows]
            + params.employment_programme_effect * programme
            + params.employment_female_effect * female
            + params.employment_mother_effect * mother
            + params.employment_ukraine_effect * (hh.group[rows] == UKRAINE))


def draw_ties(world: World, who: np.ndarray, u: np.ndarray) -> None:
    """Give households ``who`` a tie to a municipality drawn by their group's network, from
    one uniform each (``u``, aligned with ``who``)."""
    if len(who) == 0:
        return
    hh = world.households
    weights = world.stock + TIE_POPULATION_WEIGHT * world.geography.population[None, :]
    cdf = np.cumsum(weights, axis=1)
    cdf /= cdf[:, -1:]
    groups = hh.group[who].astype(np.int64)
    n = world.geography.n
    flat = (cdf + np.arange(len(cdf))[:, None]).ravel()
    pos = np.searchsorted(flat, groups + u, side="right") - groups * n
    hh.tie[who] = np.minimum(pos, n - 1)

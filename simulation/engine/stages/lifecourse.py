"""Stage 2, life course (MODEL.md 4.2-4.4): programme, work, income, needs, belonging, ties,
and the municipalities' integration quality. All households at once.
"""

from __future__ import annotations

import numpy as np

from simulation.engine.households import FAMILY_TYPES, SINGLE_MAN, SINGLE_WOMAN
from simulation.engine.stages.settlement import draw_ties
from simulation.engine.world import World, size_score
from simulation.inputs.parameters import Params

NETWORK_SATURATION = np.log1p(1000.0)  # co-ethnic presence counts fully from ~1,000 persons


def logistic(x: np.ndarray) -> np.ndarray:
    """Probability from log-odds."""
    return 1.0 / (1.0 + np.exp(-x))


def in_programme(world: World, params: Params, year: int) -> np.ndarray:
    """Households in the introduction programme: first years, adult head, never moved away."""
    hh = world.households
    age = hh.age(year)
    return (hh.alive & (hh.years_since(year) < params.programme_years) & (age >= 18)
            & (age <= 55) & ~hh.programme_lost & (hh.municipality == hh.settlement))


def unmet_needs(world: World) -> np.ndarray:
    """Households with an education or health need their municipality cannot meet."""
    hh = world.households
    geo = world.geography
    m = hh.municipality
    return ((hh.need_school & ~geo.upper_secondary[m]) | (hh.need_higher & ~geo.higher_education[m])
            | (hh.need_health & ~geo.hospital[m]))


def local_network(world: World, stock: np.ndarray) -> np.ndarray:
    """log(1 + co-ethnic persons) where each household lives."""
    hh = world.households
    return np.log1p(stock[hh.group, hh.municipality])


def employment_logit(world: World, params: Params, year: int, municipality: np.ndarray,
                     programme: np.ndarray, rows: np.ndarray | slice = slice(None)) -> np.ndarray:
    """Log-odds of finding work this year for households ``rows`` living in ``municipality``."""
    hh = world.households
    years = np.minimum(hh.years_since(year)[rows], 6)
    return (params.employment_intercept + params.employment_duration_effect * years
            + params.employment_labour_effect * world.geography.labour_market[municipality]
            + params.employment_belonging_effect * hh.belonging[rows]
            + params.employment_programme_effect * programme)


def household_income(world: World, params: Params, year: int, programme: np.ndarray,
                     noise: np.ndarray) -> np.ndarray:
    """Income this year in G: wages, introduction stipend or social benefits, per adult."""
    hh = world.households
    labour = world.geography.labour_market[hh.municipality]
    wage = params.wage_level * (1 + params.wage_labour_effect * (labour - 0.5)) * hh.productivity
    stipend = params.stipend_level * np.where(hh.age(year) < 25, 2 / 3, 1.0)
    per_adult = np.where(hh.employed, wage, np.where(programme, stipend, params.benefit_level))
    return hh.adults * per_adult * np.exp(params.income_noise * noise)


def life_course(world: World, params: Params, year: int, rng: np.random.Generator) -> None:
    """Stage 2 for all households alive in Norway."""
    hh = world.households
    n = len(hh)
    u = rng.random((7, n))
    noise = rng.standard_normal(n)
    alive = hh.alive
    programme = in_programme(world, params, year)

    # work: entry for the non-employed, a small exit hazard for the employed
    p_find = logistic(employment_logit(world, params, year, hh.municipality, programme))
    finds = alive & ~hh.employed & (u[0] < p_find)
    loses = alive & hh.employed & (u[0] < params.employment_exit_rate)
    hh.employed = (hh.employed | finds) & ~loses

    hh.income = np.where(alive, household_income(world, params, year, programme, noise), 0.0)
    pending = np.flatnonzero(alive & (hh.pending_event >= 0))
    world.events.set_income_after(hh.pending_event[pending], hh.income[pending])
    hh.pending_event[hh.pending_event >= 0] = -1

    # needs: youth reaching upper-secondary age, young adults wanting to study; needs end
    years = hh.years_since(year)
    age = hh.age(year)
    family = np.isin(hh.htype, FAMILY_TYPES)
    hh.need_school |= alive & family & (u[1] < params.school_need_onset)
    young = (age >= 19) & (age <= 30) & (years >= params.programme_years)
    hh.need_higher |= alive & young & ~programme & (u[2] < params.higher_education_onset)
    ends = u[3] < params.need_end_rate
    hh.need_school &= ~ends
    hh.need_higher &= ~(u[4] < params.need_end_rate)

    # belonging grows towards 1 with quality, network, work and met needs (MODEL.md 4.3)
    stock = world.stock()
    m = hh.municipality
    network = np.minimum(local_network(world, stock) / NETWORK_SATURATION, 1.0)
    weights = np.array([params.belonging_quality_weight, params.belonging_network_weight,
                        params.belonging_employment_weight, params.belonging_needs_weight])
    drivers = (weights[0] * world.quality[m] + weights[1] * network + weights[2] * hh.employed
               + weights[3] * ~unmet_needs(world)) / max(weights.sum(), 1e-12)
    growth = params.belonging_rate * drivers
    hh.belonging = np.where(alive, hh.belonging + growth * (1.0 - hh.belonging), hh.belonging)

    # integration quality builds with continuous settlement and decays without (MODEL.md 4.4)
    q = world.quality
    build = params.quality_growth * (0.5 + 0.5 * size_score(world.geography))
    world.quality = np.where(world.settling_now, q + build * (1.0 - q),
                             q * (1.0 - params.quality_decay))

    # singles may form a tie elsewhere (partner, friends)
    single = (hh.htype == SINGLE_MAN) | (hh.htype == SINGLE_WOMAN)
    no_tie_elsewhere = (hh.tie < 0) | (hh.tie == hh.municipality)
    new_tie = np.flatnonzero(alive & single & no_tie_elsewhere & (u[5] < params.tie_onset_rate))
    draw_ties(world, new_tie, u[6][new_tie])

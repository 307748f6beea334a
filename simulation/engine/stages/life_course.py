"""Stage 2, life course (MODEL.md 4.2-4.4): programme, work, income, needs, belonging, ties,
and the municipalities' integration quality. All households at once.
"""

from __future__ import annotations

import numpy as np

from simulation.engine.households import FAMILY_TYPES, SINGLE_MAN, SINGLE_WOMAN
from simulation.engine.randomness import Draws
from simulation.engine.runparams import RunParams
from simulation.engine.terms import (
    NETWORK_SATURATION,
    draw_ties,
    employment_logit,
    in_programme,
    local_network,
    logistic,
    unmet_needs,
)
from simulation.engine.world import World, size_score
from simulation.inputs.parameters import Params


def household_income(world: World, params: Params, year: int, programme: np.ndarray,
                     noise: np.ndarray) -> np.ndarray:
    """Income this year in G, summed over the adults: a wage per employed adult, else the
    introduction stipend in the programme, else social benefits."""
    hh = world.households
    # the wage level where each household lives (the same products as computing it per
    # household: a table per municipality, then one gather)
    local_wage = params.wage_level * (1 + params.wage_labour_effect
                                      * (world.geography.labour_market - 0.5))
    wage = local_wage[hh.municipality] * hh.productivity
    stipend = params.stipend_level * np.where(hh.age(year) < 25, 2 / 3, 1.0)
    not_working = np.where(programme, stipend, params.benefit_level)
    income_a = np.where(hh.employed_a, wage, not_working)
    income_b = np.where(hh.has_b, np.where(hh.employed_b, wage, not_working), 0.0)
    return (income_a + income_b) * np.exp(params.income_noise * noise)


def update_work(world: World, params: Params, year: int, programme: np.ndarray,
                u_a: np.ndarray, u_b: np.ndarray) -> None:
    """Each adult (slots a and b) finds or loses work; one uniform per adult (the two
    outcomes concern disjoint adults). Children do not work."""
    hh = world.households
    alive = hh.alive
    m = hh.municipality
    for employed, female, u, present in ((hh.employed_a, hh.female_a, u_a, alive),
                                         (hh.employed_b, hh.female_b, u_b, alive & hh.has_b)):
        # the chance of finding work matters only to adults without it: computed for them
        seeking = np.flatnonzero(present & ~employed)
        p_find = logistic(employment_logit(world, params, year, m[seeking], programme[seeking],
                                           female[seeking], seeking))
        finds = np.zeros(len(hh), dtype=bool)
        finds[seeking] = u[seeking] < p_find
        loses = present & employed & (u < params.employment_exit_rate)
        employed |= finds
        employed &= ~loses
    hh.sync_employed()


def life_course(world: World, params: RunParams, year: int, rng: Draws) -> None:
    """Stage 2 for all households alive in Norway."""
    hh = world.households
    n = len(hh)
    alive = hh.alive
    programme = in_programme(world, params, year)

    update_work(world, params, year, programme, rng.uniform("work", n),
                rng.uniform("work_b", n))

    noise = rng.normal("income_noise", n)
    hh.income = np.where(alive, household_income(world, params, year, programme, noise), 0.0)
    pending = np.flatnonzero(alive & (hh.pending_event >= 0))
    world.events.set_income_after(hh.pending_event[pending], hh.income[pending])
    hh.pending_event[hh.pending_event >= 0] = -1

    # needs: youth reaching upper-secondary age, young adults wanting to study; needs end
    years = hh.years_since(year)
    age = hh.age(year)
    family = np.isin(hh.htype, FAMILY_TYPES)
    hh.need_school |= alive & family & (rng.uniform("school_need_onset", n)
                                        < params.school_need_onset)
    young = (age >= 19) & (age <= 30) & (years >= params.programme_years)
    hh.need_higher |= alive & young & ~programme & (rng.uniform("higher_education_onset", n)
                                                    < params.higher_education_onset)
    hh.need_school &= ~(rng.uniform("school_need_ends", n) < params.need_end_rate)
    hh.need_higher &= ~(rng.uniform("higher_education_ends", n) < params.need_end_rate)

    # belonging grows towards 1 with quality, network, work and met needs (MODEL.md 4.3)
    m = hh.municipality
    network = np.minimum(local_network(world) / NETWORK_SATURATION, 1.0)
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
    onset = rng.uniform("tie_onset", n) < params.tie_onset_rate
    new_tie = np.flatnonzero(alive & single & no_tie_elsewhere & onset)
    draw_ties(world, new_tie, rng.uniform("tie_place", n)[new_tie])

"""Stage 2, life course (MODEL.md 4.2-4.4): programme, work, income, needs, belonging, ties,
and the municipalities' integration quality. All households at once.
"""

from __future__ import annotations

import numpy as np

from simulation.engine import kernels
from simulation.engine.randomness import Draws
from simulation.engine.runparams import RunParams
from simulation.engine.terms import (
    EMPLOYMENT_DURATION_CAP,
    NETWORK_SATURATION,
    UKRAINE,
    draw_ties,
    employment_logit,
    household_incomes,
    logistic,
    stipend_per_adult,
)
from simulation.engine.world import World, size_score
from simulation.inputs.parameters import Params


def household_income(world: World, params: Params, year: int, programme: np.ndarray,
                     noise: np.ndarray) -> np.ndarray:
    """Income this year in G, summed over the adults: a wage per employed adult, else the
    introduction stipend in the programme, else social benefits.

    The engine computes it for the rows where it is recorded (``terms.household_incomes``,
    ``kernels.household_incomes``); this is its specification for every row,
    compared bit for bit in tests/test_kernels.py."""
    hh = world.households
    # the wage level where each household lives (the same products as computing it per
    # household: a table per municipality, then one gather)
    local_wage = params.wage_level * (1 + params.wage_labour_effect
                                      * (world.geography.labour_market - 0.5))
    wage = local_wage[hh.municipality] * hh.productivity
    stipend = stipend_per_adult(params, hh.age(year))
    not_working = np.where(programme, stipend, params.benefit_level)
    income_a = np.where(hh.employed_a, wage, not_working)
    income_b = np.where(hh.has_b, np.where(hh.employed_b, wage, not_working), 0.0)
    return (income_a + income_b) * np.exp(params.income_noise * noise)


def update_work(world: World, params: Params, year: int, programme: np.ndarray,
                u_a: np.ndarray, u_b: np.ndarray) -> None:
    """Each adult (slots a and b) finds or loses work; one uniform per adult (the two
    outcomes concern disjoint adults). Children do not work.

    The engine runs ``kernels.employment_logits`` and ``kernels.life_course_rest``; this is
    their specification, compared bit for bit in tests/test_kernels.py."""
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
    """Stage 2 for all households alive in Norway.

    The per-household arithmetic (:func:`update_work`, needs,
    belonging, the tie onset) runs in two compiled loops (kernels.py, bit-identical to the
    numpy it replaces; work and income checked in tests/test_kernels.py); the exps and
    ``log1p`` stay in numpy."""
    hh = world.households
    n = len(hh)
    geo = world.geography
    alive = hh.alive
    programme = np.empty(n, dtype=bool)
    neg_a = np.empty(n)
    neg_b = np.empty(n)
    kernels.employment_logits(
        alive, hh.cohort, hh.age0, hh.municipality, hh.settlement, hh.htype, hh.group,
        hh.programme_lost, hh.employed_a, hh.employed_b, hh.female_a, hh.female_b,
        hh.belonging, geo.labour_market, year,
        np.array([params.programme_years, params.employment_intercept,
                  params.employment_duration_effect, params.employment_labour_effect,
                  params.employment_belonging_effect, params.employment_programme_effect,
                  params.employment_female_effect, params.employment_mother_effect,
                  params.employment_ukraine_effect, EMPLOYMENT_DURATION_CAP],
                 dtype=np.float64),
        UKRAINE, programme, neg_a, neg_b)
    np.exp(neg_a, out=neg_a)
    np.exp(neg_b, out=neg_b)
    weights = np.array([params.belonging_quality_weight, params.belonging_network_weight,
                        params.belonging_employment_weight, params.belonging_needs_weight])
    new_tie = np.empty(n, dtype=bool)
    kernels.life_course_rest(
        alive, hh.cohort, hh.age0, hh.municipality, hh.htype, hh.group, programme,
        hh.employed, hh.employed_a, hh.employed_b, neg_a, neg_b, hh.need_school,
        hh.need_higher, hh.need_health, hh.belonging,
        np.minimum(np.log1p(world.stock) / NETWORK_SATURATION, 1.0),
        world.quality, geo.upper_secondary, geo.higher_education, geo.hospital, hh.tie,
        np.array([rng.counter(name) for name in kernels.LIFE_COURSE_DRAWS], dtype=np.uint64),
        year,
        np.array([params.employment_exit_rate, params.school_need_onset,
                  params.higher_education_onset, params.programme_years, params.need_end_rate,
                  weights[0], weights[1], weights[2], weights[3], max(weights.sum(), 1e-12),
                  params.belonging_rate, params.tie_onset_rate], dtype=np.float64),
        new_tie)
    # income, an outcome no rule reads: worked out where it is recorded (terms.household_
    # incomes), from this year's noise: a year after a move (for the move's event), for this
    # year's movers (stages/moves.py) and, in the run's last year, for every row (the
    # households table)
    world.income_noise = rng.counter("income_noise")
    pending = np.flatnonzero(alive & (hh.pending_event >= 0))
    world.events.set_income_after(hh.pending_event[pending],
                                  household_incomes(world, params, year, pending))
    hh.pending_event[hh.pending_event >= 0] = -1
    if year >= params.inputs.end:
        hh.income = household_incomes(world, params, year, np.arange(n))

    # integration quality builds with continuous settlement and decays without (MODEL.md 4.4)
    q = world.quality
    build = params.quality_growth * (0.5 + 0.5 * size_score(world.geography))
    world.quality = np.where(world.settling_now, q + build * (1.0 - q),
                             q * (1.0 - params.quality_decay))

    # singles may form a tie elsewhere (partner, friends)
    new = np.flatnonzero(new_tie)
    draw_ties(world, new, rng.uniform_at("tie_place", new))

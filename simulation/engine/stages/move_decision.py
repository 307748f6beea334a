"""Stage 4: the move decision (MODEL.md 4.5, with the rights rule of 4.7).

Two channels share one uniform draw per household: a *job move* (taking work elsewhere) and a
*general move* (network, services, belonging, ties). The rights rule lowers both for
benefit-dependent households inside the window, except job moves when the job-move exemption
holds. The decision writes ``world.plans`` (who moves, job move or not, rights held); the
destination stage fills in each mover's destination; stages/moves.py carries the plans out.
"""

from __future__ import annotations

import numpy as np

from simulation.engine.randomness import Draws
from simulation.engine.runparams import RunParams
from simulation.engine.terms import (
    REFERENCE_CENTRALITY,
    REFERENCE_POPULATION,
    holds_rights,
    in_programme,
    local_network,
    logistic,
    unmet_needs,
)
from simulation.engine.world import MovePlans, World
from simulation.inputs.parameters import Params


def type_effects(params: Params) -> np.ndarray:
    """Log-odds shift of a general move by household type (single man = 0)."""
    return np.array([0.0, params.move_single_woman_effect, params.move_couple_effect,
                     params.move_family_effect, params.move_lone_parent_effect])


def move_logits(world: World, params: Params, year: int, programme: np.ndarray
                ) -> tuple[np.ndarray, np.ndarray]:
    """Log-odds of a general move and of a job move, for every household."""
    hh = world.households
    geo = world.geography
    m = hh.municipality
    years = hh.years_since(year)
    dependent_with_rights = holds_rights(world, params, year) & ~hh.employed
    tie_elsewhere = (hh.tie >= 0) & (hh.tie != m)
    after_programme = np.maximum(years - params.programme_years, 0)
    first_year = params.move_first_year_effect * (years == 0)
    general = (
        params.move_intercept + type_effects(params)[hh.htype]
        + params.move_age_effect * (hh.age(year) - 30)
        + first_year
        + params.move_programme_effect * programme
        + params.move_duration_effect * after_programme
        + params.move_employed_effect * hh.employed
        + params.move_belonging_effect * hh.belonging
        + params.move_network_effect * local_network(world)
        + params.move_size_effect * (np.log(geo.population[m]) - np.log(REFERENCE_POPULATION))
        + params.move_centrality_effect * (geo.centrality[m] - REFERENCE_CENTRALITY)
        + params.move_unmet_need_effect * unmet_needs(world)
        + params.move_tie_effect * tie_elsewhere
        - params.rights_cost * dependent_with_rights
    )
    # a job move keeps rights under the exemption, and under the self-sufficiency condition
    # (the household is employed after it)
    exempt_job = params.job_move_exemption or params.rights_self_sufficiency
    job_cost = 0.0 if exempt_job else params.rights_cost
    job = (
        params.job_move_intercept
        + params.job_move_labour_effect * geo.labour_market[m]
        + params.job_move_employed_effect * hh.employed
        + first_year
        + params.move_programme_effect * programme
        - job_cost * dependent_with_rights
    )
    return general, job


def decide_moves(world: World, params: RunParams, year: int, rng: Draws) -> None:
    """Stage 4: who moves this year, from one uniform per household row (below p_job a job
    move, up to p_job + (1 - p_job) * p_general a general move); sets ``world.plans``."""
    hh = world.households
    programme = in_programme(world, params, year)
    general, job = move_logits(world, params, year, programme)
    p_job = logistic(job)
    p_any = p_job + (1.0 - p_job) * logistic(general)
    u = rng.uniform("move", len(hh))
    alive = hh.alive
    is_job = alive & (u < p_job)
    moves = alive & (u < p_any)
    movers = np.flatnonzero(moves)
    world.plans = MovePlans(movers=movers, job=is_job[movers],
                            holds_rights=holds_rights(world, params, year)[movers])

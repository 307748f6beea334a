"""The log-odds of a move (MODEL.md 4.5, with the rights rule of 4.7), as numpy: the
specification that ``kernels.move_logits`` compiles (compared bit for bit in
tests/test_kernels.py), and what the placement prediction (engine/matching/predict.py)
evaluates for households not yet placed. The move decision stage draws from them.
"""

from __future__ import annotations

import numpy as np

from simulation.engine.runparams import RunParams
from simulation.engine.terms import (
    co_ethnics,
    local_network,
    network_reach,
    network_share,
    tie_pull,
    unmet_needs,
)
from simulation.engine.world import World
from simulation.inputs.parameters import Params


def type_effects(params: Params) -> np.ndarray:
    """Log-odds shift of a general move by household type (single man = 0)."""
    return np.array([0.0, params.move_single_woman_effect, params.move_couple_effect,
                     params.move_family_effect, params.move_lone_parent_effect])


def move_logits(world: World, params: RunParams, year: int, programme: np.ndarray
                ) -> tuple[np.ndarray, np.ndarray]:
    """Log-odds of a general move and of a job move for every household, before the rights
    rule (see :func:`rights_costs`).

    The engine runs ``kernels.move_logits``; this is its specification, compared bit for bit
    in tests/test_kernels.py."""
    hh = world.households
    m = hh.municipality
    years = hh.years_since(year)
    after_programme = np.maximum(years - params.programme_years, 0)
    first_year = params.move_first_year_effect * (years == 0)
    here = co_ethnics(world)
    general = (
        params.move_intercept + type_effects(params)[hh.htype]
        + params.move_age_effect * (hh.age(year) - 30)
        + first_year
        + params.move_programme_effect * programme
        + params.move_duration_effect * after_programme
        + params.move_employed_effect * hh.employed
        + params.move_belonging_effect * hh.belonging
        + params.move_network_effect * local_network(world, here)
        + params.move_network_share_effect * network_share(world, here)
        + params.move_network_reach_effect * network_reach(world, params.reach)
        + params.place_move_logit[m]
        + params.move_unmet_need_effect * unmet_needs(world)
        + params.move_tie_effect * tie_pull(world)
    )
    job = (
        params.job_move_intercept
        + params.job_move_labour_effect * world.geography.labour_market[m]
        + params.job_move_employed_effect * hh.employed
        + first_year
        + params.move_programme_effect * programme
    )
    return general, job


def rights_costs(world: World, params: Params, rights: np.ndarray
                 ) -> tuple[np.ndarray, np.ndarray]:
    """What the rights rule takes off the log-odds of a general and of a job move: the cost
    for benefit-dependent households still holding their rights (``rights``, from
    ``terms.holds_rights``); job moves are free of it under the job-move exemption and under
    the self-sufficiency condition (employed after).

    Specification of the costs in ``kernels.move_logits``, compared bit for bit in
    tests/test_kernels.py."""
    constrained = rights & ~world.households.employed
    general = params.rights_cost * constrained
    exempt_job = params.job_move_exemption or params.rights_self_sufficiency
    return general, (0.0 if exempt_job else 1.0) * general

"""Stage 4: the move decision (MODEL.md 4.5, with the rights rule of 4.7).

Two channels share one uniform draw per household: a *job move* (taking work elsewhere) and a
*general move* (network, services, belonging, ties, region). The rights rule lowers both for
benefit-dependent households inside the window (they would lose the programme, the stipend or
discretionary social assistance), except job moves when the job-move exemption holds.

A move the rule holds back is either abandoned or delayed (``rights_delay_share``): a delayed
move is carried out in the first year the household can move without losing rights (the
window has ended, the rights are gone, or it has work). Danish evidence says such moves were
mostly delayed; the Norwegian register shows no marked break after year 5; the calibration
weighs the two.

The decision writes ``world.plans`` (who moves, job move or not, rights held, delayed or not);
the destination stage fills in each mover's destination; stages/moves.py carries them out.
"""

from __future__ import annotations

import numpy as np

from simulation.engine import kernels
from simulation.engine.move_odds import type_effects
from simulation.engine.randomness import Draws
from simulation.engine.runparams import RunParams
from simulation.engine.world import MovePlans, World


def decide_moves(world: World, params: RunParams, year: int, rng: Draws) -> None:
    """Stage 4: who moves this year, from one uniform per household row (below p_job a job
    move, up to p_job + (1 - p_job) * p_general a general move); a household the rule held
    back (its uniform falls between the probabilities with and without the rule) keeps a
    delayed move with probability ``rights_delay_share``; sets ``world.plans``.

    The arithmetic runs in two compiled loops (kernels.py, bit-identical to
    :func:`~simulation.engine.move_odds.move_logits` and
    :func:`~simulation.engine.move_odds.rights_costs`, checked in tests/test_kernels.py, and to
    the numpy draw they replaced); the exps stay in numpy."""
    hh = world.households
    n = len(hh)
    geo = world.geography
    exempt_job = params.job_move_exemption or params.rights_self_sufficiency
    coef = np.array([
        params.programme_years, params.rights_years, params.rights_cost, params.move_intercept,
        params.move_age_effect, params.move_first_year_effect, params.move_programme_effect,
        params.move_duration_effect, params.move_employed_effect, params.move_belonging_effect,
        params.move_network_effect, params.move_network_share_effect,
        params.move_network_reach_effect, params.move_unmet_need_effect, params.move_tie_effect,
        params.job_move_intercept, params.job_move_labour_effect,
        params.job_move_employed_effect], dtype=np.float64)
    stock = world.stock
    neg_job = np.empty(n)
    neg_general = np.empty(n)
    job_free = np.empty(n)
    general_free = np.empty(n)
    constrained = np.empty(n, dtype=bool)
    rights = np.empty(n, dtype=bool)
    seen = world.tie_pull_seen
    if len(seen[0]) < n:  # rows settled since: nothing seen yet (no municipality is -1)
        grow = n - len(seen[0])
        seen = world.tie_pull_seen = (
            np.concatenate([seen[0], np.full(grow, -1, dtype=np.int16)]),
            np.concatenate([seen[1], np.full(grow, -1, dtype=np.int16)]),
            np.concatenate([seen[2], np.zeros(grow)]))
    kernels.move_logits(
        hh.alive, hh.cohort, hh.age0, hh.municipality, hh.settlement, hh.htype, hh.group,
        hh.employed, hh.belonging, hh.programme_lost, hh.rights_lost, hh.need_school,
        hh.need_higher, hh.need_health, hh.tie, year, coef, type_effects(params),
        # network_share per (group, municipality): the same quotient as per household
        np.log1p(stock), 100.0 * stock / geo.population.astype(np.float64),
        np.log1p(stock @ params.reach), params.place_move_logit, geo.labour_market,
        geo.upper_secondary, geo.higher_education, geo.hospital, params.tie_pull,
        *seen,
        0.0 if exempt_job else 1.0, neg_job, neg_general, job_free, general_free,
        constrained, rights)
    hit = np.flatnonzero(constrained)
    exp_job_free = np.exp(-job_free[hit])
    exp_general_free = np.exp(-general_free[hit])
    np.exp(neg_job, out=neg_job)
    np.exp(neg_general, out=neg_general)
    moves = np.empty(n, dtype=bool)
    is_job = np.empty(n, dtype=bool)
    released = np.empty(n, dtype=bool)
    kernels.move_choices(hh.alive, neg_job, neg_general, hit, exp_job_free, exp_general_free,
                         *rng.counter("move"), *rng.counter("delay"),
                         float(params.rights_delay_share), constrained,
                         hh.delayed_move, moves, is_job, released)
    movers = np.flatnonzero(moves)
    world.plans = MovePlans(movers=movers, job=is_job[movers],
                            holds_rights=rights[movers],
                            delayed=released[movers])

"""Stage 6, apply moves: location, rights, programme, belonging, work and network stocks,
and the move events (with income before; income after is filled a year later).
"""

from __future__ import annotations

import numpy as np

from simulation.engine.randomness import Draws
from simulation.engine.runparams import RunParams
from simulation.engine.terms import employment_logit, household_incomes, logistic
from simulation.engine.world import World


def apply_moves(world: World, params: RunParams, year: int, rng: Draws) -> None:
    """Carry out ``world.plans`` (then clear them); work at the destination from one uniform
    per household row and adult slot."""
    plans = world.plans
    if plans is None or plans.destination is None:
        raise RuntimeError("apply_moves runs after decide_moves and choose_destinations")
    hh = world.households
    rows = plans.movers
    destination = plans.destination
    n = world.geography.n
    u_a = rng.uniform_at("work_after_move", rows)
    u_b = rng.uniform_at("work_after_move_b", rows)
    origin = hh.municipality[rows].copy()
    employed_before = hh.employed[rows].copy()
    income_before = household_incomes(world, params, year, rows)  # before anything changes

    # work at the destination, per adult: a job move brings work to the first adult (slot a);
    # otherwise an employed adult keeps (or moves with) work, the others may find work there
    no_programme = np.zeros(len(rows), dtype=bool)
    for employed, female, u, job in ((hh.employed_a, hh.female_a, u_a, plans.job),
                                     (hh.employed_b, hh.female_b, u_b, False)):
        before = employed[rows]
        p_find = logistic(employment_logit(world, params, year, destination, no_programme,
                                           female[rows], rows))
        employed[rows] = job | np.where(before, u < params.move_keep_job, u < p_find)
    hh.sync_employed()
    employed_after = hh.employed[rows]

    exempt = plans.job & bool(params.job_move_exemption)
    if params.rights_self_sufficiency:
        exempt |= employed_after
    hh.rights_lost[rows] |= plans.holds_rights & ~exempt
    hh.programme_lost[rows] = True
    hh.belonging[rows] *= 1.0 - params.belonging_reset
    world.relocate(rows, destination)
    hh.moves[rows] += 1

    ids = world.events.add({
        "year": np.full(len(rows), year), "household": rows, "cohort": hh.cohort[rows],
        "origin": origin, "destination": destination, "persons": hh.size[rows],
        "job_move": plans.job, "years_since_settlement": year - hh.cohort[rows],
        "from_settlement": origin == hh.settlement[rows],
        "employed_before": employed_before, "employed_after": employed_after,
        "health_need": hh.need_health[rows],
        "income_before": income_before,
        "delayed": (plans.delayed if plans.delayed is not None
                    else np.zeros(len(rows), dtype=bool)),
    })
    hh.pending_event[rows] = ids
    persons = hh.size[rows].astype(float)
    world.moves_out = np.bincount(origin, weights=persons, minlength=n)
    world.moves_in = np.bincount(destination, weights=persons, minlength=n)
    world.plans = None

"""Compiled per-household loops (numba) that fuse what used to be many whole-array numpy passes.

Why: after the first speed round the engine's time was ~300 memory-bound numpy passes a year
over the household columns, with no single hotspot left; one loop that reads each household's
columns once does the same arithmetic without the temporaries.

Results stay bit-identical to the numpy version because

* every sum and product is written in the same order as the numpy expression it replaces
  (numba does not reassociate or contract to fused multiply-adds without ``fastmath``);
* transcendental functions (``exp``, ``log1p``, ``expm1``) are NOT evaluated here: numpy's
  SIMD versions differ from libm's in the last bit for a few percent of arguments, so the
  callers evaluate them with numpy (on the same values, or on a small table that is then
  gathered) and pass the results in;
* random numbers are drawn by numpy's generators exactly as before and passed in.

``cache=True`` keeps the compiled machine code in ``__pycache__`` so that only the first run
on a machine pays the compilation.
"""

from __future__ import annotations

import numpy as np
from numba import njit

# NOTE: the arithmetic below mirrors terms.py / stages/*.py expression by expression; a change
# there must be made here too (benchmarks/hash_results.py and the tests compare the two routes
# only through results, so keep the orders of operations identical).


@njit(cache=True, nogil=True)
def move_logits(alive: np.ndarray, cohort: np.ndarray, age0: np.ndarray,
                municipality: np.ndarray, settlement: np.ndarray, htype: np.ndarray,
                group: np.ndarray, employed: np.ndarray, belonging: np.ndarray,
                programme_lost: np.ndarray, rights_lost: np.ndarray, need_school: np.ndarray,
                need_higher: np.ndarray, need_health: np.ndarray, tie: np.ndarray,
                year: int, coef: np.ndarray, type_effect: np.ndarray,
                log_stock: np.ndarray, stock: np.ndarray, population: np.ndarray,
                reach: np.ndarray, place: np.ndarray, labour: np.ndarray,
                upper_secondary: np.ndarray, higher_education: np.ndarray,
                hospital: np.ndarray, tie_pull: np.ndarray, job_cost_factor: float,
                neg_job: np.ndarray, neg_general: np.ndarray, job_free: np.ndarray,
                general_free: np.ndarray, constrained: np.ndarray, rights: np.ndarray
                ) -> None:
    """Stage 4's log-odds for the rows alive (move_decision.move_logits and rights_costs):
    writes -(job - cost) and -(general - cost) (for numpy's exp), the rule-free log-odds,
    whether the rule costs the row anything, and rights held. ``coef`` holds the
    coefficients in the order unpacked below."""
    (programme_years, rights_years, rights_cost, intercept, age_effect, first_year_effect,
     programme_effect, duration_effect, employed_effect, belonging_effect, network_effect,
     share_effect, reach_effect, unmet_effect, tie_effect, job_intercept, job_labour_effect,
     job_employed_effect) = (coef[0], coef[1], coef[2], coef[3], coef[4], coef[5], coef[6],
                             coef[7], coef[8], coef[9], coef[10], coef[11], coef[12],
                             coef[13], coef[14], coef[15], coef[16], coef[17])
    for i in range(len(alive)):
        if not alive[i]:
            neg_job[i] = 0.0
            neg_general[i] = 0.0
            constrained[i] = False
            rights[i] = False
            continue
        m = municipality[i]
        g = group[i]
        years = year - np.int32(cohort[i])
        age = np.int32(age0[i]) + years
        programme = ((years < programme_years) & (age >= 18) & (age <= 55)
                     & (not programme_lost[i]) & (m == settlement[i]))
        after_programme = max(years - programme_years, 0.0)
        first_year = first_year_effect * (1.0 if years == 0 else 0.0)
        here = stock[g, m]
        unmet = ((need_school[i] and not upper_secondary[m])
                 or (need_higher[i] and not higher_education[m])
                 or (need_health[i] and not hospital[m]))
        t = tie[i]
        pull = tie_pull[m, t] if (t >= 0 and t != m) else 0.0
        emp = 1.0 if employed[i] else 0.0
        prog = 1.0 if programme else 0.0
        general = (intercept + type_effect[htype[i]]
                   + age_effect * np.float64(age - 30)
                   + first_year
                   + programme_effect * prog
                   + duration_effect * after_programme
                   + employed_effect * emp
                   + belonging_effect * belonging[i]
                   + network_effect * log_stock[g, m]
                   + share_effect * (100.0 * here / population[m])
                   + reach_effect * reach[g, m]
                   + place[m]
                   + unmet_effect * (1.0 if unmet else 0.0)
                   + tie_effect * pull)
        job = (job_intercept
               + job_labour_effect * labour[m]
               + job_employed_effect * emp
               + first_year
               + programme_effect * prog)
        holds = (years < rights_years) and not rights_lost[i]
        con = holds and not employed[i]
        cost_general = rights_cost * (1.0 if con else 0.0)
        cost_job = job_cost_factor * cost_general
        neg_job[i] = -(job - cost_job)
        neg_general[i] = -(general - cost_general)
        job_free[i] = job
        general_free[i] = general
        constrained[i] = (cost_general != 0.0) or (cost_job != 0.0)
        rights[i] = holds


@njit(cache=True, nogil=True)
def move_choices(alive: np.ndarray, exp_job: np.ndarray, exp_general: np.ndarray,
                 hit: np.ndarray, exp_job_free: np.ndarray, exp_general_free: np.ndarray,
                 u: np.ndarray, u_delay: np.ndarray, delay_share: float,
                 constrained_general: np.ndarray, delayed_move: np.ndarray,
                 moves: np.ndarray, is_job: np.ndarray, released: np.ndarray) -> None:
    """Stage 4's draw for the rows alive (move_decision.decide_moves): the probabilities
    1 / (1 + exp(-x)) from numpy's exp, a job move below p_job, a move below p_any; a move
    the rule held back is delayed below ``delay_share``; a delayed move is released where
    the rule costs nothing. ``hit`` (ascending rows) carries the rule-free exps."""
    k = 0
    n_hit = len(hit)
    for i in range(len(alive)):
        moves[i] = False
        is_job[i] = False
        released[i] = False
        if not alive[i]:
            continue
        p_job = 1.0 / (1.0 + exp_job[i])
        p_any = p_job + (1.0 - p_job) * (1.0 / (1.0 + exp_general[i]))
        p_free = p_any
        if k < n_hit and hit[k] == i:
            p_job_free = 1.0 / (1.0 + exp_job_free[k])
            p_free = p_job_free + (1.0 - p_job_free) * (1.0 / (1.0 + exp_general_free[k]))
            k += 1
        ui = u[i]
        is_job[i] = ui < p_job
        move = ui < p_any
        if (not move) and ui < p_free and u_delay[i] < delay_share:
            delayed_move[i] = True
        if delayed_move[i] and (not constrained_general[i]) and not move:
            released[i] = True
            move = True
        moves[i] = move
        if move:
            delayed_move[i] = False

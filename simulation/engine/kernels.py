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
* random numbers are drawn by the named streams (randomness.py) and passed in.

``cache=True`` keeps the compiled machine code in ``__pycache__`` so that only the first run
on a machine pays the compilation.
"""

from __future__ import annotations

import numpy as np
from numba import njit

from simulation.engine.randomness import uniform_at

# NOTE: the arithmetic below mirrors terms.py / stages/*.py expression by expression; a change
# there must be made here too, in the same order of operations. tests/test_kernels.py compares
# each kernel bit for bit with the numpy function it replaced (kept as its specification) on
# engine state mid-run; benchmarks/hash_results.py compares whole results.


@njit(cache=True, nogil=True, inline="always")
def in_programme(i: int, year: int, cohort: np.ndarray, age0: np.ndarray,
                 municipality: np.ndarray, settlement: np.ndarray,
                 programme_lost: np.ndarray, programme_years: float) -> bool:
    """Row ``i`` in the introduction programme (terms.in_programme, for a row alive): first
    years, adult head of 18-55, never moved away from the settlement municipality. The one
    compiled statement of it, which the kernels below share."""
    years = year - np.int32(cohort[i])
    age = np.int32(age0[i]) + years
    return ((years < programme_years) & (age >= 18) & (age <= 55)
            & (not programme_lost[i]) & (municipality[i] == settlement[i]))


@njit(cache=True, nogil=True, error_model="numpy")
def move_logits(alive: np.ndarray, cohort: np.ndarray, age0: np.ndarray,
                municipality: np.ndarray, settlement: np.ndarray, htype: np.ndarray,
                group: np.ndarray, employed: np.ndarray, belonging: np.ndarray,
                programme_lost: np.ndarray, rights_lost: np.ndarray, need_school: np.ndarray,
                need_higher: np.ndarray, need_health: np.ndarray, tie: np.ndarray,
                year: int, coef: np.ndarray, type_effect: np.ndarray,
                log_stock: np.ndarray, share: np.ndarray, reach: np.ndarray,
                place: np.ndarray, labour: np.ndarray,
                upper_secondary: np.ndarray, higher_education: np.ndarray,
                hospital: np.ndarray, tie_pull: np.ndarray, seen_municipality: np.ndarray,
                seen_tie: np.ndarray, seen_pull: np.ndarray, job_cost_factor: float,
                neg_job: np.ndarray, neg_general: np.ndarray, job_free: np.ndarray,
                general_free: np.ndarray, constrained: np.ndarray, rights: np.ndarray
                ) -> None:
    """Stage 4's log-odds for the rows alive (move_odds.move_logits and rights_costs):
    writes -(job - cost) and -(general - cost) (for numpy's exp), the rule-free log-odds,
    whether the rule costs the row anything, and rights held. ``coef`` holds the
    coefficients in the order unpacked below. A tie's pull is gathered from the
    (municipality x municipality) table only where the row's municipality or tie changed
    since the last call (``seen_*``, per row): random reads of that 1 MB table were a third
    of the loop's time."""
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
        programme = in_programme(i, year, cohort, age0, municipality, settlement,
                                 programme_lost, programme_years)
        after_programme = max(years - programme_years, 0.0)
        first_year = first_year_effect * (1.0 if years == 0 else 0.0)
        unmet = ((need_school[i] and not upper_secondary[m])
                 or (need_higher[i] and not higher_education[m])
                 or (need_health[i] and not hospital[m]))
        t = tie[i]
        if m != seen_municipality[i] or t != seen_tie[i]:
            seen_municipality[i] = m
            seen_tie[i] = t
            seen_pull[i] = tie_pull[m, t] if (t >= 0 and t != m) else 0.0
        pull = seen_pull[i]
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
                   + share_effect * share[g, m]
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
        hit = (cost_general != 0.0) or (cost_job != 0.0)
        constrained[i] = hit
        if hit:  # the rule-free log-odds are read only where the rule costs something
            job_free[i] = job
            general_free[i] = general
        rights[i] = holds


@njit(cache=True, nogil=True, error_model="numpy")
def move_choices(alive: np.ndarray, exp_job: np.ndarray, exp_general: np.ndarray,
                 hit: np.ndarray, exp_job_free: np.ndarray, exp_general_free: np.ndarray,
                 move_state: np.uint64, move_gamma: np.uint64, delay_state: np.uint64,
                 delay_gamma: np.uint64, delay_share: float,
                 constrained_general: np.ndarray, delayed_move: np.ndarray,
                 moves: np.ndarray, is_job: np.ndarray, released: np.ndarray) -> None:
    """Stage 4's draw for the rows alive (move_decision.decide_moves): the probabilities
    1 / (1 + exp(-x)) from numpy's exp, a job move below p_job, a move below p_any; a move
    the rule held back is delayed below ``delay_share``; a delayed move is released where
    the rule costs nothing. ``hit`` (ascending rows) carries the rule-free exps. The
    uniforms (draws "move" and "delay", given by (state, gamma)) are worked out per row, the
    delay's only where a held-back move asks for it."""
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
        ui = uniform_at(move_state, move_gamma, i)
        is_job[i] = ui < p_job
        move = ui < p_any
        if ((not move) and ui < p_free
                and uniform_at(delay_state, delay_gamma, i) < delay_share):
            delayed_move[i] = True
        if delayed_move[i] and (not constrained_general[i]) and not move:
            released[i] = True
            move = True
        moves[i] = move
        if move:
            delayed_move[i] = False


@njit(cache=True, nogil=True, error_model="numpy")
def employment_logits(alive: np.ndarray, cohort: np.ndarray, age0: np.ndarray,
                      municipality: np.ndarray, settlement: np.ndarray, htype: np.ndarray,
                      group: np.ndarray, programme_lost: np.ndarray, employed_a: np.ndarray,
                      employed_b: np.ndarray, female_a: np.ndarray, female_b: np.ndarray,
                      belonging: np.ndarray, labour: np.ndarray, year: int,
                      coef: np.ndarray, ukraine: int, programme: np.ndarray,
                      neg_a: np.ndarray, neg_b: np.ndarray) -> None:
    """Stage 2's first loop (terms.in_programme, terms.employment_logit): the programme for
    every row, and minus the log-odds of finding work for each adult without it (0 for the
    others), for numpy's exp."""
    (programme_years, intercept, duration_effect, labour_effect, belonging_effect,
     programme_effect, female_effect, mother_effect, ukraine_effect, duration_cap) = (
        coef[0], coef[1], coef[2], coef[3], coef[4], coef[5], coef[6], coef[7], coef[8],
        coef[9])
    for i in range(len(alive)):
        neg_a[i] = 0.0
        neg_b[i] = 0.0
        if not alive[i]:
            programme[i] = False
            continue
        m = municipality[i]
        years = year - np.int32(cohort[i])
        prog = in_programme(i, year, cohort, age0, municipality, settlement, programme_lost,
                            programme_years)
        programme[i] = prog
        t = htype[i]
        seek_a = not employed_a[i]
        seek_b = (t == 2 or t == 3) and not employed_b[i]  # couple, family: slot b
        if not (seek_a or seek_b):
            continue
        # the terms every adult of the household shares, in terms.employment_logit's order
        common = (intercept + duration_effect * np.float64(min(years, duration_cap))
                  + labour_effect * labour[m]
                  + belonging_effect * belonging[i]
                  + programme_effect * (1.0 if prog else 0.0))
        family = t == 3 or t == 4
        ukr = ukraine_effect * (1.0 if group[i] == ukraine else 0.0)
        if seek_a:
            fem = female_a[i]
            neg_a[i] = -(common + female_effect * (1.0 if fem else 0.0)
                         + mother_effect * (1.0 if (fem and family) else 0.0) + ukr)
        if seek_b:
            fem = female_b[i]
            neg_b[i] = -(common + female_effect * (1.0 if fem else 0.0)
                         + mother_effect * (1.0 if (fem and family) else 0.0) + ukr)


# the uniforms of kernels.life_course_rest, in the order of its ``draws`` rows
LIFE_COURSE_DRAWS = ("work", "work_b", "school_need_onset", "higher_education_onset",
                     "school_need_ends", "higher_education_ends", "tie_onset")


@njit(cache=True, nogil=True, error_model="numpy")
def life_course_rest(alive: np.ndarray, cohort: np.ndarray, age0: np.ndarray,
                     municipality: np.ndarray, htype: np.ndarray, group: np.ndarray,
                     programme: np.ndarray, employed: np.ndarray, employed_a: np.ndarray,
                     employed_b: np.ndarray, exp_a: np.ndarray, exp_b: np.ndarray,
                     need_school: np.ndarray, need_higher: np.ndarray,
                     need_health: np.ndarray, belonging: np.ndarray,
                     network_level: np.ndarray, quality: np.ndarray,
                     upper_secondary: np.ndarray, higher_education: np.ndarray,
                     hospital: np.ndarray, tie: np.ndarray, draws: np.ndarray,
                     year: int, coef: np.ndarray, new_tie: np.ndarray) -> None:
    """Stage 2's second loop (life_course.update_work, needs, belonging, the tie onset), in
    the order of the stage: work from 1 / (1 + exp(-logit)), needs, belonging; marks the
    singles who form a tie elsewhere in ``new_tie``. (Income is worked out where it is
    recorded: :func:`household_incomes`.) ``network_level``: min(log1p(stock) /
    NETWORK_SATURATION, 1) per (group, municipality), the same quotient as per household.
    ``draws``: the (state, gamma) rows of the stage's uniforms (:data:`LIFE_COURSE_DRAWS`, in
    that order), each row's number worked out here (randomness.uniform_at) rather than read
    from an array filled beforehand."""
    (exit_rate, school_onset, higher_onset, programme_years, end_rate, w_quality, w_network,
     w_employment, w_needs, weight_sum, belonging_rate, tie_onset_rate) = (
        coef[0], coef[1], coef[2], coef[3], coef[4], coef[5], coef[6], coef[7], coef[8],
        coef[9], coef[10], coef[11])
    s0, g0, s1, g1 = draws[0, 0], draws[0, 1], draws[1, 0], draws[1, 1]
    s2, g2, s3, g3 = draws[2, 0], draws[2, 1], draws[3, 0], draws[3, 1]
    s4, g4, s5, g5 = draws[4, 0], draws[4, 1], draws[5, 0], draws[5, 1]
    s6, g6 = draws[6, 0], draws[6, 1]
    # a uniform is worked out only where its outcome can change something (a row's number
    # does not depend on which others are drawn, so this is the same as reading a full array)
    for i in range(len(alive)):
        live = alive[i]
        t = htype[i]
        has_b = (t == 2) | (t == 3)
        # work: finds (without work) or loses (with work), one uniform per adult
        ea = employed_a[i]
        eb = employed_b[i] & has_b
        if live:
            ua = uniform_at(s0, g0, i)
            ea = (ua >= exit_rate) if ea else (ua < 1.0 / (1.0 + exp_a[i]))
            if has_b:
                ub = uniform_at(s1, g1, i)
                eb = (ub >= exit_rate) if eb else (ub < 1.0 / (1.0 + exp_b[i]))
        employed_a[i] = ea
        employed_b[i] = eb
        emp = ea | eb
        employed[i] = emp
        m = municipality[i]
        years = year - np.int32(cohort[i])
        age = np.int32(age0[i]) + years
        # needs: an onset where there is none, then an end where there is one
        ns = need_school[i]
        if (not ns) and live and ((t == 3) | (t == 4)):
            ns = uniform_at(s2, g2, i) < school_onset
        nh = need_higher[i]
        if ((not nh) and live and (age >= 19) & (age <= 30) & (years >= programme_years)
                and not programme[i]):
            nh = uniform_at(s3, g3, i) < higher_onset
        if ns:
            ns = not uniform_at(s4, g4, i) < end_rate
        if nh:
            nh = not uniform_at(s5, g5, i) < end_rate
        need_school[i] = ns
        need_higher[i] = nh
        if not live:
            new_tie[i] = False
            continue
        # belonging
        network = network_level[group[i], m]
        unmet = ((ns & (not upper_secondary[m])) | (nh & (not higher_education[m]))
                 | (need_health[i] & (not hospital[m])))
        drivers = (w_quality * quality[m] + w_network * network
                   + w_employment * (1.0 if emp else 0.0)
                   + w_needs * (0.0 if unmet else 1.0)) / weight_sum
        growth = belonging_rate * drivers
        b = belonging[i]
        belonging[i] = b + growth * (1.0 - b)
        # a single without a tie elsewhere may form one
        tt = tie[i]
        new_tie[i] = (((t == 0) | (t == 1)) and ((tt < 0) | (tt == m))
                      and uniform_at(s6, g6, i) < tie_onset_rate)


@njit(cache=True, nogil=True, error_model="numpy")
def observe_counts(alive: np.ndarray, cohort: np.ndarray, age0: np.ndarray,
                   municipality: np.ndarray, settlement: np.ndarray, htype: np.ndarray,
                   group: np.ndarray, size: np.ndarray, employed_a: np.ndarray,
                   employed_b: np.ndarray, female_a: np.ndarray, female_b: np.ndarray,
                   row_cell: np.ndarray, year: int, first: int, n: int, n_g: int, n_t: int,
                   working_age_from: int, working_age_to: int, adults_by_type: np.ndarray,
                   cell_persons: np.ndarray, cell_home: np.ndarray,
                   cohort_households: np.ndarray, cohort_settled: np.ndarray,
                   cohort_alive: np.ndarray, cohort_home: np.ndarray,
                   residence: np.ndarray, employment_adults: np.ndarray,
                   employment_employed: np.ndarray, municipal_adults: np.ndarray,
                   municipal_employed: np.ndarray) -> None:
    """Observation's counts in one pass over the rows (observe.Observer.observe,
    employment_chunk, municipal_adults): adds into the zeroed float64 tables. Every count is
    a whole number, so the sums are exact in any order and equal numpy's bincounts."""
    for i in range(len(alive)):
        c = np.int64(cohort[i]) - first
        persons = np.float64(size[i])
        cohort_households[c] += 1.0
        cohort_settled[c] += persons
        if not alive[i]:
            continue
        m = np.int64(municipality[i])
        cell = row_cell[i]
        cell_persons[cell] += persons
        cohort_alive[c] += persons
        residence[c * n + m] += persons
        if m == settlement[i]:
            cell_home[cell] += persons
            cohort_home[c] += persons
        age = np.int64(age0[i]) + (year - np.int64(cohort[i]))
        if age < working_age_from or age > working_age_to:
            continue
        t = np.int64(htype[i])
        base = (c * n_t + t) * n_g + np.int64(group[i])
        key = base * 2 + (1 if female_a[i] else 0)
        employment_adults[key] += 1.0
        ea = employed_a[i]
        if ea:
            employment_employed[key] += 1.0
        has_b = t == 2 or t == 3
        eb = employed_b[i] and has_b
        if has_b:
            key = base * 2 + (1 if female_b[i] else 0)
            employment_adults[key] += 1.0
            if employed_b[i]:
                employment_employed[key] += 1.0
        municipal_adults[m] += np.float64(adults_by_type[t])
        municipal_employed[m] += (1.0 if ea else 0.0) + (1.0 if eb else 0.0)


@njit(cache=True, nogil=True, error_model="numpy")
def destination_utilities(static: np.ndarray, network: np.ndarray, service: np.ndarray,
                          labour: np.ndarray, origin: np.ndarray, group: np.ndarray,
                          needs: np.ndarray, job: np.ndarray, out: np.ndarray) -> None:
    """Stage 5's utilities of a block of combinations (destination.destination_utilities,
    summed in its order ((static + network) + services) + labour), less each row's maximum
    (for numpy's exp)."""
    n = out.shape[1]
    for k in range(len(origin)):
        o, g, nd, jb = origin[k], group[k], needs[k], job[k]
        top = -np.inf
        for j in range(n):
            v = ((static[o, j] + network[g, j]) + service[nd, j]) + labour[jb, j]
            out[k, j] = v
            if v > top:
                top = v
        for j in range(n):
            out[k, j] = out[k, j] - top


@njit(cache=True, nogil=True, error_model="numpy")
def destination_draw(weights: np.ndarray, r: np.ndarray, shift: np.ndarray, u: np.ndarray,
                     tie: np.ndarray, has_tie: np.ndarray, tie_boost: float,
                     dest: np.ndarray) -> None:
    """Stage 5's draw for the movers of a block (destination.sample_destinations and
    offset_search): ``weights`` (combinations x destinations, numpy's exp of the utilities)
    become their running sums in place, added in the same order as numpy's; each mover
    (column ``r[k]``) takes its tie with probability lam, else the first destination whose
    normalized running sum plus ``shift`` exceeds its rescaled uniform. ``tie_boost`` is
    numpy's expm1(dest_tie_effect)."""
    rows, n = weights.shape
    # eight rows at a time: eight independent chains of adds keep the adder busy (one row's
    # running sum alone waits on each add's latency); each row's order is unchanged
    for k0 in range(0, rows, 8):
        k1 = min(k0 + 8, rows)
        for j in range(1, n):
            for k in range(k0, k1):
                weights[k, j] = weights[k, j - 1] + weights[k, j]
    top = np.nextafter(1.0, 0.0)
    for k in range(len(r)):
        c = r[k]
        total = weights[c, n - 1]
        t = tie[k] if tie[k] > 0 else 0
        below_t = weights[c, t - 1 if t > 1 else 0] / total if t > 0 else 0.0
        p_tie = weights[c, t] / total - below_t if has_tie[k] else 0.0
        boost = tie_boost * p_tie
        lam = boost / (1.0 + boost)
        rest = (u[k] - lam) / max(1.0 - lam, 1e-300)
        rest = min(max(rest, 0.0), top)
        query = shift[k] + rest
        s = shift[k]
        lo = 0
        hi = n
        while lo < hi:
            mid = (lo + hi) // 2
            if weights[c, mid] / total + s <= query:
                lo = mid + 1
            else:
                hi = mid
        dest[k] = tie[k] if u[k] < lam else min(lo, n - 1)


@njit(cache=True, nogil=True, error_model="numpy")
def exit_reasons(alive: np.ndarray, cohort: np.ndarray, municipality: np.ndarray,
                 settlement: np.ndarray, centrality: np.ndarray, u_state: np.uint64,
                 u_gamma: np.uint64, year: int,
                 emigration_rate: float, rural_ratio: float, death_rate: float,
                 rural_centrality: int, early_years: int, reason: np.ndarray) -> None:
    """Stage 3 (exits.exits, exits.emigration_rates): 1 where a row alive emigrates (below
    its emigration probability), 2 where it dies out (up to emigration + death), else 0;
    the uniform (draw "exit", given by (state, gamma)) worked out for the rows alive."""
    for i in range(len(alive)):
        if not alive[i]:
            reason[i] = 0
            continue
        s = settlement[i]
        rural_start = ((centrality[s] >= rural_centrality) & (municipality[i] == s)
                       & (year - np.int32(cohort[i]) < early_years))
        emigration = emigration_rate * (rural_ratio if rural_start else 1.0)
        ui = uniform_at(u_state, u_gamma, i)
        emigrates = ui < emigration
        dies = (not emigrates) & (ui < emigration + death_rate)
        reason[i] = 1 if emigrates else (2 if dies else 0)


@njit(cache=True, nogil=True, error_model="numpy")
def household_incomes(rows: np.ndarray, alive: np.ndarray, cohort: np.ndarray,
                      age0: np.ndarray, municipality: np.ndarray, settlement: np.ndarray,
                      htype: np.ndarray, programme_lost: np.ndarray, employed_a: np.ndarray,
                      employed_b: np.ndarray, productivity: np.ndarray,
                      local_wage: np.ndarray, exp_noise: np.ndarray, year: int,
                      coef: np.ndarray, out: np.ndarray) -> None:
    """Stage 2's income (life_course.household_income) of the given rows only, from the state
    the life course leaves (work updated, before anyone moves): the programme as
    employment_logits works it out, a wage per employed adult, else the stipend in the
    programme, else benefits, times numpy's exp of the noise; 0 for rows not alive."""
    programme_years, stipend_level, benefit_level = coef[0], coef[1], coef[2]
    for k in range(len(rows)):
        i = rows[k]
        if not alive[i]:
            out[k] = 0.0
            continue
        m = municipality[i]
        years = year - np.int32(cohort[i])
        age = np.int32(age0[i]) + years
        prog = in_programme(i, year, cohort, age0, municipality, settlement, programme_lost,
                            programme_years)
        t = htype[i]
        has_b = (t == 2) | (t == 3)
        wage = local_wage[m] * productivity[i]
        stipend = stipend_level * ((2 / 3) if age < 25 else 1.0)
        not_working = stipend if prog else benefit_level
        income_a = wage if employed_a[i] else not_working
        income_b = (wage if employed_b[i] else not_working) if has_b else 0.0
        out[k] = (income_a + income_b) * exp_noise[k]

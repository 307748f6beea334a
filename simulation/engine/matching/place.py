"""One year's matching: capacities from the baseline allocation, the prediction, the
assignment, and the households drawn into it (see the package docstring)."""

from __future__ import annotations

import time
from dataclasses import dataclass

import numpy as np

from simulation.engine.households import Households
from simulation.engine.matching.kinds import household_kinds
from simulation.engine.matching.predict import predict
from simulation.engine.matching.slots import draw_into_slots
from simulation.engine.matching.solve import InfeasibleError, Problem, solve
from simulation.engine.runparams import RunParams
from simulation.engine.world import World
from simulation.inputs.categories import COUNTRY_GROUPS
from simulation.inputs.defaults import MatchingPolicy

# the scenario key each constraint is set by, and what it asks, for messages
CONSTRAINT_KEYS = {
    "school": ("settlement.allocation.constraints.upper_secondary_for_youth",
               "households with youth only where there is an upper-secondary school"),
    "hospital": ("settlement.allocation.constraints.hospital_for_health_needs",
                 "households with health needs only where there is a hospital"),
    "lower": ("settlement.allocation.constraints.minimum_intake",
              "every municipality's minimum intake (minimum_intake, minimum_fill)"),
    "group_cap": ("settlement.allocation.constraints.max_group_share",
                  "the cap on one country group's share of a municipality's capacity"),
    "whole": ("settlement.allocation.slack",
              "families placed whole within the capacities"),
}


class MatchingError(Exception):
    """The matching settings admit no assignment in some year; ``key`` the scenario key of
    the constraint that makes it so."""

    def __init__(self, key: str, message: str) -> None:
        super().__init__(f"{key}: {message}")
        self.key = key
        self.message = message

    def __reduce__(self) -> tuple:  # survives a process pool
        return (MatchingError, (self.key, self.message))


@dataclass(frozen=True)
class MatchingYear:
    """What one year's matching did, for the results (``matching.csv``)."""

    year: int
    households: int  # by agreement (matched)
    persons: int  # by agreement (matched)
    cohort_persons: int  # the whole cohort, family reunification included
    moved_households: int
    moved_persons: int
    predicted_retention_baseline: float
    predicted_retention_matched: float
    predicted_employment_baseline: float
    predicted_employment_matched: float
    objective_value: float
    objective_bound: float
    seconds: float


def capacities(policy: MatchingPolicy, baseline_persons: np.ndarray, codes: np.ndarray,
               scale: float) -> tuple[np.ndarray, np.ndarray]:
    """Upper and lower person bounds per municipality: the baseline's persons x (1 + slack),
    at least ``minimum_fill`` of them, and at least an agreed minimum intake (x scale)."""
    upper = np.floor(baseline_persons * (1.0 + policy.slack) + 1e-9).astype(np.int64)
    lower = np.floor(baseline_persons * policy.minimum_fill + 1e-9).astype(np.int64)
    if policy.minimum_intake:
        agreed = np.array([policy.minimum_intake.get(str(c), 0.0) for c in codes])
        lower = np.maximum(lower, np.floor(agreed * scale + 1e-9).astype(np.int64))
        upper = np.maximum(upper, lower)
    return upper, lower


def _message(names: tuple[str, ...], year: int, detail: str, persons: int,
             upper: np.ndarray, lower: np.ndarray) -> tuple[str, str]:
    key = CONSTRAINT_KEYS[names[0]][0]
    what = "; ".join(CONSTRAINT_KEYS[n][1] for n in names)
    text = (f"no placement of the {year} arrivals ({persons:,} persons by agreement) meets "
            f"{what} within the capacities ({int(upper.sum()):,} persons in all, "
            f"{int(lower.sum()):,} required)")
    if detail:
        text += f" ({detail})"
    text += ("; allowed: settings some assignment can meet: raise settlement.allocation.slack, "
             "or loosen or drop that constraint")
    return key, text


def match_cohort(world: World, params: RunParams, year: int, cohort: Households,
                 by_agreement: np.ndarray, u: np.ndarray) -> tuple[Households, MatchingYear]:
    """Re-assign the households by agreement of a placed ``cohort`` (``settlement`` set by
    the baseline allocation) by matching; ``u`` one uniform per cohort row (the slot draw).
    Returns the cohort with its new municipalities and what the matching did."""
    started = time.perf_counter()
    policy = params.inputs.allocation.matching
    assert policy is not None
    geo = world.geography
    rows = np.flatnonzero(by_agreement)
    kinds = household_kinds(cohort, rows)
    base = cohort.settlement[rows].astype(np.int64)
    size = cohort.size[rows].astype(np.int64)
    n_s, n_m = kinds.n_slots, geo.n
    x0 = np.zeros((n_s, n_m), dtype=np.int64)
    np.add.at(x0, (kinds.of_household, base), 1)
    baseline_persons = np.bincount(base, weights=size, minlength=n_m)
    upper, lower = capacities(policy, baseline_persons, geo.codes, params.inputs.scale)

    pred = predict(world, params, year, kinds, policy.horizon, np.flatnonzero(upper > 0))
    slot_kind = kinds.slot_kind
    persons = kinds.slot_size.astype(np.float64)[:, None]
    adults = kinds.adults[slot_kind].astype(np.float64)[:, None]
    stay_value = persons * pred.stay[slot_kind]
    work_value = adults * pred.employed[slot_kind]
    value = policy.weight("retention") * stay_value + policy.weight("employment") * work_value
    allowed = {}
    if policy.upper_secondary_for_youth:
        allowed["school"] = ~kinds.need_school[slot_kind][:, None] | geo.upper_secondary[None, :]
    if policy.hospital_for_health_needs:
        allowed["hospital"] = ~kinds.need_health[slot_kind][:, None] | geo.hospital[None, :]
    group_cap = None
    if policy.max_group_share is not None:
        cap = np.maximum(np.floor(policy.max_group_share * upper + 1e-9),
                         policy.group_share_floor).astype(np.float64)
        group_cap = np.broadcast_to(cap, (len(COUNTRY_GROUPS), n_m)).copy()
    # slot kinds whose value per person is the same pool their persons in the flow: all
    # sizes of a kind when only retention counts (adults per person differ by size)
    if policy.weight("employment") > 0:
        # adults per person: 1 or 2 adults over at most a few hundred persons
        code = slot_kind * 1_000_000 + np.rint(
            1e5 * kinds.adults[slot_kind] / kinds.slot_size).astype(np.int64)
        flow_kind = np.unique(code, return_inverse=True)[1]
    else:
        flow_kind = slot_kind
    problem = Problem(size=kinds.slot_size, count=kinds.slot_count,
                      group=kinds.group[slot_kind].astype(np.int64), value=value, x0=x0,
                      upper=upper, lower=lower, allowed=allowed, group_cap=group_cap,
                      flow_kind=np.asarray(flow_kind).ravel().astype(np.int64))
    try:
        solution = solve(problem)
    except InfeasibleError as err:
        key, text = _message(err.names, year, err.detail, int(size.sum()), upper, lower)
        raise MatchingError(key, text) from None

    municipality = draw_into_slots(kinds.of_household, base, solution.x, u[rows])
    out = cohort
    out.settlement[rows] = municipality
    out.municipality[rows] = municipality
    moved = municipality != base
    total_adults = float(adults[kinds.of_household, 0].sum())

    def mean_stay(m: np.ndarray) -> float:
        return float((size * pred.stay[slot_kind[kinds.of_household], m]).sum() / size.sum())

    def mean_work(m: np.ndarray) -> float:
        a = adults[kinds.of_household, 0]
        return float((a * pred.employed[slot_kind[kinds.of_household], m]).sum()
                     / max(total_adults, 1.0))

    log = MatchingYear(
        year=year, households=len(rows), persons=int(size.sum()),
        cohort_persons=int(cohort.size.astype(np.int64).sum()),
        moved_households=int(moved.sum()), moved_persons=int(size[moved].sum()),
        predicted_retention_baseline=mean_stay(base),
        predicted_retention_matched=mean_stay(municipality),
        predicted_employment_baseline=mean_work(base),
        predicted_employment_matched=mean_work(municipality),
        objective_value=solution.value, objective_bound=solution.bound,
        seconds=time.perf_counter() - started)
    return out, log

"""The assignment: how many households of each slot kind go to each municipality.

A transport problem over slot kinds x municipalities, solved as a min-cost flow with
OR-Tools (``SimpleMinCostFlow``): maximise the predicted value within each municipality's
person capacity and minimum intake, the per-(group, municipality) person caps and the arcs a
constraint forbids; among equally good assignments, the one that moves the fewest persons
from the baseline assignment (``x0``), so that a zero objective returns the baseline exactly.

The flow is in persons: kinds -> [(group, municipality) when groups are capped] ->
municipality -> sink, every constraint a capacity or a node's demand, so the optimum is whole
persons. Households must stay whole, and a family is several persons, so it is solved in
three exact steps:

1. the flow over all persons: the relaxation that may split a family (an upper bound on the
   value, reported as ``bound``);
2. households of two or more persons: the flow's whole households are kept, and the split
   ones are placed one by one, largest first, where the flow had part of them, else where
   they are worth most, within what is left of every capacity and group cap;
3. single persons: the same flow over what is left, where a person is a household, so its
   whole-person optimum is a whole assignment.

Every capacity and constraint therefore holds exactly (tests/test_matching.py checks them on
the result). If a step finds no room, that is reported as infeasible, never relaxed.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

# values are per person in [0, ~1]; the flow needs integer costs: this many units per 1.0
COST_UNITS = 1_000_000
# the tie-break: cost units per person moved away from the baseline assignment (one unit
# is smaller than any difference in value the objective can express)
TIE_BREAK = 1


@dataclass(frozen=True)
class Problem:
    """An assignment problem over slot kinds (rows) x municipalities (columns)."""

    size: np.ndarray  # persons per household of each slot kind
    count: np.ndarray  # households of each slot kind
    group: np.ndarray  # country group of each slot kind
    value: np.ndarray  # (slots, municipalities): value of one household placed there
    x0: np.ndarray  # (slots, municipalities): the baseline assignment, households
    upper: np.ndarray  # persons each municipality may take at most
    lower: np.ndarray  # persons each municipality must take at least
    # named arc restrictions: name -> (slots, municipalities) bool, True where allowed
    allowed: dict[str, np.ndarray] = field(default_factory=dict)
    group_cap: np.ndarray | None = None  # (groups, municipalities) persons, inf: no cap
    # slot kinds with the same flow kind have the same value per person, group and allowed
    # arcs (they differ only in household size), so the flow pools their persons
    flow_kind: np.ndarray | None = None

    def flow_kinds(self) -> np.ndarray:
        return np.arange(len(self.size)) if self.flow_kind is None else self.flow_kind


@dataclass(frozen=True)
class Solution:
    x: np.ndarray  # (slots, municipalities) households, int64
    value: float  # the assignment's total value
    bound: float  # the value of the flow that may split families (none can beat it)
    moved: int  # households not where the baseline assignment put them


class InfeasibleError(Exception):
    """No assignment meets these constraints; ``names`` the ones that make it so (arc
    restrictions by name, 'lower', 'group_cap', or 'whole' for families that do not fit)."""

    def __init__(self, names: tuple[str, ...], detail: str = "") -> None:
        super().__init__(", ".join(names) + (f": {detail}" if detail else ""))
        self.names = names
        self.detail = detail


def _arcs(p: Problem, use: frozenset[str]) -> np.ndarray:
    ok = np.ones(p.value.shape, dtype=bool)
    for name, mask in p.allowed.items():
        if name in use:
            ok &= mask
    return ok


def _flow(p: Problem, rows: np.ndarray, upper: np.ndarray, lower: np.ndarray,
          group_cap: np.ndarray | None, use: frozenset[str]) -> np.ndarray | None:
    """The min-cost flow of the persons of slot kinds ``rows``, pooled by flow kind: persons
    per (flow kind, municipality), or None if no flow meets the constraints."""
    n_m = p.value.shape[1]
    kind_of = p.flow_kinds()[rows]
    kinds, first, pooled = np.unique(kind_of, return_index=True, return_inverse=True)
    rep = rows[first]  # one slot kind standing for each flow kind
    n_k = len(kinds)
    size = p.size.astype(np.int64)
    persons = np.bincount(pooled, weights=(p.count * size)[rows], minlength=n_k).astype(np.int64)
    base = np.zeros((n_k, n_m), dtype=np.int64)
    np.add.at(base, pooled, p.x0[rows].astype(np.int64) * size[rows, None])
    arcs = _arcs(p, use)[rep] & (upper > 0)[None, :]
    cost = -np.rint(p.value[rep] / np.maximum(size[rep], 1)[:, None]
                    * COST_UNITS).astype(np.int64)
    group = p.group[rep].astype(np.int64)
    # nodes: flow kinds 0..n_k-1, municipalities, (group, municipality), the sink
    muni0 = n_k
    n_groups = group_cap.shape[0] if group_cap is not None else 0
    gm0 = muni0 + n_m
    sink = gm0 + n_groups * n_m
    k_idx, m_idx = np.nonzero(arcs)
    head = (gm0 + group[k_idx] * n_m + m_idx if group_cap is not None else muni0 + m_idx)
    keep = base[k_idx, m_idx] > 0
    total = int(persons.sum())
    tails = [k_idx[keep], k_idx]
    heads = [head[keep], head]
    caps = [base[k_idx, m_idx][keep], np.full(len(k_idx), total, dtype=np.int64)]
    costs = [cost[k_idx, m_idx][keep], cost[k_idx, m_idx] + TIE_BREAK]
    if group_cap is not None:
        g, m = np.divmod(np.arange(n_groups * n_m), n_m)
        cap = np.where(np.isfinite(group_cap.ravel()), group_cap.ravel(), total)
        tails.append(gm0 + g * n_m + m)
        heads.append(muni0 + m)
        caps.append(np.clip(cap, 0, total).astype(np.int64))
        costs.append(np.zeros(n_groups * n_m, dtype=np.int64))
    lower = np.asarray(lower, dtype=np.int64)
    upper = np.asarray(upper, dtype=np.int64)
    if (lower > upper).any() or lower.sum() > total:
        return None
    tails.append(muni0 + np.arange(n_m))
    heads.append(np.full(n_m, sink))
    caps.append(upper - lower)  # the lower bounds are the municipalities' own demand
    costs.append(np.zeros(n_m, dtype=np.int64))
    # imported here: OR-Tools' native library (about 16 MB resident) is loaded by the runs
    # that match, not by every run and worker
    from ortools.graph.python.min_cost_flow import SimpleMinCostFlow

    flow = SimpleMinCostFlow()
    n_keep = int(keep.sum())
    flow.add_arcs_with_capacity_and_unit_cost(
        np.concatenate(tails).astype(np.int32), np.concatenate(heads).astype(np.int32),
        np.concatenate(caps).astype(np.int64), np.concatenate(costs).astype(np.int64))
    supplies = np.zeros(sink + 1, dtype=np.int64)
    supplies[:n_k] = persons
    supplies[muni0:muni0 + n_m] = -lower
    supplies[sink] = -(total - int(lower.sum()))
    flow.set_nodes_supplies(np.arange(sink + 1, dtype=np.int32), supplies)
    status = flow.solve()
    if status != flow.OPTIMAL:
        if status in (flow.INFEASIBLE, flow.UNBALANCED):
            return None
        raise RuntimeError(f"the assignment flow did not solve (status {status})")
    f = flow.flows(np.arange(n_keep + len(k_idx), dtype=np.int32))
    out = np.zeros((n_k, n_m), dtype=np.int64)
    np.add.at(out, (k_idx[keep], m_idx[keep]), f[:n_keep])
    np.add.at(out, (k_idx, m_idx), f[n_keep:])
    full = np.zeros((int(p.flow_kinds().max(initial=0)) + 1, n_m), dtype=np.int64)
    full[kinds] = out
    return full


def _diagnose(p: Problem, rows: np.ndarray) -> tuple[str, ...]:
    """Which constraint families, dropped alone, make the flow feasible (all of them if
    none does alone)."""
    every = frozenset(p.allowed)
    found = [name for name in sorted(p.allowed)
             if _flow(p, rows, p.upper, p.lower, p.group_cap, every - {name}) is not None]
    if p.lower.any() and _flow(p, rows, p.upper, np.zeros_like(p.lower), p.group_cap,
                               every) is not None:
        found.append("lower")
    if p.group_cap is not None and _flow(p, rows, p.upper, p.lower, None, every) is not None:
        found.append("group_cap")
    return tuple(found) or (*sorted(p.allowed), "lower", "group_cap")


def solve(p: Problem) -> Solution:
    """The whole assignment (see the module docstring); InfeasibleError if there is none."""
    n_s, n_m = p.value.shape
    every = frozenset(p.allowed)
    arcs = _arcs(p, every)
    all_rows = np.arange(n_s)
    size = p.size.astype(np.int64)
    kind = p.flow_kinds()
    relaxed = _flow(p, all_rows, p.upper, p.lower, p.group_cap, every)
    if relaxed is None:
        raise InfeasibleError(_diagnose(p, all_rows))
    first = np.unique(kind, return_index=True)[1]
    per_person = np.zeros((len(relaxed), n_m))
    per_person[kind[first]] = p.value[first] / np.maximum(size[first], 1)[:, None]
    bound = float((relaxed * per_person).sum())

    # step 2: households of two or more, whole: each flow kind's persons per municipality
    # are a budget; its households fill the budgets largest first, whole ones where they fit
    x = np.zeros((n_s, n_m), dtype=np.int64)
    room = p.upper.astype(np.int64).copy()
    group_room = None
    if p.group_cap is not None:
        group_room = np.where(np.isfinite(p.group_cap), p.group_cap,
                              np.iinfo(np.int64).max // 4).astype(np.int64)
    fam = np.flatnonzero(size >= 2)
    budget = relaxed.copy()
    by_value = np.argsort(-p.value[fam], axis=1, kind="stable")  # each kind's best first
    row_of = np.full(n_s, -1, dtype=np.int64)
    row_of[fam] = np.arange(len(fam))
    for s in fam[np.lexsort((-size[fam], kind[fam]))]:
        k, n = kind[s], int(p.count[s])
        # whole households into the budgets: where the baseline had them first (the flow's
        # tie-break kept them there), then the most valuable municipalities
        kept = np.zeros(n_m, dtype=np.int64)
        order = by_value[row_of[s]]
        for first in (True, False):
            if first and not p.x0[s].any():
                continue
            space = room[order] if group_room is None else np.minimum(
                room[order], group_room[p.group[s], order])
            fits = np.minimum(budget[k, order], space) // size[s]
            if first:
                fits = np.minimum(fits, p.x0[s, order])
            left = n - int(kept.sum())
            take = np.minimum(fits, np.maximum(left - (np.cumsum(fits) - fits), 0))
            kept[order] += take
            budget[k, order] -= take * size[s]
            room[order] -= take * size[s]
            if group_room is not None:
                group_room[p.group[s], order] -= take * size[s]
        x[s] = kept
        for _ in range(n - int(kept.sum())):  # the split ones, one by one
            ok = arcs[s] & (room >= size[s])
            if group_room is not None:
                ok &= group_room[p.group[s]] >= size[s]
            if not ok.any():
                raise InfeasibleError(("whole",), f"a household of {size[s]} persons has no "
                                      "municipality with room left for it")
            # where the flow had part of it first, then by value (ties: lowest index)
            m = int(np.argmax(np.where(ok, p.value[s] + np.where(budget[k] > 0, 1e12, 0.0),
                                       -np.inf)))
            x[s, m] += 1
            budget[k, m] = max(budget[k, m] - size[s], 0)
            room[m] -= size[s]
            if group_room is not None:
                group_room[p.group[s], m] -= size[s]

    # step 3: single persons, where a person is a household
    single = np.flatnonzero(size == 1)
    if len(single):
        fam_persons = (size[:, None] * x).sum(axis=0)
        lower = np.maximum(p.lower - fam_persons, 0)
        y = _flow(p, single, room, lower, group_room if p.group_cap is not None else None,
                  every)
        if y is None:
            raise InfeasibleError(("whole",), "once the families are placed whole, the "
                                  "single persons cannot meet what is left of the capacities")
        _split_singles(p, single, y, x)
    moved = int((x - np.minimum(x, p.x0)).sum())
    return Solution(x=x, value=float((x * p.value).sum()), bound=bound, moved=moved)


def _split_singles(p: Problem, single: np.ndarray, y: np.ndarray, x: np.ndarray) -> None:
    """The single persons of each flow kind per municipality (``y``) as households of its
    slot kinds (one slot kind per flow kind unless the caller pooled several): the baseline's
    where they were, the rest in slot-kind order."""
    kind = p.flow_kinds()
    left = y.copy()
    for s in single:
        keep = np.minimum(left[kind[s]], p.x0[s])
        x[s] = keep
        left[kind[s]] -= keep
    for s in single:
        need = int(p.count[s] - x[s].sum())
        cum = np.cumsum(left[kind[s]])
        take = np.diff(np.minimum(cum, need), prepend=0)
        x[s] += take
        left[kind[s]] -= take

"""Stage 1, settlement (MODEL.md 4.1): this year's cohort arrives and is placed.

In the years with IMDi's observed settlement per municipality (2012-2015, 2022-2024; see
``inputs/settlement_history.py``) the persons settled by agreement are placed exactly where
IMDi placed them (``observed_targets``, ``place_exactly``); family reunification
(``family_reunification_share``) comes on top, in proportion to them.

Other years (2010-2011, 2016-2021, projections) use the allocation model fitted to those
years (``settling_municipalities``, docs/settlement_allocation.md): the number of settling
municipalities grows with the national volume (about 210-235 in the low years 2019-2021, nearly
all 357 in the 2022-2023 peak); which ones follows each municipality's own history of settling
(continuity is a property of its history, not its size); quotas blend its observed share with
population**elasticity, so per-capita settlement falls with size, more steeply in peak years.
Households are then laid end to end in random order and cut at the quotas' cumulative persons,
which meets every quota to within one household without a Python loop.

``make_cohort``, ``settling_municipalities`` and ``allocate`` are municipality-level steps the
reference model (reference.py) calls too (through ``place_cohort``); everything a household
does after arriving is restated there.
"""

from __future__ import annotations

from dataclasses import dataclass, fields

import numpy as np

from simulation.engine.households import (
    COUPLE,
    FAMILY,
    LONE_PARENT,
    NO_MUNICIPALITY,
    SINGLE_MAN,
    SINGLE_WOMAN,
    Households,
)
from simulation.engine.matching import match_cohort
from simulation.engine.randomness import Draws
from simulation.engine.runparams import RunParams
from simulation.engine.terms import LONE_PARENT_FEMALE_SHARE, draw_ties
from simulation.engine.world import World
from simulation.inputs.categories import COUNTRY_GROUPS
from simulation.inputs.defaults import AllocationPolicy, Composition
from simulation.inputs.geography import Geography
from simulation.inputs.parameters import Params
from simulation.inputs.settlement_history import MunicipalHistory

# ESTIMATE: unaccompanied minors settled are mostly boys aged 15-17.
MINOR_MALE_SHARE = 0.85
MEAN_CHILDREN = {FAMILY: 2.6, LONE_PARENT: 2.2}  # ESTIMATE: children per family with children
TIE_TO_DRAW = -2  # in make_cohort's output: a tie to be drawn once the cohort is placed


def _sizes_up_to(rng: np.random.Generator, persons: float, base: int, extra_mean: float,
                 ) -> np.ndarray:
    """Household sizes (base + Poisson extra) whose sum stays within ``persons``."""
    if persons < base:
        return np.zeros(0, dtype=np.int16)
    mean = base + extra_mean
    draw = base + rng.poisson(extra_mean, size=int(persons / mean * 1.3) + 10)
    keep = np.cumsum(draw) <= persons + 0.5
    return draw[keep].astype(np.int16)


def make_cohort(year: int, persons_settled: float, comp: Composition, params: Params,
                rng: Draws) -> Households:
    """The households of one year's arrivals (not yet placed), with their attributes; each
    attribute from its own named draw of the settlement stage."""
    persons = persons_settled * (1.0 + params.family_reunification_share)
    cat = {c: persons * s for c, s in comp.category_shares.items()}

    n_adult = round(cat["single_adults"])
    n_minor = round(cat["unaccompanied_minors"])
    n_couple = round(cat["families_without_children"] / 2)
    fam = cat["families_with_children"]
    # a family with children has at least one child: adults + 1 + Poisson(mean - 1) persons
    lone_sizes = _sizes_up_to(rng.generator("lone_parent_children"),
                              fam * comp.lone_parent_share, 2, MEAN_CHILDREN[LONE_PARENT] - 1)
    fam_sizes = _sizes_up_to(rng.generator("family_children"),
                             fam * (1 - comp.lone_parent_share), 3, MEAN_CHILDREN[FAMILY] - 1)

    adult_male = rng.uniform("single_adult_male", n_adult) < comp.single_male_share
    minor_male = rng.uniform("minor_male", n_minor) < MINOR_MALE_SHARE
    htype = np.concatenate([
        np.where(adult_male, SINGLE_MAN, SINGLE_WOMAN),
        np.where(minor_male, SINGLE_MAN, SINGLE_WOMAN),
        np.full(n_couple, COUPLE), np.full(len(fam_sizes), FAMILY),
        np.full(len(lone_sizes), LONE_PARENT),
    ]).astype(np.int8)
    size = np.concatenate([
        np.ones(n_adult + n_minor), np.full(n_couple, 2), fam_sizes, lone_sizes,
    ]).astype(np.int16)
    n = len(htype)
    age0 = np.concatenate([
        # ESTIMATE: single adults mostly in their twenties
        18 + rng.generator("single_adult_age").gamma(2.0, 5.0, n_adult),
        rng.generator("minor_age").integers(15, 18, n_minor),
        # ESTIMATE: heads of families
        22 + rng.generator("family_head_age").gamma(3.0, 4.0, n - n_adult - n_minor),
    ])

    hh = Households.empty(n)
    hh.cohort[:] = year
    hh.htype[:] = htype
    hh.size[:] = size
    hh.age0[:] = np.minimum(age0, 70).astype(np.int16)
    shares = np.array([comp.country_shares[g] for g in COUNTRY_GROUPS])
    hh.group[:] = np.searchsorted(np.cumsum(shares / shares.sum()),
                                  rng.uniform("country_group", n),
                                  side="right").clip(0, len(COUNTRY_GROUPS) - 1)
    hh.alive[:] = True
    hh.productivity[:] = rng.generator("productivity").lognormal(0.0, 0.25, n)
    hh.need_health[:] = rng.uniform("health_need", n) < params.health_need_share
    is_family = (htype == FAMILY) | (htype == LONE_PARENT)
    hh.need_school[:] = is_family & (rng.uniform("school_need", n) < params.school_need_share)
    hh.tie[:] = np.where(rng.uniform("arrives_with_tie", n) < params.tie_share,
                         TIE_TO_DRAW, NO_MUNICIPALITY)
    hh.pending_event[:] = -1
    # the adults' sex follows from the household type; lone parents are mostly mothers
    hh.set_sex(np.arange(n), rng.uniform("lone_parent_female", n) < LONE_PARENT_FEMALE_SHARE)
    return hh


def continuity(geo: Geography, history: MunicipalHistory | None) -> np.ndarray:
    """Each municipality's continuity of settlement on 0..1: the share of IMDi's observed
    years in which it settled anyone (its own history, not its size), plus up to half a
    year's step by how much it settled (the percentile of its mean share of the national
    settlement), so that among municipalities that settled every year those that settled
    most are asked first in a low year (Oslo, Bergen, ...). Municipalities without history (a
    user geography whose codes do not match the file) fall back to their rank by size and
    centrality (the old rule: larger and more central first), ESTIMATE."""
    proxy = np.log(geo.population.astype(float)) - 0.3 * geo.centrality
    rank = _percentile(proxy)
    if history is None:
        return rank
    step = 1.0 / max(len(history.years), 1)
    own = history.years_settled_share + 0.5 * step * _percentile(history.mean_share)
    return np.where(history.known, own, rank)


def _percentile(values: np.ndarray) -> np.ndarray:
    """Rank of each value on 0..1 (ties by position)."""
    return np.argsort(np.argsort(values, kind="stable"), kind="stable") / max(len(values) - 1, 1)


def _mean_share(geo: Geography, history: MunicipalHistory | None) -> np.ndarray:
    return np.zeros(geo.n) if history is None else history.mean_share


def continuity_set(geo: Geography, eligible: np.ndarray, params: Params,
                   history: MunicipalHistory | None) -> np.ndarray:
    """The municipalities that settle whatever the volume (``continuity_only``): the
    ``settling_municipalities_min`` with the longest history of settling (ties: larger mean
    share of the national settlement first), without year-to-year noise."""
    cont = np.where(eligible, continuity(geo, history), -np.inf)
    order = np.lexsort((-_mean_share(geo, history), -cont))
    n = min(int(params.settling_municipalities_min), int(eligible.sum()))
    chosen = np.zeros(geo.n, dtype=bool)
    chosen[order[:n]] = True
    return chosen & eligible


def eligible_municipalities(geo: Geography, policy: AllocationPolicy) -> np.ndarray:
    """Municipalities the policy allows to settle (population and centrality levers)."""
    eligible = geo.population.astype(float) >= policy.exclude_below_population
    if policy.exclude_centrality:
        eligible &= ~np.isin(geo.centrality, policy.exclude_centrality)
    return eligible


def settling_municipalities(geo: Geography, volume: float, policy: AllocationPolicy,
                            params: Params, noise: np.ndarray,
                            history: MunicipalHistory | None = None) -> np.ndarray:
    """Weights of municipalities settling this year (0 = not settling): the allocation model
    for years without observed settlement. ``noise`` is one standard normal per municipality
    (the priority noise); ``history`` each municipality's observed settlement history.

    How many settle grows with the national volume: n = n_elig - (n_elig - n_min) *
    exp(-volume / settling_volume_scale). Which: those with the longest history of settling
    (continuity + settlement_priority_noise * noise). How many each: a blend, with weight
    settlement_history_weight, of the municipality's mean observed share of the national
    settlement and population**elasticity, where the elasticity moves from
    settlement_size_elasticity (only the core settles) to settlement_size_elasticity_peak (all
    are drawn in): in peak years per-capita settlement falls more steeply with size
    (fitted to IMDi 2012-2015 and 2022-2024, docs/settlement_allocation.md)."""
    pop = geo.population.astype(float)
    eligible = eligible_municipalities(geo, policy)
    if policy.quotas is not None:
        w = np.zeros(geo.n)
        for code, q in policy.quotas.items():
            w[geo.index_of(code)] = q
        return np.where(eligible, w, 0.0)
    n_elig = int(eligible.sum())
    if n_elig == 0:
        raise ValueError("the allocation policy excludes every municipality")
    floor = min(int(params.settling_municipalities_min), n_elig)
    if policy.continuity_only:
        # the same municipalities every year: the longest history of settling, no noise
        chosen = np.flatnonzero(continuity_set(geo, eligible, params, history))
        n_settle = floor
    else:
        n_settle = max(round(n_elig - (n_elig - floor) * np.exp(-volume
                                                                / params.settling_volume_scale)), 1)
        priority = continuity(geo, history) + params.settlement_priority_noise * noise
        priority[~eligible] = -np.inf
        chosen = np.lexsort((-_mean_share(geo, history), -priority))[:n_settle]
    drawn = (n_settle - floor) / (n_elig - floor) if n_elig > floor else 1.0
    elasticity = (params.settlement_size_elasticity + drawn * (
        params.settlement_size_elasticity_peak - params.settlement_size_elasticity))
    size = pop[chosen] ** elasticity
    size /= size.sum()
    own = _mean_share(geo, history)[chosen]
    lam = params.settlement_history_weight if own.sum() > 0 else 0.0
    w = np.zeros(geo.n)
    w[chosen] = (1.0 - lam) * size + lam * own / max(own.sum(), 1e-300)
    return w


def whole_persons(values: np.ndarray, total: int) -> np.ndarray:
    """Non-negative whole numbers proportional to ``values`` summing to ``total`` (largest
    remainder; ties to the lower index)."""
    values = np.asarray(values, dtype=np.float64)
    if values.sum() == total and (values == np.round(values)).all():
        return values.astype(np.int64)
    if total <= 0 or values.sum() <= 0:
        return np.zeros(len(values), dtype=np.int64)
    exact = values / values.sum() * total
    out = np.floor(exact).astype(np.int64)
    short = int(total - out.sum())
    if short > 0:
        out[np.argsort(-(exact - out), kind="stable")[:short]] += 1
    return out


def observed_targets(geo: Geography, observed: np.ndarray, volume: float,
                     policy: AllocationPolicy, params: Params,
                     history: MunicipalHistory | None) -> np.ndarray:
    """Persons by agreement per municipality in a year with observed settlement: IMDi's
    counts, at this run's volume (``volume`` = the observed total x scale in the baseline, so
    at scale 1 exactly the observed persons). Municipalities the policy excludes (population,
    centrality, outside the continuity set) settle no one; their persons go to the remaining
    settling municipalities in proportion to what those observedly settled (or, if none of them
    settled, to the allocation model's weights among the eligible)."""
    eligible = eligible_municipalities(geo, policy)
    if policy.continuity_only:
        eligible &= continuity_set(geo, eligible, params, history)
    if not eligible.any():
        raise ValueError("the allocation policy excludes every municipality")
    kept = np.where(eligible, observed, 0).astype(np.float64)
    if kept.sum() == 0:
        kept = settling_municipalities(geo, volume, policy, params, np.zeros(geo.n), history)
    return whole_persons(kept, round(volume))


def allocate(size: np.ndarray, weights: np.ndarray, rng: np.random.Generator) -> np.ndarray:
    """Municipality for each household so that persons follow ``weights`` (cut the line)."""
    order = rng.permutation(len(size))
    cum = np.cumsum(size[order].astype(float))
    mid = cum - size[order] / 2.0
    bounds = np.cumsum(weights / weights.sum()) * cum[-1] if len(cum) else np.zeros(0)
    muni_sorted = np.searchsorted(bounds, mid, side="right").clip(0, len(weights) - 1)
    # a municipality with zero weight has an empty interval, so nobody lands there
    out = np.empty(len(size), dtype=np.int16)
    out[order] = muni_sorted
    return out


def _take(hh: Households, rows: np.ndarray) -> Households:
    """The households ``rows`` (repeats allowed) as a new Households (fancy indexing copies)."""
    return Households(**{f.name: getattr(hh, f.name)[rows] for f in fields(Households)})


def place_exactly(cohort: Households, targets: np.ndarray, rng: np.random.Generator
                  ) -> tuple[Households, np.ndarray, np.ndarray]:
    """Place exactly ``targets[m]`` persons by agreement in each municipality m; the rest of
    the cohort (family reunification) follows the targets by the line cut.

    Returns the placed cohort (rows may be dropped or repeated, see below), each household's
    municipality and whether it was settled by agreement.

    Households of two or more are laid in random order against each municipality's family
    budget (the cohort's share of persons in such households times its target) and kept where
    they end if they fit within the target; single-person households then fill every
    municipality up to its target. The families that did not fit and the singles left over are
    the reunified persons. If the cohort has too few single persons for the fill, single
    households are repeated (their drawn attributes reused) - ASSUMPTION, rare: the cohort
    carries family_reunification_share more persons than the targets."""
    targets = np.asarray(targets, dtype=np.int64)
    n_m = len(targets)
    perm = rng.permutation(len(cohort))
    size = cohort.size[perm].astype(np.int64)
    fam, sing = perm[size >= 2], perm[size == 1]
    fam_size = cohort.size[fam].astype(np.int64)
    share = fam_size.sum() / max(int(size.sum()), 1)
    bounds = share * np.cumsum(targets).astype(np.float64)
    muni = np.searchsorted(bounds, np.cumsum(fam_size), side="left")
    inside = np.flatnonzero(muni < n_m)
    fm, fs = muni[inside], fam_size[inside]
    cum = np.cumsum(fs)
    first = np.r_[True, fm[1:] != fm[:-1]] if len(fm) else np.zeros(0, dtype=bool)
    base = (cum - fs)[first][np.cumsum(first) - 1] if len(fm) else cum
    fits = (cum - base) <= targets[fm]
    fam_rows, fam_muni = fam[inside[fits]], fm[fits]
    placed = np.bincount(fam_muni, weights=fam_size[inside[fits]], minlength=n_m)
    gap = (targets - placed.astype(np.int64)).clip(0)
    need = int(gap.sum())
    pool = sing if len(sing) else perm  # no singles at all: repeat any household as one
    single_rows = pool[:need] if need <= len(pool) else np.resize(pool, need)
    single_muni = np.repeat(np.arange(n_m), gap)
    left_fam = np.setdiff1d(fam, fam_rows, assume_unique=True)
    left_single = sing[need:] if need < len(sing) else sing[:0]
    reunified = rng.permutation(np.concatenate([left_fam, left_single]))
    rows = np.concatenate([fam_rows, single_rows, reunified])
    placed_cohort = _take(cohort, rows)
    n_agree = len(fam_rows) + len(single_rows)
    placed_cohort.size[len(fam_rows):n_agree] = 1
    repeated = len(fam_rows) + np.flatnonzero(
        ~np.isin(placed_cohort.htype[len(fam_rows):n_agree], (SINGLE_MAN, SINGLE_WOMAN)))
    placed_cohort.htype[repeated] = SINGLE_WOMAN
    placed_cohort.female_a[repeated] = True  # a single woman now: one adult, a woman
    placed_cohort.female_b[repeated] = False
    muni_all = np.empty(len(rows), dtype=np.int16)
    muni_all[:len(fam_rows)] = fam_muni
    muni_all[len(fam_rows):n_agree] = single_muni
    if len(reunified):
        weights = targets.astype(np.float64) if targets.sum() > 0 else np.ones(n_m)
        muni_all[n_agree:] = allocate(placed_cohort.size[n_agree:], weights, rng)
    by_agreement = np.arange(len(rows)) < n_agree
    return placed_cohort, muni_all, by_agreement


@dataclass(frozen=True)
class Placement:
    """A placed cohort: the households, the municipalities' settlement weights (0 = not
    settling), and which households were settled by agreement (the others: reunified; in a
    modelled year reunified persons are folded into the households, so all are True)."""

    cohort: Households
    weights: np.ndarray
    by_agreement: np.ndarray


def place(geo: Geography, params: RunParams, year: int, rng: Draws,
          world: World | None = None) -> Placement:
    """This year's cohort placed (``settlement`` = ``municipality`` set).

    In a year with IMDi's observed settlement (``inputs.observed_settled``) and no custom
    quotas, the persons by agreement are placed exactly as observed (at scale 1; see
    ``observed_targets`` for scaled runs and the policy levers), family reunification on
    top. Other years use the allocation model (``settling_municipalities``). With
    ``inputs.scale`` < 1 a fraction of the people is run; which municipalities settle still
    follows the real (unscaled) national volume, so a scaled run keeps the same pattern.

    With ``allocation.matching`` set, that placement is the baseline whose persons by
    agreement per municipality are the capacities, and the households by agreement are then
    re-assigned by matching (engine/matching; it needs the ``world`` at placement)."""
    placed = _baseline_place(geo, params, year, rng)
    slots_u = rng.uniform("matching_slots", len(placed.cohort))
    matching = params.inputs.allocation.matching
    if matching is None:
        return placed
    if world is None:
        raise ValueError("placement by matching needs the world at placement")
    cohort, log = match_cohort(world, params, year, placed.cohort, placed.by_agreement,
                               slots_u)
    world.matching_log.append(log)
    # settling: asked by the baseline allocation, or given persons by the matching (an agreed
    # minimum intake, slack), as the integration quality counts it
    persons = np.bincount(cohort.settlement, weights=cohort.size, minlength=geo.n)
    weights = np.where(placed.weights > 0, placed.weights, persons).astype(np.float64)
    return Placement(cohort, weights, placed.by_agreement)


def _baseline_place(geo: Geography, params: RunParams, year: int, rng: Draws) -> Placement:
    """The placement without matching (see ``place``)."""
    inputs = params.inputs
    volume = inputs.volumes[year]
    history = inputs.settlement_history
    cohort = make_cohort(year, volume, inputs.composition[year], params, rng)
    observed = inputs.observed_settled.get(year)
    noise = rng.normal("priority_noise", geo.n)
    # both orders are drawn every year (each declared draw is used once a year)
    line_order = rng.generator("allocation_order")
    exact_order = rng.generator("observed_placement")
    if observed is not None and inputs.allocation.quotas is None:
        targets = observed_targets(geo, observed, volume, inputs.allocation, params, history)
        cohort, muni, by_agreement = place_exactly(cohort, targets, exact_order)
        cohort.settlement[:] = muni
        cohort.municipality[:] = muni
        return Placement(cohort, targets.astype(np.float64), by_agreement)
    weights = settling_municipalities(geo, volume / inputs.scale, inputs.allocation, params,
                                      noise, history)
    cohort.settlement[:] = allocate(cohort.size, weights, line_order)
    cohort.municipality[:] = cohort.settlement
    return Placement(cohort, weights, np.ones(len(cohort), dtype=bool))


def place_cohort(geo: Geography, params: RunParams, year: int, rng: Draws,
                 world: World | None = None) -> tuple[Households, np.ndarray]:
    """This year's placed cohort and the municipalities' settlement weights (see ``place``)."""
    placed = place(geo, params, year, rng, world)
    return placed.cohort, placed.weights


def settle(world: World, params: RunParams, year: int, rng: Draws) -> None:
    """Stage 1: create this year's cohort, allocate it, add it to the households, and draw
    the ties of those arriving with one (where their group lives, the cohort included)."""
    geo = world.geography
    cohort, weights = place_cohort(geo, params, year, rng, world)
    rows = world.settle_households(cohort)
    tied = cohort.tie == TIE_TO_DRAW
    draw_ties(world, rows[tied], rng.uniform_at("tie_place", np.flatnonzero(tied)))
    world.settled_now = np.bincount(cohort.settlement, weights=cohort.size, minlength=geo.n)
    world.settling_now = weights > 0

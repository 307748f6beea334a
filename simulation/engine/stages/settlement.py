"""Stage 1, settlement (MODEL.md 4.1): this year's cohort arrives and is allocated.

The number of settling municipalities grows with the national volume (about 210-235 in the low
years 2019-2021, nearly all 356 in the 2022-2023 peak); larger and more central municipalities
are asked first; quotas are proportional to population**elasticity, so per-capita settlement
falls with size. Households are then laid end to end in random order and cut at the quotas'
cumulative persons, which meets every quota to within one household without a Python loop.

``make_cohort``, ``settling_municipalities`` and ``allocate`` are municipality-level steps the
reference model (reference.py) calls too; everything a household does after arriving is
restated there.
"""

from __future__ import annotations

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
from simulation.engine.randomness import Draws
from simulation.engine.runparams import RunParams
from simulation.engine.terms import draw_ties
from simulation.engine.world import World
from simulation.inputs.categories import COUNTRY_GROUPS
from simulation.inputs.defaults import AllocationPolicy, Composition
from simulation.inputs.geography import Geography
from simulation.inputs.parameters import Params

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
    lone_sizes = _sizes_up_to(rng.generator("lone_parent_children"),
                              fam * comp.lone_parent_share, 1, MEAN_CHILDREN[LONE_PARENT])
    fam_sizes = _sizes_up_to(rng.generator("family_children"),
                             fam * (1 - comp.lone_parent_share), 2, MEAN_CHILDREN[FAMILY])

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
    is_family = np.isin(htype, (FAMILY, LONE_PARENT))
    hh.need_school[:] = is_family & (rng.uniform("school_need", n) < params.school_need_share)
    hh.tie[:] = np.where(rng.uniform("arrives_with_tie", n) < params.tie_share,
                         TIE_TO_DRAW, NO_MUNICIPALITY)
    hh.pending_event[:] = -1
    return hh


def settling_municipalities(geo: Geography, volume: float, policy: AllocationPolicy,
                            params: Params, noise: np.ndarray) -> np.ndarray:
    """Weights of municipalities settling this year (0 = not settling); ``noise`` is one
    standard normal per municipality (the priority noise)."""
    pop = geo.population.astype(float)
    eligible = pop >= policy.exclude_below_population
    if policy.exclude_centrality:
        eligible &= ~np.isin(geo.centrality, policy.exclude_centrality)
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
        # the same municipalities every year: those first in line, no year-to-year noise
        n_settle = floor
        noise = np.zeros_like(noise)
    else:
        n_settle = round(n_elig - (n_elig - floor) * np.exp(-volume
                                                            / params.settling_volume_scale))
    priority = np.log(pop) - 0.3 * geo.centrality + params.settlement_priority_noise * noise
    priority[~eligible] = -np.inf
    chosen = np.argsort(-priority, kind="stable")[:max(n_settle, 1)]
    w = np.zeros(geo.n)
    w[chosen] = pop[chosen] ** params.settlement_size_elasticity
    return w


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


def place_cohort(geo: Geography, params: RunParams, year: int, rng: Draws
                 ) -> tuple[Households, np.ndarray]:
    """This year's cohort placed by the quotas (``settlement`` = ``municipality`` set), and the
    municipalities' settlement weights (0 = not settling this year).

    The year's volume, composition and allocation policy come from ``params.inputs``. With
    ``inputs.scale`` < 1 a fraction of the people is run; which municipalities settle still
    follows the real (unscaled) national volume, so a scaled run keeps the same settlement
    pattern.
    """
    inputs = params.inputs
    volume = inputs.volumes[year]
    cohort = make_cohort(year, volume, inputs.composition[year], params, rng)
    weights = settling_municipalities(geo, volume / inputs.scale, inputs.allocation, params,
                                      rng.normal("priority_noise", geo.n))
    cohort.settlement[:] = allocate(cohort.size, weights, rng.generator("allocation_order"))
    cohort.municipality[:] = cohort.settlement
    return cohort, weights


def settle(world: World, params: RunParams, year: int, rng: Draws) -> None:
    """Stage 1: create this year's cohort, allocate it, add it to the households, and draw
    the ties of those arriving with one (where their group lives, the cohort included)."""
    geo = world.geography
    cohort, weights = place_cohort(geo, params, year, rng)
    rows = world.settle_households(cohort)
    tied = cohort.tie == TIE_TO_DRAW
    draw_ties(world, rows[tied], rng.uniform("tie_place", len(cohort))[tied])
    world.settled_now = np.bincount(cohort.settlement, weights=cohort.size, minlength=geo.n)
    world.settling_now = weights > 0

"""Stages 4-5: the move decision (MODEL.md 4.5, with the rights rule of 4.7) and the choice of
destination (4.6).

Two channels share one uniform draw per household: a *job move* (taking work elsewhere) and a
*general move* (network, services, belonging, ties). The rights rule lowers both for
benefit-dependent households inside the window, except job moves when the job-move exemption
holds. Destinations are chosen by multinomial logit without a Python loop over households:
utilities are computed once per (origin, group, needs, job move) combination present among
this year's movers, and every mover then samples its row by inverse CDF.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from simulation.engine.households import COUNTRY_GROUPS
from simulation.engine.stages.lifecourse import local_network, logistic, unmet_needs
from simulation.engine.world import World
from simulation.inputs.parameters import Params


@dataclass(frozen=True)
class MoveDecision:
    """This year's movers (row ids) and whether each move is a job move."""

    movers: np.ndarray
    job: np.ndarray
    holds_rights: np.ndarray  # for the movers: rights still held when they moved


def type_effects(params: Params) -> np.ndarray:
    """Log-odds shift of a general move by household type (single man = 0)."""
    return np.array([0.0, params.move_single_woman_effect, params.move_couple_effect,
                     params.move_family_effect, params.move_lone_parent_effect])


def holds_rights(world: World, params: Params, year: int) -> np.ndarray:
    """Inside the rights window and not yet lost by an earlier move without agreement."""
    hh = world.households
    return (hh.years_since(year) < params.rights_years) & ~hh.rights_lost


def move_logits(world: World, params: Params, year: int, stock: np.ndarray,
                programme: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
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
        + params.move_network_effect * local_network(world, stock)
        + params.move_size_effect * (np.log(geo.population[m]) - np.log(10_000))
        + params.move_centrality_effect * (geo.centrality[m] - 3.5)
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


def decide_moves(world: World, params: Params, year: int, stock: np.ndarray,
                 programme: np.ndarray, u: np.ndarray) -> MoveDecision:
    """Stage 4: who moves this year, from one uniform ``u`` per household row."""
    general, job = move_logits(world, params, year, stock, programme)
    p_job = logistic(job)
    p_any = p_job + (1.0 - p_job) * logistic(general)
    alive = world.households.alive
    is_job = alive & (u < p_job)
    moves = alive & (u < p_any)
    movers = np.flatnonzero(moves)
    return MoveDecision(movers=movers, job=is_job[movers],
                        holds_rights=holds_rights(world, params, year)[movers])


def need_bits(world: World, rows: np.ndarray) -> np.ndarray:
    """Needs as a 3-bit code: school 1, higher education 2, health 4."""
    hh = world.households
    return (hh.need_school[rows] * 1 + hh.need_higher[rows] * 2
            + hh.need_health[rows] * 4).astype(np.int64)


def static_utility(world: World, params: Params) -> np.ndarray:
    """The part of destination utility that never changes in a run, origin x destination:
    size, centrality, Oslo, east, distance and same county (the origin itself is -inf)."""
    geo = world.geography
    base = (params.dest_size_effect * np.log(geo.population)
            + params.dest_centrality_effect * geo.centrality
            + params.dest_oslo_effect * geo.oslo + params.dest_east_effect * geo.east)
    county = geo.county_index
    od = (base[None, :] + params.dest_distance_effect * np.log1p(geo.distance_km)
          + params.dest_same_county_effect * (county[:, None] == county[None, :]))
    np.fill_diagonal(od, -np.inf)
    return od


def destination_utilities(world: World, params: Params, stock: np.ndarray, origin: np.ndarray,
                          group: np.ndarray, needs: np.ndarray, job: np.ndarray) -> np.ndarray:
    """Utility of every municipality (columns) for each combination (rows); origin = -inf.

    Utility is additive in an origin part, a group part (network), a needs part (services) and
    a job part (labour market), so each is a small table and a row is four gathered rows.
    """
    geo = world.geography
    if world.static_utility is None:
        raise RuntimeError("world.static_utility is set when the model is created")
    network = params.dest_network_effect * np.log1p(stock)  # (groups, n)
    services = np.stack([geo.upper_secondary, geo.higher_education, geo.hospital]).astype(float)
    bits = (np.arange(8)[:, None] >> np.arange(3)) & 1  # (8 need codes, 3 services)
    service = params.dest_service_effect * (bits @ services)  # (8, n)
    labour = params.dest_labour_effect * np.outer([1.0, 2.0], geo.labour_market)  # (2, n)
    return (world.static_utility[origin] + network[group] + service[needs] + labour[job])


COMBO_CHUNK = 2048  # combinations per block: bounds memory at ~6 MB per (block x 357) array


def choose_destinations(world: World, params: Params, decision: MoveDecision,
                        stock: np.ndarray, u: np.ndarray) -> np.ndarray:
    """Stage 5: a destination for each mover, from one uniform per mover (``u``).

    Combinations are processed in blocks (a loop over blocks, never over households) so that
    memory stays flat however many movers a peak year has.
    """
    movers = decision.movers
    if len(movers) == 0:
        return np.zeros(0, dtype=np.int16)
    hh = world.households
    n = world.geography.n
    origin = hh.municipality[movers].astype(np.int64)
    group = hh.group[movers].astype(np.int64)
    key = (((origin * len(COUNTRY_GROUPS) + group) * 8 + need_bits(world, movers)) * 2
           + decision.job.astype(np.int64))
    combos, row = np.unique(key, return_inverse=True)
    tie = hh.tie[movers].astype(np.int64)
    has_tie = (tie >= 0) & (tie != origin)
    dest = np.empty(len(movers), dtype=np.int64)
    order = np.argsort(row, kind="stable")
    bounds = np.searchsorted(row[order], np.arange(0, len(combos) + COMBO_CHUNK, COMBO_CHUNK))
    for b, start in enumerate(range(0, len(combos), COMBO_CHUNK)):
        block = combos[start:start + COMBO_CHUNK]
        who = order[bounds[b]:bounds[b + 1]]
        util = destination_utilities(world, params, stock, block // (16 * len(COUNTRY_GROUPS)),
                                     (block // 16) % len(COUNTRY_GROUPS), (block // 2) % 8,
                                     block % 2)
        util -= util.max(axis=1, keepdims=True)
        np.exp(util, out=util)
        cdf = np.cumsum(util, axis=1, out=util)
        cdf /= cdf[:, -1:]
        r = row[who] - start

        # a tie multiplies its municipality's weight by exp(dest_tie_effect): as a mixture,
        # choose the tie with probability lam, else sample the row as it is
        t = np.maximum(tie[who], 0)
        p_tie = np.where(has_tie[who], cdf[r, t] - np.where(t > 0, cdf[r, t - 1], 0.0), 0.0)
        boost = np.expm1(params.dest_tie_effect) * p_tie
        lam = boost / (1.0 + boost)
        rest = np.clip((u[who] - lam) / np.maximum(1.0 - lam, 1e-300), 0.0,
                       np.nextafter(1.0, 0.0))
        cdf += np.arange(len(cdf))[:, None]
        pos = np.searchsorted(cdf.ravel(), r + rest, side="right") - r * n
        dest[who] = np.where(u[who] < lam, tie[who], np.minimum(pos, n - 1))
    return dest.astype(np.int16)

"""What the calibrated model predicts for a household of each kind placed in each
municipality: the chance it still lives there after N years, and the share of its adults
employed then. These are the matching's objective (docs/placement.md).

The prediction uses only what is known at placement: the household's kind and each
municipality's state in the settlement year (network stocks, integration quality, labour
market, services), *frozen*: it does not see the cohort it arrives with, later arrivals or
later moves. That is the static prediction every deployed matching tool makes; the simulation
then shows what network feedback does to it (docs/policy.md, "Placement").

It evaluates the model's own specification functions (``move_logits``, ``rights_costs``,
``employment_logit``, ``in_programme``, ``holds_rights``) on one representative household
per (kind, municipality), and follows the expected path: each adult's employment as a
two-state Markov chain, belonging by its update rule at the expected employment, and the
yearly move hazard averaged over employed or not and over having a tie elsewhere (the tie's
place drawn, as in the model, where the group lives). Simplifications, stated: lone parents
are predicted as mothers (90 % are), moves the rights rule delays are not carried forward,
and needs that arise later (a youth starting school, higher education) are not foreseen.
"""

from __future__ import annotations

from dataclasses import dataclass, replace

import numpy as np

from simulation.engine.households import SINGLE_MAN, SINGLE_WOMAN, Households
from simulation.engine.matching.kinds import Kinds
from simulation.engine.move_odds import move_logits, rights_costs
from simulation.engine.runparams import RunParams
from simulation.engine.terms import (
    NETWORK_SATURATION,
    TIE_POPULATION_WEIGHT,
    employment_logit,
    holds_rights,
    in_programme,
    logistic,
)
from simulation.engine.world import World


@dataclass(frozen=True)
class Prediction:
    """Per (kind, municipality): the chance of still living there after ``horizon`` years,
    and the expected share of the adults employed then (if they stay)."""

    stay: np.ndarray
    employed: np.ndarray
    horizon: int


def representatives(kinds: Kinds, year: int, municipalities: np.ndarray) -> Households:
    """One household per (kind, municipality in ``municipalities``), kind-major, settled
    there in ``year``."""
    k, m = kinds.n_kinds, len(municipalities)
    hh = Households.empty(k * m)
    kind = np.repeat(np.arange(k), m)
    muni = np.tile(municipalities.astype(np.int16), k)
    hh.cohort[:] = year
    hh.settlement[:] = muni
    hh.municipality[:] = muni
    hh.htype[:] = kinds.htype[kind]
    hh.group[:] = kinds.group[kind]
    hh.size[:] = 1
    hh.age0[:] = np.rint(kinds.age[kind]).astype(np.int16)
    hh.alive[:] = True
    hh.need_school[:] = kinds.need_school[kind]
    hh.need_health[:] = kinds.need_health[kind]
    hh.set_sex(np.arange(k * m), np.ones(k * m, dtype=bool))  # lone parents: mothers
    return hh


def expected_tie_pull(world: World, params: RunParams) -> np.ndarray:
    """(group, municipality): a tie's expected pull (terms.tie_pull) for a household living
    there, its tie's place drawn as terms.draw_ties draws it."""
    geo = world.geography
    weights = world.stock + TIE_POPULATION_WEIGHT * geo.population[None, :]
    weights = weights / weights.sum(axis=1, keepdims=True)
    return weights @ params.tie_pull.T


def predict(world: World, params: RunParams, year: int, kinds: Kinds, horizon: int,
            municipalities: np.ndarray | None = None) -> Prediction:
    """The static prediction for ``kinds`` placed in ``year`` (see the module docstring), in
    ``municipalities`` (default all; elsewhere the prediction is 0)."""
    geo = world.geography
    n_m = geo.n
    where = np.arange(n_m) if municipalities is None else np.asarray(municipalities)
    reps = representatives(kinds, year, where)
    frozen = replace(world, households=reps)  # the world as it is at placement
    rows = np.arange(len(reps))
    m = reps.municipality.astype(np.int64)
    g = reps.group.astype(np.int64)
    has_b = reps.has_b
    single = (reps.htype == SINGLE_MAN) | (reps.htype == SINGLE_WOMAN)
    network_level = np.minimum(np.log1p(world.stock) / NETWORK_SATURATION, 1.0)[g, m]
    unmet = ((reps.need_school & ~geo.upper_secondary[m])
             | (reps.need_health & ~geo.hospital[m]))
    weights = np.array([params.belonging_quality_weight, params.belonging_network_weight,
                        params.belonging_employment_weight, params.belonging_needs_weight])
    weight_sum = max(weights.sum(), 1e-12)
    tie_effect = params.move_tie_effect * expected_tie_pull(world, params)[g, m]

    e_a = np.zeros(len(reps))
    e_b = np.zeros(len(reps))
    belonging = np.zeros(len(reps))
    stay = np.ones(len(reps))
    for k in range(horizon):
        y = year + k
        reps.belonging[:] = belonging
        programme = in_programme(frozen, params, y)
        for e, female, present in ((e_a, reps.female_a, True), (e_b, reps.female_b, has_b)):
            p_find = logistic(employment_logit(frozen, params, y, m, programme, female, rows))
            e[:] = np.where(present, e * (1 - params.employment_exit_rate)
                            + (1 - e) * p_find, 0.0)
        p_employed = 1 - (1 - e_a) * (1 - e_b)
        drivers = (weights[0] * world.quality[m] + weights[1] * network_level
                   + weights[2] * p_employed + weights[3] * ~unmet) / weight_sum
        belonging = belonging + params.belonging_rate * drivers * (1 - belonging)
        reps.belonging[:] = belonging
        rights = holds_rights(frozen, params, y)
        # a tie elsewhere: on arrival (tie_share), singles may form one each year after
        with_tie = np.where(single, 1 - (1 - params.tie_share)
                            * (1 - params.tie_onset_rate) ** (k + 1), params.tie_share)
        hazard = np.zeros(len(reps))
        for employed, p_state in ((False, 1 - p_employed), (True, p_employed)):
            reps.employed[:] = employed
            general, job = move_logits(frozen, params, y, programme)
            cost_general, cost_job = rights_costs(frozen, params, rights)
            p_job = logistic(job - cost_job)
            for tie, p_tie in ((0.0, 1 - with_tie), (1.0, with_tie)):
                p_general = logistic(general + tie * tie_effect - cost_general)
                hazard += p_state * p_tie * (1 - (1 - p_job) * (1 - p_general))
        stay *= 1 - hazard
    adults = np.where(has_b, 2.0, 1.0)
    employed_share = (e_a + e_b) / adults
    shape = (kinds.n_kinds, len(where))
    out_stay = np.zeros((kinds.n_kinds, n_m))
    out_employed = np.zeros((kinds.n_kinds, n_m))
    out_stay[:, where] = stay.reshape(shape)
    out_employed[:, where] = employed_share.reshape(shape)
    return Prediction(stay=out_stay, employed=out_employed, horizon=horizon)

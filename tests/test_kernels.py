"""The compiled kernels (engine/kernels.py) against the numpy functions they replaced, which
the engine no longer calls and which stay as the readable specification: bit for bit
(``np.array_equal``) on real engine state in the middle of a run.

Each test runs the engine (a few years at a tenth of the scale, calibrated parameters, with
and without the rights rule, several seeds) with a spy in place of one kernel: the spy gets
the arguments of the engine's own call, works out the numpy specification on the world as it
is at that moment, calls the kernel, and compares. So the kernels are checked with the
arguments the engine really passes, not a hand-copied argument list.
"""

from __future__ import annotations

import copy
import inspect
from collections import Counter
from collections.abc import Callable, Iterator
from typing import Any

import numpy as np
import pytest

import simulation
from simulation.engine import kernels
from simulation.engine.model import SecondaryMigrationModel
from simulation.engine.move_odds import move_logits, rights_costs
from simulation.engine.observe import employment_chunk, municipal_adults, working_age
from simulation.engine.randomness import counter_normals, counter_uniforms
from simulation.engine.stages.destination import destination_utilities, offset_search
from simulation.engine.stages.exits import emigration_rates
from simulation.engine.stages.life_course import household_income, update_work
from simulation.engine.terms import employment_logit, holds_rights, in_programme

SEEDS = (1, 2, 3)
START, END = 2010, 2014


@pytest.fixture(scope="module")
def inputs() -> simulation.Inputs:
    return simulation.default_inputs(START, END).scaled(0.1)


def scenarios() -> Iterator[simulation.Params]:
    """The calibrated parameters (the rights rule as fitted), the no-rule scenario, and the
    rule with the job-move exemption (the other branch of rights_costs)."""
    calibrated = simulation.calibrated()
    yield calibrated
    yield calibrated.replace(rights_years=0)
    yield calibrated.replace(job_move_exemption=1)


def run_with_spy(monkeypatch: pytest.MonkeyPatch, inputs: simulation.Inputs, name: str,
                 check: Callable[[SecondaryMigrationModel, dict[str, Any], Callable[[], None]],
                                 None]) -> None:
    """Run every scenario and seed with kernels.``name`` replaced by a spy that calls
    ``check(model, arguments by name, call)``; ``check`` must ``call()`` the kernel once
    (after saving what the kernel overwrites) and then compare."""
    original = getattr(kernels, name)
    signature = inspect.signature(original.py_func)
    current: dict[str, SecondaryMigrationModel] = {}

    def spy(*args: Any) -> None:
        calls = []

        def call() -> None:
            calls.append(original(*args))

        check(current["model"], dict(signature.bind(*args).arguments), call)
        assert len(calls) == 1, f"the check of {name} must call the kernel once"

    monkeypatch.setattr(kernels, name, spy)
    for params in scenarios():
        for seed in SEEDS:
            model = current["model"] = SecondaryMigrationModel(params, inputs, seed)
            model.run_model()
            model.release()


def test_move_logits_and_rights_costs_are_the_kernels(monkeypatch, inputs):
    """kernels.move_logits == move_odds.move_logits and rights_costs (with
    terms.in_programme and holds_rights): the log-odds less the rule's costs, the rule-free
    log-odds where the rule costs something, and the rights held, for every row alive (the
    kernel's cache of tie pulls included: the numpy side recomputes every pull)."""
    seen: Counter[str] = Counter()

    def check(model, a, call):
        world, params, year = model.world, model.params, a["year"]
        alive = world.households.alive
        general, job = move_logits(world, params, year, in_programme(world, params, year))
        rights = holds_rights(world, params, year)
        cost_general, cost_job = rights_costs(world, params, rights)
        call()
        hit = (cost_general != 0.0) | (cost_job != 0.0)
        assert np.array_equal(a["neg_job"][alive], (-(job - cost_job))[alive])
        assert np.array_equal(a["neg_general"][alive], (-(general - cost_general))[alive])
        assert np.array_equal(a["constrained"][alive], hit[alive])
        assert np.array_equal(a["rights"][alive], rights[alive])
        rows = np.flatnonzero(alive & hit)
        assert np.array_equal(a["job_free"][rows], job[rows])
        assert np.array_equal(a["general_free"][rows], general[rows])
        seen["rows"] += int(alive.sum())
        seen["constrained"] += len(rows)
        seen["job cost"] += int(np.count_nonzero(np.asarray(cost_job)[alive]))
        seen["ties elsewhere"] += int(np.count_nonzero(
            alive & (world.households.tie >= 0)
            & (world.households.tie != world.households.municipality)))

    run_with_spy(monkeypatch, inputs, "move_logits", check)
    # not vacuous: the rule bites, with and without a cost on job moves, and ties pull
    assert seen["constrained"] > 1000 and seen["job cost"] > 100
    assert seen["ties elsewhere"] > 100, seen


def test_employment_logit_is_the_kernel(monkeypatch, inputs):
    """kernels.employment_logits == terms.in_programme and minus terms.employment_logit for
    each adult without work (as update_work asks for it), 0 for everyone else."""
    seen: Counter[str] = Counter()

    def check(model, a, call):
        world, params, year = model.world, model.params, a["year"]
        hh = world.households
        programme = in_programme(world, params, year)
        expected = []
        for employed, female, present in ((hh.employed_a, hh.female_a, hh.alive),
                                          (hh.employed_b, hh.female_b, hh.alive & hh.has_b)):
            seeking = np.flatnonzero(present & ~employed)
            neg = np.zeros(len(hh))
            neg[seeking] = -employment_logit(world, params, year, hh.municipality[seeking],
                                             programme[seeking], female[seeking], seeking)
            expected.append(neg)
            seen["seeking"] += len(seeking)
        call()
        assert np.array_equal(a["programme"], programme)
        assert np.array_equal(a["neg_a"], expected[0])
        assert np.array_equal(a["neg_b"], expected[1])

    run_with_spy(monkeypatch, inputs, "employment_logits", check)
    assert seen["seeking"] > 10000, seen


def test_update_work_is_the_kernel(monkeypatch, inputs):
    """kernels.life_course_rest == life_course.update_work (as the stage called it: the same
    uniforms, drawn here in full from the streams the kernel was given), then needs,
    belonging and the tie onset as whole-array numpy in the stage's order (the kernel draws
    a need's onset, end or a tie only where it can matter; here every row's number is
    drawn), on a copy of the households taken before the kernel."""
    seen: Counter[str] = Counter()

    def check(model, a, call):
        world, params, year = model.world, model.params, a["year"]
        hh = world.households
        n = len(hh)
        spec = copy.copy(world)
        spec.households = copy.deepcopy(hh)
        programme = in_programme(spec, params, year)
        assert np.array_equal(a["programme"], programme)  # the kernel's programme (stage 2)
        draws = dict(zip(kernels.LIFE_COURSE_DRAWS, a["draws"], strict=True))
        for name, (state, gamma) in draws.items():  # the streams the stage's names give
            assert (state, gamma) == model.streams.counter("life_course", name, year), name
        u = {name: counter_uniforms(*key, n) for name, key in draws.items()}
        update_work(spec, params, year, programme, u["work"], u["work_b"])
        # needs, belonging and the tie onset (MODEL.md 4.2-4.3) on every row
        sh = spec.households
        live, t, m = sh.alive, sh.htype, sh.municipality.astype(np.int64)
        years = sh.years_since(year)
        age = sh.age(year)
        family = (t == 3) | (t == 4)
        young = (age >= 19) & (age <= 30) & (years >= params.programme_years)
        ns = sh.need_school | (live & family & (u["school_need_onset"] < params.school_need_onset))
        nh = sh.need_higher | (live & young & ~programme
                               & (u["higher_education_onset"] < params.higher_education_onset))
        ns &= ~(u["school_need_ends"] < params.need_end_rate)
        nh &= ~(u["higher_education_ends"] < params.need_end_rate)
        geo = world.geography
        unmet = ((ns & ~geo.upper_secondary[m]) | (nh & ~geo.higher_education[m])
                 | (sh.need_health & ~geo.hospital[m]))
        weights = [params.belonging_quality_weight, params.belonging_network_weight,
                   params.belonging_employment_weight, params.belonging_needs_weight]
        drivers = (weights[0] * a["quality"][m]
                   + weights[1] * a["network_level"][sh.group, m]
                   + weights[2] * sh.employed.astype(float)
                   + weights[3] * (~unmet).astype(float)) / max(sum(weights), 1e-12)
        b = sh.belonging
        belonging = np.where(live, b + params.belonging_rate * drivers * (1.0 - b), b)
        tie = sh.tie
        new_tie = (live & ((t == 0) | (t == 1)) & ((tie < 0) | (tie == m))
                   & (u["tie_onset"] < params.tie_onset_rate))
        was_employed = hh.employed.copy()
        call()
        for column in ("employed_a", "employed_b", "employed"):
            assert np.array_equal(getattr(hh, column), getattr(spec.households, column)), column
        assert np.array_equal(hh.need_school, ns) and np.array_equal(hh.need_higher, nh)
        assert np.array_equal(hh.belonging, belonging)
        assert np.array_equal(a["new_tie"], new_tie)
        seen["needs"] += int(np.count_nonzero(ns != sh.need_school)
                             + np.count_nonzero(nh != sh.need_higher))
        seen["ties"] += int(new_tie.sum())
        seen["rows"] += int(hh.alive.sum())
        seen["changed"] += int(np.count_nonzero(was_employed != hh.employed))
        seen["programme"] += int(programme.sum())

    run_with_spy(monkeypatch, inputs, "life_course_rest", check)
    assert seen["changed"] > 1000 and seen["programme"] > 1000, seen
    assert seen["needs"] > 100 and seen["ties"] > 10, seen


def test_household_income_is_the_kernel(monkeypatch, inputs):
    """kernels.household_incomes (income worked out only for the rows where it is recorded:
    movers, a move's year after, every row in the last year) == life_course.household_income
    on every row of the world as it is when the kernel is called, with the year's full draw
    of the noise, 0 for rows no longer alive; so a recorded income does not depend on which
    rows asked. (That it is called on the right state is
    test_recorded_incomes_are_those_the_life_course_leaves.)"""
    seen: Counter[str] = Counter()

    def check(model, a, call):
        world, params, year = model.world, model.params, a["year"]
        hh = world.households
        n = len(hh)
        noise = counter_normals(*model.streams.counter("life_course", "income_noise", year), n)
        programme = in_programme(world, params, year)
        income = np.where(hh.alive, household_income(world, params, year, programme, noise),
                          0.0)
        call()
        rows = a["rows"]
        assert np.array_equal(a["out"], income[rows])
        seen["rows"] += len(rows)
        seen["calls"] += 1
        seen["programme"] += int(programme[rows].sum())

    run_with_spy(monkeypatch, inputs, "household_incomes", check)
    # movers and a year after (every year), every row in the last year
    assert seen["calls"] > 20 and seen["programme"] > 100, seen


def test_destination_utilities_is_the_kernel(monkeypatch, inputs):
    """kernels.destination_utilities == destination.destination_utilities less each row's
    maximum, for every block of combinations the engine computes."""
    seen: Counter[str] = Counter()

    def check(model, a, call):
        util = destination_utilities(model.world, model.params, a["origin"], a["group"],
                                     a["needs"], a["job"])
        util -= util.max(axis=1, keepdims=True)
        call()
        assert np.array_equal(a["out"], util)
        seen["combinations"] += len(a["origin"])

    run_with_spy(monkeypatch, inputs, "destination_utilities", check)
    assert seen["combinations"] > 1000, seen


def test_offset_search_is_the_kernels_search(monkeypatch, inputs):
    """kernels.destination_draw's running sums and search == numpy's cumsum and
    destination.offset_search. Where a mover has no tie elsewhere the tie's share is 0 and
    the search's query is the shift plus its uniform, so the engine's own call is compared on
    those movers; the kernel is called a second time on the same weights with no ties, so that
    every mover is compared. (The tie's mixture, the other branch, has no numpy
    specification left to compare with.)"""
    seen: Counter[str] = Counter()

    def check(model, a, call):
        weights = a["weights"]
        n = weights.shape[1]
        again = weights.copy()
        cumsum = np.cumsum(weights, axis=1)
        r, shift, u = a["r"], a["shift"], a["u"]
        position = np.minimum(offset_search(cumsum.T, cumsum[:, -1], r, shift, shift + u),
                              n - 1)
        call()
        assert np.array_equal(weights, cumsum)  # the kernel leaves the running sums
        free = ~a["has_tie"]
        assert np.array_equal(a["dest"][free], position[free])
        dest = np.empty_like(a["dest"])
        draw(again, r, shift, u, a["tie"], np.zeros_like(a["has_tie"]), a["tie_boost"], dest)
        assert np.array_equal(dest, position)
        seen["movers"] += len(r)
        seen["without a tie"] += int(free.sum())

    draw = kernels.destination_draw  # the kernel itself, for the second call
    run_with_spy(monkeypatch, inputs, "destination_draw", check)
    assert seen["without a tie"] > 1000 and seen["movers"] > seen["without a tie"], seen


def test_emigration_rates_is_the_kernel(monkeypatch, inputs):
    """kernels.exit_reasons == exits.emigration_rates and the comparisons of exits' docstring
    (emigrates below the rate, dies out up to rate + death rate, rows alive only)."""
    seen: Counter[str] = Counter()

    def check(model, a, call):
        world, params = model.world, model.params
        rate = emigration_rates(world, params, a["year"])
        alive = world.households.alive
        u = counter_uniforms(a["u_state"], a["u_gamma"], len(alive))
        assert (a["u_state"], a["u_gamma"]) == model.streams.counter("exits", "exit", a["year"])
        emigrates = alive & (u < rate)
        dies = alive & ~emigrates & (u < rate + params.death_rate)
        call()
        assert np.array_equal(a["reason"], np.where(emigrates, 1, np.where(dies, 2, 0)))
        seen["emigrate"] += int(emigrates.sum())
        seen["rural start"] += int(np.count_nonzero(alive & (rate != params.emigration_rate)))

    run_with_spy(monkeypatch, inputs, "exit_reasons", check)
    assert seen["emigrate"] > 100 and seen["rural start"] > 1000, seen


def test_employment_chunk_and_municipal_adults_are_the_observers_counts(inputs):
    """kernels.observe_counts (through Observer.observe) == observe.employment_chunk and
    municipal_adults (adults and employed adults) on the world as observed, every year."""
    rows = 0
    for params in scenarios():
        for seed in SEEDS:
            model = SecondaryMigrationModel(params, inputs, seed)
            while model.running:
                model.step()
                world, year = model.observed, model.year - 1
                counted = working_age(world, year)
                spec = employment_chunk(world, year)
                chunk = model.observer.employment[-1]
                assert spec.keys() == chunk.keys()
                for key, column in spec.items():
                    assert column.dtype == chunk[key].dtype, key
                    assert np.array_equal(column, chunk[key]), key
                assert np.array_equal(model.observer.municipal["adults"],
                                      municipal_adults(world, year, counted=counted))
                assert np.array_equal(model.observer.municipal["employed_adults"],
                                      municipal_adults(world, year, employed=True))
                rows += len(spec["adults"])
            model.release()
    assert rows > 100


def test_recorded_incomes_are_those_the_life_course_leaves(inputs):
    """Where income is recorded, it is the income of the state the life course leaves, as
    if it had been worked out for every row then (what the engine did before it computed
    income only where recorded): a move's income before is its year's, its income after the
    next year's (NaN if the household left Norway in between), the households table's the
    last year's. A change that moved the computation (after the move, say) fails here."""
    params = simulation.calibrated()
    for seed in SEEDS:
        model = SecondaryMigrationModel(params, inputs, seed)
        at_life_course: dict[int, tuple[np.ndarray, np.ndarray]] = {}

        def after(stage, model=model, at_life_course=at_life_course):
            def run(world, run_params, year, rng):
                stage(world, run_params, year, rng)
                hh = world.households
                noise = counter_normals(*model.streams.counter("life_course", "income_noise",
                                                               year), len(hh))
                programme = in_programme(world, run_params, year)
                income = household_income(world, run_params, year, programme, noise)
                at_life_course[year] = (np.where(hh.alive, income, 0.0), hh.alive.copy())
            return run

        model.stages = tuple((name, after(f) if name == "life_course" else f)
                             for name, f in model.stages)
        model.run_model()
        events = model.world.events.columns()
        assert len(events["year"]) > 300
        for k in range(len(events["year"])):
            when, row = int(events["year"][k]), int(events["household"][k])
            assert events["income_before"][k] == at_life_course[when][0][row]
            later = at_life_course.get(when + 1)
            if later is None or not later[1][row]:
                assert np.isnan(events["income_after"][k])
            else:
                assert events["income_after"][k] == later[0][row]
        last = at_life_course[inputs.end][0]
        assert np.array_equal(model.world.households.income, last)
        model.release()

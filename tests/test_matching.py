"""Placement by matching (simulation/engine/matching): the assignment respects every capacity
and constraint exactly, reports infeasible settings by name, keeps the baseline when the
objective has no weight, draws households into slots reproducibly, and (paired over
replicates) raises predicted and simulated five-year retention."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from dataclasses import replace
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from scipy.optimize import linprog

import simulation
from simulation.engine.matching.kinds import household_kinds
from simulation.engine.matching.predict import predict
from simulation.engine.matching.slots import draw_into_slots
from simulation.engine.matching.solve import InfeasibleError, Problem, solve
from simulation.engine.model import SecondaryMigrationModel
from simulation.engine.randomness import Streams
from simulation.engine.runparams import RunParams
from simulation.engine.stages.settlement import place
from simulation.inputs.categories import COUNTRY_GROUPS
from simulation.inputs.defaults import MatchingPolicy, default_inputs
from simulation.inputs.parameters import Params
from tests.conftest import ROOT

SECMIG = shutil.which("secmig") or str(Path(sys.executable).parent / "secmig")

# ------------------------------------------------------------------ the solver


def random_problem(seed: int, n_s: int = 40, n_m: int = 25, slack: float = 0.1,
                   sizes=(1, 1, 1, 2, 3, 4, 5, 6)) -> Problem:
    """A random assignment problem whose baseline (a random placement) is feasible."""
    rng = np.random.default_rng(seed)
    size = rng.choice(sizes, n_s).astype(np.int64)
    size[:3] = 1  # some single persons to fill the gaps
    count = rng.integers(1, 12, n_s).astype(np.int64)
    group = rng.integers(0, 3, n_s).astype(np.int64)
    x0 = np.zeros((n_s, n_m), dtype=np.int64)
    for s in range(n_s):
        np.add.at(x0[s], rng.integers(0, n_m, count[s]), 1)
    persons = (size[:, None] * x0).sum(axis=0)
    upper = np.floor(persons * (1 + slack)).astype(np.int64)
    value = size[:, None] * rng.uniform(0.5, 1.0, (n_s, n_m))
    return Problem(size=size, count=count, group=group, value=value, x0=x0, upper=upper,
                   lower=np.zeros(n_m, dtype=np.int64))


def check_feasible(p: Problem, x: np.ndarray) -> None:
    """Every household once; persons within [lower, upper]; caps and arcs respected."""
    assert x.dtype == np.int64 and (x >= 0).all()
    assert (x.sum(axis=1) == p.count).all()
    persons = (p.size[:, None] * x).sum(axis=0)
    assert (persons <= p.upper).all() and (persons >= p.lower).all()
    for mask in p.allowed.values():
        assert (x[~mask] == 0).all()
    if p.group_cap is not None:
        by_group = np.zeros_like(p.group_cap)
        np.add.at(by_group, p.group, p.size[:, None] * x)
        assert (by_group <= p.group_cap).all()


@pytest.mark.parametrize("seed", range(8))
def test_assignment_respects_capacities_and_is_near_its_bound(seed):
    p = random_problem(seed)
    sol = solve(p)
    check_feasible(p, sol.x)
    baseline_value = float((p.x0 * p.value).sum())
    assert baseline_value - 1e-9 <= sol.value <= sol.bound + 1e-6
    # whole families cost little against the relaxation that may split them
    assert sol.value >= 0.97 * sol.bound
    assert sol.moved == int((sol.x - np.minimum(sol.x, p.x0)).sum())


@pytest.mark.parametrize("seed", range(4))
def test_every_constraint_holds_exactly(seed):
    p = random_problem(seed, slack=0.3)
    rng = np.random.default_rng(100 + seed)
    n_s, n_m = p.value.shape
    school = rng.random(n_m) < 0.7
    needs = rng.random(n_s) < 0.3
    persons = (p.size[:, None] * p.x0).sum(axis=0)
    lower = np.floor(0.6 * persons).astype(np.int64)
    cap = np.maximum(np.floor(0.6 * p.upper), 8).astype(np.float64)
    p = replace(p, lower=lower, allowed={"school": ~needs[:, None] | school[None, :]},
                group_cap=np.broadcast_to(cap, (3, n_m)).copy())
    sol = solve(p)
    check_feasible(p, sol.x)


def test_single_persons_reach_the_linear_optimum():
    """With only single persons the flow's whole-person optimum is the LP optimum."""
    p = random_problem(3, sizes=(1,))
    sol = solve(p)
    n_s, n_m = p.value.shape
    a_eq = np.kron(np.eye(n_s), np.ones(n_m))
    a_ub = np.kron(np.ones(n_s), np.eye(n_m))
    lp = linprog(-p.value.ravel(), A_ub=a_ub, b_ub=p.upper, A_eq=a_eq, b_eq=p.count,
                 bounds=(0, None), method="highs")
    # costs are rounded to 1e-6 per person in the flow
    assert sol.value == pytest.approx(-lp.fun, abs=1e-6 * p.count.sum() + 1e-9)
    assert sol.bound == pytest.approx(-lp.fun, abs=1e-6 * p.count.sum() + 1e-9)


def test_zero_objective_keeps_the_baseline_exactly():
    p = random_problem(5)
    sol = solve(replace(p, value=np.zeros_like(p.value)))
    assert (sol.x == p.x0).all() and sol.moved == 0


@pytest.mark.parametrize("seed", range(3))
def test_a_constant_shift_per_kind_changes_nothing(seed):
    """Only differences between municipalities matter: adding a constant per household kind
    (every municipality alike) leaves the assignment as it is."""
    p = random_problem(seed)
    shift = p.size[:, None] * np.random.default_rng(seed).uniform(0, 0.3, (len(p.size), 1))
    a, b = solve(p), solve(replace(p, value=p.value + shift))
    assert (a.x == b.x).all()


def test_infeasible_settings_are_named():
    p = random_problem(1)
    n_s, n_m = p.value.shape
    nowhere = np.ones((n_s, n_m), dtype=bool)
    nowhere[0] = False  # slot kind 0 may go nowhere
    with pytest.raises(InfeasibleError) as err:
        solve(replace(p, allowed={"school": nowhere}))
    assert err.value.names == ("school",)
    with pytest.raises(InfeasibleError) as err:
        solve(replace(p, group_cap=np.zeros((3, n_m))))
    assert err.value.names == ("group_cap",)
    with pytest.raises(InfeasibleError) as err:
        solve(replace(p, lower=p.upper + 1))
    assert err.value.names == ("lower",)


def test_families_that_cannot_be_whole_are_reported():
    """Capacity for 4 persons in each of two municipalities, one family of 3 and one of 5:
    the persons fit, the households do not."""
    p = Problem(size=np.array([3, 5]), count=np.array([1, 1]), group=np.array([0, 0]),
                value=np.ones((2, 2)), x0=np.array([[1, 0], [0, 1]]),
                upper=np.array([4, 4]), lower=np.array([0, 0]))
    with pytest.raises(InfeasibleError) as err:
        solve(p)
    assert err.value.names[0] in ("whole", "lower")


# ------------------------------------------------------------------ slots


def test_households_fill_their_slots_reproducibly():
    rng = np.random.default_rng(7)
    n, n_s, n_m = 500, 12, 9
    slot = rng.integers(0, n_s, n)
    base = rng.integers(0, n_m, n)
    x0 = np.zeros((n_s, n_m), dtype=np.int64)
    np.add.at(x0, (slot, base), 1)
    x = np.zeros_like(x0)  # the same households per slot kind, elsewhere
    for s in range(n_s):
        np.add.at(x[s], rng.integers(0, n_m, x0[s].sum()), 1)
    u = rng.random(n)
    out = draw_into_slots(slot, base, x, u)
    got = np.zeros_like(x)
    np.add.at(got, (slot, out), 1)
    assert (got == x).all()
    # as many as the assignment keeps in the baseline municipality stay there
    stayed = np.zeros_like(x)
    np.add.at(stayed, (slot[out == base], base[out == base]), 1)
    assert (stayed == np.minimum(x, x0)).all()
    assert (draw_into_slots(slot, base, x, u) == out).all()
    assert (draw_into_slots(slot, base, x, rng.random(n)) != out).any()


def test_an_assignment_that_loses_households_is_refused():
    with pytest.raises(ValueError, match="exactly once"):
        draw_into_slots(np.array([0, 0]), np.array([0, 1]), np.array([[1, 0]]),
                        np.array([0.1, 0.2]))


# ------------------------------------------------------------------ in the model


def matching_inputs(start: int = 2010, end: int = 2016, scale: float = 0.25,
                    **settings) -> simulation.Inputs:
    inputs = default_inputs(start, end).scaled(scale)
    return replace(inputs, allocation=replace(inputs.allocation,
                                              matching=MatchingPolicy(**settings)))


@pytest.fixture(scope="module")
def world_2014():
    """A model run to the end of 2013 (its world as the 2014 cohort arrives)."""
    inputs = matching_inputs(2010, 2014, scale=1.0)
    model = SecondaryMigrationModel(Params(), replace(inputs, end=2013), seed=4)
    model.run_model()
    yield model.world, inputs
    model.release()


def _placed(world, inputs, year=2014, seed=9):
    world = replace(world, matching_log=[])
    placed = place(inputs.geography, RunParams(Params(), inputs), year,
                   Streams(seed).draws("settlement", year), world)
    return placed, world.matching_log[0]


def test_capacities_are_the_baseline_persons(world_2014):
    world, inputs = world_2014
    base_inputs = replace(inputs, allocation=replace(inputs.allocation, matching=None))
    base = place(inputs.geography, RunParams(Params(), base_inputs), 2014,
                 Streams(9).draws("settlement", 2014))
    placed, log = _placed(world, inputs)
    n = inputs.geography.n

    def persons(p):
        return np.bincount(p.cohort.settlement, weights=p.cohort.size, minlength=n)

    assert (persons(placed) == persons(base)).all()
    assert (placed.cohort.municipality == placed.cohort.settlement).all()
    # the same households (attributes), only the municipality may differ
    for col in ("htype", "size", "group", "age0", "productivity", "need_school"):
        assert (getattr(placed.cohort, col) == getattr(base.cohort, col)).all()
    assert log.moved_households > 0
    assert log.predicted_retention_matched > log.predicted_retention_baseline
    assert log.objective_value <= log.objective_bound + 1e-6


def test_constraints_hold_in_the_model(world_2014):
    world, inputs = world_2014
    geo = inputs.geography
    intake_codes = [str(c) for c in geo.codes[np.argsort(-geo.population)[:3]]]
    settings = dict(upper_secondary_for_youth=True, hospital_for_health_needs=True,
                    max_group_share=0.6, group_share_floor=12, slack=0.2,
                    minimum_fill=0.5, minimum_intake={intake_codes[0]: 400})
    constrained = replace(inputs, allocation=replace(inputs.allocation,
                                                     matching=MatchingPolicy(**settings)))
    placed, _ = _placed(world, constrained)
    c, ag = placed.cohort, placed.by_agreement
    m = c.settlement
    assert geo.upper_secondary[m[ag & c.need_school]].all()
    assert geo.hospital[m[ag & c.need_health]].all()
    base_inputs = replace(inputs, allocation=replace(inputs.allocation, matching=None))
    base = place(geo, RunParams(Params(), base_inputs), 2014,
                 Streams(9).draws("settlement", 2014))
    bc = base.cohort
    base_persons = np.bincount(bc.settlement[base.by_agreement],
                               weights=bc.size[base.by_agreement], minlength=geo.n)
    persons = np.bincount(m[ag], weights=c.size[ag], minlength=geo.n)
    upper = np.floor(base_persons * 1.2 + 1e-9)
    assert (persons <= np.maximum(upper, 0)).all() or persons[geo.index_of(intake_codes[0])]
    assert (persons >= np.floor(0.5 * base_persons + 1e-9)).all()
    assert persons[geo.index_of(intake_codes[0])] >= 400
    cap = np.maximum(np.floor(0.6 * np.maximum(upper, 0) + 1e-9), 12)
    cap[geo.index_of(intake_codes[0])] = max(cap[geo.index_of(intake_codes[0])],
                                             np.floor(0.6 * 400))
    for g in range(len(COUNTRY_GROUPS)):
        sel = ag & (c.group == g)
        by_muni = np.bincount(m[sel], weights=c.size[sel], minlength=geo.n)
        assert (by_muni <= cap).all()


def test_prediction_is_the_model_frozen_at_arrival(world_2014):
    """The prediction is a probability, falls with the horizon, and sees the municipality's
    network: a kind's chance of staying is higher where its group lives than where it does
    not (the network lowers the move hazard in the fitted model too)."""
    world, inputs = world_2014
    params = RunParams(Params(), inputs)
    base = replace(inputs, allocation=replace(inputs.allocation, matching=None))
    cohort = place(inputs.geography, RunParams(Params(), base), 2014,
                   Streams(9).draws("settlement", 2014)).cohort
    kinds = household_kinds(cohort, np.arange(len(cohort)))
    five = predict(world, params, 2014, kinds, 5)
    two = predict(world, params, 2014, kinds, 2)
    assert ((five.stay >= 0) & (five.stay <= 1)).all()
    assert (five.stay <= two.stay + 1e-12).all()
    assert ((five.employed >= 0) & (five.employed <= 1)).all()
    assert (five.employed >= two.employed - 1e-12).all()  # work accumulates over the years
    # the stock it saw is the world's: nothing of the cohort or later years
    assert world.households.cohort.max() == 2013


@pytest.mark.slow
def test_zero_weights_reproduce_the_baseline_run():
    """An objective with no weight: every household where the baseline put it, the whole run
    identical to the baseline's, table for table."""
    inputs = matching_inputs(objective={"retention": 0.0, "employment": 0.0})
    base_inputs = replace(inputs, allocation=replace(inputs.allocation, matching=None))
    a = simulation.run(seed=3, inputs=base_inputs)
    b = simulation.run(seed=3, inputs=inputs)
    pd.testing.assert_frame_equal(a.households, b.households)
    pd.testing.assert_frame_equal(a.moves, b.moves)
    assert (b.matching["moved_households"] == 0).all()


@pytest.mark.slow
def test_matching_on_retention_raises_retention_paired_over_replicates():
    """Paired over 6 replicates (same seeds), matching on retention raises the predicted and
    the simulated five-year retention of the 2010-2013 cohorts; the municipalities settle
    the same persons every year (slack 0). The tolerance is the paired differences' own
    standard error (3 of them)."""
    inputs = matching_inputs(2010, 2018, scale=0.5)
    base_inputs = replace(inputs, allocation=replace(inputs.allocation, matching=None))
    diffs, predicted = [], []
    for seed in range(6):
        a = simulation.run(seed=seed, inputs=base_inputs)
        b = simulation.run(seed=seed, inputs=inputs)
        ra, rb = (simulation.retention(r, cohorts=range(2010, 2014)).set_index(
            "years_since_settlement")["share"] for r in (a, b))
        diffs.append(float(rb.loc[5] - ra.loc[5]))
        m = b.matching
        predicted.append(float((m.predicted_retention_matched
                                - m.predicted_retention_baseline).mean()))
        pd.testing.assert_series_equal(
            a.municipality_yearly["settled"], b.municipality_yearly["settled"])
    diffs = np.array(diffs)
    se = diffs.std(ddof=1) / np.sqrt(len(diffs))
    assert diffs.mean() - 3 * se > 0, diffs
    assert min(predicted) > 0


@pytest.mark.slow
def test_same_seed_same_assignment_for_any_number_of_workers():
    from simulation.runs.ensemble import flatten, run_many

    inputs = matching_inputs(2012, 2015, scale=0.25)
    one = run_many([(Params(), inputs)], seed=11, replicates=3, jobs=1)[0]
    two = run_many([(Params(), inputs)], seed=11, replicates=3, jobs=2)[0]
    for a, b in zip(one, two, strict=True):
        pd.testing.assert_series_equal(pd.Series(flatten(a.indicators)),
                                       pd.Series(flatten(b.indicators)))  # NaN == NaN here
        pd.testing.assert_frame_equal(a.flows, b.flows)


# ------------------------------------------------------------------ scenario files and CLI


def secmig(*args) -> subprocess.CompletedProcess:
    """The installed `secmig` command, as a user runs it."""
    return subprocess.run([SECMIG, *map(str, args)], capture_output=True, text=True,
                          env={**os.environ, "COLUMNS": "1000"})


def _scenario(tmp_path: Path, allocation: str, name: str = "m") -> Path:
    f = tmp_path / f"{name}.yaml"
    f.write_text(f"extends: {ROOT / 'scenarios' / 'baseline.yaml'}\nname: {name}\n"
                 "replicates: 1\nperiod: {start: 2010, end: 2011}\n"
                 f"settlement:\n  allocation:\n{allocation}", encoding="utf-8")
    return f


def problems(path: Path) -> str:
    """The problems ``secmig validate`` lists for a scenario file, one per line."""
    from simulation.inputs.scenario import load_scenario
    from simulation.inputs.yamlsource import InputError

    with pytest.raises(InputError) as err:
        load_scenario(path)
    return "\n".join(str(p) for p in err.value.problems)


def test_matching_keys_need_the_method(tmp_path):
    f = _scenario(tmp_path, "    objective: retention\n")
    assert (f"{f}:7: settlement.allocation.objective: applies only to placement by matching"
            in problems(f))


def test_bad_matching_values_are_named(tmp_path):
    f = _scenario(tmp_path, "    method: matching\n    objective: stay\n    horizon: 40\n"
                  "    constraints: {max_group_share: 2}\n")
    err = problems(f)
    for key in ("settlement.allocation.objective", "settlement.allocation.horizon",
                "settlement.allocation.constraints.max_group_share"):
        assert key in err


def test_minimum_intake_file_is_checked(tmp_path):
    (tmp_path / "agreed.csv").write_text("municipality,persons\n0301,50\nOslo,3\n9999,1\n")
    f = _scenario(tmp_path, "    method: matching\n"
                  "    constraints: {minimum_intake: agreed.csv}\n")
    err = problems(f)
    assert "line 3" in err and "'Oslo' is 0301" in err
    assert "line 4" in err and "unknown municipality code '9999'" in err


@pytest.mark.slow
def test_infeasible_run_exits_2_and_writes_nothing(tmp_path):
    f = _scenario(tmp_path, "    method: matching\n"
                  "    constraints: {max_group_share: 0.05, group_share_floor: 0}\n")
    out_dir = tmp_path / "out"
    out = secmig("run", f, "--out", out_dir, "--quiet")
    assert out.returncode == 2, out.stderr
    err = out.stderr.replace("\n", " ")
    assert f"{f}:" in err and "settlement.allocation.constraints.max_group_share" in err
    assert "Traceback" not in out.stderr
    assert not out_dir.exists()


def test_the_reference_model_matches_as_the_engine_does():
    """The per-household reference model places by the same matching: in the first year both
    see the same world (the background stock), so the same seed gives the same assignment;
    later years keep each municipality's persons as in the reference's own baseline."""
    from simulation.engine.reference import run_reference

    inputs = matching_inputs(2012, 2013, scale=0.05)
    base = replace(inputs, allocation=replace(inputs.allocation, matching=None))
    ref, ref_base = run_reference(None, 1, inputs), run_reference(None, 1, base)
    engine = simulation.run(seed=1, inputs=inputs)
    first = ref.households["cohort"] == 2012
    assert (ref.households.loc[first, "settlement_municipality"].to_numpy()
            == engine.households.loc[engine.households["cohort"] == 2012,
                                     "settlement_municipality"].to_numpy()).all()
    pd.testing.assert_series_equal(ref.municipality_yearly["settled"],
                                   ref_base.municipality_yearly["settled"])
    assert len(ref.matching) == 2 and (ref.matching["moved_households"] > 0).all()


@pytest.mark.parametrize("objective", ["retention", "employment", "balanced"])
def test_shipped_projections_restate_the_matching(objective):
    """A scenario extends one file, so each projection restates its matching settings: they
    must stay those of the 2010-2023 scenario."""
    from simulation.inputs.scenario import load_scenario

    a = load_scenario(ROOT / "scenarios" / f"matching-{objective}.yaml")
    b = load_scenario(ROOT / "scenarios" / f"projection-2035-request-matching-{objective}.yaml")
    assert a.inputs.allocation.matching is not None
    assert a.inputs.allocation.matching == b.inputs.allocation.matching
    assert (a.inputs.end, b.inputs.end) == (2023, 2035)


def test_predicted_gain_and_matching_table_are_their_raw_rows():
    """The published predicted gain (indicator) and matching.csv are recomputed from each
    run's matching rows."""
    from simulation.engine.randomness import replicate_seeds
    from simulation.runs.ensemble import aggregate_matching, run_replicate

    inputs = matching_inputs(2010, 2016, scale=0.2)
    runs = [run_replicate(Params(), inputs, s, i)
            for i, s in enumerate(replicate_seeds(5, 2))]
    for r in runs:
        m = r.matching
        rows = m[m["year"] + 5 <= 2017]  # five years by 1 January 2017 (the end)
        expected = ((rows["persons"] * (rows["predicted_retention_matched"]
                                        - rows["predicted_retention_baseline"])).sum()
                    / rows["cohort_persons"].sum())
        assert r.indicators["matching_predicted_retention_gain"] == pytest.approx(expected,
                                                                                  rel=1e-12)
        assert (m["cohort_persons"] >= m["persons"]).all()
    table = aggregate_matching(runs)
    both = pd.concat([r.matching for r in runs])
    assert list(table["year"]) == list(range(2010, 2017))
    for col in ("moved_households", "predicted_retention_matched"):
        mean = both.groupby("year")[col].mean().to_numpy()
        assert np.allclose(table[col].to_numpy(), mean, rtol=1e-12)
        assert (table[f"{col}_p5"] <= table[col] + 1e-12).all()


def test_quota_capacities():
    """With a quota file the capacities are the quotas' allocation: every municipality
    settles what the quotas give it, and only quota municipalities settle."""
    inputs = matching_inputs(2016, 2017, scale=0.2)
    geo = inputs.geography
    codes = [str(c) for c in geo.codes[:40]]
    quotas = {c: float(i + 1) for i, c in enumerate(codes)}
    inputs = replace(inputs, allocation=replace(inputs.allocation, quotas=quotas))
    base = replace(inputs, allocation=replace(inputs.allocation, matching=None))
    a, b = simulation.run(seed=2, inputs=base), simulation.run(seed=2, inputs=inputs)
    pd.testing.assert_series_equal(a.municipality_yearly["settled"],
                                   b.municipality_yearly["settled"])
    assert set(b.households["settlement_municipality"]) <= set(codes)
    assert (b.matching["moved_households"] > 0).all()


@pytest.mark.slow
def test_compare_against_the_baseline_as_an_analyst_does(tmp_path):
    """`secmig compare` of the baseline and a matching scenario: the paired differences, the
    matching table per year and who gains and who pays, where the municipalities keep their
    persons (slack 0) while their households change."""
    base = tmp_path / "base.yaml"
    base.write_text(f"extends: {ROOT / 'scenarios' / 'baseline.yaml'}\nname: base\n"
                    "replicates: 2\nperiod: {start: 2010, end: 2016}\n", encoding="utf-8")
    f = tmp_path / "m.yaml"
    f.write_text("extends: base.yaml\nname: matched\nsettlement:\n  allocation:\n"
                 "    method: matching\n    objective: retention\n", encoding="utf-8")
    out = tmp_path / "cmp"
    run = secmig("compare", base, f, "--out", out, "--quiet")
    assert run.returncode == 0, run.stderr
    diffs = pd.read_csv(out / "differences.csv")
    gain = diffs[(diffs["scenario"] == "matched") & (diffs["indicator"] == "retention_5y")]
    assert gain["difference"].iloc[0] > 0
    matching = pd.read_csv(out / "matching.csv")
    assert set(matching["scenario"]) == {"matched"}
    assert list(matching["year"]) == list(range(2010, 2017))
    report = (out / "report.html").read_text(encoding="utf-8")
    assert "Who gains and who pays" in report and "+0 persons in all" in report
    assert (out / "who_gains.csv").exists()

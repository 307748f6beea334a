"""Sensitivity sweeps: sweep-file checks, designs and distributions, results as they complete,
resume without duplicates or losses, failed runs recorded, identical results for any number
of workers and on a real Dask LocalCluster, SALib indices, PRIM and the report."""

from __future__ import annotations

import json
import signal
import subprocess
import time
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from scipy import stats

from simulation.cli import main
from simulation.engine.numerics import signature as numerics_signature
from simulation.inputs.parameters import BY_NAME
from simulation.inputs.yamlsource import InputError
from simulation.sweeps.analysis import discover, indices, ranking
from simulation.sweeps.runner import done_runs
from simulation.sweeps.spec import Discovery, load_sweep
from tests.test_cli import SECMIG, secmig

REPO = Path(__file__).resolve().parent.parent
TWO = ("  move_intercept: {low: -1.6, high: -0.6}\n"
       "  dest_same_county_effect: {low: 0.3, high: 1.5}\n")


def make(tmp_path: Path, samples: int = 2, design: str = "morris", parameters: str = TWO,
         extra: str = "", end: int = 2014) -> Path:
    (tmp_path / "base.yaml").write_text(
        f"extends: {REPO / 'scenarios' / 'baseline.yaml'}\nname: base\n"
        f"period: {{start: 2010, end: {end}}}\n", encoding="utf-8")
    path = tmp_path / "sweep.yaml"
    path.write_text(f"name: s\nbase: base.yaml\ndesign: {design}\nsamples: {samples}\n"
                    f"replicates: 1\nseed: 3\nparameters:\n{parameters}"
                    f"indicators: [retention_3y, share_in_10_largest]\n{extra}",
                    encoding="utf-8")
    return path


def test_the_example_sweep_is_valid():
    sweep = load_sweep(REPO / "sweeps" / "morris-example.yaml")
    assert sweep.points().shape == (220, 10)
    assert sweep.schema.replicates == 2 and sweep.schema.discover
    posterior = load_sweep(REPO / "sweeps" / "posterior-example.yaml")
    assert posterior.points().shape == (200, 8) and posterior.schema.design == "posterior"


def test_the_example_sweeps_the_posterior_intervals():
    """The example file says its behavioural ranges are the committed posterior's 90 %
    intervals rounded outward: each range holds its p5-p95 and overshoots by at most 0.1, so a
    refit that moves an interval fails here until the example follows."""
    import yaml

    fitted = yaml.safe_load((REPO / "simulation" / "data" / "fitted.yaml").read_text())
    example = yaml.safe_load((REPO / "sweeps" / "morris-example.yaml").read_text())
    behavioural = {k: v for k, v in example["parameters"].items()
                   if k in fitted["intervals"]}
    assert len(behavioural) == 8
    for name, rng in behavioural.items():
        p5, p95 = fitted["intervals"][name]["p5"], fitted["intervals"][name]["p95"]
        assert rng["low"] <= p5 <= rng["low"] + 0.1, (name, rng, p5)
        assert rng["high"] - 0.1 <= p95 <= rng["high"], (name, rng, p95)


@pytest.mark.slow
def test_morris_sweep_same_results_locally_any_jobs_and_on_dask(tmp_path, capsys):
    """One local process, two local worker processes and a real dask.distributed
    LocalCluster (2 worker processes on loopback) give the same rows; SALib indices; PRIM;
    report; a rerun resumes."""
    path = make(tmp_path, extra="discover:\n  - {indicator: retention_3y, below: 0.9}\n")
    runs = {"a": ["--jobs", "1"], "b": ["--jobs", "2"],
            "d": ["--jobs", "2", "--scheduler", "local"]}
    rows = {}
    for key, extra in runs.items():
        assert main(["sweep", str(path), *extra, "--out", str(tmp_path / key), "--quiet"]) == 0
        rows[key] = done_runs(tmp_path / key).drop(columns="duration_s")
    assert len(rows["a"]) == 6 and rows["a"]["run_id"].is_unique
    assert (rows["a"]["status"] == "ok").all()
    pd.testing.assert_frame_equal(rows["a"], rows["b"])
    pd.testing.assert_frame_equal(rows["a"], rows["d"])
    # tidy outputs pandas reads directly: the Parquet folder and the CSV copy agree
    parquet = pd.read_parquet(tmp_path / "a" / "runs").sort_values("run_id")
    assert len(parquet) == 6 and set(parquet.columns) >= {"seed", "duration_s", "error"}
    indices_csv = pd.read_csv(tmp_path / "a" / "indices.csv")
    assert set(indices_csv["parameter"]) == {"move_intercept", "dest_same_county_effect"}
    mu = indices_csv.set_index(["indicator", "parameter"])["mu_star"]
    # the intercept drives retention; same-county attraction does not change retention much
    assert mu["retention_3y", "move_intercept"] > mu["retention_3y", "dest_same_county_effect"]
    report = (tmp_path / "a" / "report.html").read_text(encoding="utf-8")
    assert report.count("<img") >= 4 and "Scenario discovery: retention_3y &lt; 0.9" in report
    assert pd.read_csv(tmp_path / "a" / "discovery.csv")["runs"].iloc[0] == 6
    # rerunning resumes: nothing to do, nothing duplicated
    capsys.readouterr()
    assert main(["sweep", str(path), "--out", str(tmp_path / "a"), "--quiet"]) == 0
    assert "6 from before" in capsys.readouterr().out
    assert len(done_runs(tmp_path / "a")) == 6


@pytest.mark.slow
def test_killed_sweep_resumes_without_duplicates_or_losses(tmp_path):
    path = make(tmp_path, samples=3, design="morris")  # 9 runs
    out = tmp_path / "out"
    proc = subprocess.Popen([SECMIG, "sweep", str(path), "--jobs", "1", "--out", str(out),
                             "--quiet"], stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                            text=True)
    deadline = time.time() + 120
    while time.time() < deadline and len(done_runs(out)) < 3:
        time.sleep(0.3)
    proc.send_signal(signal.SIGINT)
    _, err = proc.communicate(timeout=60)
    assert proc.returncode == 130 and "rerun the same command to resume" in err
    partial = done_runs(out)
    assert 3 <= len(partial) < 9
    # a stopped sweep can be looked at already
    assert main(["sweep", str(path), "--out", str(out), "--report-only"]) == 0
    assert (out / "report.html").exists()
    done = secmig("sweep", str(path), "--jobs", "1", "--out", str(out), "--quiet")
    assert done.returncode == 0, done.stderr
    rows = done_runs(out)
    assert sorted(rows["run_id"]) == list(range(9))
    kept = rows.set_index("run_id").loc[partial["run_id"], "retention_3y"]
    assert (kept.to_numpy() == partial["retention_3y"].to_numpy()).all()


@pytest.mark.slow
def test_a_failed_run_is_a_row_and_does_not_stop_the_others(tmp_path, monkeypatch):
    """A run that raises (here: an injected fault for one parameter value) is recorded with
    its error; the others finish; --retry-failed runs only it again."""
    import simulation.engine.driver as api

    path = make(tmp_path, samples=2, design="morris")  # 6 points
    points = load_sweep(path).points()
    real = api.run

    def flaky(params, seed, inputs):
        if (params["move_intercept"], params["dest_same_county_effect"]) == tuple(points[1]):
            raise RuntimeError("injected fault")
        return real(params, seed, inputs)

    monkeypatch.setattr(api, "run", flaky)
    out = tmp_path / "out"
    assert main(["sweep", str(path), "--jobs", "1", "--out", str(out), "--quiet"]) == 0
    rows = done_runs(out)
    assert list(rows["status"]) == ["failed" if tuple(x) == tuple(points[1]) else "ok"
                                    for x in points]
    assert rows.loc[1, "error"] == "RuntimeError: injected fault"
    assert np.isnan(rows.loc[1, "retention_3y"])
    assert "Failed runs" in (out / "report.html").read_text(encoding="utf-8")
    monkeypatch.setattr(api, "run", real)
    assert main(["sweep", str(path), "--jobs", "1", "--out", str(out), "--quiet"]) == 0
    assert (done_runs(out)["status"] == "failed").sum() == sum(
        tuple(x) == tuple(points[1]) for x in points)  # kept unless asked
    assert main(["sweep", str(path), "--jobs", "1", "--out", str(out), "--quiet",
                 "--retry-failed"]) == 0
    rows = done_runs(out)
    assert len(rows) == 6 and (rows["status"] == "ok").all()


def test_distributions_and_settlement_levers(tmp_path):
    params = ("  rights_cost: {distribution: normal, mean: 0.5, sd: 0.3}\n"
              "  dest_network_effect: {distribution: triangular, low: 0.2, mode: 0.4, "
              "high: 1.0}\n"
              "  rights_years: {low: 0, high: 10}\n"
              "  settlement.exclude_below_population: {low: 0, high: 5000}\n")
    sweep = load_sweep(make(tmp_path, samples=400, design="random", parameters=params))
    x = pd.DataFrame(sweep.points(), columns=sweep.names)
    # normal truncated to the registry range [0, 3]; int-valued parameters and levers whole
    assert x["rights_cost"].between(0, 3).all()
    assert abs(x["rights_cost"].mean() - stats.truncnorm.mean(-0.5 / 0.3, 2.5 / 0.3, 0.5, 0.3)
               ) < 4 * 0.3 / 20
    assert abs(x["dest_network_effect"].mean() - 0.5333) < 4 * 0.17 / 20
    assert (x["rights_years"] == x["rights_years"].round()).all()
    assert (x["settlement.exclude_below_population"] % 1 == 0).all()
    params_, inputs = sweep.setup({"settlement.exclude_below_population": 3000.0,
                                   "rights_years": 3.0})
    assert inputs.allocation.exclude_below_population == 3000 and params_.rights_years == 3
    assert sweep.base.inputs.allocation.exclude_below_population == 0  # base untouched


def test_posterior_factor_spreads_like_the_base_scenarios_posterior(tmp_path):
    """`distribution: posterior` maps the design through the empirical quantile function of
    the base scenario's posterior draws: its ends are the draws' extremes, its middle their
    median, and a Latin hypercube of as many points as draws puts one point between each
    pair of neighbouring order statistics."""
    params = ("  rights_cost: {distribution: posterior}\n"
              "  rights_years: {low: 0, high: 10}\n")
    sweep = load_sweep(make(tmp_path, samples=200, design="lhs", parameters=params))
    draws = np.array([d["rights_cost"] for d in sweep.base.posterior_draws], dtype=float)
    assert len(draws) == 200
    factor = sweep.factors[0]
    assert (factor.low, factor.high) == (draws.min(), draws.max())
    assert factor.ppf(np.array([0.0, 0.5, 1.0])).tolist() == [
        draws.min(), float(np.median(draws)), draws.max()]
    x = np.sort(sweep.points()[:, 0])
    order = np.sort(draws)
    # LHS stratum i of 200 lies in [i/200, (i+1)/200): between order statistics i*199/200 ...
    lo = np.quantile(draws, np.arange(200) / 200)
    hi = np.quantile(draws, (np.arange(200) + 1) / 200)
    assert (x >= lo - 1e-12).all() and (x <= hi + 1e-12).all()
    assert order[0] <= x.min() and x.max() <= order[-1]
    assert "posterior marginal (200 draws" in factor.describe()


def test_posterior_design_runs_whole_draws(tmp_path):
    """design: posterior - point i is the base scenario's posterior draw i: every fitted
    parameter at the draw's value (not only the swept ones), so the posterior's correlations
    are kept; the rows record the swept parameters' values of that draw."""
    params = ("  rights_cost: {distribution: posterior}\n"
              "  move_intercept: {distribution: posterior}\n")
    sweep = load_sweep(make(tmp_path, samples=100, design="posterior", parameters=params))
    draws = sweep.base.posterior(100)
    x = sweep.points()
    assert x.shape == (100, 2) and sweep.n_points == 100
    assert x[:, 0].tolist() == [d.rights_cost for d in draws]
    assert x[:, 1].tolist() == [d.move_intercept for d in draws]
    for i in (0, 37, 99):
        params_i, _ = sweep.setup(dict(zip(sweep.names, x[i], strict=True)), i)
        assert dict(params_i) == dict(draws[i])  # a whole draw, not the mean point
    # the unit coordinates are each draw's place among all the draws (what delta reads)
    u = sweep.unit_points()
    assert (np.argsort(u[:, 0], kind="stable") == np.argsort(x[:, 0], kind="stable")).all()
    assert sweep.fingerprint() != load_sweep(make(tmp_path, samples=100, design="lhs",
                                                  parameters=params)).fingerprint()


@pytest.mark.slow
def test_posterior_design_end_to_end(tmp_path):
    """`secmig sweep` on a posterior design: each row carries its draw's values, indices.csv
    has delta with its noise floor, and the report is written."""
    params = ("  rights_cost: {distribution: posterior}\n"
              "  move_intercept: {distribution: posterior}\n")
    path = make(tmp_path, samples=100, design="posterior", parameters=params)
    out = tmp_path / "out"
    assert main(["sweep", str(path), "--jobs", "2", "--out", str(out), "--quiet"]) == 0
    rows = done_runs(out).sort_values("run_id")
    draws = load_sweep(path).base.posterior(100)
    assert rows["rights_cost"].tolist() == [d.rights_cost for d in draws]
    table = pd.read_csv(out / "indices.csv")
    assert {"delta", "delta_conf", "S1", "delta_noise", "delta_noise_p95"} <= set(table)
    assert (table["delta_noise"] < table["delta_noise_p95"]).all()
    html = (out / "report.html").read_text(encoding="utf-8")
    assert "noise floor" in html and "the spread the calibration leaves open" in html
    spread = pd.read_csv(out / "spread.csv").set_index("indicator")
    means = rows.groupby("point")["retention_3y"].mean()
    assert spread.loc["retention_3y", "points"] == 100
    assert np.isclose(spread.loc["retention_3y", "p95"], np.quantile(means, 0.95))
    assert np.isnan(spread.loc["retention_3y", "sd_replicates"])  # one replicate


def test_spread_over_points_and_within_replicates(tmp_path):
    """spread(): percentiles and sd of the points' means, and the replicates' pooled sd
    within a point, on rows whose values are known (a failed run is left out)."""
    from simulation.sweeps.analysis import spread

    sweep = load_sweep(make(tmp_path, samples=100, design="lhs"))
    n = len(sweep.points())
    point = np.repeat(np.arange(n), 2)
    value = point / 100.0 + np.tile([-0.01, 0.01], n)  # means i/100, within-point sd 0.01*sqrt2
    rows = pd.DataFrame({"point": point, "replicate": np.tile([0, 1], n), "status": "ok",
                         "retention_3y": value, "share_in_10_largest": 0.3})
    rows.loc[len(rows)] = {"point": 0, "replicate": 2, "status": "failed",
                           "retention_3y": np.nan, "share_in_10_largest": np.nan}
    got = spread(sweep, rows).set_index("indicator")
    means = np.arange(n) / 100.0
    assert got.loc["retention_3y", "points"] == n
    assert np.isclose(got.loc["retention_3y", "median"], np.median(means))
    assert np.isclose(got.loc["retention_3y", "p5"], np.quantile(means, 0.05))
    assert np.isclose(got.loc["retention_3y", "sd_between_points"], np.std(means, ddof=1))
    assert np.isclose(got.loc["retention_3y", "sd_replicates"], 0.01 * np.sqrt(2))
    assert got.loc["share_in_10_largest", "sd_between_points"] == 0


def test_every_committed_sweep_loads_and_each_effect_sweep_compares_a_policy():
    """Every file in sweeps/ loads; each posterior-<policy>.yaml with compare pairs the
    baseline with scenarios/<policy>.yaml over all 200 draws, as docs/policy.md reads it."""
    files = sorted((REPO / "sweeps").glob("*.yaml"))
    assert len(files) >= 7
    compared = {}
    for path in files:
        sweep = load_sweep(path)
        if sweep.variant is not None:
            compared[path.stem] = sweep
    assert {"posterior-no-rule", "posterior-rights-3-years", "posterior-rights-7-years",
            "posterior-no-settlement-under-5000", "posterior-continuity-only"} <= set(compared)
    for stem, sweep in compared.items():
        assert sweep.schema.design == "posterior" and sweep.schema.samples == 200
        assert sweep.base.name == "baseline" and sweep.variant.name == stem[len("posterior-"):]
        assert sweep.schema.parameters == "fitted"  # every fitted parameter a factor


def test_fitted_shorthand_is_every_fitted_parameter(tmp_path):
    """`parameters: fitted` is the mapping of every parameter the base scenario's fitted file
    has draws of to {distribution: posterior}: the same factors, in name order, and the same
    fingerprint as writing them out (so a folder run from the long form resumes)."""
    short = make(tmp_path, samples=100, design="posterior", parameters="")
    short.write_text(short.read_text().replace("parameters:\n", "parameters: fitted\n"))
    sweep = load_sweep(short)
    fitted = sorted(sweep.base.posterior_draws[0])
    assert sweep.names == [n for n in fitted if n in BY_NAME] and len(sweep.names) >= 50
    long_form = "".join(f"  {n}: {{distribution: posterior}}\n" for n in reversed(sweep.names))
    (tmp_path / "long").mkdir()
    spelled = make(tmp_path / "long", samples=100, design="posterior", parameters=long_form)
    assert set(load_sweep(spelled).names) == set(sweep.names)
    in_order = make(tmp_path / "long", samples=100, design="posterior",
                    parameters="".join(f"  {n}: {{distribution: posterior}}\n"
                                       for n in sweep.names))
    assert load_sweep(in_order).fingerprint() == sweep.fingerprint()
    # the committed no-rule sweep uses it and keeps the fingerprint of its 60 written names
    no_rule = load_sweep(REPO / "sweeps" / "posterior-no-rule.yaml")
    assert no_rule.schema.parameters == "fitted" and no_rule.names == sweep.names


def test_fitted_shorthand_needs_a_base_with_draws(tmp_path, capsys):
    path = make(tmp_path, samples=100, design="posterior", parameters="")
    (tmp_path / "base.yaml").write_text(
        "name: base\nperiod: {start: 2010, end: 2014}\n", encoding="utf-8")
    path.write_text(path.read_text().replace("parameters:\n", "parameters: fitted\n"))
    err = _refused(tmp_path, path, capsys)
    assert (f"{path}:7: parameters: got fitted, but the base scenario has no posterior draws; "
            "allowed: fitted with a base scenario whose parameters come from a fitted file"
            in err), err
    path.write_text(path.read_text().replace("parameters: fitted", "parameters: fited"))
    err = _refused(tmp_path, path, capsys)
    assert "parameters: got 'fited'; allowed: " in err and "or `fitted` (every parameter" in err


@pytest.mark.parametrize("text, samples, expect", [
    ("  rights_cost: {distribution: posterior}\n  move_intercept: {low: -2, high: -1}\n",
     100, "design posterior runs whole posterior draws; got a uniform factor"),
    ("  rights_cost: {distribution: posterior}\n", 500,
     "samples: got 500; allowed: at most the 200 posterior draws"),
    ("  rights_cost: {distribution: posterior}\n", 50,
     "posterior with delta indices needs at least 100 points"),
])
def test_bad_posterior_design(tmp_path, text, samples, expect):
    path = make(tmp_path, samples=samples, design="posterior", parameters=text)
    with pytest.raises(InputError) as err:
        load_sweep(path)
    assert expect in str(err.value), str(err.value)


def test_delta_noise_floor_separates_influence_from_none():
    """delta_noise_p95 (the indicator shuffled across the points) sits above the delta of
    parameters without influence and below that of one that drives the indicator; fixed
    seeds, 200 points, three parameters, one of which moves y."""
    from simulation.sweeps.analysis import delta_noise

    rng = np.random.default_rng(7)
    x = rng.random((200, 3))
    problem = {"num_vars": 3, "names": ["a", "b", "c"], "bounds": [[0.0, 1.0]] * 3}
    from SALib.analyze import delta

    y = np.sin(3 * x[:, 0]) + 0.05 * rng.standard_normal(200)
    floor = delta_noise(problem, x, y, seed=3)
    assert floor["delta_noise"][0] < floor["delta_noise_p95"][0] < 0.3
    got = delta.analyze(problem, x, y, seed=3, num_resamples=10, print_to_console=False)
    d = np.asarray(got.get("delta", got.get("delta_raw")))
    assert d[0] > floor["delta_noise_p95"][0] > max(d[1], d[2]), (d, floor)


@pytest.mark.parametrize("text, expect", [
    ("  move_intercep: {low: -1.6, high: -0.6}\n", "did you mean 'move_intercept'"),
    ("  rights_cost: {low: 2, high: 1}\n", "must increase and lie inside the registry range"),
    ("  rights_cost: {distribution: gamma, low: 0, high: 1}\n", "allowed: uniform, normal"),
    ("  rights_cost: {distribution: normal, mean: 0.5}\n", "sd: got None"),
    ("  rights_cost: {low: 0, hi: 1}\n", "unknown key 'hi'"),
    ("  settlement.exclude_below_population: {low: 0, high: 900000}\n", "[0, 50000]"),
    ("  rights_years: {distribution: posterior}\n",
     "posterior needs the base scenario's posterior draws of 'rights_years'; allowed: a "
     "parameter its calibration fitted (belonging_employment_weight"),
    ("  rights_cost: {distribution: posterior, low: 0}\n",
     "unknown key 'low' for a posterior factor"),
])
def test_bad_parameters_name_file_line_key_and_allowed(tmp_path, text, expect):
    path = make(tmp_path, parameters=text)
    with pytest.raises(InputError) as err:
        load_sweep(path)
    msg = str(err.value)
    assert f"{path}:8: parameters." in msg and expect in msg, msg


@pytest.mark.slow
def test_bad_sweep_file_all_problems_at_once_exit_2_nothing_written(tmp_path):
    bad = tmp_path / "bad.yaml"
    bad.write_text("name: x\nbase: nothere.yaml\ndesign: morriss\nsamples: 2\n"
                   "parameters: {rights_cost: {low: 2, high: 1}}\nindicators: [a]\n"
                   "colour: red\n")
    with pytest.raises(InputError) as err:
        load_sweep(bad)
    assert "design" in str(err.value) and "colour" in str(err.value)
    path = make(tmp_path, extra="discover:\n  - {indicator: hoover_indx, above: 0.3}\n"
                                "  - {indicator: hoover_index}\n")
    path.write_text(path.read_text().replace("retention_3y,", "retension_3y,"))
    out = secmig("sweep", str(path), "--out", str(tmp_path / "o"))
    assert out.returncode == 2 and "Traceback" not in out.stderr
    assert "indicators[0]: unknown indicator 'retension_3y' (did you mean 'retention_3y'" \
        in out.stderr
    assert "discover[0].indicator: unknown indicator 'hoover_indx'" in out.stderr
    assert "discover[1]: give exactly one of 'above' or 'below'" in out.stderr
    assert not (tmp_path / "o").exists()


@pytest.mark.slow  # 4-9 s: kept out of the fast tier (under a minute)
def test_a_changed_sweep_does_not_resume_into_the_old_folder(tmp_path):
    path = make(tmp_path, samples=2, design="morris")
    out = tmp_path / "o"
    assert main(["sweep", str(path), "--out", str(out), "--quiet", "--jobs", "1"]) == 0
    path.write_text(path.read_text().replace("seed: 3", "seed: 4"))
    assert main(["sweep", str(path), "--out", str(out), "--quiet", "--jobs", "1"]) == 2
    # the same sweep resumed on a machine that computes numpy's exp, log, ... otherwise
    # (engine/numerics.py): refused, the rows kept
    path.write_text(path.read_text().replace("seed: 4", "seed: 3"))
    stamp = json.loads((out / "sweep.json").read_text())
    assert stamp["numerics"] == numerics_signature()
    (out / "sweep.json").write_text(json.dumps({**stamp, "numerics": "numpy 0.0 x86_64"}))
    parts = sorted((out / "runs").glob("part-*.parquet"))
    proc = secmig("sweep", str(path), "--out", str(out), "--quiet", "--jobs", "1")
    assert proc.returncode == 2 and "resume on the same kind of machine" in proc.stderr
    assert "Traceback" not in proc.stderr
    assert sorted((out / "runs").glob("part-*.parquet")) == parts


# --- analysis on known functions (no simulation: the indices' wiring, checked exactly) -------

def _rows_from(sweep, f) -> pd.DataFrame:
    x = pd.DataFrame(sweep.points(), columns=sweep.names)
    rows = x.assign(point=range(len(x)), replicate=0, status="ok", run_id=range(len(x)))
    return rows.assign(retention_3y=f(x), share_in_10_largest=0.1 * f(x) + x.iloc[:, 1])


@pytest.mark.slow  # 4-9 s: kept out of the fast tier (under a minute)
def test_indices_rank_a_known_function_for_each_design(tmp_path):
    """y = 3 a + 0.1 b on the unit-free ranges: every design ranks a above b."""
    for design, samples in (("morris", 20), ("sobol", 256), ("lhs", 300)):
        sweep = load_sweep(make(tmp_path, samples=samples, design=design))
        a, b = sweep.names

        def f(x, a=a, b=b):
            return 3 * (x[a] + 1.6) + 0.1 * (x[b] - 0.3)

        table = indices(sweep, _rows_from(sweep, f))
        top = ranking(table, design)["retention_3y"]
        assert top[0][0] == a and top[0][1] > 5 * top[1][1], (design, top)
        if design == "morris":  # exact: 3 per unit x the range 1.0, and linear (sigma 0)
            row = table.set_index(["indicator", "parameter"]).loc[("retention_3y", a)]
            assert row["mu_star"] == pytest.approx(3.0) and row["sigma"] == pytest.approx(0)
        if design == "sobol":
            st = dict(top)
            assert st[a] == pytest.approx(1.0, abs=0.05)


def test_indices_of_a_stopped_morris_sweep_use_complete_trajectories(tmp_path):
    sweep = load_sweep(make(tmp_path, samples=10, design="morris"))
    rows = _rows_from(sweep, lambda x: x[sweep.names[0]])
    partial = rows.iloc[:16]  # 5 whole trajectories of 3 points and one broken one
    table = indices(sweep, partial)
    assert (table["points"] == 15).all()


@pytest.mark.slow  # 4-9 s: kept out of the fast tier (under a minute)
def test_prim_finds_a_known_box(tmp_path):
    sweep = load_sweep(make(tmp_path, samples=600, design="random"))
    a, b = sweep.names

    def f(x):  # low retention when the intercept is high and same-county pull low
        return np.where((x[a] > -0.9) & (x[b] < 0.8), 0.7, 0.9)

    rows = _rows_from(sweep, f)
    box = discover(sweep, rows, Discovery(indicator="retention_3y", below=0.8, threshold=0.95))
    lim = box.limits.set_index("parameter")
    assert box.density >= 0.95 and box.coverage > 0.8
    assert lim.loc[a, "low"] == pytest.approx(-0.9, abs=0.05)
    assert lim.loc[b, "high"] == pytest.approx(0.8, abs=0.06)
    words = box.sentence()
    assert "move_intercept >= -0.9" in words or "move_intercept >= -0.89" in words
    assert "dest_same_county_effect <= 0.8" in words
    never = discover(sweep, rows, Discovery(indicator="retention_3y", below=0.1))
    assert never.hits == 0 and "never holds" in never.sentence()


def test_slurm_batch_script_from_dask_jobqueue(capsys):
    """The Slurm route builds a real dask-jobqueue SLURMCluster; --dry-run prints its batch
    script (one single-threaded worker per core) and submits nothing."""
    from simulation import slurm

    assert slurm.main([str(REPO / "sweeps" / "morris-example.yaml"), "--cores", "4",
                       "--memory", "8GB", "--account", "proj", "--queue", "normal",
                       "--prologue", "source venv/bin/activate", "--dry-run"]) == 0
    script = capsys.readouterr().out
    assert "#SBATCH -A proj" in script and "#SBATCH -p normal" in script
    assert "--cpus-per-task=4" in script and "source venv/bin/activate" in script
    assert "--nworkers 4" in script and "--nthreads 1" in script


# --- hostile input: every problem in one pass, designs too small or too large ----------------

def _refused(tmp_path, path, capsys) -> str:
    """Run `secmig sweep` on a bad file: exit 2, no traceback, no raw pydantic wording,
    nothing written; returns the messages."""
    capsys.readouterr()
    out = tmp_path / "never"
    assert main(["sweep", str(path), "--out", str(out), "--quiet"]) == 2
    err = capsys.readouterr().err
    assert "Traceback" not in err and "Input should" not in err and "nothing was written" in err
    assert not out.exists()
    return " ".join(err.split())  # rich wraps long lines


def test_a_misspelt_design_hides_no_other_problem(tmp_path, capsys):
    path = make(tmp_path, design="morriss", samples=0,
                parameters="  move_intercep: {low: -1.6, high: -0.6}\n"
                           "  rights_cost: {low: 2, high: 1}\n",
                extra="seed: -1\ncolour: red\ndiscover:\n"
                      "  - {indicator: hoover_indx, above: .nan}\n")
    path.write_text(path.read_text().replace("seed: 3\n", "").replace("retention_3y,",
                                                                       "retension_3y,"))
    err = _refused(tmp_path, path, capsys)
    f = str(path)
    for expect in (
            f"{f}:3: design: got 'morriss' (did you mean 'morris'?); allowed: one of grid, "
            "random, lhs, sobol, morris",
            f"{f}:4: samples: got 0; allowed: a whole number from 1 to 100000",
            f"{f}:7: parameters.move_intercep: unknown parameter (did you mean "
            "'move_intercept'?)",
            f"{f}:8: parameters.rights_cost: range [2, 1] must increase",
            f"{f}:9: indicators[0]: unknown indicator 'retension_3y' (did you mean "
            "'retention_3y'?)",
            f"{f}:10: seed: got -1; allowed: a whole number from 0 to 4294967295",
            f"{f}:11: colour: unknown key; allowed keys here: name, description, base",
            f"{f}:13: discover[0].above: got nan; allowed: a finite number",
            f"{f}:13: discover[0].indicator: unknown indicator 'hoover_indx' (did you mean "
            "'hoover_index'?)"):
        assert expect in err, (expect, err)


@pytest.mark.slow  # 4-9 s: kept out of the fast tier (under a minute)
def test_every_sweep_field_says_what_to_write(tmp_path):
    """No raw pydantic wording: a value of the wrong type in any field of SweepSchema or
    Discovery gets 'got ...; allowed: ...' with the field's own text."""
    from simulation.inputs.schema import allowed_text
    from simulation.sweeps.spec import SweepSchema

    for model in (SweepSchema, Discovery):
        for name in model.model_fields:
            assert allowed_text(model, name), (model.__name__, name)
    path = make(tmp_path)
    good = path.read_text()
    for name in SweepSchema.model_fields:
        text = "".join(line + "\n" for line in good.splitlines()
                       if not line.startswith(f"{name}:") and not line.startswith("  "))
        path.write_text(text + f"{name}: [[1, 2]]\n")
        with pytest.raises(InputError) as err:
            load_sweep(path)
        msg = "\n".join(str(p) for p in err.value.problems if p.key.startswith(name))
        assert "got [" in msg and "; allowed: " + allowed_text(SweepSchema, name) in msg, msg
        assert "Input should" not in str(err.value)
    for name in Discovery.model_fields:
        entry = {"indicator": "retention_3y", "below": "0.5", name: "[[1, 2]]"}
        path.write_text(good + "discover:\n  - {" + ", ".join(f"{k}: {v}" for k, v in
                                                          entry.items()) + "}\n")
        with pytest.raises(InputError) as err:
            load_sweep(path)
        assert f"discover[0].{name}: got [[1, 2]]; allowed: " in str(err.value), err.value
        assert "Input should" not in str(err.value)


@pytest.mark.parametrize("design, samples, extra, expect", [
    ("lhs", 24, "", "samples: lhs with delta indices needs at least 100 points (for any "
                    "number of parameters); got 24"),
    ("random", 99, "", "random with delta indices needs at least 100 points"),
    ("grid", 1, "", "a grid needs at least 2 levels per parameter (samples); got 1"),
    ("grid", 9, "", "grid with delta indices needs at least 100 points (for any number of "
                    "parameters); 9 levels over 2 parameter(s) = 81 points"),
    ("sobol", 4, "", "sobol needs a base sample of at least N = 8 (samples)"),
    ("morris", 1, "", "morris needs at least 2 trajectories (samples: r) for sigma and the "
                      "confidence of mu*; got 1"),
    ("morris", 2, "levels: 3\n", "levels: got 3; allowed: an even whole number"),
])
def test_a_design_too_small_for_its_analysis_is_refused(tmp_path, capsys, design, samples,
                                                         extra, expect):
    err = _refused(tmp_path, make(tmp_path, design=design, samples=samples, extra=extra), capsys)
    assert f"{tmp_path / 'sweep.yaml'}:" in err and expect in err, err


@pytest.mark.slow
def test_the_smallest_allowed_designs_load(tmp_path):
    for design, samples in (("lhs", 100), ("random", 100), ("grid", 10), ("sobol", 8),
                            ("morris", 2)):
        sweep = load_sweep(make(tmp_path, design=design, samples=samples))
        assert sweep.n_points == len(sweep.unit_points()), design


@pytest.mark.parametrize("design, samples, replicates, runs", [
    ("grid", 100, 10, "100,000,000 points x 10 replicate(s) = 1,000,000,000 runs"),
    ("morris", 100_000, 1000, "300,000 points x 1000 replicate(s) = 300,000,000 runs"),
    ("sobol", 100_000, 1000, "400,000 points x 1000 replicate(s) = 400,000,000 runs"),
    ("lhs", 100_000, 11, "100,000 points x 11 replicate(s) = 1,100,000 runs"),
])
def test_a_huge_sweep_is_refused_quickly_without_drawing_it(tmp_path, capsys, monkeypatch,
                                                           design, samples, replicates, runs):
    from simulation.sweeps import spec as sweep_module

    sweep_module.indicator_ids.cache_clear()  # the id list (no simulation) is timed too
    params = TWO if design != "grid" else TWO + ("  rights_cost: {low: 0, high: 1}\n"
                                                 "  rights_years: {low: 0, high: 5}\n")
    path = make(tmp_path, design=design, samples=samples, parameters=params)
    path.write_text(path.read_text().replace("replicates: 1", f"replicates: {replicates}"))
    monkeypatch.setattr(sweep_module.Sweep, "_unit", property(lambda s: pytest.fail("drawn")))
    t0 = time.perf_counter()
    err = _refused(tmp_path, path, capsys)
    assert time.perf_counter() - t0 < 2
    assert f"{path}:4: samples: {design} with samples: {samples}" in err
    assert runs in err and "at most 1,000,000 runs are allowed" in err, err


@pytest.mark.slow
def test_points_are_counted_as_drawn(tmp_path):
    for design, samples in (("morris", 3), ("sobol", 8), ("grid", 10), ("lhs", 100)):
        sweep = load_sweep(make(tmp_path, design=design, samples=samples))
        assert sweep.n_points == len(sweep.unit_points()), design


@pytest.mark.parametrize("line, expect", [
    ("seed: 4294967296", "seed: got 4294967296; allowed: a whole number from 0 to 4294967295"),
    ("seed: -1", "seed: got -1; allowed: a whole number from 0 to 4294967295"),
    ("seed: 1.5", "seed: got 1.5; allowed: a whole number"),
    ("replicates: 1001", "replicates: got 1001; allowed: a whole number from 1 to 1000"),
    ("replicates: 0", "replicates: got 0; allowed: a whole number from 1 to 1000"),
    ("samples: 100001", "samples: got 100001; allowed: a whole number from 1 to 100000"),
    ("samples: true", "samples: got True; allowed: a whole number from 1 to 100000"),
    ("levels: 22", "levels: got 22; allowed: an even whole number from 2 to 20"),
])
def test_seed_replicates_samples_limits(tmp_path, capsys, line, expect):
    path = make(tmp_path)
    key = line.split(":")[0]
    text = "".join(x + "\n" for x in path.read_text().splitlines() if not x.startswith(key))
    path.write_text(text + line + "\n")
    err = _refused(tmp_path, path, capsys)
    assert f"{path}:" in err and expect in err, err


def test_indices_leave_out_what_cannot_be_analysed_with_a_warning(tmp_path, capsys):
    """A stopped sweep, a constant indicator: left out with one clear line each, no SALib
    traceback or prints."""
    sweep = load_sweep(make(tmp_path, samples=10, design="morris"))
    rows = _rows_from(sweep, lambda x: x[sweep.names[0]])
    capsys.readouterr()
    table = indices(sweep, rows.iloc[:4])  # one whole trajectory only
    err = capsys.readouterr().err
    assert table.empty and len(table.attrs["warnings"]) == 2
    assert "warning: retention_3y: no sensitivity indices (3 finished point(s) usable; morris " \
           "needs 2 complete trajectories, 6 points)" in err
    table = indices(sweep, rows.assign(retention_3y=0.5))
    assert set(table["indicator"]) == {"share_in_10_largest"}
    assert "retention_3y: no sensitivity indices (it has the same value at every point" in \
        capsys.readouterr().err
    lhs = load_sweep(make(tmp_path, samples=120, design="lhs"))
    rows = _rows_from(lhs, lambda x: x[lhs.names[0]])
    rows.loc[rows.index[30:], ["retention_3y", "share_in_10_largest"]] = np.nan  # 30 done
    notes: list[str] = []
    assert indices(lhs, rows, warn=notes.append).empty
    assert all("30 finished point(s) usable; lhs needs 100 finished points" in n for n in notes)
    assert capsys.readouterr().err == ""  # SALib printed nothing


def test_indices_survive_an_analysis_that_fails_or_gives_nan(tmp_path, monkeypatch):
    from SALib.analyze import delta

    sweep = load_sweep(make(tmp_path, samples=100, design="lhs"))
    rows = _rows_from(sweep, lambda x: x[sweep.names[0]])

    def broken(*args, **kwargs):
        print("SALib noise")
        raise ValueError("Dataset is not large enough")

    monkeypatch.setattr(delta, "analyze", broken)
    notes: list[str] = []
    assert indices(sweep, rows, warn=notes.append).empty
    assert "SALib could not analyse 100 points: ValueError: Dataset is not large enough" \
        in notes[0]
    monkeypatch.setattr(delta, "analyze", lambda problem, x, y, **kw: {
        "delta_raw": [np.nan, 0.1], "delta_raw_conf": [0, 0], "S1": [0, 0], "S1_conf": [0, 0]})
    notes.clear()
    assert indices(sweep, rows, warn=notes.append).empty
    assert "SALib gave NaN for delta with 100 points" in notes[0]


@pytest.mark.slow
def test_delta_minimum_is_enough():
    """DELTA_MIN_POINTS points give finite delta and S1 with SALib's delta.analyze (installed
    version) on LHS and random designs, and 24 LHS points do not (why the minimum exists)."""
    import warnings

    from SALib.analyze import delta
    from scipy.stats import qmc

    from simulation.sweeps.analysis import _quietly
    from simulation.sweeps.spec import DELTA_MIN_POINTS

    problem = {"num_vars": 2, "names": ["a", "b"], "bounds": [[0.0, 1.0]] * 2}

    def finite(x):
        y = 3 * x[:, 0] + 0.1 * x[:, 1] ** 2
        res = _quietly(delta.analyze, problem, x, y, seed=3)
        return all(np.isfinite(res[k]).all() for k in ("delta_raw", "S1", "S1_conf"))

    fmt = warnings.formatwarning
    for seed in (1, 2):
        assert finite(qmc.LatinHypercube(d=2, seed=seed).random(DELTA_MIN_POINTS))
        assert finite(np.random.default_rng(seed).random((DELTA_MIN_POINTS, 2)))
    assert not finite(qmc.LatinHypercube(d=2, seed=1).random(24))
    assert warnings.formatwarning is fmt  # SALib's global change undone


def test_a_sweep_row_holds_the_values_of_all_indicators_of_that_run():
    """The worker computes only the sweep's indicators; their values are those of the
    whole set computed on the same run (bit for bit)."""
    import numpy as np

    import simulation
    from simulation.runs.ensemble import flatten
    from simulation.sweeps.runner import _run_one

    params = simulation.calibrated()
    inputs = simulation.default_inputs(2010, 2016).scaled(0.2)
    seed = np.random.SeedSequence(11)
    names = ["retention_3y", "share_in_10_largest", "destination_split_of_movers.oslo",
             "municipalities_by_out_share.at_least_80pct"]
    row = _run_one(params, inputs, {}, seed, 0, 0, 0, {}, names)
    assert row["status"] == "ok", row["error"]
    every = flatten(simulation.indicators(simulation.run(params, seed, inputs)))
    for name in names:
        assert np.float64(row[name]).tobytes() == np.float64(every[name]).tobytes(), name


def test_a_discovery_on_an_indicator_the_runs_do_not_record_is_refused(tmp_path, capsys):
    """Runs record only the sweep's indicators: a discovery condition on another one used to
    run every run and then stop with an internal KeyError; now the file is refused first."""
    path = make(tmp_path, extra="discover:\n  - {indicator: hoover_index, above: 0.1}\n")
    assert main(["sweep", str(path), "--out", str(tmp_path / "out"), "--quiet"]) == 2
    err = capsys.readouterr().err
    assert "discover[0].indicator: 'hoover_index' is not among the sweep's indicators" in err
    assert not (tmp_path / "out").exists()


# --- a compared scenario: the paired effect at every point -----------------------------------

def _with_compare(tmp_path: Path, policy: str = "policy: {rights_years: 0}\n",
                  **kwargs) -> Path:
    path = make(tmp_path, **kwargs)
    (tmp_path / "other.yaml").write_text(f"extends: base.yaml\nname: no-rule\n{policy}",
                                         encoding="utf-8")
    path.write_text(path.read_text() + "compare: other.yaml\n", encoding="utf-8")
    return path


def test_the_no_rule_example_sweeps_every_fitted_parameter_paired_with_no_rule():
    sweep = load_sweep(REPO / "sweeps" / "posterior-no-rule.yaml")
    assert sweep.schema.design == "posterior" and sweep.variant is not None
    assert sweep.variant.params.rights_years == 0 and sweep.base.params.rights_years == 5
    assert set(sweep.names) == set(sweep.base.posterior_draws[0])  # all 60, none picked
    assert sweep.outcomes[3:] == [f"effect.{i}" for i in sweep.schema.indicators]


@pytest.mark.slow  # ~10 s: a Dask cluster starts
def test_a_compared_scenario_runs_at_every_point_with_the_same_seed(tmp_path):
    """compare: each row holds the base's indicators and effect.<indicator> = the compared
    scenario's run minus the base's, same point, same seed, bit for bit as two direct runs,
    and the same rows locally and on Dask."""
    import simulation
    from simulation.engine.randomness import replicate_seeds
    from simulation.runs.ensemble import flatten
    from simulation.sweeps.runner import run_sweep

    sweep = load_sweep(_with_compare(tmp_path, samples=2, design="morris", end=2013))
    assert sweep.outcomes == ["retention_3y", "share_in_10_largest",
                              "effect.retention_3y", "effect.share_in_10_largest"]
    rows = run_sweep(sweep, tmp_path / "out", jobs=2)
    assert len(rows) == 6 and (rows["status"] == "ok").all()
    # the same rows on a real Dask LocalCluster (the compared scenario's inputs scattered once)
    on_dask = run_sweep(sweep, tmp_path / "dask", jobs=2, scheduler="local")
    pd.testing.assert_frame_equal(rows.drop(columns="duration_s"),
                                  on_dask.drop(columns="duration_s"))
    seed = replicate_seeds(3, 1)[0]
    for _, row in rows.iloc[[0, 4]].iterrows():
        values = {n: row[n] for n in sweep.names}
        base_p, base_i = sweep.setup(values, int(row["point"]))
        other_p, other_i = sweep.setup(values, int(row["point"]), variant=True)
        assert other_p.rights_years == 0 and base_p.rights_years == 5
        assert {k: v for k, v in dict(other_p).items() if k != "rights_years"} == \
            {k: v for k, v in dict(base_p).items() if k != "rights_years"}
        a = flatten(simulation.indicators(simulation.run(base_p, seed, base_i)))
        b = flatten(simulation.indicators(simulation.run(other_p, seed, other_i)))
        for ind in sweep.schema.indicators:
            assert row[ind] == a[ind]
            assert row[f"effect.{ind}"] == b[ind] - a[ind]
    # removing the rule lowers 3-year retention at every point (the rule holds people back)
    assert (rows["effect.retention_3y"] < 0).all()


def test_a_compared_sweep_has_its_own_fingerprint_and_old_ones_keep_theirs(tmp_path):
    plain = load_sweep(make(tmp_path))
    (tmp_path / "p").mkdir()
    paired = load_sweep(_with_compare(tmp_path / "p"))
    assert plain.variant is None and plain.outcomes == list(plain.schema.indicators)
    assert paired.fingerprint() != plain.fingerprint()
    # a sweep without compare hashes exactly what it hashed before compare existed
    import hashlib

    from simulation.engine import RESULTS_VERSION

    base = plain.base.resolved()
    base.pop("name", None), base.pop("description", None)
    what = {"points": np.round(plain.points(), 12).tolist(), "names": plain.names,
            "replicates": 1, "seed": 3, "indicators": plain.schema.indicators, "base": base,
            "engine": RESULTS_VERSION}
    blob = json.dumps(what, sort_keys=True, default=str)
    assert plain.fingerprint() == hashlib.sha256(blob.encode()).hexdigest()[:16]


@pytest.mark.parametrize(("policy", "key", "expect"), [
    ("period: {start: 2010, end: 2013}\npolicy: {rights_years: 0}\n", "compare",
     "the compared scenario runs 2010-2013 and the base 2010-2014"),
    ("policy: {rights_years: 5}\n", "compare",
     "the compared scenario runs the same as the base"),
    ("parameters: {move_intercept: -1.0}\n", "parameters.move_intercept",
     "the compared scenario sets move_intercept differently from the base"),
    ("policy: {rights_years: 0}\n", "compare", None),
])
def test_bad_compare_names_file_key_and_allowed(tmp_path, policy, key, expect):
    path = _with_compare(tmp_path, policy=policy)
    if expect is None:
        assert load_sweep(path).variant.name == "no-rule"
        return
    with pytest.raises(InputError) as err:
        load_sweep(path)
    assert f"{path}:" in str(err.value) and f": {key}:" in str(err.value)
    assert expect in str(err.value), str(err.value)


def test_compare_file_missing_and_effect_without_compare(tmp_path, capsys):
    path = make(tmp_path, extra="compare: nothere.yaml\n")
    msg = _refused(tmp_path, path, capsys)
    assert "compare: file not found: 'nothere.yaml'" in msg
    path = make(tmp_path, extra="discover:\n  - {indicator: effect.retention_3y, below: 0}\n")
    msg = _refused(tmp_path, path, capsys)
    assert "'effect.retention_3y' is a paired effect, and this sweep compares no scenario" \
        in msg
    path = _with_compare(tmp_path, extra="discover:\n  - {indicator: effect.retention_3y, "
                                         "below: 0}\n")
    assert load_sweep(path).schema.discover[0].indicator == "effect.retention_3y"


@pytest.mark.slow
def test_a_compared_posterior_sweep_end_to_end(tmp_path):
    """`secmig sweep` with compare over posterior draws: indices and spread for the effects,
    PRIM on an effect, the report names the compared scenario."""
    params = ("  rights_cost: {distribution: posterior}\n"
              "  move_intercept: {distribution: posterior}\n")
    path = _with_compare(tmp_path, samples=100, design="posterior", parameters=params,
                         end=2016, extra="discover:\n  - {indicator: effect.retention_3y, "
                                         "below: -0.005}\n")
    out = tmp_path / "out"
    assert main(["sweep", str(path), "--jobs", "2", "--out", str(out), "--quiet"]) == 0
    rows = done_runs(out)
    table = pd.read_csv(out / "indices.csv")
    assert set(table["indicator"]) == {"retention_3y", "share_in_10_largest",
                                       "effect.retention_3y", "effect.share_in_10_largest"}
    spread = pd.read_csv(out / "spread.csv").set_index("indicator")
    assert np.isclose(spread.loc["effect.retention_3y", "median"],
                      rows["effect.retention_3y"].median())
    found = pd.read_csv(out / "discovery.csv")
    assert found["hits"].iloc[0] == int((rows["effect.retention_3y"] < -0.005).sum())
    html = (out / "report.html").read_text(encoding="utf-8")
    assert "compared scenario" in html and "no-rule minus base" in html
    # the rule's cost drives the effect more than the move intercept does
    eff = table[table["indicator"] == "effect.retention_3y"].set_index("parameter")
    assert eff.loc["rights_cost", "delta"] > eff.loc["move_intercept", "delta"]

"""Sensitivity sweeps: sweep-file checks, designs and distributions, results as they complete,
resume without duplicates or losses, failed runs recorded, identical results for any number
of workers and on a real Dask LocalCluster, SALib indices, PRIM and the report."""

from __future__ import annotations

import signal
import subprocess
import time
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from scipy import stats

from simulation.cli import main
from simulation.sweep import Discovery, load_sweep
from simulation.sweep_analysis import discover, indices, ranking
from simulation.sweep_runner import done_runs
from simulation.yamlsource import InputError
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


def test_morris_sweep_same_results_locally_any_jobs_and_on_dask(tmp_path, capsys):
    """One local process and a real dask.distributed LocalCluster (2 worker processes on
    loopback) give the same rows; SALib indices; PRIM; report; a rerun resumes."""
    path = make(tmp_path, extra="discover:\n  - {indicator: retention_3y, below: 0.9}\n")
    runs = {"a": ["--jobs", "1"], "d": ["--jobs", "2", "--scheduler", "local"]}
    rows = {}
    for key, extra in runs.items():
        assert main(["sweep", str(path), *extra, "--out", str(tmp_path / key), "--quiet"]) == 0
        rows[key] = done_runs(tmp_path / key).drop(columns="duration_s")
    assert len(rows["a"]) == 6 and rows["a"]["run_id"].is_unique
    assert (rows["a"]["status"] == "ok").all()
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


def test_killed_sweep_resumes_without_duplicates_or_losses(tmp_path):
    path = make(tmp_path, samples=8, design="lhs")
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
    assert 3 <= len(partial) < 8
    # a stopped sweep can be looked at already
    assert main(["sweep", str(path), "--out", str(out), "--report-only"]) == 0
    assert (out / "report.html").exists()
    done = secmig("sweep", str(path), "--jobs", "1", "--out", str(out), "--quiet")
    assert done.returncode == 0, done.stderr
    rows = done_runs(out)
    assert sorted(rows["run_id"]) == list(range(8))
    kept = rows.set_index("run_id").loc[partial["run_id"], "retention_3y"]
    assert (kept.to_numpy() == partial["retention_3y"].to_numpy()).all()


def test_a_failed_run_is_a_row_and_does_not_stop_the_others(tmp_path, monkeypatch):
    """A run that raises (here: an injected fault for one parameter value) is recorded with
    its error; the others finish; --retry-failed runs only it again."""
    import simulation.api as api

    path = make(tmp_path, samples=2, design="grid")  # 4 points
    real = api.run

    def flaky(params, seed, inputs):
        if params["move_intercept"] == -1.6 and params["dest_same_county_effect"] == 1.5:
            raise RuntimeError("injected fault")
        return real(params, seed, inputs)

    monkeypatch.setattr(api, "run", flaky)
    out = tmp_path / "out"
    assert main(["sweep", str(path), "--jobs", "1", "--out", str(out), "--quiet"]) == 0
    rows = done_runs(out)
    assert list(rows["status"]) == ["ok", "failed", "ok", "ok"]
    assert rows.loc[1, "error"] == "RuntimeError: injected fault"
    assert np.isnan(rows.loc[1, "retention_3y"])
    assert "Failed runs" in (out / "report.html").read_text(encoding="utf-8")
    monkeypatch.setattr(api, "run", real)
    assert main(["sweep", str(path), "--jobs", "1", "--out", str(out), "--quiet"]) == 0
    assert (done_runs(out)["status"] == "failed").sum() == 1  # kept unless asked
    assert main(["sweep", str(path), "--jobs", "1", "--out", str(out), "--quiet",
                 "--retry-failed"]) == 0
    rows = done_runs(out)
    assert len(rows) == 4 and (rows["status"] == "ok").all()


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


@pytest.mark.parametrize("text, expect", [
    ("  move_intercep: {low: -1.6, high: -0.6}\n", "did you mean 'move_intercept'"),
    ("  rights_cost: {low: 2, high: 1}\n", "must increase and lie inside the registry range"),
    ("  rights_cost: {distribution: gamma, low: 0, high: 1}\n", "allowed: uniform, normal"),
    ("  rights_cost: {distribution: normal, mean: 0.5}\n", "sd: got None"),
    ("  rights_cost: {low: 0, hi: 1}\n", "unknown key 'hi'"),
    ("  settlement.exclude_below_population: {low: 0, high: 900000}\n", "[0, 50000]"),
])
def test_bad_parameters_name_file_line_key_and_allowed(tmp_path, text, expect):
    path = make(tmp_path, parameters=text)
    with pytest.raises(InputError) as err:
        load_sweep(path)
    msg = str(err.value)
    assert f"{path}:8: parameters." in msg and expect in msg, msg


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


def test_a_changed_sweep_does_not_resume_into_the_old_folder(tmp_path):
    path = make(tmp_path, samples=2, design="lhs")
    out = tmp_path / "o"
    assert main(["sweep", str(path), "--out", str(out), "--quiet", "--jobs", "1"]) == 0
    path.write_text(path.read_text().replace("seed: 3", "seed: 4"))
    assert main(["sweep", str(path), "--out", str(out), "--quiet", "--jobs", "1"]) == 2


# --- analysis on known functions (no simulation: the indices' wiring, checked exactly) -------

def _rows_from(sweep, f) -> pd.DataFrame:
    x = pd.DataFrame(sweep.points(), columns=sweep.names)
    rows = x.assign(point=range(len(x)), replicate=0, status="ok", run_id=range(len(x)))
    return rows.assign(retention_3y=f(x), share_in_10_largest=0.1 * f(x) + x.iloc[:, 1])


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

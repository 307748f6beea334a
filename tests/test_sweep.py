"""Sensitivity sweeps: design, results as they complete, resume without duplicates or losses,
identical results for any number of workers, and SALib indices."""

from __future__ import annotations

import signal
import subprocess
import time
from pathlib import Path

import pandas as pd
import pytest

from simulation.cli import main
from simulation.sweep import done_runs, load_sweep
from simulation.yamlsource import InputError
from tests.test_cli import SECMIG, secmig

REPO = Path(__file__).resolve().parent.parent


def make(tmp_path: Path, samples: int = 2, design: str = "morris") -> Path:
    (tmp_path / "base.yaml").write_text(
        f"extends: {REPO / 'scenarios' / 'baseline.yaml'}\nname: base\n"
        "period: {start: 2010, end: 2014}\n", encoding="utf-8")
    path = tmp_path / "sweep.yaml"
    path.write_text(f"name: s\nbase: base.yaml\ndesign: {design}\nsamples: {samples}\n"
                    "replicates: 1\nseed: 3\nparameters:\n"
                    "  move_intercept: {low: -1.6, high: -0.6}\n"
                    "  dest_same_county_effect: {low: 0.3, high: 1.5}\n"
                    "indicators: [retention_3y, share_in_10_largest]\n", encoding="utf-8")
    return path


def test_the_example_sweep_is_valid():
    sweep = load_sweep(REPO / "sweeps" / "morris-example.yaml")
    assert sweep.points().shape == (220, 10)


def test_morris_sweep_same_results_locally_any_jobs_and_on_dask(tmp_path, capsys):
    """One local process and a real dask.distributed LocalCluster (2 worker processes on
    loopback) give the same rows; SALib indices; a rerun resumes."""
    path = make(tmp_path)
    runs = {"a": ["--jobs", "1"], "d": ["--jobs", "2", "--scheduler", "local"]}
    rows = {}
    for key, extra in runs.items():
        assert main(["sweep", str(path), *extra, "--out", str(tmp_path / key), "--quiet"]) == 0
        rows[key] = (done_runs(tmp_path / key).sort_values("run_id")
                     .drop(columns="duration_s").reset_index(drop=True))
    assert len(rows["a"]) == 6 and rows["a"]["run_id"].is_unique
    assert (rows["a"]["status"] == "ok").all()
    pd.testing.assert_frame_equal(rows["a"], rows["d"])
    indices = pd.read_csv(tmp_path / "a" / "indices.csv")
    assert set(indices["parameter"]) == {"move_intercept", "dest_same_county_effect"}
    mu = indices.set_index(["indicator", "parameter"])["mu_star"]
    # the intercept drives retention; same-county attraction does not change retention much
    assert mu["retention_3y", "move_intercept"] > mu["retention_3y", "dest_same_county_effect"]
    # rerunning resumes: nothing to do, nothing duplicated
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
    proc.communicate(timeout=60)
    partial = done_runs(out)
    assert 3 <= len(partial) < 8
    done = secmig("sweep", str(path), "--jobs", "1", "--out", str(out), "--quiet")
    assert done.returncode == 0, done.stderr
    rows = done_runs(out)
    assert sorted(rows["run_id"]) == list(range(8))
    kept = rows.set_index("run_id").loc[partial["run_id"], "retention_3y"]
    assert (kept.to_numpy() == partial["retention_3y"].to_numpy()).all()


def test_bad_sweep_file(tmp_path):
    bad = tmp_path / "bad.yaml"
    bad.write_text("name: x\nbase: nothere.yaml\ndesign: morriss\nsamples: 2\n"
                   "parameters: {rights_cost: {low: 2, high: 1}}\nindicators: [a]\n")
    with pytest.raises(InputError) as err:
        load_sweep(bad)
    assert "design" in str(err.value)

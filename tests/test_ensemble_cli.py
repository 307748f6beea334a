"""Ensembles from the command line: identical for any --jobs, atomic under interruption,
and compare's differences are made of pairs of runs with the same replicate seed."""

from __future__ import annotations

import filecmp
import json
import signal
import subprocess
import sys
import time
from pathlib import Path

import pandas as pd
import pytest
import yaml

from tests.test_cli import SECMIG, longest_line, secmig

SMALL = """name: small
description: a short window for tests
period: {start: 2010, end: 2017}
replicates: 3
seed: 11
"""


def write(path: Path, text: str) -> Path:
    path.write_text(text, encoding="utf-8")
    return path


def _wait_for_runs(proc: subprocess.Popen, seconds: float) -> None:
    """Give the run time to start its workers and be well into the replicates."""
    deadline = time.time() + seconds
    while time.time() < deadline and proc.poll() is None:
        time.sleep(0.2)


@pytest.mark.slow
def test_same_outputs_for_any_number_of_jobs(tmp_path):
    scen = write(tmp_path / "small.yaml", SMALL.replace("end: 2017", "end: 2014")
                 .replace("replicates: 3", "replicates: 2")
                 + "outputs: {formats: [csv, parquet]}\n")
    one = secmig("run", str(scen), "--jobs", "1", "--out", str(tmp_path / "j1"), "--quiet")
    two = secmig("run", str(scen), "--jobs", "2", "--out", str(tmp_path / "j2"), "--quiet")
    assert one.returncode == 0 and two.returncode == 0, one.stderr + two.stderr
    names = ["summary.json", "retention.csv", "municipalities.csv", "flows.csv", "yearly.csv",
             "indicators_by_replicate.csv", "scenario.resolved.yaml"]
    match, mismatch, errors = filecmp.cmpfiles(tmp_path / "j1", tmp_path / "j2", names,
                                               shallow=False)
    assert mismatch == [] and errors == [] and sorted(match) == sorted(names)
    a = pd.read_parquet(tmp_path / "j1" / "flows.parquet")
    b = pd.read_parquet(tmp_path / "j2" / "flows.parquet")
    pd.testing.assert_frame_equal(a, b)
    manifest = json.loads((tmp_path / "j2" / "manifest.json").read_text())
    assert manifest["jobs"] == 2 and len(manifest["replicate_seeds"]) == 2
    assert all(len(h) == 64 for h in manifest["input_files"].values())


@pytest.mark.slow
def test_interrupt_leaves_no_partial_output(tmp_path):
    scen = write(tmp_path / "long.yaml", SMALL.replace("replicates: 3", "replicates: 200"))
    out = tmp_path / "outputs" / "long"
    proc = subprocess.Popen([SECMIG, "run", str(scen), "--jobs", "2", "--out", str(out),
                             "--quiet"], stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                            text=True)
    _wait_for_runs(proc, 5)
    assert proc.poll() is None, proc.communicate()
    proc.send_signal(signal.SIGINT)
    _, err = proc.communicate(timeout=60)
    assert proc.returncode == 130, err
    assert "interrupted" in err and "Traceback" not in err
    parent = out.parent
    assert not parent.exists() or list(parent.iterdir()) == []


@pytest.mark.slow
def test_interrupt_keeps_earlier_output(tmp_path):
    scen = write(tmp_path / "s.yaml", SMALL.replace("replicates: 3", "replicates: 1"))
    out = tmp_path / "o"
    assert secmig("run", str(scen), "--out", str(out), "--quiet").returncode == 0
    before = {p.name: p.read_bytes() for p in out.iterdir() if p.is_file()}
    scen2 = write(tmp_path / "s2.yaml", SMALL.replace("replicates: 3", "replicates: 200"))
    proc = subprocess.Popen([SECMIG, "run", str(scen2), "--out", str(out), "--force",
                             "--quiet", "--jobs", "1"], stdout=subprocess.PIPE,
                            stderr=subprocess.PIPE, text=True)
    _wait_for_runs(proc, 4)
    proc.send_signal(signal.SIGTERM)
    proc.communicate(timeout=60)
    assert proc.returncode == 130
    assert {p.name: p.read_bytes() for p in out.iterdir() if p.is_file()} == before
    assert sorted(p.name for p in tmp_path.iterdir()) == ["o", "s.yaml", "s2.yaml"]


@pytest.mark.slow
def test_compare_differences_are_paired_by_replicate(tmp_path):
    base = write(tmp_path / "base.yaml", SMALL.replace("replicates: 3", "replicates: 5"))
    norule = write(tmp_path / "norule.yaml", "extends: base.yaml\nname: norule\n"
                   "description: no tie of rights\npolicy: {rights_years: 0}\n")
    out = tmp_path / "cmp"
    res = secmig("compare", str(base), str(norule), "--out", str(out), "--quiet")
    assert res.returncode == 0, res.stderr
    diffs = pd.read_csv(out / "differences.csv")
    # every difference is recomputed from the pairs it was made of (row i of both arms comes
    # from replicate seed i). Whether pairing narrows the spread is a statistical claim that 5
    # replicates cannot settle per indicator; test_policy tests it with its own standard error.
    pairs = pd.read_csv(out / "indicators_by_replicate.csv")
    a = pairs[pairs["scenario"] == "small"].set_index("replicate")
    b = pairs[pairs["scenario"] == "norule"].set_index("replicate")
    assert list(a.index) == list(b.index) == list(range(5))
    for ind in ("retention_3y", "retention_5y", "moves_per_year", "hoover_index",
                "share_in_10_largest"):
        row = diffs.set_index("indicator").loc[ind]
        d = b[ind] - a[ind]
        unpaired = (b[ind].to_numpy()[:, None] - a[ind].to_numpy()[None, :]).ravel()
        assert row["difference"] == pytest.approx(d.mean(), rel=1e-12, abs=1e-12)
        assert row["sd_paired"] == pytest.approx(d.std(), rel=1e-12, abs=1e-12)
        assert row["sd_unpaired"] == pytest.approx(pd.Series(unpaired).std(), rel=1e-12)
        assert row["reference_mean"] == pytest.approx(a[ind].mean(), rel=1e-12)
    # removing the rule moves people earlier: retention after 3 years falls, beyond noise
    r3 = diffs.set_index("indicator").loc["retention_3y"]
    assert r3["p95"] < 0 and not r3["within_noise"]
    # the terminal shows the headline differences with intervals, in 80 columns
    assert "norule minus small" in res.stdout and "difference [5-95 %]" in res.stdout
    assert longest_line(res.stdout) <= 80, res.stdout
    r5 = diffs.set_index("indicator").loc["retention_5y"]
    row = next(line for line in res.stdout.splitlines() if "retention 5 y" in line)
    assert f"{100 * r5['difference']:+.1f} [{100 * r5['p5']:+.1f}, {100 * r5['p95']:+.1f}]" in row
    assert f"{100 * r5['reference_mean']:.1f} %" in row
    for label in ("retention 7 y", "moves per year", "munis >=80 % out",
                  "share in 10 largest", "Hoover index"):
        assert label in res.stdout
    html = (out / "report.html").read_text(encoding="utf-8")
    assert "norule" in html and "data:image/png;base64," in html
    assert (out / "figures" / "map_difference_norule.png").stat().st_size > 10_000
    summary = json.loads((out / "summary.json").read_text())
    assert summary["reference"] == "small" and "norule" in summary["differences"]


def test_python_entry_point_matches_console_script():
    out = subprocess.run([sys.executable, "-m", "simulation.cli", "--help"], capture_output=True,
                         text=True, timeout=60)
    assert out.returncode == 0 and "compare" in out.stdout


@pytest.mark.slow
def test_posterior_draws_widen_the_intervals(tmp_path, capsys):
    repo = Path(__file__).resolve().parent.parent
    # the committed fit with its first three draws spread over the family reunification
    # share's prior box: whether three given draws of 60 parameters differ enough in what
    # this run measures is luck, this is not
    fitted = yaml.safe_load((repo / "calibration" / "fitted.yaml").read_text())
    fitted["posterior_draws"] = [{**d, "family_reunification_share": share} for d, share in
                                 zip(fitted["posterior_draws"][:3], (0.05, 0.15, 0.3),
                                     strict=True)]
    fitted_path = tmp_path / "fitted.yaml"
    fitted_path.write_text(yaml.safe_dump(fitted, sort_keys=False), encoding="utf-8")
    scen = write(tmp_path / "p.yaml", f"extends: {repo / 'scenarios' / 'baseline.yaml'}\n"
                 "name: post\nperiod: {start: 2010, end: 2014}\nreplicates: 2\n"
                 f"parameters: {{from: {fitted_path}}}\n")
    from simulation.cli import main

    assert main(["run", str(scen), "--out", str(tmp_path / "point"), "--quiet",
                 "--replicates", "4", "--jobs", "1"]) == 0
    assert main(["run", str(scen), "--out", str(tmp_path / "post"), "--quiet",
                 "--posterior", "3", "--jobs", "1"]) == 0
    summary = json.loads((tmp_path / "post" / "summary.json").read_text())
    assert summary["runs"] == 6 and summary["posterior_draws"] == 3
    by_rep = pd.read_csv(tmp_path / "post" / "indicators_by_replicate.csv")
    assert len(by_rep) == 6
    # run k * replicates + r is draw k with replicate seed r, and the manifest names the
    # drawn values: the first 3 draws of the fitted file, with the scenario's settings on top
    assert list(by_rep["draw"]) == [0, 0, 1, 1, 2, 2]
    assert list(by_rep["replicate_seed"]) == [0, 1, 0, 1, 0, 1]
    drawn = json.loads((tmp_path / "post" / "manifest.json").read_text())[
        "posterior_parameters"]
    assert len(drawn) == 3 and drawn[0] and len({tuple(d.items()) for d in drawn}) == 3
    for d, f in zip(drawn, fitted["posterior_draws"][:3], strict=True):
        assert all(d[name] == pytest.approx(f[name], rel=1e-12) for name in d)
    # the draws' parameters matter: persons still in Norway (set by the drawn family
    # reunification share) spread far more over 3 draws x 2 replicates than over 4
    # replicates at the point estimate (thousands against tens of persons)
    spread = {name: pd.read_csv(tmp_path / name / "indicators_by_replicate.csv")[
        "settled_persons_2010_2023_still_in_norway"].std() for name in ("point", "post")}
    assert spread["post"] > 3 * spread["point"], spread
    assert main(["run", str(scen), "--out", str(tmp_path / "x"), "--quiet",
                 "--posterior", "100000"]) == 2
    assert "posterior draws" in capsys.readouterr().err


@pytest.mark.slow  # ~6 s
def test_compare_on_few_posterior_draws_says_its_ends_move_with_the_draws(tmp_path, capsys):
    """`secmig compare --posterior K` below 100 draws notes that the intervals' ends come
    from few draws, with the no-rule example, and what to run instead."""
    repo = Path(__file__).resolve().parents[1]
    base = write(tmp_path / "b.yaml", f"extends: {repo / 'scenarios' / 'baseline.yaml'}\n"
                 "name: b\nperiod: {start: 2010, end: 2012}\nreplicates: 1\n")
    other = write(tmp_path / "n.yaml", "extends: b.yaml\nname: n\npolicy: {rights_years: 0}\n")
    from simulation.cli import main

    capsys.readouterr()
    assert main(["compare", str(base), str(other), "--out", str(tmp_path / "c"), "--quiet",
                 "--posterior", "2", "--jobs", "1"]) == 0
    said = " ".join(capsys.readouterr().out.split())
    assert ("note: the intervals' ends come from 2 posterior draws and move with the draws "
            "chosen (the no-rule effect's 5 % end: -1.7 points on 20 draws, -2.9 on 200); "
            "use --posterior 100 or more") in said

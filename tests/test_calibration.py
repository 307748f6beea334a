"""Calibration: parameter recovery from targets the model itself produced, reproducibility,
resuming after an interruption, and the fitted file feeding scenarios."""

from __future__ import annotations

import json
import signal
import subprocess
import time
from pathlib import Path

import numpy as np
import pytest
import yaml

import simulation
from simulation.calibration import load_spec
from simulation.ensemble import flatten
from simulation.randomness import replicate_seeds
from simulation.yamlsource import InputError
from tests.test_cli import SECMIG

SCALE = 0.5  # half the people: the CI-sized version of calibration/recovery.py
TRUE = {"move_intercept": -1.5, "dest_same_county_effect": 1.8, "move_family_effect": -1.2}
PRIORS = {"move_intercept": (-2.5, 0.0), "dest_same_county_effect": (0.0, 2.5),
          "move_family_effect": (-2.0, 0.0)}
MOMENTS = [("retention_5y", None, "level", 0.01),
           ("destination_split_of_movers", "same_county", "level", 0.015),
           ("retention_5y_by_household_type_2005", "couple_with_children", "ratio_to_all", 0.02)]


@pytest.fixture(scope="module")
def synthetic(tmp_path_factory) -> Path:
    """A calibration file whose targets are the model's own output at TRUE (other seeds)."""
    inputs = simulation.default_inputs(2010, 2016, scale=SCALE)
    flats = [flatten(simulation.run(TRUE, s, inputs).indicators())
             for s in replicate_seeds(999, 4)]
    targets = []
    for mid, key, compare, tol in MOMENTS:
        name = mid if key is None else f"{mid}.{key}"
        vals = [f[name] / (f[f"{mid}.all"] if compare == "ratio_to_all" else 1.0) for f in flats]
        targets.append({"id": mid, **({"key": key} if key else {}), "value": float(np.mean(vals)),
                        "tolerance": tol, "compare": compare})
    spec = {"name": "recovery", "seed": 5, "replicates": 2, "scale": SCALE,
            "period": {"start": 2010, "end": 2016}, "targets": targets,
            "free_parameters": {k: {"low": lo, "high": hi} for k, (lo, hi) in PRIORS.items()}}
    path = tmp_path_factory.mktemp("recovery") / "targets.yaml"
    path.write_text(yaml.safe_dump(spec, sort_keys=False), encoding="utf-8")
    return path


def _calibrate(path: Path, *extra: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run([SECMIG, "calibrate", str(path), "--budget", "28",
                           "--check-replicates", "2", "--check-draws", "4", "--quiet",
                           "--jobs", "1", *extra],
                          capture_output=True, text=True, timeout=900)


def _fitted(path: Path) -> dict:
    doc = yaml.safe_load((path.parent / "fitted-recovery.yaml").read_text())
    doc.pop("created_utc")
    return doc


def test_parameters_are_recovered_within_their_intervals(synthetic):
    out = _calibrate(synthetic)
    assert out.returncode == 0, out.stderr
    doc = _fitted(synthetic)
    for name, true in TRUE.items():
        iv = doc["intervals"][name]
        assert iv["p5"] <= true <= iv["p95"], (name, true, iv, doc["parameters"][name])
        lo, hi = PRIORS[name]
        assert iv["p95"] - iv["p5"] < 0.7 * (hi - lo), (name, iv)  # the targets inform it
    assert all(t["within_tolerance"] for t in doc["targets"])
    report = synthetic.parent / "fit" / "recovery" / "report.html"
    assert "Parameters" in report.read_text()


def test_same_seed_same_fit_and_rerun_reuses_the_log(synthetic):
    first = _fitted(synthetic)
    log = synthetic.parent / "fit" / "recovery" / "evaluations.jsonl"
    lines = len(log.read_text().splitlines())
    t0 = time.perf_counter()
    again = _calibrate(synthetic)
    assert again.returncode == 0, again.stderr
    assert _fitted(synthetic) == first
    # everything was in the log except the fit check's fresh runs: no new evaluations
    assert len(log.read_text().splitlines()) == lines
    assert time.perf_counter() - t0 < 60


def test_interrupt_keeps_a_readable_log_and_no_fitted_file(synthetic, tmp_path):
    copy = tmp_path / "targets.yaml"
    copy.write_text(synthetic.read_text())
    proc = subprocess.Popen([SECMIG, "calibrate", str(copy), "--budget", "28",
                             "--check-replicates", "2", "--check-draws", "4", "--quiet",
                             "--jobs", "1"],
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    log = tmp_path / "fit" / "recovery" / "evaluations.jsonl"
    deadline = time.time() + 120
    while time.time() < deadline and (not log.exists() or len(log.read_text().splitlines()) < 3):
        time.sleep(0.2)
    proc.send_signal(signal.SIGINT)
    _, err = proc.communicate(timeout=60)
    assert proc.returncode == 130 and "Traceback" not in err
    assert not (tmp_path / "fitted-recovery.yaml").exists()
    assert all(json.loads(line)["values"] for line in log.read_text().splitlines())


def test_resume_from_a_partial_log_gives_the_same_fit(synthetic, tmp_path):
    """A log cut halfway (with a torn last line, as an interruption leaves it): the rerun
    simulates only what is missing and arrives at the same parameters."""
    full = (synthetic.parent / "fit" / "recovery" / "evaluations.jsonl").read_text()
    lines = full.splitlines()
    copy = tmp_path / "targets.yaml"
    copy.write_text(synthetic.read_text())
    log = tmp_path / "fit" / "recovery" / "evaluations.jsonl"
    log.parent.mkdir(parents=True)
    half = len(lines) // 2
    log.write_text("\n".join(lines[:half]) + "\n" + lines[half][: len(lines[half]) // 2])
    resumed = _calibrate(copy)
    assert resumed.returncode == 0, resumed.stderr
    assert _fitted(copy)["parameters"] == _fitted(synthetic)["parameters"]
    assert len([ln for ln in log.read_text().splitlines() if ln.startswith("{")]) >= len(lines)


def test_bad_calibration_file(tmp_path):
    bad = tmp_path / "t.yaml"
    bad.write_text("name: x\ntargets: []\nfree_parameters:\n  move_intercep: {low: 0, high: 1}\n"
                   "  rights_cost: {low: 3, high: 1}\n")
    with pytest.raises(InputError) as err:
        load_spec(bad)
    text = str(err.value)
    assert "free_parameters.move_intercep: unknown parameter" in text
    assert "free_parameters.rights_cost" in text and ":5:" in text

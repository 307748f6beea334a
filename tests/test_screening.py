"""Screening before fitting: the Morris screen runs end to end and tells an inert parameter
from a strong one; the free parameters of the calibration are the screen's decision; every
calibration prior is a sensible box."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
import yaml

from simulation.calibration.screening import (
    THRESHOLD,
    decide,
    elementary_effects,
    morris_design,
    run_screen,
    write_screening,
)
from simulation.calibration.spec import load_spec
from simulation.inputs.parameters import (
    BY_NAME,
    NO_PRIOR,
    POLICY_KEYS,
    REGISTRY,
    calibration_parameters,
)

REPO = Path(__file__).resolve().parent.parent


def _small_spec(tmp_path: Path) -> Path:
    """2010-2013 at 5 % of the people, two early-move targets: a screen in seconds."""
    spec = {"name": "screen-test", "seed": 3, "replicates": 2, "scale": 0.05,
            "period": {"start": 2010, "end": 2013},
            "targets": [
                {"id": "moved_by_end_of_year_2", "key": "2011", "value": 0.04,
                 "tolerance": 0.015},
                {"id": "moved_in_settlement_year", "value": 0.015, "tolerance": 0.01}],
            "free_parameters": {"move_intercept": {"low": -2.5, "high": 0.0}}}
    path = tmp_path / "targets.yaml"
    path.write_text(yaml.safe_dump(spec, sort_keys=False), encoding="utf-8")
    return path


@pytest.mark.slow  # ~1.5-3 s: kept out of the fast tier (under a minute)
def test_small_screen_fixes_an_inert_parameter_and_frees_move_intercept(tmp_path):
    # Ukrainians arrive from 2022: before that their employment effect changes nothing, and
    # with common seeds its elementary effects are exactly zero
    spec = load_spec(_small_spec(tmp_path))
    names = ["move_intercept", "employment_ukraine_effect"]
    log = tmp_path / "screening" / "evaluations.jsonl"
    s = run_screen(spec, log, names=names, trajectories=2, jobs=1)
    assert s.free == ["move_intercept"] and s.fixed == ["employment_ukraine_effect"]
    t = s.table.set_index(["parameter", "target"])
    assert (t.loc["employment_ukraine_effect", "mu_star_over_tol"] == 0).all()
    assert t.loc["move_intercept", "mu_star_over_tol"].max() > THRESHOLD
    assert s.runs == 2 * (len(names) + 1) * 2
    paths = write_screening(s, tmp_path / "screening")
    assert all(p.is_file() and p.stat().st_size > 0 for p in paths)
    doc = yaml.safe_load((tmp_path / "screening" / "decision.yaml").read_text())
    assert list(doc["free"]) == ["move_intercept"]
    assert doc["fixed"]["employment_ukraine_effect"]["default"] == 1.2
    # resumable: a rerun replays the log and simulates nothing
    ran: list[int] = []
    again = run_screen(spec, log, names=names, trajectories=2, jobs=1, on_run=ran.append)
    assert sum(ran) == s.runs and again.table.equals(s.table)


def test_morris_design_moves_one_parameter_per_step_and_extends():
    z = morris_design(5, 3, 4, seed=1)
    assert z.shape == (3 * 6, 5)
    ee, n = elementary_effects(z, z @ np.arange(1.0, 6.0)[:, None], 5)
    assert n == 3 and all(len(e) == 3 for e in ee)
    # y linear in z: every elementary effect of parameter i is its slope times the step (2/3)
    assert np.allclose([np.abs(e).mean() for e in ee], np.arange(1.0, 6.0) * 2 / 3)
    assert np.array_equal(morris_design(5, 5, 4, seed=1)[:18], z)  # more trajectories extend


def test_decision_needs_the_threshold_and_the_noise_floor():
    import pandas as pd

    t = pd.DataFrame({"parameter": ["a", "b", "c"], "target": ["x"] * 3,
                      "mu_star_over_tol": [0.5, 0.1, 0.3], "noise_over_tol": [0.1, 0.0, 0.4]})
    assert decide(t, 0.25) == ["a"]  # b is below the threshold, c below the noise


def test_free_parameters_are_the_screening_decision():
    spec = yaml.safe_load((REPO / "calibration" / "targets.yaml").read_text())
    decision = yaml.safe_load((REPO / "calibration" / "screening" / "decision.yaml").read_text())
    assert list(spec["free_parameters"]) == list(decision["free"])
    for name, box in spec["free_parameters"].items():
        assert (box["low"], box["high"]) == BY_NAME[name].prior, name
        assert (box["low"], box["high"]) == (decision["free"][name]["low"],
                                             decision["free"][name]["high"])
    screened = set(decision["free"]) | set(decision["fixed"])
    assert screened == {p.name for p in calibration_parameters()}


def test_every_prior_is_inside_the_registry_range_and_holds_the_default():
    for p in calibration_parameters():
        lo, hi = p.prior  # type: ignore[misc]
        assert p.low <= lo < hi <= p.high, p.name
        assert lo <= p.default <= hi, p.name
    # every other parameter says why it has none; the policy switches never have one
    assert {p.name for p in REGISTRY if p.prior is None} == set(NO_PRIOR)
    for name in ("rights_years", "programme_years", "job_move_exemption",
                 "rights_self_sufficiency", "settling_municipalities_min",
                 "settling_volume_scale"):
        assert BY_NAME[name].prior is None
    assert {"rights_cost", "rights_delay_share"} <= set(POLICY_KEYS)  # behavioural, with priors
    assert BY_NAME["rights_cost"].prior is not None


@pytest.mark.slow
def test_screen_command_refuses_bad_options(tmp_path):
    from tests.test_cli import secmig

    for args, expect in ((["--threshold", "nan"], "--threshold: got nan; allowed: a finite "
                          "number > 0"),
                         (["--threshold", "-1"], "allowed: a finite number > 0"),
                         (["--trajectories", "1"], "--trajectories: got 1; allowed: a whole "
                          "number >= 2")):
        out = secmig("screen", str(_small_spec(tmp_path)), *args)
        assert out.returncode == 2 and "Traceback" not in out.stderr, out.stderr
        assert expect in " ".join(out.stderr.split()), out.stderr
    assert "Morris" in secmig("screen", "--help").stdout


def test_calibration_doc_quotes_the_committed_screen():
    """docs/calibration.md's screening table is the committed summary.csv, row for row, and
    its prose quotes the run's size."""
    import pandas as pd

    from simulation.calibration.screening import summary_markdown

    summary = pd.read_csv(REPO / "calibration" / "screening" / "summary.csv")
    doc = (REPO / "docs" / "calibration.md").read_text(encoding="utf-8")
    assert summary_markdown(summary) in doc
    decision = yaml.safe_load((REPO / "calibration" / "screening" / "decision.yaml").read_text())
    flat = " ".join(doc.split())
    assert f"{decision['runs']:,} runs" in flat
    assert f"**{len(decision['free'])} free, {len(decision['fixed'])} fixed**" in flat

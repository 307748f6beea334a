"""A run at the calibrated point that misses a register target says, beside the miss, what the
calibration found for it over the posterior (issue 14: the misses belong to the posterior-mean
point). The numbers come from the fitted file's own check, recomputed here from the fit
report's table; the run report and the terminal show them for exactly the targets missed."""

from __future__ import annotations

import math
from pathlib import Path

import pandas as pd
import pytest

import simulation
from simulation.analysis.registry import describe
from simulation.analysis.targets import (
    Comparison,
    calibration_name,
    compare,
    describe_miss,
    miss_notes,
)
from simulation.inputs.scenario import load_scenario
from simulation.reports.html import esc
from simulation.reports.html import value as report_value
from simulation.runs.ensemble import indicator_frame, run_many
from simulation.runs.output import _miss_notes, _nested_means

REPO = Path(__file__).resolve().parent.parent


def test_fitted_file_carries_the_fit_reports_check():
    """Every target of the fit report's table is in the committed fitted file with its
    posterior-runs average and predictive interval (rounded to 6 decimals), so what a run
    report cites is the published fit check."""
    scenario = load_scenario(REPO / "scenarios" / "baseline.yaml")
    checks = {c["target"]: c for c in scenario.calibration_checks}
    table = pd.read_csv(REPO / "calibration" / "fit" / "register-2010-2023" /
                        "fit_targets.csv")
    assert set(checks) == set(table["target"])
    for row in table.itertuples():
        c = checks[row.target]
        for column in ("posterior_runs_mean", "predictive_p5", "predictive_p95",
                       "simulated_mean"):
            assert c[column] == pytest.approx(round(getattr(row, column), 6), abs=1e-9)
        assert c["within_tolerance_posterior"] == row.within_tolerance_posterior
        assert c["within_tolerance"] == row.within_tolerance


def test_miss_notes_name_each_missed_target_with_its_check():
    level = Comparison("retention_7y", "", 0.711, 0.667, 0.03, "level")
    ratio = Comparison("retention_5y_by_household_type_2005", "single_man", 0.95, 0.8514,
                       0.054, "ratio to all")
    inside = Comparison("retention_5y_cohort_2010", "", 0.80, 0.80, 0.03, "level")
    unknown = Comparison("moved_in_settlement_year", "", 0.05, 0.015, 0.01, "level")
    checks = [
        {"target": "retention_7y", "posterior_runs_mean": 0.688,
         "within_tolerance_posterior": True, "predictive_p5": 0.646, "predictive_p95": 0.715},
        {"target": calibration_name(ratio), "posterior_runs_mean": 0.93,
         "within_tolerance_posterior": False, "predictive_p5": 0.86,
         "predictive_p95": 0.92},
        {"target": "retention_5y_cohort_2010", "posterior_runs_mean": 0.78},
    ]
    assert calibration_name(ratio) == "retention_5y_by_household_type_2005.single_man " \
                                      "(ratio to all)"
    notes = miss_notes([level, ratio, inside, unknown], checks)
    assert [n.comparison for n in notes] == [level, ratio, unknown]
    assert notes[0].posterior_runs_mean == 0.688 and notes[0].within_posterior is True
    assert notes[0].predictive == (0.646, 0.715)
    text = describe_miss(notes[0], lambda v: f"{v:.3f}")
    assert text == ("0.711 against 0.667 ± 0.030 at the calibrated point; averaged over the "
                    "calibration's runs at posterior draws 0.688 (within tolerance); the "
                    "register value is inside the 90 % posterior predictive interval 0.646 "
                    "to 0.715.")
    assert "also outside tolerance" in describe_miss(notes[1], str)
    assert "register value is outside" in describe_miss(notes[1], str)
    # a target the fitted file does not check: the miss alone
    assert notes[2].posterior_runs_mean is None and notes[2].predictive is None
    assert describe_miss(notes[2], lambda v: f"{v:g}") == (
        "0.05 against 0.015 ± 0.01 at the calibrated point.")


@pytest.mark.slow
def test_run_report_lists_exactly_the_missed_targets():
    """On a real run (the baseline at a tenth of the scale, which misses several targets),
    the report's note lists every target outside tolerance and no other, each with the
    fitted file's numbers as the report formats them."""
    scenario = load_scenario(REPO / "scenarios" / "baseline.yaml")
    inputs = simulation.default_inputs(2010, 2023).scaled(0.1)
    frame = indicator_frame(run_many([(scenario.params, inputs)], 5, 2, jobs=1)[0])
    missed = [c for c in compare(_nested_means(frame)) if c.within is False]
    assert missed, "a tenth of the scale should miss some count targets"
    html = _miss_notes(frame, scenario.calibration_checks)
    assert html.count("<li>") == len(missed)
    checks = {c["target"]: c for c in scenario.calibration_checks}
    cited = 0
    for c in missed:
        key = f"{c.id}.{c.key}" if c.key else c.id
        kind = "ratio" if c.compared_as != "level" else describe(key).kind
        assert esc(describe(key).title) in html
        check = checks.get(calibration_name(c))
        if check is not None and not math.isnan(check["posterior_runs_mean"]):
            shown = report_value(check["posterior_runs_mean"], kind)
            assert f"posterior draws {shown} (" in html, (key, shown)
            cited += 1
    assert cited > 0
    assert _miss_notes(frame, []) == ""


def test_only_a_run_of_the_calibrated_point_cites_the_fit(tmp_path):
    """The notes speak of "the calibrated point": a scenario that overrides a parameter or
    runs another period is not at it (its misses are its own), so no note is given there."""
    base = REPO / "scenarios" / "baseline.yaml"
    assert load_scenario(base).at_calibrated_point
    cases = {"override": "parameters:\n  employment_exit_rate: 0.3\n",
             "fixed_parameter": "parameters:\n  need_end_rate: 0.4\n",
             "period": "period:\n  start: 2012\n  end: 2023\n"}
    for name, body in cases.items():
        path = tmp_path / f"{name}.yaml"
        path.write_text(f"extends: {base}\nname: {name}\n{body}", encoding="utf-8")
        scenario = load_scenario(path)
        assert scenario.calibration_checks, name  # the fitted file is still read
        assert not scenario.at_calibrated_point, name
    assert not load_scenario(REPO / "scenarios" / "no-rule.yaml").at_calibrated_point

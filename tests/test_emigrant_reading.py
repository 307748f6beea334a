"""The other reading of Fafo's seven-year figures (calibration/targets_emigrants_leave.yaml):
R(7) and the municipalities by out-migration share with the persons who emigrated counted as
having left. Recomputed here by another route: the denominator is every person settled in
the cohorts who had not died by the observation date (from the households table), the
numerator the persons still in their settlement municipality (the retention panel)."""

from __future__ import annotations

import numpy as np
import pytest

import simulation
from simulation.analysis.registry import OUT_SHARE_CUTS
from simulation.calibration.fastpath import simulate_moments
from simulation.engine.households import EXIT_DEATH
from simulation.inputs.defaults import default_inputs
from simulation.runs.ensemble import flatten

INPUTS = default_inputs().scaled(0.2)


@pytest.fixture(scope="module")
def run() -> simulation.Results:
    return simulation.run(seed=11, inputs=INPUTS)


def not_dead_by(hh, year: int):
    """Households that had not died before 1 January ``year`` (emigrants included)."""
    return hh[~((hh["exit_reason"] == EXIT_DEATH) & (hh["exit_year"] < year))]


def test_seven_year_retention_counting_emigrants(run):
    hh, panel = run.households, run.retention_panel
    home = everyone = 0
    for cohort in range(2010, 2017):
        year = cohort + 7
        home += int(panel[(panel["cohort"] == cohort) & (panel["year"] == year)][
            "persons_in_settlement"].sum())
        settled = not_dead_by(hh[hh["cohort"] == cohort], year)
        everyone += int(settled["persons"].astype(np.int64).sum())
    ind = simulation.indicators(run)
    assert ind["retention_7y_counting_emigrants"] == pytest.approx(home / everyone, rel=1e-12)
    # emigrants are in the denominator, so this reading is never above SSB's
    assert ind["retention_7y_counting_emigrants"] < ind["retention_7y"]


def test_out_shares_counting_emigrants(run):
    hh, panel = run.households, run.retention_panel
    rows = panel[(panel["year"] == 2024) & panel["cohort"].between(2010, 2016)]
    home = rows.groupby("settlement_municipality")["persons_in_settlement"].sum()
    settled = not_dead_by(hh[hh["cohort"].between(2010, 2016)], 2024)
    everyone = settled.groupby("settlement_municipality")["persons"].sum()
    everyone = everyone[everyone > 0]
    share = 1.0 - home.reindex(everyone.index, fill_value=0) / everyone
    want = {key: int((share >= cut - 1e-12).sum()) for key, cut in OUT_SHARE_CUTS.items()}
    got = simulation.indicators(run)["municipalities_by_out_share_counting_emigrants"]
    assert got == want
    conditional = simulation.indicators(run)["municipalities_by_out_share"]
    assert all(got[k] >= conditional[k] for k in OUT_SHARE_CUTS)


def test_fast_path_agrees(run):
    names = ["retention_7y_counting_emigrants",
             *(f"municipalities_by_out_share_counting_emigrants.{k}" for k in OUT_SHARE_CUTS)]
    flat = flatten(simulation.indicators(run))
    fast = simulate_moments(simulation.Params(), 11, INPUTS, names)
    assert fast.tolist() == [flat[n] for n in names]


def test_sensitivity_scenarios_use_the_other_fit():
    """calibration/sensitivity/*.yaml (docs/make_policy.py's "readings" family) are the
    shipped scenarios with the parameters of calibration/fitted-emigrants-leave.yaml."""
    from pathlib import Path

    from simulation.inputs.scenario import load_scenario
    from simulation.inputs.yamlsource import safe_load

    root = Path(__file__).resolve().parents[1]
    point = safe_load((root / "calibration" / "fitted-emigrants-leave.yaml").read_text(
        encoding="utf-8"))["parameters"]
    pairs = {"baseline-emigrants-leave": "baseline", "no-rule-emigrants-leave": "no-rule",
             "no-settlement-under-5000-emigrants-leave": "no-settlement-under-5000"}
    for name, shipped in pairs.items():
        sc = load_scenario(root / "calibration" / "sensitivity" / f"{name}.yaml")
        ref = load_scenario(root / "scenarios" / f"{shipped}.yaml")
        assert sc.schema.name == name
        for key, value in point.items():
            if key not in ("rights_years", "job_move_exemption", "programme_years"):
                assert getattr(sc.params, key) == pytest.approx(value), key
        assert sc.params.rights_years == ref.params.rights_years
        assert (sc.schema.settlement.allocation.exclude_below_population
                == ref.schema.settlement.allocation.exclude_below_population)


@pytest.mark.slow
def test_committed_fit_meets_the_other_reading():
    """docs/calibration.md: at the committed posterior mean, over 8 replicates, the second
    reading's seven-year retention and out-share counts are within their targets' tolerance
    (0.667 +- 0.03; 60 +- 15, 25 +- 8, 9 +- 4), and SSB's reading of seven-year retention
    is not (0.667 +- 0.03): the misses are the reading's. The replicate means' standard
    errors (about 0.001 and 1.2 municipalities) are far inside these margins."""
    names = ["retention_7y", "retention_7y_counting_emigrants",
             *(f"municipalities_by_out_share_counting_emigrants.{k}" for k in OUT_SHARE_CUTS)]
    runs = np.array([simulate_moments(simulation.calibrated(), seed, default_inputs(), names)
                     for seed in range(8)])
    r7, r7e, at80, at90, all100 = runs.mean(axis=0)
    assert abs(r7e - 0.667) <= 0.03 and abs(at80 - 60) <= 15 and abs(at90 - 25) <= 8
    assert abs(all100 - 9) <= 4
    assert abs(r7 - 0.667) > 0.03
    assert round(r7e, 3) == 0.670 and (round(at80, 1), round(at90, 1), round(all100, 1)) == (
        56.1, 20.5, 7.1)


def test_calibration_doc_quotes_the_other_fit():
    """The numbers docs/calibration.md quotes from the other reading's fit report."""
    from pathlib import Path

    import pandas as pd

    root = Path(__file__).resolve().parents[1]
    fit = pd.read_csv(root / "calibration" / "fit" / "register-2010-2023-emigrants-leave"
                      / "fit_targets.csv").set_index("target")
    fitted = fit[fit["role"] == "fitted"]
    doc = (root / "docs" / "calibration.md").read_text(encoding="utf-8")
    doc = " ".join(doc.split())
    r7e = fitted.loc["retention_7y_counting_emigrants"]
    assert f"{int(fitted['within_tolerance'].sum())} of {len(fitted)} targets within" in doc
    assert f"retention {r7e['simulated_mean']:.3f} (second reading)" in doc
    assert f"({r7e['predictive_p5']:.3f}-{r7e['predictive_p95']:.3f}, from fresh runs" in doc
    counts = [fitted.loc[f"municipalities_by_out_share_counting_emigrants.{k}",
                         "simulated_mean"] for k in ("at_least_80pct", "at_least_90pct")]
    assert f"the counts {counts[0]:.1f} and {counts[1]:.1f}" in doc
    # the committed fit's targets averaged over the runs at posterior draws
    committed = pd.read_csv(root / "calibration" / "fit" / "register-2010-2023"
                            / "fit_targets.csv").set_index("target")
    c = committed[committed["role"] == "fitted"]
    three = [c.loc[k, "posterior_runs_mean"] for k in (
        "retention_7y", "municipalities_by_out_share.at_least_80pct",
        "municipalities_by_out_share.at_least_90pct")]
    assert f"figures are {three[0]:.3f}, {three[1]:.1f} and {three[2]:.1f}" in doc
    assert c["within_tolerance_posterior"].all() and fitted["within_tolerance_posterior"].all()
    assert "all 33 are within tolerance" in doc

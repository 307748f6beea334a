"""Who gains and who pays: the outcomes by subgroup (analysis/outcomes.py) recomputed from a
run's raw tables with numpy in int64/float64, and the comparison's section for an allocation
change (who_gains.csv) recomputed from the per-replicate summaries of the same seeds."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
import pytest

import simulation
from simulation.analysis.outcomes import DIMENSIONS, MEASURES, outcomes_by_subgroup
from simulation.inputs.defaults import AllocationPolicy, MatchingPolicy
from simulation.runs.compare import CONCENTRATION, WHO_GAINS_COLUMNS, allocation_changes

BASELINE = Path(__file__).resolve().parents[1] / "scenarios" / "baseline.yaml"


def recompute(res: simulation.Results) -> pd.DataFrame:
    """Every row of the outcome table by hand: numpy masks and int64/float64 sums over
    res.retention_panel and res.households, the centrality of the settlement municipality
    looked up by code."""
    codes = res.municipalities["code"].to_numpy()
    facts = {c: i for i, c in enumerate(codes)}
    cent = res.municipalities["centrality"].to_numpy(np.int64)
    school = res.municipalities["upper_secondary"].to_numpy(bool)
    higher = res.municipalities["higher_education"].to_numpy(bool)
    hospital = res.municipalities["hospital"].to_numpy(bool)

    def centrality_of(col: pd.Series) -> np.ndarray:
        return cent[np.array([facts[c] for c in col])].astype(str)

    panel = res.retention_panel
    cohort, year = panel["cohort"].to_numpy(np.int64), panel["year"].to_numpy(np.int64)
    five = (year == cohort + 5) & (cohort >= res.start) & (cohort + 5 <= res.end + 1)
    alive = panel["persons_alive"].to_numpy(np.int64)
    home = panel["persons_in_settlement"].to_numpy(np.int64)
    hh = res.households
    persons = hh["persons"].to_numpy(np.int64)
    live = hh["alive"].to_numpy(bool)
    settled = live & (hh["cohort"].to_numpy(np.int64) <= res.end - 4)
    employed = hh["employed"].to_numpy(bool)
    income = hh["income"].to_numpy(np.float64)
    where = np.array([facts[c] for c in hh["municipality"]])
    ns, nh, nd = (hh[c].to_numpy(bool) for c in ("need_school", "need_higher", "need_health"))
    needy = live & (ns | nh | nd)
    met = ~((ns & ~school[where]) | (nh & ~higher[where]) | (nd & ~hospital[where]))
    keys = {
        "country_group": (panel["country_group"].astype(str).to_numpy(),
                          hh["country_group"].astype(str).to_numpy()),
        "household_type": (panel["household_type"].astype(str).to_numpy(),
                           hh["household_type"].astype(str).to_numpy()),
        "settlement_centrality": (centrality_of(panel["settlement_municipality"]),
                                  centrality_of(hh["settlement_municipality"])),
    }
    rows = []
    for dim, groups in DIMENSIONS.items():
        pkey, hkey = keys[dim]
        for g in groups:
            p = five & (pkey == g)
            a = int(alive[p].sum())
            rows.append((dim, g, "retention_5y",
                         home[p].sum() / a if a else np.nan, a))
            s = settled & (hkey == g)
            w = int(persons[s].sum())
            rows.append((dim, g, "employed_share",
                         (persons[s] * employed[s]).sum() / w if w else np.nan, w))
            rows.append((dim, g, "income", income[s].mean() if s.any() else np.nan, w))
            n = needy & (hkey == g)
            rows.append((dim, g, "needs_met", met[n].mean() if n.any() else np.nan,
                         int(persons[n].sum())))
    return pd.DataFrame(rows, columns=["dimension", "subgroup", "measure", "value", "persons"])


def test_outcome_table_matches_raw_tables(baseline):
    """Every published subgroup number, recomputed from the raw tables."""
    table = outcomes_by_subgroup(baseline)
    assert list(table.columns) == ["dimension", "subgroup", "measure", "value", "persons"]
    assert table["value"].dtype == np.float64 and table["persons"].dtype == np.int64
    expected = recompute(baseline)
    assert len(table) == len(expected) == sum(map(len, DIMENSIONS.values())) * len(MEASURES)
    got = table.set_index(["dimension", "subgroup", "measure"])
    want = expected.set_index(["dimension", "subgroup", "measure"]).loc[got.index]
    np.testing.assert_array_equal(got["persons"].to_numpy(), want["persons"].to_numpy())
    np.testing.assert_allclose(got["value"].to_numpy(), want["value"].to_numpy(np.float64),
                               rtol=1e-12, atol=1e-12, equal_nan=True)
    # one subgroup spelled out: single men's five-year retention
    panel = baseline.retention_panel
    rows = panel[(panel["year"] == panel["cohort"] + 5)
                 & (panel["household_type"] == "single_man")]
    share = rows["persons_in_settlement"].sum() / rows["persons_alive"].sum()
    assert got.loc[("household_type", "single_man", "retention_5y"), "value"] == pytest.approx(
        share, rel=1e-12)
    assert 0.5 < share < 1
    # the baseline settles no Ukrainians before 2022: no one observed five years after
    ukr = got.loc[("country_group", "ukraine", "retention_5y")]
    assert ukr["persons"] == 0 and np.isnan(ukr["value"])


def test_subgroups_add_up_to_the_national_figures(baseline):
    """The persons of every dimension's subgroups add up to the whole population each measure
    describes (from other tables where one has it), and the subgroups' persons-weighted
    retention and work are the national indicators."""
    table = outcomes_by_subgroup(baseline)
    ind = simulation.indicators(baseline)
    cohorts = baseline.cohorts
    at5 = cohorts[(cohorts["year"] == cohorts["cohort"] + 5)]
    hh = baseline.households
    settled = hh[hh["alive"] & (hh["cohort"] <= baseline.end - 4)]
    needy = hh[hh["alive"] & (hh["need_school"] | hh["need_higher"] | hh["need_health"])]
    totals = {"retention_5y": int(at5["persons_alive"].sum()),
              "employed_share": int(settled["persons"].sum()),
              "income": int(settled["persons"].sum()),
              "needs_met": int(needy["persons"].sum())}
    movers = settled["moves"] > 0
    w_movers = settled.loc[movers, "persons"].sum() / settled["persons"].sum()
    national = {"retention_5y": ind["retention_5y"],
                "employed_share": w_movers * ind["employment_rate_movers"]
                + (1 - w_movers) * ind["employment_rate_stayers"],
                "needs_met": None, "income": None}
    for (dim, measure), part in table.groupby(["dimension", "measure"]):
        assert part["persons"].sum() == totals[measure], (dim, measure)
        assert len(part) == len(DIMENSIONS[dim])
        if national[measure] is not None:
            seen = part[part["persons"] > 0]
            pooled = (seen["value"] * seen["persons"]).sum() / seen["persons"].sum()
            assert pooled == pytest.approx(national[measure], rel=1e-12), (dim, measure)


def test_allocation_changes_name_the_fields_that_differ():
    base = AllocationPolicy()
    assert allocation_changes(base, AllocationPolicy()) == []
    assert allocation_changes(base, AllocationPolicy(exclude_below_population=5000)) == [
        "exclude_below_population"]
    assert allocation_changes(base, AllocationPolicy(matching=MatchingPolicy())) == [
        "matching"]
    assert allocation_changes(base, AllocationPolicy(exclude_centrality=(6,),
                                                     continuity_only=True)) == [
        "exclude_centrality", "continuity_only"]


SMALL = f"""extends: {BASELINE}
name: small-base
description: the baseline, short
period: {{start: 2010, end: 2017}}
replicates: 2
"""


def _interval(diff: np.ndarray) -> tuple[float, float, float]:
    d = diff[~np.isnan(diff)]
    if not len(d):
        return (np.nan,) * 3
    return (d.mean(), np.percentile(d, 5, method="weibull"),
            np.percentile(d, 95, method="weibull"))


@pytest.mark.slow
def test_compare_writes_who_gains_for_an_allocation_change(tmp_path):
    from simulation.cli.main import main
    from simulation.inputs.scenario import load_scenario
    from simulation.runs.ensemble import indicator_frame, run_many

    base = tmp_path / "base.yaml"
    base.write_text(SMALL, encoding="utf-8")
    excl = tmp_path / "excl.yaml"
    excl.write_text("extends: base.yaml\nname: excl\ndescription: none under 5,000\n"
                    "settlement: {allocation: {exclude_below_population: 5000}}\n",
                    encoding="utf-8")
    out = tmp_path / "cmp"
    assert main(["compare", str(base), str(excl), "--out", str(out), "--quiet"]) == 0
    wg = pd.read_csv(out / "who_gains.csv", keep_default_na=False, na_values=[""])
    assert list(wg.columns) == WHO_GAINS_COLUMNS
    assert set(wg["scenario"]) == {"excl"}

    # the same runs again (same seeds): the summaries the comparison paired
    scenarios = [load_scenario(base), load_scenario(excl)]
    seed = scenarios[0].schema.seed
    ref, oth = run_many([(s.params, s.inputs) for s in scenarios], seed, 2, jobs=1,
                        outcomes=True)
    rows = wg.set_index(["dimension", "subgroup", "measure"])

    def check(key: tuple[str, str, str], a: np.ndarray, b: np.ndarray) -> None:
        row = rows.loc[key]
        mean, p5, p95 = _interval(b - a)
        got = row[["difference_mean", "difference_p5", "difference_p95"]].to_numpy(float)
        np.testing.assert_allclose(got, [mean, p5, p95], rtol=1e-9, atol=1e-12,
                                   equal_nan=True, err_msg=str(key))
        np.testing.assert_allclose(row[["reference", "other"]].to_numpy(float),
                                   [np.nanmean(a) if (~np.isnan(a)).any() else np.nan,
                                    np.nanmean(b) if (~np.isnan(b)).any() else np.nan],
                                   rtol=1e-9, equal_nan=True, err_msg=str(key))

    # every subgroup outcome: the paired difference of the per-replicate tables
    for dim, groups in DIMENSIONS.items():
        for g in groups:
            for m in MEASURES:
                def per_run(runs: list, col: str, dim: str = dim, g: str = g,
                            m: str = m) -> np.ndarray:
                    return np.array([s.outcomes.set_index(["dimension", "subgroup", "measure"])
                                     .loc[(dim, g, m), col] for s in runs], dtype=np.float64)
                check((dim, g, m), per_run(ref, "value"), per_run(oth, "value"))
                assert rows.loc[(dim, g, m), "persons"] == pytest.approx(
                    per_run(ref, "persons").mean())
                assert rows.loc[(dim, g, m), "persons_other"] == pytest.approx(
                    per_run(oth, "persons").mean())
    # concentration: the indicators' paired differences
    fa, fb = indicator_frame(ref), indicator_frame(oth)
    for (subgroup, measure), ind in CONCENTRATION.items():
        check(("concentration", subgroup, measure), fa[ind].to_numpy(float),
              fb[ind].to_numpy(float))
    assert {("concentration", "all", "hoover_index"),
            ("concentration", "all", "share_in_10_largest"),
            ("concentration", "any_group", "municipalities_over_2%")} <= set(rows.index)
    # municipalities by the mean change in households settled, and their net migration
    ma = [s.municipalities.set_index("municipality") for s in ref]
    mb = [s.municipalities.set_index("municipality") for s in oth]
    change = (np.mean([m["households_settled"].to_numpy(np.int64) for m in mb], axis=0)
              - np.mean([m["households_settled"].to_numpy(np.int64) for m in ma], axis=0))
    classes = {"fewer": change <= -0.5, "same": np.abs(change) < 0.5, "more": change >= 0.5}
    assert classes["fewer"].sum() > 50 and classes["more"].sum() > 50
    for cls, mask in classes.items():
        for measure in ("households_settled", "persons_settled", "net_secondary_migration"):
            a = np.array([m[measure].to_numpy(np.int64)[mask].sum() for m in ma], np.float64)
            b = np.array([m[measure].to_numpy(np.int64)[mask].sum() for m in mb], np.float64)
            check(("settling_municipalities", cls, measure), a, b)
        pop = ma[0]["population"].to_numpy(np.float64)[mask].sum()
        a = np.array([1000 * m["net_secondary_migration"].to_numpy(np.int64)[mask].sum() / pop
                      for m in ma])
        b = np.array([1000 * m["net_secondary_migration"].to_numpy(np.int64)[mask].sum() / pop
                      for m in mb])
        check(("settling_municipalities", cls, "net_secondary_migration_per_1000"), a, b)
    # the municipalities that stop settling gain (lose fewer by secondary migration)
    assert rows.loc[("settling_municipalities", "fewer", "net_secondary_migration"),
                    "difference_p5"] > 0
    # the pairs behind every row
    pairs = pd.read_csv(out / "who_gains_by_replicate.csv", keep_default_na=False,
                        na_values=[""])
    assert len(pairs) == 2 * len(wg) and set(pairs["replicate"]) == {0, 1}
    np.testing.assert_allclose(pairs["difference"], pairs["other"] - pairs["reference"],
                               rtol=1e-12, equal_nan=True)
    # the report: the section, its sentences and its figure
    html = (out / "report.html").read_text(encoding="utf-8")
    assert "<h2>Who gains and who pays</h2>" in html
    assert "exclude below population: 0 → 5000" in html
    assert "excl raises five-year retention most for" in html
    assert (out / "figures" / "who_gains_retention.png").stat().st_size > 10_000


@pytest.mark.slow
def test_compare_without_an_allocation_change_has_no_section(tmp_path):
    from simulation.cli.main import main

    base = tmp_path / "base.yaml"
    base.write_text(SMALL, encoding="utf-8")
    rule = tmp_path / "rule.yaml"
    rule.write_text("extends: base.yaml\nname: rule\ndescription: three years\n"
                    "policy: {rights_years: 3}\n", encoding="utf-8")
    out = tmp_path / "cmp"
    assert main(["compare", str(base), str(rule), "--out", str(out), "--quiet"]) == 0
    assert (out / "differences.csv").exists()
    assert not (out / "who_gains.csv").exists()
    assert not (out / "who_gains_by_replicate.csv").exists()
    assert "Who gains and who pays" not in (out / "report.html").read_text(encoding="utf-8")

"""Published figures in the docs, recomputed from the tables they come from.

The lesson's tables (docs/teaching.md) are the numbers of docs/teaching/results.json, which
docs/make_teaching.py writes from seeded runs: every cell is recomputed here from that file, so
a rerun that changes a result fails until the text is brought in line."""

from __future__ import annotations

import json
import re
from pathlib import Path

import numpy as np
import pytest

ROOT = Path(__file__).resolve().parent.parent
DOCS = ROOT / "docs"
RIGHTS = {"rights 5 years (today)": "rights 5 years (today)",
          "rights 0 years": "rights 0 years (no tie)",
          "rights 10 years": "rights 10 years",
          "rights 5 years + job exemption": "rights 5 years + job exemption"}


def _rows() -> dict[str, list[str]]:
    rows = {}
    for line in (DOCS / "teaching.md").read_text(encoding="utf-8").splitlines():
        if line.startswith("| ") and not line.startswith("|---"):
            cells = [c.strip() for c in line.strip("|").split("|")]
            rows[cells[0]] = cells[1:]
    return rows


def _percent_range(values: list[float]) -> str:
    lo, hi = round(100 * min(values)), round(100 * max(values))
    return f"{lo} %" if lo == hi else f"{lo}-{hi} %"


def test_toy_country_table_matches_results():
    results = json.loads((DOCS / "teaching" / "results.json").read_text())
    rows = _rows()
    strengths = ("0", "0.5", "1", "2")
    for label, key in (("each group's town-dwellers in its main town", "group_in_main_town"),
                       ("Hoover index", "hoover")):
        want = [" / ".join(f"{v:.2f}" for v in results[f"toy_{s}"][key]) for s in strengths]
        assert rows[label] == want, (label, rows[label], want)
    want = [_percent_range(results[f"toy_{s}"]["towns_share"]) for s in strengths]
    assert rows["share in the 3 towns"] == want


def test_rights_table_matches_results():
    results = json.loads((DOCS / "teaching" / "results.json").read_text())
    rows = _rows()
    for label, key in RIGHTS.items():
        r = results[key]
        want = [f"{100 * np.mean(r['R5']):.1f} %", f"{100 * np.mean(r['R7']):.1f} %",
                f"{round(np.mean(r['moves_total']), -2):,.0f}"]
        assert rows[label] == want, (label, rows[label], want)


def test_lesson_quotes_the_calibrated_network_strength():
    """The lesson's step 3 names where the app's network slider starts: the calibrated
    posterior mean of dest_network_effect, as simulation/app/page.py rounds it."""
    import simulation

    value = round(simulation.calibrated().dest_network_effect, 2)
    text = " ".join((DOCS / "teaching.md").read_text(encoding="utf-8").split())
    assert f"the calibration's posterior mean is {value:.2f}, where the app's slider" in text


# --- docs/sweeps.md: the example sweep as run ---------------------------------------------

SWEEPS = DOCS / "sweeps"
_SWEEP_BEGIN, _SWEEP_END = "## The example, as run", "## On a Dask cluster"


def _sweep_section() -> str:
    text = (DOCS / "sweeps.md").read_text(encoding="utf-8")
    return text[text.index(_SWEEP_BEGIN):text.index(_SWEEP_END)]


def _findings() -> list[str]:
    """The bullets after 'What it found', each on one line."""
    found = _sweep_section().split("What it found", 1)[1]
    return [" ".join(b.split()) for b in re.split(r"\n(?=- \*\*)", found)[1:]]


def _decimals(text: str) -> int:
    return len(text.split(".")[1]) if "." in text else 0


def test_sweep_findings_quote_the_indices():
    """Every '`parameter` mu* X' (and 'with sigma X') in a finding is the committed
    indices.csv value of the indicator last named before it in backticks, rounded as
    written."""
    import pandas as pd

    idx = pd.read_csv(SWEEPS / "indices.csv").set_index(["indicator", "parameter"])
    indicators = set(idx.index.get_level_values(0))
    checked = 0
    for bullet in _findings():
        named = [(m.start(), m[1]) for m in re.finditer(r"`([\w.]+)`", bullet)
                 if m[1] in indicators]
        for m in re.finditer(r"`([\w.]+)`,? mu\* (\d+(?:\.\d+)?)(?:, with sigma "
                             r"(\d+(?:\.\d+)?))?", bullet):
            indicator = [name for at, name in named if at < m.start()][-1]
            row = idx.loc[(indicator, m[1])]
            for quoted, value in ((m[2], row["mu_star"]), (m[3], row["sigma"])):
                if quoted is not None:
                    want = f"{value:.{_decimals(quoted)}f}"
                    assert quoted == want, (indicator, m[1], quoted, want)
                    checked += 1
    assert checked >= 20, checked


def test_sweep_findings_quote_the_prim_boxes():
    """Each PRIM box is quoted word for word from discovery.csv (counts, coverage, density
    and edges), and the ranking claims hold: the three move parameters lead retention, the
    two destination parameters lead concentration, the settlement lever leads Hoover."""
    import pandas as pd

    section = " ".join(_sweep_section().split())
    for summary in pd.read_csv(SWEEPS / "discovery.csv")["summary"]:
        assert f'"{summary}"' in section, summary
    idx = pd.read_csv(SWEEPS / "indices.csv")
    top = {ind: g.sort_values("mu_star", ascending=False)["parameter"].tolist()
           for ind, g in idx.groupby("indicator")}
    move = {"move_network_effect", "move_intercept", "move_belonging_effect"}
    assert set(top["retention_5y"][:3]) == move and set(top["retention_7y"][:3]) == move
    assert top["share_in_10_largest"][:2] == ["dest_network_effect", "dest_size_effect"]
    assert top["hoover_index"][0] == "settlement.exclude_below_population"
    for ind in ("retention_5y", "retention_7y"):  # the rule raises retention
        rule = idx[(idx.indicator == ind) & idx.parameter.isin(["rights_cost", "rights_years"])]
        assert (rule["mu"] > 0).all()


def test_sweep_timing_table_is_the_benchmark():
    results = json.loads((ROOT / "benchmarks" / "results" / "sweep.json").read_text())
    rows = {}
    for line in _sweep_section().splitlines():
        if line.startswith("| ") and not line.startswith("|---"):
            cells = [c.strip() for c in line.strip("|").split("|")]
            rows[cells[0]] = cells[3]  # this version's column
    assert rows[f"measure ({results['runs']} runs)"].startswith("this version")
    for label, key in (("`secmig sweep`, 2 local processes", "cli_2_processes_s"),
                       ("Dask LocalCluster, 1 worker", "dask_1_worker_s"),
                       ("Dask LocalCluster, 2 workers", "dask_2_workers_s")):
        cell = next(v for k, v in rows.items() if k.startswith(label))
        assert cell == f"{results[key] / 60:.1f} min", (label, cell)
    assert rows["speed-up, 2 workers against 1"] == f"{results['dask_speedup']:.2f}x"
    assert results["identical_rows"] and rows[next(k for k in rows if k.startswith(
        "identical rows"))] == "yes"


def test_sweep_base_point_is_a_fresh_run():
    """The base point's figures are rerun here: the base scenario at the sweep's two seeds,
    exactly as a sweep runs a point."""
    from simulation.engine.randomness import replicate_seeds
    from simulation.sweeps.runner import _run_one
    from simulation.sweeps.spec import load_sweep

    sweep = load_sweep(ROOT / "sweeps" / "morris-example.yaml")
    params, _ = sweep.setup({})
    seeds = replicate_seeds(sweep.schema.seed, sweep.schema.replicates)
    rows = [_run_one(params, sweep.base.inputs, {}, seeds[r], 0, 0, r, {},
                     sweep.schema.indicators) for r in range(sweep.schema.replicates)]
    mean = {k: float(np.mean([r[k] for r in rows])) for k in sweep.schema.indicators}
    section = " ".join(_sweep_section().split())
    want = (f"has five-year retention {mean['retention_5y']:.2f}, seven-year retention "
            f"{mean['retention_7y']:.2f}, {100 * mean['share_in_10_largest']:.1f} % in the 10 "
            f"largest municipalities, a Hoover index of {mean['hoover_index']:.3f} and "
            f"{mean['municipalities_by_out_share.at_least_80pct']:.0f} municipalities losing "
            f"at least 80 %")
    assert want in section, want


# --- docs/policy.md: the headline answer, rerun -------------------------------------------

@pytest.mark.slow
def test_policy_page_no_rule_answer_is_a_fresh_comparison(tmp_path):
    """docs/policy.md's headline, removing the five-year rule, is rerun here: baseline and
    no-rule with the page's replicates and posterior draws. Runs are paired by replicate and
    draw whatever else is compared, so every cell of section 1's no-rule column and the
    sentence under it must come out as printed; a change to the model that moves them fails
    until the page is regenerated (python docs/make_policy.py)."""
    import sys

    import pandas as pd

    from simulation.analysis.registry import POLICY_IDS, describe
    from simulation.cli import main

    sys.path.insert(0, str(DOCS))
    try:
        import make_policy
    finally:
        sys.path.remove(str(DOCS))
    text = (DOCS / "policy.md").read_text(encoding="utf-8")
    m = re.search(r"replicates (\d+) x posterior draws\s+(\d+) =", text)
    assert m, "docs/policy.md no longer states its replicates and draws"
    out = tmp_path / "compare"
    assert main(["compare", str(ROOT / "scenarios" / "baseline.yaml"),
                 str(ROOT / "scenarios" / "no-rule.yaml"), "--replicates", m[1],
                 "--posterior", m[2], "--jobs", "2", "--out", str(out), "--quiet"]) == 0
    diffs = pd.read_csv(out / "differences.csv")
    section = text[text.index("## 1. "):text.index("## 2. ")]
    lines = [ln for ln in section.splitlines() if ln.startswith("| ")]
    header = [c.strip() for c in lines[0].strip("|").split("|")]
    col = header.index("no-rule − baseline [5–95 %]")
    rows = {c[0]: c for c in ([x.strip() for x in ln.strip("|").split("|")]
                              for ln in lines[1:])}
    checked = 0
    for key in POLICY_IDS:
        label, kind = describe(key).label, describe(key).kind
        hit = diffs[(diffs["scenario"] == "no-rule") & (diffs["indicator"] == key)]
        if label not in rows or hit.empty:
            continue
        assert rows[label][col] == make_policy.difference_cell(hit.iloc[0], kind), label
        checked += 1
    assert checked >= 15, checked
    flat = " ".join(section.split())
    for key, kind in (("retention_5y", "share"), ("moves_per_year", "count")):
        assert make_policy.say(diffs, "no-rule", key, kind) in flat, key


# --- README: the engine benchmark ---------------------------------------------------------

def test_readme_quotes_the_engine_benchmark():
    """The README's sentence on the last whole run of benchmarks/bench_engine.py is that run's
    figures (benchmarks/results/engine.json), rounded as written."""
    b = json.loads((ROOT / "benchmarks" / "results" / "engine.json").read_text())
    full, fast = b["full"], b["fastpath"]
    ratio = full["ns_per_household_year"] / full["floor_ns_per_household_year"]
    reference = (b["reference_small"]["ns_per_household_year"]
                 / b["engine_small"]["ns_per_household_year"])
    x10 = b["x10"]
    want = (f"{full['ns_per_household_year']:.0f} ns per household-year, {ratio:.1f}x the floor "
            f"({full['floor_ns_per_household_year']:.0f} ns), {full['peak_rss_mb']:.0f} MB peak "
            f"RSS, the fast path {fast['seconds']:.2f} s a run")
    readme = " ".join((ROOT / "README.md").read_text(encoding="utf-8").split())
    assert want in readme, want
    assert f"the reference model {reference:.0f}x slower per household-year" in readme
    assert (f"the population x10 {x10['seconds'] / full['seconds']:.1f}x the time "
            f"({x10['seconds']:.1f} s, {x10['peak_rss_mb']:.0f} MB)") in readme


_NO_RULE = "## The no-rule effect over the posterior, as run"


def _posterior_section() -> str:
    text = (DOCS / "sweeps.md").read_text(encoding="utf-8")
    part = text[text.index("## The posterior example, as run"):text.index(_NO_RULE)]
    return " ".join(part.split())


def _last_indicator(text: str, at: int, indicators: set[str]) -> str:
    return [m[1] for m in re.finditer(r"`([\w.]+)`", text[:at]) if m[1] in indicators][-1]


def test_posterior_example_figures_are_its_runs():
    """The posterior example's spread, noise, delta and noise floors, and PRIM sentences,
    as docs/sweeps.md quotes them, recomputed from docs/sweeps/posterior/ (its runs and
    tables)."""
    import pandas as pd

    runs = pd.read_csv(SWEEPS / "posterior" / "runs.csv")
    idx = pd.read_csv(SWEEPS / "posterior" / "indices.csv").set_index(["indicator", "parameter"])
    indicators = set(idx.index.get_level_values(0))
    means = runs.groupby("point")[sorted(indicators)].mean()
    text = _posterior_section()
    checked = 0
    for m in re.finditer(r"`([\w.]+)` (\d[\d.]*)-(\d[\d.]*) \(median (\d[\d.]*)\)", text):
        q = np.quantile(means[m[1]], [0.05, 0.95, 0.5])
        for quoted, value in zip(m.groups()[1:], q, strict=True):
            assert quoted == f"{value:.{_decimals(quoted)}f}", (m[1], quoted, value)
            checked += 1
    for m in re.finditer(r"`([\w.]+)`,? \(?noise floor (\d\.\d+)\)?", text):
        indicator = m[1] if m[1] in indicators else _last_indicator(text, m.start(), indicators)
        floor = idx.loc[indicator]["delta_noise_p95"].iloc[0]
        assert m[2] == f"{floor:.3f}", (indicator, m[2], floor)
        checked += 1
    for m in re.finditer(r"`([\w.]+)` delta (\d\.\d+)", text):
        indicator = _last_indicator(text, m.start(), indicators)
        assert m[2] == f"{idx.loc[(indicator, m[1]), 'delta']:.3f}", (indicator, m[1], m[2])
        checked += 1
    assert checked >= 25, checked
    # only the two quoted pairs lie above their floor
    above = idx[idx["delta"] > idx["delta_noise_p95"]].index.tolist()
    assert above == [("retention_5y", "move_intercept"), ("hoover_index", "dest_size_effect")]
    wide = np.quantile(means["retention_5y"], 0.95) - np.quantile(means["retention_5y"], 0.05)
    assert f"over the posterior the whole spread is {100 * wide:.0f} points" in text
    noise = np.sqrt(runs.groupby("point")["retention_5y"].var(ddof=1).mean())
    assert (f"the replicate sd is {noise:.4f} against {means['retention_5y'].std():.4f} "
            "between draws") in text
    table = pd.read_csv(SWEEPS / "posterior" / "spread.csv").set_index("indicator")
    assert np.isclose(table.loc["retention_5y", "sd_replicates"], noise, rtol=1e-12)
    assert np.isclose(table.loc["retention_5y", "p95"],
                      np.quantile(means["retention_5y"], 0.95), rtol=1e-12)
    for summary in pd.read_csv(SWEEPS / "posterior" / "discovery.csv")["summary"]:
        assert f'"{summary}"' in text, summary
    timing = json.loads((ROOT / "benchmarks" / "results" / "sweep_posterior.json").read_text())
    assert timing["runs"] == len(runs) and len(means) == 200
    assert (f"({len(runs)} runs, {timing['cli_2_processes_s'] / 60:.1f} minutes with 2 local "
            "processes") in text


def _no_rule_section() -> str:
    text = (DOCS / "sweeps.md").read_text(encoding="utf-8")
    return " ".join(text[text.index(_NO_RULE):text.index(_SWEEP_END)].split())


def _paired(values) -> str:
    """A paired difference over runs as the policy pages print it: mean [p5, p95]."""
    from simulation.analysis.intervals import bounds
    from simulation.reports.numbers import number

    lo, hi = bounds(np.asarray(values, dtype=float))
    return f"{number(float(np.mean(values)), 'count', signed=True)} " \
           f"[{number(lo, 'count', signed=True)}, {number(hi, 'count', signed=True)}]"


def test_no_rule_sweep_figures_are_its_runs():
    """docs/sweeps.md's section on the no-rule effect over the posterior: every spread,
    noise, delta, S1, PRIM sentence and share it quotes, recomputed from
    docs/sweeps/posterior-no-rule/ (its runs and tables)."""
    import pandas as pd

    folder = SWEEPS / "posterior-no-rule"
    runs = pd.read_csv(folder / "runs.csv")
    idx = pd.read_csv(folder / "indices.csv").set_index(["indicator", "parameter"])
    outcomes = set(idx.index.get_level_values(0))
    means = runs.groupby("point")[sorted(outcomes)].mean()
    draws = runs.drop_duplicates("point")
    text = _no_rule_section()
    checked = 0
    for m in re.finditer(r"`([\w.]+)` (-?\d[\d.]*) to (-?\d[\d.]*) \(median (-?\d[\d.]*)\)",
                         text):
        q = np.quantile(means[m[1]], [0.05, 0.95, 0.5])
        for quoted, value in zip(m.groups()[1:], q, strict=True):
            assert quoted == f"{value:.{_decimals(quoted)}f}", (m[1], quoted, value)
            checked += 1
    assert checked == 9, checked
    for m in re.finditer(r"`([\w.]+)` \(noise floor (\d\.\d+)\)", text):
        assert m[2] == f"{idx.loc[m[1]]['delta_noise_p95'].iloc[0]:.3f}", m[1]
        checked += 1
    for m in re.finditer(r"`([\w.]+)` delta (\d\.\d+)(?:, S1 (\d\.\d+)| \(S1 (\d\.\d+)\))?",
                         text):
        indicator = _last_indicator(text, m.start(), outcomes)
        row = idx.loc[(indicator, m[1])]
        assert m[2] == f"{row['delta']:.3f}", (indicator, m[1], m[2])
        s1 = m[3] or m[4]
        if s1:
            assert s1 == f"{row['S1']:.2f}", (indicator, m[1], s1)
        checked += 1
    assert checked == 22, checked  # 9 spreads, 5 noise floors, 8 deltas
    # the three effects' first parameter is the rule's cost, by a wide margin over the floor
    for ind in ("effect.retention_5y", "effect.moves_per_year", "effect.share_in_10_largest"):
        part = idx.loc[ind]
        assert part["delta"].idxmax() == "rights_cost"
        assert part.loc["rights_cost", "delta"] > 2 * part["delta_noise_p95"].iloc[0]
    noise = np.sqrt(runs.groupby("point")["effect.retention_5y"].var(ddof=1).mean())
    assert (f"the replicate sd of the paired difference is {noise:.4f} against "
            f"{means['effect.retention_5y'].std():.4f} between draws") in text
    ret = _pt(100 * runs["effect.retention_5y"]).replace(" pt ", " points ")
    assert (f"removing the rule changes 5-year retention by {ret} and moves by "
            f"{_paired(runs['effect.moves_per_year'])}") in text
    found = pd.read_csv(folder / "discovery.csv")
    for summary in found["summary"]:
        assert f'"{summary}"' in text, summary
    first = found.iloc[0]
    cost = first["rights_cost.low"]
    assert f"a rule cost of at least {cost:.4f}, " \
           f"{100 * (draws['rights_cost'] >= cost).mean():.0f} % of the draws) " \
           f"{100 * first['density']:.0f} % of the runs" in text
    housing = first["dest_housing_effect.low"]
    assert f"the {int((draws['dest_housing_effect'] < housing).sum())} draws with the lowest" \
        in text
    low = runs[runs["rights_cost"] < 0.02]
    assert (f"at the {low['point'].nunique()} draws with a cost below 0.02 removing the rule "
            f"changes retention by {100 * low['effect.retention_5y'].mean():.2f} points on "
            f"average and moves by {low['effect.moves_per_year'].mean():+.0f} a year") in text
    timing = json.loads((ROOT / "benchmarks" / "results" / "sweep_posterior_no_rule.json")
                        .read_text())
    assert timing["runs"] == len(runs) == 400 and len(means) == 200
    assert f"({len(runs)} runs of two simulations each, {timing['cli_2_processes_s'] / 60:.1f} " \
           "minutes with 2 local processes" in text


def test_policy_page_quotes_the_no_rule_effect_over_all_draws():
    """docs/policy.md's no-rule answer over all 200 draws, its first-20-draws interval, the
    blocks' range of 5 % ends and the cost's means, recomputed from the sweep's runs."""
    import pandas as pd

    from simulation.analysis.intervals import bounds

    runs = pd.read_csv(SWEEPS / "posterior-no-rule" / "runs.csv")
    text = " ".join((DOCS / "policy.md").read_text(encoding="utf-8").split())
    ret, moves = 100 * runs["effect.retention_5y"], runs["effect.moves_per_year"]
    assert f"retention by {_pt(ret)} over all 200 draws" in text
    assert f"persons moving a year by {_paired(moves)}," in text
    assert f"Over all 200 posterior draws (a sweep): {_pt(ret)} and {_paired(moves)}" in text
    first = ret[runs["point"] < 20]
    assert f"first 20 draws give {_pt(first)} on retention" in text
    ends = [bounds(part.to_numpy(dtype=float))[0] for _, part in ret.groupby(runs["point"] // 20)]
    assert f"anywhere between {min(ends):+.1f} and {max(ends):+.1f} points" in text
    m = re.search(r"the table's 5 % end \((-\d\.\d) points\) lies (\d\.\d) points from all "
                  r"200 draws' \((-\d\.\d)\)", text)
    assert m and m[3] == f"{bounds(ret.to_numpy())[0]:+.1f}", m
    # the table's end as the table prints it: its no-rule cell on 5-year retention
    assert re.search(rf"\| still living in the settlement municipality after 5 years \|[^\n]*?"
                     rf"\[{re.escape(m[1])}, ", (DOCS / "policy.md").read_text(encoding="utf-8"))
    assert abs(abs(float(m[1]) - float(m[3])) - float(m[2])) <= 0.1 + 1e-9  # rounded ends
    draws = runs.drop_duplicates("point")
    first_cost = draws.loc[draws["point"] < 20, "rights_cost"].mean()
    assert (f"(mean {first_cost:.3f} against {draws['rights_cost'].mean():.3f} over all "
            "200)") in text
    # the README and docs/calibration.md quote the same
    readme = " ".join((ROOT / "README.md").read_text(encoding="utf-8").split())
    points = _pt(ret).replace(" pt ", " points ")
    assert (f"removing the rule changes 5-year retention by {points} and moves a year by "
            f"{_paired(moves)}") in readme
    assert (f"the 5 % end of retention ranges from {min(ends):+.1f} to {max(ends):+.1f} "
            f"points") in readme
    assert f"(mean {first_cost:.3f} against {draws['rights_cost'].mean():.3f})" in readme
    # ... and the page's own no-rule cells and its 20-draw predecessor's
    page = (DOCS / "policy.md").read_text(encoding="utf-8")
    cells = {label: re.search(rf"\| {label} \| [^|]+ \| ([^|]+?) \|", page)[1]
             for label in ("still living in the settlement municipality after 5 years",
                           "persons moving between municipalities per year")}
    twenty = pd.read_csv(DOCS / "policy" / "twenty_draws" / "rights-rule.csv")
    old = twenty[twenty["scenario"] == "no-rule"].set_index("indicator")
    r5, mv = old.loc["retention_5y"], old.loc["moves_per_year"]
    assert (f"Removing the rule: 5-year retention "
            f"{cells['still living in the settlement municipality after 5 years']}, moves per "
            f"year {cells['persons moving between municipalities per year']}, close to all "
            f"200 draws' answer; on 20 draws the page said {100 * r5['difference']:+.1f} pt "
            f"[{100 * r5['p5']:+.1f}, {100 * r5['p95']:+.1f}] and {mv['difference']:+.0f} "
            f"[{mv['p5']:+.0f}, {mv['p95']:+.0f}]") in readme
    cal = " ".join((DOCS / "calibration.md").read_text(encoding="utf-8").split())
    assert f"give {points} and {_paired(moves)}" in cal
    from simulation.cli.scenarios import FEW_MANY_ENDS  # quoted by `secmig compare`

    found = ((20, round(bounds(first.to_numpy())[0], 1)),
             (200, round(bounds(ret.to_numpy())[0], 1)))
    assert found == FEW_MANY_ENDS
    spread = pd.read_csv(SWEEPS / "posterior-no-rule" / "spread.csv").set_index("indicator")
    lo, hi = -100 * spread.loc["effect.retention_5y", ["p95", "p5"]]
    assert f"at every draw, by {lo:.2f} to {hi:.1f} points" in readme


def test_policy_page_quotes_the_other_policies_over_all_draws():
    """docs/policy.md's table of the other policies over every posterior draw: each sweep
    cell recomputed from docs/sweeps/posterior-<policy>/runs.csv, each first-draws cell the
    same as that policy's cell in the page's own family table, and the sentence on how far
    the ends move and which answers change their noise status recomputed from the two."""
    import pandas as pd

    from simulation.analysis.intervals import bounds
    from simulation.analysis.registry import describe

    page = (DOCS / "policy.md").read_text(encoding="utf-8")
    by_label = {describe(k).label: k for k in ("retention_5y", "retention_7y_all_cohorts",
                                               "moves_per_year", "share_in_10_largest")}
    head = re.search(r"\| policy \| indicator \| first (\d+) draws \(the tables\) \| every "
                     r"draw \(a sweep\) \|\n\|---\|---\|---\|---\|\n((?:\|[^\n]*\n)+)", page)
    assert head, "the other policies' table is missing"
    k = int(head[1])
    assert f"replicates 2 x posterior draws\n{k} = " in page

    def family_cell(policy: str, label: str) -> str:
        """The policy's cell on ``label`` in the family table whose header names it."""
        for block in page.split("\n\n"):
            lines = block.splitlines()
            if not lines or not lines[0].startswith("| indicator |"):
                continue
            header = [c.strip() for c in lines[0].strip("|").split("|")]
            name = f"{policy} − baseline [5–95 %]"
            if name in header:
                for line in lines[2:]:
                    cells = [c.strip() for c in line.strip("|").split("|")]
                    if cells[0] == label:
                        return cells[header.index(name)]
        raise AssertionError((policy, label))

    rows = [[c.strip() for c in line.strip("|").split("|")] for line in
            head[2].strip().splitlines()]
    assert len(rows) == 16, len(rows)
    moved = {"share": [], "count": []}
    flips = 0
    for policy, label, first, every in rows:
        key = by_label[label]
        runs = pd.read_csv(SWEEPS / f"posterior-{policy}" / "runs.csv")
        assert runs["point"].nunique() == 200 and len(runs) == 400
        values = runs[f"effect.{key}"].to_numpy(dtype=float)
        share = describe(key).kind == "share"
        text = _pt(100 * values) if share else _paired(values)
        lo, hi = bounds(values)
        noise = lo <= 0 <= hi
        assert every == (f"_{text} (noise)_" if noise else text), (policy, key, every)
        assert first == family_cell(policy, label), (policy, label)
        first_noise = first.startswith("_")
        flips += first_noise != noise
        # the ends as printed in the table cell against the sweep's, in the page's units
        f_lo, f_hi = (float(x) for x in re.search(
            r"\[([-+]?[\d.]+),([-+]?[\d.]+)\]", re.sub(r"\s", "", first)).groups())
        scale, digits = (100.0, 1) if share else (1.0, 0)
        moved["share" if share else "count"].append(
            max(abs(f_lo - round(scale * lo, digits)), abs(f_hi - round(scale * hi, digits))))
    flat = " ".join(page.split())
    m = re.search(r"Between the first (\d+) draws and all 200, an interval end moves by at "
                  r"most (\d+\.\d) points on the shares \(([^)]*)\) and by (\d+) on moves a "
                  r"year \(([^)]*)\)\. (No answer changes|These answers change)", flat)
    assert m and int(m[1]) == k, m
    # between the ends as printed (the table's cell and the sweep's, rounded alike)
    assert m[2] == f"{max(moved['share']):.1f}", (m[2], moved["share"])
    assert m[4] == f"{max(moved['count']):.0f}", (m[4], moved["count"])
    assert (m[6] == "No answer changes") == (flips == 0), flips
    readme = " ".join((ROOT / "README.md").read_text(encoding="utf-8").split())
    assert (f"an interval end moves by at most {m[2]} points on the shares and {m[4]} on moves "
            f"a year, and {'no answer changes' if not flips else 'some answers change'} "
            "whether it can be told apart from zero") in readme
    minutes = sorted(json.loads((ROOT / "benchmarks" / "results" /
                                 f"sweep_posterior_{policy.replace('-', '_')}.json").read_text())
                     ["cli_2_processes_s"] / 60 for policy in {r[0] for r in rows})
    assert f"(2 seeds, {minutes[0]:.1f}-{minutes[-1]:.1f} min each;" in readme


def _pt(values) -> str:
    """A paired difference in percentage points as the policy page prints it."""
    from simulation.analysis.intervals import bounds

    lo, hi = bounds(np.asarray(values, dtype=float))
    return f"{np.mean(values):+.1f} pt [{lo:+.1f}, {hi:+.1f}]"


@pytest.mark.slow  # a few seconds: 2,000 subsets
def test_how_many_draws_an_interval_needs():
    """docs/sweeps.md's sd of the no-rule effect's 5 % end over subsets of the posterior
    draws, recomputed from the sweep's runs with the procedure it states."""
    import pandas as pd

    from simulation.analysis.intervals import bounds

    runs = pd.read_csv(SWEEPS / "posterior-no-rule" / "runs.csv")
    y, point = 100 * runs["effect.retention_5y"].to_numpy(), runs["point"].to_numpy()
    by = [y[point == p] for p in range(200)]
    rng = np.random.default_rng(1)
    sds, spread20 = {}, None
    for m in (20, 40, 60, 100):
        ends = np.array([bounds(np.concatenate([by[c] for c in rng.choice(200, m,
                                                                          replace=False)]))[0]
                         for _ in range(500)])
        sds[m] = ends.std() / np.sqrt(1 - m / 200)
        if m == 20:
            spread20 = np.quantile(ends, [0.05, 0.95])
    text = _no_rule_section()
    assert (f"varies with sd {sds[20]:.2f} points on 20 draws, {sds[40]:.2f} on 40, "
            f"{sds[60]:.2f} on 60 and {sds[100]:.2f} on 100") in text
    assert f"an end from {spread20[0]:.2f} to {spread20[1]:.2f} points is ordinary" in text
    assert sds[100] < sds[60] < sds[40] < sds[20]

"""The output folder of `secmig run FILE` and `secmig compare`: resolved scenario, manifest,
summary with intervals, tidy tables, figures and a self-contained report, written atomically.
"""

from __future__ import annotations

import hashlib
import json
import math
import platform
import subprocess
import sys
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import yaml

from simulation import __version__
from simulation.analysis.registry import describe, headline_ids
from simulation.analysis.targets import (
    MISS_FOOTNOTE,
    compare,
    departures,
    describe_miss,
    miss_notes,
    targets,
)
from simulation.engine.ledger import COSTS, RECEIPTS
from simulation.engine.numerics import signature as numerics_signature
from simulation.engine.randomness import replicate_seeds
from simulation.inputs.parameters import BY_NAME, POLICY_KEYS
from simulation.inputs.scenario import Scenario
from simulation.reports import figures
from simulation.reports import html as report
from simulation.reports.atomic import atomic_directory
from simulation.reports.numbers import number
from simulation.runs.ensemble import (
    ReplicateSummary,
    aggregate_flows,
    aggregate_ledger,
    aggregate_matching,
    aggregate_municipalities,
    aggregate_retention,
    aggregate_yearly,
    indicator_frame,
    interval,
)


def display_path(path: str | Path) -> str:
    """A path as a forwarded report may show it: relative to the working folder when inside
    it, package data as ``simulation/data/...``, anything else by its file name only (no
    absolute local paths leave the machine)."""
    path = Path(path)
    package = Path(__file__).resolve().parents[1]
    for root, prefix in ((Path.cwd(), ""), (package, "simulation/")):
        try:
            return prefix + path.resolve().relative_to(root.resolve()).as_posix()
        except ValueError:
            continue
    return path.name


def sha256(path: Path) -> str:
    h = hashlib.sha256()
    with Path(path).open("rb") as fh:
        for chunk in iter(lambda: fh.read(1 << 20), b""):
            h.update(chunk)
    return h.hexdigest()


def git_commit() -> str | None:
    """The commit of the secmig source tree, if it is a git checkout."""
    try:
        out = subprocess.run(["git", "rev-parse", "HEAD"], cwd=Path(__file__).parent,
                             capture_output=True, text=True, timeout=5)
    except (OSError, subprocess.SubprocessError):
        return None
    return out.stdout.strip() or None if out.returncode == 0 else None


def _nested_means(frame: pd.DataFrame) -> dict[str, Any]:
    """Flattened replicate means back into the nested indicator shape (for compare())."""
    nested: dict[str, Any] = {}
    for col, value in frame.mean().items():
        if "." in col:
            head, key = col.split(".", 1)
            nested.setdefault(head, {})[int(key) if key.isdigit() else key] = float(value)
        else:
            nested[col] = float(value)
    return nested


def summary(frame: pd.DataFrame, context_only: bool = False) -> dict[str, Any]:
    """Indicator id -> mean, p5, p95 (and register target, tolerance, within where known).
    ``context_only``: the scenario departs from the rules the register describes, so the
    register figures are context and no within-tolerance verdict is given."""
    register = {(c.id if not c.key else f"{c.id}.{c.key}"): c
                for c in compare(_nested_means(frame))}
    out: dict[str, Any] = {}
    for col in frame.columns:
        mean, p5, p95 = interval(frame[col].to_numpy())
        entry: dict[str, Any] = {"mean": mean, "p5": p5, "p95": p95}
        c = register.get(col)
        if c is not None:
            entry.update(register=c.register, tolerance=c.tolerance, compared_as=c.compared_as,
                         within_tolerance=None if context_only else c.within)
            if c.compared_as != "level":
                entry["simulated_ratio"] = c.simulated
        head, _, key = col.partition(".")
        if key:
            out.setdefault(head, {})[key] = entry
        else:
            out[col] = entry
    return out


def _json_safe(obj: Any) -> Any:
    if isinstance(obj, dict):
        return {str(k): _json_safe(v) for k, v in obj.items()}
    if isinstance(obj, list | tuple):
        return [_json_safe(v) for v in obj]
    if isinstance(obj, float) and math.isnan(obj):
        return None
    if isinstance(obj, np.generic):
        return _json_safe(obj.item())
    return obj


def manifest(scenario: Scenario, seed: int, replicates: int, jobs: int,
             summaries: list[ReplicateSummary], timings: dict[str, float]) -> dict[str, Any]:
    import mesa

    seeds = replicate_seeds(seed, replicates)
    return {
        "secmig_version": __version__, "git_commit": git_commit(),
        "created_utc": datetime.now(UTC).isoformat(timespec="seconds"),
        "command": sys.argv, "python": platform.python_version(),
        # what bit-identity depends on beyond the seed (engine/numerics.py)
        "numerics": numerics_signature(),
        "packages": {"numpy": np.__version__, "pandas": pd.__version__,
                     "mesa": mesa.__version__},
        "scenario": scenario.name, "seed": seed, "replicates": replicates, "jobs": jobs,
        "replicate_seeds": [{"entropy": s.entropy, "spawn_key": list(s.spawn_key)}
                            for s in seeds],
        "input_files": {str(p): sha256(p) for p in scenario.input_files()},
        "timings": {**timings, "simulate_s_per_replicate": [s.simulate_s for s in summaries]},
    }


def _value_text(name: str, value: float) -> str:
    p = BY_NAME[name]
    if p.kind == "bool":
        return f"{name} = {'yes' if value else 'no'}"
    return f"{name} = {value:.3g} ({p.unit})"


def _parameter_rows(scenario: Scenario) -> list[tuple[str, str]]:
    """Calibrated values (from the fitted file) and the scenario's own settings, apart."""
    explicit = {k: v for k, v in scenario.explicit.items() if k not in POLICY_KEYS}
    changed = {k: v for k, v in scenario.params.changed().items()
               if k not in POLICY_KEYS and k not in explicit}
    fitted = scenario.schema.parameters.get("from")
    rows = []
    if fitted:
        rows.append((f"Calibrated parameters (point estimate from "
                     f"{report.esc(display_path(Path(str(fitted))))})",
                     report.esc(", ".join(_value_text(k, v) for k, v in changed.items())
                                or "none differ from the registry defaults")))
    elif changed:
        rows.append(("Parameters changed from the registry defaults",
                     report.esc(", ".join(_value_text(k, v) for k, v in changed.items()))))
    rows.append(("Parameters set by this scenario", report.esc(
        ", ".join(_value_text(k, v) for k, v in explicit.items()) or "none")))
    return rows


def _what_was_run(scenario: Scenario, departs: list[str]) -> str:
    sch = scenario.schema
    alloc = sch.settlement.allocation
    rows = [
        ("Scenario", f"<b>{report.esc(sch.name)}</b>: {report.esc(sch.description)}"),
        ("Period", f"{sch.period.start}-{sch.period.end} (one step = one calendar year)"),
        ("Replicates and seed", f"{sch.replicates} replicates from scenario seed {sch.seed}"),
        ("Geography", report.esc(sch.geography if sch.geography == "built-in"
                                 else display_path(Path(sch.geography)))),
        ("Persons settled by agreement", f"{sum(scenario.inputs.volumes.values()):,.0f} in all"
         .replace(",", " ")),
        ("Allocation", report.esc(
            f"excluded below {alloc.exclude_below_population:,} inhabitants; excluded "
            f"centrality classes {alloc.exclude_centrality or 'none'}; "
            + (f"fixed quotas from {display_path(Path(alloc.quotas))}" if alloc.quotas
               else "size-based quotas")
            + ("; only municipalities that settle every year" if alloc.continuity_only
               else "")).replace(",", " ")),
        ("Rights rule", report.esc(
            f"rights tied for {scenario.params.rights_years:g} years; cost "
            f"{scenario.params.rights_cost:.2f} (log-odds); job-move exemption "
            f"{'yes' if scenario.params.job_move_exemption else 'no'}; self-sufficiency "
            f"condition {'yes' if scenario.params.rights_self_sufficiency else 'no'}; "
            f"programme {scenario.params.programme_years:g} years")),
        *_parameter_rows(scenario),
        ("Against the register", report.esc(
            "the register figures describe today's rules; this scenario departs from them ("
            + "; ".join(departs) + "), so they are shown as context, not as a check"
            if departs else "same rules and inputs as the register figures describe: they "
                            "check the model")),
    ]
    body = "".join(f"<tr><th>{a}</th><td style='text-align:left'>{b}</td></tr>"
                   for a, b in rows)
    return f"<table class='facts'>{body}</table>"


def _headline_table(frame: pd.DataFrame, summ: dict[str, Any], rights_years: float,
                    context_only: bool) -> pd.DataFrame:
    rows = []
    for key in headline_ids(rights_years):
        if key not in frame.columns:
            continue
        words = describe(key, rights_years)
        text, kind = words.title, words.kind
        head, _, sub = key.partition(".")
        entry = summ[head][sub] if sub else summ[head]
        reg = entry.get("register")
        within = entry.get("within_tolerance")
        mark = ("" if within is None else
                " <span class='ok'>within</span>" if within else
                " <span class='off'>outside</span>")
        register_text = "–"
        if reg is not None and entry.get("compared_as") == "level":
            register_text = (f"{report.value(reg, kind)} ± "
                             f"{report.value(entry['tolerance'], kind)}{mark}")
            if context_only:
                register_text = f"<span class='noise'>{register_text}</span>"
        rows.append({"indicator": text, "simulated (mean)": report.value(entry["mean"], kind),
                     "5-95 % of runs": f"{report.value(entry['p5'], kind)} – "
                                       f"{report.value(entry['p95'], kind)}",
                     "register (today's rules, context)" if context_only else "register":
                         report.Raw(register_text)})
    return pd.DataFrame(rows)


def drawn_parameters(scenario: Scenario, posterior: int) -> list[dict[str, float]]:
    """The parameters that differ between the scenario's first ``posterior`` draws, one dict
    per draw (draw k is run ``k * replicates + r``): a manifest must say what was run."""
    if not posterior:
        return []
    sets = [dict(p) for p in scenario.posterior(posterior)]
    varying = [n for n in sets[0] if len({s[n] for s in sets}) > 1]
    return [{n: s[n] for n in varying} for s in sets]


def by_replicate(frame: pd.DataFrame, replicates: int, posterior: int) -> pd.DataFrame:
    """The per-run indicator table as written: with ``draw`` and ``replicate_seed`` (the index
    of the replicate seed, shared by every draw and scenario) when posterior draws were run."""
    out = frame.reset_index()
    if posterior:
        out.insert(1, "draw", out["replicate"] // replicates)
        out.insert(2, "replicate_seed", out["replicate"] % replicates)
    return out


def write_ensemble(scenario: Scenario, summaries: list[ReplicateSummary], out: Path, *,
                   force: bool, jobs: int, timings: dict[str, float], posterior: int = 0
                   ) -> Path:
    """Write the complete output folder of one scenario's ensemble."""
    sch = scenario.schema
    frame = indicator_frame(summaries)
    departs = departures(scenario.params, scenario.inputs)
    summ = summary(frame, context_only=bool(departs))
    retention = aggregate_retention(summaries)
    municipalities = aggregate_municipalities(summaries)
    flows = aggregate_flows(summaries)
    yearly = aggregate_yearly(summaries)
    matching = aggregate_matching(summaries)
    geo = scenario.inputs.geography.table
    with atomic_directory(out, force=force) as tmp:
        figs = tmp / "figures"
        figs.mkdir()
        (tmp / "scenario.resolved.yaml").write_text(
            yaml.safe_dump(_json_safe(scenario.resolved()), sort_keys=False,
                           allow_unicode=True), encoding="utf-8")
        (tmp / "summary.json").write_text(json.dumps(_json_safe(
            {"scenario": sch.name, "replicates": sch.replicates, "posterior_draws": posterior,
             "runs": len(summaries), "seed": sch.seed,
             "register_comparison": ("context only: the scenario departs from the rules the "
                                     "register describes (" + "; ".join(departs) + ")")
             if departs else "check: the scenario has the rules the register describes",
             "indicators": summ}),
            indent=2, ensure_ascii=False), encoding="utf-8")
        tables = {"retention": retention, "municipalities": municipalities, "flows": flows,
                  "yearly": yearly,
                  "indicators_by_replicate": by_replicate(frame, sch.replicates, posterior)}
        if not matching.empty:
            tables["matching"] = matching
        ledger = aggregate_ledger(summaries)
        if not ledger.empty:
            tables["ledger"] = ledger
            net = _net_per_inhabitant(ledger, municipalities)
            fig_ledger = figures.map_figure(
                net, geo, figs / "map_net_position.png", "net_per_inhabitant",
                f"Municipal net position from refugees (grants - costs), NOK per inhabitant a "
                f"year, {sch.period.start}-{sch.period.end} average, 2024 kroner",
                "NOK per inhabitant a year", note="red: grants exceed costs\nblue: costs "
                "exceed grants\ncircle area: population")
        for name, t in tables.items():
            if "csv" in sch.outputs.formats:
                t.to_csv(tmp / f"{name}.csv", index=False)
            if "parquet" in sch.outputs.formats:
                t.to_parquet(tmp / f"{name}.parquet", index=False)
        label = sch.name
        fig_paths = {
            "hazard": figures.hazard_figure({label: frame}, figs / "timing_of_moves.png",
                                            {label: scenario.params.rights_years}),
            "retention": figures.ensemble_retention_figure({label: retention},
                                                           figs / "retention.png"),
            "destinations": figures.destination_split_figure({label: frame},
                                                             figs / "destinations.png"),
            "out_shares": figures.out_share_figure(
                {label: [s.municipalities["out_migration_share_2010_2016"] for s in summaries]},
                figs / "out_migration_shares.png"),
            "concentration": figures.concentration_figure({label: yearly},
                                                          figs / "concentration.png"),
            "map": figures.map_figure(
                municipalities, geo, figs / "map_net_secondary_migration.png",
                "net_secondary_migration_per_1000",
                f"Net secondary migration {sch.period.start}-{sch.period.end}, per 1,000 "
                "inhabitants (red: gains, blue: losses)", "persons per 1,000 inhabitants"),
        }
        man = manifest(scenario, sch.seed, sch.replicates, jobs, summaries, timings)
        man["posterior_draws"] = posterior
        man["posterior_parameters"] = drawn_parameters(scenario, posterior)
        (tmp / "manifest.json").write_text(json.dumps(_json_safe(man), indent=2),
                                           encoding="utf-8")
        if not ledger.empty:
            fig_paths["ledger"] = fig_ledger
        (tmp / "report.html").write_text(
            run_report(scenario, frame, summ, municipalities, flows, fig_paths, man,
                       departs, matching, ledger),
            encoding="utf-8")
    return Path(out)


def _net_per_inhabitant(ledger: pd.DataFrame, municipalities: pd.DataFrame) -> pd.DataFrame:
    """Per municipality: the yearly average net position (2024 kroner) and per inhabitant."""
    net = ledger[ledger["item"] == "net"].groupby("municipality")["nok_2024"].mean()
    out = municipalities[["municipality", "name", "population"]].copy()
    out["net_per_year"] = out["municipality"].map(net).fillna(0.0).to_numpy()
    out["net_per_inhabitant"] = out["net_per_year"] / out["population"].astype(np.float64)
    return out


def _ledger_section(ledger: pd.DataFrame, municipalities: pd.DataFrame, fig: Path) -> str:
    """National totals per item and year, and who gains and loses most, in kroner."""
    national = (ledger.groupby(["year", "item"])["nok_2024"].sum().unstack("item") / 1e6)
    items = [c for c in ("grant_year_1", "grant_years_2_5", "introduction_stipend",
                         "social_assistance", "integration_services", "health_needs", "net")
             if c in national]
    table = national[items].reset_index()
    table["year"] = table["year"].astype(str)
    per = _net_per_inhabitant(ledger, municipalities).sort_values("net_per_year")
    ends = pd.concat([per.head(5), per.tail(5)])
    return (
        "<p>What each municipality receives in integration grants and pays for the refugees "
        "living there (introduction stipend, social assistance, integration services, health "
        "needs), in million 2024 kroner (deflated by G), summed over Norway; means over runs "
        "(per municipality, with intervals, in ledger.csv). <b>The grant rates are read for "
        "2017 and estimated for the other years</b> (docs/ledger.md sets the totals against "
        "IMDi's payouts).</p>"
        + report.table(table, kinds={"year": "code", **{c: "count" for c in items}})
        + report.image(fig, "Net position (grants minus costs) per inhabitant and year.")
        + "<p>The municipalities with the lowest and highest net position (NOK million a "
          "year, 2024 kroner):</p>"
        + report.table(pd.DataFrame({
            "municipality": ends["name"].to_numpy(),
            "net, NOK million a year": [f"{v / 1e6:+,.1f}" for v in ends["net_per_year"]],
            "per inhabitant, NOK": [f"{v:+,.0f}" for v in ends["net_per_inhabitant"]]}),
            kinds={"municipality": "text", "net, NOK million a year": "text",
                   "per inhabitant, NOK": "text"})
        + "<details><summary>Every municipality: grants, costs and net position (NOK million a "
          "year, 2024 kroner, means over the window's years; accumulated: summed over the "
          "window). Per year and item, with intervals: ledger.csv.</summary>"
        + report.table(_ledger_by_municipality(ledger, municipalities),
                       kinds={"municipality": "text", "code": "code"})
        + "</details>")


def _ledger_by_municipality(ledger: pd.DataFrame, municipalities: pd.DataFrame
                            ) -> pd.DataFrame:
    """One row per municipality (alphabetical): grants and costs a year, net a year, net
    accumulated over the window, in NOK million (2024 kroner; means over runs)."""
    items = ledger["item"].astype(str)
    per_year = ledger.pivot_table(index=["municipality", "year"], columns=items,
                                  values="nok_2024", aggfunc="sum", observed=True)
    yearly = per_year.groupby(level="municipality").mean()
    last = per_year.index.get_level_values("year").max()
    accumulated = per_year.xs(last, level="year")["net_accumulated"]
    out = municipalities[["name", "municipality"]].rename(
        columns={"name": "municipality", "municipality": "code"})
    codes = out["code"]
    for label, values in (("grants", yearly[list(RECEIPTS)].sum(axis=1)),
                          ("costs", yearly[list(COSTS)].sum(axis=1)),
                          ("net a year", yearly["net"]), ("net accumulated", accumulated)):
        out[label] = [f"{v / 1e6:+,.1f}" if label.startswith("net") else f"{v / 1e6:,.1f}"
                      for v in codes.map(values).fillna(0.0)]
    return out.sort_values("municipality").reset_index(drop=True)


def _matching_section(scenario: Scenario, matching: pd.DataFrame,
                      summ: dict[str, Any]) -> str:
    """What placement by matching did each year (``matching.csv``), in words and a table."""
    policy = scenario.inputs.allocation.matching
    weights = ", ".join(f"{k} {v:g}" for k, v in policy.objective.items()) if policy else ""
    gain = summ.get("matching_predicted_retention_gain", {})
    def points(x: float) -> str:
        return f"{number(x, 'share', signed=True)} points"

    moved = matching["moved_households"].sum() / matching["households"].sum()
    text = (f"<p>Each year the baseline allocation gave every municipality its capacity, and "
            f"the households settled by agreement were matched to those places (objective: "
            f"{report.esc(weights)}; horizon {policy.horizon if policy else ''} years; "
            f"docs/placement.md). On average {report.value(moved, 'share')} of them were "
            f"placed elsewhere than the baseline would have placed them.")
    if gain and gain.get("mean") is not None and not math.isnan(gain["mean"]):
        text += (f" At placement the model predicted a gain of {points(gain['mean'])} in "
                 "the cohorts' retention at that horizon (5-95 % of runs: "
                 f"{points(gain['p5'])} to {points(gain['p95'])}); what the simulation then "
                 "shows, network feedback included, is the difference in five-year retention "
                 "against the baseline (<code>secmig compare</code>).")
    text += "</p>"
    cols = {"year": "year", "households": "households matched",
            "moved_households": "placed elsewhere",
            "predicted_retention_baseline": "predicted retention, baseline placement",
            "predicted_retention_matched": "predicted retention, matched",
            "predicted_employment_baseline": "predicted employment, baseline placement",
            "predicted_employment_matched": "predicted employment, matched"}
    table = matching[list(cols)].rename(columns=cols)
    table["year"] = table["year"].astype(np.int64).astype(str)
    kinds = {v: ("count" if k in ("households", "moved_households") else
                 "code" if k == "year" else "share") for k, v in cols.items()}
    return text + report.table(table, kinds=kinds) + (
        "<p class='small'>Means over runs; intervals per year are in matching.csv. Predicted "
        "retention: the chance of still living in the municipality at the horizon; predicted "
        "employment: the share of adults in work then (if they stay), as the model predicts "
        "with each municipality's state frozen at arrival.</p>")


def _municipality_tables(municipalities: pd.DataFrame) -> str:
    cols = ["name", "county", "centrality", "population", "persons_settled",
            "out_migration_share_2010_2016", "net_secondary_migration_per_1000",
            "net_without_work_or_with_health_needs_per_1000"]
    losing = municipalities[municipalities["persons_settled"] > 0].nlargest(
        10, "out_migration_share_2010_2016")[cols]
    gaining = municipalities.nlargest(10, "net_secondary_migration_per_1000")[cols]
    kinds = {"population": "count", "persons settled": "count",
             "out-migration share (settled 2010-16)": "share",
             "net secondary migration per 1,000": "per1000",
             "of which without work or with health needs, per 1,000": "per1000",
             "centrality": "count", "name": "text", "county": "text"}
    names = {"out_migration_share_2010_2016": "out-migration share (settled 2010-16)",
             "net_secondary_migration_per_1000": "net secondary migration per 1,000",
             "net_without_work_or_with_health_needs_per_1000":
                 "of which without work or with health needs, per 1,000",
             "persons_settled": "persons settled"}
    return ("<p>Municipalities that lose the largest share of those they settle:</p>"
            + report.table(losing.rename(columns=names), kinds=kinds)
            + "<p>Municipalities with the largest net gain from secondary migration, per "
              "1,000 inhabitants (a proxy for pressure on welfare budgets when the movers are "
              "without work or have health needs):</p>"
            + report.table(gaining.rename(columns=names), kinds=kinds)
            + "<p class='small'>Persons settled and per-1,000 figures are means over runs. "
              "All municipalities: <code>municipalities.csv</code>.</p>")


def _provenance(man: dict[str, Any]) -> str:
    files = "".join(f"<li><code>{report.esc(display_path(p))}</code> sha256 {h[:16]}…</li>"
                    for p, h in man["input_files"].items())
    return (f"<p class='small'>secmig {report.esc(man['secmig_version'])}, git commit "
            f"{report.esc(man['git_commit'] or 'unknown')}, created "
            f"{report.esc(man['created_utc'])}, Python {report.esc(man['python'])}, "
            f"mesa {report.esc(man['packages']['mesa'])}. Scenario seed {man['seed']}, "
            f"{man['replicates']} replicates (numpy SeedSequence.spawn), "
            f"{man['jobs']} worker process(es). Input files:</p><ul class='small'>{files}</ul>"
            "<p class='small'>Data: Statistics Norway (SSB) and Kartverket (CC BY 4.0), "
            "IMDi, Fafo-rapport 2025:14. Full details in <code>manifest.json</code>.</p>")


def _miss_notes(frame: pd.DataFrame, checks: list[dict[str, Any]]) -> str:
    """The register targets this run at the calibrated point misses, each beside what the
    fitted file's check found for it over the posterior (analysis/targets.miss_notes)."""
    notes = miss_notes(compare(_nested_means(frame)), checks) if checks else []
    if not notes:
        return ""
    items = []
    for note in notes:
        c = note.comparison
        key = f"{c.id}.{c.key}" if c.key else c.id
        kind = "ratio" if c.compared_as != "level" else describe(key).kind
        title = describe(key).title + (" (relative to all types)"
                                       if c.compared_as != "level" else "")
        items.append(f"<li><b>{report.esc(title)}</b>: "
                     + report.esc(describe_miss(note, lambda v, k=kind: report.value(v, k)))
                     + "</li>")
    return ("<div class='note'><p>Outside the register's tolerance in this run:</p><ul>"
            + "".join(items) + f"</ul><p class='small'>{report.esc(MISS_FOOTNOTE)}</p></div>")


def run_report(scenario: Scenario, frame: pd.DataFrame, summ: dict[str, Any],
               municipalities: pd.DataFrame, flows: pd.DataFrame,
               fig_paths: dict[str, Path], man: dict[str, Any],
               departs: list[str] | None = None, matching: pd.DataFrame | None = None,
               ledger: pd.DataFrame | None = None) -> str:
    sch = scenario.schema
    departs = departs or []
    r7 = summ.get("retention_7y", {})
    lead = ""
    if r7 and r7.get("mean") is not None and not math.isnan(r7["mean"]):
        register_r7 = next(t["value"] for t in targets() if t["id"] == "retention_7y")
        where = "register, today's rules" if departs else "register"
        share = lambda x: report.value(x, "share")  # noqa: E731 - as in the table below
        lead = (f"<p>In this scenario, <b>{share(r7['mean'])}</b> of refugees settled "
                f"2010-2016 still lived in their settlement municipality seven years later "
                f"(5-95 % of runs: {share(r7['p5'])} – {share(r7['p95'])}; {where}: "
                f"{share(register_r7)}).</p>")
    if departs:
        lead += ("<p class='note'>This is a counterfactual: it departs from the rules and "
                 "inputs that the register figures describe (" + report.esc("; ".join(departs))
                 + "). The register figures are shown for context only, in grey; a "
                 "difference from them is the scenario's answer, not a failure of the "
                 "model.</p>")
    calibrated = "from" in sch.parameters
    k = man.get("posterior_draws", 0)
    if not calibrated:
        note = ("<p class='note'>The behavioural parameters are the registry's starting values, "
                "not calibrated against the register: read levels with care; differences "
                "between scenarios run with the same seeds are more robust than levels.</p>")
    elif k:
        note = (f"<p class='small'>Parameters: {k} draws from the calibrated posterior "
                f"(<code>{report.esc(display_path(Path(sch.parameters['from'])))}</code>) x "
                f"{sch.replicates} "
                "replicates, so the intervals include parameter uncertainty.</p>")
    else:
        note = (f"<p class='small'>Parameters: the calibrated point estimate "
                f"(<code>{report.esc(display_path(Path(sch.parameters['from'])))}</code>). "
                "Intervals show "
                "stochastic variation only; run with <code>--posterior K</code> to include "
                "parameter uncertainty.</p>")
        if not departs and scenario.at_calibrated_point:
            note += _miss_notes(frame, scenario.calibration_checks)
    top_flows = flows.head(15)[["origin", "destination", "mean"]].rename(
        columns={"mean": "persons (mean over replicates)"})
    names = scenario.inputs.geography.table.set_index("code")["name"]
    top_flows.insert(1, "from", top_flows["origin"].map(names))
    top_flows.insert(3, "to", top_flows["destination"].map(names))
    flow_kinds = {"origin": "code", "destination": "code", "from": "text", "to": "text",
                  "persons (mean over replicates)": "count"}
    sections = [
        ("What was run", _what_was_run(scenario, departs)),
        ("Headline numbers", lead + note + report.table(_headline_table(
            frame, summ, scenario.params.rights_years, bool(departs)))
         + "<p class='small'>Intervals: 5th-95th percentile over runs, placed so that they "
           "cover 90 % of runs on average (from 19 runs on). Register: published "
           "figures with the tolerance used for calibration"
         + (", shown as context (they describe today's rules)" if departs else "")
         + ".</p>"),
        ("Secondary migration over time", report.image(
            fig_paths["retention"], "Share of persons (still in Norway) living in their "
            "settlement municipality k years after settlement, against register figures.")),
        ("Timing of moves", report.image(
            fig_paths["hazard"], "Yearly share leaving the settlement municipality, by year "
            "since settlement; " + (f"the {scenario.params.rights_years:g}-year rights window "
                                    "ends at the dotted line." if scenario.params.rights_years
                                    else "no rights window in this scenario."))),
        ("Where movers go", report.image(
            fig_paths["destinations"], "Destination of persons leaving their settlement "
            "municipality.") + report.table(top_flows, kinds=flow_kinds)),
        ("Municipalities", report.image(
            fig_paths["map"], "Net secondary migration per 1,000 inhabitants.")
         + report.image(fig_paths["out_shares"], "How many municipalities lose how large a "
                        "share of those they settle.") + _municipality_tables(municipalities)),
        ("Concentration", report.image(
            fig_paths["concentration"], "Concentration of settled refugees against the "
            "population.")),
        ("Files and provenance", _provenance(man)),
    ]
    if matching is not None and not matching.empty:
        sections.insert(2, ("Placement by matching", _matching_section(scenario, matching,
                                                                      summ)))
    if ledger is not None and not ledger.empty:
        sections.insert(-1, ("Kroner: the municipal ledger", _ledger_section(
            ledger, municipalities, fig_paths["ledger"])))
    return report.page(f"secmig: {sch.name}",
                       f"Secondary migration of refugees in Norway, {sch.period.start}-"
                       f"{sch.period.end}, {sch.replicates} replicates", sections)

"""Comparing scenarios run with the same replicate seeds: paired differences with intervals.

Because replicate i of every scenario uses the same seed (and the engine's random streams are
keyed by decision, year and household), the difference of an indicator within a replicate
pair removes most of the stochastic noise both runs share; its spread over pairs is the
interval reported. A difference whose 5-95 % interval contains zero is marked "within noise".
"""

from __future__ import annotations

import io
import json
from importlib.resources import files
from pathlib import Path
from typing import Any

import pandas as pd

from simulation.analysis.indicators import count_at_least
from simulation.analysis.registry import BRIEF_IDS, OUT_SHARE_CUTS, describe, headline_ids
from simulation.analysis.targets import departures
from simulation.inputs.scenario import Scenario
from simulation.reports import figures
from simulation.reports import html as report
from simulation.reports.atomic import atomic_directory
from simulation.reports.numbers import number
from simulation.runs.ensemble import (
    ReplicateSummary,
    aggregate_municipalities,
    aggregate_retention,
    aggregate_yearly,
    indicator_frame,
    interval,
)
from simulation.runs.output import _json_safe, by_replicate, drawn_parameters, manifest, summary


def paired_differences(reference: pd.DataFrame, other: pd.DataFrame) -> pd.DataFrame:
    """Per indicator: mean difference (other - reference) over replicate pairs, its 5-95 %
    interval, and the spread of paired versus unpaired differences.

    Args:
        reference: one row per replicate, one column per flat indicator id (as
            ``runs.ensemble.indicator_frame`` makes it).
        other: the same for the other scenario, run with the same replicate seeds: row i of
            both comes from replicate seed i, so a row's difference is a paired one.

    Returns:
        One row per indicator both have: ``indicator``, ``reference_mean``,
        ``scenario_mean``, ``difference`` (mean over pairs), ``p5``, ``p95``,
        ``within_noise`` (the 5-95 % interval contains 0), ``sd_paired``, ``sd_unpaired``.

    Example:
        >>> from simulation.runs.ensemble import indicator_frame, run_many
        >>> base, rule = run_many([(params, inputs), (params.replace(rights_years=0), inputs)],
        ...                       seed=1, replicates=4)                      # doctest: +SKIP
        >>> d = paired_differences(indicator_frame(base), indicator_frame(rule))  # doctest: +SKIP
        >>> d.set_index("indicator").loc["retention_5y", "difference"]    # doctest: +SKIP
    """
    rows = []
    for col in reference.columns.intersection(other.columns):
        a, b = reference[col].to_numpy(float), other[col].to_numpy(float)
        diff = b - a
        mean, p5, p95 = interval(diff)
        unpaired = b[:, None] - a[None, :]
        rows.append({
            "indicator": col, "reference_mean": interval(a)[0], "scenario_mean": interval(b)[0],
            "difference": mean, "p5": p5, "p95": p95,
            "within_noise": bool(p5 <= 0 <= p95) if mean == mean else None,
            "sd_paired": float(pd.Series(diff).std()),
            "sd_unpaired": float(pd.Series(unpaired[~pd.isna(unpaired)]).std()),
        })
    return pd.DataFrame(rows)


OUT_SHARE = "out_migration_share_2010_2016"


def settling_in_both(reference: list[ReplicateSummary], other: list[ReplicateSummary]
                     ) -> tuple[pd.DataFrame, pd.DataFrame]:
    """``municipalities_by_out_share.*`` of both scenarios counted over the municipalities
    that settle (cohorts 2010-2016) in *both* runs of each replicate pair.

    A scenario that stops settling in some municipalities would otherwise "save" them from
    losing what they settle merely by not settling anyone there: they drop out of its count
    by construction. Counted over the common municipalities, the difference says whether the
    places that still settle keep more of those they settle.
    """
    rows_a, rows_b = [], []
    for a, b in zip(reference, other, strict=True):
        sa = a.municipalities.set_index("municipality")[OUT_SHARE]
        sb = b.municipalities.set_index("municipality")[OUT_SHARE].reindex(sa.index)
        both = sa.notna() & sb.notna()
        rows_a.append({f"municipalities_by_out_share.{k}": float(count_at_least(sa[both], cut))
                       for k, cut in OUT_SHARE_CUTS.items()})
        rows_b.append({f"municipalities_by_out_share.{k}": float(count_at_least(sb[both], cut))
                       for k, cut in OUT_SHARE_CUTS.items()})
    return pd.DataFrame(rows_a), pd.DataFrame(rows_b)


def compared(reference: pd.DataFrame, other: pd.DataFrame, ref_runs: list[ReplicateSummary],
             other_runs: list[ReplicateSummary]) -> tuple[pd.DataFrame, pd.DataFrame]:
    """The two indicator frames as a comparison pairs them: the same, except that the
    out-share counts are over the municipalities that settle in both (:func:`settling_in_both`)."""
    a, b = settling_in_both(ref_runs, other_runs)
    ref, oth = reference.copy(), other.copy()
    for col in a.columns:
        if col in ref and col in oth:
            ref[col], oth[col] = a[col].to_numpy(), b[col].to_numpy()
    return ref, oth


def common_rights_years(scenarios: list[Scenario]) -> float | None:
    """The rights window all scenarios share (labels then name its years), else None.

    Args:
        scenarios: the loaded scenarios of one comparison.

    Example:
        >>> common_rights_years([load_scenario("scenarios/baseline.yaml")])  # doctest: +SKIP
        5.0
    """
    years = {s.params.rights_years for s in scenarios}
    return years.pop() if len(years) == 1 else None


def _difference_table(diffs: dict[str, pd.DataFrame], names: list[str],
                      rights_years: float | None) -> pd.DataFrame:
    rows = []
    for key in headline_ids(rights_years):
        words = describe(key, rights_years)
        kind = words.kind
        row: dict[str, Any] = {"indicator": words.title}
        for name, d in diffs.items():
            hit = d[d["indicator"] == key]
            if hit.empty:
                continue
            h = hit.iloc[0]
            cls = "noise" if h["within_noise"] else ""
            unit = "points" if kind == "share" else ""
            d, lo, hi = (number(h[c], kind, signed=True) for c in ("difference", "p5", "p95"))
            row[f"{name} minus {names[0]} [5-95 %]"] = report.Raw(
                f"<span class='{cls}'>{d} [{lo}, {hi}] {unit}"
                f"{' (within noise)' if h['within_noise'] else ''}</span>")
        if len(row) > 1:
            first = next(iter(diffs.values()))
            hit = first[first["indicator"] == key]
            row["reference"] = (report.value(float(hit.iloc[0]["reference_mean"]), kind)
                                if not hit.empty else "–")
            rows.append(row)
    frame = pd.DataFrame(rows)
    cols = ["indicator", "reference", *[c for c in frame.columns
                                         if c not in ("indicator", "reference")]]
    return frame[cols].rename(columns={"reference": f"{names[0]} (reference)"})


def write_comparison(scenarios: list[Scenario], results: list[list[ReplicateSummary]],
                     out: Path, *, force: bool, jobs: int, seed: int, replicates: int,
                     timings: dict[str, float], posterior: int = 0) -> Path:
    """Write the comparison folder: differences, overlays, per-scenario tables, report.

    Args:
        scenarios: the loaded scenarios; the first is the reference the others are compared
            with.
        results: per scenario, its replicate summaries in replicate order, all made with the
            same replicate seeds (``runs.ensemble.run_many`` over the scenarios).
        out: the folder to write (written whole or not at all).
        force: replace ``out`` if it exists.
        jobs: worker processes used (for the manifest).
        seed: the scenario seed the replicate seeds were spawned from.
        replicates: replicates per parameter set.
        timings: seconds spent, for the manifest.
        posterior: posterior parameter draws per scenario (0: the point estimate).

    Returns:
        ``out``: with differences.csv, indicators_by_replicate.csv (the pairs behind each
        difference), municipality_differences.csv, retention.csv,
        municipalities.csv, yearly.csv, summary.json, manifest.json, figures/ and report.html.

    Example:
        >>> scenarios = [load_scenario(f"scenarios/{n}.yaml") for n in ("baseline", "no-rule")]
        >>> results = run_many([(s.params, s.inputs) for s in scenarios], seed=1,
        ...                    replicates=4)                                 # doctest: +SKIP
        >>> write_comparison(scenarios, results, Path("outputs/rule"), force=True, jobs=1,
        ...                  seed=1, replicates=4, timings={})               # doctest: +SKIP
    """
    names = _unique_names([s.name for s in scenarios])
    slugs = dict(zip(names, _unique_names([s.slug for s in scenarios]), strict=True))
    frames = {n: indicator_frame(r) for n, r in zip(names, results, strict=True)}
    ref_name = names[0]
    diffs = {n: paired_differences(*compared(frames[ref_name], frames[n], results[0], r))
             for n, r in zip(names[1:], results[1:], strict=True)}
    retention = {n: aggregate_retention(r) for n, r in zip(names, results, strict=True)}
    munis = {n: aggregate_municipalities(r) for n, r in zip(names, results, strict=True)}
    yearly = {n: aggregate_yearly(r) for n, r in zip(names, results, strict=True)}
    geo = scenarios[0].inputs.geography.table
    with atomic_directory(out, force=force) as tmp:
        figs = tmp / "figures"
        figs.mkdir()
        all_diffs = pd.concat([d.assign(scenario=n) for n, d in diffs.items()],
                              ignore_index=True)
        all_diffs = all_diffs[["scenario", *[c for c in all_diffs.columns if c != "scenario"]]]
        all_diffs.to_csv(tmp / "differences.csv", index=False)
        # the pairs behind every difference: row (scenario, replicate), one column per id
        pd.concat([by_replicate(f, replicates, posterior).assign(scenario=n)
                   for n, f in frames.items()], ignore_index=True).pipe(
            lambda f: f[["scenario", *f.columns[:-1]]]).to_csv(
            tmp / "indicators_by_replicate.csv", index=False)
        pd.concat([t.assign(scenario=n) for n, t in retention.items()]).to_csv(
            tmp / "retention.csv", index=False)
        pd.concat([t.assign(scenario=n) for n, t in munis.items()]).to_csv(
            tmp / "municipalities.csv", index=False)
        pd.concat([t.assign(scenario=n) for n, t in yearly.items()]).to_csv(
            tmp / "yearly.csv", index=False)
        (tmp / "summary.json").write_text(json.dumps(_json_safe({
            "reference": ref_name, "seed": seed, "replicates": replicates,
            "scenarios": {n: summary(f, context_only=bool(departures(sc.params, sc.inputs)))
                          for (n, f), sc in zip(frames.items(), scenarios, strict=True)},
            "differences": {n: d.set_index("indicator").to_dict(orient="index")
                            for n, d in diffs.items()},
        }), indent=2, ensure_ascii=False), encoding="utf-8")
        fig = {
            "hazard": figures.hazard_figure(frames, figs / "timing_of_moves.png",
                                            {n: sc.params.rights_years
                                             for n, sc in zip(names, scenarios, strict=True)}),
            "retention": figures.ensemble_retention_figure(retention, figs / "retention.png"),
            "destinations": figures.destination_split_figure(frames, figs / "destinations.png"),
            "out_shares": figures.out_share_figure(
                {n: [s.municipalities["out_migration_share_2010_2016"] for s in r]
                 for n, r in zip(names, results, strict=True)},
                figs / "out_migration_shares.png"),
            "concentration": figures.concentration_figure(yearly, figs / "concentration.png"),
        }
        maps = []
        for n in names:
            maps.append(figures.map_figure(
                munis[n], geo, figs / f"map_{slugs[n]}.png", "net_secondary_migration_per_1000",
                f"{n}: net secondary migration per 1,000 inhabitants", "per 1,000"))
        for n in names[1:]:
            d = munis[n][["municipality"]].copy()
            d["difference"] = (munis[n]["net_secondary_migration_per_1000"].to_numpy()
                               - munis[ref_name].set_index("municipality").loc[
                                   munis[n]["municipality"],
                                   "net_secondary_migration_per_1000"].to_numpy())
            maps.append(figures.map_figure(
                d, geo, figs / f"map_difference_{slugs[n]}.png", "difference",
                f"{n} minus {ref_name}: net secondary migration per 1,000",
                "difference in persons per 1,000 inhabitants",
                note=f"red: more net in-migration than in {ref_name}\n"
                     f"blue: less than in {ref_name}\ncircle area: population"))
        man = {n: {**manifest(s, seed, replicates, jobs, r, timings),
                   "posterior_draws": posterior,
                   "posterior_parameters": drawn_parameters(s, posterior)}
               for n, s, r in zip(names, scenarios, results, strict=True)}
        (tmp / "manifest.json").write_text(json.dumps(_json_safe(man), indent=2),
                                           encoding="utf-8")
        changes = _municipality_changes(munis, names)
        changes.to_csv(tmp / "municipality_differences.csv", index=False)
        (tmp / "report.html").write_text(
            _report(scenarios, names, diffs, fig, maps, seed, replicates, changes, posterior),

            encoding="utf-8")
    return Path(out)


def _municipality_changes(munis: dict[str, pd.DataFrame], names: list[str]) -> pd.DataFrame:
    """Per municipality and scenario: change against the reference in persons settled, net
    secondary migration and the welfare-pressure proxy (per 1,000 inhabitants)."""
    ref = munis[names[0]].set_index("municipality")
    cols = ["persons_settled", "net_secondary_migration_per_1000",
            "net_without_work_or_with_health_needs_per_1000", "out_migration_share_2010_2016",
            "end_stock"]
    rows = []
    for n in names[1:]:
        other = munis[n].set_index("municipality").reindex(ref.index)
        d = (other[cols] - ref[cols]).add_prefix("change_")
        d.insert(0, "scenario", n)
        d.insert(1, "name", ref["name"])
        d.insert(2, "county", ref["county"])
        d.insert(3, "population", ref["population"])
        rows.append(d.reset_index())
    return pd.concat(rows, ignore_index=True) if rows else pd.DataFrame()


def _in_words(name: str, d: pd.DataFrame) -> str:
    """One sentence per scenario: the main differences, in words, with intervals."""
    parts = []
    by = d.set_index("indicator")
    for key in BRIEF_IDS:
        if key not in by.index:
            continue
        words = describe(key)
        text, kind = words.label, words.kind
        r = by.loc[key]
        ref, new = report.value(r["reference_mean"], kind), report.value(r["scenario_mean"], kind)
        unit = " points" if kind == "share" else ""
        diff, lo, hi = (number(r[c], kind, signed=True) for c in ("difference", "p5", "p95"))
        diff += unit
        noise = " — within noise" if r["within_noise"] else ""
        parts.append(f"{text}: {new} against {ref} ({diff}, 5-95 % {lo} to {hi}{noise})")
    return (f"<li><b>{report.esc(name)}</b>: " + "; ".join(report.esc(p) for p in parts)
            + ".</li>")


RULE_LEVERS = ("rights_years", "rights_cost", "job_move_exemption", "rights_self_sufficiency",
               "rights_delay_share", "programme_years")
#: the no-rule effect at the band's edges and centre (written by docs/make_policy.py with
#: calibration/rule_band.py; the same table as docs/policy/rule_band.csv)
RULE_BAND = files("simulation") / "data" / "rule_band.csv"


def rule_band_note(scenarios: list[Scenario]) -> str:
    """For a comparison that changes the rights rule: how much its answer rests on the band
    that pins the rule's cost (the shipped rule-band table), in words."""
    ref = scenarios[0].params
    if not any(s.params[k] != ref[k] for s in scenarios[1:] for k in RULE_LEVERS):
        return ""
    try:
        band = pd.read_csv(io.StringIO(RULE_BAND.read_text(encoding="utf-8")))
    except (OSError, ValueError):
        return ""
    rows = {str(r.point).split(" (")[0]: r for r in band.itertuples()}
    if not {"fit", "band lower edge", "band centre", "band upper edge"} <= rows.keys():
        return ""

    def effect(key: str) -> str:
        return number(rows[key].retention_5y_difference, "share", signed=True) + " points"

    return (
        "<p><b>How much of this rests on an assumption.</b> The rule's cost "
        "(<code>rights_cost</code>) is pinned only by a band the project chose for the "
        "register's \"no marked break after year 5\" (the year-6/year-5 leaving-hazard ratio "
        "within 0.8-1.25). For the calibrated baseline, removing the rule changes 5-year "
        f"retention by {effect('fit')} at the fitted cost; by {effect('band centre')} at the "
        f"cost that puts the ratio at the band's centre, {effect('band upper edge')} at its "
        f"upper edge and {effect('band lower edge')} at its lower edge. Differences above "
        "that turn on the rule should be read with that range (docs/policy.md; intervals "
        "include the fitted cost's own uncertainty only with <code>--posterior K</code>).</p>")


def _context_note(scenarios: list[Scenario], names: list[str]) -> str:
    """Which scenarios are counterfactuals, for which the register is context only."""
    rows = [(n, departures(s.params, s.inputs)) for n, s in zip(names, scenarios, strict=True)]
    rows = [(n, d) for n, d in rows if d]
    if not rows:
        return ""
    return ("<p class='small'>Counterfactuals (the register figures, which describe today's "
            "rules, are context for these, not a check): "
            + "; ".join(f"<b>{report.esc(n)}</b> ({report.esc(', '.join(d))})" for n, d in rows)
            + ".</p>")


def _unique_names(names: list[str]) -> list[str]:
    out: list[str] = []
    for n in names:
        candidate, i = n, 2
        while candidate in out:
            candidate, i = f"{n}_{i}", i + 1
        out.append(candidate)
    return out


def _change_tables(changes: pd.DataFrame) -> str:
    if changes.empty:
        return ""
    html = []
    cols = {"name": "municipality", "county": "county", "population": "population",
            "change_persons_settled": "change in persons settled",
            "change_net_secondary_migration_per_1000": "change in net in-migration per 1,000",
            "change_net_without_work_or_with_health_needs_per_1000":
                "of which without work or with health needs"}
    for scenario, part in changes.groupby("scenario", sort=False):
        part = part.reindex(part["change_net_secondary_migration_per_1000"].abs()
                            .sort_values(ascending=False).index).head(10)
        kinds = {"municipality": "text", "county": "text", "population": "count",
                 "change in persons settled": "count",
                 "change in net in-migration per 1,000": "per1000",
                 "of which without work or with health needs": "per1000"}
        html.append(f"<p>{report.esc(scenario)}: the 10 municipalities whose net secondary "
                    "migration changes most (per 1,000 inhabitants; means over runs):</p>"
                    + report.table(part[list(cols)].rename(columns=cols), kinds=kinds))
    return "".join(html)


def _report(scenarios: list[Scenario], names: list[str], diffs: dict[str, pd.DataFrame],
            fig: dict[str, Path], maps: list[Path], seed: int, replicates: int,
            changes: pd.DataFrame, posterior: int = 0) -> str:
    ref = names[0]
    runs = (f"{posterior * replicates} times ({posterior} posterior parameter draws x "
            f"{replicates} replicates)" if posterior else f"{replicates} times")
    draws_text = " and parameter draws" if posterior else ""
    uncertainty = (", so it includes the uncertainty of the calibrated parameters"
                   if posterior else " (stochastic variation only)")
    described = "".join(f"<li><b>{report.esc(n)}</b>: {report.esc(s.schema.description)}</li>"
                        for n, s in zip(names, scenarios, strict=True))
    sections = [
        ("The answer in short", (
            f"<p>Each scenario was run {runs} with the same random seeds{draws_text} as the "
            f"reference <b>{report.esc(ref)}</b> (common random numbers, scenario seed {seed}), "
            "so the differences below are paired: the interval is the 5th-95th percentile of "
            f"the difference over the paired runs{uncertainty}. Differences marked "
            "<i>within noise</i> cannot be told apart from zero.</p>"
            f"<ul>{described}</ul>"
            f"<p>In words, against <b>{report.esc(ref)}</b>:</p><ul>"
            + "".join(_in_words(n, d) for n, d in diffs.items()) + "</ul>"
            + report.table(_difference_table(diffs, names, common_rights_years(scenarios)))
            + "<p class='small'>The counts of municipalities that lost at least 80 %, 90 % or "
              "all of those they settled are compared over the municipalities that settle in "
              "both scenarios (in each pair of runs), so a scenario that stops settling "
              "somewhere does not lower the count merely by leaving it out.</p>"
            + rule_band_note(scenarios)
            + _context_note(scenarios, names))),
        ("Timing of moves", report.image(
            fig["hazard"], "Yearly share leaving the settlement municipality, by year since "
            "settlement; the rights window ends at the dotted line.")),
        ("Secondary migration over time", report.image(
            fig["retention"], "Retention curves of the scenarios (bands: 5-95 % of "
            "replicates).")),
        ("Where movers go", report.image(fig["destinations"], "Destination split.")),
        ("Municipalities", report.image(fig["out_shares"], "Municipal out-migration shares.")
         + "".join(report.image(p, caption) for p, caption in zip(
             maps, [f"{n}: net secondary migration per 1,000 inhabitants" for n in names]
             + [f"{n} minus {ref}: net secondary migration per 1,000 inhabitants"
                for n in names[1:]], strict=True))
         + _change_tables(changes)),
        ("Concentration", report.image(fig["concentration"], "Concentration over time.")),
        ("Files", "<p class='small'>differences.csv (all indicators, paired and unpaired "
                  "spread), municipality_differences.csv (every municipality), retention.csv, "
                  "municipalities.csv, yearly.csv (per scenario), summary.json, "
                  "manifest.json.</p>"),
    ]
    return report.page("secmig comparison: " + " vs ".join(names),
                       "Secondary migration of refugees in Norway: scenarios against "
                       f"{ref}", sections)

"""Comparing scenarios run with the same replicate seeds: paired differences with intervals.

Because replicate i of every scenario uses the same seed (and the engine's random streams are
keyed by decision, year and household), the difference of an indicator within a replicate
pair removes most of the stochastic noise both runs share; its spread over pairs is the
interval reported. A difference whose 5-95 % interval contains zero is marked "within noise".
"""

from __future__ import annotations

import io
import json
from dataclasses import fields
from importlib.resources import files
from pathlib import Path
from typing import Any

import pandas as pd

from simulation.analysis.indicators import count_at_least
from simulation.analysis.outcomes import (
    DIMENSION_WORDS,
    DIMENSIONS,
    MEASURE_WORDS,
    MEASURES,
    subgroup_words,
)
from simulation.analysis.registry import (
    BRIEF_IDS,
    GROUP_THRESHOLD,
    OUT_SHARE_CUTS,
    describe,
    group_keys,
    headline_ids,
)
from simulation.analysis.targets import departures
from simulation.inputs.defaults import AllocationPolicy
from simulation.inputs.scenario import Scenario
from simulation.reports import figures
from simulation.reports import html as report
from simulation.reports.atomic import atomic_directory
from simulation.reports.numbers import number
from simulation.runs.ensemble import (
    ReplicateSummary,
    aggregate_matching,
    aggregate_municipalities,
    aggregate_retention,
    aggregate_yearly,
    indicator_frame,
    interval,
)
from simulation.runs.fiscal import fiscal_differences, moves_money
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
    out-share counts are over the municipalities that settle in both (:func:`settling_in_both`)
    and that the counts of the second reading (emigrants counted as having left) are left
    out: the runs keep no per-municipality share of that reading to restrict them with, and
    unrestricted they would show the artefact :func:`settling_in_both` removes."""
    a, b = settling_in_both(ref_runs, other_runs)
    second = [c for c in reference.columns
              if c.startswith("municipalities_by_out_share_counting_emigrants")]
    ref, oth = reference.drop(columns=second), other.drop(columns=second, errors="ignore")
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
        municipalities.csv, yearly.csv, summary.json, manifest.json, figures/ and report.html;
        when a scenario's allocation differs from the reference's, also who_gains.csv and
        who_gains_by_replicate.csv (:func:`who_gains`) and the report's "Who gains and who
        pays".

    Example:
        >>> scenarios = [load_scenario(f"scenarios/{n}.yaml") for n in ("baseline", "no-rule")]
        >>> results = run_many([(s.params, s.inputs) for s in scenarios], seed=1,
        ...                    replicates=4, outcomes=True)                  # doctest: +SKIP
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
    changes = _municipality_changes(munis, names)
    # who gains and who pays: only for the scenarios whose allocation is not the reference's
    # (and summaries that carry the outcome tables, as run_replicate's do)
    reallocated = [n for n, sc, r in zip(names[1:], scenarios[1:], results[1:], strict=True)
                   if allocation_changes(scenarios[0].inputs.allocation, sc.inputs.allocation)
                   and not any(s.outcomes.empty for s in (*results[0], *r))]
    gains = {n: who_gains(results[0], results[names.index(n)], frames[ref_name], frames[n],
                          changes[changes["scenario"] == n]) for n in reallocated}
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
        changes.to_csv(tmp / "municipality_differences.csv", index=False)
        # what placement by matching did each year, for the scenarios that match
        per_scenario = {n: aggregate_matching(r) for n, r in zip(names, results, strict=True)}
        matched = [t.assign(scenario=n) for n, t in per_scenario.items() if not t.empty]
        if matched:
            table = pd.concat(matched, ignore_index=True)
            table[["scenario", *table.columns[:-1]]].to_csv(tmp / "matching.csv", index=False)
        who_html = ""
        if gains:
            pd.concat([t.assign(scenario=n) for n, (t, _) in gains.items()],
                      ignore_index=True)[WHO_GAINS_COLUMNS].to_csv(
                tmp / "who_gains.csv", index=False)
            pd.concat([p.assign(scenario=n) for n, (_, p) in gains.items()],
                      ignore_index=True).pipe(lambda f: f[["scenario", *f.columns[:-1]]]).to_csv(
                tmp / "who_gains_by_replicate.csv", index=False)
            who_fig = figures.who_gains_figure({n: t for n, (t, _) in gains.items()},
                                               figs / "who_gains_retention.png", ref_name)
            who_html = "".join(
                _who_gains_section(n, ref_name, scenarios[0].inputs.allocation,
                                   scenarios[names.index(n)].inputs.allocation, t,
                                   changes[changes["scenario"] == n],
                                   who_fig if i == 0 else None)
                for i, (n, (t, _)) in enumerate(gains.items()))
        fiscal_html = _fiscal(names, results, geo, tmp)
        (tmp / "report.html").write_text(
            _report(scenarios, names, diffs, fig, maps, seed, replicates, changes, posterior,
                    who_html, fiscal_html),
            encoding="utf-8")
    return Path(out)


def _millions(nok: pd.Series) -> list[str]:
    return [f"{v / 1e6:+,.1f}" for v in nok]


def _every_municipality(m: pd.DataFrame) -> pd.DataFrame:
    """fiscal_differences' municipality table as the brief shows it: every municipality, the
    paired change of its net position with the interval, of its grants and of its costs."""
    m = m.sort_values("name")
    return pd.DataFrame({
        "municipality": m["name"].to_numpy(), "code": m["municipality"].to_numpy(),
        "net": _millions(m["change_net"]),
        "5-95 %": [f"{lo / 1e6:+,.1f} to {hi / 1e6:+,.1f}" for lo, hi in
                   zip(m["change_net_p5"], m["change_net_p95"], strict=True)],
        "grants": _millions(m["change_receipts"]), "costs": _millions(m["change_costs"])})


def _fiscal(names: list[str], results: list[list[ReplicateSummary]], geo: pd.DataFrame,
            tmp: Path) -> str:
    """The ledger in kroner (runs/fiscal.py): fiscal_by_municipality.csv,
    fiscal_by_type.csv and the report's section ('' if the runs kept no ledger)."""
    if any(r.ledger.empty for runs in results for r in runs):
        return ""
    facts = geo[["code", "name", "centrality", "population"]]
    by_muni, by_type, html = [], [], []
    for n, runs in zip(names[1:], results[1:], strict=True):
        m, t = fiscal_differences(results[0], runs, facts)
        by_muni.append(m.assign(scenario=n))
        by_type.append(t.assign(scenario=n))
        top = m.reindex(m["change_net"].abs().sort_values(ascending=False).index).head(10)
        html.append(
            f"<h3>{report.esc(n)} against {report.esc(names[0])}</h3><ul>"
            f"<li>{report.esc(moves_money(n, t, 'size'))}.</li>"
            f"<li>{report.esc(moves_money(n, t, 'centrality'))}.</li></ul>"
            + report.table(pd.DataFrame({
                "municipalities": [f"{'centrality ' if r.grouping == 'centrality' else ''}"
                                   f"{r.group}" for r in t.itertuples()],
                "number": t["municipalities"].to_numpy(),
                "grants, NOK million a year": _millions(t["change_receipts"]),
                "costs, NOK million a year": _millions(t["change_costs"]),
                "net, NOK million a year": _millions(t["change_net"]),
                "5-95 %": [f"{lo / 1e6:+,.1f} to {hi / 1e6:+,.1f}" for lo, hi in
                           zip(t["change_net_p5"], t["change_net_p95"], strict=True)]}),
                kinds={"municipalities": "text", "number": "count", "5-95 %": "text",
                       "grants, NOK million a year": "text",
                       "costs, NOK million a year": "text", "net, NOK million a year": "text"})
            + "<p>The ten municipalities whose net position changes most:</p>"
            + report.table(pd.DataFrame({
                "municipality": top["name"].to_numpy(),
                "net, NOK million a year": _millions(top["change_net"]),
                "grants": _millions(top["change_receipts"]),
                "costs": _millions(top["change_costs"])}),
                kinds={"municipality": "text", "net, NOK million a year": "text",
                       "grants": "text", "costs": "text"})
            + "<details><summary>Every municipality (alphabetical; NOK million a year, 2024 "
              "kroner; also in fiscal_by_municipality.csv)</summary>"
            + report.table(_every_municipality(m),
                           kinds={"municipality": "text", "code": "code", "5-95 %": "text",
                                  "net": "text", "grants": "text", "costs": "text"})
            + "</details>")
    pd.concat(by_muni, ignore_index=True).to_csv(tmp / "fiscal_by_municipality.csv",
                                                 index=False)
    pd.concat(by_type, ignore_index=True).to_csv(tmp / "fiscal_by_type.csv", index=False)
    return ("<p>The municipal ledger (docs/ledger.md): integration grants received, and the "
            "costs of the introduction stipend, social assistance, integration services and "
            "health needs, as yearly averages over the window in 2024 kroner; differences "
            "paired by seed. The grant rates are read for 2017 and estimated for the other "
            "years (docs/ledger.md).</p>"
            + "".join(html))


def _municipality_changes(munis: dict[str, pd.DataFrame], names: list[str]) -> pd.DataFrame:
    """Per municipality and scenario: change against the reference in persons and households
    settled, net secondary migration (persons and per 1,000 inhabitants), the welfare-pressure
    proxy (per 1,000 inhabitants), the out-migration share and the end stock (means over
    runs)."""
    ref = munis[names[0]].set_index("municipality")
    cols = ["persons_settled", "households_settled", "net_secondary_migration",
            "net_secondary_migration_per_1000", "net_without_work_or_with_health_needs_per_1000",
            "out_migration_share_2010_2016", "end_stock"]
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


# --- who gains and who pays: for every scenario that changes the allocation -----------------

KEYS = ["dimension", "subgroup", "measure"]
#: the columns of who_gains.csv (``persons``: mean over the reference's runs of the persons
#: a subgroup's value describes; ``persons_other``: the same in the other scenario)
WHO_GAINS_COLUMNS = ["scenario", *KEYS, "reference", "other", "difference_mean",
                     "difference_p5", "difference_p95", "persons", "persons_other"]
_OVER = f"municipalities_over_{GROUP_THRESHOLD:.0%}"
#: concentration rows (subgroup, measure) -> the indicator whose paired difference they are
CONCENTRATION = {("all", "hoover_index"): "hoover_index",
                 ("all", "share_in_10_largest"): "share_in_10_largest",
                 **{(key.removesuffix(f"_{_OVER}"), _OVER): f"group_concentration.{key}"
                    for key in group_keys() if key.endswith(_OVER)}}
SETTLING = "settling_municipalities"
SETTLING_CLASSES = ("fewer", "same", "more")
#: measure -> (kind, words) of the municipality classes' rows
SETTLING_MEASURES = {
    "households_settled": ("count", "households settled"),
    "persons_settled": ("count", "persons settled"),
    "net_secondary_migration": ("count", "net secondary migration (persons)"),
    "net_secondary_migration_per_1000": ("per1000", "net secondary migration per 1,000 "
                                                    "inhabitants"),
}
#: a subgroup smaller than this share of its dimension (in either scenario) is left out of
#: the sentences (its difference is in the tables and the CSV): a few hundred persons make
#: no headline
MIN_SENTENCE_SHARE = 0.02


def allocation_changes(reference: AllocationPolicy, other: AllocationPolicy) -> list[str]:
    """The fields of two allocation policies that differ: a comparison shows who gains and
    who pays for every scenario whose allocation is not the reference's (matching,
    exclusions, quotas, continuity).

    >>> allocation_changes(AllocationPolicy(), AllocationPolicy(exclude_below_population=5000))
    ['exclude_below_population']
    """
    return [f.name for f in fields(AllocationPolicy)
            if getattr(reference, f.name) != getattr(other, f.name)]


def outcome_frame(summaries: list[ReplicateSummary], column: str = "value") -> pd.DataFrame:
    """One row per run, one column per (dimension, subgroup, measure) of the runs' outcome
    tables (``analysis.outcomes``): the shape :func:`paired_differences` pairs."""
    return pd.DataFrame([s.outcomes.set_index(KEYS)[column] for s in summaries],
                        index=pd.Index([s.replicate for s in summaries], name="replicate"))


def settling_classes(change: pd.DataFrame) -> dict[str, pd.Index]:
    """Municipalities by how the other scenario changes the households settled there (the
    mean change over the pairs of runs, ``change_households_settled`` of
    :func:`_municipality_changes` for one scenario): at least half a household ``fewer``,
    at least half a household ``more``, or the ``same``."""
    by = change.set_index("municipality")["change_households_settled"]
    return {"fewer": by.index[by <= -0.5], "same": by.index[(by > -0.5) & (by < 0.5)],
            "more": by.index[by >= 0.5]}


def _settling_frame(summaries: list[ReplicateSummary], classes: dict[str, pd.Index]
                    ) -> pd.DataFrame:
    """Per run, per class of municipalities together: households and persons settled, net
    secondary migration in persons and per 1,000 inhabitants (sums of the per-municipality
    table the summaries carry)."""
    rows = []
    for s in summaries:
        munis = s.municipalities.set_index("municipality")
        row: dict[tuple[str, str, str], float] = {}
        for cls, codes in classes.items():
            part = munis.reindex(codes)
            net = float(part["net_secondary_migration"].sum())
            pop = float(part["population"].sum())
            row[(SETTLING, cls, "households_settled")] = float(part["households_settled"].sum())
            row[(SETTLING, cls, "persons_settled")] = float(part["persons_settled"].sum())
            row[(SETTLING, cls, "net_secondary_migration")] = net
            row[(SETTLING, cls, "net_secondary_migration_per_1000")] = (
                1000.0 * net / pop if pop else float("nan"))
        rows.append(row)
    return pd.DataFrame(rows, index=pd.Index([s.replicate for s in summaries],
                                             name="replicate"))


def _who_gains_frame(summaries: list[ReplicateSummary], indicators: pd.DataFrame,
                     classes: dict[str, pd.Index]) -> pd.DataFrame:
    """Every number of the section per run: subgroup outcomes, concentration indicators and
    the municipality classes' sums, columns (dimension, subgroup, measure)."""
    conc = {k: i for k, i in CONCENTRATION.items() if i in indicators}
    concentration = indicators[list(conc.values())].set_axis(
        pd.MultiIndex.from_tuples([("concentration", *k) for k in conc]), axis=1)
    frame = pd.concat([outcome_frame(summaries), concentration,
                       _settling_frame(summaries, classes)], axis=1)
    return frame.astype(float)


def who_gains(ref_runs: list[ReplicateSummary], other_runs: list[ReplicateSummary],
              reference: pd.DataFrame, other: pd.DataFrame, change: pd.DataFrame
              ) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Who gains and who pays when the other scenario changes the allocation: the paired
    differences (other minus reference, per pair of runs with the same seed, then mean and
    5-95 % over pairs, by :func:`paired_differences`) of every subgroup outcome, of the
    concentration indicators and of the municipalities settling more, as many or fewer
    households.

    Args:
        ref_runs, other_runs: the two scenarios' summaries in run order (the same seeds).
        reference, other: their indicator frames (``runs.ensemble.indicator_frame``).
        change: :func:`_municipality_changes` rows of the other scenario (classes the
            municipalities by the mean change in households settled).

    Returns:
        ``(table, pairs)``. ``table``: one row per (dimension, subgroup, measure) with
        ``reference``, ``other`` (means over runs), ``difference_mean``, ``difference_p5``,
        ``difference_p95``, ``within_noise``, ``persons``, ``persons_other`` (subgroup
        outcomes only; NaN for the concentration and municipality rows). ``pairs``: the
        pairs behind it, one row per pair of runs and row of ``table``.
    """
    classes = settling_classes(change)
    a = _who_gains_frame(ref_runs, reference, classes)
    b = _who_gains_frame(other_runs, other, classes)
    d = paired_differences(a, b)
    order = {k: i for i, k in enumerate(a.columns)}  # the tables' order, not the pairing's
    d = d.assign(order=[order[k] for k in d["indicator"]]).sort_values("order")
    pa, pb = outcome_frame(ref_runs, "persons"), outcome_frame(other_runs, "persons")
    table = pd.DataFrame(d["indicator"].tolist(), columns=KEYS)
    table["reference"] = d["reference_mean"].to_numpy()
    table["other"] = d["scenario_mean"].to_numpy()
    table["difference_mean"] = d["difference"].to_numpy()
    table["difference_p5"] = d["p5"].to_numpy()
    table["difference_p95"] = d["p95"].to_numpy()
    table["within_noise"] = d["within_noise"].to_numpy()
    table["persons"] = [float(pa[k].mean()) if k in pa else float("nan")
                        for k in d["indicator"]]
    table["persons_other"] = [float(pb[k].mean()) if k in pb else float("nan")
                              for k in d["indicator"]]
    pairs = pd.concat([pd.DataFrame({
        "replicate": a.index.to_numpy(), "dimension": k[0], "subgroup": k[1], "measure": k[2],
        "reference": a[k].to_numpy(float), "other": b[k].to_numpy(float),
        "difference": b[k].to_numpy(float) - a[k].to_numpy(float),
        "persons": pa[k].to_numpy(float) if k in pa else float("nan"),
        "persons_other": pb[k].to_numpy(float) if k in pb else float("nan")})
        for k in table[KEYS].itertuples(index=False, name=None)], ignore_index=True)
    return table, pairs


def _unit(kind: str) -> str:
    return {"share": " points", "amount": " G"}.get(kind, "")


def _difference(row: Any, kind: str, unit: bool = True) -> str:
    """'+2.3 points [1.0, 3.4]': a paired difference with its 5-95 % interval, in words
    (without the unit for a table whose header names it)."""
    d, lo, hi = (number(row[c], kind, signed=True)
                 for c in ("difference_mean", "difference_p5", "difference_p95"))
    return f"{d}{_unit(kind) if unit else ''} [{lo}, {hi}]"


def _difference_cell(row: Any, kind: str, unit: bool = True, of: bool = True) -> str:
    """A table cell: the paired difference and interval (grey within noise), over the
    reference's value unless the table has a column for it."""
    if row["difference_mean"] != row["difference_mean"]:
        return report.Raw("<span class='noise'>–</span>")
    cls = "noise" if row["within_noise"] else ""
    base = (f"<br><span class='small'>of {report.value(row['reference'], kind)}"
            f"{_unit(kind) if kind == 'amount' else ''}</span>" if of else "")
    return report.Raw(f"<span class='{cls}'>{report.esc(_difference(row, kind, unit))}</span>"
                      + base)


def _allocation_words(ref: AllocationPolicy, other: AllocationPolicy) -> str:
    """What the other allocation changes, field by field, in a few words."""
    def show(field: str, value: Any) -> str:
        if field == "matching":
            if value is None:
                return "no matching"
            goal = ", ".join(f"{k} {v:g}" for k, v in value.objective.items())
            return f"matching ({goal})"
        if field == "quotas":
            return "no quotas" if value is None else f"quotas for {len(value)} municipalities"
        if isinstance(value, tuple):
            return "[" + ", ".join(str(v) for v in value) + "]"
        return str(value)

    parts = []
    for f in allocation_changes(ref, other):
        a, b = getattr(ref, f), getattr(other, f)
        if f in ("matching", "quotas"):
            parts.append(f"{show(f, a)} → {show(f, b)}")
        else:
            parts.append(f"{f.replace('_', ' ')}: {show(f, a)} → {show(f, b)}")
    return "; ".join(parts)


#: the dimensions whose subgroups are the same people in both scenarios (a centrality class
#: of the settlement municipality is whoever each scenario settles there)
PEOPLE = ("household_type", "country_group")


def _extremes(table: pd.DataFrame, measure: str, dimensions: tuple[str, ...]
              ) -> tuple[Any, Any] | None:
    """The rows of the largest rise and the largest fall of one outcome among the subgroups
    of ``dimensions`` that hold at least MIN_SENTENCE_SHARE of their dimension in both
    scenarios (a class one of them hardly settles in is no headline)."""
    t = table[(table["measure"] == measure) & table["dimension"].isin(list(dimensions))
              & table["difference_mean"].notna()]
    small = t[["persons", "persons_other"]].min(axis=1)
    size = t.groupby("dimension")["persons"].transform("sum")
    t = t[small >= MIN_SENTENCE_SHARE * size]
    if t.empty:
        return None
    return t.loc[t["difference_mean"].idxmax()], t.loc[t["difference_mean"].idxmin()]


def _measure_sentence(name: str, table: pd.DataFrame, measure: str) -> str:
    """One outcome in words: the people (household type, country group) the change helps
    most and those it costs most, then the same among centrality classes of the settlement
    municipality, each with its paired interval; changes within noise are not headlines."""
    words = MEASURE_WORDS[measure]
    kind = words.kind

    def who(row: Any) -> str:
        return subgroup_words(row["dimension"], row["subgroup"])

    def rise(row: Any) -> bool:
        return bool(row["difference_mean"] > 0 and not row["within_noise"])

    def fall(row: Any) -> bool:
        return bool(row["difference_mean"] < 0 and not row["within_noise"])

    text = ""
    people = _extremes(table, measure, PEOPLE)
    if people is not None:
        up, down = people
        parts = []
        if rise(up):
            parts.append(f"raises {words.phrase} most for {who(up)} ({_difference(up, kind)})")
        if fall(down):
            verb = "lowers it" if parts else f"lowers {words.phrase}"
            parts.append(f"{verb} most for {who(down)} ({_difference(down, kind)})")
        text = (f"{name} " + " and ".join(parts) if parts else
                f"{words.phrase[:1].upper()}{words.phrase[1:]}: no household type's or "
                "country group's change can be told apart from noise")
    places = _extremes(table, measure, ("settlement_centrality",))
    if places is not None:
        up, down = places

        def where(row: Any) -> str:  # "class 6 (least central)"
            return subgroup_words(row["dimension"], row["subgroup"], short=True).replace(
                "centrality", "class", 1)

        parts = []
        if rise(up):
            parts.append(f"rises most in {where(up)} ({_difference(up, kind)})")
        if fall(down):
            parts.append(f"falls most in {where(down)} ({_difference(down, kind)})")
        if parts:
            text += ("; " if text else f"{words.phrase[:1].upper()}{words.phrase[1:]}: ")
            text += ("by centrality of the settlement municipality (whoever each scenario "
                     "settles there) it " + " and ".join(parts))
    return f"<li>{report.esc(text)}.</li>" if text else ""


def _concentration_rows(table: pd.DataFrame, name: str, ref_name: str) -> pd.DataFrame:
    rows = []
    for r in table[table["dimension"] == "concentration"].to_dict(orient="records"):
        words = describe(CONCENTRATION[(r["subgroup"], r["measure"])])
        rows.append({"measure": words.title,
                     f"{ref_name} (reference)": report.value(r["reference"], words.kind),
                     name: report.value(r["other"], words.kind),
                     "difference [5-95 %]": _difference_cell(r, words.kind, of=False)})
    return pd.DataFrame(rows)


def _concentration_sentence(table: pd.DataFrame) -> str:
    """The national concentration measures, reference to other, with paired intervals."""
    t = table[(table["dimension"] == "concentration")
              & ((table["subgroup"] == "all") | (table["subgroup"] == "any_group"))]
    parts = []
    for r in t.to_dict(orient="records"):
        words = describe(CONCENTRATION[(r["subgroup"], r["measure"])])
        parts.append(f"{words.label}: {report.value(r['reference'], words.kind)} → "
                     f"{report.value(r['other'], words.kind)} "
                     f"({_difference(r, words.kind)})")
    return ("<li>Concentration at the end: " + report.esc("; ".join(parts)) + ".</li>"
            if parts else "")


def _settling_rows(table: pd.DataFrame, classes: dict[str, pd.Index]) -> pd.DataFrame:
    t = table[table["dimension"] == SETTLING].set_index(["subgroup", "measure"])
    names = {"fewer": "settle fewer households", "same": "settle as many",
             "more": "settle more households"}
    rows = []
    for cls in SETTLING_CLASSES:
        row: dict[str, Any] = {"municipalities that": names[cls],
                               "number": report.value(len(classes[cls]), "count")}
        for measure, (kind, words) in SETTLING_MEASURES.items():
            row[f"change in {words}"] = (_difference_cell(t.loc[(cls, measure)], kind)
                                         if (cls, measure) in t.index else "–")
        rows.append(row)
    return pd.DataFrame(rows)


def _settling_sentence(name: str, table: pd.DataFrame, classes: dict[str, pd.Index]) -> str:
    t = table[table["dimension"] == SETTLING].set_index(["subgroup", "measure"])
    parts = []
    for cls, verb in (("fewer", "fewer"), ("more", "more")):
        n = len(classes[cls])
        if not n:
            continue
        hh = t.loc[(cls, "households_settled")]
        persons = t.loc[(cls, "persons_settled")]
        net = t.loc[(cls, "net_secondary_migration")]
        per = t.loc[(cls, "net_secondary_migration_per_1000")]
        # households and persons: a matching that keeps each municipality's persons swaps
        # families for single persons, so the households change while the persons do not
        parts.append(
            f"the {n} municipalities that settle {verb} households "
            f"({number(hh['difference_mean'], 'count', signed=True)} households, "
            f"{number(persons['difference_mean'], 'count', signed=True)} persons in all) see "
            f"their net secondary migration change by "
            f"{_difference(net, 'count')} persons "
            f"({number(per['difference_mean'], 'per1000')} per 1,000 inhabitants)")
    if not parts:
        return (f"<li>{report.esc(name)} settles as many households as the reference in "
                "every municipality.</li>")
    text = "; ".join(parts)
    return "<li>" + report.esc(text[:1].upper() + text[1:]) + ".</li>"


def _who_gains_section(name: str, ref_name: str, ref: AllocationPolicy,
                       other: AllocationPolicy, table: pd.DataFrame, change: pd.DataFrame,
                       fig: Path | None) -> str:
    """The report's "Who gains and who pays" for one scenario: sentences, then the tables."""
    classes = settling_classes(change)
    html = [f"<h3>{report.esc(name)} against {report.esc(ref_name)}</h3>",
            f"<p>The allocation changes: {report.esc(_allocation_words(ref, other))}. "
            "Differences are paired (the same seeds), with the 5-95 % interval over the pairs "
            "of runs; grey: within noise.</p><ul>"]
    html.extend(_measure_sentence(name, table, m) for m in MEASURES)
    html.append(_concentration_sentence(table))
    html.append(_settling_sentence(name, table, classes) + "</ul>")
    if fig is not None:
        html.append(report.image(fig, "Difference in five-year retention by subgroup "
                                      "(dot: mean over pairs of runs; bar: 5-95 %)."))
    for dim in DIMENSIONS:
        part = table[table["dimension"] == dim]
        rows = []
        for group in DIMENSIONS[dim]:
            g = part[part["subgroup"] == group].set_index("measure")
            if g.empty:
                continue
            row: dict[str, Any] = {DIMENSION_WORDS[dim]: subgroup_words(dim, group, True),
                                   "persons (5-year retention)": report.value(
                                       g.loc["retention_5y", "persons"], "count")}
            for m in MEASURES:
                words = MEASURE_WORDS[m]
                unit = "G" if words.kind == "amount" else "points"
                row[f"{words.title}, difference in {unit}"] = _difference_cell(
                    g.loc[m], words.kind, unit=False)
            rows.append(row)
        html.append(report.table(pd.DataFrame(rows)))
    html.append("<p class='small'>Five-year retention: of the persons settled in the cohorts "
                "with five years in the run and still in Norway then, the share living in "
                "their settlement municipality; work and income: households settled at least "
                "five years before the end and still in Norway (share of persons in a "
                "household with an employed adult; mean household income in G); needs met: "
                "households with an education or health need at the end, the share living "
                "where every need is met. Persons: the reference's, mean over runs. "
                "Country groups and household types are the same people in both scenarios; "
                "a centrality class is whoever each scenario settles there (the class of the "
                "settlement municipality), so when the allocation moves people between "
                "classes its difference also reflects who is settled there.</p>")
    html.append("<p>Concentration at the end of the run:</p>"
                + report.table(_concentration_rows(table, name, ref_name)))
    html.append("<p>Municipalities by the change in households settled there (mean over "
                "pairs of runs), and how their net secondary migration changes (sums over "
                "the municipalities of each class):</p>"
                + report.table(_settling_rows(table, classes)))
    top = change.reindex(change["change_households_settled"].abs()
                         .sort_values(ascending=False).index).head(10).copy()
    for col in ("change_households_settled", "change_persons_settled"):
        top[col] = [number(v, "count", signed=True) for v in top[col]]
    cols = {"name": "municipality", "county": "county", "population": "population",
            "change_households_settled": "change in households settled",
            "change_persons_settled": "change in persons settled",
            "change_net_secondary_migration_per_1000": "change in net in-migration per 1,000"}
    kinds = {"municipality": "text", "county": "text", "population": "count",
             "change in net in-migration per 1,000": "per1000"}
    html.append("<p>The 10 municipalities whose households settled change most (means over "
                "runs):</p>" + report.table(top[list(cols)].rename(columns=cols), kinds=kinds))
    return "".join(html)


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
            changes: pd.DataFrame, posterior: int = 0, who_gains_html: str = "",
            fiscal_html: str = "") -> str:
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
            f"the difference over the paired runs{uncertainty}, placed so that it covers 90 % "
            "of such runs on average (from 19 runs on). Differences marked "
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
        *([("Who gains and who pays", who_gains_html)] if who_gains_html else []),
        *([("Kroner: what it moves between municipalities", fiscal_html)]
          if fiscal_html else []),
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
                  "manifest.json"
                  + (", who_gains.csv (every subgroup, concentration measure and class of "
                     "municipalities) and who_gains_by_replicate.csv (the pairs of runs behind "
                     "it)" if who_gains_html else "") + ".</p>"),
    ]
    return report.page("secmig comparison: " + " vs ".join(names),
                       "Secondary migration of refugees in Norway: scenarios against "
                       f"{ref}", sections)

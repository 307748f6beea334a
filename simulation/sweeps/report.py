"""A sweep's outputs for people: tidy tables, figures (index bars, Morris mu*-sigma, scatter of
each indicator against each parameter, PRIM boxes) and a self-contained report.html."""

from __future__ import annotations

import math
from collections.abc import Callable
from pathlib import Path

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt
import numpy as np
import pandas as pd

from simulation.inputs.parameters import BY_NAME
from simulation.reports import html as report
from simulation.sweeps.analysis import (
    RANK_BY,
    Box,
    condition_text,
    fmt_limit,
    noise_note,
    ranking,
)
from simulation.sweeps.spec import LEVERS, Sweep

BLUE, ORANGE, GREY = "#1f5f8b", "#d35400", "#9aa5ad"


def _grid(n: int, ncols: int = 3, w: float = 4.2, h: float = 3.4) -> tuple[plt.Figure, list]:
    ncols = max(1, min(ncols, n))
    nrows = math.ceil(n / ncols)
    fig, axes = plt.subplots(nrows, ncols, figsize=(w * ncols, h * nrows), dpi=110,
                             squeeze=False)
    flat = list(axes.ravel())
    for ax in flat[n:]:
        ax.set_visible(False)
    return fig, flat[:n]


def _save(fig: plt.Figure, path: Path) -> Path:
    fig.tight_layout()
    fig.savefig(path)
    plt.close(fig)
    return path


def index_bars(table: pd.DataFrame, design: str, path: Path) -> Path:
    """Per indicator, parameters ranked by the design's measure, with confidence bars."""
    inds = list(dict.fromkeys(table["indicator"]))
    fig, axes = _grid(len(inds), ncols=2, w=5.6, h=0.32 * table["parameter"].nunique() + 1.4)
    key = RANK_BY[design]
    for ax, ind in zip(axes, inds, strict=True):
        part = table[table["indicator"] == ind].sort_values(key)
        ypos = np.arange(len(part))
        if design == "sobol":
            ax.barh(ypos + 0.2, part["ST"], 0.4, xerr=part["ST_conf"], color=BLUE,
                    label="ST (total)")
            ax.barh(ypos - 0.2, part["S1"], 0.4, xerr=part["S1_conf"], color=ORANGE,
                    label="S1 (first order)")
            ax.legend(fontsize=7, loc="lower right")
        else:
            ax.barh(ypos, part[key], xerr=part[f"{key}_conf"], color=BLUE)
            if key == "delta" and "delta_noise_p95" in part:
                floor = float(part["delta_noise_p95"].iloc[0])
                ax.axvline(floor, ls="--", color=GREY, lw=1,
                           label="noise floor (95 % of shuffled runs)")
                ax.legend(fontsize=7, loc="lower right")
        ax.set_yticks(ypos, part["parameter"], fontsize=7)
        ax.set_title(ind, fontsize=9)
        ax.set_xlabel({"mu_star": "Morris mu* (indicator change across the range)",
                       "ST": "Sobol index", "delta": "delta (moment-independent)"}[key],
                      fontsize=8)
        ax.grid(axis="x", alpha=0.3)
    return _save(fig, path)


def morris_plane(table: pd.DataFrame, path: Path) -> Path:
    """Morris mu* against sigma: far right = influential; above the line sigma = mu* =
    non-linear or interacting."""
    inds = list(dict.fromkeys(table["indicator"]))
    fig, axes = _grid(len(inds), ncols=2, w=5.6, h=4.2)
    for ax, ind in zip(axes, inds, strict=True):
        part = table[table["indicator"] == ind]
        ax.scatter(part["mu_star"], part["sigma"], color=BLUE, zorder=3)
        top = part["mu_star"].max() or 1.0
        lim = max(top, part["sigma"].max() or 0) * 1.1
        ax.plot([0, lim], [0, lim], ls="--", color=GREY, lw=1, label="sigma = mu*")
        for r in part.nlargest(5, "mu_star").itertuples():
            ax.annotate(r.parameter, (r.mu_star, r.sigma), fontsize=7, xytext=(3, 3),
                        textcoords="offset points")
        ax.set_xlim(0, lim)
        ax.set_ylim(0, lim)
        ax.set_xlabel("mu* (mean absolute effect)", fontsize=8)
        ax.set_ylabel("sigma (spread of effects)", fontsize=8)
        ax.set_title(ind, fontsize=9)
        ax.legend(fontsize=7, loc="upper left")
    return _save(fig, path)


def scatter(sweep: Sweep, rows: pd.DataFrame, indicator: str, path: Path,
            box: Box | None) -> Path:
    """The indicator of every run against each parameter; runs meeting the discovery
    condition on this indicator in orange."""
    ok = rows[rows["status"] == "ok"]
    fig, axes = _grid(len(sweep.names), ncols=4, w=3.2, h=2.6)
    hit = box.meets(ok[indicator]).to_numpy() if box is not None and box.hits else None
    for ax, name in zip(axes, sweep.names, strict=True):
        colours = np.where(hit, ORANGE, BLUE) if hit is not None else BLUE
        ax.scatter(ok[name], ok[indicator], s=10, c=colours, alpha=0.6, linewidths=0)
        ax.set_xlabel(name, fontsize=7)
        ax.tick_params(labelsize=7)
        ax.grid(alpha=0.3)
    axes[0].set_ylabel(indicator, fontsize=8)
    fig.suptitle(f"{indicator} in each run" + (f" (orange: {box.condition})" if hit is not None
                                               else ""), fontsize=10)
    return _save(fig, path)


def prim_figure(sweep: Sweep, box: Box, path: Path) -> Path:
    """Left: PRIM's peeling path (coverage against density; the chosen box circled). Right:
    the box's range of each restricted parameter within its swept range."""
    fig, (left, right) = plt.subplots(1, 2, figsize=(10, 3.8), dpi=110)
    t = box.trajectory
    sc = left.scatter(t["coverage"], t["density"], c=t["res_dim"], cmap="viridis", s=14)
    left.scatter([box.coverage], [box.density], s=120, facecolors="none", edgecolors=ORANGE,
                 linewidths=2, label="chosen box")
    fig.colorbar(sc, ax=left, label="restricted parameters")
    left.set_xlabel("coverage")
    left.set_ylabel("density")
    left.set_title("PRIM peeling trajectory", fontsize=9)
    left.legend(fontsize=7)
    factors = {f.name: f for f in sweep.factors}
    for i, r in enumerate(box.limits.itertuples()):
        f = factors[r.parameter]
        lo, hi = (r.low - f.low) / (f.high - f.low), (r.high - f.low) / (f.high - f.low)
        right.barh(i, 1, color="#e6eaed")
        right.barh(i, hi - lo, left=lo, color=BLUE)
        right.text(1.01, i, f"{fmt_limit(r.low)} .. {fmt_limit(r.high)}", va="center",
                   fontsize=7)
    right.set_yticks(range(len(box.limits)), box.limits["parameter"], fontsize=7)
    right.set_xlim(0, 1.35)
    right.set_xlabel("position in the swept range (0 = low, 1 = high)", fontsize=8)
    right.set_title(f"Box: {box.condition}", fontsize=9)
    return _save(fig, path)


def _factor_table(sweep: Sweep) -> pd.DataFrame:
    rows = []
    for f in sweep.factors:
        meta = BY_NAME.get(f.name) or LEVERS[f.name]
        rows.append({"parameter": f.name, "swept as": f.describe(), "unit": meta.unit,
                     "meaning": meta.meaning})
    return pd.DataFrame(rows)


def _ranking_html(table: pd.DataFrame, design: str, label: Callable[[str], str]) -> str:
    key = RANK_BY[design]
    items = []
    for ind, ranked in ranking(table, design).items():
        words = label(ind)
        top = ", ".join(f"<b>{report.esc(p)}</b> ({key} {v:.3g})" for p, v in ranked[:3])
        items.append(f"<li><code>{report.esc(ind)}</code> ({report.esc(words)}): {top}"
                     f"{report.esc(noise_note(table, ind))}</li>")
    return f"<ul>{''.join(items)}</ul>"


HOW_TO_READ = {
    "morris": "Morris elementary effects: <b>mu*</b> is the mean absolute change in the "
              "indicator when a parameter moves across its swept range (in the indicator's "
              "units; 0.05 on a retention share = 5 percentage points); <b>sigma</b> is their "
              "spread. A parameter far to the right matters; one above the dashed line "
              "(sigma > mu*) acts non-linearly or through interactions. Morris screens: use "
              "it to find the few parameters worth a Sobol analysis.",
    "sobol": "Sobol indices: <b>S1</b> is the share of the indicator's variance explained by "
             "the parameter alone, <b>ST</b> by the parameter including all its interactions. "
             "ST much larger than S1 means interactions; ST near 0 means the parameter can be "
             "fixed. Bars show 95 % bootstrap confidence intervals.",
    "delta": "Borgonovo's <b>delta</b> (moment-independent: how much the whole distribution of "
             "the indicator shifts when the parameter is known) and the first-order index "
             "<b>S1</b>, estimated from the design's points; bars show 95 % confidence "
             "intervals. delta is biased upwards at a few hundred points: the dashed line "
             "(<code>delta_noise_p95</code>) is the 95th percentile of delta with the "
             "indicator shuffled across the points, where no parameter has any influence; a "
             "bar below it cannot be told from none.",
}


def write_report(sweep: Sweep, rows: pd.DataFrame, table: pd.DataFrame, boxes: list[Box],
                 out: Path, seconds: float | None = None,
                 spreads: pd.DataFrame | None = None) -> Path:
    """Figures into ``out/figures`` and ``out/report.html`` (self-contained)."""
    figs = out / "figures"
    figs.mkdir(parents=True, exist_ok=True)
    for old in figs.glob("*.png"):  # a condition or indicator dropped since the last report
        old.unlink()
    sch = sweep.schema
    ok = int((rows["status"] == "ok").sum()) if not rows.empty else 0
    failed = len(rows) - ok
    total = len(sweep.unit_points()) * sch.replicates
    compute = float(rows["duration_s"].sum()) if not rows.empty else 0.0
    run_facts = pd.DataFrame([
        {"item": "base scenario", "value": str(sweep.base.name)},
        {"item": "design", "value": f"{sch.design} (samples {sch.samples}"
                                    + (f", {sch.levels} levels" if sch.design == "morris"
                                       else "") + ")"},
        {"item": "design points x replicates", "value": f"{total // sch.replicates} x "
                                                        f"{sch.replicates} = {total} runs"},
        {"item": "runs finished / failed / not yet run",
         "value": f"{ok} / {failed} / {total - len(rows)}"},
        {"item": "compute time (sum over runs)", "value": f"{compute / 60:.1f} min"
                                                          + (f"; wall {seconds / 60:.1f} min"
                                                             if seconds else "")},
        {"item": "seed", "value": str(sch.seed)},
    ])
    if sweep.variant is not None:
        run_facts = pd.concat([run_facts, pd.DataFrame([{
            "item": "compared scenario (at every point, same seeds)",
            "value": f"{sweep.variant.name}: its paired difference from the base is analysed "
                     "as effect.<indicator>"}])], ignore_index=True)
    sections = [("What was run", report.table(run_facts) + report.table(_factor_table(sweep)))]
    if spreads is not None and not spreads.empty:
        where = ("over the posterior draws: the spread the calibration leaves open"
                 if sch.design == "posterior" else
                 "over the design's points: the spread of the swept ranges, not an "
                 "uncertainty interval")
        shown = spreads.copy()
        for c in ("p5", "median", "p95", "sd_between_points", "sd_replicates"):
            shown[c] = shown[c].map(lambda v: f"{v:.4g}")
        sections.append(("How much the indicators vary", f"<p>Each indicator {where} (5th, "
                         "50th and 95th percentile of the points' means), beside the runs' "
                         "own noise (the replicates' sd within a point).</p>"
                         + report.table(shown)))
    left_out = table.attrs.get("warnings", [])
    if left_out:  # indicators the analysis had to leave out, with why
        sections.append(("Left out of the analysis", "<ul>" + "".join(
            f"<li>{report.esc(w)}</li>" for w in left_out) + "</ul>"))
    measure = "delta" if sch.design in ("grid", "random", "lhs", "posterior") else sch.design
    if table.empty:
        sections.append(("Which parameters matter", "<p class='note'>Not enough finished runs "
                         "for sensitivity indices yet: rerun the same command to resume.</p>"))
    else:
        body = ("<p>Most influential parameters per indicator:</p>"
                + _ranking_html(table, sch.design, sweep.outcome_label)
                + f"<p class='small'>{HOW_TO_READ[measure]}</p>"
                + report.image(index_bars(table, sch.design, figs / "indices.png"),
                               "Sensitivity indices per indicator"))
        if sch.design == "morris":
            body += report.image(morris_plane(table, figs / "morris_mu_sigma.png"),
                                 "Morris mu* against sigma")
        if int(table["points"].min()) < len(sweep.unit_points()):
            body += ("<p class='note'>The sweep is not finished: these indices use "
                     f"{int(table['points'].min())} of {len(sweep.unit_points())} design "
                     "points.</p>")
        sections.append(("Which parameters matter", body))
    by_indicator = {b.discovery.indicator: b for b in boxes}
    for d, box in zip(sch.discover, boxes, strict=True):
        body = f"<p>{report.esc(box.sentence())}</p>"
        if not box.limits.empty:
            lim = box.limits.rename(columns={"qp": "quasi-p"})
            body += report.table(lim) + report.image(
                prim_figure(sweep, box, figs / f"prim_{_safe(condition_text(d))}.png"),
                f"PRIM box for {box.condition}")
            body += ("<p class='small'>Coverage: share of the runs meeting the condition that "
                     "lie in the box. Density: share of the runs in the box that meet it. A "
                     "quasi-p value above 0.05 means that restriction may be chance.</p>")
        sections.append((f"Scenario discovery: {box.condition}", body))
    if ok:
        body = "".join(report.image(
            scatter(sweep, rows, ind, figs / f"scatter_{_safe(ind)}.png",
                    by_indicator.get(ind)), f"{ind} against each parameter")
            for ind in sweep.outcomes)
        sections.append(("Every run", body))
    if failed:
        bad = rows[rows["status"] != "ok"][["run_id", "point", "replicate", "error"]].head(20)
        sections.append(("Failed runs", report.table(bad)))
    sections.append(("Files", "<p class='small'>runs/ (Parquet parts, one row per run; "
                     "<code>pandas.read_parquet('runs')</code>), runs.csv, design.csv, "
                     "indices.csv, discovery.csv, figures/. See docs/sweeps.md.</p>"))
    html = report.page(f"Sensitivity sweep: {sch.name}", sch.description or sweep.path.name,
                       sections)
    path = out / "report.html"
    tmp = out / ".report.html.tmp"
    tmp.write_text(html, encoding="utf-8")
    tmp.replace(path)
    return path


def _safe(text: str) -> str:
    return "".join(c if c.isalnum() or c in "._-" else "_" for c in text)

"""Figures: PNGs that a reader would rather look at than read (matplotlib, no display)."""

from __future__ import annotations

from pathlib import Path

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt
import numpy as np
import pandas as pd

from simulation.analysis.indicators import count_at_least
from simulation.analysis.intervals import HIGH, LOW, quantile
from simulation.analysis.outcomes import DIMENSION_WORDS, DIMENSIONS, MEASURE_WORDS, subgroup_words
from simulation.analysis.registry import OUT_SHARE_CUTS
from simulation.inputs.defaults import register


def _retention_floor(*values: np.ndarray | list[float]) -> float:
    """Lower end of a retention axis that shows the whole curve (and its band): 0.4, or lower
    in steps of 0.1 when a curve falls below it."""
    flat = np.concatenate([np.asarray(v, dtype=np.float64).ravel() for v in values])
    flat = flat[~np.isnan(flat)]
    low = float(flat.min()) if len(flat) else 0.4
    return max(0.0, min(0.4, np.floor((low - 0.03) * 10) / 10))


def register_retention_points() -> list[tuple[int, float, float, str]]:
    """(k, retention, tolerance, label) points from the register targets."""
    by_id = {t["id"]: t for t in register()["targets"]}
    pts = [
        (1, 1 - by_id["moved_in_settlement_year"]["value"],
         by_id["moved_in_settlement_year"]["tolerance"], "moved in settlement year (2007-16)"),
        (5, by_id["retention_5y_cohorts_2013_2015"]["value"],
         by_id["retention_5y_cohorts_2013_2015"]["tolerance"], "R(5), cohorts 2013-15"),
        (5, by_id["retention_5y_cohort_2010"]["value"],
         by_id["retention_5y_cohort_2010"]["tolerance"], "R(5), cohorts 2009-10"),
        (7, by_id["retention_7y"]["value"], by_id["retention_7y"]["tolerance"],
         "R(7), cohorts 2010-16"),
    ]
    moved2 = by_id["moved_by_end_of_year_2"]
    for cohort, v in moved2["value"].items():
        pts.append((2, 1 - v, moved2["tolerance"], f"moved by end of year 2 ({cohort})"))
    return pts


# --- ensemble figures: one or several scenarios overlaid (label -> aggregated table) --------

COLOURS = ("#1f5f8b", "#d35400", "#27ae60", "#8e44ad", "#7f8c8d", "#c0392b", "#16a085")


def _save(fig: plt.Figure, path: Path) -> Path:
    fig.tight_layout()
    fig.savefig(path)
    plt.close(fig)
    return path


def ensemble_retention_figure(retention: dict[str, pd.DataFrame], path: Path) -> Path:
    """Pooled retention R(k) of cohorts 2010-2016 (mean and 5-95 % band) with register points."""
    fig, ax = plt.subplots(figsize=(7.5, 4.6), dpi=120)
    lows = []
    for (label, table), colour in zip(retention.items(), COLOURS, strict=False):
        t = table[(table["dimension"] == "pooled_2010_2016")].sort_values(
            "years_since_settlement")
        k = [0, *t["years_since_settlement"]]
        ax.plot(k, [1.0, *t["share"]], marker="o", ms=3, color=colour, label=label)
        ax.fill_between(k, [1.0, *t["p5"]], [1.0, *t["p95"]], color=colour, alpha=0.2)
        lows.append(t["p5"].to_numpy())
    markers = iter("sDv^<>")
    for k, value, tol, label in register_retention_points():
        ax.errorbar([k], [value], yerr=[tol], fmt=next(markers, "o"), color="black",
                    capsize=4, ms=5, label=f"register: {label}")
    ax.set_xlabel("years since settlement (k)")
    ax.set_ylabel("share living in settlement municipality")
    ax.set_title("Retention R(k), cohorts 2010-2016 pooled (band: 5-95 % of replicates)",
                 fontsize=10)
    ax.set_ylim(_retention_floor(*lows) if lows else 0.4, 1.02)
    ax.grid(alpha=0.3)
    ax.legend(fontsize=7, loc="lower left")
    return _save(fig, path)


def destination_split_figure(indicators: dict[str, pd.DataFrame], path: Path) -> Path:
    """Where secondary movers go: Oslo, same county, other county (mean, 5-95 %), register."""
    keys = ("oslo", "same_county", "other_county")
    reg = next(t for t in register()["targets"] if t["id"] == "destination_split_of_movers")
    fig, ax = plt.subplots(figsize=(7, 4), dpi=120)
    width = 0.8 / (len(indicators) + 1)
    x = np.arange(len(keys))
    for i, ((label, frame), colour) in enumerate(zip(indicators.items(), COLOURS, strict=False)):
        cols = [f"destination_split_of_movers.{k}" for k in keys]
        mean = frame[cols].mean().to_numpy()
        lo = mean - quantile(frame[cols].to_numpy(), LOW, axis=0)
        hi = quantile(frame[cols].to_numpy(), HIGH, axis=0) - mean
        ax.bar(x + i * width, mean, width, yerr=[lo, hi], color=colour, capsize=3, label=label)
    ax.bar(x + len(indicators) * width, [reg["value"][k] for k in keys], width,
           yerr=reg["tolerance"], color="#bbbbbb", hatch="//", capsize=3,
           label="register (cohorts 2005-14)")
    ax.set_xticks(x + width * len(indicators) / 2,
                  ["to Oslo", "within the county", "to another county"])
    ax.set_ylabel("share of persons leaving the settlement municipality")
    ax.set_title("Destination of secondary movers", fontsize=10)
    ax.legend(fontsize=7)
    ax.grid(axis="y", alpha=0.3)
    return _save(fig, path)


def hazard_figure(indicators: dict[str, pd.DataFrame], path: Path, rights_years: dict[str, float]
                  ) -> Path:
    """Timing of moves: the yearly hazard of leaving the settlement municipality by year since
    settlement (mean and 5-95 %), with each scenario's end of the rights window marked."""
    fig, ax = plt.subplots(figsize=(7.5, 4.2), dpi=120)
    for (label, frame), colour in zip(indicators.items(), COLOURS, strict=False):
        cols = sorted((c for c in frame.columns if c.startswith("leaving_hazard_by_year.")),
                      key=lambda c: int(c.rsplit(".", 1)[1]))
        k = [int(c.rsplit(".", 1)[1]) for c in cols]
        ax.plot(k, frame[cols].mean(), marker="o", ms=3, color=colour, label=label)
        ax.fill_between(k, quantile(frame[cols].to_numpy(), LOW, axis=0),
                        quantile(frame[cols].to_numpy(), HIGH, axis=0),
                        color=colour, alpha=0.2)
        years = rights_years.get(label, 0)
        if years:
            ax.axvline(years + 0.5, color=colour, ls=":", lw=1.5)
    ax.set_xlabel("year since settlement (1 = the settlement year)")
    ax.set_ylabel("share leaving the settlement municipality that year")
    ax.set_title("Timing of moves (dotted: end of each scenario's rights window)", fontsize=10)
    ax.grid(alpha=0.3)
    ax.legend(fontsize=7)
    return _save(fig, path)


def out_share_counts(shares: list[pd.Series]) -> dict[str, float]:
    """Mean over runs of the number of municipalities at or above each register cut: the
    same numbers as the indicator ``municipalities_by_out_share`` (one count function)."""
    return {key: float(np.mean([count_at_least(s, cut) for s in shares]))
            for key, cut in OUT_SHARE_CUTS.items()}


def out_share_figure(shares: dict[str, list[pd.Series]], path: Path) -> Path:
    """Distribution of municipal out-migration shares (persons settled 2010-2016): the mean
    over runs of each run's histogram, so the bars at and above 80 % add up to the mean count
    shown in the legend and in the report's table."""
    targets = {t["id"]: t for t in register()["targets"]}
    reg = targets["municipalities_by_out_share"]["value"]
    fig, ax = plt.subplots(figsize=(7, 4), dpi=120)
    bins = np.linspace(0, 1, 21)
    for (label, runs), colour in zip(shares.items(), COLOURS, strict=False):
        # nudge by the count's rounding tolerance, so that a share of 0.8 lands in [0.8, 0.85)
        hist = np.mean([np.histogram(np.clip(s.dropna().to_numpy(np.float64) + 1e-12, 0, 1),
                                     bins=bins)[0] for s in runs], axis=0)
        counts = out_share_counts(runs)
        ax.stairs(hist, bins, lw=2, color=colour,
                  label=f"{label}: {counts['at_least_80pct']:.0f} at >= 80 %, "
                        f"{counts['at_least_90pct']:.0f} at >= 90 % (mean per run)")
    for cut in (0.8, 0.9):
        ax.axvline(cut, color="grey", ls="--", lw=1)
    ax.set_xlabel("share of persons settled 2010-2016 no longer living there on the last "
                  "1 January")
    ax.set_ylabel("municipalities (mean per run)")
    ax.set_title(f"Municipal out-migration shares (register, 2010-2016 under today's rules: "
                 f"{reg['at_least_80pct']} at >= 80 %, {reg['at_least_90pct']} at >= 90 %, "
                 f"{reg['all_100pct']} at 100 %)", fontsize=8)
    ax.legend(fontsize=7, loc="upper left")
    return _save(fig, path)


def concentration_figure(yearly: dict[str, pd.DataFrame], path: Path) -> Path:
    """Concentration over time: Hoover index and share in the 10 largest municipalities."""
    fig, axes = plt.subplots(1, 2, figsize=(10, 4), dpi=120)
    for (label, table), colour in zip(yearly.items(), COLOURS, strict=False):
        for ax, col in zip(axes, ("hoover_index", "share_in_10_largest"), strict=True):
            ax.plot(table["year"], table[col], color=colour, marker="o", ms=3, label=label)
            ax.fill_between(table["year"], table[f"{col}_p5"], table[f"{col}_p95"],
                            color=colour, alpha=0.2)
    axes[0].set_title("Hoover index against the population (0 = spread like everyone)",
                      fontsize=9)
    axes[1].set_title("Share living in the 10 largest municipalities", fontsize=9)
    for ax in axes:
        ax.set_xlabel("end of year")
        ax.grid(alpha=0.3)
    axes[1].legend(fontsize=7)
    return _save(fig, path)


def who_gains_figure(tables: dict[str, pd.DataFrame], path: Path, reference: str,
                     measure: str = "retention_5y") -> Path:
    """Who gains and who pays: the paired difference of one outcome (scenario minus
    ``reference``) for every subgroup, a dot at the mean and a bar over the 5-95 % interval
    of the replicate pairs, grouped by dimension; one colour per scenario.

    ``tables``: scenario -> its who-gains table (``dimension``, ``subgroup``, ``measure``,
    ``difference_mean``, ``difference_p5``, ``difference_p95``), as
    ``runs.compare.who_gains`` makes it. A subgroup that one run has no one in shows no dot.
    """
    words = MEASURE_WORDS[measure]
    scale, unit = (100.0, "percentage points") if words.kind == "share" else (1.0, "G")
    labels: list[str] = []
    keys: list[tuple[str, str] | None] = []
    for dim, groups in DIMENSIONS.items():
        if keys:
            labels.append("")
            keys.append(None)
        labels.append(DIMENSION_WORDS[dim])
        keys.append(None)
        labels.extend(f"  {subgroup_words(dim, g, short=True)}" for g in groups)
        keys.extend((dim, g) for g in groups)
    y = {k: -i for i, k in enumerate(keys) if k is not None}
    fig, ax = plt.subplots(figsize=(7.5, 0.26 * len(labels) + 1.4), dpi=120)
    offsets = np.linspace(-0.2, 0.2, len(tables)) if len(tables) > 1 else [0.0]
    for (label, table), colour, dy in zip(tables.items(), COLOURS, offsets, strict=False):
        t = table[(table["measure"] == measure) & table["dimension"].isin(list(DIMENSIONS))]
        t = t[t["difference_mean"].notna()]
        pos = np.array([y[(d, g)] for d, g in zip(t["dimension"], t["subgroup"], strict=True)],
                       dtype=np.float64) + dy
        mean = scale * t["difference_mean"].to_numpy(np.float64)
        lo = mean - scale * t["difference_p5"].to_numpy(np.float64)
        hi = scale * t["difference_p95"].to_numpy(np.float64) - mean
        ax.errorbar(mean, pos, xerr=[np.maximum(lo, 0), np.maximum(hi, 0)], fmt="o", ms=4,
                    color=colour, capsize=2, lw=1, label=f"{label} minus {reference}")
    ax.axvline(0, color="grey", lw=1)
    ax.set_yticks([-i for i in range(len(labels))], labels, fontsize=7)
    for tick, key in zip(ax.get_yticklabels(), keys, strict=True):
        if key is None:
            tick.set_fontweight("bold")
    ax.tick_params(axis="y", length=0)
    ax.set_ylim(-len(labels) + 0.4, 0.6)
    ax.set_xlabel(f"difference in {words.title} ({unit})")
    ax.set_title(f"Who gains and who pays: {words.title} by subgroup\n(dot: mean over pairs "
                 "of runs with the same seed; bar: 5-95 %)", fontsize=9)
    ax.grid(axis="x", alpha=0.3)
    # below the axes (the saved figure grows to hold it): inside, it hid the points of the
    # last rows, where the gains are largest
    ax.legend(fontsize=7, loc="upper center", bbox_to_anchor=(0.5, -0.5 / len(labels) - 0.07),
              ncol=1, frameon=False)
    fig.tight_layout()
    fig.savefig(path, bbox_inches="tight")
    plt.close(fig)
    return path


#: municipalities labelled on the maps when there is room (largest first, then the north)
MAP_LABELS = ("0301", "4601", "5001", "1103", "4204", "3301", "3107", "5501", "1804", "3907",
              "1508", "3403", "4203", "5401")


def _place_labels(ax: plt.Axes, data: pd.DataFrame) -> None:
    """Name the municipalities of MAP_LABELS where a label fits: each tries eight positions
    around its point and is skipped when all overlap a label already placed."""
    renderer = ax.figure.canvas.get_renderer()
    frame = ax.get_window_extent(renderer)
    placed: list = []
    offsets = ((4, 4), (4, -10), (-4, 4), (-4, -10), (8, -3), (-8, -3), (0, 8), (0, -14))
    by_code = data.set_index("code")
    for code in MAP_LABELS:
        if code not in by_code.index:
            continue
        row = by_code.loc[code]
        for dx, dy in offsets:
            text = ax.annotate(row["name"], (row["lon"], row["lat"]), xytext=(dx, dy),
                               textcoords="offset points", fontsize=7,
                               ha="left" if dx >= 0 else "right",
                               bbox={"boxstyle": "round,pad=0.1", "fc": "white", "ec": "none",
                                     "alpha": 0.7})
            box = text.get_window_extent(renderer).expanded(1.05, 1.1)
            inside = frame.contains(box.x0, box.y0) and frame.contains(box.x1, box.y1)
            if inside and not any(box.overlaps(other) for other in placed):
                placed.append(box)
                break
            text.remove()


NET_NOTE = "red: more moved in than out\nblue: more moved out than in\ncircle area: population"


def map_figure(table: pd.DataFrame, geography: pd.DataFrame, path: Path, column: str,
               title: str, label: str, note: str = NET_NOTE) -> Path:
    """Norway as points at municipality coordinates, sized by population, coloured by
    ``column`` of ``table``, diverging around zero with the teaching app's convention (red:
    more moved in than out, blue: more moved out). Small circles are drawn over large ones, so
    every municipality stays visible; the colour scale is clipped at the 98th percentile of
    the absolute values (arrows on the colour bar)."""
    data = geography[["code", "name", "lat", "lon", "population"]].merge(
        table[["municipality", column]], left_on="code", right_on="municipality", how="left")
    data = data.sort_values("population", ascending=False, kind="stable")
    values = data[column].fillna(0.0).to_numpy(np.float64)
    limit = max(float(np.nanpercentile(np.abs(values), 98)), 1e-9)
    fig, ax = plt.subplots(figsize=(6.4, 7.4), dpi=130)
    sizes = 6 + 160 * np.sqrt(data["population"].to_numpy(np.float64)
                              / data["population"].max())
    sc = ax.scatter(data["lon"], data["lat"], s=sizes, c=values, cmap="RdBu_r", vmin=-limit,
                    vmax=limit, edgecolors="#555555", linewidths=0.3)
    oslo = (data["code"] == "0301").to_numpy()
    if oslo.any():  # Oslo's ring on top: its neighbours' circles never hide where it is
        ax.scatter(data["lon"][oslo], data["lat"][oslo], s=sizes[oslo], facecolors="none",
                   edgecolors="black", linewidths=1.0)
    ax.set_aspect(1 / np.cos(np.deg2rad(65)))
    ax.set_xlim(data["lon"].min() - 0.6, data["lon"].max() + 0.6)
    ax.set_ylim(data["lat"].min() - 0.4, data["lat"].max() + 0.4)
    ax.set_xticks([])
    ax.set_yticks([])
    for spine in ax.spines.values():
        spine.set_color("#cccccc")
    ax.set_title(title, fontsize=9)
    # the colour bar sits in the empty south-east corner (Sweden), so the map keeps its size
    cax = ax.inset_axes([0.50, 0.10, 0.44, 0.03])
    bar = fig.colorbar(sc, cax=cax, orientation="horizontal", extend="both")
    bar.set_label(label, fontsize=7)
    bar.ax.tick_params(labelsize=7)
    ax.text(0.97, 0.20, note, transform=ax.transAxes, ha="right", va="bottom", fontsize=7,
            color="#333333")
    fig.tight_layout()
    _place_labels(ax, data)
    fig.savefig(path)
    plt.close(fig)
    return path

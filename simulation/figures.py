"""Figures: PNGs that a reader would rather look at than read (matplotlib, no display)."""

from __future__ import annotations

from pathlib import Path

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt

from .indicators import retention_curve
from .inputs import register
from .results import Results


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


def retention_figure(res: Results, path: Path, cohorts: list[int] | None = None) -> Path:
    """Pooled retention curve R(k) of cohorts 2010-2016 with the register points."""
    cohorts = cohorts or [c for c in range(2010, 2017) if res.start <= c <= res.end]
    curve = retention_curve(res, cohorts)
    fig, ax = plt.subplots(figsize=(7, 4.5), dpi=120)
    ax.plot([0, *curve], [1.0, *curve.values()], marker="o", color="#1f5f8b",
            label=f"simulated, cohorts {min(cohorts)}-{max(cohorts)} (fewer cohorts beyond k = 7)")
    markers = iter("sDv^<>")
    for k, value, tol, label in register_retention_points():
        ax.errorbar([k], [value], yerr=[tol], fmt=next(markers, "o"), color="#c0392b",
                    capsize=4, label=f"register: {label}")
    ax.set_xlabel("years since settlement (k)")
    ax.set_ylabel("share living in settlement municipality")
    ax.set_title("Retention R(k): persons still in Norway, on 1 January of year cohort + k")
    ax.set_ylim(0.4, 1.02)
    ax.grid(alpha=0.3)
    ax.legend(fontsize=7, loc="lower left")
    fig.tight_layout()
    fig.savefig(path)
    plt.close(fig)
    return path

"""What the coverage check writes: tidy CSVs, a JSON summary and one figure."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np

from simulation.calibration.sbc import EFFECTS, LEVEL, Coverage
from simulation.reports.figures import _save, plt


def write_coverage(cov: Coverage, out: Path, meta: dict) -> dict:
    """coverage_parameters.csv, coverage_effects.csv, coverage.json, coverage.png."""
    out.mkdir(parents=True, exist_ok=True)
    cov.parameters.to_csv(out / "coverage_parameters.csv", index=False)
    cov.effects.to_csv(out / "coverage_effects.csv", index=False)
    summary = {**meta, **cov.summary(), "level": LEVEL}
    (out / "coverage.json").write_text(json.dumps(summary, indent=2) + "\n", encoding="utf-8")
    _figure(cov, out / "coverage.png")
    return summary


def _figure(cov: Coverage, path: Path) -> Path:
    p = cov.parameters
    fig, (a1, a2, a3) = plt.subplots(1, 3, figsize=(13, 0.22 * p["parameter"].nunique() + 2.5),
                                     dpi=110)
    by = p.groupby("parameter", sort=False)["covered"].mean()
    a1.barh(by.index[::-1], by.values[::-1], color="#2e6da4")
    a1.axvline(LEVEL, color="black", lw=0.8)
    a1.axvspan(0.85, 0.95, color="#1e7b34", alpha=0.1)
    a1.set_xlim(0, 1)
    a1.set_title(f"Share of truths whose {LEVEL:.0%} interval covers the truth", fontsize=8)
    a1.tick_params(labelsize=6)
    a2.hist(p["rank"], bins=10, range=(0, 1), color="#2e6da4")
    a2.axhline(len(p) / 10, color="black", lw=0.8)
    a2.set_title("Rank of the truth among the posterior draws\n(flat if the posterior is "
                 "calibrated)", fontsize=8)
    e = cov.effects
    for k, m in enumerate(EFFECTS):
        rows = e[e["measure"] == m].reset_index(drop=True)
        scale = max(float(np.nanmax(np.abs(rows[["p5", "p95", "true_effect"]].to_numpy()))),
                    1e-12) if len(rows) else 1.0
        y = np.arange(len(rows)) + 0.3 * k
        a3.hlines(y, rows["p5"] / scale, rows["p95"] / scale, color=f"C{k}", lw=2, label=m)
        a3.scatter(rows["true_effect"] / scale, y, color="black", s=8, zorder=3)
    a3.set_title("Policy effect (no rule - baseline): 90 % interval\nand truth (dot), scaled "
                 "to the largest", fontsize=8)
    a3.legend(fontsize=6)
    a3.set_xlabel("effect / largest |effect| of the measure", fontsize=7)
    return _save(fig, path)

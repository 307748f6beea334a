"""How much the rights rule's effect depends on the band that pins its cost.

The register says only that moving shows "no marked break after year 5"; the targets file
turns that into a band for the year-6 / year-5 leaving-hazard ratio (0.8-1.25, chosen by the
project, not published). The rule's cost (``rights_cost``) is what sets that ratio, so the
answer to "what if the rule were removed?" rests on where in the band the truth lies. This
module finds, with every other parameter at the fitted point, the cost that puts the ratio at
the band's lower edge, centre and upper edge, and runs the no-rule comparison at each and at
the fit, so an analyst sees the answer across the band and not only at one point.

    from simulation.calibration.rule_band import rule_effect_across_band
    table = rule_effect_across_band(params, inputs, seed=1, replicates=4)
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import pandas as pd

from simulation.inputs.defaults import Inputs
from simulation.inputs.parameters import BY_NAME, Params
from simulation.runs.ensemble import indicator_frame, interval, run_many

#: the band of the target ``no_break_after_year_5`` in calibration/targets.yaml
BAND = {"lower edge": 0.8, "centre": 1.025, "upper edge": 1.25}
RATIO = "no_break_after_year_5"
#: what the table reports of the no-rule comparison (difference no rule minus rule)
EFFECTS = ("retention_5y", "retention_3y", "moves_per_year", "share_in_10_largest")


def mean_ratio(params: Params, inputs: Inputs, seed: int, replicates: int, jobs: int) -> float:
    """The hazard ratio year 6 / year 5, averaged over replicates."""
    frame = indicator_frame(run_many([(params, inputs)], seed, replicates, jobs)[0])
    return float(frame[RATIO].mean())


def cost_for_ratio(params: Params, inputs: Inputs, target: float, *, seed: int,
                   replicates: int, jobs: int = 1, steps: int = 8) -> tuple[float, float]:
    """The ``rights_cost`` (other parameters fixed) whose ratio is nearest ``target``, by
    bisection inside the registry range (the ratio rises with the cost); and the ratio there.
    A target outside what the range can reach returns the nearer end of the range."""
    low, high = BY_NAME["rights_cost"].low, BY_NAME["rights_cost"].high

    def ratio(cost: float) -> float:
        return mean_ratio(params.replace(rights_cost=cost), inputs, seed, replicates, jobs)

    r_low, r_high = ratio(low), ratio(high)
    if target <= r_low:
        return low, r_low
    if target >= r_high:
        return high, r_high
    for _ in range(steps):
        mid = (low + high) / 2
        r_mid = ratio(mid)
        if r_mid < target:
            low, r_low = mid, r_mid
        else:
            high, r_high = mid, r_mid
    # the end of the last bracket nearer the target
    return (low, r_low) if abs(r_low - target) <= abs(r_high - target) else (high, r_high)


def rule_effect_across_band(params: Params, inputs: Inputs, *, seed: int, replicates: int,
                            jobs: int = 1, band: dict[str, float] | None = None,
                            effects: Sequence[str] = EFFECTS) -> pd.DataFrame:
    """One row per point (the fit, then the band's edges and centre): the rights cost, the
    hazard ratio it gives, and the no-rule minus rule difference of each ``effects``
    indicator (mean and 5-95 % interval over paired replicates)."""
    points = [("fit", float(params.rights_cost))]
    for name, target in (band or BAND).items():
        cost, _ = cost_for_ratio(params, inputs, target, seed=seed, replicates=replicates,
                                 jobs=jobs)
        points.append((f"band {name} ({target:g})", cost))
    rows = []
    for name, cost in points:
        rule = params.replace(rights_cost=cost)
        with_rule, without = run_many([(rule, inputs), (rule.replace(rights_years=0), inputs)],
                                      seed, replicates, jobs)
        a, b = indicator_frame(with_rule), indicator_frame(without)
        row: dict[str, float | str] = {"point": name, "rights_cost": cost,
                                       "hazard_ratio_6_5": float(a[RATIO].mean())}
        for ind in effects:
            mean, p5, p95 = interval(b[ind].to_numpy(float) - a[ind].to_numpy(float))
            row[f"{ind}_difference"], row[f"{ind}_p5"], row[f"{ind}_p95"] = mean, p5, p95
        rows.append(row)
    return pd.DataFrame(rows)


def ratio_reachable(table: pd.DataFrame, band: dict[str, float] | None = None) -> list[str]:
    """The band points whose ratio the cost could not reach (more than 0.05 away), to say so."""
    out = []
    for (name, target), (_, row) in zip((band or BAND).items(), table.iloc[1:].iterrows(),
                                        strict=True):
        if not np.isfinite(row["hazard_ratio_6_5"]) or abs(row["hazard_ratio_6_5"] - target) > 0.05:
            out.append(f"{name}: ratio {row['hazard_ratio_6_5']:.2f} at the end of the cost range")
    return out

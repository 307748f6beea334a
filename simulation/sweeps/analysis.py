"""What a sweep says: sensitivity indices per indicator (SALib) and scenario discovery (PRIM).

Indices use the mean over replicates at each design point. A sweep stopped midway can be
analysed too: Morris uses its complete trajectories, Sobol its complete blocks, and the
moment-independent delta measure (for grid, random and lhs designs) every finished point.
"""

from __future__ import annotations

import contextlib
import io
import sys
import warnings
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pandas as pd

from simulation.sweeps.spec import DELTA_MIN_POINTS, MORRIS_MIN_R, SOBOL_MIN_N, Discovery, Sweep

#: the measure each design's parameters are ranked by
RANK_BY = {"morris": "mu_star", "sobol": "ST", "grid": "delta", "random": "delta",
           "lhs": "delta", "posterior": "delta"}


def point_means(sweep: Sweep, rows: pd.DataFrame) -> pd.DataFrame:
    """Mean of each outcome (indicator, and paired effect with ``compare``) over the
    successful replicates at each design point (NaN where a point has none yet)."""
    n = len(sweep.unit_points())
    if rows.empty:
        return pd.DataFrame(index=range(n), columns=sweep.outcomes, dtype=float)
    ok = rows[rows["status"] == "ok"]
    return ok.groupby("point")[sweep.outcomes].mean().reindex(range(n))


def spread(sweep: Sweep, rows: pd.DataFrame) -> pd.DataFrame:
    """How much each indicator varies over the design's points, beside the runs' own noise:
    the 5th, 50th and 95th percentiles and the sd of the points' means, and the replicates'
    pooled sd within a point (NaN with one replicate). Over a ``posterior`` design the
    percentiles are the spread the calibration leaves; over a box, only the box's."""
    ok = rows[rows["status"] == "ok"] if not rows.empty else rows
    means = point_means(sweep, rows)
    out = []
    for ind in sweep.outcomes:
        y = means[ind].dropna().to_numpy(dtype=float)
        within = (ok.groupby("point")[ind].var(ddof=1).dropna() if not ok.empty
                  else pd.Series(dtype=float))
        p5, p50, p95 = np.quantile(y, [0.05, 0.5, 0.95]) if len(y) else (np.nan,) * 3
        out.append({"indicator": ind, "points": len(y), "p5": p5, "median": p50, "p95": p95,
                    "sd_between_points": float(np.std(y, ddof=1)) if len(y) > 1 else np.nan,
                    "sd_replicates": (float(np.sqrt(within.mean())) if len(within)
                                      else np.nan)})
    return pd.DataFrame(out)


def _complete_blocks(y: np.ndarray, size: int) -> np.ndarray:
    """Row mask keeping only whole blocks (trajectories, Saltelli blocks) without gaps."""
    whole = len(y) // size
    ok = ~np.isnan(y[: whole * size]).reshape(whole, size).any(axis=1)
    mask = np.zeros(len(y), dtype=bool)
    mask[: whole * size] = np.repeat(ok, size)
    return mask


def _quietly(fn: Callable[..., Any], *args: Any, **kwargs: Any) -> Any:
    """Call a SALib analyzer without its own prints and warnings (SALib's delta also changes
    the global warning format and filter: both are restored)."""
    fmt = warnings.formatwarning
    sink = io.StringIO()
    try:
        with warnings.catch_warnings(), contextlib.redirect_stderr(sink), \
                contextlib.redirect_stdout(sink):
            warnings.simplefilter("ignore")
            warnings.showwarning = lambda *a, **k: None  # SALib resets the filter to "once"
            return fn(*args, **kwargs)
    finally:
        warnings.formatwarning = fmt


def _say(message: str) -> None:
    print(f"warning: {message}", file=sys.stderr)


def indices(sweep: Sweep, rows: pd.DataFrame,
            warn: Callable[[str], None] | None = _say, jobs: int = 1,
            on_done: Callable[[int], None] | None = None) -> pd.DataFrame:
    """One row per (outcome, parameter): Morris mu*, sigma (with mu* confidence); Sobol S1,
    ST (with confidence intervals); or delta and S1 for the other designs. An outcome
    without enough finished points, or whose analysis fails or gives NaN (a stopped or
    partial sweep), is left out with a one-line warning (to ``warn``; also in the table's
    ``attrs["warnings"]``), never SALib's traceback or prints.

    Each outcome is analysed on its own, on up to ``jobs`` processes (delta over 60
    parameters takes about 20 s an outcome); the table is the same for any ``jobs``.
    ``on_done(1)`` follows each outcome (progress display)."""
    from simulation.runs.parallel import parallel_map

    sch = sweep.schema
    x = sweep.unit_points()
    means = point_means(sweep, rows)
    tasks = [(sch.design, sweep.problem, x, means[ind].to_numpy(dtype=float), sch.levels,
              sch.seed, ind) for ind in sweep.outcomes]
    found = parallel_map(analyse_outcome, tasks, jobs, on_done)
    out = [row for rows_, _ in found for row in rows_]
    notes = [note for _, note in found if note]
    table = pd.DataFrame(out)
    table.attrs["warnings"] = notes
    if warn is not None:
        for note in notes:
            warn(note)
    return table


def analyse_outcome(design: str, problem: dict[str, Any], x: np.ndarray, y: np.ndarray,
                    levels: int, seed: int, ind: str
                    ) -> tuple[list[dict[str, object]], str]:
    """The indices of one outcome ``ind`` (its point means ``y`` over the unit design
    ``x``): its table rows, or no rows and why it was left out."""
    p = problem["num_vars"]

    def skip(why: str) -> tuple[list[dict[str, object]], str]:
        return [], f"{ind}: no sensitivity indices ({why})"

    if design == "morris":
        from SALib.analyze import morris

        keep = _complete_blocks(y, p + 1)
        need = MORRIS_MIN_R * (p + 1)
        call = (morris.analyze, problem, x[keep], y[keep])
        kwargs: dict[str, Any] = {"num_levels": levels, "seed": seed}
        cols = ("mu_star", "mu_star_conf", "sigma", "mu")
        what = f"{MORRIS_MIN_R} complete trajectories"
    elif design == "sobol":
        from SALib.analyze import sobol

        keep = _complete_blocks(y, p + 2)
        need = SOBOL_MIN_N * (p + 2)
        call = (sobol.analyze, problem, y[keep])
        kwargs = {"calc_second_order": False, "seed": seed}
        cols = ("S1", "S1_conf", "ST", "ST_conf")
        what = f"{SOBOL_MIN_N} complete Saltelli blocks"
    else:
        from SALib.analyze import delta

        keep = ~np.isnan(y)
        need = DELTA_MIN_POINTS
        call = (delta.analyze, problem, x[keep], y[keep])
        kwargs = {"seed": seed}
        cols = ("delta", "delta_conf", "S1", "S1_conf")
        what = f"{DELTA_MIN_POINTS} finished points"
    done = int(keep.sum())
    if done < need:
        return skip(f"{done} finished point(s) usable; {design} needs {what}, {need} points")
    if np.ptp(y[keep]) == 0:
        return skip("it has the same value at every point: nothing to rank")
    try:
        res = dict(_quietly(*call, **kwargs))
    except Exception as err:  # SALib on a design it cannot analyse
        return skip(f"SALib could not analyse {done} points: {type(err).__name__}: {err}")
    if "delta" not in res and "delta_raw" in res:  # SALib >= 1.5: the classic estimator
        res["delta"], res["delta_conf"] = res["delta_raw"], res["delta_raw_conf"]
    values = {c: np.asarray(res.get(c, np.full(p, np.nan)), dtype=float) for c in cols}
    if not all(np.isfinite(v).all() for v in values.values()):
        bad = [c for c, v in values.items() if not np.isfinite(v).all()]
        return skip(f"SALib gave NaN for {', '.join(bad)} with {done} points; run more "
                    "points")
    if "delta" in cols:  # what delta gives a parameter without influence, at this size
        values.update(delta_noise(problem, x[keep], y[keep], seed))
    return [{"indicator": ind, "parameter": name, "points": done,
             **{c: float(values[c][i]) for c in values}}
            for i, name in enumerate(problem["names"])], ""


#: permutations of the indicator behind delta's noise floor
NOISE_PERMUTATIONS = 10


def delta_noise(problem: dict[str, Any], x: np.ndarray, y: np.ndarray, seed: int,
                permutations: int = NOISE_PERMUTATIONS) -> dict[str, np.ndarray]:
    """delta's noise floor: the estimator is biased upwards at a few hundred points, so a
    parameter without any influence gets a delta well above zero. The indicator is shuffled
    across the points ``permutations`` times (cutting every link to the parameters) and
    delta recomputed: ``delta_noise`` is the mean over all parameters and shuffles,
    ``delta_noise_p95`` their 95th percentile (the same for every parameter). A delta below
    ``delta_noise_p95`` cannot be told from no influence."""
    from SALib.analyze import delta

    rng = np.random.default_rng(seed)
    found = []
    for k in range(permutations):
        res = dict(_quietly(delta.analyze, problem, x, rng.permutation(y), seed=seed + k,
                            num_resamples=2))  # the bootstrap of each shuffle is not needed
        found.append(np.asarray(res.get("delta", res.get("delta_raw")), dtype=float))
    pooled = np.concatenate(found)
    p = len(problem["names"])
    return {"delta_noise": np.full(p, float(np.nanmean(pooled))),
            "delta_noise_p95": np.full(p, float(np.nanquantile(pooled, 0.95)))}


def noise_note(table: pd.DataFrame, indicator: str) -> str:
    """'; noise floor X' for a delta table (empty for other measures), to follow a ranking."""
    if "delta_noise_p95" not in table:
        return ""
    part = table[table["indicator"] == indicator]
    return "" if part.empty else f"; noise floor {float(part['delta_noise_p95'].iloc[0]):.3g}"


def ranking(table: pd.DataFrame, design: str) -> dict[str, list[tuple[str, float]]]:
    """Per indicator, the parameters from most to least influential (by the design's
    measure)."""
    key = RANK_BY[design]
    if table.empty:
        return {}
    return {ind: [(r.parameter, float(getattr(r, key))) for r in
                  part.sort_values(key, ascending=False).itertuples()]
            for ind, part in table.groupby("indicator", sort=False)}


# --- scenario discovery ----------------------------------------------------------------------

@dataclass
class Box:
    """A PRIM box: where in parameter space the condition mostly holds."""

    discovery: Discovery
    runs: int
    hits: int
    coverage: float = float("nan")  # share of the runs meeting the condition that fall inside
    density: float = float("nan")  # share of the runs inside that meet the condition
    mass: float = float("nan")  # share of all runs inside
    limits: pd.DataFrame = field(default_factory=pd.DataFrame)  # restricted parameters only
    trajectory: pd.DataFrame = field(default_factory=pd.DataFrame)  # PRIM's peeling path
    chosen: int = -1
    note: str = ""

    @property
    def condition(self) -> str:
        return condition_text(self.discovery)

    def meets(self, values: pd.Series) -> pd.Series:
        """Whether each value meets the condition."""
        d = self.discovery
        return values > d.above if d.above is not None else values < d.below

    def sentence(self) -> str:
        """The box in words, for the report and the terminal."""
        head = (f"{self.condition}: {self.hits} of {self.runs} runs "
                f"({100 * self.hits / max(self.runs, 1):.0f} %).")
        if self.limits.empty:
            return f"{head} {self.note}".strip()
        parts = [f"{r.parameter} {_range_words(r.low, r.high, r.restricted)}"
                 for r in self.limits.itertuples()]
        return (f"{head} PRIM box (coverage {self.coverage:.2f}, density "
                f"{self.density:.2f}): " + "; ".join(parts) + ".")


def fmt_limit(x: float) -> str:
    """A box limit for people: whole persons with a thin space, else three digits."""
    return f"{x:,.0f}".replace(",", " ") if abs(x) >= 1000 else f"{x:.3g}"


def _range_words(low: float, high: float, restricted: str) -> str:
    if restricted == "low":
        return f">= {fmt_limit(low)}"
    if restricted == "high":
        return f"<= {fmt_limit(high)}"
    return f"in [{fmt_limit(low)}, {fmt_limit(high)}]"


def condition_text(d: Discovery) -> str:
    return f"{d.indicator} {'>' if d.above is not None else '<'} " \
           f"{d.above if d.above is not None else d.below:g}"


def discover(sweep: Sweep, rows: pd.DataFrame, d: Discovery) -> Box:
    """PRIM (ema_workbench) on the finished runs: the box of parameter values where
    ``d``'s condition holds with density of at least ``d.threshold`` and the widest coverage
    (or the densest box, if none reaches the threshold)."""
    ok = rows[(rows["status"] == "ok") & rows[d.indicator].notna()] if not rows.empty else rows
    if ok.empty:
        return Box(d, 0, 0, note="No finished runs yet.")
    box = Box(d, len(ok), 0)
    y = box.meets(ok[d.indicator]).to_numpy()
    box.hits = int(y.sum())
    if box.hits == 0 or box.hits == box.runs:
        box.note = ("The condition never holds: nothing to explain." if box.hits == 0 else
                    "The condition always holds: nothing to explain.")
        return box
    x = ok[sweep.names].astype(float).reset_index(drop=True)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        from ema_workbench.analysis import prim

        found = prim.Prim(x, y, threshold=d.threshold).find_box()
    traj = found.peeling_trajectory.reset_index(drop=True)
    dense = traj[traj["density"] >= d.threshold]
    chosen = int(dense["coverage"].idxmax()) if not dense.empty else int(traj["density"].idxmax())
    found.select(chosen)
    lims, start = found.box_lims[chosen], found.box_lims[0]
    qp = found.qp[chosen] if chosen < len(found.qp) else {}
    limits = []
    for name in sweep.names:
        lo, hi = float(lims[name].iloc[0]), float(lims[name].iloc[1])
        cut_lo, cut_hi = lo > float(start[name].iloc[0]), hi < float(start[name].iloc[1])
        if cut_lo or cut_hi:
            q = [v for v in qp.get(name, []) if v >= 0]
            limits.append({"parameter": name, "low": lo, "high": hi,
                           "restricted": "both" if cut_lo and cut_hi else
                           ("low" if cut_lo else "high"),
                           "qp": min(q) if q else float("nan")})
    row = traj.loc[chosen]
    box.coverage, box.density, box.mass = (float(row["coverage"]), float(row["density"]),
                                           float(row["mass"]))
    box.limits, box.trajectory, box.chosen = pd.DataFrame(limits), traj, chosen
    if dense.empty:
        box.note = (f"No box reaches density {d.threshold:g}; this is the densest one found.")
    return box

"""Screening before fitting: which parameters do the register targets see at all?

A Morris screen (method of elementary effects, SALib's trajectory design) over every registry
parameter with a calibration prior, on every target moment of a calibration file. Each
trajectory starts at a point of a ``levels``-level grid over the prior box and moves one
parameter at a time by a Morris step (2/3 of its prior range with 4 levels); the change of a
target over one step is an elementary effect. Per parameter i and target j:

- mu*_ij / tol_j: the mean absolute change of target j over a Morris step of i, in units of
  the target's tolerance (the statistic that decides);
- sigma_ij / tol_j: the spread of the elementary effects (large against mu*: non-linear or
  interacting);
- mu_ij / tol_j: the signed mean (the direction).

Every point runs the same replicate seeds (common random numbers), so an elementary effect is
not blurred by seed noise; what noise remains is shown by the replicate-noise floor: the mean
absolute difference between two independent sets of replicate seeds at the same point (from
the replicates of every point), in tolerances. An effect below that floor cannot be told from
noise.

Decision rule (DECISION_RULE): a parameter is FREE if, for some target j, mu*_ij / tol_j >
``threshold`` (default 0.25: a Morris step moves the target by more than a quarter of its
tolerance) and mu*_ij is above that target's replicate-noise floor; otherwise it is FIXED at
its registry default, with the largest mu*/tol and its target as the reason.

Evaluations reuse the calibration's :class:`~simulation.calibration.fit.Evaluator`
(resumable log, parallel workers): a rerun replays the log instead of simulating again.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from dataclasses import replace as dc_replace
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from simulation.calibration.evaluations import Evaluator
from simulation.calibration.spec import Spec
from simulation.inputs.parameters import BY_NAME, calibration_parameters

THRESHOLD = 0.25
DECISION_RULE = ("FREE if some target moves by more than {threshold:g} of its tolerance per "
                 "Morris step (mu*/tol > {threshold:g}) and that effect is above the target's "
                 "replicate-noise floor; else FIXED at the registry default")


@dataclass
class Screening:
    """The outcome of a screen: statistics per (parameter, target) and the decision."""

    spec: Spec  # the screening spec: its free parameters are the screened ones
    trajectories: int
    levels: int
    threshold: float
    table: pd.DataFrame  # tidy: parameter, target, mu_star_over_tol, sigma_over_tol, ...
    noise: pd.Series  # replicate-noise floor per target, in tolerances
    free: list[str]
    fixed: list[str]
    runs: int
    free_share: pd.Series  # per parameter: share of trajectory bootstraps in which it is free

    def summary(self) -> pd.DataFrame:
        """Per parameter: the largest mu*/tol, its target, sigma/mu* there, the decision."""
        t = self.table
        idx = t.groupby("parameter", sort=False)["mu_star_over_tol"].idxmax()
        top = t.loc[idx].set_index("parameter")
        out = pd.DataFrame({
            "max_mu_star_over_tol": top["mu_star_over_tol"],
            "target": top["target"],
            "sigma_over_mu_star": top["sigma_over_tol"] / top["mu_star_over_tol"].where(
                top["mu_star_over_tol"] > 0),
            "noise_over_tol": top["noise_over_tol"],
        })
        above = (t["mu_star_over_tol"] > self.threshold) & (
            t["mu_star_over_tol"] > t["noise_over_tol"].fillna(0.0))
        out["targets_above"] = above.groupby(t["parameter"], sort=False).sum().astype(int)
        out["bootstrap_free_share"] = self.free_share
        out["decision"] = ["free" if p in self.free else "fixed" for p in out.index]
        return out.reindex(self.spec.names)


def screening_spec(spec: Spec, names: Sequence[str] | None = None, replicates: int = 2) -> Spec:
    """The calibration spec with every screened parameter free over its registry prior."""
    params = [BY_NAME[n] for n in names] if names is not None else list(
        calibration_parameters())
    missing = [p.name for p in params if p.prior is None]
    if missing:
        raise ValueError(f"no calibration prior for {missing}: only parameters with a prior "
                         "are screened (simulation/inputs/parameters.py PRIORS)")
    return dc_replace(spec, names=[p.name for p in params],
                      low=np.array([p.prior[0] for p in params], float),  # type: ignore[index]
                      high=np.array([p.prior[1] for p in params], float),  # type: ignore[index]
                      replicates=replicates, holdout=[])


def morris_design(k: int, trajectories: int, levels: int, seed: int) -> np.ndarray:
    """SALib's Morris trajectories on the unit cube: (trajectories * (k + 1)) x k. Each
    trajectory has its own seed (seed, t), so a longer screen extends a shorter one: a rerun
    with more trajectories reuses every logged point."""
    from SALib.sample import morris as morris_sample

    problem = {"num_vars": k, "names": [f"x{i}" for i in range(k)], "bounds": [[0.0, 1.0]] * k}
    return np.vstack([morris_sample.sample(
        problem, 1, num_levels=levels,
        seed=np.random.default_rng(np.random.SeedSequence([seed, 7, t])))
        for t in range(trajectories)])


def elementary_effects(z: np.ndarray, y: np.ndarray, k: int
                       ) -> tuple[list[list[np.ndarray]], int]:
    """Per parameter, the list of elementary effects (one vector over targets per trajectory):
    the change of y over the step in which only that parameter moved, signed for an increase."""
    ee: list[list[np.ndarray]] = [[] for _ in range(k)]
    n_traj = len(z) // (k + 1)
    for t in range(n_traj):
        rows = slice(t * (k + 1), (t + 1) * (k + 1))
        zt, yt = z[rows], y[rows]
        for s in range(k):
            dz = zt[s + 1] - zt[s]
            moved = np.flatnonzero(np.abs(dz) > 1e-12)
            if len(moved) != 1:
                raise ValueError(f"trajectory {t} step {s} moves {len(moved)} parameters")
            i = int(moved[0])
            ee[i].append((yt[s + 1] - yt[s]) * np.sign(dz[i]))
    return ee, n_traj


def run_screen(spec: Spec, log_path: Path, *, names: Sequence[str] | None = None,
               trajectories: int = 10, levels: int = 4, replicates: int = 2, jobs: int = 1,
               threshold: float = THRESHOLD, on_run: Callable[[int], None] | None = None
               ) -> Screening:
    """Screen the parameters (default: all with a prior) on the targets of ``spec``.

    Points are evaluated one trajectory at a time, so an interrupted screen loses at most
    one trajectory and a rerun resumes from the log.
    """
    sspec = screening_spec(spec, names, replicates)
    k = len(sspec.names)
    z = morris_design(k, trajectories, levels, sspec.seed)
    evaluator = Evaluator(sspec, log_path, jobs, on_run=on_run)
    try:
        reps: list[np.ndarray] = []  # per point: replicates x moments
        for t in range(trajectories):
            thetas = [sspec.theta(zz) for zz in z[t * (k + 1):(t + 1) * (k + 1)]]
            replayed = len({evaluator._key(th, "common", sspec.replicates) for th in thetas}
                           & set(evaluator.cache))
            if on_run and replayed:  # the progress counts runs replayed from the log too
                on_run(replayed * replicates)
            values = evaluator.evaluate(thetas)
            reps.extend(evaluator.moments(v, sspec.moments) for v in values)
    finally:
        evaluator.close()
    stack = np.array(reps)
    table = statistics(sspec, z, stack)
    free = decide(table, threshold)
    fixed = [n for n in sspec.names if n not in free]
    noise = table.drop_duplicates("target").set_index("target")["noise_over_tol"]
    share = bootstrap_free_share(sspec, z, stack, threshold)
    return Screening(sspec, trajectories, levels, threshold, table, noise, free, fixed,
                     len(z) * replicates, share)


def bootstrap_free_share(sspec: Spec, z: np.ndarray, stack: np.ndarray, threshold: float,
                         n: int = 200) -> pd.Series:
    """How stable each verdict is: the share of bootstrap resamples of the trajectories
    (drawn with replacement, no new runs) in which the parameter comes out free."""
    k = len(sspec.names)
    n_traj = len(z) // (k + 1)
    rng = np.random.default_rng(np.random.SeedSequence([sspec.seed, 11]))
    counts = dict.fromkeys(sspec.names, 0)
    for _ in range(n):
        idx = np.concatenate([np.arange(t * (k + 1), (t + 1) * (k + 1))
                              for t in rng.integers(0, n_traj, n_traj)])
        for p in decide(statistics(sspec, z[idx], stack[idx]), threshold):
            counts[p] += 1
    return pd.Series(counts, dtype=float) / n


def statistics(sspec: Spec, z: np.ndarray, stack: np.ndarray) -> pd.DataFrame:
    """The tidy table (parameter, target, mu*/tol, sigma/tol, mu/tol, noise/tol) from the
    design ``z`` and the simulated moments ``stack`` (points x replicates x moments)."""
    k = len(sspec.names)
    tol = np.array([m.tolerance for m in sspec.moments])
    ee, _ = elementary_effects(z, np.nanmean(stack, axis=1), k)
    noise = _noise_floor(stack)
    rows = []
    for i, name in enumerate(sspec.names):
        e = np.array(ee[i])  # trajectories x moments
        with np.errstate(invalid="ignore"):
            mu_star, mu, sigma = _nanmean(np.abs(e)), _nanmean(e), _nanstd(e)
        for j, m in enumerate(sspec.moments):
            rows.append({"parameter": name, "target": m.name,
                         "mu_star_over_tol": mu_star[j] / tol[j],
                         "sigma_over_tol": sigma[j] / tol[j], "mu_over_tol": mu[j] / tol[j],
                         "noise_over_tol": noise[j] / tol[j]})
    return pd.DataFrame(rows)


def _nanmean(a: np.ndarray) -> np.ndarray:
    n = np.sum(~np.isnan(a), axis=0)
    return np.where(n > 0, np.nansum(a, axis=0) / np.maximum(n, 1), np.nan)


def _nanstd(a: np.ndarray) -> np.ndarray:
    n = np.sum(~np.isnan(a), axis=0)
    m = _nanmean(a)
    ss = np.nansum((a - m) ** 2, axis=0)
    return np.where(n > 1, np.sqrt(ss / np.maximum(n - 1, 1)), np.nan)


def _noise_floor(stack: np.ndarray) -> np.ndarray:
    """Per moment: the mean absolute difference of the R-replicate mean between two
    independent seed sets at the same point, estimated at every point from its replicates
    (first half of the seeds against the second half, rescaled from h to R replicates).
    Conservative: with common seeds an elementary effect carries less noise than this."""
    r = stack.shape[1]
    if r < 2:
        return np.full(stack.shape[2], np.nan)
    h = r // 2
    a = np.nanmean(stack[:, :h], axis=1)
    b = np.nanmean(stack[:, h:2 * h], axis=1)
    # a - b has variance 2 sigma^2 / h; a difference of two R-replicate means has 2 sigma^2 / R
    diff = np.abs(a - b) * math.sqrt(h / r)
    return _nanmean(diff)


def decide(table: pd.DataFrame, threshold: float = THRESHOLD) -> list[str]:
    """The free parameters (in table order) under the decision rule (DECISION_RULE)."""
    t = table
    above = (t["mu_star_over_tol"] > threshold) & (
        t["mu_star_over_tol"] > t["noise_over_tol"].fillna(0.0))
    hit = set(t.loc[above, "parameter"])
    return [p for p in dict.fromkeys(t["parameter"]) if p in hit]


# --- outputs --------------------------------------------------------------------------------

def decision_doc(s: Screening) -> dict[str, Any]:
    """decision.yaml: the free list with priors, the fixed list with the reason."""
    summ = s.summary()

    def reason(p: str) -> dict[str, Any]:
        r = summ.loc[p]
        mx = r["max_mu_star_over_tol"]
        return {"max_mu_star_over_tol": None if pd.isna(mx) else round(float(mx), 4),
                "target": None if pd.isna(mx) else str(r["target"]),
                "bootstrap_free_share": round(float(r["bootstrap_free_share"]), 3)}

    free = {}
    for p in s.free:
        lo, hi = BY_NAME[p].prior  # type: ignore[misc]
        free[p] = {"low": float(lo), "high": float(hi), **reason(p)}
    fixed = {p: {"default": float(BY_NAME[p].default), **reason(p)} for p in s.fixed}
    return {
        "method": f"Morris elementary effects, {s.trajectories} trajectories, {s.levels} levels, "
                  f"{s.spec.replicates} replicates per point (common random numbers)",
        "rule": DECISION_RULE.format(threshold=s.threshold),
        "threshold": s.threshold,
        "targets_file": str(s.spec.path),
        "seed": s.spec.seed,
        "runs": s.runs,
        "free": free,
        "fixed": fixed,
    }


def summary_markdown(summary: pd.DataFrame) -> str:
    """The screen's summary as the markdown table of docs/calibration.md ('Screening'): free
    parameters first, each group by its largest effect (tests/test_screening.py checks that
    the doc quotes this table from the committed summary.csv)."""
    t = summary.reset_index() if "parameter" not in summary.columns else summary
    t = t.assign(free=t["decision"] == "free").sort_values(
        ["free", "max_mu_star_over_tol"], ascending=[False, False], kind="stable")
    lines = ["| parameter | prior | max mu\\*/tol | on target | sigma/mu\\* there | noise floor "
             "there | targets passing | free in bootstrap | decision |",
             "|---|---|---|---|---|---|---|---|---|"]
    for r in t.itertuples():
        p = BY_NAME[r.parameter]
        lo, hi = p.prior  # type: ignore[misc]
        decision = "**free**" if r.free else f"fixed at {p.default:g}"
        lines.append(f"| `{r.parameter}` | {lo:g} .. {hi:g} | {r.max_mu_star_over_tol:.2f} | "
                     f"{r.target} | {r.sigma_over_mu_star:.2f} | {r.noise_over_tol:.2f} | "
                     f"{int(r.targets_above)} | {100 * r.bootstrap_free_share:.0f} % | "
                     f"{decision} |")
    return "\n".join(lines)


def write_screening(s: Screening, out: Path) -> list[Path]:
    """screening.csv, summary.csv, decision.yaml and the two figures into ``out``."""
    import yaml

    out.mkdir(parents=True, exist_ok=True)
    paths = [out / "screening.csv", out / "summary.csv", out / "decision.yaml",
             out / "heatmap.png", out / "max_effect.png"]
    s.table.round(6).to_csv(paths[0], index=False)
    s.summary().round(6).to_csv(paths[1], index_label="parameter")
    head = ("# GENERATED by secmig screen: the screening decision (docs/calibration.md, "
            "'Screening').\n# calibration/targets.yaml free_parameters must equal 'free' "
            "(tests/test_screening.py).\n")
    paths[2].write_text(head + yaml.safe_dump(decision_doc(s), sort_keys=False, width=100),
                        encoding="utf-8")
    _heatmap(s, paths[3])
    _bars(s, paths[4])
    return paths


def _heatmap(s: Screening, path: Path) -> None:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt
    from matplotlib.colors import LogNorm

    order = s.summary().sort_values("max_mu_star_over_tol", ascending=False).index
    m = s.table.pivot(index="parameter", columns="target", values="mu_star_over_tol")
    m = m.reindex(index=order, columns=[mm.name for mm in s.spec.moments])
    data = np.clip(m.to_numpy(float), 1e-3, None)
    fig, ax = plt.subplots(figsize=(0.32 * data.shape[1] + 4, 0.2 * data.shape[0] + 2.5))
    im = ax.imshow(data, aspect="auto", cmap="viridis",
                   norm=LogNorm(vmin=1e-2, vmax=max(10.0, float(np.nanmax(data)))))
    ax.set_yticks(range(len(m.index)), m.index, fontsize=6)
    ax.set_xticks(range(len(m.columns)), m.columns, fontsize=6, rotation=90)
    free = set(s.free)
    for lbl in ax.get_yticklabels():
        lbl.set_fontweight("bold" if lbl.get_text() in free else "normal")
    fig.colorbar(im, ax=ax, label="mu* / tolerance (per Morris step)", shrink=0.6)
    ax.set_title(f"Morris screen: mu*/tol (bold: free, rule mu*/tol > {s.threshold:g})",
                 fontsize=9)
    fig.tight_layout()
    fig.savefig(path, dpi=130)
    plt.close(fig)


def _bars(s: Screening, path: Path) -> None:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    summ = s.summary().sort_values("max_mu_star_over_tol")
    vals = np.clip(summ["max_mu_star_over_tol"].to_numpy(float), 1e-3, None)
    colours = ["tab:blue" if d == "free" else "tab:gray" for d in summ["decision"]]
    fig, ax = plt.subplots(figsize=(7, 0.16 * len(summ) + 1.5))
    ax.barh(range(len(summ)), vals, color=colours)
    ax.scatter(np.clip(summ["noise_over_tol"].to_numpy(float), 1e-3, None), range(len(summ)),
               marker="|", color="black", s=30, label="replicate-noise floor (that target)")
    ax.axvline(s.threshold, color="tab:red", ls="--", label=f"threshold {s.threshold:g}")
    ax.set_xscale("log")
    ax.set_yticks(range(len(summ)), [f"{p} ({t})" for p, t in
                                     zip(summ.index, summ["target"], strict=True)], fontsize=5)
    ax.set_xlabel("largest mu*/tol over targets (per Morris step)")
    ax.set_title("Morris screen: free (blue) and fixed (grey)", fontsize=9)
    ax.legend(fontsize=6, loc="lower right")
    fig.tight_layout()
    fig.savefig(path, dpi=130)
    plt.close(fig)

"""Calibration by the simulated method of moments, with an approximate posterior.

1. Moments: register figures (``calibration/targets.yaml``), each with a tolerance and weight.
   The distance is sum_i w_i ((m_i(theta) - t_i) / tol_i)^2, with m_i the mean over R
   replicates that use the *same* seeds at every theta (common random numbers), which makes
   the objective smooth enough for a gradient method.
2. Search: a scrambled Sobol design over the prior box (plus the current values), then
   bounded Gauss-Newton / Levenberg-Marquardt (scipy.optimize.least_squares, 'trf') from the
   best point, with finite-difference Jacobians whose points run in parallel processes.
3. Uncertainty: a Gaussian (Laplace / Gauss-Newton) approximation at the optimum:
   precision = J' S^-1 J + prior precision, with S the tolerances plus the Monte Carlo
   variance of the simulated means, and the uniform prior approximated by a normal of the same
   variance. A parameter the targets do not pin down keeps about its prior width: the ratio of
   posterior to prior sd says how well each one is identified.

Every model evaluation is appended to an evaluations log; a rerun replays the log instead of
simulating again, so an interrupted calibration resumes, and the same seed gives the same fit.
"""

from __future__ import annotations

import json
import math
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
from scipy.optimize import least_squares
from scipy.stats import qmc

from simulation.calibration.spec import Moment, Spec
from simulation.engine.randomness import replicate_seeds
from simulation.inputs.defaults import Inputs
from simulation.inputs.parameters import Params
from simulation.runs.ensemble import flatten
from simulation.runs.parallel import WorkerPool

FD_STEP = 0.04  # finite-difference step, as a share of each prior range
JAC_STEP = 0.06  # central-difference step for the posterior Jacobian


# --- evaluations ----------------------------------------------------------------------------

def _evaluate_task(params: Params, inputs: Inputs, seed: np.random.SeedSequence,
                   names: list[str]) -> list[float]:
    """Worker: one replicate at one parameter point -> the moments' values."""
    from simulation.analysis.indicators import indicators
    from simulation.engine.driver import run

    flat = flatten(indicators(run(params, seed, inputs)))
    return [flat.get(n, float("nan")) for n in names]


@dataclass
class Evaluator:
    """Runs parameter points (R replicates each, common seeds), with a resumable log."""

    spec: Spec
    log_path: Path
    jobs: int = 1
    on_run: Callable[[int], None] | None = None
    cache: dict[str, np.ndarray] = field(default_factory=dict)
    count: int = 0

    def __post_init__(self) -> None:
        self.columns = sorted({m.name for m in self.spec.moments + self.spec.holdout}
                              | {f"{m.id}.all" for m in self.spec.moments + self.spec.holdout
                                 if m.compare == "ratio_to_all"})
        self.seeds = replicate_seeds(self.spec.seed, self.spec.replicates)
        self.inputs = self.spec.inputs()
        self.log_path.parent.mkdir(parents=True, exist_ok=True)
        digest = self.spec.digest()
        if self.log_path.exists():
            for line in self.log_path.read_text().splitlines():
                try:
                    rec = json.loads(line)
                except json.JSONDecodeError:  # a line cut short by an interruption
                    continue
                if rec.get("digest") == digest and rec.get("columns") == self.columns:
                    self.cache[rec["key"]] = np.array(rec["values"], dtype=float)
        self._pool = WorkerPool(self.jobs)  # kept: every batch reuses the same workers

    def close(self) -> None:
        self._pool.close()

    def _key(self, theta: dict[str, float]) -> str:
        return json.dumps({k: round(v, 12) for k, v in sorted(theta.items())})

    def evaluate(self, thetas: Sequence[dict[str, float]]) -> list[np.ndarray]:
        """(replicates x columns) values for each point, simulating only what is not logged."""
        todo = [t for t in dict.fromkeys(self._key(t) for t in thetas) if t not in self.cache]
        if todo:
            tasks = [(k, r) for k in todo for r in range(self.spec.replicates)]
            points = {k: self.spec.params(json.loads(k)) for k in todo}
            values_of = self._pool.map(_evaluate_task, [(points[k], self.inputs, self.seeds[r],
                                                         self.columns) for k, r in tasks],
                                       self.on_run)
            results = dict(zip(tasks, values_of, strict=True))
            with self.log_path.open("a+") as fh:
                fh.seek(0, 2)
                if fh.tell():  # a line torn by an interruption must not swallow the next
                    fh.seek(fh.tell() - 1)
                    if fh.read(1) != "\n":
                        fh.write("\n")
                for k in todo:  # logged in a fixed order: the log is the same for any jobs
                    values = np.array([results[(k, r)] for r in range(self.spec.replicates)])
                    self.cache[k] = values
                    fh.write(json.dumps({"digest": self.spec.digest(), "key": k,
                                         "columns": self.columns,
                                         "values": values.tolist()}) + "\n")
        self.count += len(thetas)
        return [self.cache[self._key(t)] for t in thetas]

    def moments(self, values: np.ndarray, moments: list[Moment]) -> np.ndarray:
        """(replicates x moments) from (replicates x columns)."""
        out = np.empty((len(values), len(moments)))
        for r, row in enumerate(values):
            flat = dict(zip(self.columns, row, strict=True))
            out[r] = [m.simulated(flat) for m in moments]
        return out


# --- the fit --------------------------------------------------------------------------------

def residuals(spec: Spec, mean: np.ndarray) -> np.ndarray:
    """sqrt(w) (m - t) / tol per moment (NaN, e.g. a moment the window cannot show, = 0)."""
    t = np.array([m.value for m in spec.moments])
    tol = np.array([m.tolerance for m in spec.moments])
    w = np.array([m.weight for m in spec.moments])
    r = np.sqrt(w) * (mean - t) / tol
    return np.nan_to_num(r, nan=0.0)


@dataclass
class Fit:
    """The outcome of a calibration."""

    spec: Spec
    theta: dict[str, float]
    distance: float
    evaluations: int
    cov: np.ndarray
    draws: list[dict[str, float]]
    identification: dict[str, float]  # posterior sd / prior sd
    history: list[dict[str, Any]]
    start_theta: dict[str, float]
    start_distance: float
    jacobian: np.ndarray  # d moment / d theta at the optimum (moments x parameters)


def calibrate(spec: Spec, evaluator: Evaluator, budget: int, start: dict[str, float] | None,
              on_stage: Callable[[str], None] | None = None, n_draws: int = 200) -> Fit:
    """Search, refine, and approximate the posterior, within ``budget`` parameter points."""
    p = len(spec.names)
    say = on_stage or (lambda _s: None)
    history: list[dict[str, Any]] = []

    def resid(z: np.ndarray) -> np.ndarray:
        v = evaluator.evaluate([spec.theta(z)])[0]
        return residuals(spec, np.nanmean(evaluator.moments(v, spec.moments), axis=0))

    def distance_of(theta: dict[str, float]) -> float:
        r = resid(spec.z_of(theta))
        return float(r @ r)

    # 1. design: the start point and a scrambled Sobol sample of the prior box
    m = int(math.log2(max(1, min(budget // 3, 2 * p + 8))))
    sobol = qmc.Sobol(d=p, scramble=True, seed=spec.seed).random_base2(m) if budget >= 6 else []
    z0 = spec.z_of({n: float(np.clip((start or {}).get(n, Params()[n]), lo, hi))
                    for n, lo, hi in zip(spec.names, spec.low, spec.high, strict=True)})
    design = [z0, *sobol]
    say(f"design: {len(design)} points")
    values = evaluator.evaluate([spec.theta(z) for z in design])
    dists = []
    for z, v in zip(design, values, strict=True):
        d = float(np.sum(residuals(spec, np.nanmean(evaluator.moments(v, spec.moments),
                                                    axis=0)) ** 2))
        dists.append(d)
        history.append({"stage": "design", "distance": d, **spec.theta(z)})
    best = int(np.argmin(dists))
    start_distance = dists[0]

    # 2. bounded Gauss-Newton / Levenberg-Marquardt from the best design point
    def fun(z: np.ndarray) -> np.ndarray:
        r = resid(z)
        history.append({"stage": "refine", "distance": float(r @ r), **spec.theta(z)})
        return r

    def jac(z: np.ndarray) -> np.ndarray:
        """Forward differences; the p points are simulated together (in parallel)."""
        steps = np.where(z + FD_STEP <= 1.0, FD_STEP, -FD_STEP)
        points = [z + np.eye(p)[j] * steps[j] for j in range(p)]
        evaluator.evaluate([spec.theta(zz) for zz in points])  # one parallel batch
        r0 = resid(z)
        return np.array([(resid(zz) - r0) / steps[j] for j, zz in enumerate(points)]).T

    remaining = budget - len(design)
    z_best = np.asarray(design[best], dtype=float)
    if remaining > p + 1:
        say(f"refine: up to {remaining} points")
        sol = least_squares(fun, z_best, jac=jac, bounds=(0.0, 1.0), method="trf",
                            max_nfev=max(1, remaining // (p + 1)), x_scale=1.0,
                            xtol=1e-4, ftol=1e-4)
        candidates = [(distance_of(spec.theta(z)), i, z) for i, z in
                      enumerate([z_best, np.clip(sol.x, 0, 1)])]
        z_best = min(candidates, key=lambda c: (c[0], c[1]))[2]
    theta = spec.theta(z_best)
    distance = distance_of(theta)

    # 3. Gaussian approximation of the posterior at the optimum
    say("posterior: central differences at the optimum")
    cov, jac_theta = posterior_cov(spec, evaluator, z_best)
    draws = posterior_draws(spec, theta, cov, n_draws, spec.seed)
    prior_sd = (spec.high - spec.low) / math.sqrt(12)
    ident = {n: float(math.sqrt(cov[i, i]) / prior_sd[i]) for i, n in enumerate(spec.names)}
    return Fit(spec, theta, distance, evaluator.count, cov, draws, ident, history,
               spec.theta(z0), start_distance, jac_theta)


def posterior_cov(spec: Spec, evaluator: Evaluator, z: np.ndarray
                  ) -> tuple[np.ndarray, np.ndarray]:
    """Covariance of the Gaussian approximation, and d moments / d theta."""
    p = len(spec.names)
    width = spec.high - spec.low
    points, steps = [], []
    for j in range(p):
        lo, hi = max(z[j] - JAC_STEP, 0.0), min(z[j] + JAC_STEP, 1.0)
        for v in (lo, hi):
            zz = z.copy()
            zz[j] = v
            points.append(zz)
        steps.append((hi - lo) * width[j])
    vals = evaluator.evaluate([spec.theta(zz) for zz in points])
    means = [np.nanmean(evaluator.moments(v, spec.moments), axis=0) for v in vals]
    jac = np.array([(means[2 * j + 1] - means[2 * j]) / steps[j] for j in range(p)]).T
    jac = np.nan_to_num(jac)
    center = evaluator.moments(evaluator.evaluate([spec.theta(z)])[0], spec.moments)
    mc_var = np.nan_to_num(np.nanvar(center, axis=0, ddof=1) / len(center)) \
        if len(center) > 1 else 0.0
    tol = np.array([m.tolerance for m in spec.moments])
    w = np.array([m.weight for m in spec.moments])
    s2 = tol ** 2 / np.maximum(w, 1e-12) + mc_var
    prior_prec = np.diag(12.0 / width ** 2)
    precision = jac.T @ (jac / s2[:, None]) + prior_prec
    return np.linalg.inv(precision), jac


def posterior_draws(spec: Spec, theta: dict[str, float], cov: np.ndarray, n: int, seed: int
                    ) -> list[dict[str, float]]:
    """Draws from the Gaussian approximation, kept inside the prior box (rejection)."""
    rng = np.random.default_rng(np.random.SeedSequence([seed, 2]))
    mean = np.array([theta[k] for k in spec.names])
    out: list[np.ndarray] = []
    for _ in range(200):
        x = rng.multivariate_normal(mean, cov, size=4 * n, method="cholesky")
        ok = np.all((x >= spec.low) & (x <= spec.high), axis=1)
        out.extend(x[ok])
        if len(out) >= n:
            break
    if len(out) < n:  # an extremely narrow box: clip the remainder
        x = np.clip(rng.multivariate_normal(mean, cov, size=n - len(out)), spec.low, spec.high)
        out.extend(x)
    return [{k: float(v) for k, v in zip(spec.names, row, strict=True)} for row in out[:n]]

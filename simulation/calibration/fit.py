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

import difflib
import hashlib
import json
import math
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Literal

import numpy as np
from pydantic import Field
from scipy.optimize import least_squares
from scipy.stats import qmc

from simulation.analysis.registry import indicator_keys
from simulation.analysis.targets import ratio_to_all
from simulation.engine.randomness import replicate_seeds
from simulation.inputs.defaults import Inputs, default_inputs
from simulation.inputs.limits import MAX_SEED
from simulation.inputs.parameters import BY_NAME, ParameterError, Params, suggest
from simulation.inputs.schema import StrictFinite, allow, load_checked, problem_at, safe_name
from simulation.inputs.yamlsource import InputError, Problem, Sourced, load_yaml
from simulation.runs.ensemble import flatten
from simulation.runs.parallel import WorkerPool

FD_STEP = 0.04  # finite-difference step, as a share of each prior range
JAC_STEP = 0.06  # central-difference step for the posterior Jacobian


#: the built-in settlement volumes cover these years: a calibration period lies inside them
FIRST_YEAR, LAST_YEAR = 2010, 2024


class MomentSpec(StrictFinite):
    id: str = Field(json_schema_extra=allow("an indicator id as in a run's summary.json, "
                                             "e.g. retention_7y"))
    key: str | None = Field(None, json_schema_extra=allow(
        "the key of a dict-valued indicator as text, e.g. oslo or \"2011\" (quote numbers)"))
    value: float = Field(json_schema_extra=allow("a finite number (the register figure)"))
    tolerance: float = Field(gt=0, json_schema_extra=allow("a finite number > 0"))
    weight: float = Field(1.0, ge=0, json_schema_extra=allow("a finite number >= 0 "
                                                              "(default 1)"))
    compare: Literal["level", "ratio_to_all"] = Field("level", json_schema_extra=allow(
        "level or ratio_to_all (the key's value relative to the id's 'all' key)"))
    definition: str = Field("", json_schema_extra=allow("text"))
    source: str = Field("", json_schema_extra=allow("text"))


class PriorSpec(StrictFinite):
    low: float = Field(json_schema_extra=allow("a finite number inside the registry range"))
    high: float = Field(json_schema_extra=allow("a finite number above low, inside the "
                                                 "registry range"))


class CalibrationPeriod(StrictFinite):
    start: int = Field(2010, ge=FIRST_YEAR, le=LAST_YEAR, json_schema_extra=allow(
        f"a year from {FIRST_YEAR} to {LAST_YEAR} (the built-in volumes; default 2010)"))
    end: int = Field(2023, ge=FIRST_YEAR, le=LAST_YEAR, json_schema_extra=allow(
        f"a year from start to {LAST_YEAR} (the built-in volumes; default 2023)"))


_TARGETS = ("a list of at least one target {id: ID, key: KEY, value: V, tolerance: T}")


class SpecSchema(StrictFinite):
    name: str = safe_name()
    seed: int = Field(0, ge=0, le=MAX_SEED, json_schema_extra=allow(
        f"a whole number from 0 to {MAX_SEED} (default 0)"))
    replicates: int = Field(4, ge=1, le=100, json_schema_extra=allow(
        "a whole number from 1 to 100 (default 4)"))
    period: CalibrationPeriod = Field(default_factory=CalibrationPeriod, json_schema_extra=allow(
        f"{{start: YEAR, end: YEAR}} with {FIRST_YEAR} <= start <= end <= {LAST_YEAR}"))
    scale: float = Field(1.0, gt=0, le=1.0, json_schema_extra=allow(
        "a number > 0 and <= 1: the share of people simulated (default 1)"))
    base_parameters: str | None = Field(None, json_schema_extra=allow(
        "the path of a YAML file with a 'parameters' mapping (e.g. a fitted file), relative "
        "to this file"))
    targets: list[MomentSpec] = Field(min_length=1, json_schema_extra=allow(_TARGETS))
    holdout: list[MomentSpec] = Field(default_factory=list, json_schema_extra=allow(
        "a list of targets {id: ID, key: KEY, value: V, tolerance: T} (default none)"))
    free_parameters: dict[str, PriorSpec] = Field(min_length=1, json_schema_extra=allow(
        "a mapping of at least one registry parameter name to a prior {low: L, high: H}"))


@dataclass(frozen=True)
class Moment:
    """One simulated quantity compared with one register figure."""

    id: str
    key: str | None
    value: float
    tolerance: float
    weight: float
    compare: str
    definition: str
    source: str

    @property
    def name(self) -> str:
        return self.id if self.key is None else f"{self.id}.{self.key}"

    def simulated(self, flat: dict[str, float]) -> float:
        """This moment's value from a flattened indicator dict."""
        v = flat.get(self.name, float("nan"))
        if self.compare == "ratio_to_all":
            v = ratio_to_all(v, flat.get(f"{self.id}.all", float("nan")))
        return v


@dataclass
class Spec:
    """A loaded calibration specification."""

    name: str
    path: Path
    seed: int
    replicates: int
    start: int
    end: int
    moments: list[Moment]
    holdout: list[Moment]
    names: list[str]  # free parameters
    low: np.ndarray
    high: np.ndarray
    base: dict[str, float] = field(default_factory=dict)
    scale: float = 1.0

    def theta(self, z: np.ndarray) -> dict[str, float]:
        """Unit-cube point -> parameter values."""
        values = self.low + np.clip(z, 0.0, 1.0) * (self.high - self.low)
        return {n: float(v) for n, v in zip(self.names, values, strict=True)}

    def z_of(self, theta: dict[str, float]) -> np.ndarray:
        return np.array([(theta[n] - lo) / (hi - lo) for n, lo, hi in
                         zip(self.names, self.low, self.high, strict=True)])

    def params(self, theta: dict[str, float]) -> Params:
        return Params({**self.base, **theta})

    def inputs(self) -> Inputs:
        return default_inputs(self.start, self.end, scale=self.scale)

    def digest(self) -> str:
        """Identifies everything that determines an evaluation's result."""
        text = json.dumps({"seed": self.seed, "R": self.replicates, "start": self.start,
                           "end": self.end, "base": self.base, "scale": self.scale,
                           "moments": [m.name for m in self.moments + self.holdout]},
                          sort_keys=True)
        return hashlib.sha256(text.encode()).hexdigest()[:16]


def load_spec(path: str | Path) -> Spec:
    """Read and check a calibration file. Every problem names file, line and key, the value
    given and what is allowed, and all of them are reported at once: fields are checked on
    the raw data too, so one bad field does not hide the others."""
    path = Path(path)
    base: dict[str, Any] = {}

    def check(src: Sourced, problems: list[Problem]) -> None:
        data: dict[str, Any] = src.data
        period = _period(data.get("period", {}), src, problems)
        _free_parameters(data.get("free_parameters"), src, problems)
        raw_free = data.get("free_parameters")
        free = raw_free if isinstance(raw_free, dict) else {}
        base.update(_base_parameters(data.get("base_parameters"), path, set(free), src,
                                     problems))
        for section in ("targets", "holdout"):
            _check_moments(section, data.get(section), period, src, problems)

    schema, _ = load_checked(path, SpecSchema, "calibration", check)

    def as_moment(m: MomentSpec) -> Moment:
        return Moment(m.id, m.key, m.value, m.tolerance, m.weight, m.compare, m.definition,
                      m.source)

    names = list(schema.free_parameters)
    return Spec(schema.name, path, schema.seed, schema.replicates, schema.period.start,
                schema.period.end, [as_moment(m) for m in schema.targets],
                [as_moment(m) for m in schema.holdout], names,
                np.array([schema.free_parameters[n].low for n in names], float),
                np.array([schema.free_parameters[n].high for n in names], float),
                base, schema.scale)


def _year(v: Any) -> int | None:
    ok = isinstance(v, int) and not isinstance(v, bool) and FIRST_YEAR <= v <= LAST_YEAR
    return v if ok else None


def _period(raw: Any, src: Sourced, problems: list[Problem]) -> tuple[int, int] | None:
    """(start, end) when valid (the schema reports bad years and keys); a reversed period is
    a problem here."""
    if not isinstance(raw, dict):
        return None
    start, end = _year(raw.get("start", 2010)), _year(raw.get("end", 2023))
    if start is None or end is None:
        return None
    if end < start:
        problems.append(problem_at(src, ("period",), f"end ({end}) is before start ({start}); "
                                 f"allowed: {FIRST_YEAR} <= start <= end <= {LAST_YEAR}"))
        return None
    return start, end


def _finite(v: Any) -> bool:
    return isinstance(v, int | float) and not isinstance(v, bool) and math.isfinite(v)


def _free_parameters(raw: Any, src: Sourced, problems: list[Problem]) -> None:
    """Names against the registry (with a did-you-mean), priors inside its ranges."""
    if not isinstance(raw, dict):
        return
    for name, prior in raw.items():
        key = ("free_parameters", name)
        p = BY_NAME.get(str(name))
        if p is None:
            problems.append(problem_at(src, key, f"unknown parameter{suggest(str(name))}; "
                                     "allowed: a registry name (see `secmig params`)"))
            continue
        if not isinstance(prior, dict) or not (_finite(prior.get("low"))
                                               and _finite(prior.get("high"))):
            continue  # the schema says what to write
        if not (p.low <= prior["low"] < prior["high"] <= p.high):
            problems.append(problem_at(src, key, f"prior [{prior['low']}, {prior['high']}] must "
                                     "be an increasing range inside the registry range "
                                     f"[{p.low:g}, {p.high:g}]"))


def _base_parameters(raw: Any, path: Path, free: set[Any], src: Sourced,
                     problems: list[Problem]) -> dict[str, Any]:
    """Values of the non-free parameters from a YAML file's 'parameters' mapping (a fitted
    file), checked by name and range; problems in that file name its lines."""
    if not isinstance(raw, str):
        return {}  # None: registry defaults; anything else: the schema's problem
    key = ("base_parameters",)
    allowed = "allowed: a YAML file with a mapping 'parameters: {name: value}' (e.g. a fitted file)"
    file = path.parent / raw
    if not file.is_file():
        problems.append(problem_at(src, key, f"file not found: {raw!r} (looked in "
                                 f"{path.parent}); {allowed}"))
        return {}
    try:
        doc = load_yaml(file)
    except InputError as err:
        problems.extend(err.problems)
        return {}
    values = doc.data.get("parameters") if isinstance(doc.data, dict) else None
    if not isinstance(values, dict):
        got = (f"the file is a {type(doc.data).__name__}" if not isinstance(doc.data, dict)
               else f"'parameters' is {values!r}"[:80])
        problems.append(problem_at(src, key, f"{raw!r} has no 'parameters' mapping ({got}); "
                                 f"{allowed}"))
        return {}
    base: dict[str, Any] = {}
    for name, value in values.items():
        f, line = doc.where(("parameters", name))
        if name not in BY_NAME:
            problems.append(Problem(f, line, f"parameters.{name}",
                                    f"unknown parameter{suggest(str(name))} (read as "
                                    f"base_parameters of {path}); allowed: a registry name "
                                    "(see `secmig params`)"))
            continue
        try:
            checked = BY_NAME[name].check(value)
        except ParameterError as err:
            problems.append(Problem(f, line, f"parameters.{name}",
                                    f"got {value!r}; allowed: {err.allowed}"))
            continue
        if name not in free:
            base[name] = checked
    return base


def _check_moments(section: str, raw: Any, period: tuple[int, int] | None, src: Sourced,
                   problems: list[Problem]) -> None:
    """Each target's id and key against the indicators a run over the period reports (the
    period's own when it is valid, else the widest one), with a did-you-mean."""
    if not isinstance(raw, list) or not raw:
        return
    start, end = period or (FIRST_YEAR, LAST_YEAR)
    known = indicator_keys(start, end)
    for i, m in enumerate(raw):
        if not isinstance(m, dict) or not isinstance(m.get("id"), str):
            continue
        mid, key = m["id"], m.get("key")
        where = (section, i)
        if mid not in known:
            wide = indicator_keys(FIRST_YEAR, LAST_YEAR) if period else known
            if mid in wide:
                problems.append(problem_at(src, (*where, "id"), f"{mid!r} is not reported for "
                                         f"the period {start}-{end} (a longer period reports "
                                         "it); allowed: an id a run over this period reports"))
                continue
            close = difflib.get_close_matches(mid, list(known), n=1, cutoff=0.5)
            hint = f" (did you mean '{close[0]}'?)" if close else ""
            problems.append(problem_at(src, (*where, "id"), f"unknown indicator id {mid!r}{hint}; "
                                     "allowed: an id in a run's summary.json, e.g. "
                                     "retention_7y, destination_split_of_movers"))
            continue
        keys = known[mid]
        if not keys:
            if key is not None:
                problems.append(problem_at(src, (*where, "key"), f"{mid} is a single number: "
                                         f"got key {key!r}; allowed: no key"))
            elif m.get("compare") == "ratio_to_all":
                problems.append(problem_at(src, (*where, "compare"), f"ratio_to_all needs "
                                         f"{mid}.all, and {mid} has no keys; allowed: level"))
            continue
        shown = ", ".join(keys[:12]) + (", ..." if len(keys) > 12 else "")
        if key is None:
            problems.append(problem_at(src, where, f"{mid} has one value per key: give key, one "
                                     f"of {shown}"))
            continue
        if not isinstance(key, str):
            continue  # the schema says: quote it
        if key not in keys and period and key in indicator_keys(FIRST_YEAR, LAST_YEAR
                                                               ).get(mid, []):
            problems.append(problem_at(src, (*where, "key"), f"{mid}.{key} is not reported for "
                                     f"the period {start}-{end} (a longer period reports it); "
                                     f"allowed: {shown}"))
        elif key not in keys:
            close = difflib.get_close_matches(key, keys, n=1, cutoff=0.5)
            hint = f" (did you mean '{close[0]}'?)" if close else ""
            problems.append(problem_at(src, (*where, "key"), f"unknown key {key!r} of {mid}"
                                     f"{hint}; allowed: {shown}"))
        if m.get("compare") == "ratio_to_all" and "all" not in keys:
            problems.append(problem_at(src, (*where, "compare"), f"ratio_to_all needs {mid}.all, "
                                     f"which does not exist; allowed: level"))


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

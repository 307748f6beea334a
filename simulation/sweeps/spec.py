"""Sweep files: a base scenario, the factors to vary (registry parameters or settlement levers,
each a range or a distribution), a design, replicates, the indicators to analyse and the
conditions to explain by scenario discovery.

Designs are drawn on the unit cube (SALib's samplers, SciPy's Latin hypercube) and mapped to
each factor's natural units through its quantile function, so a distribution is as easy to
sweep as a range. Running is in runner.py, analysis in analysis.py (this package).
"""

from __future__ import annotations

import difflib
import hashlib
import json
from collections.abc import Callable
from dataclasses import dataclass, replace
from functools import cached_property
from pathlib import Path
from typing import Annotated, Any, Literal

import numpy as np
from pydantic import Field
from scipy import stats
from scipy.stats import qmc

from simulation.analysis.registry import indicator_ids
from simulation.engine import RESULTS_VERSION
from simulation.inputs.defaults import Inputs
from simulation.inputs.parameters import BY_NAME, Params
from simulation.inputs.scenario import Scenario, load_scenario
from simulation.inputs.schema import (
    StrictFinite,
    allow,
    did_you_mean,
    load_checked,
    problem_at,
    safe_name,
)
from simulation.inputs.yamlsource import InputError, Problem, Sourced

DESIGNS = ("grid", "random", "lhs", "sobol", "morris", "posterior")
Design = Literal["grid", "random", "lhs", "sobol", "morris", "posterior"]
DISTRIBUTIONS = ("uniform", "normal", "triangular", "posterior")
FITTED = "fitted"  # parameters: fitted = every fitted parameter, from its posterior

#: most runs (design points x replicates) a sweep may ask for: beyond it the task list alone
#: would not fit in memory, and the sweep would take years
MAX_RUNS = 1_000_000
#: SALib 1.6's delta measure (grid, random, lhs designs) bins each factor into 10 equal-width
#: classes, merges neighbours to at least 10 points each, and fails (an "Unhandled exception"
#: print and NaN indices) when the points per class fall below 10: 10 x 10 points are always
#: enough; below, it depends on how the points fall (tried with delta.analyze: 24 LHS or
#: random points fail, 20 and 30 pass; grids of 100+ points pass), so 100 is the minimum for
#: any number of parameters (tests/test_sweep.py::test_delta_minimum_is_enough)
DELTA_MIN_POINTS = 100
#: Saltelli base sample: fewer than this gives NaN or meaningless bootstrap intervals
SOBOL_MIN_N = 8
#: Morris: sigma and the confidence of mu* need two trajectories at least
MORRIS_MIN_R = 2
MAX_SEED = 2**32 - 1  # SALib seeds NumPy's legacy generator, which takes 32-bit seeds


class Discovery(StrictFinite):
    """A condition on one indicator for PRIM to explain with a box in parameter space."""

    indicator: str = Field(description="indicator id (as in indices.csv / summary.json)",
                           json_schema_extra=allow("an indicator id as in a run's "
                                                    "summary.json, e.g. retention_5y"))
    above: float | None = Field(None, description="the condition: indicator above this value",
                                json_schema_extra=allow("a finite number"))
    below: float | None = Field(None, description="... or below this value",
                                json_schema_extra=allow("a finite number"))
    threshold: float = Field(0.8, gt=0, le=1, description="PRIM: wanted share of runs inside "
                                                          "the box meeting the condition",
                             json_schema_extra=allow("a number > 0 and <= 1 (default 0.8)"))


class SweepSchema(StrictFinite):
    name: str = safe_name()
    description: str = Field("", json_schema_extra=allow("text"))
    base: str = Field(description="scenario file the sweep varies (relative to this file)",
                      json_schema_extra=allow("the path of a scenario file, relative to "
                                               "this sweep file"))
    design: Design = Field(json_schema_extra=allow(f"one of {', '.join(DESIGNS)}"))
    samples: int = Field(ge=1, le=100_000, description="grid: levels per parameter; random/"
                                                       "lhs: points; sobol: base N; morris: "
                                                       "trajectories r; posterior: draws",
                         json_schema_extra=allow(
                             "a whole number from 1 to 100000 (grid: levels per parameter; "
                             "random/lhs: points; sobol: base N; morris: trajectories r; "
                             "posterior: the first N posterior draws)"))
    levels: int = Field(4, ge=2, le=20, description="morris: grid levels",
                        json_schema_extra=allow("an even whole number from 2 to 20 (morris "
                                                 "grid levels; default 4)"))
    replicates: int = Field(1, ge=1, le=1000, json_schema_extra=allow(
        "a whole number from 1 to 1000 (runs per design point; default 1)"))
    seed: int = Field(0, ge=0, le=MAX_SEED, json_schema_extra=allow(
        f"a whole number from 0 to {MAX_SEED} (default 0)"))
    parameters: Annotated[dict[str, Any], Field(min_length=1)] | Literal["fitted"] = Field(
        json_schema_extra=allow(
            "a mapping of at least one registry parameter or settlement lever to a range "
            "{low: L, high: H} or a distribution, or `fitted` (every parameter the base "
            "scenario's fitted file fitted, each {distribution: posterior})"))
    indicators: list[str] = Field(min_length=1, json_schema_extra=allow(
        "a list of at least one indicator id, e.g. [retention_5y, hoover_index]"))
    discover: list[Discovery] = Field(default_factory=list, json_schema_extra=allow(
        "a list of conditions {indicator: ID, above: X} or {indicator: ID, below: X}"))
    compare: str | None = Field(None, description="a scenario run at every point beside the "
                                                  "base, with the same seeds: its paired "
                                                  "difference is analysed as effect.<indicator>",
                                json_schema_extra=allow(
                                    "the path of a scenario file, relative to this sweep file, "
                                    "that differs from the base scenario (e.g. a policy)"))


# --- settlement levers: sweepable inputs that are not registry parameters --------------------

@dataclass(frozen=True)
class Lever:
    """A scenario lever outside the parameter registry (it changes the inputs, not params)."""

    low: float
    high: float
    unit: str
    meaning: str
    kind: Literal["float", "int"]
    apply: Callable[[Inputs, float], Inputs]
    differs: Callable[[Inputs, Inputs], bool]  # whether two inputs differ in what it sets


def _exclude_below(inputs: Inputs, value: float) -> Inputs:
    return replace(inputs, allocation=replace(inputs.allocation,
                                              exclude_below_population=int(value)))


def _volume_factor(inputs: Inputs, value: float) -> Inputs:
    return replace(inputs, volumes={y: v * value for y, v in inputs.volumes.items()})


LEVERS: dict[str, Lever] = {
    "settlement.exclude_below_population": Lever(
        0, 50_000, "persons", "no settlement in municipalities with fewer inhabitants", "int",
        _exclude_below, lambda a, b: (a.allocation.exclude_below_population
                                      != b.allocation.exclude_below_population)),
    "settlement.volume_factor": Lever(
        0.1, 5.0, "x", "every year's settlement volume multiplied by this", "float",
        _volume_factor, lambda a, b: a.volumes != b.volumes),
}


def apply_levers(inputs: Inputs, values: dict[str, float]) -> Inputs:
    """``inputs`` with the settlement levers among ``values`` applied (others are ignored)."""
    for name, v in values.items():
        if name in LEVERS:
            inputs = LEVERS[name].apply(inputs, v)
    return inputs


# --- factors ---------------------------------------------------------------------------------

@dataclass(frozen=True)
class Factor:
    """One swept factor: its distribution on [low, high] and how a unit draw maps to it."""

    name: str
    distribution: str
    low: float
    high: float
    kind: str = "float"
    mean: float | None = None
    sd: float | None = None
    mode: float | None = None
    draws: tuple[float, ...] | None = None  # posterior: the base's posterior draws of it

    def ppf(self, u: np.ndarray) -> np.ndarray:
        """Natural units from unit-cube draws (the quantile function; ints rounded)."""
        u = np.clip(np.asarray(u, dtype=float), 0.0, 1.0)
        if self.distribution == "posterior":
            # the empirical quantile function of the draws (linear between order statistics)
            x = np.quantile(np.asarray(self.draws, dtype=float), u)
        elif self.distribution == "normal":
            a, b = (self.low - self.mean) / self.sd, (self.high - self.mean) / self.sd
            x = stats.truncnorm.ppf(u, a, b, loc=self.mean, scale=self.sd)
        elif self.distribution == "triangular":
            c = (self.mode - self.low) / (self.high - self.low)
            x = stats.triang.ppf(u, c, loc=self.low, scale=self.high - self.low)
        else:
            x = self.low + u * (self.high - self.low)
        x = np.clip(x, self.low, self.high)
        return np.round(x) if self.kind in ("int", "bool") else x

    def describe(self) -> str:
        if self.distribution == "normal":
            return f"normal(mean {self.mean:g}, sd {self.sd:g}) on [{self.low:g}, {self.high:g}]"
        if self.distribution == "triangular":
            return f"triangular({self.low:g}, mode {self.mode:g}, {self.high:g})"
        if self.distribution == "posterior":
            return (f"posterior marginal ({len(self.draws or ())} draws, "
                    f"{self.low:g} to {self.high:g})")
        return f"uniform [{self.low:g}, {self.high:g}]"


def _bounds(name: str) -> tuple[float, float, str] | None:
    if name in BY_NAME:
        p = BY_NAME[name]
        return p.low, p.high, p.kind
    if name in LEVERS:
        lever = LEVERS[name]
        return lever.low, lever.high, lever.kind
    return None


def _number(spec: dict[str, Any], key: str) -> float | None:
    v = spec.get(key)
    if v is None or isinstance(v, bool) or not isinstance(v, int | float) or v != v:
        return None
    return float(v)


def _posterior_factor(name: str, spec: dict[str, Any], kind: str,
                      draws: dict[str, list[float]], where: Callable[[str], Problem]
                      ) -> Factor | Problem:
    """A factor drawn from the base scenario's posterior marginal of a fitted parameter: the
    design's unit draws go through the empirical quantile function of its posterior draws, so
    a design spreads like the posterior does, not over a box (correlations are not kept)."""
    extra = sorted(set(spec) - {"distribution"})
    if extra:
        return where(f"unknown key {extra[0]!r} for a posterior factor; allowed keys: "
                     "distribution (the range is the posterior's)")
    values = draws.get(name)
    if not values:
        fitted = ", ".join(sorted(draws)) or "none: the base scenario's fitted file has no draws"
        return where(f"distribution: posterior needs the base scenario's posterior draws of "
                     f"{name!r}; allowed: a parameter its calibration fitted ({fitted})")
    return Factor(name, "posterior", float(min(values)), float(max(values)), kind,
                  draws=tuple(float(v) for v in values))


def _factor(name: str, spec: Any, where: Callable[[str], Problem],
            draws: dict[str, list[float]] | None = None) -> Factor | Problem:
    """Check one entry of `parameters` (a range or a distribution) against the registry;
    ``draws`` are the base scenario's posterior draws by parameter (for ``posterior``)."""
    bounds = _bounds(name)
    if bounds is None:
        return where(f"unknown parameter{did_you_mean(name, [*BY_NAME, *LEVERS])}; allowed: a "
                     f"registry name (see `secmig params`) or a settlement lever: "
                     f"{', '.join(LEVERS)}")
    reg_low, reg_high, kind = bounds
    if not isinstance(spec, dict):
        return where(f"got {spec!r}; allowed: a range {{low: L, high: H}} or a distribution "
                     f"{{distribution: normal, mean: M, sd: S}} / {{distribution: triangular, "
                     f"low: L, mode: M, high: H}} / {{distribution: posterior}}")
    dist = spec.get("distribution", "uniform")
    if dist not in DISTRIBUTIONS:
        return where(f"distribution: got {dist!r}; allowed: {', '.join(DISTRIBUTIONS)}")
    if dist == "posterior":
        return _posterior_factor(name, spec, kind, draws or {}, where)
    allowed = {"uniform": {"low", "high"}, "normal": {"mean", "sd", "low", "high"},
               "triangular": {"low", "mode", "high"}}[dist] | {"distribution"}
    extra = sorted(set(spec) - allowed)
    if extra:
        return where(f"unknown key {extra[0]!r} for a {dist} factor; allowed keys: "
                     f"{', '.join(sorted(allowed))}")
    need = {"uniform": ("low", "high"), "normal": ("mean", "sd"),
            "triangular": ("low", "mode", "high")}[dist]
    for key in (*need, *(k for k in ("low", "high") if k in spec)):
        if _number(spec, key) is None:
            return where(f"{key}: got {spec.get(key)!r}; allowed: a number"
                         + (" (required)" if key not in spec else ""))
    low = _number(spec, "low") if "low" in spec else reg_low
    high = _number(spec, "high") if "high" in spec else reg_high
    inside = f"inside the registry range [{reg_low:g}, {reg_high:g}]"
    if not (reg_low <= low < high <= reg_high):
        return where(f"range [{low:g}, {high:g}] must increase and lie {inside}")
    mean, sd, mode = _number(spec, "mean"), _number(spec, "sd"), _number(spec, "mode")
    if dist == "normal" and (sd is None or sd <= 0 or not low <= mean <= high):
        return where(f"normal: mean {mean:g} must lie in [{low:g}, {high:g}] and sd {sd:g} "
                     "must be > 0")
    if dist == "triangular" and not low <= mode <= high:
        return where(f"triangular: mode {mode:g} must lie in [{low:g}, {high:g}]")
    return Factor(name, dist, low, high, kind, mean, sd, mode)


# --- the sweep -------------------------------------------------------------------------------

#: prefix of the columns that hold a run's paired difference (compared scenario - base)
EFFECT = "effect."


@dataclass
class Sweep:
    """A loaded sweep: the base scenario, the factors and the design; with ``compare``, the
    scenario whose difference from the base is run at every point (``variant``)."""

    schema: SweepSchema
    path: Path
    base: Scenario
    factors: list[Factor]
    variant: Scenario | None = None

    @property
    def names(self) -> list[str]:
        return [f.name for f in self.factors]

    @property
    def outcomes(self) -> list[str]:
        """The columns analysed: the indicators and, with ``compare``, each indicator's paired
        difference (``effect.<indicator>``: compared scenario minus base, same seed)."""
        ind = list(self.schema.indicators)
        return ind + ([EFFECT + i for i in ind] if self.variant is not None else [])

    def outcome_label(self, column: str) -> str:
        """Words for a column of ``outcomes`` (the registry's, with the effect named)."""
        from simulation.analysis.registry import label

        if column.startswith(EFFECT) and self.variant is not None:
            return (f"{label(column[len(EFFECT):])}: {self.variant.name} minus "
                    f"{self.base.name}")
        return label(column)

    @property
    def problem(self) -> dict[str, Any]:
        """The SALib problem, on the unit cube (factors map from it through their quantiles)."""
        return {"num_vars": len(self.factors), "names": self.names,
                "bounds": [[0.0, 1.0]] * len(self.factors)}

    @property
    def n_points(self) -> int:
        """How many design points, without drawing the design."""
        return n_points(self.schema.design, self.schema.samples, len(self.factors))

    def unit_points(self) -> np.ndarray:
        """The design on [0, 1]^p: one row per point (deterministic in the sweep's seed; drawn
        once, as counting, resuming, running and analysing all ask for it)."""
        return self._unit

    @cached_property
    def _unit(self) -> np.ndarray:
        sch, p = self.schema, len(self.factors)
        if sch.design == "posterior":
            # each draw's place among all the draws (0..1), per factor: a monotone map of the
            # values, which is all that delta indices need (PRIM reads the values themselves)
            cols = []
            for f in self.factors:
                every = np.sort(np.asarray(f.draws, dtype=float))
                cols.append(np.searchsorted(every, f.draws[:sch.samples]) / max(len(every) - 1, 1))
            return np.column_stack(cols)
        if sch.design == "morris":
            from SALib.sample import morris

            return morris.sample(self.problem, sch.samples, num_levels=sch.levels, seed=sch.seed)
        if sch.design == "sobol":
            from SALib.sample import sobol

            return sobol.sample(self.problem, sch.samples, calc_second_order=False,
                                seed=sch.seed)
        if sch.design == "grid":
            axes = [np.linspace(0, 1, sch.samples) if f.distribution == "uniform"
                    else (np.arange(sch.samples) + 0.5) / sch.samples for f in self.factors]
            return np.array(np.meshgrid(*axes, indexing="ij")).reshape(p, -1).T
        if sch.design == "lhs":
            return qmc.LatinHypercube(d=p, seed=sch.seed).random(sch.samples)
        return np.random.default_rng(sch.seed).random((sch.samples, p))

    def points(self) -> np.ndarray:
        """The design in natural units (design ``posterior``: the draws' own values)."""
        if self.schema.design == "posterior":
            k = self.schema.samples
            return np.column_stack([np.asarray(f.draws[:k], dtype=float) for f in self.factors])
        unit = self.unit_points()
        return np.column_stack([f.ppf(unit[:, j]) for j, f in enumerate(self.factors)])

    @cached_property
    def _draw_params(self) -> list[Params]:
        return self.base.posterior(self.schema.samples)

    @cached_property
    def _variant_draw_params(self) -> list[Params]:
        return self.variant.posterior(self.schema.samples) if self.variant else []

    def setup(self, values: dict[str, float], point: int | None = None,
              variant: bool = False) -> tuple[Params, Inputs]:
        """Parameters and inputs of one design point: the base scenario (or, with
        ``variant``, the compared scenario) with these values. In a ``posterior`` design
        point ``point`` is the whole posterior draw of that number (every fitted parameter at
        the draw's value, the scenario's own settings on top), so the design keeps the
        posterior's correlations, not only the swept factors'."""
        scenario = self.variant if variant else self.base
        if scenario is None:
            raise ValueError("this sweep compares no scenario (no `compare` key)")
        overrides = {n: v for n, v in values.items() if n not in LEVERS}
        base = scenario.params
        if self.schema.design == "posterior" and point is not None:
            base = (self._variant_draw_params if variant else self._draw_params)[point]
        return (Params({**dict(base), **overrides}), apply_levers(scenario.inputs, values))

    def fingerprint(self) -> str:
        """What the rows of an output folder depend on: a resumed sweep must match it."""
        base = self.base.resolved()
        base.pop("name", None), base.pop("description", None)
        what: dict[str, Any] = {"points": np.round(self.points(), 12).tolist(),
                                "names": self.names, "replicates": self.schema.replicates,
                                "seed": self.schema.seed, "indicators": self.schema.indicators,
                                "base": base, "engine": RESULTS_VERSION}
        if self.schema.design == "posterior":  # the whole draws, not only the swept values
            what["draws"] = [dict(p) for p in self._draw_params]
        if self.variant is not None:  # only then: sweeps without it keep their fingerprint
            other = self.variant.resolved()
            other.pop("name", None), other.pop("description", None)
            what["compare"] = other
        blob = json.dumps(what, sort_keys=True, default=str)
        return hashlib.sha256(blob.encode()).hexdigest()[:16]


def n_points(design: str, samples: int, p: int) -> int:
    """Design points without drawing the design: morris r (p + 1), sobol N (p + 2) (first
    order and total indices), grid levels^p, random, lhs and posterior the samples themselves."""
    if design == "morris":
        return samples * (p + 1)
    if design == "sobol":
        return samples * (p + 2)
    if design == "grid":
        return samples ** p
    return samples


def _count(n: int) -> str:
    return f"{n:,}" if n < 10**15 else f"about 10^{len(str(n)) - 1}"


def load_sweep(path: str | Path) -> Sweep:
    """Read and check a sweep file; every problem names file, line, key and what is allowed,
    and all of them are reported at once (fields are checked on the raw data, so one bad
    field does not hide the others)."""
    path = Path(path)
    found: dict[str, Any] = {}

    def check(src: Sourced, problems: list[Problem]) -> None:
        data: dict[str, Any] = src.data
        raw = data.get("parameters")
        found["base"] = base = _base(data.get("base"), path, src, problems)
        draws = _draws_by_parameter(base)
        if raw == FITTED:
            raw = _fitted_factors(draws, base, src, problems)
        found["factors"] = _factors(raw, src, problems, draws) if isinstance(raw, dict) else []
        if data.get("design") == "posterior":
            problems.extend(_posterior_design_problems(data, src, found["factors"], base))
        found["variant"] = variant = None
        if data.get("compare") is not None:
            found["variant"] = variant = _base(data.get("compare"), path, src, problems,
                                               "compare")
            if base is not None and variant is not None:
                problems.extend(_compare_problems(data, src, base, variant, found["factors"]))
        if base is not None:
            _check_indicators(data, src, base, problems, variant is not None)
        problems.extend(_size_problems(data, src, len(raw) if isinstance(raw, dict) else 0))
        if base is None and not problems:  # the schema or _base says why; never silent
            problems.append(problem_at(src, ("base",), "the base scenario could not be loaded"))

    schema, _ = load_checked(path, SweepSchema, "sweep", check)
    return Sweep(schema, path, found["base"], found["factors"], found["variant"])


def _base(ref: Any, path: Path, src: Sourced, problems: list[Problem], key: str = "base"
          ) -> Scenario | None:
    """The scenario file named under ``key`` (base, compare), loaded and checked."""
    if not isinstance(ref, str) or not ref:
        return None  # the schema's problem says what to write
    base_path = path.parent / ref
    if not base_path.is_file():
        problems.append(problem_at(src, (key,), f"file not found: {ref!r} (looked in "
                                 f"{path.parent}); allowed: the path of a scenario file, "
                                 "relative to this sweep file"))
        return None
    try:
        return load_scenario(base_path)
    except InputError as err:
        problems.extend(err.problems)
    return None


def _whole(data: dict[str, Any], key: str, default: int | None, low: int, high: int
           ) -> int | None:
    v = data.get(key, default)
    return v if isinstance(v, int) and not isinstance(v, bool) and low <= v <= high else None


def _size_problems(data: dict[str, Any], src: Sourced, p: int) -> list[Problem]:
    """Designs too small for their analysis, and sweeps too large to run, counted without
    drawing the design (only where the fields involved are themselves valid)."""
    design = data.get("design")
    samples = _whole(data, "samples", None, 1, 100_000)
    replicates = _whole(data, "replicates", 1, 1, 1000)
    levels = _whole(data, "levels", 4, 2, 20)
    if design not in DESIGNS or samples is None or p < 1:
        return []
    out: list[Problem] = []

    def add(key: str, msg: str) -> None:
        out.append(problem_at(src, (key,), msg))

    if design == "morris":
        if samples < MORRIS_MIN_R:
            add("samples", f"morris needs at least {MORRIS_MIN_R} trajectories (samples: r) "
                           f"for sigma and the confidence of mu*; got {samples}")
        if levels is not None and levels % 2:
            add("levels", f"got {levels}; allowed: an even whole number from 2 to 20 (an odd "
                          "number of Morris levels biases the sample)")
    elif design == "sobol" and samples < SOBOL_MIN_N:
        add("samples", f"sobol needs a base sample of at least N = {SOBOL_MIN_N} (samples) for "
                       f"S1 and ST with confidence intervals; got {samples}")
    elif design == "grid" and samples < 2:
        add("samples", f"a grid needs at least 2 levels per parameter (samples); got {samples}")
    points = n_points(design, samples, p)
    if design in ("grid", "random", "lhs", "posterior") and points < DELTA_MIN_POINTS and not out:
        what = (f"{samples} levels over {p} parameter(s) = {points} points"
                if design == "grid" else f"got {points}")
        add("samples", f"{design} with delta indices needs at least {DELTA_MIN_POINTS} points "
                       f"(for any number of parameters); {what}")
    if replicates is not None and points * replicates > MAX_RUNS:
        add("samples", f"{design} with samples: {samples} over {p} parameter(s) is "
                       f"{_count(points)} points x {replicates} replicate(s) = "
                       f"{_count(points * replicates)} runs; at most {MAX_RUNS:,} runs are "
                       "allowed (fewer samples, replicates or parameters, or split the sweep)")
    return out


def _posterior_design_problems(data: dict[str, Any], src: Sourced, factors: list[Factor],
                               base: Scenario | None) -> list[Problem]:
    """A ``posterior`` design runs whole posterior draws: every factor must come from the
    posterior, and there must be as many draws as samples."""
    out = [problem_at(src, ("parameters", f.name), f"design posterior runs whole posterior "
                      f"draws; got a {f.distribution} factor; allowed: {{distribution: "
                      "posterior}} (vary levers with another design)")
           for f in factors if f.distribution != "posterior"]
    samples = _whole(data, "samples", None, 1, 100_000)
    have = len(base.posterior_draws) if base is not None else 0
    if base is not None and samples is not None and samples > have:
        out.append(problem_at(src, ("samples",), f"got {samples}; allowed: at most the "
                              f"{have} posterior draws of the base scenario's fitted file"))
    return out


def _compare_problems(data: dict[str, Any], src: Sourced, base: Scenario, variant: Scenario,
                      factors: list[Factor]) -> list[Problem]:
    """A compared scenario must be comparable with the base at every point: the same period,
    the same posterior draws in a posterior design, not setting a swept factor (the point's
    value would override it), and different from the base somewhere."""
    out = []

    def add(msg: str) -> None:
        out.append(problem_at(src, ("compare",), msg))

    b, v = base.inputs, variant.inputs
    if (b.start, b.end) != (v.start, v.end):
        add(f"the compared scenario runs {v.start}-{v.end} and the base {b.start}-{b.end}; "
            "allowed: a scenario over the base's period (an effect compares the same years)")
    if data.get("design") == "posterior" and variant.posterior_draws != base.posterior_draws:
        add("design posterior pairs each draw with the same draw of the compared scenario; "
            "allowed: a scenario whose parameters come from the base's fitted file (e.g. one "
            "that extends the base)")
    for f in factors:
        sets = (LEVERS[f.name].differs(b, v) if f.name in LEVERS
                else base.params[f.name] != variant.params[f.name])
        if sets:
            out.append(problem_at(src, ("parameters", f.name), f"the compared scenario sets "
                                  f"{f.name} differently from the base, and the swept value "
                                  "would override it at every point; allowed: factors the two "
                                  "scenarios share (sweep the policy lever in a sweep without "
                                  "compare)"))
    same = dict(base.params) == dict(variant.params) and _comparable(base) == _comparable(
        variant)
    if same:
        add("the compared scenario runs the same as the base (same parameters and inputs), so "
            "every effect would be zero; allowed: a scenario that differs, e.g. a policy")
    return out


def _comparable(scenario: Scenario) -> dict[str, Any]:
    """The resolved scenario without what names it or what a sweep sets itself (seed,
    replicates) and outputs: two scenarios run the same in a sweep iff these are equal."""
    data = scenario.resolved()
    for key in ("name", "description", "seed", "replicates", "outputs"):
        data.pop(key, None)
    return data


def _fitted_factors(draws: dict[str, list[float]], base: Scenario | None, src: Sourced,
                    problems: list[Problem]) -> dict[str, Any]:
    """``parameters: fitted``: every parameter with posterior draws in the base scenario's
    fitted file, as a posterior factor (in name order), so that a sweep over the whole
    posterior need not list sixty names nor miss one the calibration added."""
    if base is not None and not draws:
        problems.append(problem_at(src, ("parameters",), "got fitted, but the base scenario "
                                   "has no posterior draws; allowed: fitted with a base "
                                   "scenario whose parameters come from a fitted file (e.g. "
                                   "scenarios/baseline.yaml), or a mapping of parameters"))
    return {name: {"distribution": "posterior"} for name in draws}


def _draws_by_parameter(base: Scenario | None) -> dict[str, list[float]]:
    """The base scenario's posterior draws, by parameter (empty without a base or draws)."""
    if base is None or not base.posterior_draws:
        return {}
    names = set().union(*(d.keys() for d in base.posterior_draws)) & set(BY_NAME)
    return {n: [float(d[n]) for d in base.posterior_draws if n in d] for n in sorted(names)}


def _factors(parameters: dict[Any, Any], src: Sourced, problems: list[Problem],
             draws: dict[str, list[float]] | None = None) -> list[Factor]:
    factors = []
    for name, spec in parameters.items():
        got = _factor(str(name), spec,
                      lambda msg, n=name: problem_at(src, ("parameters", n), msg), draws)
        if isinstance(got, Problem):
            problems.append(got)
        else:
            factors.append(got)
    return factors


def _check_indicators(data: dict[str, Any], src: Sourced, base: Scenario,
                      problems: list[Problem], effects: bool = False) -> None:
    """Indicator ids (and the discovery conditions) checked on the raw data, against the ids
    a run of the base scenario's period reports (from the indicator registry); with
    ``effects`` (a compared scenario) a condition may name ``effect.<indicator>`` too."""
    ids = indicator_ids(base.inputs.start, base.inputs.end)

    def check(name: Any, key: tuple[Any, ...]) -> None:
        if isinstance(name, str) and name.startswith(EFFECT) and key[0] == "discover":
            if not effects:
                problems.append(problem_at(src, key, f"{name!r} is a paired effect, and this "
                                           "sweep compares no scenario; add compare: "
                                           "SCENARIO.yaml, or name an indicator"))
                return
            name = name[len(EFFECT):]
        if isinstance(name, str) and name not in ids:
            close = difflib.get_close_matches(name, ids, n=1, cutoff=0.5)
            hint = f" (did you mean '{close[0]}'?)" if close else ""
            problems.append(problem_at(src, key, f"unknown indicator {name!r}{hint}; allowed: the "
                                f"ids in a run's summary.json, e.g. retention_5y, "
                                f"hoover_index, share_in_10_largest"))

    indicators = data.get("indicators")
    for i, name in enumerate(indicators if isinstance(indicators, list) else []):
        check(name, ("indicators", i))
    discover = data.get("discover")
    listed = {x for x in (indicators if isinstance(indicators, list) else [])
              if isinstance(x, str)}
    for i, d in enumerate(discover if isinstance(discover, list) else []):
        if not isinstance(d, dict):
            continue
        check(d.get("indicator"), ("discover", i, "indicator"))
        name = d.get("indicator")
        if isinstance(name, str) and effects and name.startswith(EFFECT):
            name = name[len(EFFECT):]
        if isinstance(name, str) and name in ids and name not in listed:
            problems.append(problem_at(src, ("discover", i, "indicator"), f"{name!r} is not "
                                       "among the sweep's indicators, and runs record only "
                                       f"those; add it to indicators: [...]"))
        if (d.get("above") is None) == (d.get("below") is None):
            problems.append(problem_at(src, ("discover", i), "give exactly one of 'above' or "
                                     "'below' (the condition PRIM explains)"))

"""Sweep files: a base scenario, the factors to vary (registry parameters or settlement levers,
each a range or a distribution), a design, replicates, the indicators to analyse and the
conditions to explain by scenario discovery.

Designs are drawn on the unit cube (SALib's samplers, SciPy's Latin hypercube) and mapped to
each factor's natural units through its quantile function, so a distribution is as easy to
sweep as a range. Running is in sweep_runner.py, analysis in sweep_analysis.py.
"""

from __future__ import annotations

import difflib
import hashlib
import json
from collections.abc import Callable
from dataclasses import dataclass, replace
from functools import cache, cached_property
from pathlib import Path
from typing import Any, Literal

import numpy as np
from pydantic import BaseModel, ConfigDict, Field
from scipy import stats
from scipy.stats import qmc

from .inputs import Inputs
from .parameters import BY_NAME, Params
from .scenario import Scenario, _problem, load_checked, load_scenario
from .yamlsource import InputError, Problem, Sourced

Design = Literal["grid", "random", "lhs", "sobol", "morris"]
DISTRIBUTIONS = ("uniform", "normal", "triangular")


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", strict=True)


class Discovery(_Strict):
    """A condition on one indicator for PRIM to explain with a box in parameter space."""

    indicator: str = Field(description="indicator id (as in indices.csv / summary.json)")
    above: float | None = Field(None, description="the condition: indicator above this value")
    below: float | None = Field(None, description="... or below this value")
    threshold: float = Field(0.8, gt=0, le=1, description="PRIM: wanted share of runs inside "
                                                          "the box meeting the condition")


class SweepSchema(_Strict):
    name: str = Field(pattern=r"^[A-Za-z0-9][A-Za-z0-9_.-]{0,79}$")
    description: str = ""
    base: str = Field(description="scenario file the sweep varies (relative to this file)")
    design: Design
    samples: int = Field(ge=1, le=100_000, description="grid: levels per parameter; random/"
                                                       "lhs: points; sobol: base N; morris: "
                                                       "trajectories r")
    levels: int = Field(4, ge=2, le=20, description="morris: grid levels")
    replicates: int = Field(1, ge=1, le=1000)
    seed: int = Field(0, ge=0)
    parameters: dict[str, Any] = Field(min_length=1)
    indicators: list[str] = Field(min_length=1)
    discover: list[Discovery] = Field(default_factory=list)


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


def _exclude_below(inputs: Inputs, value: float) -> Inputs:
    return replace(inputs, allocation=replace(inputs.allocation,
                                              exclude_below_population=int(value)))


def _volume_factor(inputs: Inputs, value: float) -> Inputs:
    return replace(inputs, volumes={y: v * value for y, v in inputs.volumes.items()})


LEVERS: dict[str, Lever] = {
    "settlement.exclude_below_population": Lever(
        0, 50_000, "persons", "no settlement in municipalities with fewer inhabitants", "int",
        _exclude_below),
    "settlement.volume_factor": Lever(
        0.1, 5.0, "x", "every year's settlement volume multiplied by this", "float",
        _volume_factor),
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

    def ppf(self, u: np.ndarray) -> np.ndarray:
        """Natural units from unit-cube draws (the quantile function; ints rounded)."""
        u = np.clip(np.asarray(u, dtype=float), 0.0, 1.0)
        if self.distribution == "normal":
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


def _factor(name: str, spec: Any, where: Callable[[str], Problem]) -> Factor | Problem:
    """Check one entry of `parameters` (a range or a distribution) against the registry."""
    bounds = _bounds(name)
    if bounds is None:
        close = difflib.get_close_matches(name, [*BY_NAME, *LEVERS], n=1)
        hint = f" (did you mean '{close[0]}'?)" if close else ""
        return where(f"unknown parameter{hint}; allowed: a registry name (see `secmig "
                     f"params`) or a settlement lever: {', '.join(LEVERS)}")
    reg_low, reg_high, kind = bounds
    if not isinstance(spec, dict):
        return where(f"got {spec!r}; allowed: a range {{low: L, high: H}} or a distribution "
                     f"{{distribution: normal, mean: M, sd: S}} / {{distribution: triangular, "
                     f"low: L, mode: M, high: H}}")
    dist = spec.get("distribution", "uniform")
    if dist not in DISTRIBUTIONS:
        return where(f"distribution: got {dist!r}; allowed: {', '.join(DISTRIBUTIONS)}")
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


@cache
def _indicator_ids(start: int, end: int) -> tuple[str, ...]:
    """Every indicator id a run over these years reports (from a tiny run: exact, not a list
    kept by hand)."""
    from .api import run
    from .ensemble import flatten
    from .inputs import default_inputs

    res = run(Params(), 0, default_inputs(start, end).scaled(0.01))
    return tuple(flatten(res.indicators()))


# --- the sweep -------------------------------------------------------------------------------

@dataclass
class Sweep:
    """A loaded sweep: the base scenario, the factors and the design."""

    schema: SweepSchema
    path: Path
    base: Scenario
    factors: list[Factor]

    @property
    def names(self) -> list[str]:
        return [f.name for f in self.factors]

    @property
    def problem(self) -> dict[str, Any]:
        """The SALib problem, on the unit cube (factors map from it through their quantiles)."""
        return {"num_vars": len(self.factors), "names": self.names,
                "bounds": [[0.0, 1.0]] * len(self.factors)}

    def unit_points(self) -> np.ndarray:
        """The design on [0, 1]^p: one row per point (deterministic in the sweep's seed; drawn
        once, as counting, resuming, running and analysing all ask for it)."""
        return self._unit

    @cached_property
    def _unit(self) -> np.ndarray:
        sch, p = self.schema, len(self.factors)
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
        """The design in natural units."""
        unit = self.unit_points()
        return np.column_stack([f.ppf(unit[:, j]) for j, f in enumerate(self.factors)])

    def setup(self, values: dict[str, float]) -> tuple[Params, Inputs]:
        """Parameters and inputs of one design point: the base scenario with these values."""
        overrides = {n: v for n, v in values.items() if n not in LEVERS}
        return (Params({**dict(self.base.params), **overrides}),
                apply_levers(self.base.inputs, values))

    def fingerprint(self) -> str:
        """What the rows of an output folder depend on: a resumed sweep must match it."""
        base = self.base.resolved()
        base.pop("name", None), base.pop("description", None)
        blob = json.dumps({"points": np.round(self.points(), 12).tolist(), "names": self.names,
                           "replicates": self.schema.replicates, "seed": self.schema.seed,
                           "indicators": self.schema.indicators, "base": base},
                          sort_keys=True, default=str)
        return hashlib.sha256(blob.encode()).hexdigest()[:16]


def load_sweep(path: str | Path) -> Sweep:
    """Read and check a sweep file; every problem names file, line, key and what is allowed."""
    path = Path(path)
    src, schema = load_checked(path, SweepSchema, "sweep")
    problems: list[Problem] = []
    factors = _factors(schema, src, problems)
    base: Scenario | None = None
    base_path = path.parent / schema.base
    try:
        base = load_scenario(base_path)
    except InputError as err:
        problems.extend(err.problems)
    if base is not None:
        _check_indicators(schema, src, base, problems)
    if schema.design == "grid" and schema.samples ** max(len(factors), 1) > 1_000_000:
        problems.append(_problem(src, ("samples",), f"a grid of {schema.samples} levels over "
                            f"{len(factors)} parameters has more than a million points; use "
                            "lhs, sobol or morris"))
    if problems:
        raise InputError(problems)
    return Sweep(schema, path, base, factors)



def _factors(schema: SweepSchema, src: Sourced, problems: list[Problem]) -> list[Factor]:
    factors = []
    for name, spec in schema.parameters.items():
        got = _factor(name, spec, lambda msg, n=name: _problem(src, ("parameters", n), msg))
        if isinstance(got, Problem):
            problems.append(got)
        else:
            factors.append(got)
    return factors


def _check_indicators(schema: SweepSchema, src: Sourced, base: Scenario,
                      problems: list[Problem]) -> None:
    ids = _indicator_ids(base.inputs.start, base.inputs.end)

    def check(name: str, key: tuple[Any, ...]) -> None:
        if name not in ids:
            close = difflib.get_close_matches(name, ids, n=1, cutoff=0.5)
            hint = f" (did you mean '{close[0]}'?)" if close else ""
            problems.append(_problem(src, key, f"unknown indicator {name!r}{hint}; allowed: the "
                                f"ids in a run's summary.json, e.g. retention_5y, "
                                f"hoover_index, share_in_10_largest"))

    for i, name in enumerate(schema.indicators):
        check(name, ("indicators", i))
    for i, d in enumerate(schema.discover):
        check(d.indicator, ("discover", i, "indicator"))
        if (d.above is None) == (d.below is None):
            problems.append(_problem(src, ("discover", i), "give exactly one of 'above' or 'below' "
                                "(the condition PRIM explains)"))

"""A calibration targets file (``calibration/targets.yaml``): the register moments with their
tolerances and weights, the free parameters with their prior boxes, the period, replicates
and seed; read through the input front door (inputs/schema.py) with every problem named by
file, line and key, and checked against the indicator registry (ids and keys).
"""

from __future__ import annotations

import difflib
import hashlib
import json
import math
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Literal

import numpy as np
from pydantic import Field

from simulation.analysis.registry import indicator_keys
from simulation.analysis.targets import ratio_to_all
from simulation.engine import RESULTS_VERSION
from simulation.inputs.defaults import Inputs, default_inputs
from simulation.inputs.limits import MAX_SEED
from simulation.inputs.parameters import BY_NAME, ParameterError, Params, suggest
from simulation.inputs.schema import StrictFinite, allow, load_checked, problem_at, safe_name
from simulation.inputs.yamlsource import InputError, Problem, Sourced, load_yaml

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
    caveat: str = Field("", json_schema_extra=allow(
        "text: what makes a fit to this target weaker than it looks (a band chosen by the "
        "project, a parameter that exists mainly to match it); shown in the fit report"))


class PriorSpec(StrictFinite):
    low: float = Field(json_schema_extra=allow("a finite number inside the registry range"))
    high: float = Field(json_schema_extra=allow("a finite number above low, inside the "
                                                 "registry range"))


class CalibrationPeriod(StrictFinite):
    start: int = Field(2010, ge=FIRST_YEAR, le=LAST_YEAR, json_schema_extra=allow(
        f"a year from {FIRST_YEAR} to {LAST_YEAR} (the built-in volumes; default 2010)"))
    end: int = Field(2023, ge=FIRST_YEAR, le=LAST_YEAR, json_schema_extra=allow(
        f"a year from start to {LAST_YEAR} (the built-in volumes; default 2023)"))


class PosteriorSettings(StrictFinite):
    """How the posterior is computed (history matching waves, emulators, sampler)."""

    waves: int = Field(4, ge=1, le=12, json_schema_extra=allow(
        "a whole number from 1 to 12: history-matching waves (default 4)"))
    first_points: int = Field(1024, ge=16, le=200_000, json_schema_extra=allow(
        "a whole number from 16 to 200000: wave 1's Sobol points (rounded up to a power of "
        "two; default 1024)"))
    points: int = Field(512, ge=8, le=200_000, json_schema_extra=allow(
        "a whole number from 8 to 200000: points of each later wave (default 512)"))
    discrepancy: float = Field(0.5, ge=0, le=5, json_schema_extra=allow(
        "a number from 0 to 5: model discrepancy sd as a share of each target's tolerance "
        "(divided by sqrt(weight)); default 0.5"))
    noise_replicates: int = Field(24, ge=4, le=1000, json_schema_extra=allow(
        "a whole number from 4 to 1000: fresh replicates for the replicate-noise covariance "
        "(default 24)"))
    draws: int = Field(200, ge=10, le=10_000, json_schema_extra=allow(
        "a whole number from 10 to 10000: posterior draws kept (default 200)"))
    temperature: float = Field(4.0, ge=1, le=1000, json_schema_extra=allow(
        "a number from 1 to 1000: later waves sample likelihood^(1/temperature) (default 4)"))
    steps: int = Field(3000, ge=100, le=1_000_000, json_schema_extra=allow(
        "a whole number from 100 to 1000000: sampler steps per walker (half burn-in; default "
        "3000)"))


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
    posterior: PosteriorSettings = Field(default_factory=PosteriorSettings,
                                         json_schema_extra=allow(
        "{waves: N, first_points: N, points: N, discrepancy: X, noise_replicates: N, "
        "draws: N, temperature: X, steps: N} (all optional)"))


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
    caveat: str = ""

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
    posterior: PosteriorSettings = field(default_factory=PosteriorSettings)

    def values(self, z: np.ndarray) -> np.ndarray:
        """Unit-cube points (one per row, or one point) -> parameter values, clipped to the
        box: ``low + 1 * (high - low)`` can land one rounding step outside it, which the
        registry refuses."""
        return np.clip(self.low + np.clip(z, 0.0, 1.0) * (self.high - self.low),
                       self.low, self.high)

    def theta(self, z: np.ndarray) -> dict[str, float]:
        """Unit-cube point -> parameter values by name."""
        return {n: float(v) for n, v in zip(self.names, self.values(z), strict=True)}

    def z_of(self, theta: dict[str, float]) -> np.ndarray:
        return np.array([(theta[n] - lo) / (hi - lo) for n, lo, hi in
                         zip(self.names, self.low, self.high, strict=True)])

    def params(self, theta: dict[str, float]) -> Params:
        return Params({**self.base, **theta})

    def inputs(self) -> Inputs:
        return default_inputs(self.start, self.end, scale=self.scale)

    def digest(self) -> str:
        """Identifies everything that determines an evaluation's result, apart from the
        machine's arithmetic (engine/numerics.py), which each logged record carries."""
        text = json.dumps({"engine": RESULTS_VERSION,
                           "seed": self.seed, "R": self.replicates, "start": self.start,
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
                      m.source, m.caveat)

    names = list(schema.free_parameters)
    return Spec(schema.name, path, schema.seed, schema.replicates, schema.period.start,
                schema.period.end, [as_moment(m) for m in schema.targets],
                [as_moment(m) for m in schema.holdout], names,
                np.array([schema.free_parameters[n].low for n in names], float),
                np.array([schema.free_parameters[n].high for n in names], float),
                base, schema.scale, schema.posterior)


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

"""Scenario files: a typed schema (pydantic), ``extends`` with deep merge, and validation that
reports every problem at once with file, line, key, the value given and what is allowed.

A scenario resolves to the run's :class:`~simulation.inputs.Inputs` and
:class:`~simulation.parameters.Params`; relative paths are taken relative to the file that
wrote them (so a base file's CSV still resolves when another folder's scenario extends it).
"""

from __future__ import annotations

import csv
import difflib
from pathlib import Path
from typing import Any, Literal, TypeVar

import numpy as np
from pydantic import BaseModel, ConfigDict, Field, ValidationError, model_validator

from .geography import Geography, GeographyError, load_geography
from .inputs import AllocationPolicy, Inputs, background_stock, default_composition, default_volumes
from .parameters import BY_NAME, ParameterError, Params, suggest
from .yamlsource import InputError, KeyPath, Problem, Sourced, deep_merge, dotted, load_yaml

BUILT_IN = "built-in"
POLICY_KEYS = ("rights_years", "rights_cost", "job_move_exemption", "rights_self_sufficiency",
               "programme_years")
MAX_EXTENDS_DEPTH = 20


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", strict=True)


class Period(_Strict):
    """Simulated calendar years, inclusive. Years after 2024 are projections and need volumes."""

    start: int = Field(2010, ge=1990, le=2100, description="first simulated year")
    end: int = Field(2023, ge=1990, le=2100, description="last simulated year")

    @model_validator(mode="after")
    def _ordered(self) -> Period:
        if self.end < self.start:
            raise ValueError(f"end ({self.end}) is before start ({self.start})")
        return self


class VolumesFile(_Strict):
    """Yearly volumes from a CSV with columns year, persons."""

    from_: str = Field(alias="from", description="CSV path with columns year, persons")


class Allocation(_Strict):
    """Who may settle refugees (MODEL.md 4.1 scenario levers)."""

    exclude_below_population: int = Field(
        0, ge=0, le=1_000_000,
        description="no settlement in municipalities with fewer inhabitants (persons)")
    exclude_centrality: list[Literal[1, 2, 3, 4, 5, 6]] = Field(
        default_factory=list, description="no settlement in these centrality classes (1-6)")
    quotas: str | None = Field(
        None, description="CSV with columns municipality, weight: fixed shares of each "
                          "year's volume (replaces the size-based allocation)")
    continuity_only: bool = Field(
        False, description="settle only in the municipalities that settle every year (the "
                           "set asked in low-volume years); the same volume goes to them")


class Settlement(_Strict):
    """Arrivals: yearly volumes and how they are allocated."""

    volumes: Literal["built-in"] | dict[int, float] | VolumesFile = Field(
        BUILT_IN, description="persons settled per year: 'built-in' (IMDi 2010-2024), a "
                              "mapping year: persons, or {from: CSV with year, persons}")
    composition_like: int | None = Field(
        None, ge=2010, le=2024,
        description="use the built-in arrivals' composition (household types, country groups) "
                    "of this year for every year; default: each year's own (years after 2024 "
                    "like 2024, an estimate)")
    allocation: Allocation = Field(default_factory=Allocation)


class Policy(_Strict):
    """Policy levers (registry parameters; ranges as in `secmig params`)."""

    rights_years: Any = None
    rights_cost: Any = None
    job_move_exemption: Any = None
    rights_self_sufficiency: Any = None
    programme_years: Any = None


class Outputs(_Strict):
    """Where and how results are written."""

    directory: str | None = Field(None, description="output folder, relative to where secmig "
                                                    "runs (default outputs/<name>)")
    formats: list[Literal["csv", "parquet"]] = Field(
        default_factory=lambda: ["csv"], description="table formats: csv and/or parquet")


class ScenarioSchema(_Strict):
    """A scenario file."""

    name: str = Field(pattern=r"^[A-Za-z0-9][A-Za-z0-9_.-]{0,79}$",
                      description="short name, used for the output folder")
    description: str = Field("", description="what this scenario asks, in words")
    period: Period = Field(default_factory=Period)
    seed: int = Field(20250614, ge=0, le=2**63 - 1, description="scenario random seed")
    replicates: int = Field(10, ge=1, le=10_000, description="replicate runs")
    geography: str = Field(BUILT_IN, description="'built-in' or a CSV path with the columns "
                                                 "of simulation/data/municipalities_no.csv")
    settlement: Settlement = Field(default_factory=Settlement)
    policy: Policy = Field(default_factory=Policy)
    parameters: dict[str, Any] = Field(
        default_factory=dict, description="overrides by registry name; 'from: FILE' reads a "
                                          "YAML file whose 'parameters' mapping comes first")
    outputs: Outputs = Field(default_factory=Outputs)


class Scenario:
    """A validated, resolved scenario: what to run, with absolute paths."""

    def __init__(self, schema: ScenarioSchema, source: Sourced, files: list[Path],
                 params: Params, inputs: Inputs) -> None:
        self.schema = schema
        self.source = source
        self.files = files  # the scenario file first, then every base it extends
        self.params = params
        self.inputs = inputs
        self.posterior_draws: list[dict[str, Any]] = []  # from a fitted `parameters.from` file
        self.explicit: dict[str, Any] = {}  # values set in the scenario itself (incl. policy)

    def posterior(self, k: int) -> list[Params]:
        """Parameter sets for the first k posterior draws: each draw over the point estimate,
        with the scenario's own settings (policy levers, explicit parameters) on top."""
        if k > len(self.posterior_draws):
            raise InputError([Problem(str(self.files[0]), None, "parameters.from",
                                      f"--posterior {k} asks for more posterior draws than the "
                                      f"fitted file has ({len(self.posterior_draws)})")])
        base = dict(self.params)
        return [Params({**base, **{n: v for n, v in d.items() if n in BY_NAME},
                        **self.explicit}) for d in self.posterior_draws[:k]]

    @property
    def name(self) -> str:
        return self.schema.name

    def input_files(self) -> list[Path]:
        """Every file this scenario reads: its YAML chain, CSVs, parameter files, built-in data."""
        from .geography import BUILTIN_CSV
        from .inputs import REGISTER_FILE

        files = list(self.files)
        sch, src = self.schema, self.source
        if sch.geography != BUILT_IN:
            files.append(_path(src, ("geography",), sch.geography))
        else:
            files.append(Path(BUILTIN_CSV))
        if isinstance(sch.settlement.volumes, VolumesFile):
            files.append(_path(src, ("settlement", "volumes", "from"),
                               sch.settlement.volumes.from_))
        if sch.settlement.allocation.quotas:
            files.append(_path(src, ("settlement", "allocation", "quotas"),
                               sch.settlement.allocation.quotas))
        if isinstance(sch.parameters.get("from"), str):
            files.append(_path(src, ("parameters", "from"), sch.parameters["from"]))
        files.append(Path(str(REGISTER_FILE)))
        return files

    def resolved(self) -> dict[str, Any]:
        """The scenario after extends and defaults, as plain data (for scenario.resolved.yaml)."""
        data = self.schema.model_dump(by_alias=True)
        data["parameters"] = dict(self.params)
        data["policy"] = {k: self.params[k] for k in POLICY_KEYS}
        data["settlement"]["volumes"] = {int(y): float(v)
                                         for y, v in self.inputs.volumes.items()}
        return data


# --- loading --------------------------------------------------------------------------------

def _load_chain(path: Path, seen: list[Path]) -> tuple[Sourced, list[Path]]:
    resolved = path.resolve()
    if resolved in seen:
        cycle = " -> ".join(str(p) for p in [*seen, resolved])
        raise InputError([Problem(str(seen[-1]), None, "extends", f"extends cycle: {cycle}")])
    if len(seen) > MAX_EXTENDS_DEPTH:
        raise InputError([Problem(str(path), None, "extends", "extends chain too deep")])
    doc = load_yaml(path)
    if doc.data is None:
        doc.data = {}
    if not isinstance(doc.data, dict):
        raise InputError([Problem(str(path), 1, "", "a scenario file must be a mapping of keys "
                                  f"(got {type(doc.data).__name__})")])
    base_ref = doc.data.pop("extends", None)
    if base_ref is None:
        return doc, [resolved]
    if not isinstance(base_ref, str) or not base_ref:
        line = doc.lines.get(("extends",), (str(path), None))[1]
        raise InputError([Problem(str(path), line, "extends",
                                  f"got {base_ref!r}; allowed: a path to a scenario file")])
    base_path = (path.parent / base_ref)
    if not base_path.exists():
        line = doc.lines.get(("extends",), (str(path), None))[1]
        raise InputError([Problem(str(path), line, "extends",
                                  f"file not found: {base_ref!r} (looked in {path.parent})")])
    base, files = _load_chain(base_path, [*seen, resolved])
    return deep_merge(base, doc), [resolved, *files]


Model = TypeVar("Model", bound=BaseModel)


def load_checked(path: str | Path, schema: type[Model], kind: str) -> tuple[Sourced, Model]:
    """A YAML file that must be a mapping, validated against ``schema``: the shared front door
    of calibration and sweep files (problems name file, line and key, with a did-you-mean)."""
    src = load_yaml(path)
    if not isinstance(src.data, dict):
        raise InputError([Problem(str(path), 1, "", f"a {kind} file must be a mapping")])
    try:
        return src, schema.model_validate(src.data)
    except ValidationError as err:
        raise InputError(_pydantic_problems(err, src, schema)) from None


def _pydantic_problems(err: ValidationError, src: Sourced,
                       root: type[BaseModel]) -> list[Problem]:
    """pydantic's errors as problems with file, line and key; unknown keys get a did-you-mean
    from ``root`` (the file's schema) at that place."""
    problems = []
    for e in err.errors():
        loc: KeyPath = tuple(p for p in e["loc"] if not (isinstance(p, str) and "[" in p))
        # drop pydantic's union branch labels such as 'literal['built-in']' or 'dict[int,float]'
        loc = tuple(p for p in loc if p not in ("VolumesFile", "function-after[_ordered()]"))
        file, line = src.where(loc)
        value = e.get("input")
        if e["type"] == "extra_forbidden":
            parent = _schema_at(loc[:-1], root)
            hint = ""
            if parent is not None:
                close = difflib.get_close_matches(str(loc[-1]), list(parent.model_fields), n=1)
                hint = f" (did you mean '{close[0]}'?)" if close else ""
                allowed = ", ".join(parent.model_fields)
            msg = f"unknown key{hint}; allowed keys here: {allowed}" if parent else "unknown key"
        elif e["type"] == "missing":
            msg = "required key is missing"
        elif e["type"] == "string_pattern_mismatch" and loc == ("name",):
            msg = (f"got {value!r}; allowed: letters, digits, '_', '.', '-' (no spaces), "
                   "starting with a letter or digit, at most 80 characters")
        else:
            msg = f"{e['msg'].removeprefix('Value error, ')} (got {value!r})"
        problems.append(Problem(file, line, dotted(loc), msg))
    return problems


def _schema_at(path: KeyPath, root: type[BaseModel]) -> type[BaseModel] | None:
    model = root
    for part in path:
        field = model.model_fields.get(str(part))
        if field is None:
            return None
        ann = field.annotation
        candidates = [ann, *getattr(ann, "__args__", ())]
        nxt = next((c for c in candidates if isinstance(c, type) and issubclass(c, BaseModel)),
                   None)
        if nxt is None:
            return None
        model = nxt
    return model


def _path(src: Sourced, key: KeyPath, value: str) -> Path:
    """A path written in the file that set ``key``, resolved against that file's folder."""
    file, _ = src.where(key)
    return (Path(file).parent / value).resolve()


def _problem(src: Sourced, key: KeyPath, msg: str) -> Problem:
    file, line = src.where(key)
    return Problem(file, line, dotted(key), msg)


def _read_csv(path: Path, columns: tuple[str, ...]) -> list[dict[str, str]]:
    with path.open(encoding="utf-8-sig", newline="") as fh:
        reader = csv.DictReader(fh)
        missing = [c for c in columns if c not in (reader.fieldnames or [])]
        if missing:
            raise ValueError(f"{path}: missing column(s) {', '.join(missing)}; expected "
                             f"header with {', '.join(columns)} (got {reader.fieldnames})")
        return list(reader)


def _volumes(schema: ScenarioSchema, src: Sourced, problems: list[Problem]
             ) -> dict[int, float]:
    vol = schema.settlement.volumes
    key: KeyPath = ("settlement", "volumes")
    volumes = default_volumes()
    if isinstance(vol, VolumesFile):
        csv_path = _path(src, (*key, "from"), vol.from_)
        try:
            rows = _read_csv(csv_path, ("year", "persons"))
            given = {}
            for i, row in enumerate(rows, start=2):
                try:
                    year, persons = int(row["year"]), float(row["persons"])
                except (TypeError, ValueError):
                    raise ValueError(f"{csv_path}: line {i}: year must be a whole number and "
                                     f"persons a number (got {row})") from None
                if persons < 0:
                    raise ValueError(f"{csv_path}: line {i}: persons must be >= 0 "
                                     f"(got {persons})")
                given[year] = persons
            volumes.update(given)
        except FileNotFoundError:
            problems.append(_problem(src, (*key, "from"), f"file not found: {csv_path}"))
        except (ValueError, OSError) as err:
            problems.append(_problem(src, (*key, "from"), str(err)))
    elif isinstance(vol, dict):
        for year, persons in vol.items():
            if persons < 0:
                problems.append(_problem(src, (*key, year),
                                         f"persons must be >= 0 (got {persons})"))
        volumes.update({int(y): float(v) for y, v in vol.items()})
    period = schema.period
    missing = [y for y in range(period.start, period.end + 1) if y not in volumes]
    if missing:
        problems.append(_problem(src, key, f"no settlement volume for year(s) {missing}: "
                                 f"built-in volumes cover {min(default_volumes())}-"
                                 f"{max(default_volumes())}; give the others as a mapping "
                                 "year: persons or from a CSV"))
    return {y: volumes[y] for y in range(period.start, period.end + 1) if y in volumes}


def _parameters(raw_parameters: Any, raw_policy: Any, src: Sourced, problems: list[Problem],
                draws: list[dict[str, Any]] | None = None) -> dict[str, Any]:
    """Registry overrides from `parameters` (and its `from:` file) and `policy`, checked by
    name and range; works on the raw data so it reports even when other keys are invalid."""
    overrides: dict[str, Any] = {}
    raw = dict(raw_parameters) if isinstance(raw_parameters, dict) else {}
    policy = {k: v for k, v in raw_policy.items() if k in POLICY_KEYS and v is not None} \
        if isinstance(raw_policy, dict) else {}
    source = raw.pop("from", None)
    if source is not None:
        key: KeyPath = ("parameters", "from")
        if not isinstance(source, str):
            problems.append(_problem(src, key, f"got {source!r}; allowed: a path to a YAML "
                                     "file with a 'parameters' mapping"))
        else:
            try:
                fitted = load_yaml(_path(src, key, source))
                values = (fitted.data or {}).get("parameters") if isinstance(
                    fitted.data, dict) else None
                if not isinstance(values, dict):
                    raise InputError([Problem(fitted.file, 1, "parameters",
                                              "expected a mapping 'parameters: {name: value}'")])
                if draws is not None and isinstance(fitted.data.get("posterior_draws"), list):
                    draws.extend(d for d in fitted.data["posterior_draws"] if isinstance(d, dict))
                for name, value in values.items():
                    if name not in BY_NAME:
                        f, line = fitted.where(("parameters", name))
                        problems.append(Problem(f, line, f"parameters.{name}",
                                                f"unknown parameter{suggest(name)}"))
                    else:
                        overrides[name] = value
            except InputError as err:
                problems.extend(err.problems)
    for name, value in raw.items():
        if name in policy:
            problems.append(_problem(src, ("parameters", name),
                                     f"also set under policy.{name}; set it in one place"))
        overrides[name] = value
    overrides.update(policy)
    checked: dict[str, Any] = {}
    for name, value in overrides.items():
        key = ("policy", name) if name in policy else ("parameters", str(name))
        if name not in BY_NAME:
            problems.append(_problem(src, key, f"unknown parameter{suggest(str(name))}; see "
                                     "`secmig params` for the list"))
            continue
        try:
            checked[name] = BY_NAME[name].check(value)
        except ParameterError as err:
            problems.append(_problem(src, key, f"got {value!r}; allowed: {err.allowed}"))
    return checked


def _geography(schema: ScenarioSchema, src: Sourced, problems: list[Problem]
               ) -> Geography | None:
    if schema.geography == BUILT_IN:
        return load_geography()
    path = _path(src, ("geography",), schema.geography)
    try:
        return load_geography(path)
    except GeographyError as err:
        problems.append(_problem(src, ("geography",), str(err)))
    return None


def _allocation(schema: ScenarioSchema, src: Sourced, geo: Geography | None,
                problems: list[Problem]) -> AllocationPolicy:
    alloc = schema.settlement.allocation
    key: KeyPath = ("settlement", "allocation")
    quotas = None
    if alloc.quotas is not None:
        qpath = _path(src, (*key, "quotas"), alloc.quotas)
        try:
            rows = _read_csv(qpath, ("municipality", "weight"))
            quotas = {}
            for i, row in enumerate(rows, start=2):
                code = (row["municipality"] or "").strip().zfill(4)
                try:
                    weight = float(row["weight"])
                except (TypeError, ValueError):
                    raise ValueError(f"{qpath}: line {i}, column 'weight': got "
                                     f"{row['weight']!r}; allowed: a number >= 0") from None
                if weight < 0:
                    raise ValueError(f"{qpath}: line {i}, column 'weight': got {weight}; "
                                     "allowed: a number >= 0")
                if geo is not None:
                    try:
                        geo.index_of(code)
                    except KeyError:
                        raise ValueError(f"{qpath}: line {i}, column 'municipality': unknown "
                                         f"municipality code {code!r}") from None
                quotas[code] = weight
            if not any(quotas.values()):
                raise ValueError(f"{qpath}: all weights are zero; at least one must be > 0")
        except FileNotFoundError:
            problems.append(_problem(src, (*key, "quotas"), f"file not found: {qpath}"))
        except (ValueError, OSError) as err:
            problems.append(_problem(src, (*key, "quotas"), str(err)))
    policy = AllocationPolicy(exclude_below_population=alloc.exclude_below_population,
                              exclude_centrality=tuple(alloc.exclude_centrality), quotas=quotas,
                              continuity_only=alloc.continuity_only)
    if geo is not None:
        eligible = (geo.population >= policy.exclude_below_population)
        eligible &= ~np.isin(geo.centrality, policy.exclude_centrality)
        if quotas is not None:
            eligible &= np.isin(geo.codes, [c for c, w in quotas.items()
                                                               if w > 0])
        if not eligible.any():
            problems.append(_problem(src, key, "this allocation excludes every municipality"))
    return policy


def _sorted(problems: list[Problem]) -> list[Problem]:
    return sorted(problems, key=lambda p: (p.file, p.line or 0, p.key))


def load_scenario(path: str | Path, *, seed: int | None = None,
                  replicates: int | None = None) -> Scenario:
    """Load, merge, validate and resolve a scenario file; raise InputError with all problems."""
    path = Path(path)
    src, files = _load_chain(path, [])
    data = dict(src.data)
    # a section left empty (all its keys commented out) reads as null: use its defaults
    for section in ("period", "settlement", "policy", "parameters", "outputs"):
        if section in data and data[section] is None:
            del data[section]
    data.setdefault("name", path.stem)
    if seed is not None:
        data["seed"] = seed
    if replicates is not None:
        data["replicates"] = replicates
    problems: list[Problem] = []
    draws: list[dict[str, Any]] = []
    checked = _parameters(data.get("parameters"), data.get("policy"), src, problems, draws)
    explicit = _parameters({k: v for k, v in (data.get("parameters") or {}).items()
                            if k != "from"} if isinstance(data.get("parameters"), dict) else {},
                           data.get("policy"), src, [])
    try:
        schema = ScenarioSchema.model_validate(data)
    except ValidationError as err:
        problems = _pydantic_problems(err, src, ScenarioSchema) + problems
        raise InputError(_sorted(problems)) from None
    volumes = _volumes(schema, src, problems)
    geo = _geography(schema, src, problems)
    allocation = _allocation(schema, src, geo, problems)
    if problems or geo is None:
        raise InputError(_sorted(problems))
    inputs = Inputs(
        start=schema.period.start, end=schema.period.end, volumes=volumes,
        composition={y: default_composition(schema.settlement.composition_like or min(y, 2024))
                     for y in range(schema.period.start, schema.period.end + 1)},
        geography=geo, background_stock=background_stock(geo), allocation=allocation,
    )
    scenario = Scenario(schema, src, files, Params(checked), inputs)
    scenario.posterior_draws = draws
    scenario.explicit = explicit
    return scenario

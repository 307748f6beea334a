"""Scenario files: a typed schema (pydantic), ``extends`` with deep merge, and validation that
reports every problem at once with file, line, key, the value given and what is allowed.

A scenario resolves to the run's :class:`~simulation.inputs.defaults.Inputs` and
:class:`~simulation.inputs.parameters.Params`; relative paths are taken relative to the file that
wrote them (so a base file's CSV still resolves when another folder's scenario extends it).
"""

from __future__ import annotations

import copy
import csv
import dataclasses
import difflib
import io
import math
import re
import unicodedata
from pathlib import Path
from typing import Annotated, Any, Literal

import numpy as np
from pydantic import (
    AfterValidator,
    BaseModel,
    ConfigDict,
    Field,
    ValidationError,
    field_validator,
    model_validator,
)

from simulation.inputs.defaults import (
    AllocationPolicy,
    Inputs,
    background_stock,
    default_composition,
    default_volumes,
)
from simulation.inputs.geography import Geography, GeographyError, load_geography
from simulation.inputs.limits import MAX_REPLICATES, MAX_SEED
from simulation.inputs.parameters import BY_NAME, ParameterError, Params, suggest
from simulation.inputs.yamlsource import (
    MAX_PROBLEMS,
    MAX_YAML_BYTES,
    InputError,
    KeyPath,
    Problem,
    Sourced,
    cut,
    deep_merge,
    dotted,
    file_problem,
    load_yaml,
    read_text,
    show,
)

BUILT_IN = "built-in"
POLICY_KEYS = ("rights_years", "rights_cost", "job_move_exemption", "rights_self_sufficiency",
               "programme_years")
MAX_EXTENDS_DEPTH = 20
MAX_NAME = 120  # characters in a scenario name
MAX_SLUG = 100  # characters in an output folder name derived from it
MAX_VOLUME = 500_000  # persons settled in one year (~15x the largest year on record, 2016)
MAX_WEIGHT = 1e9  # a quota weight (relative; persons or shares)
MAX_CSV_BYTES = 20_000_000  # volumes and quota CSVs (a few kB in practice)
MAX_PATH = 4096  # characters in a file path


def _path_ok(value: str) -> str:
    if "\0" in value or any(unicodedata.category(c) == "Cc" for c in value):
        raise ValueError(f"got {show(value)}; a file path must not contain control characters")
    if len(value) > MAX_PATH:
        raise ValueError(f"got a path of {len(value):,} characters; allowed: at most {MAX_PATH}")
    if not value.strip():
        raise ValueError("got an empty path; write the path of a file")
    return value


PathStr = Annotated[str, AfterValidator(_path_ok)]
_BIDI = set("\u202a\u202b\u202c\u202d\u202e\u2066\u2067\u2068\u2069")


def name_problem(name: str) -> str | None:
    """Why ``name`` is not allowed as a scenario name, or None. Any script, digits, spaces and
    punctuation are fine; refused: empty, too long, path separators, '..', control characters."""
    allowed = (f"allowed: 1-{MAX_NAME} characters: letters of any script, digits, spaces and "
               "punctuation, without '/', '\\', '..' or control characters, e.g. "
               "name: Tromsø – ingen regel")
    if not name.strip():
        return f"got an empty name; {allowed}"
    if len(name) > MAX_NAME:
        return f"got a name of {len(name)} characters; {allowed}"
    bad = [c for c in name if unicodedata.category(c) in ("Cc", "Cs", "Zl", "Zp") or c in _BIDI]
    if bad:
        return f"got {show(name)}, which contains the control character {bad[0]!r}; {allowed}"
    for sep in ("/", "\\", ".."):
        if sep in name:
            return f"got {show(name)}, which contains {sep!r}; {allowed}"
    return None


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

    from_: PathStr = Field(alias="from", description="CSV path with columns year, persons")


class Allocation(_Strict):
    """Who may settle refugees (MODEL.md 4.1 scenario levers)."""

    exclude_below_population: int = Field(
        0, ge=0, le=1_000_000,
        description="no settlement in municipalities with fewer inhabitants (persons)")
    exclude_centrality: list[Literal[1, 2, 3, 4, 5, 6]] = Field(
        default_factory=list, description="no settlement in these centrality classes (1-6)")
    quotas: PathStr | None = Field(
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

    directory: PathStr | None = Field(None, description="output folder, relative to where secmig "
                                                    "runs (default outputs/<name>)")
    formats: list[Literal["csv", "parquet"]] = Field(
        default_factory=lambda: ["csv"], description="table formats: csv and/or parquet")


class ScenarioSchema(_Strict):
    """A scenario file."""

    name: str = Field(description="short name in words (any script); the output folder is "
                                  "derived from it")
    description: str = Field("", description="what this scenario asks, in words")
    period: Period = Field(default_factory=Period)
    seed: int = Field(20250614, ge=0, le=MAX_SEED, description="scenario random seed")
    replicates: int = Field(10, ge=1, le=MAX_REPLICATES, description="replicate runs")
    geography: PathStr = Field(BUILT_IN, description="'built-in' or a CSV path with the columns "
                                                 "of simulation/data/municipalities_no.csv")
    settlement: Settlement = Field(default_factory=Settlement)
    policy: Policy = Field(default_factory=Policy)
    parameters: dict[str, Any] = Field(
        default_factory=dict, description="overrides by registry name; 'from: FILE' reads a "
                                          "YAML file whose 'parameters' mapping comes first")
    outputs: Outputs = Field(default_factory=Outputs)

    @field_validator("name")
    @classmethod
    def _name(cls, value: str) -> str:
        problem = name_problem(value)
        if problem:
            raise ValueError(problem)
        return value


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

    @property
    def slug(self) -> str:
        """A safe folder and file name derived from ``name`` (see :func:`output_slug`)."""
        return output_slug(self.schema.name)

    def input_files(self) -> list[Path]:
        """Every file this scenario reads: its YAML chain, CSVs, parameter files, built-in data."""
        from simulation.inputs.defaults import REGISTER_FILE
        from simulation.inputs.geography import BUILTIN_CSV

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


_WINDOWS_RESERVED = frozenset({"CON", "PRN", "AUX", "NUL", *(f"COM{i}" for i in range(10)),
                               *(f"LPT{i}" for i in range(10))})


def output_slug(name: str) -> str:
    """A safe folder/file name for a scenario name: NFKC-normalised; letters (any script),
    digits, '_' and '.' kept; every other run of characters (spaces, punctuation, symbols)
    becomes one '-'; no leading or trailing dots/dashes; never empty, '.' or '..'; at most
    MAX_SLUG characters and 200 bytes. "Tromsø – ingen regel" -> "Tromsø-ingen-regel"."""
    text = unicodedata.normalize("NFKC", str(name))
    out = []
    for ch in text:
        cat = unicodedata.category(ch)
        out.append(ch if cat[0] in "LN" or (cat[0] == "M" and out) or ch in "_." else "-")
    slug = re.sub(r"[-_.]*-[-_.]*", "-", "".join(out))  # a run with a dash: one dash
    slug = re.sub(r"\.{2,}", ".", slug)
    slug = slug.strip("-._")[:MAX_SLUG]
    while len(slug.encode("utf-8")) > 200:
        slug = slug[:-1]
    slug = slug.strip("-._")
    if not slug:
        return "scenario"
    if slug.split(".")[0].upper() in _WINDOWS_RESERVED:
        slug = f"{slug}-scenario"
    return slug


# --- loading --------------------------------------------------------------------------------

_TOP_KEYS = frozenset({"extends", *ScenarioSchema.model_fields})


def _kind(value: Any) -> str:
    """What a non-mapping document reads as, in words (never its content)."""
    if isinstance(value, str):
        return f"text of {len(value):,} characters"
    if isinstance(value, list):
        return f"a list of {len(value):,} items"
    return f"a single value ({type(value).__name__})"


def _load_chain(path: Path, seen: list[Path]) -> tuple[Sourced, list[Path]]:
    resolved = path.resolve()
    if resolved in seen:
        cycle = " -> ".join(str(p) for p in [*seen, resolved])
        raise InputError([Problem(str(seen[-1]), None, "extends", f"extends cycle: {cycle}")])
    if len(seen) > MAX_EXTENDS_DEPTH:
        raise InputError([Problem(str(path), None, "extends", "extends chain too deep; "
                                  f"allowed: at most {MAX_EXTENDS_DEPTH} files")])
    doc = load_yaml(path)
    if doc.data is None:
        doc.data = {}
    if not isinstance(doc.data, dict):
        raise InputError([Problem(str(path), 1, "", "a scenario file must be a mapping of keys "
                                  "such as name:, period:, settlement: (this file reads as "
                                  f"{_kind(doc.data)})")])
    keys = list(doc.data)
    if len(keys) > 3 and not any(isinstance(k, str) and k in _TOP_KEYS for k in keys):
        raise InputError([Problem(str(path), 1, "", f"not a scenario file: none of its "
                                  f"{len(keys):,} top-level keys is a scenario key (its "
                                  "content is not shown); allowed keys: extends, "
                                  f"{', '.join(ScenarioSchema.model_fields)}")])
    base_ref = doc.data.pop("extends", None)
    if base_ref is None:
        return doc, [resolved]
    line = doc.lines.get(("extends",), (str(path), None))[1]
    if not isinstance(base_ref, str) or not base_ref.strip():
        raise InputError([Problem(str(path), line, "extends",
                                  f"got {show(base_ref)}; write the path of a scenario file, "
                                  "e.g. extends: baseline.yaml")])
    try:
        _path_ok(base_ref)
    except ValueError as err:
        raise InputError([Problem(str(path), line, "extends", str(err))]) from None
    base_path = (path.parent / base_ref)
    why = file_problem(base_path, limit=MAX_YAML_BYTES, kind="YAML scenario file")
    if why == "file not found":
        raise InputError([Problem(str(path), line, "extends",
                                  f"file not found: {show(base_ref)} (looked in {path.parent})")])
    if why is not None:
        raise InputError([Problem(str(path), line, "extends", f"{base_ref}: {why}")])
    base, files = _load_chain(base_path, [*seen, resolved])
    return deep_merge(base, doc), [resolved, *files]


# What to write, by key path (list positions left out), for the scenario schema's messages.
WRITE: dict[str, str] = {
    "name": "text (letters of any script, digits, spaces, punctuation), "
            "e.g. name: Tromsø – ingen regel",
    "description": "text, e.g. description: One sentence a reader of the report understands",
    "period": "a mapping, e.g. period: {start: 2010, end: 2023}",
    "period.start": "a year from 1990 to 2100, e.g. start: 2010",
    "period.end": "a year from 1990 to 2100, not before start, e.g. end: 2023",
    "seed": f"a whole number from 0 to {MAX_SEED}, e.g. seed: 20250614",
    "replicates": f"a whole number from 1 to {MAX_REPLICATES}, e.g. replicates: 10",
    "geography": "built-in or the path of a CSV file, e.g. geography: municipalities.csv",
    "settlement": "a mapping with volumes, composition_like and allocation, "
                  "e.g. settlement: {volumes: built-in}",
    "settlement.volumes": "built-in, a mapping year: persons (e.g. volumes: {2025: 18900, "
                          "2026: 10000}) or {from: volumes.csv} (columns year, persons)",
    "settlement.volumes.from": "the path of a CSV file with columns year, persons, "
                               "e.g. volumes: {from: volumes.csv}",
    "settlement.composition_like": "a year from 2010 to 2024, e.g. composition_like: 2016",
    "settlement.allocation": "a mapping, e.g. allocation: {exclude_centrality: [6]}",
    "settlement.allocation.exclude_below_population":
        "a whole number of inhabitants from 0 to 1000000, "
        "e.g. exclude_below_population: 5000",
    "settlement.allocation.exclude_centrality":
        "a list of centrality classes 1-6, e.g. exclude_centrality: [6]",
    "settlement.allocation.quotas": "the path of a CSV file with columns municipality, weight, "
                                    "e.g. quotas: quotas.csv",
    "settlement.allocation.continuity_only": "true or false",
    "policy": "a mapping of policy levers, e.g. policy: {rights_years: 5}",
    "parameters": "a mapping name: number, e.g. parameters: {move_intercept: -1.0}",
    "outputs": "a mapping, e.g. outputs: {formats: [csv]}",
    "outputs.directory": "the path of a folder, e.g. directory: outputs/my-scenario",
    "outputs.formats": "a list of csv and/or parquet, e.g. formats: [csv, parquet]",
}
_TYPE_WORDS = {
    "int_type": "a whole number", "int_parsing": "a whole number",
    "int_from_float": "a whole number", "float_type": "a number",
    "float_parsing": "a number", "finite_number": "a finite number",
    "bool_type": "true or false", "bool_parsing": "true or false",
    "string_type": "text", "list_type": "a list, e.g. [a, b]",
    "dict_type": "a mapping of keys", "model_type": "a mapping of keys",
    "model_attributes_type": "a mapping of keys", "tuple_type": "a list",
    "set_type": "a list",
}
_BRANCH = re.compile(r"^(VolumesFile$|function-|lax-|strict-|json-|tagged-union)")


def _got(value: Any) -> str:
    """'got X' for a message; notes quoted numbers and true/false written in quotes."""
    note = ""
    if isinstance(value, str):
        low = value.strip().lower()
        if low in ("true", "false"):
            note = " (in quotes, so it is text; write true or false without quotes)"
        elif re.fullmatch(r"[-+]?[\d.]+e[-+]?\d+", low):
            note = (" (YAML reads a number like 1e6 as text; write 1000000 or 1.0e+6, "
                    "without quotes)")
        else:
            try:
                float(low)
                note = " (in quotes, so it is text; write the number without quotes)"
            except ValueError:
                pass
    return f"got {show(value)}{note}"


def _constraint_words(e: dict[str, Any]) -> str:
    ctx = e.get("ctx") or {}
    t = e["type"]
    if t == "greater_than_equal":
        return f"a value >= {ctx.get('ge')}"
    if t == "greater_than":
        return f"a value > {ctx.get('gt')}"
    if t == "less_than_equal":
        return f"a value <= {ctx.get('le')}"
    if t == "less_than":
        return f"a value < {ctx.get('lt')}"
    if t == "literal_error":
        return f"one of {ctx.get('expected')}"
    if t in ("too_short", "too_long"):
        return cut(e["msg"], 100).lower()
    return _TYPE_WORDS.get(t, "")


def _clean_loc(raw_loc: tuple[Any, ...]) -> KeyPath:
    """pydantic's error location without its union branch labels ('dict[int,float]' ...)."""
    return tuple(p for p in raw_loc if not (isinstance(p, str) and (
        "[" in p or _BRANCH.match(p))))


def _relevant(err: ValidationError, data: Any, root: type[BaseModel]
              ) -> list[tuple[KeyPath, dict[str, Any]]]:
    """(location, error) of each error worth reporting: of the `settlement.volumes` union
    only the branch the user meant (a file, a mapping of years, or one message)."""
    out = []
    vol = _get(data, ("settlement", "volumes"))
    for e in err.errors():
        raw = tuple(e["loc"])
        loc = _clean_loc(raw)
        if root is ScenarioSchema and loc[:2] == ("settlement", "volumes"):
            labels = [str(p) for p in raw]
            if isinstance(vol, dict) and "from" in vol:
                if "VolumesFile" not in labels:
                    continue
            elif isinstance(vol, dict) and vol:
                if "dict[int,float]" not in labels:
                    continue
                e = {**e, "type": "volume_key" if "[key]" in labels else "volume_value"}
            else:
                loc = ("settlement", "volumes")
                e = {**e, "type": "volumes", "input": vol}
        out.append((loc, e))
    return out


def _pydantic_problems(err: ValidationError, src: Sourced,
                       root: type[BaseModel]) -> list[Problem]:
    """pydantic's errors as problems with file, line and key, in the user's words: the value
    given and what to write. Unknown keys get a did-you-mean from ``root`` at that place."""
    problems: list[Problem] = []
    done: set[tuple[str, str]] = set()
    for loc, e in _relevant(err, src.data, root):
        file, line = src.where(loc)
        value = e.get("input")
        field_path = ".".join(str(p) for p in loc if not isinstance(p, int))
        what = WRITE.get(field_path) if root is ScenarioSchema else None
        if e["type"] == "volumes":
            msg = f"{_got(value)}; write {WRITE['settlement.volumes']}"
        elif e["type"] == "volume_key":
            msg = (f"got the key {show(loc[-1])}; write years as whole numbers, e.g. "
                   "volumes: {2025: 18900}")
        elif e["type"] == "volume_value":
            msg = (f"{_got(value)}; write the number of persons settled that year, "
                   f"from 0 to {MAX_VOLUME:,}")
        elif e["type"] == "extra_forbidden":
            parent = _schema_at(loc[:-1], root)
            msg = "unknown key"
            if parent is not None:
                # did-you-mean only for the first problems (the rest are not listed anyway)
                close = difflib.get_close_matches(str(loc[-1])[:100], list(
                    parent.model_fields), n=1) if len(problems) < MAX_PROBLEMS else []
                hint = f" (did you mean '{close[0]}'?)" if close else ""
                msg = (f"unknown key{hint}; allowed keys here: "
                       f"{', '.join(f.alias or n for n, f in parent.model_fields.items())}")
        elif e["type"] == "missing":
            msg = "required key is missing" + (f"; write {what}" if what else "")
        elif e["type"] == "value_error":
            msg = e["msg"].removeprefix("Value error, ")
            if not msg.startswith("got"):
                msg = f"{msg} ({_got(value)})"
        else:
            if what is None:
                what = _constraint_words(e) or cut(e["msg"], 80).lower()
                desc = _description(loc, root)
                if desc:
                    what += f" ({desc})"
            msg = f"{_got(value)}; write {what}"
            if isinstance(value, str) and "quotes" in msg and "true or false" in what:
                msg = _got(value)
        key = dotted(loc)
        if (key, msg) not in done:
            done.add((key, msg))
            problems.append(Problem(file, line, key, msg))
    return problems


def _get(data: Any, path: KeyPath) -> Any:
    for part in path:
        if not isinstance(data, dict) or part not in data:
            return None
        data = data[part]
    return data


def _description(loc: KeyPath, root: type[BaseModel]) -> str:
    parts = [p for p in loc if isinstance(p, str)]
    if not parts:
        return ""
    parent = _schema_at(tuple(parts[:-1]), root)
    if parent is None:
        return ""
    field = parent.model_fields.get(parts[-1])
    return cut(field.description, 100) if field is not None and field.description else ""


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


def _read_csv(path: Path, columns: tuple[str, ...]) -> list[tuple[int, dict[str, str]]]:
    """(line number, row) of each data row of a CSV file with at least ``columns``; a
    ValueError naming the file otherwise (not a regular file, too large, missing columns)."""
    try:
        text = read_text(path, limit=MAX_CSV_BYTES, kind="CSV file")
    except InputError as err:
        raise ValueError(f"{path}: {err.problems[0].message}") from None
    try:
        reader = csv.DictReader(io.StringIO(text, newline=""))
        fields = reader.fieldnames or []
        missing = [c for c in columns if c not in [f.strip() for f in fields]]
        if missing:
            raise ValueError(f"{path}: line 1: missing column(s) {', '.join(missing)}; expected "
                             f"a header with {', '.join(columns)} (got "
                             f"{show(','.join(fields))})")
        reader.fieldnames = [f.strip() for f in fields]
        rows = []
        start = 2
        for row in reader:
            rows.append((start, row))
            start = reader.line_num + 1
        return rows
    except csv.Error as err:
        raise ValueError(f"{path}: not a readable CSV file ({cut(str(err))})") from None


def _cell(row: dict[str, Any], col: str) -> str:
    value = row.get(col)
    return value.strip() if isinstance(value, str) else ""


def _persons_problem(value: Any) -> str | None:
    """Why a yearly settlement volume is not allowed, or None."""
    allowed = f"allowed: a number of persons from 0 to {MAX_VOLUME:,}"
    if isinstance(value, bool) or not isinstance(value, int | float):
        return f"{_got(value)}; {allowed}"
    if isinstance(value, float) and not math.isfinite(value):
        return f"got {value}; {allowed}"
    if value < 0:
        return f"got {value}: persons must be >= 0; {allowed}"
    if value > MAX_VOLUME:
        return (f"got {value:,}; {allowed} (the largest year on record, 2016, settled "
                "about 15,000; a larger number is almost surely a typo)")
    return None


def _year_problem(year: Any) -> str | None:
    if isinstance(year, bool) or not isinstance(year, int) or not 1990 <= year <= 2100:
        return f"got the year {show(year)}; allowed: a year from 1990 to 2100"
    return None


def _volumes(schema: ScenarioSchema, src: Sourced, problems: list[Problem]
             ) -> dict[int, float]:
    vol = schema.settlement.volumes
    key: KeyPath = ("settlement", "volumes")
    volumes = default_volumes()
    if isinstance(vol, VolumesFile):
        csv_path = _path(src, (*key, "from"), vol.from_)
        given: dict[int, float] = {}
        first: dict[int, int] = {}
        try:
            for i, row in _read_csv(csv_path, ("year", "persons")):
                y, p = _cell(row, "year"), _cell(row, "persons")
                try:
                    year = int(y) if len(y) < 10 else None
                except ValueError:
                    year = None
                bad = (f"column 'year': got {show(y)}; allowed: a year from 1990 to 2100"
                       if year is None else
                       (f"column 'year': {_year_problem(year)}" if _year_problem(year) else None))
                if bad is None and year in first:
                    bad = (f"column 'year': {year} is given twice (first on line "
                           f"{first[year]}); give each year once")
                try:
                    persons = float(p) if len(p) < 40 else None
                except ValueError:
                    persons = None
                pbad = (f"column 'persons': got {show(p)}; allowed: a number of persons from 0 "
                        f"to {MAX_VOLUME:,}" if persons is None else
                        (f"column 'persons': {_persons_problem(persons)}"
                         if _persons_problem(persons) else None))
                for b in (bad, pbad):
                    if b:
                        problems.append(_problem(src, (*key, "from"), f"{csv_path}: line {i}, {b}"))
                if bad is None and pbad is None and year is not None and persons is not None:
                    given[year] = persons
                    first[year] = i
            volumes.update(given)
        except ValueError as err:
            problems.append(_problem(src, (*key, "from"), str(err)))
    elif isinstance(vol, dict):
        for year, persons in vol.items():
            why = _year_problem(year) or _persons_problem(persons)
            if why:
                problems.append(_problem(src, (*key, year), why))
            else:
                volumes[int(year)] = float(persons)
    period = schema.period
    missing = [y for y in range(period.start, period.end + 1) if y not in volumes]
    if missing:
        shown = (str(missing) if len(missing) <= 12 else
                 f"{missing[0]}-{missing[-1]} ({len(missing)} years)")
        problems.append(_problem(src, key, f"no settlement volume for year(s) {shown}: "
                                 f"built-in volumes cover {min(default_volumes())}-"
                                 f"{max(default_volumes())}; give the others as a mapping "
                                 "year: persons (e.g. volumes: {2025: 18900}) or from a CSV"))
    return {y: volumes[y] for y in range(period.start, period.end + 1) if y in volumes}


def _number_problem(value: Any, param: Any) -> str | None:
    """Refuse values that are not YAML numbers (or true/false for switches) before the
    registry's range check: '0.5' in quotes, lists, mappings, dates, empty values."""
    if param.kind == "bool":
        if isinstance(value, bool) or (isinstance(value, int) and value in (0, 1)):
            return None
        return f"{_got(value)}; allowed: {param.allowed()}"
    if isinstance(value, bool) or not isinstance(value, int | float):
        return f"{_got(value)}; allowed: {param.allowed()}"
    if isinstance(value, int) and abs(value) > 1e300:
        return f"got a {len(str(abs(value)))}-digit number; allowed: {param.allowed()}"
    return None


def _check_param(name: str, value: Any) -> tuple[float | None, str | None]:
    param = BY_NAME[name]
    why = _number_problem(value, param)
    if why:
        return None, why
    try:
        return param.check(value), None
    except (ParameterError, OverflowError):
        return None, f"{_got(value)}; allowed: {param.allowed()}"


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
        why = None
        if isinstance(source, str):
            try:
                _path_ok(source)
            except ValueError as err:
                why = str(err)
        else:
            why = f"{_got(source)}; write the path of a YAML file with a 'parameters' mapping"
        if why:
            problems.append(_problem(src, key, why))
        else:
            try:
                target = _path(src, key, source)
                why = file_problem(target, limit=MAX_YAML_BYTES, kind="YAML file")
                if why:
                    raise InputError([_problem(src, key, f"{source}: {why}")])
                fitted = load_yaml(target)
                values = (fitted.data or {}).get("parameters") if isinstance(
                    fitted.data, dict) else None
                if not isinstance(values, dict):
                    raise InputError([Problem(fitted.file, 1, "parameters",
                                              "expected a mapping 'parameters: {name: value}'")])
                raw_draws = fitted.data.get("posterior_draws")
                if draws is not None and isinstance(raw_draws, list):
                    for i, d in enumerate(raw_draws):
                        if not isinstance(d, dict):
                            continue
                        good = True
                        for n, v in d.items():
                            if n in BY_NAME:
                                _, why = _check_param(n, v)
                                if why:
                                    f, line = fitted.where(("posterior_draws", i, n))
                                    problems.append(Problem(f, line, dotted(
                                        ("posterior_draws", i, n)), why))
                                    good = False
                        if good:
                            draws.append(d)
                for name, value in values.items():
                    if name not in BY_NAME:
                        f, line = fitted.where(("parameters", name))
                        hint = suggest(str(name)[:100]) if len(problems) < MAX_PROBLEMS else ""
                        problems.append(Problem(f, line, dotted(("parameters", name)),
                                                f"unknown parameter{hint}"))
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
    unknown = 0
    for name, value in overrides.items():
        key = ("policy", name) if name in policy else ("parameters", name)
        if name not in BY_NAME:
            unknown += 1  # did-you-mean only for the first (the rest are not listed anyway)
            hint = suggest(str(name)[:100]) if unknown <= MAX_PROBLEMS else ""
            problems.append(_problem(src, key, f"unknown parameter{hint}; see "
                                     "`secmig params` for the list"))
            continue
        number, why = _check_param(name, value)
        if why:
            problems.append(_problem(src, key, why))
        else:
            checked[name] = number
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


def _name_hint(text: str, geo: Geography | None) -> str:
    """'; 'Oslo' is 0301' when a quota row names a municipality instead of giving its code."""
    if geo is None or not text:
        return ""
    names = [str(n) for n in geo.names]
    by_lower: dict[str, list[int]] = {}
    for i, n in enumerate(names):  # "Våler (Østfold)" is found as "Våler" too
        by_lower.setdefault(n.casefold(), []).append(i)
        short = n.split(" (")[0].casefold()
        if short != n.casefold():
            by_lower.setdefault(short, []).append(i)
    hits = by_lower.get(text.casefold())
    if hits:
        codes = " or ".join(f"{geo.codes[i]} ({names[i]})" if len(hits) > 1
                            else str(geo.codes[i]) for i in hits)
        return f"; {text!r} is {codes}: write the 4-digit code"
    close = difflib.get_close_matches(text.casefold(), list(by_lower), n=3, cutoff=0.75)
    if close:
        return "; did you mean " + " or ".join(
            f"{names[i]!r} ({geo.codes[i]})" for c in close for i in by_lower[c][:2]) + "?"
    return ""


def _allocation(schema: ScenarioSchema, src: Sourced, geo: Geography | None,
                problems: list[Problem]) -> AllocationPolicy:
    alloc = schema.settlement.allocation
    key: KeyPath = ("settlement", "allocation")
    quotas = None
    if alloc.quotas is not None:
        qkey: KeyPath = (*key, "quotas")
        qpath = _path(src, qkey, alloc.quotas)
        before = len(problems)
        try:
            quotas = {}
            first: dict[str, int] = {}
            for i, row in _read_csv(qpath, ("municipality", "weight")):
                where = f"{qpath}: line {i}"
                raw_code, raw_weight = _cell(row, "municipality"), _cell(row, "weight")
                code = raw_code.zfill(4) if raw_code.isdigit() and len(raw_code) <= 4 else None
                if code is None:
                    problems.append(_problem(src, qkey, (
                        f"{where}, column 'municipality': got {show(raw_code)}; allowed: a "
                        f"4-digit municipality code such as '0301'{_name_hint(raw_code, geo)}")))
                elif geo is not None and code not in set(geo.codes.tolist()):
                    problems.append(_problem(src, qkey, (
                        f"{where}, column 'municipality': unknown municipality code {code!r} "
                        f"(not in the geography {geo.source})")))
                    code = None
                elif code in first:
                    problems.append(_problem(src, qkey, (
                        f"{where}, column 'municipality': {code} is given twice (lines "
                        f"{first[code]} and {i}); give each municipality once")))
                    code = None
                try:
                    weight = float(raw_weight) if len(raw_weight) < 40 else math.nan
                except ValueError:
                    weight = math.nan
                if not (math.isfinite(weight) and 0 <= weight <= MAX_WEIGHT):
                    problems.append(_problem(src, qkey, (
                        f"{where}, column 'weight': got {show(raw_weight)}; allowed: a number "
                        f"from 0 to {MAX_WEIGHT:,.0f}")))
                elif code is not None:
                    quotas[code] = weight
                    first[code] = i
            if len(problems) == before and not any(quotas.values()):
                problems.append(_problem(src, qkey, f"{qpath}: all weights are zero (or there "
                                         "are no rows); at least one must be > 0"))
        except ValueError as err:
            problems.append(_problem(src, qkey, str(err)))
        if len(problems) > before:
            quotas = None
    policy = AllocationPolicy(exclude_below_population=alloc.exclude_below_population,
                              exclude_centrality=tuple(alloc.exclude_centrality), quotas=quotas,
                              continuity_only=alloc.continuity_only)
    if geo is not None:
        eligible = (geo.population >= policy.exclude_below_population)
        eligible &= ~np.isin(geo.centrality, policy.exclude_centrality)
        if quotas is not None:
            eligible &= np.isin(geo.codes, [c for c, w in quotas.items() if w > 0])
        if not eligible.any():
            problems.append(_problem(src, key, "this allocation excludes every municipality"))
    return policy


def _sorted(problems: list[Problem], first: str | None = None) -> list[Problem]:
    """By file (``first``, the scenario file itself, before the files it reads), line, key."""
    return sorted(problems, key=lambda p: (p.file != first, p.file, p.line or 0, p.key))


def _prune(data: dict[str, Any], err: ValidationError) -> None:
    """Drop the keys pydantic refused (their defaults apply), so the rest can be checked."""
    for loc, _ in _relevant(err, data, ScenarioSchema):
        parent: Any = data
        last = None
        for part in loc:
            if not isinstance(parent, dict) or part not in parent:
                break
            last = (parent, part)
            parent = parent[part]
        if last is not None:
            last[0].pop(last[1], None)


def _mark_inherited(problems: list[Problem], files: list[Path]) -> list[Problem]:
    """'(inherited from base.yaml)' on problems found in a file this scenario extends."""
    parents = {str(f) for f in files[1:]}
    resolved: dict[str, bool] = {}
    out = []
    for p in problems:
        if p.file not in resolved:
            try:
                resolved[p.file] = str(Path(p.file).resolve()) in parents
            except (OSError, ValueError):
                resolved[p.file] = False
        inherited = resolved[p.file]
        if inherited:
            p = dataclasses.replace(p, message=f"{p.message} (inherited from {p.file}, which "
                                               f"{files[0].name} extends)")
        out.append(p)
    return out


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
    named = "name" in data
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
    schema: ScenarioSchema | None = None
    attempt = data
    for _ in range(5):
        try:
            schema = ScenarioSchema.model_validate(attempt)
            break
        except ValidationError as err:
            if attempt is data:
                found = _pydantic_problems(err, src, ScenarioSchema)
                if not named:
                    found = [dataclasses.replace(p, message=f"{p.message} (the name is taken "
                                                 "from the file name; set name: to choose one)")
                             if p.key == "name" else p for p in found]
                problems = found + problems
                attempt = copy.deepcopy(data)
            _prune(attempt, err)
    geo = None
    if schema is not None:
        # check the rest with the refused keys at their defaults: every problem in one pass
        volumes = _volumes(schema, src, problems)
        geo = _geography(schema, src, problems)
        allocation = _allocation(schema, src, geo, problems)
    if problems or geo is None or schema is None:
        raise InputError(_mark_inherited(_sorted(problems, str(path)), files))
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

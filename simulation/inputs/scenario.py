"""Scenario files: ``extends`` with deep merge, and validation that reports every problem at
once with file, line, key, the value given and what is allowed.

A scenario resolves to the run's :class:`~simulation.inputs.defaults.Inputs` and
:class:`~simulation.inputs.parameters.Params`; relative paths are taken relative to the file that
wrote them (so a base file's CSV still resolves when another folder's scenario extends it).

The schema is in scenario_schema.py, the wording of its errors in scenario_messages.py, the
sections read from other files (volumes, parameters, geography, quotas) in
scenario_sections.py; every input file's common rules are in schema.py (the front door).
"""

from __future__ import annotations

import copy
import dataclasses
import re
import unicodedata
from pathlib import Path
from typing import Any

from pydantic import ValidationError

from simulation.inputs.defaults import Inputs, build_inputs
from simulation.inputs.parameters import BY_NAME, POLICY_KEYS, Params
from simulation.inputs.scenario_messages import mark_inherited, prune, pydantic_problems
from simulation.inputs.scenario_schema import (
    BUILT_IN,
    ScenarioSchema,
    VolumesFile,
    check_path,
)
from simulation.inputs.scenario_sections import (
    file_path,
    resolve_allocation,
    resolve_geography,
    resolve_parameters,
    resolve_volumes,
)
from simulation.inputs.schema import sorted_problems
from simulation.inputs.yamlsource import (
    MAX_YAML_BYTES,
    InputError,
    Problem,
    Sourced,
    deep_merge,
    file_problem,
    load_yaml,
    show,
)

__all__ = ["POLICY_KEYS", "Scenario", "load_scenario", "output_slug"]

MAX_EXTENDS_DEPTH = 20
MAX_SLUG = 100  # characters in an output folder name derived from it


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
        # that file's parameters, calibration facts (period, ...) and check of each register
        # target (its `targets`: at the point estimate and averaged over runs at posterior
        # draws), for run reports to cite beside a miss at the calibrated point
        self.fitted: dict[str, Any] = {}
        self.explicit: dict[str, Any] = {}  # values set in the scenario itself (incl. policy)

    @property
    def calibration_checks(self) -> list[dict[str, Any]]:
        """The fitted file's check of each register target (empty without one)."""
        return list(self.fitted.get("targets", []))

    @property
    def at_calibrated_point(self) -> bool:
        """Whether this scenario runs exactly the fitted file's point estimate over the
        calibration's period, at full scale: only then is a miss of a register target the
        calibrated point's, and the fit's own check of it the right thing to cite."""
        if not self.fitted:
            return False
        period = self.fitted.get("calibration", {}).get("period")
        point = Params(self.fitted.get("parameters", {}))
        return (dict(self.params) == dict(point) and self.inputs.scale == 1.0
                and list(period or []) == [self.schema.period.start, self.schema.period.end])

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
        from simulation.inputs.geography_csv import BUILTIN_CSV

        files = list(self.files)
        sch, src = self.schema, self.source
        if sch.geography != BUILT_IN:
            files.append(file_path(src, ("geography",), sch.geography))
        else:
            files.append(Path(BUILTIN_CSV))
        if isinstance(sch.settlement.volumes, VolumesFile):
            files.append(file_path(src, ("settlement", "volumes", "from"),
                               sch.settlement.volumes.from_))
        if sch.settlement.allocation.quotas:
            files.append(file_path(src, ("settlement", "allocation", "quotas"),
                               sch.settlement.allocation.quotas))
        intake = sch.settlement.allocation.constraints.minimum_intake
        if intake:
            files.append(file_path(src, ("settlement", "allocation", "constraints",
                                         "minimum_intake"), intake))
        if isinstance(sch.parameters.get("from"), str):
            files.append(file_path(src, ("parameters", "from"), sch.parameters["from"]))
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
        check_path(base_ref)
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


def load_scenario(path: str | Path, *, seed: int | None = None,
                  replicates: int | None = None) -> Scenario:
    """Load, merge, validate and resolve a scenario file.

    The file and every file it ``extends`` are deep-merged (the file's own keys win), checked
    against the schema and the parameter registry, and resolved into the run's inputs and
    parameters; relative paths are taken relative to the file that wrote them.

    Args:
        path: the scenario YAML file.
        seed: overrides the file's ``seed`` (as ``secmig run --seed``).
        replicates: overrides the file's ``replicates`` (as ``secmig run --replicates``).

    Returns:
        A :class:`Scenario`: ``.params``, ``.inputs``, ``.schema`` (the merged file) and
        ``.slug`` (its output folder name).

    Raises:
        InputError: with every problem found, each with file, line, key, the value given and
            what is allowed (problems of a base file say so).

    Example::

        from simulation import load_scenario, run

        scenario = load_scenario("scenarios/rights-3-years.yaml", replicates=2)
        results = run(scenario.params, scenario.schema.seed, scenario.inputs)
    """
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
    fitted: dict[str, Any] = {}
    checked = resolve_parameters(data.get("parameters"), data.get("policy"), src, problems, draws,
                                 fitted)
    explicit = resolve_parameters({k: v for k, v in (data.get("parameters") or {}).items()
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
                found = pydantic_problems(err, src, ScenarioSchema)
                if not named:
                    found = [dataclasses.replace(p, message=f"{p.message} (the name is taken "
                                                 "from the file name; set name: to choose one)")
                             if p.key == "name" else p for p in found]
                problems = found + problems
                attempt = copy.deepcopy(data)
            prune(attempt, err)
    geo = None
    if schema is not None:
        # check the rest with the refused keys at their defaults: every problem in one pass
        volumes = resolve_volumes(schema, src, problems)
        geo = resolve_geography(schema, src, problems)
        allocation = resolve_allocation(schema, src, geo, problems)
    if problems or geo is None or schema is None:
        raise InputError(mark_inherited(sorted_problems(problems, str(path)), files))
    inputs = build_inputs(schema.period.start, schema.period.end, volumes, geo,
                          allocation=allocation,
                          composition_like=schema.settlement.composition_like)
    scenario = Scenario(schema, src, files, Params(checked), inputs)
    scenario.posterior_draws = draws
    scenario.fitted = fitted
    scenario.explicit = explicit
    return scenario

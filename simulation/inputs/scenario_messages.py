"""Scenario files, the messages: pydantic's errors in the user's words (the value given and
what to write, with special cases for the volumes union and numbers written in quotes), and
the bookkeeping that lets one pass report every problem (refused keys pruned, problems of a
base file marked as inherited).
"""

from __future__ import annotations

import dataclasses
import re
from pathlib import Path
from typing import Any

from pydantic import BaseModel, ValidationError

from simulation.inputs.limits import MAX_REPLICATES, MAX_SEED
from simulation.inputs.scenario_schema import MAX_VOLUME, ScenarioSchema
from simulation.inputs.schema import did_you_mean, model_at
from simulation.inputs.yamlsource import MAX_PROBLEMS, KeyPath, Problem, Sourced, cut, dotted, show

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
    "settlement.allocation.observed": "true or false",
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


def got(value: Any) -> str:
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


def relevant(err: ValidationError, data: Any, root: type[BaseModel]
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


def pydantic_problems(err: ValidationError, src: Sourced,
                       root: type[BaseModel]) -> list[Problem]:
    """pydantic's errors as problems with file, line and key, in the user's words: the value
    given and what to write. Unknown keys get a did-you-mean from ``root`` at that place."""
    problems: list[Problem] = []
    done: set[tuple[str, str]] = set()
    for loc, e in relevant(err, src.data, root):
        file, line = src.where(loc)
        value = e.get("input")
        field_path = ".".join(str(p) for p in loc if not isinstance(p, int))
        what = WRITE.get(field_path) if root is ScenarioSchema else None
        if e["type"] == "volumes":
            msg = f"{got(value)}; write {WRITE['settlement.volumes']}"
        elif e["type"] == "volume_key":
            msg = (f"got the key {show(loc[-1])}; write years as whole numbers, e.g. "
                   "volumes: {2025: 18900}")
        elif e["type"] == "volume_value":
            msg = (f"{got(value)}; write the number of persons settled that year, "
                   f"from 0 to {MAX_VOLUME:,}")
        elif e["type"] == "extra_forbidden":
            parent = model_at(loc[:-1], root)
            msg = "unknown key"
            if parent is not None:
                # did-you-mean only for the first problems (the rest are not listed anyway)
                hint = (did_you_mean(str(loc[-1])[:100], parent.model_fields)
                        if len(problems) < MAX_PROBLEMS else "")
                msg = (f"unknown key{hint}; allowed keys here: "
                       f"{', '.join(f.alias or n for n, f in parent.model_fields.items())}")
        elif e["type"] == "missing":
            msg = "required key is missing" + (f"; write {what}" if what else "")
        elif e["type"] == "value_error":
            msg = e["msg"].removeprefix("Value error, ")
            if not msg.startswith("got"):
                msg = f"{msg} ({got(value)})"
        else:
            if what is None:
                what = _constraint_words(e) or cut(e["msg"], 80).lower()
                desc = _description(loc, root)
                if desc:
                    what += f" ({desc})"
            msg = f"{got(value)}; write {what}"
            if isinstance(value, str) and "quotes" in msg and "true or false" in what:
                msg = got(value)
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
    parent = model_at(tuple(parts[:-1]), root)
    if parent is None:
        return ""
    field = parent.model_fields.get(parts[-1])
    return cut(field.description, 100) if field is not None and field.description else ""


def prune(data: dict[str, Any], err: ValidationError) -> None:
    """Drop the keys pydantic refused (their defaults apply), so the rest can be checked."""
    for loc, _ in relevant(err, data, ScenarioSchema):
        parent: Any = data
        last = None
        for part in loc:
            if not isinstance(parent, dict) or part not in parent:
                break
            last = (parent, part)
            parent = parent[part]
        if last is not None:
            last[0].pop(last[1], None)


def mark_inherited(problems: list[Problem], files: list[Path]) -> list[Problem]:
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

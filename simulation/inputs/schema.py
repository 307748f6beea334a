"""Schema problems in the user's words, for files whose schema fields each carry an
``allowed`` text (sweep and calibration files): pydantic's errors become problems with file,
line, key, the value given and what to write, with a did-you-mean for unknown keys and for
choices. Scenario files still have their own wording in scenario.py (with special cases for
the volumes union and quoted numbers): one of the two front doors still to be merged."""

from __future__ import annotations

import difflib
from pathlib import Path
from typing import Any, Literal, TypeVar

from pydantic import BaseModel, ValidationError

from simulation.inputs.yamlsource import InputError, Problem, Sourced, dotted, load_yaml

Schema = TypeVar("Schema", bound=BaseModel)


def load_mapping(path: Path, schema: type[Schema], kind: str
                 ) -> tuple[Sourced, Schema | None, list[Problem]]:
    """A file that must be a YAML mapping, validated against ``schema``: its source, the
    validated model (None when invalid) and the schema's problems in the user's words. The
    caller goes on checking the raw data, so one bad field does not hide the others."""
    src = load_yaml(path)
    if not isinstance(src.data, dict):
        raise InputError([Problem(str(path), 1, "", f"a {kind} file must be a mapping of "
                                  f"keys (got {type(src.data).__name__})")])
    try:
        return src, schema.model_validate(src.data), []
    except ValidationError as err:
        return src, None, schema_problems(err, src, schema)


def allow(text: str) -> dict[str, str]:
    """What to write in a field, for messages (every field of a file's schema has one)."""
    return {"allowed": text}


def _nested_model(ann: Any) -> type[BaseModel] | None:
    if isinstance(ann, type) and issubclass(ann, BaseModel):
        return ann
    for arg in getattr(ann, "__args__", ()):
        found = _nested_model(arg)
        if found is not None:
            return found
    return None


def _field_at(loc: tuple[Any, ...], root: type[BaseModel]
              ) -> tuple[type[BaseModel], str] | None:
    """The (model, field name) a pydantic error location points into (list indices and
    mapping keys stay with their container's field)."""
    model: type[BaseModel] | None = root
    found = None
    for part in loc:
        if isinstance(part, str) and model is not None and part in model.model_fields:
            found = (model, part)
            model = _nested_model(model.model_fields[part].annotation)
    return found


def allowed_text(model: type[BaseModel], name: str) -> str:
    extra = model.model_fields[name].json_schema_extra
    return str(extra.get("allowed", "")) if isinstance(extra, dict) else ""


def _short(value: Any) -> str:
    text = repr(value)
    return text if len(text) <= 80 else text[:77] + "..."


def schema_problems(err: ValidationError, src: Sourced, root: type[BaseModel]
                    ) -> list[Problem]:
    """pydantic's errors as problems with file, line, key, the value given and what to write
    (from each field's ``allowed`` text), with a did-you-mean for unknown keys and choices."""
    problems: list[Problem] = []
    seen: set[tuple[Any, ...]] = set()
    for e in err.errors():
        loc = tuple(p for p in e["loc"] if not (isinstance(p, str) and "[" in p))
        if loc in seen:  # one problem per place (a union reports each of its branches)
            continue
        seen.add(loc)
        value = e.get("input")
        if e["type"] == "extra_forbidden":
            at = _field_at(loc[:-1], root) if loc[:-1] else None
            parent = root if not loc[:-1] else (
                _nested_model(at[0].model_fields[at[1]].annotation) if at else None)
            keys = [f.alias or n for n, f in parent.model_fields.items()] if parent else []
            close = difflib.get_close_matches(str(loc[-1]), keys, n=1)
            hint = f" (did you mean '{close[0]}'?)" if close else ""
            msg = f"unknown key{hint}; allowed keys here: {', '.join(keys)}"
        else:
            at = _field_at(loc, root)
            allowed = allowed_text(*at) if at else ""
            if e["type"] == "missing":
                msg = "required key is missing" + (f"; allowed: {allowed}" if allowed else "")
            else:
                hint = ""
                ann = at[0].model_fields[at[1]].annotation if at else None
                choices = [str(c) for c in getattr(ann, "__args__", ())
                           if getattr(ann, "__origin__", None) is Literal]
                if choices and isinstance(value, str):
                    close = difflib.get_close_matches(value, choices, n=1, cutoff=0.5)
                    hint = f" (did you mean '{close[0]}'?)" if close else ""
                why = ""
                if e["type"] == "value_error":
                    why = f"{e['msg'].removeprefix('Value error, ')}; "
                msg = f"{why}got {_short(value)}{hint}; allowed: {allowed or 'see the docs'}"
        file, line = src.where(loc)
        problems.append(Problem(file, line, dotted(loc), msg))
    return problems



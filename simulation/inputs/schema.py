"""The input front door: what every input file (scenario, sweep, calibration) goes through.

- a strict pydantic base model (:class:`Strict`): unknown keys are errors, '5' is not 5;
- the name rules (:func:`name_problem` for scenario names, :func:`safe_name` for sweep and
  calibration names);
- did-you-mean suggestions (:func:`did_you_mean`);
- problems with file, line and key (:func:`problem_at`), reported all at once and in file
  order (:func:`raise_problems`);
- :func:`load_checked`: a YAML mapping validated against a model, pydantic's errors in the
  user's words (the value given and what to write, from each field's ``allowed`` text), plus
  the caller's own checks on the raw data, so one bad field does not hide the others.

Scenario files word pydantic's errors in scenario_messages.py (special cases for the volumes
union and quoted numbers) but use the rest of this door.

Example::

    from pydantic import Field
    from simulation.inputs.schema import Strict, allow, load_checked

    class Plan(Strict):
        name: str = Field(json_schema_extra=allow("text"))

    plan, source = load_checked("plan.yaml", Plan, "plan")  # InputError lists every problem
"""

from __future__ import annotations

import difflib
import unicodedata
from collections.abc import Callable, Iterable
from pathlib import Path
from typing import Any, Literal, NoReturn, TypeVar

from pydantic import BaseModel, ConfigDict, Field, ValidationError

from simulation.inputs.yamlsource import (
    InputError,
    KeyPath,
    Problem,
    Sourced,
    dotted,
    load_yaml,
    show,
)


class Strict(BaseModel):
    """Base of every input file's schema: unknown keys are errors and nothing is coerced
    (a quoted '5' is text, not 5)."""

    model_config = ConfigDict(extra="forbid", strict=True)


class StrictFinite(Strict):
    """A strict schema whose numbers must be finite (sweep and calibration files; scenario
    files check their numbers themselves, with their own messages)."""

    model_config = ConfigDict(allow_inf_nan=False)


def did_you_mean(word: str, choices: Iterable[str], cutoff: float = 0.6) -> str:
    """" (did you mean 'x'?)" for the closest choice, or '' when none is close."""
    close = difflib.get_close_matches(word, list(choices), n=1, cutoff=cutoff)
    return f" (did you mean '{close[0]}'?)" if close else ""


def problem_at(src: Sourced, key: KeyPath, msg: str) -> Problem:
    """A problem at ``key`` of a loaded file, with the file and line that wrote it."""
    file, line = src.where(key)
    return Problem(file, line, dotted(key), msg)


def sorted_problems(problems: list[Problem], first: str | None = None) -> list[Problem]:
    """By file (``first``, the file given, before the files it reads), line, key."""
    return sorted(problems, key=lambda p: (p.file != first, p.file, p.line or 0, p.key))


# --- names ----------------------------------------------------------------------------------

MAX_NAME = 120  # characters in a scenario name
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


def safe_name() -> Any:
    """The ``name`` field of sweep and calibration files: it names output files, so only
    letters, digits, '_', '.' and '-'."""
    return Field(pattern=r"^[A-Za-z0-9][A-Za-z0-9_.-]{0,79}$", json_schema_extra=allow(
        "letters, digits, '_', '.', '-' (no spaces), starting with a letter or digit, at "
        "most 80 characters"))


# --- loading --------------------------------------------------------------------------------

Schema = TypeVar("Schema", bound=BaseModel)


def load_checked(path: str | Path, schema: type[Schema], kind: str,
                 check: Callable[[Sourced, list[Problem]], None] | None = None
                 ) -> tuple[Schema, Sourced]:
    """Load a file that must be a YAML mapping and validate it against ``schema``;
    ``check(source, problems)`` adds the caller's checks on the raw data (run whether or not
    the schema passed, so one bad field does not hide the others). Raise InputError with every
    problem, the file's own first; else return the validated model and the source (lines)."""
    path = Path(path)
    src = load_yaml(path)
    if not isinstance(src.data, dict):
        raise InputError([Problem(str(path), 1, "", f"a {kind} file must be a mapping of "
                                  f"keys (got {type(src.data).__name__})")])
    problems: list[Problem] = []
    model = None
    try:
        model = schema.model_validate(src.data)
    except ValidationError as err:
        problems = schema_problems(err, src, schema)
    if check is not None:
        check(src, problems)
    if problems or model is None:
        raise_problems(problems, path)
    return model, src


def raise_problems(problems: list[Problem], path: str | Path) -> NoReturn:
    """Raise InputError with ``problems`` in file order, those of ``path`` first."""
    raise InputError(sorted_problems(problems, str(path)))


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


def model_at(path: KeyPath, root: type[BaseModel]) -> type[BaseModel] | None:
    """The model a key path of field names leads to (None when a name is no field or its
    field holds no model): where an unknown key was written, to list the keys allowed there."""
    model: type[BaseModel] | None = root
    for part in path:
        field = model.model_fields.get(str(part)) if model is not None else None
        if field is None:
            return None
        model = _nested_model(field.annotation)
    return model


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
            msg = (f"unknown key{did_you_mean(str(loc[-1]), keys)}; allowed keys here: "
                   f"{', '.join(keys)}")
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
                    hint = did_you_mean(value, choices, cutoff=0.5)
                why = ""
                if e["type"] == "value_error":
                    why = f"{e['msg'].removeprefix('Value error, ')}; "
                msg = f"{why}got {_short(value)}{hint}; allowed: {allowed or 'see the docs'}"
        file, line = src.where(loc)
        problems.append(Problem(file, line, dotted(loc), msg))
    return problems



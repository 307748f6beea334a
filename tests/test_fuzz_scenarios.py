"""Property-based: malformed and mutated scenario files never give a traceback or a partial
output from `validate` or `run`; the exit code is 0 (valid, complete output) or 2 (nothing)."""

from __future__ import annotations

import copy
import shutil
import tempfile
from pathlib import Path

import yaml
from hypothesis import HealthCheck, example, given, settings
from hypothesis import strategies as st

from simulation.cli import main

BASE = {
    "name": "fuzz", "description": "mutated", "period": {"start": 2010, "end": 2011},
    "seed": 3, "replicates": 1, "geography": "built-in",
    "settlement": {"volumes": "built-in",
                   "allocation": {"exclude_below_population": 0, "exclude_centrality": []}},
    "policy": {"rights_years": 5, "job_move_exemption": False},
    "parameters": {"move_intercept": -1.0},
    "outputs": {"formats": ["csv"]},
}

scalars = st.one_of(
    st.none(), st.booleans(), st.integers(-10**6, 10**6), st.floats(allow_nan=True),
    st.text(max_size=12), st.sampled_from(["built-in", "2010", "nan", "-1", "yes", "[]"]),
)
values = st.recursive(scalars, lambda inner: st.one_of(
    st.lists(inner, max_size=3), st.dictionaries(st.text(max_size=8), inner, max_size=3)),
    max_leaves=6)


def paths(data: dict, prefix: tuple = ()) -> list[tuple]:
    out = []
    for k, v in data.items():
        out.append((*prefix, k))
        if isinstance(v, dict):
            out += paths(v, (*prefix, k))
    return out


@st.composite
def mutated(draw) -> str:
    """A scenario file's text: the base with a few mutations, or damaged text."""
    data = copy.deepcopy(BASE)
    for _ in range(draw(st.integers(1, 3))):
        target = draw(st.sampled_from(paths(data) or [("name",)]))
        parent = data
        for part in target[:-1]:
            parent = parent.get(part) if isinstance(parent, dict) else None
        if not isinstance(parent, dict):
            continue
        action = draw(st.sampled_from(["delete", "replace", "add"]))
        if action == "delete":
            parent.pop(target[-1], None)
        elif action == "replace":
            parent[target[-1]] = draw(values)
        else:
            parent[draw(st.text(min_size=1, max_size=10))] = draw(values)
    text = yaml.safe_dump(data, allow_unicode=True)
    damage = draw(st.sampled_from(["none", "none", "cut", "garbage", "tab"]))
    if damage == "cut":
        text = text[:draw(st.integers(0, len(text)))]
    elif damage == "garbage":
        pos = draw(st.integers(0, len(text)))
        text = text[:pos] + draw(st.text(max_size=6)) + text[pos:]
    elif damage == "tab":
        text = text.replace("  ", "\t", 1)
    return text


def _check(text: str, command: str, capsys) -> None:
    work = Path(tempfile.mkdtemp())
    try:
        scen = work / "s.yaml"
        scen.write_text(text, encoding="utf-8")
        out = work / "out"
        args = ["validate", str(scen)] if command == "validate" else [
            "run", str(scen), "--out", str(out), "--quiet", "--jobs", "1", "--replicates", "1"]
        code = main(args)
        captured = capsys.readouterr()
        assert code in (0, 2), captured.err
        assert "Traceback" not in captured.err and "internal error" not in captured.err
        leftovers = sorted(p.name for p in work.iterdir())
        if command == "run" and code == 0:
            assert leftovers == ["out", "s.yaml"]
            assert (out / "summary.json").exists() and (out / "report.html").exists()
        else:
            assert leftovers == ["s.yaml"]
    finally:
        shutil.rmtree(work, ignore_errors=True)


@settings(max_examples=100, deadline=None, derandomize=True,
          suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(mutated())
def test_validate_never_crashes(capsys, text):
    _check(text, "validate", capsys)


@settings(max_examples=12, deadline=None, derandomize=True,
          suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(mutated())
@example(yaml.safe_dump(BASE))  # the unmutated file runs and writes a complete output
def test_run_never_crashes_or_leaves_partial_output(capsys, text):
    _check(text, "run", capsys)

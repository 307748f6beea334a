"""Property-based: malformed and mutated scenario files never give a traceback or a partial
output from `validate` or `run`; the exit code is 0 (valid, complete output) or 2 (nothing)."""

from __future__ import annotations

import copy
import shutil
import tempfile
from pathlib import Path

import pytest
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
@pytest.mark.slow
@given(mutated())
@example(yaml.safe_dump(BASE))  # the unmutated file runs and writes a complete output
def test_run_never_crashes_or_leaves_partial_output(capsys, text):
    _check(text, "run", capsys)


# --- hostile families: numbers, names, aliases, quota CSVs ----------------------------------

import time  # noqa: E402

import pytest  # noqa: E402

from simulation.inputs.scenario import load_scenario, output_slug  # noqa: E402
from simulation.inputs.yamlsource import InputError  # noqa: E402

NUMERIC_KEYS = [("seed",), ("replicates",), ("period", "start"), ("period", "end"),
                ("settlement", "composition_like"),
                ("settlement", "allocation", "exclude_below_population"),
                ("settlement", "volumes", 2010), ("policy", "rights_years"),
                ("parameters", "move_intercept")]
bad_numbers = st.one_of(
    st.sampled_from([float("nan"), float("inf"), float("-inf"), 10**12, -(10**12), 10**30,
                     -1, 1e308, "0.5", "true", [6], {"a": 1}, None]),
    st.floats(allow_nan=True, allow_infinity=True),
    st.integers(-(10**40), 10**40))


def _with(key: tuple, value) -> dict:
    data = copy.deepcopy(BASE)
    parent = data
    for part in key[:-1]:
        if not isinstance(parent.get(part), dict):
            parent[part] = {}
        parent = parent[part]
    parent[key[-1]] = value
    return data


def _validate(tmp: Path, text: str, capsys) -> tuple[int, str]:
    scen = tmp / "s.yaml"
    scen.write_text(text, encoding="utf-8")
    t0 = time.perf_counter()
    code = main(["validate", str(scen)])
    took = time.perf_counter() - t0
    err = capsys.readouterr().err
    assert took < 2.0, took
    assert code in (0, 2), err
    assert "Traceback" not in err and "internal error" not in err, err
    assert sorted(p.name for p in tmp.iterdir()) == ["s.yaml"]
    return code, err


@settings(max_examples=80, deadline=None, derandomize=True,
          suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(st.sampled_from(NUMERIC_KEYS), bad_numbers)
def test_numbers_in_every_numeric_field(capsys, key, value):
    work = Path(tempfile.mkdtemp())
    try:
        text = yaml.safe_dump(_with(key, value), allow_unicode=True)
        code, err = _validate(work, text, capsys)
        if code == 2:
            assert str(work / "s.yaml") in err
            shown = ".".join(str(k) for k in key if not isinstance(k, int))
            assert shown in " ".join(err.split()), err
            assert "Input should" not in err
    finally:
        shutil.rmtree(work, ignore_errors=True)


@settings(max_examples=80, deadline=None, derandomize=True)
@given(st.text(max_size=140))
def test_names_any_script_and_safe_slug(name):
    slug = output_slug(name)
    assert slug and slug not in (".", "..") and "/" not in slug and "\\" not in slug
    assert not slug.startswith((".", "-")) and len(slug.encode("utf-8")) <= 200
    work = Path(tempfile.mkdtemp())
    try:
        f = work / "s.yaml"
        f.write_text(yaml.safe_dump({"name": name, "period": {"start": 2010, "end": 2010}},
                                    allow_unicode=True), encoding="utf-8")
        try:
            s = load_scenario(f)
            assert s.name == name and s.slug == slug
        except InputError as err:
            assert all(str(f) in str(p) for p in err.problems)
            assert any(p.key == "name" and "allowed:" in p.message for p in err.problems)
    finally:
        shutil.rmtree(work, ignore_errors=True)


@st.composite
def alias_docs(draw) -> str:
    """Nested anchors and aliases: width**depth expanded values, some far over the limit."""
    width, depth = draw(st.integers(2, 12)), draw(st.integers(1, 9))
    lines = ["name: x", "a0: &a0 [" + ", ".join(["1"] * width) + "]"]
    for i in range(1, depth):
        lines.append(f"a{i}: &a{i} [" + ", ".join([f"*a{i - 1}"] * width) + "]")
    return "\n".join(lines) + "\n"


@settings(max_examples=25, deadline=None, derandomize=True,
          suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(alias_docs())
def test_aliases_refused_fast_or_reported(capsys, text):
    work = Path(tempfile.mkdtemp())
    try:
        code, err = _validate(work, text, capsys)
        assert code == 2  # the a0.. keys are unknown either way
        assert "alias" in err or "unknown key" in err
    finally:
        shutil.rmtree(work, ignore_errors=True)


quota_cells = st.one_of(st.sampled_from(["0301", "301", "Oslo", "oslo", "Bergen", "Tromso",
                                         "9999", "", "0301 ", "x" * 200]),
                        st.text(max_size=8))
weight_cells = st.one_of(st.sampled_from(["1", "0", "-1", "nan", "inf", "1e400", "", "abc",
                                          "1e12"]), st.text(max_size=6))


@settings(max_examples=40, deadline=None, derandomize=True,
          suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(st.lists(st.tuples(quota_cells, weight_cells), max_size=8))
def test_quota_csv_families(capsys, rows):
    work = Path(tempfile.mkdtemp())
    try:
        body = "".join(f'"{m.replace(chr(34), "")}","{w.replace(chr(34), "")}"\n'
                       for m, w in rows)
        (work / "q.csv").write_text("municipality,weight\n" + body, encoding="utf-8")
        text = yaml.safe_dump(_with(("settlement", "allocation", "quotas"), "q.csv"))
        scen = work / "s.yaml"
        scen.write_text(text, encoding="utf-8")
        code = main(["validate", str(scen)])
        err = capsys.readouterr().err
        assert code in (0, 2) and "internal error" not in err and "Traceback" not in err, err
        if code == 2:
            assert "quotas" in err and "x" * 100 not in err
        assert sorted(p.name for p in work.iterdir()) == ["q.csv", "s.yaml"]
    finally:
        shutil.rmtree(work, ignore_errors=True)


@pytest.mark.parametrize("n", [3000])
def test_many_unknown_keys_fast(capsys, n):
    work = Path(tempfile.mkdtemp())
    try:
        text = "name: x\n" + "".join(f"k{i}: {i}\n" for i in range(n)) + "parameters:\n" + \
            "".join(f"  p{i}: 1\n" for i in range(n))
        code, err = _validate(work, text, capsys)
        assert code == 2 and "more problem(s) not listed" in err
    finally:
        shutil.rmtree(work, ignore_errors=True)

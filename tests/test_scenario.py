"""Scenario files: schema, extends, and every kind of bad input gives a clear message."""

from __future__ import annotations

from importlib.resources import files
from pathlib import Path

import pytest
import yaml

from simulation.cli import main
from simulation.inputs.scenario import load_scenario
from simulation.inputs.template import template_text
from simulation.inputs.yamlsource import InputError

REPO = Path(__file__).resolve().parent.parent
SCENARIOS = REPO / "scenarios"


def write(path: Path, text: str) -> Path:
    path.write_text(text, encoding="utf-8")
    return path


def problems(path: Path) -> list[str]:
    with pytest.raises(InputError) as err:
        load_scenario(path)
    return [str(p) for p in err.value.problems]


@pytest.mark.slow
def test_shipped_files_are_valid_and_in_step():
    for f in SCENARIOS.glob("*.yaml"):
        load_scenario(f)
    assert (SCENARIOS / "TEMPLATE.yaml").read_text(encoding="utf-8") == template_text(), \
        "regenerate with: secmig template > scenarios/TEMPLATE.yaml"
    # the built-in baseline (secmig run without a file) is scenarios/baseline.yaml, reading the
    # shipped copy of calibration/fitted.yaml
    data = files("simulation") / "data"
    assert (data / "fitted.yaml").read_text(encoding="utf-8") == (
        REPO / "calibration" / "fitted.yaml").read_text(encoding="utf-8"), \
        "copy calibration/fitted.yaml to simulation/data/fitted.yaml"
    packaged = (data / "baseline.yaml").read_text(encoding="utf-8")
    shipped = (SCENARIOS / "baseline.yaml").read_text(encoding="utf-8")
    assert shipped.replace("../calibration/fitted.yaml", "fitted.yaml") == packaged
    a = load_scenario(SCENARIOS / "baseline.yaml")
    b = load_scenario(Path(str(data / "baseline.yaml")))
    assert dict(a.params) == dict(b.params)
    assert len(a.posterior_draws) >= 20
    fitted = yaml.safe_load((REPO / "calibration" / "fitted.yaml").read_text(encoding="utf-8"))
    for name, value in fitted["parameters"].items():
        assert a.params[name] == pytest.approx(value)


def test_template_documents_every_registry_parameter():
    from simulation.inputs.parameters import REGISTRY

    text = template_text()
    for p in REGISTRY:
        assert f"# {p.name}:" in text, p.name
        assert p.allowed() in text


def test_extends_deep_merges_and_resolves_paths_per_file(tmp_path):
    base_dir = tmp_path / "base"
    base_dir.mkdir()
    write(base_dir / "quotas.csv", "municipality,weight\n0301,1\n4601,1\n")
    write(base_dir / "base.yaml", "name: base\nreplicates: 3\nperiod: {start: 2010, end: 2012}\n"
          "settlement:\n  allocation:\n    quotas: quotas.csv\npolicy:\n  rights_years: 3\n")
    child = write(tmp_path / "child.yaml", "extends: base/base.yaml\nname: child\n"
                  "period: {end: 2013}\npolicy:\n  job_move_exemption: true\n")
    s = load_scenario(child)
    assert s.name == "child" and s.schema.replicates == 3
    assert (s.inputs.start, s.inputs.end) == (2010, 2013)
    assert s.params.rights_years == 3 and s.params.job_move_exemption == 1
    assert s.inputs.allocation.quotas == {"0301": 1.0, "4601": 1.0}
    assert (base_dir / "quotas.csv").resolve() in s.input_files()


def test_all_problems_reported_at_once_with_lines(tmp_path):
    f = write(tmp_path / "bad.yaml", "name: ok\nperod: {start: 2010}\nreplicates: 0\n"
              "policy:\n  rights_years: 12\nparameters:\n  move_intercep: 1\n")
    found = problems(f)
    assert len(found) == 4
    assert any(":2: perod: unknown key (did you mean 'period'?)" in p for p in found)
    assert any(":3: replicates: got 0; write a whole number from 1 to 10000" in p for p in found)
    assert any(":5: policy.rights_years: got 12; allowed: a whole number from 0 to 10" in p
               for p in found)
    assert any(":7: parameters.move_intercep: unknown parameter (did you mean "
               "'move_intercept'?)" in p for p in found)


@pytest.mark.parametrize(("text", "expected"), [
    ("name: x\nreplicates: many\n", ":2: replicates: got 'many'; write a whole number"),
    ("name: x\nseed: -3\n", ":2: seed:"),
    ("name: x\nperiod: {start: 2015, end: 2012}\n", "end (2012) is before start (2015)"),
    ("name: x\nperiod: [2010, 2012\n", "malformed YAML"),
    ("name: x\nname: y\n", ":2: name: key given twice (first on line 1)"),
    ("- a\n- b\n", "a scenario file must be a mapping"),
    ("name: x\na: !!python/object/apply:os.system ['echo hacked']\n", "malformed YAML"),
    ("name: x\ngeography: nowhere.csv\n", "geography"),
    ("name: x\nperiod: {start: 2010, end: 2030}\n",
     "no settlement volume for year(s) [2025, 2026, 2027, 2028, 2029, 2030]"),
    ("name: x\nsettlement:\n  volumes: {2010: -5}\n", "persons must be >= 0"),
    ("name: x\nsettlement:\n  allocation:\n    exclude_centrality: [7]\n",
     "exclude_centrality[0]: got 7; write a list of centrality classes 1-6"),
    ("name: x\nsettlement:\n  allocation:\n    exclude_centrality: [1, 2, 3, 4, 5, 6]\n",
     "this allocation excludes every municipality"),
    ("name: x\npolicy:\n  rights_years: 3\nparameters:\n  rights_years: 4\n",
     "also set under policy.rights_years"),
    ("name: x\noutputs:\n  formats: [xlsx]\n", "outputs.formats[0]"),
    ("name: a/b\n", "contains '/'; allowed: 1-120 characters"),
])
def test_bad_values(tmp_path, text, expected):
    found = problems(write(tmp_path / "s.yaml", text))
    assert any(expected in p for p in found), found
    assert all(str(tmp_path / "s.yaml") in p for p in found)


def test_extends_cycle_and_missing_base(tmp_path):
    write(tmp_path / "a.yaml", "extends: b.yaml\nname: a\n")
    write(tmp_path / "b.yaml", "extends: a.yaml\nname: b\n")
    assert any("extends cycle" in p for p in problems(tmp_path / "a.yaml"))
    write(tmp_path / "c.yaml", "extends: nothere.yaml\nname: c\n")
    assert any("file not found: 'nothere.yaml'" in p for p in problems(tmp_path / "c.yaml"))


def test_bad_csv_inputs(tmp_path):
    write(tmp_path / "q.csv", "kommune,weight\n0301,1\n")
    f = write(tmp_path / "s.yaml", "name: x\nsettlement:\n  allocation:\n    quotas: q.csv\n")
    assert any("missing column(s) municipality" in p for p in problems(f))
    write(tmp_path / "q.csv", "municipality,weight\n0301,1\n9999,2\n")
    assert any("line 3, column 'municipality': unknown municipality code '9999'" in p
               for p in problems(f))
    write(tmp_path / "v.csv", "year,persons\n2010,abc\n")
    g = write(tmp_path / "t.yaml", "name: x\nsettlement:\n  volumes: {from: v.csv}\n")
    assert any("line 2, column 'persons': got 'abc'; allowed: a number of persons" in p
               for p in problems(g))
    geo = write(tmp_path / "geo.csv", "kommunenummer,name\n0301,Oslo\n")
    h = write(tmp_path / "u.yaml", f"name: x\ngeography: {geo.name}\n")
    assert any("missing" in p.lower() and "geo.csv" in p for p in problems(h))


def test_validate_command_exit_codes(tmp_path, capsys):
    good = SCENARIOS / "baseline.yaml"
    bad = write(tmp_path / "bad.yaml", "name: x\nreplicates: 0\nperod: 1\n")
    assert main(["validate", str(good)]) == 0
    assert main(["validate", str(good), str(bad)]) == 2
    err = capsys.readouterr().err
    assert "2 problem(s)" in err and "Traceback" not in err
    assert main(["validate", str(tmp_path / "missing.yaml")]) == 2
    assert "file not found" in capsys.readouterr().err


def test_run_with_bad_input_writes_nothing(tmp_path, capsys):
    bad = write(tmp_path / "bad.yaml", "name: x\npolicy: {rights_years: 99}\n")
    out = tmp_path / "out"
    assert main(["run", str(bad), "--out", str(out), "--quiet"]) == 2
    assert not out.exists() and list(tmp_path.iterdir()) == [bad]
    assert "policy.rights_years: got 99" in capsys.readouterr().err


# --- hostile input: every family gives a clear refusal (exit 2, nothing written) ------------

import os  # noqa: E402
import time  # noqa: E402

from simulation.inputs.scenario import output_slug  # noqa: E402
from simulation.inputs.scenario_schema import MAX_VOLUME  # noqa: E402
from simulation.inputs.yamlsource import MAX_NODES, MAX_YAML_BYTES, load_yaml  # noqa: E402


def cli_refuses(capsys, scenario: Path, *expected: str, seconds: float = 2.0) -> str:
    """`secmig validate` and `secmig run` both exit 2 quickly with ``expected`` in the message,
    no traceback, no internal error, and write nothing."""
    before = sorted(scenario.parent.iterdir())
    for args in (["validate", str(scenario)],
                 ["run", str(scenario), "--out", str(scenario.parent / "out"), "--quiet"]):
        t0 = time.perf_counter()
        assert main(args) == 2
        took = time.perf_counter() - t0
        err = capsys.readouterr().err
        assert took < seconds, (args[0], took)
        assert "Traceback" not in err and "internal error" not in err, err
        for text in expected:
            assert text in " ".join(err.split()), (text, err)
        assert sorted(scenario.parent.iterdir()) == before
    return err


BOMB = "name: x\na: &a [1,1,1,1,1,1,1,1,1,1]\n" + "".join(
    f"{c}: &{c} [{', '.join([f'*{p}'] * 10)}]\n" for p, c in zip("abcdefg", "bcdefgh", strict=True))


def test_alias_bomb_refused_fast(tmp_path, capsys):
    f = write(tmp_path / "bomb.yaml", BOMB)
    cli_refuses(capsys, f, str(f), "alias", f"at most {MAX_NODES:,}")
    # as an extends target and a parameters.from file too
    g = write(tmp_path / "child.yaml", "extends: bomb.yaml\nname: c\n")
    cli_refuses(capsys, g, "bomb.yaml", "alias bomb")
    h = write(tmp_path / "p.yaml", "name: p\nparameters: {from: bomb.yaml}\n")
    cli_refuses(capsys, h, "bomb.yaml", "alias bomb")


def test_recursive_and_deep_yaml_refused(tmp_path, capsys):
    cli_refuses(capsys, write(tmp_path / "rec.yaml", "name: x\nd: &a [*a]\n"),
                "rec.yaml:2", "recursive")
    deep = "name: x\nd: " + "[" * 60 + "]" * 60 + "\n"
    cli_refuses(capsys, write(tmp_path / "deep.yaml", deep), "deep.yaml:2", "nested more than")


def test_small_aliases_still_work(tmp_path):
    f = write(tmp_path / "s.yaml", "name: x\nperiod: &p {start: 2010, end: 2011}\n"
              "settlement:\n  allocation:\n    exclude_centrality: &c [6]\n"
              "outputs: {formats: &f [csv]}\n")
    s = load_scenario(f)
    assert s.inputs.allocation.exclude_centrality == (6,)
    assert load_yaml(f).data["period"] == {"start": 2010, "end": 2011}


SPECIAL = ["/dev/zero", "fifo", "dir", "huge"]


def special(tmp_path: Path, kind: str, size: int = MAX_YAML_BYTES + 1) -> str:
    if kind == "/dev/zero":
        return "/dev/zero"
    target = tmp_path / f"special-{kind}"
    if kind == "fifo":
        os.mkfifo(target)
    elif kind == "dir":
        target.mkdir()
    else:
        with open(target, "wb") as fh:  # sparse: cheap to make
            fh.truncate(size)
    return str(target)


ALLOWED = {"/dev/zero": "not a regular file", "fifo": "not a regular file",
           "dir": "directory", "huge": "bytes"}


@pytest.mark.parametrize("kind", SPECIAL)
@pytest.mark.parametrize("key", ["extends", "geography", "parameters.from", "quotas",
                                 "volumes"])
def test_special_files_refused(tmp_path, capsys, kind, key):
    work = tmp_path / "w"
    work.mkdir()
    target = special(tmp_path, kind, size=30_000_000)
    text = {"extends": f"extends: {target}\nname: x\n",
            "geography": f"name: x\ngeography: {target}\n",
            "parameters.from": f"name: x\nparameters: {{from: {target}}}\n",
            "quotas": f"name: x\nsettlement: {{allocation: {{quotas: {target}}}}}\n",
            "volumes": f"name: x\nsettlement: {{volumes: {{from: {target}}}}}\n"}[key]
    f = write(work / "s.yaml", text)
    err = cli_refuses(capsys, f, str(f) if key != "parameters.from" else target, ALLOWED[kind])
    assert err.count(ALLOWED[kind]) <= 4  # one message per command, not one per line


def test_non_yaml_file_gives_one_message(tmp_path, capsys):
    text = write(tmp_path / "notes.txt", "".join(f"Line {i}: some words here\n"
                                                 for i in range(2000)))
    f = write(tmp_path / "s.yaml", "extends: notes.txt\nname: x\n")
    with pytest.raises(InputError) as err:
        load_scenario(f)
    assert len(err.value.problems) == 1
    assert "not a scenario file" in str(err.value) and "notes.txt" in str(err.value)
    binary = tmp_path / "bin.yaml"
    binary.write_bytes(bytes(range(256)) * 100)
    g = write(tmp_path / "t.yaml", "extends: bin.yaml\nname: x\n")
    msg = cli_refuses(capsys, g, "bin.yaml", "binary")
    assert len(msg) < 2000
    long_text = write(tmp_path / "long.yaml", "x" * 100_000 + "\n")
    msg = cli_refuses(capsys, long_text, "must be a mapping", "text of 100,000 characters")
    assert "x" * 100 not in msg
    assert text.exists()


def test_many_keys_linear_and_capped(tmp_path, capsys):
    keys = "".join(f"unknown_key_{i}: 1\n" for i in range(3000))
    base = write(tmp_path / "base.yaml", "name: b\nparameters:\n" + "".join(
        f"  p{i}: 1\n" for i in range(3000)))
    f = write(tmp_path / "s.yaml", "extends: base.yaml\nname: x\n" + keys)
    t0 = time.perf_counter()
    with pytest.raises(InputError) as err:
        load_scenario(f)
    assert time.perf_counter() - t0 < 2.0
    assert err.value.total == 6000
    assert len(err.value.problems) == 51
    assert "and 5950 more problem(s)" in str(err.value.problems[-1])
    assert base.exists()
    cli_refuses(capsys, f, "unknown_key_0: unknown key", "5950 more problem(s)")


@pytest.mark.parametrize("name", ["Tromsø – ingen regel", "Ålesund (2025)", "日本語 テスト",
                                  "عربي", "rights-3-years", "a b.c_d", "«Kjøkken» & co!"])
def test_names_in_any_script(tmp_path, name):
    f = write(tmp_path / "s.yaml", f"name: {name!r}\n".replace("'", '"'))
    s = load_scenario(f)
    assert s.name == name
    assert "/" not in s.slug and "\\" not in s.slug and s.slug not in ("", ".", "..")


@pytest.mark.parametrize(("name", "expected"), [
    ("a/b", "contains '/'"), ("..", "contains '..'"), ("a\\\\b", "contains '\\\\'"),
    ("", "empty name"), ("x" * 121, "121 characters"), ("a\\tb", "control character"),
    ("a\\u202eb", "control character"),
])
def test_bad_names(tmp_path, capsys, name, expected):
    f = write(tmp_path / "s.yaml", f'name: "{name}"\n')
    cli_refuses(capsys, f, f"{f}:1: name: got", expected, "e.g. name: Tromsø – ingen regel")


def test_output_slug():
    assert output_slug("Tromsø – ingen regel") == "Tromsø-ingen-regel"
    assert output_slug("baseline") == "baseline"
    assert output_slug("../../etc/passwd") == "etc-passwd"
    assert output_slug("..") == output_slug("") == output_slug("///") == "scenario"
    assert output_slug("ﬁle Ⅻ") == "file-XII"  # NFKC
    assert len(output_slug("ø" * 120).encode()) <= 200


def test_problems_in_one_pass_and_inherited(tmp_path):
    write(tmp_path / "base.yaml", "name: b\nreplicates: 0\npolicy: {rights_years: 99}\n")
    f = write(tmp_path / "child.yaml", "extends: base.yaml\nname: c\nseed: -1\n"
              "period: {start: 2020, end: 2030}\n")
    found = problems(f)
    assert any("base.yaml:2: replicates: got 0" in p and "(inherited from" in p
               and "child.yaml extends" in p for p in found), found
    assert any("base.yaml:3: policy.rights_years: got 99" in p and "inherited" in p
               for p in found)
    assert any("child.yaml:3: seed: got -1" in p and "inherited" not in p for p in found)
    assert any("no settlement volume for year(s) [2025" in p for p in found)


@pytest.mark.parametrize(("text", "expected"), [
    ("settlement: {allocation: {exclude_centrality: 6}}",
     "got 6; write a list of centrality classes 1-6, e.g. exclude_centrality: [6]"),
    ("settlement: {allocation: {continuity_only: 'true'}}",
     "got 'true' (in quotes, so it is text; write true or false without quotes)"),
    ("settlement: {allocation: {exclude_below_population: '5000'}}",
     "got '5000' (in quotes, so it is text; write the number without quotes)"),
    ("seed: 1.5", "seed: got 1.5; write a whole number"),
    ("replicates: [1]", "replicates: got [1]; write a whole number from 1 to 10000"),
    ("description: 5", "description: got 5; write text"),
    ("geography: [a]", "geography: got ['a']; write built-in or the path of a CSV file"),
    ("period: 2010", "period: got 2010; write a mapping, e.g. period: {start: 2010"),
    ("period: {strat: 2010}", "period.strat: unknown key (did you mean 'start'?)"),
    ("period: {start: 2015, end: 2012}", "end (2012) is before start (2015)"),
    ("period: {start: 1800}", "period.start: got 1800; write a year from 1990 to 2100"),
    ("period: {end: 2500}", "period.end: got 2500; write a year from 1990 to 2100"),
    ("settlement: {composition_like: .nan}", "composition_like: got nan; write a year from"),
    ("settlement: {composition_like: 2030}", "composition_like: got 2030; write a year from"),
    ("settlement: {volumes: 6}", "settlement.volumes: got 6; write built-in, a mapping"),
    ("settlement: {volumes: {2025: .nan}}", "volumes[2025]: got nan; allowed: a number of"),
    ("settlement: {volumes: {2025: .inf}}", "volumes[2025]: got inf; allowed"),
    ("settlement: {volumes: {2025: -1}}", "persons must be >= 0"),
    ("settlement: {volumes: {2025: 1000000000000}}", f"allowed: a number of persons from 0 "
                                                     f"to {MAX_VOLUME:,}"),
    ("settlement: {volumes: {2025: 1e12}}", "YAML reads a number like 1e6 as text"),
    ("settlement: {volumes: {1800: 5}}", "got the year 1800"),
    ("settlement: {volumes: {x: 5}}", "got the key 'x'; write years as whole numbers"),
    ("settlement: {volumes: {from: 5}}", "volumes.from: got 5; write the path of a CSV"),
    ("outputs: {formats: xlsx}", "outputs.formats: got 'xlsx'; write a list of csv and/or"),
    ("outputs: {directory: 7}", "outputs.directory: got 7; write the path of a folder"),
    ("parameters: {move_intercept: '0.5'}", "move_intercept: got '0.5' (in quotes"),
    ("parameters: {move_intercept: [1]}", "move_intercept: got [1]; allowed: a number from"),
    ("parameters: {move_intercept: .nan}", "move_intercept: got nan; allowed"),
    ("parameters: {move_intercept: 1" + "0" * 400 + "}", "-digit number; allowed"),
    ("policy: {job_move_exemption: 'yes'}", "job_move_exemption: got 'yes'; allowed: true or"),
    ("policy: {rights_years: 2020-01-01}", "rights_years: got datetime.date(2020, 1, 1)"),
    ("parameters: {from: 5}", "parameters.from: got 5; write the path of a YAML file"),
])
def test_type_errors_in_users_words(tmp_path, text, expected):
    found = problems(write(tmp_path / "s.yaml", f"name: x\n{text}\n"))
    assert any(expected in p for p in found), found
    assert all("Input should" not in p and "valid list" not in p for p in found), found
    assert all(str(tmp_path / "s.yaml") in p for p in found)


def write_quotas(tmp_path: Path, body: str) -> Path:
    write(tmp_path / "q.csv", "municipality,weight\n" + body)
    return write(tmp_path / "s.yaml", "name: x\nsettlement:\n  allocation:\n    quotas: q.csv\n")


def test_quota_csv_every_bad_row(tmp_path, capsys):
    f = write_quotas(tmp_path, "0301,1\nOslo,2\ntromso,1\n9999,1\n0301,3\n4601,nan\n"
                     "5001,inf\n1103,-1\n1108,\n")
    found = problems(f)
    q = str(tmp_path / "q.csv")
    for expected in [f"{q}: line 3, column 'municipality': got 'Oslo'", "'Oslo' is 0301",
                     f"{q}: line 4", "did you mean 'Tromsø' (5501)?",
                     "line 5, column 'municipality': unknown municipality code '9999'",
                     "line 6, column 'municipality': 0301 is given twice (lines 2 and 6)",
                     "line 7, column 'weight': got 'nan'", "line 8, column 'weight': got 'inf'",
                     "line 9, column 'weight': got '-1'", "line 10, column 'weight': got ''"]:
        assert any(expected in p for p in found), (expected, found)
    assert all(p.startswith(f"{f}:4: settlement.allocation.quotas: ") for p in found)
    cli_refuses(capsys, f, "'Oslo' is 0301", "allowed: a number from 0 to")


def test_quota_names_with_two_municipalities(tmp_path):
    found = problems(write_quotas(tmp_path, "Våler,1\n"))
    assert any("'Våler' is 3114 (Våler (Østfold)) or 3419 (Våler (Innlandet))" in p
               for p in found), found


def test_volumes_csv_every_bad_row(tmp_path, capsys):
    write(tmp_path / "v.csv", "year,persons\n2025,nan\n2026,inf\n2027,-5\n2028,1e12\n"
          "x,5\n2029,100\n2029,200\n")
    f = write(tmp_path / "s.yaml", "name: x\nperiod: {end: 2029}\n"
              "settlement:\n  volumes: {from: v.csv}\n")
    found = problems(f)
    v = str(tmp_path / "v.csv")
    for expected in [f"{v}: line 2, column 'persons': got nan", "line 3, column 'persons': got inf",
                     "line 4, column 'persons': got -5.0: persons must be >= 0",
                     "line 5, column 'persons': got 1,000,000,000,000.0",
                     "line 6, column 'year': got 'x'",
                     "line 8, column 'year': 2029 is given twice (first on line 7)"]:
        assert any(expected in p for p in found), (expected, found)
    cli_refuses(capsys, f, "v.csv: line 2", "a number of persons from 0 to 500,000")


def test_nul_in_paths(tmp_path, capsys):
    f = write(tmp_path / "s.yaml", 'name: x\ngeography: "a\\0b.csv"\n')
    cli_refuses(capsys, f, "geography: got", "control characters")
    g = write(tmp_path / "t.yaml", 'extends: "a\\0b.yaml"\nname: x\n')
    cli_refuses(capsys, g, "extends: got", "control characters")


def test_policy_section_takes_the_registry_policy_group(tmp_path):
    """The policy keys come from the registry's policy group: each is accepted there and sets
    the parameter; any other registry name is refused there, naming the policy keys."""
    from simulation.inputs.parameters import REGISTRY

    policy = [p for p in REGISTRY if p.group == "policy"]
    assert len(policy) >= 5
    text = "".join(f"  {p.name}: {p.low:g}\n" for p in policy)
    scenario = load_scenario(write(tmp_path / "p.yaml", f"name: p\npolicy:\n{text}"))
    assert all(scenario.params[p.name] == p.low for p in policy)
    assert set(scenario.resolved()["policy"]) == {p.name for p in policy}
    found = problems(write(tmp_path / "q.yaml", "name: q\npolicy: {move_intercept: -1}\n"))
    assert found == [f"{tmp_path / 'q.yaml'}:2: policy.move_intercept: unknown key; allowed "
                     f"keys here: {', '.join(p.name for p in policy)}"], found


def test_baseline_scenario_builds_the_builtin_inputs(tmp_path):
    """Scenario files and the built-in defaults assemble Inputs the same way: the baseline
    scenario is exactly default_inputs(), and composition_like repeats one year's arrivals."""
    import numpy as np

    from simulation.inputs.defaults import default_composition, default_inputs

    root = Path(__file__).resolve().parent.parent / "scenarios"
    built_in, baseline = default_inputs(), load_scenario(root / "baseline.yaml").inputs
    assert (baseline.start, baseline.end, baseline.volumes, baseline.composition,
            baseline.allocation, baseline.scale) == (
        built_in.start, built_in.end, built_in.volumes, built_in.composition,
        built_in.allocation, built_in.scale)
    np.testing.assert_array_equal(baseline.background_stock, built_in.background_stock)
    like = load_scenario(write(tmp_path / "like.yaml", "name: like\nperiod: {end: 2016}\n"
                               "settlement: {composition_like: 2016}\n")).inputs
    assert all(c == default_composition(2016) for c in like.composition.values())
    assert like.composition[2010] != built_in.composition[2010]


def test_observed_settlement_can_be_switched_off(tmp_path):
    """allocation.observed: false runs the allocation model in IMDi's years too (the way to
    see the model's own pattern); true (the default) places IMDi's persons there."""
    import simulation

    text = ("name: {n}\nperiod: {{start: 2014, end: 2014}}\nsettlement:\n  allocation:\n"
            "    observed: {v}\n")
    settled = {}
    for value in ("true", "false"):
        file = write(tmp_path / f"{value}.yaml", text.format(n=f"observed-{value}", v=value))
        s = load_scenario(file)
        assert s.inputs.allocation.observed is (value == "true")
        res = simulation.run(s.params, 1, s.inputs)
        settled[value] = res.municipality_yearly.set_index("municipality")["settled"]
    # the model's pattern differs from IMDi's municipality by municipality, while the national
    # volume (with reunified persons) is the same up to household rounding
    assert (settled["true"] != settled["false"]).sum() > 100
    assert abs(settled["true"].sum() - settled["false"].sum()) < 0.01 * settled["true"].sum()


def test_parsed_yaml_is_shared_but_never_aliased(tmp_path):
    """yamlsource.load_yaml parses a file's text once per process: a caller that changes
    its data does not change the next caller's, and a changed file is parsed again."""
    from simulation.inputs.yamlsource import load_yaml

    path = tmp_path / "x.yaml"
    path.write_text("a:\n  b: [1, 2]\n", encoding="utf-8")
    first = load_yaml(path)
    first.data["a"]["b"].append(3)
    first.data.pop("a")
    second = load_yaml(path)
    assert second.data == {"a": {"b": [1, 2]}} and second.where(("a", "b"))[1] == 2
    path.write_text("a:\n  b: [5]\n", encoding="utf-8")
    assert load_yaml(path).data == {"a": {"b": [5]}}

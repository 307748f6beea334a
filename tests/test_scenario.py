"""Scenario files: schema, extends, and every kind of bad input gives a clear message."""

from __future__ import annotations

from importlib.resources import files
from pathlib import Path

import pytest
import yaml

from simulation.cli import main
from simulation.scenario import load_scenario
from simulation.template import template_text
from simulation.yamlsource import InputError

REPO = Path(__file__).resolve().parent.parent
SCENARIOS = REPO / "scenarios"


def write(path: Path, text: str) -> Path:
    path.write_text(text, encoding="utf-8")
    return path


def problems(path: Path) -> list[str]:
    with pytest.raises(InputError) as err:
        load_scenario(path)
    return [str(p) for p in err.value.problems]


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
    from simulation.parameters import REGISTRY

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
    assert any(":3: replicates:" in p and "greater than or equal to 1" in p for p in found)
    assert any(":5: policy.rights_years: got 12; allowed: a whole number from 0 to 10" in p
               for p in found)
    assert any(":7: parameters.move_intercep: unknown parameter (did you mean "
               "'move_intercept'?)" in p for p in found)


@pytest.mark.parametrize(("text", "expected"), [
    ("name: x\nreplicates: many\n", ":2: replicates: Input should be a valid integer"),
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
     "exclude_centrality[0]: Input should be 1, 2, 3, 4, 5 or 6"),
    ("name: x\nsettlement:\n  allocation:\n    exclude_centrality: [1, 2, 3, 4, 5, 6]\n",
     "this allocation excludes every municipality"),
    ("name: x\npolicy:\n  rights_years: 3\nparameters:\n  rights_years: 4\n",
     "also set under policy.rights_years"),
    ("name: x\noutputs:\n  formats: [xlsx]\n", "outputs.formats[0]"),
    ("name: has space\n", "allowed: letters, digits"),
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
    assert any("line 2" in p and "persons a number" in p for p in problems(g))
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

"""The parameter registry: typed, ranged, and strict about names."""

from __future__ import annotations

import pickle

import pytest

from simulation.inputs.parameters import BY_NAME, REGISTRY, ParameterError, Params, registry_table


def test_every_parameter_has_default_inside_range_and_documentation():
    assert len(BY_NAME) == len(REGISTRY)
    for p in REGISTRY:
        assert p.low <= p.default <= p.high, p.name
        assert p.unit and p.meaning and p.group, p.name
        assert p.check(p.default) == p.default


def test_unknown_name_is_an_error_with_suggestion():
    with pytest.raises(ParameterError, match="did you mean 'rights_years'"):
        Params({"right_years": 3})


@pytest.mark.parametrize(("name", "value"), [
    ("rights_years", 11), ("rights_years", 2.5), ("rights_years", "five"),
    ("rights_cost", -1.0), ("job_move_exemption", 2), ("emigration_rate", float("nan")),
    ("move_intercept", True),
])
def test_bad_values_are_rejected_naming_the_range(name, value):
    with pytest.raises(ParameterError) as err:
        Params({name: value})
    assert name in str(err.value) and "allowed" in str(err.value)


def test_overrides_and_replace():
    p = Params({"rights_years": 3, "job_move_exemption": True})
    assert p.rights_years == 3.0 and p.job_move_exemption == 1.0
    q = p.replace(rights_years=0)
    assert q.rights_years == 0 and p.rights_years == 3
    assert q.changed() == {"rights_years": 0.0, "job_move_exemption": 1.0}
    with pytest.raises(AttributeError):
        p.rights_years = 4  # type: ignore[misc]
    assert pickle.loads(pickle.dumps(p)) == p


def test_registry_table_lists_everything():
    rows = registry_table()
    assert {r["name"] for r in rows} == set(BY_NAME)
    assert {"name", "default", "low", "high", "unit", "meaning"} <= set(rows[0])


def test_calibrated_parameters_come_from_the_fitted_file():
    from pathlib import Path

    import yaml

    from simulation.inputs.parameters import calibrated

    repo = Path(__file__).resolve().parent.parent
    fitted = yaml.safe_load((repo / "calibration" / "fitted.yaml").read_text(encoding="utf-8"))
    p = calibrated()
    assert p.changed()  # not the defaults
    for name, value in fitted["parameters"].items():
        assert p[name] == pytest.approx(value)
    assert calibrated(str(repo / "calibration" / "fitted.yaml")) == p

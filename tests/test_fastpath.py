"""The calibration's fast path gives exactly the moments of the slow route (run, Results,
indicators, flatten) for every target and holdout name of the calibration files."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

import simulation
from simulation import default_inputs
from simulation.calibration.fastpath import FAMILY_OF, simulate_moments
from simulation.calibration.spec import load_spec
from simulation.inputs.parameters import Params
from simulation.runs.ensemble import flatten

ROOT = Path(__file__).resolve().parents[1]
SPECS = ("calibration/targets.yaml", "calibration/targets_2010_2013.yaml",
         "calibration/targets_emigrants_leave.yaml")


def spec_names(path: str) -> tuple[list[str], object]:
    """The moment names a fit on ``path`` evaluates (as fit.Evaluator lists them)."""
    spec = load_spec(ROOT / path)
    moments = spec.moments + spec.holdout
    names = sorted({m.name for m in moments}
                   | {f"{m.id}.all" for m in moments if m.compare == "ratio_to_all"})
    return names, spec.inputs()


def corner() -> Params:
    """An extreme corner of the fit's box: the free parameters of targets.yaml alternately at
    their lower and upper bounds."""
    spec = load_spec(ROOT / SPECS[0])
    return spec.params({n: float(hi if i % 2 else lo) for i, (n, lo, hi)
                        in enumerate(zip(spec.names, spec.low, spec.high, strict=True))})


POINTS = {"defaults": Params, "calibrated": simulation.calibrated, "corner": corner}


def assert_same(names: list[str], fast: np.ndarray, flat: dict[str, float]) -> None:
    slow = np.array([flat.get(n, np.nan) for n in names])
    assert fast.dtype == np.float64 and fast.shape == (len(names),)
    assert np.array_equal(np.isnan(fast), np.isnan(slow)), \
        [n for n, f, s in zip(names, fast, slow, strict=True) if np.isnan(f) != np.isnan(s)]
    ok = np.isnan(slow) | np.isclose(fast, slow, rtol=1e-12, atol=0.0)
    assert ok.all(), [(n, f, s) for n, f, s, g in zip(names, fast, slow, ok, strict=True)
                      if not g]


@pytest.mark.parametrize("path", SPECS)
@pytest.mark.parametrize("point", ["defaults", "calibrated", "corner"])
def test_every_target_name_equals_the_slow_route(path: str, point: str) -> None:
    names, inputs = spec_names(path)
    params = POINTS[point]()
    fast = simulate_moments(params, 5, inputs, names)
    assert_same(names, fast, flatten(simulation.indicators(simulation.run(params, 5, inputs))))


@pytest.mark.slow
@pytest.mark.parametrize("seed", [0, 1, np.random.SeedSequence(3).spawn(2)[1]])
@pytest.mark.parametrize("point", ["defaults", "calibrated", "corner"])
def test_more_seeds(seed: object, point: str) -> None:
    names, inputs = spec_names(SPECS[0])
    params = POINTS[point]()
    fast = simulate_moments(params, seed, inputs, names)
    assert_same(names, fast, flatten(simulation.indicators(simulation.run(params, seed,
                                                                          inputs))))


@pytest.mark.parametrize("window", [(2010, 2023, 0.3), (2010, 2013, 0.3), (2016, 2019, 0.5)])
def test_every_fast_indicator_on_short_and_scaled_windows(window: tuple[int, int, float]) -> None:
    """Every indicator the fast path knows, including NaN and missing keys where a short
    window cannot show a value."""
    start, end, scale = window
    inputs = default_inputs(start, end).scaled(scale)
    params = simulation.calibrated()
    flat = flatten(simulation.indicators(simulation.run(params, 2, inputs)))
    names = [n for n in flat if n.split(".")[0] in FAMILY_OF]
    names += ["moved_by_end_of_year_2.2015", "retention_5y_by_cohort.2030"]  # may be missing
    assert_same(names, simulate_moments(params, 2, inputs, names), flat)


def test_every_indicator_id_the_fit_uses_has_a_fast_route() -> None:
    for path in SPECS:
        names, _ = spec_names(path)
        assert {n.split(".")[0] for n in names} <= FAMILY_OF.keys()


def test_unknown_name_is_refused() -> None:
    with pytest.raises(KeyError, match="no fast route"):
        simulate_moments(Params(), 0, default_inputs(2010, 2011).scaled(0.05),
                         ["group_concentration.somali_municipalities_over_2%"])

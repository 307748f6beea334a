"""The calibration method checked on itself: simulation-based calibration (a CI-sized version
of `secmig calibrate calibration/targets.yaml --coverage 20`), reproducibility across workers
and on a real Dask cluster, and the emulator and likelihood pieces."""

from __future__ import annotations

import json
import subprocess
from pathlib import Path

import numpy as np
import pytest
import yaml

from simulation.calibration.emulator import fit_emulator, quadratic_features
from simulation.calibration.evaluations import Evaluator
from simulation.calibration.history import history_match
from simulation.calibration.posterior import likelihood, sample
from simulation.calibration.spec import load_spec
from tests.test_cli import SECMIG

SMALL = {
    "name": "sbc-small", "seed": 11, "replicates": 1, "scale": 0.1,
    "period": {"start": 2010, "end": 2016},
    "targets": [{"id": "retention_5y", "value": 0.87, "tolerance": 0.01},
                {"id": "destination_split_of_movers", "key": "same_county", "value": 0.48,
                 "tolerance": 0.015},
                {"id": "no_break_after_year_5", "value": 1.0, "tolerance": 0.2}],
    "free_parameters": {"move_intercept": {"low": -2.5, "high": 0.0},
                        "dest_same_county_effect": {"low": 0.0, "high": 2.5},
                        "rights_cost": {"low": 0.0, "high": 2.0}},
    "posterior": {"waves": 2, "first_points": 32, "points": 24, "noise_replicates": 8,
                  "steps": 600, "draws": 60},
}


def test_quadratic_features_are_scikit_learns():
    from sklearn.preprocessing import PolynomialFeatures

    z = np.random.default_rng(2).random((50, 7))
    expected = PolynomialFeatures(degree=2, include_bias=False).fit_transform(z)
    assert np.array_equal(quadratic_features(z), expected)  # same columns, same bits


def test_emulator_recovers_a_quadratic_and_its_error():
    rng = np.random.default_rng(0)
    z = rng.random((300, 4))
    truth = 0.3 + z[:, 0] ** 2 - 0.5 * z[:, 1] * z[:, 2]
    y = np.c_[truth + 0.01 * rng.standard_normal(300), z[:, 3]]
    y[:10, 1] = np.nan  # an undefined value leaves that row out of that moment only
    emu = fit_emulator(z, y)
    zt = rng.random((50, 4))
    err = emu.predict(zt)[:, 0] - (0.3 + zt[:, 0] ** 2 - 0.5 * zt[:, 1] * zt[:, 2])
    assert np.sqrt(np.mean(err ** 2)) < 0.005  # noise sd 0.01 averaged over 300 points
    # leave-one-out error of a single noisy value: noise variance (1e-4) plus a little
    assert 0.7e-4 < emu.variance[0] < 1.6e-4
    assert emu.points[1] == 290


@pytest.mark.slow  # ~1.1 s: kept out of the fast tier (under a minute)
def test_posterior_sampler_matches_a_known_gaussian():
    """A linear 'emulator' with Gaussian noise: the posterior is Gaussian with a known mean and
    sd (far from the box edges), and the sampler must reproduce them."""
    rng = np.random.default_rng(1)
    z = rng.random((200, 2))
    y = np.c_[z[:, 0] + z[:, 1], z[:, 0] - z[:, 1]]
    emu = fit_emulator(z, y)
    like = likelihood(emu, np.array([1.0, 0.0]), np.diag([0.01, 0.01]), 10 ** 9,
                      np.zeros(2))
    chain = sample(like, 1000, seed=3, steps=1000)
    # y = A z with A = [[1, 1], [1, -1]] and noise sd 0.1 each: z = (0.5, 0.5), cov = 0.01/2 I
    assert np.allclose(chain.draws.mean(axis=0), [0.5, 0.5], atol=0.01)
    assert np.allclose(chain.draws.std(axis=0), np.sqrt(0.005), rtol=0.15)
    again = sample(like, 1000, seed=3, steps=1000)
    assert np.array_equal(chain.draws, again.draws)  # one seed, one sample


@pytest.mark.parametrize("value", ["0", "-1", "1.5", "nan", "inf", "a quarter"])
def test_scale_override_refuses_what_is_not_a_share(value, capsys):
    from simulation.cli import main

    with pytest.raises(SystemExit) as exc:
        main(["calibrate", "c.yaml", f"--scale={value}", "--quiet"])
    err = capsys.readouterr().err
    assert exc.value.code == 2 and "--scale: got" in err and "allowed: a number > 0 and <= 1" in err
    assert "Traceback" not in err


def _tiny(tmp_path: Path) -> Path:
    spec = {**SMALL, "name": "tiny", "scale": 0.05, "period": {"start": 2010, "end": 2013},
            "targets": [{"id": "retention_3y", "value": 0.9, "tolerance": 0.02}],
            "free_parameters": {"move_intercept": {"low": -2.5, "high": 0.0}},
            "posterior": {"waves": 2, "first_points": 16, "points": 8, "noise_replicates": 4,
                          "steps": 300, "draws": 40}}
    path = tmp_path / "tiny.yaml"
    path.write_text(yaml.safe_dump(spec), encoding="utf-8")
    return path


@pytest.mark.slow
def test_same_posterior_with_one_process_and_on_a_dask_cluster(tmp_path):
    """One seed gives bit-identical draws whatever runs the simulations: here one process
    against a real LocalCluster of two workers on loopback."""
    spec = load_spec(_tiny(tmp_path))
    results = []
    for jobs, scheduler in ((1, None), (2, "local")):
        ev = Evaluator(spec, tmp_path / f"log-{jobs}.jsonl", jobs, scheduler=scheduler)
        try:
            results.append(history_match(spec, ev).chain.draws)
        finally:
            ev.close()
    assert np.array_equal(results[0], results[1])


@pytest.mark.slow
def test_coverage_check_end_to_end(tmp_path):
    """Five truths from the prior: 15 (truth, parameter) pairs. With 90 % intervals that mean
    what they say, 10 or fewer covered has probability 0.013 (binomial 15, 0.9); for the
    policy effect, 2 or fewer of 5 has probability 0.009. The intervals must also be
    informative: narrower than the prior for the parameters the targets pin down."""
    path = tmp_path / "sbc.yaml"
    path.write_text(yaml.safe_dump(SMALL), encoding="utf-8")
    out = tmp_path / "cov"
    proc = subprocess.run([SECMIG, "calibrate", str(path), "--coverage", "5", "--jobs", "2",
                           "--out", str(out), "--quiet"], capture_output=True, text=True,
                          timeout=900)
    assert proc.returncode == 0, proc.stderr
    summary = json.loads((out / "coverage.json").read_text())
    assert summary["truths"] == 5 and summary["pairs"] == 15
    assert summary["parameter_coverage"] >= 11 / 15
    for m in ("retention_5y", "moves_per_year"):
        assert summary[f"effect_coverage.{m}"] >= 3 / 5
    import pandas as pd

    p = pd.read_csv(out / "coverage_parameters.csv")
    width = p.groupby("parameter")["interval_share_of_prior"].mean()
    assert width["move_intercept"] < 0.5 and width["dest_same_county_effect"] < 0.5
    assert (out / "coverage.png").stat().st_size > 10_000
    # each finished truth is recorded: a rerun reuses all five instead of refitting them
    records = (out / "truths.jsonl").read_text().splitlines()
    assert [json.loads(r)["truth"] for r in records] == [0, 1, 2, 3, 4]
    tables = {f: (out / f).read_bytes() for f in ("coverage_parameters.csv",
                                                  "coverage_effects.csv")}
    again = subprocess.run([SECMIG, "calibrate", str(path), "--coverage", "5", "--jobs", "1",
                            "--out", str(out), "--quiet"], capture_output=True, text=True,
                           timeout=120)
    assert again.returncode == 0, again.stderr
    assert {f: (out / f).read_bytes() for f in tables} == tables
    assert len((out / "truths.jsonl").read_text().splitlines()) == 5  # nothing refitted


def test_replicate_covariance_keeps_each_moments_own_scale(tmp_path):
    """A share and a count of municipalities: each keeps its own replicate variance (the
    shrinkage acts on correlations only), checked against the plain sample variance."""
    from simulation.calibration.noise import replicate_covariance

    spec = load_spec(_tiny(tmp_path))
    spec.moments.append(type(spec.moments[0])("moves_per_year", None, 100.0, 10.0, 1.0,
                                              "level", "", ""))
    ev = Evaluator(spec, tmp_path / "log.jsonl", 1, extra=("moves_per_year",))
    try:
        cov = replicate_covariance(ev, spec.theta(np.array([0.5])), spec.moments, 6)
        values = ev.moments(ev.evaluate([spec.theta(np.array([0.5]))], stream="noise",
                                        n=6)[0], spec.moments)
    finally:
        ev.close()
    assert np.allclose(np.diag(cov), values.var(axis=0, ddof=1), rtol=1e-9)
    assert abs(cov[0, 1]) <= np.sqrt(cov[0, 0] * cov[1, 1])


def test_prior_bound_flags_a_posterior_piled_at_an_end():
    from simulation.calibration.report import prior_bound

    rng = np.random.default_rng(0)
    assert prior_bound(rng.uniform(0, 1, 1000), 0, 1) == ""  # a tenth at each end: the prior
    assert prior_bound(rng.uniform(0.8, 1, 1000), 0, 1) == "upper"  # half above 0.9
    assert prior_bound(rng.uniform(-2, -1.6, 1000), -2, 0) == "lower"  # half below -1.8
    assert prior_bound(rng.uniform(0.6, 1, 1000), 0, 1) == "upper"  # a quarter above 0.9
    assert prior_bound(rng.uniform(0, 1.2, 1000), 0, 1) == "upper"  # about a quarter at the end
    assert prior_bound(rng.normal(0.5, 0.05, 1000), 0, 1) == ""


def test_joint_fit_counts_points_meeting_every_target():
    """Three points, two targets (tolerance 1): the first meets both, the second misses one,
    the third misses both; a NaN moment is a miss."""
    from types import SimpleNamespace

    from simulation.calibration.report import joint_fit

    moments = [SimpleNamespace(name="a", value=0.0, tolerance=1.0),
               SimpleNamespace(name="b", value=10.0, tolerance=1.0)]
    means = np.array([[0.5, 10.5], [1.5, 10.0], [np.nan, 13.0]])
    fit = SimpleNamespace(posterior=SimpleNamespace(means=means))
    table, summary = joint_fit(SimpleNamespace(moments=moments), fit)
    assert summary == {"points": 3, "all_within": 1, "best_point_misses": []}
    assert table["share_of_points_within"].tolist() == pytest.approx([1 / 3, 2 / 3])
    assert table["best_point_in_tolerances"].tolist() == pytest.approx([0.5, 0.5])
    _, summary = joint_fit(SimpleNamespace(moments=moments),
                           SimpleNamespace(posterior=SimpleNamespace(means=means[1:])))
    assert summary == {"points": 2, "all_within": 0, "best_point_misses": ["a"]}


COMMITTED = Path(__file__).resolve().parent.parent / "calibration" / "fit" / \
    "register-2010-2023-coverage"


def test_committed_coverage_summary_is_its_tables():
    """coverage.json (and the README's figures) are recomputed from the per-(truth, parameter)
    and per-(truth, effect) rows of the committed full check."""
    import pandas as pd

    summary = json.loads((COMMITTED / "coverage.json").read_text())
    p = pd.read_csv(COMMITTED / "coverage_parameters.csv")
    e = pd.read_csv(COMMITTED / "coverage_effects.csv")
    assert summary["truths"] == p["truth"].nunique() == e["truth"].nunique() >= 20
    assert summary["pairs"] == len(p) == summary["truths"] * p["parameter"].nunique()
    covered = (p["p5"] <= p["true"]) & (p["true"] <= p["p95"])
    assert covered.equals(p["covered"])
    assert summary["parameter_coverage"] == pytest.approx(covered.mean())
    for m in ("retention_5y", "moves_per_year"):
        rows = e[e["measure"] == m]
        inside = (rows["p5"] <= rows["true_effect"]) & (rows["true_effect"] <= rows["p95"])
        assert inside.equals(rows["covered"])
        assert summary[f"effect_coverage.{m}"] == pytest.approx(inside.mean())
    readme = (COMMITTED.parents[2] / "README.md").read_text(encoding="utf-8")
    n_cov, n_pairs = int(covered.sum()), len(p)
    assert f"{n_cov:,} of {n_pairs:,} (truth, parameter) pairs ({covered.mean():.0%})" in readme
    for m, label in (("retention_5y", "five-year retention"),
                     ("moves_per_year", "persons moving per year")):
        rows = e[e["measure"] == m]
        text = f"{label}: {int(rows['covered'].sum())} of {len(rows)} truths"
        assert text in readme, text


def test_finished_truths_are_read_under_their_key_only(tmp_path):
    """A record written under other settings (another budget) is not reused, and a line cut by
    an interruption is skipped."""
    from simulation.calibration.sbc import _finished, settings_key

    spec = load_spec(Path(__file__).resolve().parent.parent / "calibration" / "targets.yaml")
    key = settings_key(spec, 1024, 8, 40)
    assert key != settings_key(spec, 512, 8, 40) != settings_key(spec, 1024, 4, 40)
    with pytest.MonkeyPatch.context() as mp:  # a truth found by another search: not reused
        mp.setattr("simulation.calibration.sbc.METHOD_VERSION", 1)
        assert settings_key(spec, 1024, 8, 40) != key
    rec = tmp_path / "truths.jsonl"
    rec.write_text(json.dumps({"key": key, "truth": 0, "parameters": [], "effects": []}) + "\n"
                   + json.dumps({"key": "other", "truth": 1, "parameters": [],
                                 "effects": []}) + "\n" + '{"key": "' + key + '", "tru')
    assert list(_finished(rec, key)) == [0]
    assert _finished(tmp_path / "missing.jsonl", key) == {}


def test_several_streams_at_once_are_the_streams_one_by_one(tmp_path):
    """evaluate_streams (the coverage check's 40 draws' policy effects, each on its own
    stream, sent to the workers together) gives the values, log keys and log order that the
    same requests asked one by one give, and reuses a log written either way."""
    spec = load_spec(_tiny(tmp_path))
    points = [{"move_intercept": v} for v in (-2.0, -1.0)]
    requests = [(p, f"effect-0-{k}", 1) for k, p in enumerate(points)] + [(points[0], "x", 2)]
    one = Evaluator(spec, tmp_path / "one.jsonl", 1)
    alone = [one.evaluate([p], stream=s, n=n)[0] for p, s, n in requests]
    one.close()
    many = Evaluator(spec, tmp_path / "many.jsonl", 1)
    together = many.evaluate_streams(requests)
    many.close()
    assert all(np.array_equal(a, b) for a, b in zip(alone, together, strict=True))
    assert [len(v) for v in together] == [1, 1, 2]

    def keys(name: str) -> list[str]:
        return [json.loads(line)["key"] for line in (tmp_path / name).read_text().splitlines()]
    assert keys("one.jsonl") == keys("many.jsonl")
    again = Evaluator(spec, tmp_path / "one.jsonl", 1)
    again.evaluate_streams(requests)
    assert again.count == 0  # all from the log
    again.close()

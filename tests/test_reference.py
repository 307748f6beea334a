"""The vectorized engine and the per-household reference model agree statistically.

Both models run the same rules with different random numbers (they share only the settlement
of each cohort, with the engine's named draws), so their outcomes differ by sampling error
only. We pool several seeds per model on a tenth of the baseline inputs and
compare, for each statistic, the two pooled estimates against their combined standard error:

* the retention curve R(k), k = 1..7 (all cohorts that have k years of history);
* the share of persons who moved at least once, by household type;
* the destination split of persons leaving their settlement municipality (Oslo / same county /
  other county), as in the indicator ``destination_split_of_movers`` (cohorts 2010-2014), and
  the same split over every move of every cohort (``all_moves_to_*``, about four times the
  moves: the statistic the destination-choice power check relies on).

How the standard errors are derived
-----------------------------------
Every statistic is a ratio of person sums over households, p = sum(a_h) / sum(b_h): for R(k),
a_h = persons alive and at home on 1 January of cohort + k and b_h = persons alive then; for
the moving share, a_h = persons if the household ever moved and b_h = persons; for the split,
a_h and b_h sum the persons over the household's moves (of one kind / of all kinds). Persons
of one household move together, so the household is the sampling unit and the variance of one
run's p is the household-clustered (linearised ratio) variance

    var(p) = H / (H - 1) * sum_h (a_h - p * b_h)**2 / (sum_h b_h)**2.

A model's estimate is the mean over its S seeds, with variance sum_s var_s / S**2; the
difference engine - reference has variance var_engine + var_reference, and we flag a
statistic when |difference| > 4 combined standard errors (about 6e-5 two-sided per statistic
under a normal approximation, so about 1e-3 over the 18 statistics).

Does that variance capture all of the run-to-run variation (which municipalities settle, the
allocation, network feedback)? Checked on 40 engine seeds (0.1-scaled inputs): the standard
deviation of p between seeds over the mean clustered standard error was 0.70-1.10 across the
15 statistics (0.85 on average; 39 degrees of freedom, so ~11 % estimation error), i.e. the
clustered error is right or slightly conservative (the allocation meets quotas exactly, which
removes some variation). ``test_standard_errors_describe_seed_to_seed_variation`` re-checks
this on the seeds of every test run.
"""

from __future__ import annotations

import time
from dataclasses import dataclass

import numpy as np
import pandas as pd
import pytest

import simulation
from simulation.engine.households import ADULTS_BY_TYPE
from simulation.engine.reference import ReferenceModel, run_reference
from simulation.engine.results import Results
from simulation.inputs.categories import HOUSEHOLD_TYPES
from simulation.inputs.defaults import Inputs, default_inputs

ENGINE_SEEDS = range(10)
REFERENCE_SEEDS = range(100, 103)
PERTURBED_SEEDS = range(200, 202)
Z_LIMIT = 4.0
OSLO = "0301"


@dataclass(frozen=True)
class Estimate:
    """One run's value of a statistic and its household-clustered sampling variance."""

    value: float
    variance: float


def clustered_ratio(a: np.ndarray, b: np.ndarray) -> Estimate:
    """p = sum(a) / sum(b) over households, with the linearised ratio variance (see above)."""
    a, b = np.asarray(a, dtype=float), np.asarray(b, dtype=float)
    h = len(a)
    p = a.sum() / b.sum()
    variance = h / max(h - 1, 1) * float(((a - p * b) ** 2).sum()) / b.sum() ** 2
    return Estimate(float(p), variance)


def location_on_1_january(res: Results, k: int) -> np.ndarray:
    """Each household's municipality on 1 January of (its cohort + k), from the move log."""
    hh = res.households
    mv = res.moves[["household", "year", "destination"]].merge(
        hh[["household", "cohort"]], on="household")
    mv = mv[mv["year"] < mv["cohort"] + k].sort_values(["household", "year"])
    last = mv.groupby("household")["destination"].last()
    location = pd.Series(hh["settlement_municipality"].to_numpy(), index=hh["household"])
    location.loc[last.index] = last.to_numpy()
    return location.to_numpy()


def statistics(res: Results) -> dict[str, Estimate]:
    """The compared statistics of one run, each with its sampling variance."""
    out: dict[str, Estimate] = {}
    hh = res.households
    persons = hh["persons"].to_numpy(dtype=float)
    cohort = hh["cohort"].to_numpy()
    exit_year = hh["exit_year"].to_numpy()
    settlement = hh["settlement_municipality"].to_numpy()

    for k in range(1, 8):
        observed = cohort + k <= res.end + 1
        alive = (exit_year < 0) | (exit_year >= cohort + k)  # not exited by 31 Dec cohort+k-1
        home = location_on_1_january(res, k) == settlement
        out[f"R({k})"] = clustered_ratio((persons * alive * home)[observed],
                                         (persons * alive)[observed])

    moved = (hh["moves"] > 0).to_numpy()
    for htype in HOUSEHOLD_TYPES:
        mask = (hh["household_type"] == htype).to_numpy()
        out[f"moved_{htype}"] = clustered_ratio((persons * moved)[mask], persons[mask])

    # employment per adult at the end, by household type (work helper, issue 13): the share
    # of adults employed in households still in Norway (sex, mothers and couples' two slots)
    alive = hh["alive"].to_numpy()
    adults = ADULTS_BY_TYPE[hh["household_type"].cat.codes.to_numpy()].astype(float)
    working = hh["employed_adults"].to_numpy(dtype=float)
    for htype in HOUSEHOLD_TYPES:
        mask = (hh["household_type"] == htype).to_numpy() & alive
        out[f"employed_adults_{htype}"] = clustered_ratio(working[mask], adults[mask])

    county = res.municipalities.set_index("code")["county"]
    first = res.moves[res.moves["from_settlement"] & res.moves["cohort"].between(2010, 2014)]
    out.update(destination_split(first, county, ""))
    # every move of every cohort: about four times the moves, so destination choice is
    # measured about twice as precisely (the power check below relies on it)
    out.update(destination_split(res.moves, county, "all_moves_"))
    return out


def destination_split(mv: pd.DataFrame, county: pd.Series, prefix: str
                      ) -> dict[str, Estimate]:
    """Shares of persons moving to Oslo / within the county / to another county, clustered by
    household (a household's moves are one cluster)."""
    to_oslo = (mv["destination"] == OSLO).to_numpy()
    same = ~to_oslo & (mv["origin"].map(county) == mv["destination"].map(county)).to_numpy()
    kinds = {"oslo": to_oslo, "same_county": same, "other_county": ~to_oslo & ~same}
    mover_persons = mv["persons"].to_numpy(dtype=float)
    _, household = np.unique(mv["household"].to_numpy(), return_inverse=True)
    total = np.bincount(household, weights=mover_persons)
    return {f"{prefix}to_{kind}": clustered_ratio(
                np.bincount(household, weights=mover_persons * mask, minlength=len(total)),
                total)
            for kind, mask in kinds.items()}


def pooled(runs: list[dict[str, Estimate]]) -> pd.DataFrame:
    """Mean over seeds of each statistic, its variance, and the seeds' own dispersion."""
    names = list(runs[0])
    values = np.array([[r[n].value for n in names] for r in runs])
    variances = np.array([[r[n].variance for n in names] for r in runs])
    s = len(runs)
    return pd.DataFrame({
        "value": values.mean(axis=0),
        "variance": variances.sum(axis=0) / s**2,
        # sum over seeds of (x_s - mean)^2 / var_s: about (S - 1) if the variances are right
        "dispersion": (((values - values.mean(axis=0)) ** 2) / variances).sum(axis=0),
        "df": s - 1,
    }, index=names)


def compare(engine: list[dict[str, Estimate]], reference: list[dict[str, Estimate]]
            ) -> pd.DataFrame:
    """Engine vs reference per statistic: both estimates, combined standard error and z."""
    e, r = pooled(engine), pooled(reference)
    out = pd.DataFrame({"engine": e["value"], "reference": r["value"],
                        "se": np.sqrt(e["variance"] + r["variance"])})
    out["z"] = (out["engine"] - out["reference"]) / out["se"]
    return out


@pytest.fixture(scope="module")
def inputs() -> Inputs:
    return default_inputs().scaled(0.1)


@pytest.fixture(scope="module")
def engine_runs(inputs: Inputs) -> list[dict[str, Estimate]]:
    return [statistics(simulation.run(seed=s, inputs=inputs)) for s in ENGINE_SEEDS]


@pytest.fixture(scope="module")
def reference_results(inputs: Inputs) -> list[Results]:
    return [run_reference(seed=s, inputs=inputs) for s in REFERENCE_SEEDS]


@pytest.fixture(scope="module")
def reference_runs(reference_results: list[Results]) -> list[dict[str, Estimate]]:
    return [statistics(res) for res in reference_results]


@pytest.mark.slow
def test_engine_and_reference_agree(engine_runs: list[dict[str, Estimate]],
                                    reference_runs: list[dict[str, Estimate]]) -> None:
    table = compare(engine_runs, reference_runs)
    off = table[table["z"].abs() > Z_LIMIT]
    assert off.empty, f"engine and reference disagree:\n{table.to_string()}"


@pytest.mark.slow
def test_comparison_detects_a_wrong_reference(inputs: Inputs,
                                              engine_runs: list[dict[str, Estimate]]) -> None:
    """A reference with a move intercept 1.0 lower (people move much less) must be flagged,
    or the agreement test above could not fail."""
    wrong = simulation.Params().replace(
        move_intercept=simulation.Params().move_intercept - 1.0)
    runs = [statistics(run_reference(wrong, seed=s, inputs=inputs)) for s in PERTURBED_SEEDS]
    table = compare(engine_runs, runs)
    retention = table.loc[[f"R({k})" for k in range(1, 8)]]
    assert (retention["z"] < -Z_LIMIT).any(), table.to_string()
    assert (table.loc[[f"moved_{t}" for t in HOUSEHOLD_TYPES], "z"] > Z_LIMIT).any(), (
        table.to_string())


# Destination-choice power check. Lowering the same-county bonus of destination utility by
# 0.5 (default 1.2) moves the share of persons moving within their county over all moves from
# about 0.33 to 0.24 (engine runs, 0.1-scaled inputs: a shift of ~0.085), while the combined
# standard error of 10 engine seeds and 2 reference seeds is ~0.008: an expected z of ~10.
# Flagging needs |z| > Z_LIMIT = 4, so the check misses only if the estimate falls ~6 standard
# errors short (probability ~1e-9); a perturbation needs a shift of at least
# (Z_LIMIT + 3) * se ~ 0.06 for a miss probability under ~1e-3, which -0.5 gives with margin.
DESTINATION_PERTURBATION = {"dest_same_county_effect": -0.5}
DESTINATION_STATISTICS = ["all_moves_to_oslo", "all_moves_to_same_county",
                          "all_moves_to_other_county"]


@pytest.mark.slow
def test_comparison_detects_a_wrong_destination_choice(
        inputs: Inputs, engine_runs: list[dict[str, Estimate]],
        reference_runs: list[dict[str, Estimate]]) -> None:
    """A reference whose destination utility gives the same county 0.5 less must be flagged
    on where people move (and the retention curve, which destination choice does not move,
    must not be); the unperturbed pair must not be flagged on the same statistics."""
    default = simulation.Params()
    wrong = default.replace(**{name: default[name] + delta
                               for name, delta in DESTINATION_PERTURBATION.items()})
    runs = [statistics(run_reference(wrong, seed=s, inputs=inputs)) for s in PERTURBED_SEEDS]
    table = compare(engine_runs, runs)
    assert table.loc["all_moves_to_same_county", "z"] > Z_LIMIT, table.to_string()
    assert (table.loc[[f"R({k})" for k in range(1, 8)], "z"].abs() <= Z_LIMIT).all(), (
        table.to_string())
    same = compare(engine_runs, reference_runs)
    assert (same.loc[DESTINATION_STATISTICS, "z"].abs() <= Z_LIMIT).all(), same.to_string()


@pytest.mark.slow  # two reference runs (~10 s): the fast tier stays under a minute
def test_standard_errors_describe_seed_to_seed_variation(
        engine_runs: list[dict[str, Estimate]],
        reference_runs: list[dict[str, Estimate]]) -> None:
    """The clustered variances must not understate how much the seeds really differ (else the
    4-SE tolerance would be too tight): pooled dispersion per degree of freedom near 1, and
    well below 2 (a run-level shock the household variance misses would push it up)."""
    both = pd.concat([pooled(engine_runs), pooled(reference_runs)])
    ratio = both["dispersion"].sum() / both["df"].sum()
    assert ratio < 2.0, both.to_string()


@pytest.mark.slow  # two reference runs (~10 s): the fast tier stays under a minute
def test_reference_conserves_persons(reference_results: list[Results]) -> None:
    """Every settled person is either still in Norway or has exited, in every cohort and
    every year; the tables agree with each other."""
    for res in reference_results:
        c = res.cohorts
        assert (c["persons_settled"] == c["persons_alive"] + c["persons_exited"]).all()
        assert (c.groupby("cohort")["persons_settled"].nunique() == 1).all()
        last = c[c["year"] == res.end + 1].set_index("cohort")
        hh = res.households
        assert (hh.groupby("cohort")["persons"].sum() == last["persons_settled"]).all()
        alive = hh[hh["alive"]].groupby("cohort")["persons"].sum()
        assert (alive.reindex(last.index, fill_value=0) == last["persons_alive"]).all()
        panel = res.retention_panel.groupby(["year", "cohort"])[
            ["persons_alive", "persons_in_settlement"]].sum()
        c = c.set_index(["year", "cohort"])
        assert (panel["persons_alive"] == c["persons_alive"].loc[panel.index]).all()
        assert (panel["persons_in_settlement"]
                == c["persons_in_settlement"].loc[panel.index]).all()
        assert (hh.loc[~hh["alive"], "exit_year"] >= hh.loc[~hh["alive"], "cohort"]).all()
        assert (hh.loc[hh["alive"], "exit_year"] == -1).all()


def test_reference_results_have_the_engine_tables() -> None:
    """Same tables, columns and dtypes as the engine, so indicators work unchanged."""
    small = default_inputs(2010, 2016).scaled(0.05)
    engine = simulation.run(seed=1, inputs=small)
    reference = run_reference(seed=1, inputs=small)
    for table in ("municipalities", "households", "moves", "retention_panel", "cohorts",
                  "stocks", "residence", "employment", "yearly", "municipality_yearly"):
        e, r = getattr(engine, table), getattr(reference, table)
        assert list(r.columns) == list(e.columns), table
        assert list(r.dtypes) == list(e.dtypes), table
    indicators = simulation.indicators(reference)
    assert 0.5 < indicators["retention_7y"] < 1.0
    assert sum(indicators["destination_split_of_movers"].values()) == pytest.approx(1.0)
    assert len(reference.municipality_yearly) == len(small.years) * small.geography.n


def test_reference_shares_the_engines_settlement_and_tables() -> None:
    """Both models place each year's cohort with the same code and named draws, so with the
    same seed they settle the same households in the same municipalities; what happens next
    differs (their own draws), but the tables come from the same build_results."""
    small = default_inputs(2010, 2013).scaled(0.05)
    engine = simulation.run(seed=11, inputs=small)
    reference = run_reference(seed=11, inputs=small)
    cols = ["household", "cohort", "settlement_municipality", "household_type",
            "country_group", "persons", "age_of_head_at_settlement"]
    pd.testing.assert_frame_equal(engine.households[cols], reference.households[cols])
    pd.testing.assert_series_equal(engine.yearly["settling_municipalities"],
                                   reference.yearly["settling_municipalities"])
    assert not engine.moves.equals(reference.moves)


def test_reference_is_reproducible_and_fast_enough() -> None:
    small = default_inputs(2010, 2014).scaled(0.05)
    t0 = time.perf_counter()
    a = run_reference(seed=7, inputs=small)
    elapsed = time.perf_counter() - t0
    b = run_reference(seed=7, inputs=small)
    pd.testing.assert_frame_equal(a.households, b.households)
    pd.testing.assert_frame_equal(a.moves, b.moves)
    assert elapsed < 30.0
    model = ReferenceModel(simulation.Params(), small, seed=7)
    model.step()
    assert len(model.agents) == len(model.households) > 0

"""Conservation, determinism, named draws and common random numbers of the vectorized
engine."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

import simulation
from simulation.engine.model import SecondaryMigrationModel
from simulation.engine.randomness import DRAWS, Streams, replicate_seeds


def test_persons_conserved_per_cohort_every_year(baseline):
    c = baseline.cohorts
    # settled = alive in Norway + exited, for every cohort on every 1 January
    assert (c["persons_settled"] == c["persons_alive"] + c["persons_exited"]).all()
    # a cohort's settled persons never change after its arrival
    assert (c.groupby("cohort")["persons_settled"].nunique() == 1).all()
    assert (c.groupby("cohort")["households"].nunique() == 1).all()
    # and they are the households table's persons
    hh = baseline.households
    per_cohort = hh.groupby("cohort")["persons"].sum()
    last = c[c["year"] == baseline.end + 1].set_index("cohort")["persons_settled"]
    pd.testing.assert_series_equal(per_cohort.sort_index(), last.sort_index(),
                                   check_names=False, check_dtype=False, check_index_type=False)


def test_no_household_lost_or_duplicated(baseline):
    hh = baseline.households
    assert hh["household"].is_unique
    assert (hh["household"].to_numpy() == np.arange(len(hh))).all()
    # the alive stock by municipality equals the stocks table on every 1 January
    for year, alive in baseline.cohorts.groupby("year")["persons_alive"].sum().items():
        assert baseline.stocks.loc[baseline.stocks["year"] == year, "persons"].sum() == alive
    # the retention panel counts the same people
    panel = baseline.retention_panel.groupby("year")["persons_alive"].sum()
    cohorts = baseline.cohorts.groupby("year")["persons_alive"].sum()
    pd.testing.assert_series_equal(panel, cohorts, check_dtype=False, check_names=False,
                                   check_index_type=False)


def test_exited_households_never_move_again(baseline):
    hh = baseline.households.set_index("household")
    mv = baseline.moves
    exit_year = hh.loc[mv["household"], "exit_year"].to_numpy()
    assert ((exit_year < 0) | (mv["year"].to_numpy() < exit_year)).all()


def test_moves_are_consistent_with_final_locations(baseline):
    mv = baseline.moves
    assert (mv["origin"] != mv["destination"]).all()
    last = mv.sort_values(["household", "year"]).groupby("household").tail(1)
    hh = baseline.households.set_index("household")
    assert (hh.loc[last["household"], "municipality"].to_numpy()
            == last["destination"].to_numpy()).all()
    never = hh[hh["moves"] == 0]
    assert (never["municipality"] == never["settlement_municipality"]).all()
    assert hh["moves"].sum() == len(mv)
    # consecutive moves of one household chain origin to the previous destination
    ordered = mv.sort_values(["household", "year"])
    same = ordered["household"].to_numpy()[1:] == ordered["household"].to_numpy()[:-1]
    assert (ordered["origin"].to_numpy()[1:][same]
            == ordered["destination"].to_numpy()[:-1][same]).all()


def test_settlement_volumes_match_inputs(baseline, baseline_inputs):
    settled = baseline.households.groupby("cohort")["persons"].sum()
    factor = 1 + simulation.Params().family_reunification_share
    for year, volume in baseline_inputs.volumes.items():
        # households are whole: each category is cut within one household of its target
        assert abs(settled[year] - volume * factor) <= 12


def test_same_seed_identical_results():
    """Bit for bit: every table of two runs with the same seed (a spawned SeedSequence too)."""
    inputs = simulation.default_inputs(2010, 2017).scaled(0.3)
    for seed in (7, replicate_seeds(7, 2)[1]):
        a = simulation.run(seed=seed, inputs=inputs)
        b = simulation.run(seed=seed, inputs=inputs)
        for table in ("municipalities", "households", "moves", "retention_panel", "cohorts",
                      "stocks", "yearly", "municipality_yearly"):
            pd.testing.assert_frame_equal(getattr(a, table), getattr(b, table), check_exact=True)
        assert len(a.moves) > 100


def test_stock_is_kept_current_after_every_stage():
    """The (group, municipality) stock the stages update equals a fresh recount of the
    households after every stage of every year of a full run."""
    inputs = simulation.default_inputs().scaled(0.2)
    model = SecondaryMigrationModel(simulation.Params(), inputs, seed=5)
    checked = []

    def checking(name, stage):
        def run(world, params, year, rng):
            stage(world, params, year, rng)
            np.testing.assert_array_equal(world.stock, world.count_stock(), err_msg=name)
            assert world.resident.min() >= 0
            checked.append((year, name))
        return run

    model.stages = tuple((name, checking(name, stage)) for name, stage in model.stages)
    model.run_model()
    assert len(checked) == len(inputs.years) * 6
    assert model.world.resident.sum() == model.world.households.size[
        model.world.households.alive].sum()


def test_every_declared_draw_is_used_once_per_year():
    """Each (stage, name) of randomness.DRAWS is drawn exactly once per stage call (a table
    entry nobody draws would be stale; one drawn twice would feed two decisions)."""
    counts: dict[tuple[str, str, int], int] = {}
    real_generator, real_counter = Streams.generator, Streams.counter

    def counting(real):
        def count(self, stage, name, year=0):
            counts[(stage, name, year)] = counts.get((stage, name, year), 0) + 1
            return real(self, stage, name, year)
        return count

    inputs = simulation.default_inputs(2010, 2012).scaled(0.05)
    Streams.generator, Streams.counter = counting(real_generator), counting(real_counter)
    try:
        SecondaryMigrationModel(simulation.Params(), inputs, seed=1).run_model()
    finally:
        Streams.generator, Streams.counter = real_generator, real_counter
    expected = {(stage, name, year) for stage, name in DRAWS for year in inputs.years
                if stage != "model"} | {("model", "mesa", 0)}
    assert set(counts) == expected
    assert set(counts.values()) == {1}


def test_draws_refuse_a_name_twice_and_an_undeclared_name():
    rng = Streams(3).draws("life_course", 2011)
    a = rng.uniform("work", 10)
    with pytest.raises(ValueError, match="twice"):
        rng.uniform("work", 10)
    with pytest.raises(KeyError, match=r"randomness\.DRAWS"):
        rng.uniform("finds_job", 10)
    # the same (stage, name, year) always gives the same numbers; another year others
    np.testing.assert_array_equal(a, Streams(3).draws("life_course", 2011).uniform("work", 10))
    assert not np.array_equal(a, Streams(3).draws("life_course", 2012).uniform("work", 10))
    assert not np.array_equal(a, Streams(3).draws("life_course", 2011).uniform("tie_onset",
                                                                                10))
    assert len(set(DRAWS.values())) == len(DRAWS)


def test_other_seed_differs(baseline):
    other = simulation.run(seed=2)
    assert len(other.moves) != len(baseline.moves) or not other.moves.equals(baseline.moves)
    assert not other.households["settlement_municipality"].equals(
        baseline.households["settlement_municipality"])


def test_replicate_seeds_are_reproducible_and_distinct():
    s1 = replicate_seeds(42, 3)
    s2 = replicate_seeds(42, 3)
    r = [simulation.run(seed=s, inputs=simulation.default_inputs(2010, 2014)) for s in s1[:2]]
    again = simulation.run(seed=s2[0], inputs=simulation.default_inputs(2010, 2014))
    pd.testing.assert_frame_equal(r[0].moves, again.moves)
    assert not r[0].moves.equals(r[1].moves)


@pytest.mark.slow
def test_common_random_numbers_across_policies(baseline):
    """A policy change leaves the arriving cohorts untouched and keeps draws aligned."""
    no_rule = simulation.run({"rights_years": 0}, seed=1)
    cols = ["cohort", "household_type", "country_group", "persons", "settlement_municipality"]
    pd.testing.assert_frame_equal(no_rule.households[cols], baseline.households[cols])
    # moves in the settlement year of the first cohort before any policy bite are shared
    a = baseline.moves[baseline.moves["year"] == 2010]["household"]
    b = no_rule.moves[no_rule.moves["year"] == 2010]["household"]
    assert set(a) <= set(b)  # removing a cost only adds movers


def test_results_are_picklable_and_small(baseline):
    import pickle

    blob = pickle.dumps(baseline)
    assert len(blob) < 40e6
    again = pickle.loads(blob)
    pd.testing.assert_frame_equal(again.moves, baseline.moves)


def test_model_is_a_mesa_model_on_a_network():
    import mesa
    from mesa.discrete_space import Network

    from simulation.engine.model import Municipality, SecondaryMigrationModel

    inputs = simulation.default_inputs(2010, 2011)
    model = SecondaryMigrationModel(simulation.Params(), inputs, seed=3)
    assert isinstance(model, mesa.Model)
    assert isinstance(model.space, Network)
    munis = model.agents_by_type[Municipality]
    assert len(munis) == 357
    oslo = next(m for m in munis if m.code == "0301")
    assert oslo.cell.coordinate == oslo.index
    assert len(oslo.cell.connections) >= 6
    model.run_model()
    series = model.municipality_series.model_vars["refugee_stock"]
    assert len(series) == 2 and all(len(s) == 357 for s in series)
    assert oslo.refugee_stock == series[-1][oslo.index]
    assert len(model.datacollector.get_model_vars_dataframe()) == 2
    assert model.year == 2012 and not model.running


def test_households_append_keeps_every_row_and_column():
    """Households.append writes cohorts into buffers with room to spare: every row of every
    cohort is there once, in order, whatever column a stage replaced in between. A column
    taken before an append that fits in the buffer is a view of the same rows: the appended
    rows do not touch it, and (as with any numpy view) a later write to those rows through
    the grown column shows in it; no stage keeps a column across a year's settlement."""
    from dataclasses import fields

    from simulation.engine.households import Households

    def cohort(n: int, year: int) -> Households:
        hh = Households.empty(n)
        hh.cohort[:] = year
        hh.size[:] = np.arange(n) % 7 + 1
        hh.income[:] = np.arange(n) * 0.5 + year
        return hh

    hh = Households()
    sizes = [3, 900, 0, 2000, 5, 4000, 7, 11]
    for k, n in enumerate(sizes):
        if k == 3:
            hh.employed = hh.employed_a | hh.employed_b  # as sync_employed replaces it
            hh.income = hh.income * 1.0  # as the last year's income replaces it
        if k == 6:  # the buffers have room now: this append and the next fit
            view, copy_before = hh.size, hh.size.copy()
        hh.append(cohort(n, 2010 + k))
    assert len(hh) == sum(sizes)
    for f in fields(Households):
        assert len(getattr(hh, f.name)) == sum(sizes), f.name
    expected_cohort = np.concatenate([np.full(n, 2010 + k) for k, n in enumerate(sizes)])
    assert np.array_equal(hh.cohort, expected_cohort)
    expected_income = np.concatenate([np.arange(n) * 0.5 + 2010 + k
                                      for k, n in enumerate(sizes)])
    assert np.array_equal(hh.income, expected_income)
    assert np.array_equal(hh.size, np.concatenate([np.arange(n) % 7 + 1 for n in sizes]))
    assert (hh.tie == -1).all() and (hh.pending_event == -1).all()
    # the appends fitted: the old column is a view of the grown one's first rows, unchanged
    assert np.shares_memory(view, hh.size) and np.array_equal(view, copy_before)
    hh.size[0] = 99
    assert view[0] == 99

"""The move decision's terms added for the regional pattern and the rights rule's delayed
moves, emigration after rural settlement, and the regional indicators: each term against a
brute-force computation, each mechanism against its claimed effect with tolerances from
sampling error."""

from __future__ import annotations

import math

import numpy as np
import pytest

import simulation
from simulation.analysis.regional import (
    COUNTY_2020,
    out_5y_by_settlement_county,
    regional_pattern,
)
from simulation.analysis.registry import county_key, indicator_ids
from simulation.engine.model import SecondaryMigrationModel
from simulation.engine.runparams import NORTH_REGIONS, WEST_REGIONS, RunParams
from simulation.engine.stages.exits import emigration_rates
from simulation.engine.terms import (
    REACH_KM,
    network_reach,
    network_share,
    reach_kernel,
    tie_pull,
)
from simulation.inputs.defaults import default_inputs
from simulation.inputs.parameters import Params


@pytest.fixture(scope="module")
def world_after_some_years():
    """A tenth-scale model after four years, with its RunParams."""
    model = SecondaryMigrationModel(Params(), default_inputs(2010, 2013).scaled(0.1), seed=5)
    for _ in range(4):
        model.step()
    return model.world, model.params


def test_place_move_logit_is_size_centrality_and_region():
    params = RunParams(Params({"move_north_effect": 0.7, "move_west_effect": -0.4}),
                       default_inputs(2010, 2011))
    geo = params.inputs.geography
    region = geo.table["region"].tolist()
    for i in (0, geo.index_of("1804"), geo.index_of("4601"), geo.index_of("5001")):
        expected = (params.move_size_effect * (math.log(geo.population[i]) - math.log(10_000))
                    + params.move_centrality_effect * (geo.centrality[i] - 3.5)
                    + 0.7 * (region[i] in NORTH_REGIONS) - 0.4 * (region[i] in WEST_REGIONS))
        assert params.place_move_logit[i] == pytest.approx(expected, abs=1e-12)
    # Bodø is in the north, Bergen in the west, Oslo in the east (the reference)
    assert region[geo.index_of("1804")] in NORTH_REGIONS
    assert region[geo.index_of("4601")] in WEST_REGIONS
    assert region[geo.index_of("0301")] not in NORTH_REGIONS + WEST_REGIONS


def test_network_terms_match_a_brute_force_count(world_after_some_years):
    world, params = world_after_some_years
    hh = world.households
    geo = world.geography
    share, reach, pull = network_share(world), network_reach(world, params.reach), tie_pull(world)
    rng = np.random.default_rng(0)
    for row in rng.choice(len(hh), 25, replace=False):
        g, m = int(hh.group[row]), int(hh.municipality[row])
        assert share[row] == pytest.approx(100 * world.stock[g, m] / geo.population[m])
        near = sum(world.stock[g, j] * math.exp(-geo.distance_km[m, j] / REACH_KM)
                   for j in range(geo.n) if j != m)
        assert reach[row] == pytest.approx(math.log1p(near), rel=1e-9)
        t = int(hh.tie[row])
        expected = 0.0 if t < 0 or t == m else 1 - math.exp(-geo.distance_km[m, t] / REACH_KM)
        assert pull[row] == pytest.approx(expected, abs=1e-12)
    kernel = reach_kernel(geo.distance_km)
    assert (np.diag(kernel) == 0).all() and np.array_equal(kernel, kernel.T)  # used unflipped


def _run(seed: int = 3, **values: float) -> simulation.Results:
    return simulation.run(Params(values), seed=seed,
                          inputs=default_inputs(2010, 2020).scaled(0.5))


def test_delayed_moves_come_when_the_household_is_free():
    res = _run(rights_cost=2.5, rights_delay_share=1.0)
    mv = res.moves
    delayed = mv[mv["delayed"]]
    assert len(delayed) > 200
    # a delayed move is made only once free of the rule: after the window, or in work
    hh = res.households.set_index("household")
    assert (delayed["years_since_settlement"] >= 0).all()
    inside = delayed[delayed["years_since_settlement"] < 5]
    assert inside["employed_before"].all()
    # most come in the first year after the window: a bump at year 5
    per_year = delayed.groupby("years_since_settlement")["persons"].sum()
    assert per_year.idxmax() == 5
    assert hh["moves"].sum() == len(mv)


def test_abandoned_moves_leave_no_delayed_move_and_no_rule_none():
    assert not _run(rights_cost=2.5, rights_delay_share=0.0).moves["delayed"].any()
    assert not _run(rights_cost=0.0, rights_delay_share=1.0).moves["delayed"].any()


def test_delaying_moves_lowers_retention_after_the_window_only():
    """Same seed, delayed against abandoned: R(3) is the same up to noise of delayed moves
    made by households that found work; R(7) is clearly lower when moves are delayed."""
    abandoned = simulation.indicators(_run(rights_cost=2.0, rights_delay_share=0.0))
    delayed = simulation.indicators(_run(rights_cost=2.0, rights_delay_share=1.0))
    assert delayed["retention_7y"] < abandoned["retention_7y"] - 0.02
    assert abs(delayed["retention_3y"] - abandoned["retention_3y"]) < 0.02


def test_emigration_is_higher_after_rural_settlement(world_after_some_years):
    world, params = world_after_some_years
    hh = world.households
    rates = emigration_rates(world, params, 2013)
    rural = ((world.geography.centrality[hh.settlement] >= 5) & (hh.municipality == hh.settlement)
             & (hh.years_since(2013) < 3))
    assert rural.any() and (~rural).any()
    assert np.allclose(rates[rural], params.emigration_rate * params.emigration_rural_ratio)
    assert np.allclose(rates[~rural], params.emigration_rate)


def test_rural_emigration_ratio_shows_in_exits():
    """Emigrations in the first three years per household-year: rural settlement against the
    rest, near the ratio (tolerance: 4 standard errors of a log rate ratio)."""
    res = _run(seed=11, emigration_rural_ratio=3.0, emigration_rate=0.02)
    hh = res.households
    rural = hh["settlement_municipality"].map(
        res.municipalities.set_index("code")["centrality"]) >= 5
    early = (hh["exit_reason"] == 1) & (hh["exit_year"] - hh["cohort"] < 3) & (hh["moves"] == 0)
    years = np.minimum(3, res.end + 1 - hh["cohort"]).clip(lower=0)
    a, b = early[rural].sum(), early[~rural].sum()
    ratio = (a / years[rural].sum()) / (b / years[~rural].sum())
    se = math.sqrt(1 / a + 1 / b)
    # movers leave the rural exposure, so the observed ratio is a little diluted
    assert math.exp(-4 * se) * 3.0 * 0.8 < ratio < 3.0 * math.exp(4 * se)


def test_out_5y_by_county_recomputed_from_the_panel(baseline):
    got = out_5y_by_settlement_county(baseline)
    panel = baseline.retention_panel
    county = baseline.municipalities.set_index("code")["county"].replace(COUNTY_2020)
    alive, home = {}, {}
    for row in panel.itertuples():
        if 2013 <= row.cohort <= 2016 and row.year == row.cohort + 5:
            c = county[row.settlement_municipality]
            for name in (c, "national"):
                alive[name] = alive.get(name, 0) + row.persons_alive
                home[name] = home.get(name, 0) + row.persons_in_settlement
    for name in ("Nordland", "Troms og Finnmark", "Oslo"):
        assert got[county_key(name)] == pytest.approx(1 - home[name] / alive[name], abs=1e-12)
    assert got["national"] == pytest.approx(1 - home["national"] / alive["national"])


def test_regional_indicator_ids_are_in_the_registry(baseline):
    ids = indicator_ids(baseline.start, baseline.end)
    for flat in ("out_5y_by_settlement_county.troms_og_finnmark",
                 "retention_5y_weakest_counties", "net_change_by_county.sogn_og_fjordane",
                 "regional_pattern.rank_correlation"):
        assert flat in ids
    assert not any(i.startswith("net_change_by_county") for i in indicator_ids(2016, 2018))


def test_regional_pattern_measures_sign_and_rank():
    from simulation.analysis.regional import iraqi_net_change

    register = iraqi_net_change()
    same = regional_pattern(dict(register))
    assert same == {"sign_agreement": 1.0, "rank_correlation": pytest.approx(1.0)}
    flipped = regional_pattern({k: -v for k, v in register.items()})
    assert flipped["sign_agreement"] < 0.2 and flipped["rank_correlation"] == pytest.approx(-1)
    assert len(register) == 19


def test_settlement_summary_recomputed_from_the_households(baseline):
    from simulation.analysis.indicators import settlement_summary

    got = settlement_summary(baseline)
    hh = baseline.households
    pop = baseline.municipalities.set_index("code")["population"]
    persons = hh["persons"].astype(np.int64)
    small = hh["settlement_municipality"].map(pop) < 5000
    assert got["settled_share_under_5000"] == pytest.approx(persons[small].sum() / persons.sum())
    per_year = hh.groupby("cohort")["settlement_municipality"].nunique()
    assert got["settling_municipalities_per_year"] == pytest.approx(per_year.mean())


def test_rule_comparisons_say_how_much_rests_on_the_band():
    """A comparison that changes the rights rule carries the band's range in words, read from
    the shipped table (the same as docs/policy/rule_band.csv); one that does not, does not."""
    from pathlib import Path

    import pandas as pd

    from simulation.inputs.scenario import load_scenario
    from simulation.reports.numbers import number
    from simulation.runs.compare import RULE_BAND, rule_band_note

    repo = Path(__file__).resolve().parent.parent
    assert RULE_BAND.read_bytes() == (repo / "docs" / "policy" / "rule_band.csv").read_bytes()
    scen = {n: load_scenario(repo / "scenarios" / f"{n}.yaml")
            for n in ("baseline", "no-rule", "no-settlement-under-5000")}
    note = rule_band_note([scen["baseline"], scen["no-rule"]])
    band = pd.read_csv(repo / "docs" / "policy" / "rule_band.csv")
    for value in band["retention_5y_difference"]:
        assert number(value, "share", signed=True) + " points" in note
    assert "band" in note and "--posterior" in note
    assert rule_band_note([scen["baseline"], scen["no-settlement-under-5000"]]) == ""

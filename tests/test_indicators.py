"""Indicators follow the register's definitions and hold together."""

from __future__ import annotations

import dataclasses
import math

import numpy as np
import pytest

import simulation
from simulation.analysis.registry import INDICATORS, describe, indicator_ids, indicator_keys
from simulation.analysis.targets import compare, ratio_to_all
from simulation.calibration.spec import Moment
from simulation.inputs.defaults import default_inputs
from simulation.runs.ensemble import flatten


def test_retention_curve_falls_with_time(baseline):
    r = simulation.retention(baseline, "all", cohorts=range(2010, 2017))
    shares = r.sort_values("years_since_settlement")["share"].to_numpy()
    assert (np.diff(shares) <= 1e-9).all()
    assert 0.5 < shares[6] < 0.9  # R(7)


def test_retention_by_every_dimension(baseline):
    for by in ("cohort", "household_type", "centrality", "county", "country_group"):
        r = simulation.retention(baseline, by)
        assert r["share"].between(0, 1).all()
        assert r["group"].nunique() > 1
    r = simulation.retention(baseline, "county")
    assert r["group"].nunique() == 15


def test_indicator_ids_match_register_targets(baseline):
    ind = simulation.indicators(baseline)
    rows = compare(ind)
    ids = {c.id for c in rows}
    assert {"retention_7y", "retention_5y_cohorts_2013_2015", "moved_in_settlement_year",
            "destination_split_of_movers", "municipalities_by_out_share",
            "income_change_of_movers", "settled_persons_2010_2023_still_in_norway",
            "no_break_after_year_5"} <= ids
    assert all(not math.isnan(c.simulated) for c in rows)


def test_shares_sum_to_one(baseline):
    ind = simulation.indicators(baseline)
    assert math.isclose(sum(ind["destination_split_of_movers"].values()), 1.0)
    assert math.isclose(sum(ind["income_change_of_movers"].values()), 1.0)
    counts = ind["municipalities_by_out_share"]
    assert counts["at_least_80pct"] >= counts["at_least_90pct"] >= counts["all_100pct"]


def test_retention_matches_a_direct_count_from_households_and_moves(baseline):
    """R(7) of the 2012 cohort recomputed from the raw tables (where each household lived on
    1 Jan 2019 = its last destination before 2019, else its settlement municipality)."""
    hh = baseline.households.set_index("household")
    cohort = hh[(hh["cohort"] == 2012) & ((hh["exit_year"] < 0) | (hh["exit_year"] > 2018))]
    mv = baseline.moves[baseline.moves["year"] <= 2018].sort_values(["household", "year"])
    last = mv.groupby("household")["destination"].last()
    where = cohort["settlement_municipality"].copy()
    moved = where.index.intersection(last.index)
    where.loc[moved] = last.loc[moved]
    direct = cohort.loc[where == cohort["settlement_municipality"], "persons"].sum() / cohort[
        "persons"].sum()
    panel = simulation.retention(baseline, "cohort")
    r = panel[(panel["group"] == "2012") & (panel["years_since_settlement"] == 7)]["share"]
    assert math.isclose(direct, float(r.iloc[0]), rel_tol=1e-12)


def test_municipality_table(baseline):
    t = simulation.municipality_indicators(baseline)
    assert len(t) == 357
    # net secondary migration sums to zero over the country
    assert abs(t["net_secondary_migration"].sum()) < 1e-9
    assert t["out_migration_share_2010_2016"].dropna().between(0, 1).all()
    assert t["persons_settled"].sum() == baseline.households["persons"].sum()


@pytest.mark.parametrize("start, end", [(2010, 2023), (2013, 2016)])
def test_registry_lists_exactly_the_ids_a_run_reports(baseline, start, end):
    """The registry's ids (no simulation) are the flattened ids of a real run, in order, for
    the full window and a short one (fewer cohorts, hazards and household-type keys)."""
    res = (baseline if (start, end) == (baseline.start, baseline.end)
           else simulation.run(seed=2, inputs=default_inputs(start, end).scaled(0.02)))
    assert tuple(flatten(simulation.indicators(res))) == indicator_ids(start, end)
    keys = indicator_keys(start, end)
    assert list(keys) == [i.id for i in INDICATORS]
    if (start, end) == (2013, 2016):
        assert keys["retention_7y_by_cohort"] == [] and keys["leaving_hazard_by_year"] == [
            "1", "2", "3", "4"]


def test_every_id_has_words_a_kind_and_a_unit(baseline):
    for flat in indicator_ids(baseline.start, baseline.end):
        d = describe(flat, rights_years=5)
        assert d.label and d.short and d.unit, flat
        assert d.kind in ("share", "count", "ratio", "index", "amount"), flat
        assert d.direction in ("higher_is_better", "higher_is_worse", "neutral"), flat
    assert "5-year rights window" in describe("leaving_hazard_by_year.5", 5).label
    assert "first year after the 5-year" in describe("leaving_hazard_by_year.6", 5).label
    assert "rights window" not in describe("leaving_hazard_by_year.6", 0).label
    assert describe("group_concentration.syria_max_location_quotient").kind == "ratio"
    with pytest.raises(KeyError):
        describe("retention_6y")


def test_results_are_data_and_indicators_leave_them_unchanged(baseline):
    fields = {f.name for f in dataclasses.fields(simulation.Results)}
    before = dict(vars(baseline))
    simulation.indicators(baseline)
    simulation.municipality_indicators(baseline)
    assert set(vars(baseline)) == fields  # no cache written into the results
    assert all(vars(baseline)[k] is v for k, v in before.items())
    methods = [n for n, v in vars(simulation.Results).items()
               if callable(v) and not n.startswith("__")]
    assert methods == []


def test_ratio_to_all_is_one_definition_for_reports_and_calibration(baseline):
    ind = simulation.indicators(baseline)
    by_type = ind["retention_5y_by_household_type_2005"]
    row = next(c for c in compare(ind) if c.compared_as == "ratio to all")
    assert row.simulated == ratio_to_all(by_type[row.key], by_type["all"])
    moment = Moment("retention_5y_by_household_type_2005", row.key, 1.0, 0.1, 1.0,
                    "ratio_to_all", "", "")
    assert moment.simulated(flatten(ind)) == row.simulated
    assert math.isnan(ratio_to_all(0.5, 0.0))


def test_registry_examples_hold():
    import doctest

    from simulation.analysis import registry

    result = doctest.testmod(registry)
    assert result.attempted >= 4 and result.failed == 0


def test_second_register_file_targets_are_compared(baseline):
    """The regional and employment figures of register_targets_more.yaml that the model
    expresses stand beside their indicators (county names as keys, a band as centre and
    half-width); figures it cannot express are not listed."""
    from simulation.inputs.defaults import register_more

    rows = {(c.id, c.key): c for c in compare(simulation.indicators(baseline))}
    more = {t["id"]: t for t in register_more()["targets"]}
    out5 = more["out_5y_by_settlement_county_2015"]["value"]
    assert rows[("out_5y_by_settlement_county", "troms_og_finnmark")].register == \
        out5["Troms og Finnmark"]
    assert rows[("out_5y_by_settlement_county", "national")].tolerance == 0.05
    weakest = rows[("retention_5y_weakest_counties", "")]
    assert (weakest.register, weakest.tolerance) == (0.65, 0.05)
    assert ("ukrainians_employed_by_duration_2024", "in_programme") not in rows
    assert rows[("resettled_refugees_employed_after_7_years", "")].register == 0.50
    assert not any(c.id == "refugee_employment_rate_15_66_2018" for c in rows.values())


def _same(a: dict[str, float], b: dict[str, float]) -> bool:
    """Equal keys, and values equal bit for bit (NaN equal to NaN)."""
    return list(a) == list(b) and all(
        np.float64(a[k]).tobytes() == np.float64(b[k]).tobytes() for k in a)


def test_indicators_asked_for_alone_are_those_of_the_whole_set(baseline):
    """Each id asked for alone (as a sweep asks) gives bit for bit the value it has among all
    of them, and nothing else; the whole set comes in INDICATOR_IDS' order, so every group's
    declared ids are the ones it returns."""
    from simulation.analysis.indicators import INDICATOR_IDS

    every = simulation.indicators(baseline)
    assert list(every) == list(INDICATOR_IDS)
    flat = flatten(every)
    for i in INDICATOR_IDS:
        alone = flatten(simulation.indicators(baseline, ids=[i]))
        assert _same(alone, {k: v for k, v in flat.items() if k.split(".", 1)[0] == i}), i
    # flattened names ask for their id; several ids at once keep the published order
    some = simulation.indicators(baseline, ids=["hoover_index", "destination_split_of_movers.oslo",
                                                "retention_5y"])
    assert list(some) == ["retention_5y", "destination_split_of_movers", "hoover_index"]


def test_an_unknown_indicator_id_is_refused_with_the_allowed_ones(baseline):
    with pytest.raises(ValueError, match=r"unknown indicator id\(s\) 'retention_9y', "
                                         r"'hover_index.x'; allowed: retention_7y, "):
        simulation.indicators(baseline, ids=["retention_5y", "retention_9y", "hover_index.x"])
    with pytest.raises(TypeError, match=r"not the string 'hoover_index'; write "
                                        r"ids=\['hoover_index'\]"):
        simulation.indicators(baseline, ids="hoover_index")


def test_retention_sums_are_pandas_groupby_sums(baseline):
    """retention_sums counts by bincount what ``groupby(keys, observed=True).sum()`` gives:
    the same index, order, dtypes and whole numbers, for every ordered pair of the panel's
    dimensions (the code groups by one or two; three and four were checked by hand) and an
    empty panel; a missing key falls back to groupby, which leaves it out."""
    import itertools

    import pandas as pd

    from simulation.analysis.measures import _COUNTS, _with_years_since, retention_sums

    panel = _with_years_since(baseline.retention_panel)
    dims = ["years_since_settlement", "cohort", "year", "settlement_municipality",
            "household_type", "country_group"]
    for n in (1, 2):
        for keys in map(list, itertools.permutations(dims, n)):
            want = panel.groupby(keys, observed=True)[_COUNTS].sum()
            pd.testing.assert_frame_equal(retention_sums(panel, keys), want, check_exact=True)
    pd.testing.assert_frame_equal(
        retention_sums(panel.iloc[:0], ["household_type", "years_since_settlement"]),
        panel.iloc[:0].groupby(["household_type", "years_since_settlement"],
                               observed=True)[_COUNTS].sum(), check_exact=True)
    # narrow counts keep their type, as groupby does (the teaching app passes int32)
    narrow = panel.astype({c: np.int32 for c in _COUNTS})
    pd.testing.assert_frame_equal(
        retention_sums(narrow, ["years_since_settlement"]),
        narrow.groupby(["years_since_settlement"], observed=True)[_COUNTS].sum(),
        check_exact=True)
    halves = panel.astype({c: np.float64 for c in _COUNTS}).assign(persons_alive=lambda d:
                                                                    d["persons_alive"] / 2)
    pd.testing.assert_frame_equal(  # not whole numbers: groupby itself
        retention_sums(halves, ["cohort"]),
        halves.groupby(["cohort"], observed=True)[_COUNTS].sum(), check_exact=True)
    holed = panel.assign(settlement_municipality=panel["settlement_municipality"].where(
        panel.index % 7 != 0))
    keys = ["settlement_municipality", "years_since_settlement"]
    pd.testing.assert_frame_equal(retention_sums(holed, keys),
                                  holed.groupby(keys, observed=True)[_COUNTS].sum(),
                                  check_exact=True)


def test_settling_count_and_needs_met_are_their_plain_definitions(baseline):
    """The settling count per year is the settlement pattern's, and needs_met is the lookup
    of each household's municipality's services by code (both computed a faster way)."""
    import pandas as pd

    from simulation.analysis.indicators import households_with_needs
    from simulation.analysis.settlement_pattern import settlement_pattern, settling_municipalities

    pd.testing.assert_series_equal(settling_municipalities(baseline),
                                   settlement_pattern(baseline)["settling"].astype(np.int64),
                                   check_exact=True)
    hh = households_with_needs(baseline)
    facts = baseline.municipalities.set_index("code")
    m = hh["municipality"]
    unmet = ((hh["need_school"] & ~m.map(facts["upper_secondary"]).astype(bool))
             | (hh["need_higher"] & ~m.map(facts["higher_education"]).astype(bool))
             | (hh["need_health"] & ~m.map(facts["hospital"]).astype(bool)))
    assert (hh["needs_met"].to_numpy() == (~unmet).to_numpy(dtype=bool)).all()
    assert 0 < hh["needs_met"].mean() < 1

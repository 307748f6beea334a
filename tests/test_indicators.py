"""Indicators follow the register's definitions and hold together."""

from __future__ import annotations

import math

import numpy as np

from simulation.analysis.targets import compare


def test_retention_curve_falls_with_time(baseline):
    r = baseline.retention("all", cohorts=range(2010, 2017))
    shares = r.sort_values("years_since_settlement")["share"].to_numpy()
    assert (np.diff(shares) <= 1e-9).all()
    assert 0.5 < shares[6] < 0.9  # R(7)


def test_retention_by_every_dimension(baseline):
    for by in ("cohort", "household_type", "centrality", "county", "country_group"):
        r = baseline.retention(by)
        assert r["share"].between(0, 1).all()
        assert r["group"].nunique() > 1
    r = baseline.retention("county")
    assert r["group"].nunique() == 15


def test_indicator_ids_match_register_targets(baseline):
    ind = baseline.indicators()
    rows = compare(ind)
    ids = {c.id for c in rows}
    assert {"retention_7y", "retention_5y_cohorts_2013_2015", "moved_in_settlement_year",
            "destination_split_of_movers", "municipalities_by_out_share",
            "income_change_of_movers", "settled_persons_2010_2023_still_in_norway",
            "no_break_after_year_5"} <= ids
    assert all(not math.isnan(c.simulated) for c in rows)


def test_shares_sum_to_one(baseline):
    ind = baseline.indicators()
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
    panel = baseline.retention("cohort")
    r = panel[(panel["group"] == "2012") & (panel["years_since_settlement"] == 7)]["share"]
    assert math.isclose(direct, float(r.iloc[0]), rel_tol=1e-12)


def test_municipality_table(baseline):
    t = baseline.municipality_indicators()
    assert len(t) == 357
    # net secondary migration sums to zero over the country
    assert abs(t["net_secondary_migration"].sum()) < 1e-9
    assert t["out_migration_share_2010_2016"].dropna().between(0, 1).all()
    assert t["persons_settled"].sum() == baseline.households["persons"].sum()

"""The municipal ledger (engine/ledger.py): every krone of the integration grant recomputed
person by person from a run's own tables (households and moves), grant years conserved
through moves, costs only where their rule says, and the rates' estimation rules."""

from __future__ import annotations

import itertools

import numpy as np
import pandas as pd
import pytest

import simulation
from simulation.engine.ledger import ITEMS, RECEIPTS
from simulation.inputs.categories import HOUSEHOLD_TYPES
from simulation.inputs.defaults import default_inputs
from simulation.inputs.ledger_rates import CATEGORIES, ledger_rates
from simulation.inputs.parameters import Params

ADULTS = {"single_man": 1, "single_woman": 1, "couple_no_children": 2,
          "couple_with_children": 2, "lone_parent": 1}


@pytest.fixture(scope="module")
def run() -> simulation.Results:
    return simulation.run(seed=7, inputs=default_inputs(2010, 2017).scaled(0.2), ledger=True)


def where_each_lives(res: simulation.Results) -> pd.DataFrame:
    """(household, year) -> municipality at the end of the year, moved-from this year, alive:
    rebuilt from the households table (settlement, exits) and the move events."""
    hh = res.households
    rows = []
    moves = res.moves.sort_values(["household", "year"])
    by_household = {h: g for h, g in moves.groupby("household")}
    for h, c, m0, exit_year in zip(hh["household"], hh["cohort"], hh["settlement_municipality"],
                                   hh["exit_year"], strict=True):
        here = m0
        events = by_household.get(h)
        for year in range(int(c), res.end + 1):
            origin = None
            if events is not None:
                this = events[events["year"] == year]
                if len(this):
                    origin = this["origin"].iloc[0]
                    here = this["destination"].iloc[-1]
            alive = exit_year < 0 or exit_year > year
            rows.append((h, year, here, origin, alive))
    return pd.DataFrame(rows, columns=["household", "year", "municipality", "origin", "alive"])


@pytest.mark.slow  # ~1.5-3 s: kept out of the fast tier (under a minute)
def test_every_grant_krone_is_traceable(run):
    """The grant receipts per municipality and year equal the sum over persons, each person
    paid by its category and grant year where it lives (the moving year split), computed here
    from the run's tables without the engine's code."""
    rates = ledger_rates()
    share = Params().grant_split_origin_share
    hh = run.households.set_index("household")
    lives = where_each_lives(run)
    lives = lives[lives["alive"]]
    lives["grant_year"] = lives["year"] - hh.loc[lives["household"], "cohort"].to_numpy() + 1
    lives = lives[lives["grant_year"] <= 5]
    h = hh.loc[lives["household"]]
    single = h["household_type"].isin(["single_man", "single_woman"]).to_numpy()
    minor = single & (h["age_of_head_at_settlement"].to_numpy() < 18)
    adults = np.where(single, 0, h["household_type"].map(ADULTS).to_numpy())
    persons = h["persons"].to_numpy()
    expected: dict[tuple[int, str, str], float] = {}
    for (year, gy, m, origin, s, mi, a, n) in zip(
            lives["year"], lives["grant_year"], lives["municipality"], lives["origin"],
            single, minor, adults, persons, strict=True):
        if gy == 1:
            r = rates.year_1(int(year))
            by_cat = {"single_adult": s and not mi, "unaccompanied_minor": mi,
                      "other_adult": a, "child": 0 if s else n - a}
            amount = sum(float(r[CATEGORIES.index(k)]) * v for k, v in by_cat.items())
            item = "grant_year_1"
        else:
            amount = n * float(rates.years_2_5(int(year))[gy - 2])
            item = "grant_years_2_5"
        if pd.isna(origin):
            expected[(year, m, item)] = expected.get((year, m, item), 0.0) + amount
        else:
            expected[(year, m, item)] = expected.get((year, m, item), 0.0) + (1 - share) * amount
            expected[(year, origin, item)] = expected.get((year, origin, item), 0.0) + \
                share * amount
    ledger = run.ledger[run.ledger["item"].isin(RECEIPTS)]
    got = {(y, m, str(i)): v for y, m, i, v in zip(ledger["year"], ledger["municipality"],
                                                    ledger["item"], ledger["nok"], strict=True)
           if v != 0}
    assert set(got) == set(expected)
    for key, value in expected.items():
        assert got[key] == pytest.approx(value, rel=1e-12, abs=1e-6), key


def test_grant_years_are_conserved_through_moves(run):
    """A person's grant is paid for at most five years from the first settlement, once a year
    whatever the moves: the receipts of all municipalities together equal the persons in
    their grant years times the rates (no krone created or lost by a split), and nothing is
    paid for the settlement cohorts after their fifth year."""
    rates = ledger_rates()
    hh = run.households
    ledger = run.ledger
    for year in range(run.start, run.end + 1):
        alive = hh[(hh["exit_year"] < 0) | (hh["exit_year"] > year)]
        later = alive[(year - alive["cohort"] >= 1) & (year - alive["cohort"] <= 4)]
        want = float((later["persons"].astype(np.int64)
                      * rates.years_2_5(year)[(year - later["cohort"] - 1).to_numpy()]).sum())
        paid = ledger[(ledger["year"] == year) & (ledger["item"] == "grant_years_2_5")]["nok"]
        assert paid.sum() == pytest.approx(want, rel=1e-12)
    # a year-1 grant only where a household was settled that year or moved to or from
    first = ledger[(ledger["item"] == "grant_year_1") & (ledger["nok"] > 0)]
    settled = set(zip(hh["cohort"], hh["settlement_municipality"], strict=True))
    moved = set(zip(run.moves["year"], run.moves["origin"], strict=True)) | set(
        zip(run.moves["year"], run.moves["destination"], strict=True))
    for year, m in zip(first["year"], first["municipality"], strict=True):
        assert (year, m) in settled or (year, m) in moved


def test_costs_follow_their_rules(run):
    """No stipend outside the programme years, no services after the grant years, and every
    item is a number for every municipality and year."""
    ledger = run.ledger
    assert set(ledger["item"].astype(str)) == set(ITEMS)
    assert len(ledger) == len(ITEMS) * run.municipalities.shape[0] * (run.end - run.start + 1)
    assert (ledger["nok"] >= 0).all() and ledger["nok"].notna().all()
    programme_years = Params().programme_years
    hh = run.households
    for year in (run.start, run.end):
        stipend = ledger[(ledger["year"] == year)
                         & (ledger["item"] == "introduction_stipend")]["nok"].sum()
        in_window = hh[(year - hh["cohort"] < programme_years) & (hh["cohort"] <= year)]
        assert (stipend > 0) == (len(in_window) > 0)
    price = ledger_rates().price_year
    ratio = ledger[f"nok_{price}"] / ledger["nok"].where(ledger["nok"] > 0)
    by_year = ratio.groupby(ledger["year"]).agg(["min", "max"]).dropna()
    assert np.allclose(by_year["min"], by_year["max"])  # one index per year


def test_grant_period_is_the_ledgers_persons_in_their_grant_years(run):
    """Results.ledger_grant_period: its persons are those alive at the year's end in their
    first five years (recomputed from the households table); its grants, stipend and
    services are all of the municipal ledger's (they are paid only in grant years); its social
    assistance and health needs are at most the ledger's."""
    hh = run.households
    g = run.ledger_grant_period.set_index("year")
    national = run.ledger.groupby(["year", run.ledger["item"].astype(str)])["nok"].sum()
    assert list(g.index) == list(range(run.start, run.end + 1))
    for year in g.index:
        alive = hh[((hh["exit_year"] < 0) | (hh["exit_year"] > year)) & (hh["cohort"] <= year)
                   & (year - hh["cohort"] <= 4)]
        assert g.loc[year, "persons_in_grant_years"] == alive["persons"].astype(np.int64).sum()
        for item in ("grant_year_1", "grant_years_2_5", "introduction_stipend",
                     "integration_services"):
            assert g.loc[year, item] == pytest.approx(national[(year, item)], rel=1e-12)
        for item in ("social_assistance", "health_needs"):
            assert g.loc[year, item] <= national[(year, item)] * (1 + 1e-12)


def test_cost_per_refugee_is_five_times_the_yearly_cost_per_person(run):
    """cost_per_refugee and committee_comparison recomputed by hand from the grant-period
    table of two runs and the committee's figures in the data file."""
    from simulation.analysis.ledger import committee_comparison, cost_per_refugee
    from simulation.engine.ledger import COSTS

    other = simulation.run(seed=8, inputs=default_inputs(2010, 2017).scaled(0.2), ledger=True)
    frames = [run.ledger_grant_period, other.ledger_grant_period]
    per = cost_per_refugee(frames).set_index(["year", "item"])
    for year in (2012, 2016):
        values = [f.set_index("year").loc[year] for f in frames]
        each = [5 * sum(v[c] for c in COSTS) / v["persons_in_grant_years"] for v in values]
        assert per.loc[(year, "costs"), "nok"] == pytest.approx(np.mean(each), rel=1e-12)
        rest = [5 * (v["social_assistance"] + v["health_needs"]) / v["persons_in_grant_years"]
                for v in values]
        assert per.loc[(year, "rest"), "nok"] == pytest.approx(np.mean(rest), rel=1e-12)
    rates = ledger_rates()
    cmp = committee_comparison(per.reset_index(), rates).set_index(["year", "item"])
    assert cmp.loc[(2016, "costs"), "committee_nok"] == 797_800
    assert cmp.loc[(2016, "rest"), "committee_nok"] == 797_800 - 453_700 - 219_500
    assert cmp.loc[(2016, "integration_services"), "ratio"] == pytest.approx(1.0, rel=1e-12)
    assert np.allclose(cmp["ratio"], cmp["model_nok"] / cmp["committee_nok"])


def test_rates_follow_their_anchors():
    """The estimation rules reproduce the figures they rest on (inputs/ledger_rates.py): IMDi's
    2017 table exactly, the five-year totals of 2010 (adults, children) and 2014 (single
    adults, others), the 2024 year-1 rates, the child gap before 2014, and 2022-2023 at 2021's
    level."""
    r = ledger_rates()
    adult, single, child, minor = (CATEGORIES.index(c) for c in (
        "other_adult", "single_adult", "child", "unaccompanied_minor"))
    assert r.year_1(2017).tolist() == [235_000, 185_000, 185_000, 185_000]
    assert r.years_2_5(2017) == pytest.approx([230_000, 167_000, 84_000, 70_500], rel=1e-12)
    assert r.status(2017, "grant_year_1") == "read" and r.status(2016, "grant_year_1") == \
        "estimate"
    for year, category, total in ((2010, adult, 574_300), (2010, child, 554_300),
                                  (2014, adult, 669_600), (2014, single, 717_600),
                                  (2014, child, 669_600)):
        assert r.year_1(year)[category] + r.years_2_5(year).sum() == pytest.approx(total)
    assert r.year_1(2010)[minor] == r.year_1(2010)[adult]  # revised budget 2010
    assert r.year_1(2010)[single] == r.year_1(2010)[adult]  # no single-adult rate before 2011
    assert r.year_1(2024)[single] == pytest.approx(241_100)
    assert r.year_1(2024)[adult] == pytest.approx(194_400)
    y13 = r.year_1(2013)
    assert y13[adult] - y13[child] == pytest.approx(20_000)
    for held in (2022, 2023):  # lowered slightly in 2022 (not quantified), frozen in 2023
        assert (r.year_1(held) == r.year_1(2021)).all()
        assert (r.years_2_5(held) == r.years_2_5(2021)).all()
    # between anchors the total moves monotonically (geometric interpolation)
    totals = [r.five_year_total(y) for y in range(2010, 2025)]
    assert all(b >= a for a, b in itertools.pairwise(totals))
    assert r.guideline(2014) == {"single": 5600.0, "couple": 9300.0,
                                 "child": pytest.approx((2150 + 2850 + 3600) / 3)}
    assert r.status(2014, "social_assistance") == "read"
    assert r.status(2016, "social_assistance") == "estimate"
    assert len(HOUSEHOLD_TYPES) == len(ADULTS)


def test_the_ledger_is_kept_on_request():
    inputs = default_inputs(2010, 2011).scaled(0.05)
    assert simulation.run(seed=1, inputs=inputs).ledger.empty
    assert not simulation.run(seed=1, inputs=inputs, ledger=True).ledger.empty


def test_ledger_csv_is_the_runs_ledgers():
    """ledger.csv (runs.ensemble.aggregate_ledger): per (year, municipality, item) the mean
    over runs, and ``net`` = receipts - costs, recomputed from the runs' own ledgers."""
    from simulation.engine.ledger import COSTS
    from simulation.engine.randomness import replicate_seeds
    from simulation.runs.ensemble import aggregate_ledger, run_replicate

    inputs = default_inputs(2010, 2012).scaled(0.1)
    runs = [run_replicate(Params(), inputs, s, i) for i, s in enumerate(replicate_seeds(3, 2))]
    table = aggregate_ledger(runs).set_index(["year", "municipality", "item"])
    a, b = (r.ledger.set_index(["year", "municipality", "item"]).sort_index() for r in runs)
    for key in [(2011, "0301", "grant_years_2_5"), (2012, "4601", "social_assistance")]:
        assert table.loc[key, "nok"] == pytest.approx((a.loc[key, "nok"] + b.loc[key, "nok"]) / 2)
    year, code = 2012, "0301"

    def net_of(frame: pd.DataFrame, y: int) -> float:
        rows = frame.loc[(y, code)]["nok_2024"]
        return float(sum(rows[i] for i in RECEIPTS) - sum(rows[i] for i in COSTS))

    def net(frame: pd.DataFrame) -> float:
        return net_of(frame, year)
    assert table.loc[(year, code, "net"), "nok_2024"] == pytest.approx((net(a) + net(b)) / 2)
    assert table.loc[(year, code, "net"), "nok_2024_p5"] <= table.loc[(year, code, "net"),
                                                                      "nok_2024"]
    # net accumulated: each run's net summed over the years so far, then the mean over runs
    acc = [sum(net_of(frame, y) for y in (2010, 2011, 2012)) for frame in (a, b)]
    assert table.loc[(2012, code, "net_accumulated"), "nok_2024"] == pytest.approx(
        sum(acc) / 2)
    assert table.loc[(2010, code, "net_accumulated"), "nok_2024"] == pytest.approx(
        table.loc[(2010, code, "net"), "nok_2024"])


def table_rows(lines: list[str], header: str) -> list[list[str]]:
    """The cells of the markdown table whose header line starts with ``header``."""
    start = next(i for i, line in enumerate(lines) if line.startswith(header))
    rows = []
    for line in lines[start + 2:]:
        if not line.startswith("|"):
            break
        rows.append([c.strip() for c in line.strip("|").split("|")])
    return rows


def test_docs_ledger_table_is_its_csv():
    """docs/ledger.md's table is docs/ledger/validation.csv (written by docs/make_ledger.py),
    whose IMDi column is the vendored file's and whose ratio is model / IMDi."""
    from pathlib import Path

    from simulation.analysis.ledger import imdi_grant_totals
    from simulation.reports.numbers import number

    docs = Path(__file__).resolve().parent.parent / "docs"
    v = pd.read_csv(docs / "ledger" / "validation.csv")
    imdi = imdi_grant_totals().set_index(["year", "item"])["imdi_nok"]
    assert (v.set_index(["year", "item"])["imdi_nok"] == imdi.loc[list(zip(
        v["year"], v["item"], strict=True))].to_numpy()).all()
    assert np.allclose(v["ratio"], v["model_nok"] / v["imdi_nok"])
    lines = (docs / "ledger.md").read_text(encoding="utf-8").splitlines()
    rows = [line for line in lines if line.startswith("| 20") and "| year" in line]
    assert len(rows) == len(v)
    cover = pd.read_csv(docs / "ledger" / "coverage.csv").dropna()
    assert table_rows(lines, "| year | grants / counted costs") == [
        [str(int(r.year)), f"{r.coverage:.2f}", f"{r.committee:.3f}"] for r in cover.itertuples()]
    cost = pd.read_csv(docs / "ledger" / "cost_per_refugee.csv")
    assert np.allclose(cost["ratio"], cost["model_nok"] / cost["committee_nok"])
    cells = table_rows(lines, "| year | item | model, NOK per refugee")
    assert [c[0] for c in cells] == [str(int(y)) for y in cost["year"]]
    assert [c[2:] for c in cells] == [
        [number(r.model_nok, "count"), f"{number(r.model_p5, 'count')}-"
         f"{number(r.model_p95, 'count')}", number(r.committee_nok, "count"), f"{r.ratio:.2f}"]
        for r in cost.itertuples()]
    words = {"grant_year_1": "year 1", "grant_years_2_5": "years 2-5"}
    for line, r in zip(rows, v.itertuples(), strict=True):
        cells = [c.strip() for c in line.strip("|").split("|")]
        assert cells[:6] == [str(r.year), words[r.item], number(r.model_nok / 1e6, "count"),
                             f"{number(r.model_p5 / 1e6, 'count')}-"
                             f"{number(r.model_p95 / 1e6, 'count')}",
                             number(r.imdi_nok / 1e6, "count"), f"{r.ratio:.2f}"]


def test_fiscal_differences_are_paired_sums_of_the_ledgers():
    """What a comparison says a scenario moves in kroner (runs/fiscal.py): per type of
    municipality, the mean over seed pairs of the summed change of yearly net positions,
    recomputed here from the runs' ledgers."""
    from simulation.engine.ledger import COSTS
    from simulation.runs.ensemble import run_many
    from simulation.runs.fiscal import fiscal_differences, size_class

    inputs = default_inputs(2012, 2014).scaled(0.1)
    p = Params()
    a, b = run_many([(p, inputs), (p.replace(rights_years=0), inputs)], seed=4,
                    replicates=2, jobs=1)
    geo = inputs.geography.table[["code", "name", "centrality", "population"]]
    by_muni, by_type = fiscal_differences(a, b, geo)

    def net(summary) -> pd.Series:
        led = summary.ledger
        sign = np.where(led["item"].astype(str).isin(RECEIPTS), 1.0,
                        np.where(led["item"].astype(str).isin(COSTS), -1.0, 0.0))
        return (led["nok_2024"] * sign).groupby(led["municipality"]).sum() / 3

    small = geo.loc[size_class(geo.set_index("code")["population"]).to_numpy()
                    == "under 5,000", "code"]
    pairs = [(net(y) - net(x)).reindex(small).fillna(0).sum() for x, y in zip(a, b,
                                                                               strict=True)]
    row = by_type[(by_type["grouping"] == "size") & (by_type["group"] == "under 5,000")]
    assert row["change_net"].iloc[0] == pytest.approx(np.mean(pairs), rel=1e-9, abs=1e-3)
    oslo = by_muni.set_index("municipality").loc["0301", "change_net"]
    assert oslo == pytest.approx(np.mean([(net(y) - net(x)).get("0301", 0.0)
                                          for x, y in zip(a, b, strict=True)]), abs=1e-3)
    assert by_type.groupby("grouping")["municipalities"].sum().eq(len(geo)).all()
    # the brief's table of every municipality is this table, formatted (runs/compare.py)
    from simulation.runs.compare import _every_municipality

    every = _every_municipality(by_muni).set_index("code")
    assert len(every) == len(geo) and list(every["municipality"]) == sorted(geo["name"])
    assert every.loc["0301", "net"] == f"{oslo / 1e6:+,.1f}"


def test_report_table_of_every_municipality_is_ledger_csv():
    """The run report's table of every municipality (runs/output._ledger_by_municipality):
    grants, costs and net a year are the means over the window's years of ledger.csv's items,
    the accumulated net its last year's ``net_accumulated``."""
    from simulation.engine.ledger import COSTS
    from simulation.engine.randomness import replicate_seeds
    from simulation.runs.ensemble import aggregate_ledger, aggregate_municipalities, run_replicate
    from simulation.runs.output import _ledger_by_municipality

    inputs = default_inputs(2010, 2012).scaled(0.1)
    runs = [run_replicate(Params(), inputs, s, i) for i, s in enumerate(replicate_seeds(5, 2))]
    ledger = aggregate_ledger(runs)
    munis = aggregate_municipalities(runs)
    table = _ledger_by_municipality(ledger, munis).set_index("code")
    assert len(table) == len(munis) and table.index.is_unique
    code = "0301"
    rows = ledger[ledger["municipality"] == code]
    per_year = rows.pivot_table(index="year", columns=rows["item"].astype(str),
                                values="nok_2024", aggfunc="sum", observed=True)
    grants = per_year[list(RECEIPTS)].sum(axis=1).mean()
    costs = per_year[list(COSTS)].sum(axis=1).mean()
    assert table.loc[code, "grants"] == f"{grants / 1e6:,.1f}"
    assert table.loc[code, "costs"] == f"{costs / 1e6:,.1f}"
    assert table.loc[code, "net a year"] == f"{per_year['net'].mean() / 1e6:+,.1f}"
    assert table.loc[code, "net accumulated"] == f"{per_year['net'].sum() / 1e6:+,.1f}"


def test_ledger_intervals_are_the_runs_percentiles_and_a_missing_row_is_missing():
    """The 5-95 % interval of ledger.csv is the percentiles of the runs' own values, and a
    (year, municipality) a run lacks is left out of that cell's mean, not counted as zero."""
    from dataclasses import replace

    from simulation.engine.randomness import replicate_seeds
    from simulation.runs.ensemble import aggregate_ledger, run_replicate

    inputs = default_inputs(2010, 2011).scaled(0.1)
    runs = [run_replicate(Params(), inputs, s, i) for i, s in enumerate(replicate_seeds(4, 3))]
    table = aggregate_ledger(runs).set_index(["year", "municipality", "item"])
    key = (2011, "0301", "social_assistance")
    values = [r.ledger.set_index(["year", "municipality", "item"]).loc[key, "nok_2024"]
              for r in runs]
    # the 5-95 % interval at the Weibull position (analysis/intervals.py)
    assert table.loc[key, "nok_2024_p5"] == pytest.approx(np.percentile(values, 5,
                                                                        method="weibull"))
    assert table.loc[key, "nok_2024_p95"] == pytest.approx(np.percentile(values, 95,
                                                                         method="weibull"))
    # the third run without Oslo's 2011 rows: Oslo's 2011 cells are the first two runs' mean
    ledger = runs[2].ledger
    cut = ledger[~((ledger["year"] == 2011) & (ledger["municipality"] == "0301"))]
    partial = aggregate_ledger([*runs[:2], replace(runs[2], ledger=cut)]).set_index(
        ["year", "municipality", "item"])
    assert partial.loc[key, "nok_2024"] == pytest.approx((values[0] + values[1]) / 2)
    other = (2011, "4601", "social_assistance")
    assert partial.loc[other, "nok_2024"] == pytest.approx(table.loc[other, "nok_2024"])
    assert len(partial) == len(table)
    # a (year, municipality) no run has is no row at all; an item the ledger does not know
    # is an error, not a value in another item's column
    gone = [replace(r, ledger=r.ledger[~((r.ledger["year"] == 2011)
                                          & (r.ledger["municipality"] == "0301"))])
            for r in runs]
    without = aggregate_ledger(gone).set_index(["year", "municipality", "item"])
    assert (2011, "0301") not in without.index.droplevel("item")
    assert len(without) == len(table) - 8  # the six items, net and net accumulated
    odd = runs[0].ledger.assign(item=runs[0].ledger["item"].astype(str).replace(
        "health_needs", "dental_care"))
    with pytest.raises(ValueError, match="dental_care"):
        aggregate_ledger([replace(runs[0], ledger=odd)])

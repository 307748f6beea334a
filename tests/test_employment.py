"""Employment and income per adult (issue 13): the adults' sex, the per-adult job-finding
hazard, the household flag, income from the adults, and the employment indicators.

Tolerances: a share estimated from n independent adults has standard error
sqrt(p (1 - p) / n); tests allow 4 standard errors (a false alarm about 1 in 16,000).
"""

from __future__ import annotations

import numpy as np
import pytest

import simulation
from simulation.analysis.indicators import employment_indicators
from simulation.engine.households import (
    ADULTS_BY_TYPE,
    COUPLE,
    FAMILY,
    FAMILY_TYPES,
    LONE_PARENT,
    SINGLE_MAN,
    SINGLE_WOMAN,
)
from simulation.engine.model import SecondaryMigrationModel
from simulation.engine.terms import (
    LONE_PARENT_FEMALE_SHARE,
    UKRAINE,
    employment_logit,
    in_programme,
    logistic,
)
from simulation.inputs.defaults import default_inputs
from simulation.inputs.parameters import Params

Z = 4.0


def one_year(params: Params, seed: int = 5, start: int = 2016) -> SecondaryMigrationModel:
    model = SecondaryMigrationModel(params, default_inputs(start, start + 1).scaled(0.5),
                                    seed=seed)
    model.step()
    return model


@pytest.fixture(scope="module")
def first_year() -> SecondaryMigrationModel:
    return one_year(Params())


def test_sex_follows_household_type(first_year: SecondaryMigrationModel) -> None:
    hh = first_year.world.households
    assert not hh.female_a[hh.htype == SINGLE_MAN].any()
    assert hh.female_a[hh.htype == SINGLE_WOMAN].all()
    couples = np.isin(hh.htype, (COUPLE, FAMILY))
    assert not hh.female_a[couples].any() and hh.female_b[couples].all()
    assert not hh.female_b[~couples].any()
    lone = hh.htype == LONE_PARENT
    n, p = int(lone.sum()), LONE_PARENT_FEMALE_SHARE
    assert n > 200
    assert abs(hh.female_a[lone].mean() - p) < Z * np.sqrt(p * (1 - p) / n)


def test_household_flag_is_any_adult_and_single_adults_have_no_slot_b(
        first_year: SecondaryMigrationModel) -> None:
    hh = first_year.world.households
    assert np.array_equal(hh.employed, hh.employed_a | hh.employed_b)
    assert not hh.employed_b[ADULTS_BY_TYPE[hh.htype] == 1].any()
    assert np.array_equal(hh.employed_adults,
                          hh.employed_a.astype(int) + hh.employed_b.astype(int))


@pytest.mark.parametrize("slot", ["a", "b"])
def test_first_year_job_finding_follows_the_hazard(slot: str) -> None:
    """In the settlement year every adult starts without work and belonging 0, so the share
    employed after stage 2 is the mean hazard (non-movers; work is drawn before moves)."""
    params = Params({"employment_intercept": -1.0, "employment_programme_effect": -0.5})
    model = one_year(params, seed=3)
    world = model.world
    hh = world.households
    year = model.inputs.start
    present = hh.alive & (hh.moves == 0) & (hh.exit_year < 0)
    if slot == "b":
        present &= hh.has_b
    female = hh.female_a if slot == "a" else hh.female_b
    employed = hh.employed_a if slot == "a" else hh.employed_b
    programme = in_programme(world, model.params, year)
    hh_belonging, hh.belonging = hh.belonging, np.zeros(len(hh))  # as when work was drawn
    p = logistic(employment_logit(world, model.params, year, hh.municipality, programme,
                                  female))[present]
    hh.belonging = hh_belonging
    observed = employed[present].mean()
    se = np.sqrt((p * (1 - p)).sum()) / present.sum()
    assert abs(observed - p.mean()) < Z * se, (observed, p.mean(), se)


def test_women_mothers_and_ukrainians_have_lower_odds() -> None:
    params = Params({"employment_female_effect": -1.0, "employment_mother_effect": -0.5,
                     "employment_ukraine_effect": -0.7})
    model = one_year(params, start=2022)
    world, hh = model.world, model.world.households
    year = model.inputs.start
    programme = np.zeros(len(hh), dtype=bool)
    man = employment_logit(world, params, year, hh.municipality, programme,
                           np.zeros(len(hh), dtype=bool))
    woman = employment_logit(world, params, year, hh.municipality, programme,
                             np.ones(len(hh), dtype=bool))
    family = np.isin(hh.htype, FAMILY_TYPES)
    assert np.allclose((woman - man)[~family], -1.0)
    assert np.allclose((woman - man)[family], -1.5)
    ukr = hh.group == UKRAINE
    assert ukr.any() and (~ukr).any()
    base = man - params.employment_ukraine_effect * ukr
    assert np.allclose(man[ukr] - base[ukr], -0.7) and np.allclose(man[~ukr], base[~ukr])


def test_income_is_summed_over_the_adults() -> None:
    """Without noise, a household's income is a wage per employed adult and the stipend or
    benefits per other adult (checked on households that did not move this year; a run of
    one year, as the households table reports income in the run's last year)."""
    params = Params({"income_noise": 0.0, "employment_intercept": 0.5,
                     "employment_programme_effect": 0.0})  # both, one and no adult employed
    model = SecondaryMigrationModel(params, default_inputs(2016, 2016).scaled(0.5), seed=9)
    model.step()
    world, hh = model.world, model.world.households
    year = model.inputs.start
    p = model.params
    rows = hh.alive & (hh.moves == 0)
    programme = in_programme(world, p, year)
    labour = world.geography.labour_market[hh.municipality]
    wage = p.wage_level * (1 + p.wage_labour_effect * (labour - 0.5)) * hh.productivity
    other = np.where(programme, p.stipend_level * np.where(hh.age(year) < 25, 2 / 3, 1.0),
                     p.benefit_level)
    expected = (np.where(hh.employed_a, wage, other)
                + hh.has_b * np.where(hh.employed_b, wage, other))
    assert np.allclose(hh.income[rows], expected[rows])
    both = rows & hh.employed_a & hh.employed_b
    one = rows & hh.has_b & (hh.employed_a ^ hh.employed_b)
    assert both.any() and one.any()


@pytest.mark.slow
def test_employment_indicators_respond_to_their_parameters() -> None:
    """The indicators measure what they say: removing the female effect closes the gap
    between men and women, a positive Ukrainian effect raises Ukrainian employment."""
    inputs = default_inputs().scaled(0.3)
    base = Params({"employment_mother_effect": 0.0, "employment_female_effect": 0.0})
    res = simulation.run(base, seed=4, inputs=inputs)
    ind = employment_indicators(res)
    emp = res.employment
    rows = emp[emp["year"] == emp["cohort"] + 8]
    n = rows.groupby("female")["adults"].sum()
    p = ind["employment_rate_by_sex"]
    se = np.sqrt(p["men"] * (1 - p["men"]) / n[False] + p["women"] * (1 - p["women"]) / n[True])
    # households cluster adults (couples share a municipality): allow twice the iid error
    assert abs(p["men"] - p["women"]) < 2 * Z * se
    low = employment_indicators(simulation.run(base.replace(employment_female_effect=-1.5),
                                               seed=4, inputs=inputs))
    assert low["employment_rate_by_sex"]["women"] < p["women"] - 0.1
    high = employment_indicators(simulation.run(base.replace(employment_ukraine_effect=1.5),
                                                seed=4, inputs=inputs))
    ukr, ukr_high = (x["ukrainians_employed_by_duration_2024"]["all_working_age"]
                     for x in (ind, high))
    assert ukr_high > ukr + 0.05
    durations = ind["employment_rate_by_duration"]
    assert durations[1] < durations[4] < durations[8]

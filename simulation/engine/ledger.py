"""The municipal ledger (MODEL.md 7; issue 16): what each municipality receives and pays for
the refugees living there, each year, in nominal NOK.

Receipts: the integration grant (integreringstilskudd), year 1 by person category and years
2-5 per person, counted from the *first* settlement and paid where the person lives; in the
year of a move the year's grant is split between the municipality moved from
(``grant_split_origin_share``) and the one moved to, and the remaining years follow the
person. Costs: the introduction stipend paid to participants without work (``stipend_level``
G a year, two thirds under 25: the model's own rule), social assistance to households without
work after the programme (the state's guideline rates by household composition times
``social_assistance_take_up``), the municipality's integration services and administration
per person in a grant year (the calculation committee's figure) and the extra cost of a
health need (``health_need_cost``). Rates, sources and the estimates where rates were not
found: ``inputs/ledger_rates.py`` and ``data/ledger_rates.yaml``.

Every amount is computed per household (:func:`payments`) and summed per municipality with
one bincount, so a test can recompute every krone from the run's tables. A person who left
Norway before the end of a year is paid nothing for that year (ASSUMPTION: the grant is
stopped on emigration; the model does not date exits within the year).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pandas as pd

from simulation.engine.households import ADULTS_BY_TYPE, SINGLE_MAN, SINGLE_WOMAN
from simulation.engine.runparams import RunParams
from simulation.engine.terms import in_programme, stipend_per_adult
from simulation.engine.world import World
from simulation.inputs.ledger_rates import CATEGORIES, GRANT_YEARS, LedgerRates

#: the ledger's items, receipts first; ``net`` = receipts - costs
RECEIPTS = ("grant_year_1", "grant_years_2_5")
COSTS = ("introduction_stipend", "social_assistance", "integration_services", "health_needs")
ITEMS = (*RECEIPTS, *COSTS)


def grant_persons(htype: np.ndarray, size: np.ndarray, age0: np.ndarray) -> np.ndarray:
    """(households, CATEGORIES) persons of each grant category: a single person is a single
    adult, or an unaccompanied minor if settled under 18; a household of two adults (couple,
    family) has two adults in a family, a lone parent one; the rest are children."""
    single = (htype == SINGLE_MAN) | (htype == SINGLE_WOMAN)
    minor = single & (age0 < 18)
    adults = np.where(single, 0, ADULTS_BY_TYPE[htype]).astype(np.float64)
    out = np.zeros((len(htype), len(CATEGORIES)))
    out[:, CATEGORIES.index("single_adult")] = single & ~minor
    out[:, CATEGORIES.index("unaccompanied_minor")] = minor
    out[:, CATEGORIES.index("other_adult")] = adults
    out[:, CATEGORIES.index("child")] = np.where(single, 0, size - adults)
    return out


@dataclass
class Payments:
    """One year's amounts per household row (nominal NOK), and where they go: each amount is
    paid in ``municipality``, except that a household that moved this year pays/receives
    the ``origin_share`` of its grant in ``origin``."""

    rows: np.ndarray  # household rows (alive at the end of the year)
    municipality: np.ndarray  # where each lives at the end of the year
    origin: np.ndarray  # municipality moved from this year, or -1
    amounts: dict[str, np.ndarray]  # item -> per row
    grant_year: np.ndarray  # 1..5 for rows in their grant years, else 0
    origin_share: float
    persons: np.ndarray  # persons per row (household size)


def movers_of(world: World, year: int) -> tuple[np.ndarray, np.ndarray]:
    """Households that moved in ``year`` and the municipality each moved from (its first
    move of the year: the model moves a household at most once a year)."""
    events = world.events.columns()
    this = events["year"] == year
    return events["household"][this], events["origin"][this]


def payments(world: World, params: RunParams, year: int, rates: LedgerRates) -> Payments:
    """Every household's receipts and costs for ``year`` (the module docstring)."""
    hh = world.households
    rows = np.flatnonzero(hh.alive)
    htype, size, age0 = hh.htype[rows], hh.size[rows].astype(np.float64), hh.age0[rows]
    grant_year = year - hh.cohort[rows].astype(np.int64) + 1  # 1 in the settlement year
    in_grant = (grant_year >= 1) & (grant_year <= GRANT_YEARS)
    persons = grant_persons(htype, size, age0)
    first = np.where(grant_year == 1, persons @ rates.year_1(year), 0.0)
    later_rate = rates.years_2_5(year)  # rate for grant years 2..5
    later = np.where(in_grant & (grant_year >= 2),
                     size * later_rate[np.clip(grant_year - 2, 0, GRANT_YEARS - 2)], 0.0)

    # costs: the model's own programme and work status
    programme = in_programme(world, params, year)[rows]
    idle = (~hh.employed_a[rows]).astype(np.float64) + (
        hh.has_b[rows] & ~hh.employed_b[rows]).astype(np.float64)
    g = rates.g(year)
    age = age0 + (year - hh.cohort[rows].astype(np.int64))
    stipend = np.where(programme, idle * stipend_per_adult(params, age) * g, 0.0)
    dependent = ~programme & ~hh.employed[rows]
    single = (htype == SINGLE_MAN) | (htype == SINGLE_WOMAN)
    adults = ADULTS_BY_TYPE[htype].astype(np.float64)
    monthly = rates.guideline(year)
    children = np.where(single, 0.0, size - adults)
    need = (np.where(adults >= 2, monthly["couple"], monthly["single"])
            + children * monthly["child"])
    assistance = np.where(dependent, 12.0 * need * params.social_assistance_take_up, 0.0)
    services = np.where(in_grant, size * rates.services(year), 0.0)
    health = np.where(hh.need_health[rows], params.health_need_cost * rates.index(year), 0.0)

    moved, origin_of = movers_of(world, year)
    origin = np.full(len(hh), -1, dtype=np.int64)
    origin[moved] = origin_of
    return Payments(
        rows=rows, municipality=hh.municipality[rows].astype(np.int64), origin=origin[rows],
        amounts={"grant_year_1": first, "grant_years_2_5": later,
                 "introduction_stipend": stipend, "social_assistance": assistance,
                 "integration_services": services, "health_needs": health},
        grant_year=np.where(in_grant, grant_year, 0), origin_share=params.grant_split_origin_share,
        persons=size)


def by_municipality(p: Payments, n: int) -> dict[str, np.ndarray]:
    """Each item's total per municipality: grants of movers split between origin and
    destination (``origin_share`` to the origin); costs where the household lives at the end
    of the year."""
    moved = p.origin >= 0
    out = {}
    for item, amount in p.amounts.items():
        if item in RECEIPTS:
            here = np.where(moved, (1.0 - p.origin_share) * amount, amount)
            total = np.bincount(p.municipality, weights=here, minlength=n)
            total += np.bincount(p.origin[moved], weights=p.origin_share * amount[moved],
                                 minlength=n)
        else:
            total = np.bincount(p.municipality, weights=amount, minlength=n)
        out[item] = total
    return out


def grant_period(p: Payments) -> dict[str, float]:
    """The year's national amounts of each item for the persons in their five grant years,
    and those persons: the population the calculation committee's cost per refugee is
    measured on (its yearly cost per person in the grant period, times five)."""
    inside = p.grant_year > 0
    out = {item: float(amount[inside].sum()) for item, amount in p.amounts.items()}
    out["persons"] = float(p.persons[inside].sum())
    return out


@dataclass
class Ledger:
    """The yearly ledger of a run, per municipality (index) and item, nominal NOK, and the
    national amounts for persons in their grant years (:func:`grant_period`)."""

    rates: LedgerRates
    chunks: list[dict[str, np.ndarray]] = field(default_factory=list)
    grant_period_rows: list[dict[str, float]] = field(default_factory=list)

    def observe(self, world: World, params: RunParams, year: int) -> None:
        n = world.geography.n
        paid = payments(world, params, year, self.rates)
        self.grant_period_rows.append({"year": year, **grant_period(paid)})
        totals = by_municipality(paid, n)
        for item in ITEMS:
            self.chunks.append({"year": np.full(n, year, dtype=np.int16),
                                "municipality_index": np.arange(n, dtype=np.int16),
                                "item": np.full(n, ITEMS.index(item), dtype=np.int8),
                                "nok": totals[item]})

    def frame(self, codes: Any) -> pd.DataFrame:
        """year, municipality (code), item, nok (nominal), nok_<price year> (deflated by G);
        ``codes``: the municipalities' codes as an array with ``take`` (numpy or pandas)."""
        if not self.chunks:
            return pd.DataFrame(columns=["year", "municipality", "item", "nok"])
        cols = {k: np.concatenate([c[k] for c in self.chunks]) for k in self.chunks[0]}
        out = pd.DataFrame({
            "year": cols["year"].astype(np.int64),
            "municipality": codes.take(cols["municipality_index"].astype(np.intp)),
            "item": pd.Categorical.from_codes(cols["item"].astype(np.int64), categories=ITEMS),
            "nok": cols["nok"].astype(np.float64)})
        years = np.unique(cols["year"])
        factor = np.array([self.rates.to_price_year(int(y)) for y in years])
        index = factor[np.searchsorted(years, cols["year"])]
        out[f"nok_{self.rates.price_year}"] = out["nok"].to_numpy() * index
        return out

    def grant_period_frame(self) -> pd.DataFrame:
        """year, persons_in_grant_years, and per item the nominal NOK paid for them."""
        out = pd.DataFrame(self.grant_period_rows, columns=["year", *ITEMS, "persons"])
        out["year"] = out["year"].astype(np.int64)
        return out.rename(columns={"persons": "persons_in_grant_years"})

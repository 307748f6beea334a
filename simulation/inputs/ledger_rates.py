"""The municipal ledger's rates by year: the integration grant, G, social assistance and the
calculation committee's service cost, from ``data/ledger_rates.yaml`` (facts with sources and
a status each), completed by stated estimation rules where the published figures are missing.

The integration grant's rate table was found for 2017 only (IMDi: year 1 by category, and the
rates of grant years 2-5 paid that year); the budgets give the five-year totals of 2008, 2009,
2010 and 2014, and a secondary source the year-1 rates of 2024. How the other years are
estimated (every estimated figure is flagged ``estimate`` in :meth:`LedgerRates.status`):

* the five-year total T of a year (its rates summed over grant years 1-5, an adult in a family,
  as the budgets state it): read for 2008-2010 and 2014; 736,500 in 2017 (the read table
  summed); for 2024 the read year-1 rate over 2017's year-1 share (the 2024 rate comes from
  a secondary source marked "to be confirmed"; a later version of that source gives 187,000
  instead of 194,400). Between these years: geometric interpolation (ESTIMATE). 2022 and
  2023 are held at 2021's level: the rates were "slightly lowered" in 2022 (by an amount not
  found) and not price-adjusted in 2023 (read).
* how T divides over the grant years: 2017's table in every year (25.1 % year 1, 31.2 % year 2,
  22.7 %, 11.4 %, 9.6 %; ESTIMATE: the 2009 budget put that year's increase "mainly in years
  two and three", so the split has changed over time). This reproduces 2017 exactly, the 2010
  and 2014 totals exactly and the 2024 year-1 rate exactly.
* single adults get more in year 1 from 2011: 48,000 in 2014 (the difference of the two 2014
  totals), 50,000 in 2017 (read), 46,700 in 2024; linear between, 48,000 before 2014.
* children: the adult rate from 2014 (read); before, 20,000 less in year 1 (read for 2010).
* unaccompanied minors: the adult (family) rate in year 1 (read for 2010 and 2017; the 2024
  source gives 187,000, 7,400 below it); the separate minors' grant is not in the ledger.

Social assistance: the state's guideline rates per month (read for 2012-2014, 2018-2024),
missing years interpolated geometrically between the nearest read years (ESTIMATE). Municipal
integration services and administration per person and year: the calculation committee's
453,700 NOK per refugee over five years in 2016 (read), a fifth of it a year, indexed by G.
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import lru_cache
from importlib.resources import files
from typing import Any

import numpy as np

from simulation.inputs.yamlsource import safe_load

RATES_FILE = files("simulation") / "data" / "ledger_rates.yaml"
#: grant categories of a person (year-1 rates differ by category; years 2-5 do not)
CATEGORIES = ("single_adult", "other_adult", "child", "unaccompanied_minor")
GRANT_YEARS = 5
PRICE_YEAR = 2024
#: the anchors read in the data file (see the module docstring)
FIVE_YEAR_TOTALS = {2008: 496_000, 2009: 551_500, 2010: 574_300, 2014: 669_600}
TABLE_2017 = (185_000, 230_000, 167_000, 84_000, 70_500)  # grant years 1-5, adult in a family
YEAR_1_FAMILY_ADULT_2024 = 194_400
SINGLE_PREMIUM = {2014: 48_000, 2017: 235_000 - 185_000, 2024: 241_100 - 194_400}
CHILD_GAP_BEFORE_2014 = 20_000
SERVICES_5Y_2016 = 453_700
#: years held at an earlier year's rates: 2022 was "slightly lowered" from 2021 (read; by how
#: much is not known, so it is held at 2021's level), 2023 not price-adjusted (read)
FROZEN = {2022: 2021, 2023: 2021}
READ_TABLE_YEAR = 2017


def five_year_totals() -> dict[int, float]:
    """T by anchor year: read, the 2017 table summed, 2024 from its year-1 rate."""
    return {**{y: float(v) for y, v in FIVE_YEAR_TOTALS.items()},
            READ_TABLE_YEAR: float(sum(TABLE_2017)),
            2024: YEAR_1_FAMILY_ADULT_2024 * sum(TABLE_2017) / TABLE_2017[0]}


@dataclass(frozen=True)
class LedgerRates:
    """Rates by year (nominal NOK), with each one's status (read or estimate)."""

    g_avg: dict[int, float]
    guideline_read: dict[int, dict[str, float]]
    price_year: int = PRICE_YEAR
    #: the calculation committee's municipal cost per refugee over five years, by year
    #: (nominal NOK; the anchor the ledger's costs are checked against, not an input)
    committee_cost_5y: dict[int, float] | None = None
    #: its components where published: year -> {item: NOK per refugee over five years}
    committee_components: dict[int, dict[str, float]] | None = None
    #: persons triggering the grant (in their five grant years) by year, as it reports them
    committee_persons: dict[int, float] | None = None

    def g(self, year: int) -> float:
        """G, yearly average (read 2010-2024; other years: the nearest, an estimate)."""
        years = np.array(sorted(self.g_avg))
        nearest = int(years[np.argmin(np.abs(years - year))])
        return self.g_avg[nearest]

    def index(self, year: int) -> float:
        """Nominal NOK of ``year`` per NOK of the price year (by G)."""
        return self.g(year) / self.g(self.price_year)

    def to_price_year(self, year: int) -> float:
        return 1.0 / self.index(year)

    def five_year_total(self, year: int) -> float:
        """T of ``year`` (module docstring): anchors as read, geometric between them, outside
        them the nearest anchor indexed by G."""
        year = FROZEN.get(year, year)
        anchors = five_year_totals()
        if year in anchors:
            return anchors[year]
        known = sorted(anchors)
        if year < known[0] or year > known[-1]:
            edge = known[0] if year < known[0] else known[-1]
            return anchors[edge] * self.g(year) / self.g(edge)
        a = max(k for k in known if k < year)
        b = min(k for k in known if k > year)
        w = (year - a) / (b - a)
        return anchors[a] ** (1 - w) * anchors[b] ** w

    @staticmethod
    def single_premium(year: int) -> float:
        """Single adults' extra year-1 rate (none before 2011; linear between read years)."""
        if year < 2011:
            return 0.0
        known = sorted(SINGLE_PREMIUM)
        return float(np.interp(FROZEN.get(year, year), known, [SINGLE_PREMIUM[k] for k in known]))

    def table(self, year: int) -> np.ndarray:
        """The rates of grant years 1-5 paid in ``year`` for an adult in a family: T of the
        year divided as 2017's table (exactly 2017's in 2017)."""
        return self.five_year_total(year) / sum(TABLE_2017) * np.array(TABLE_2017, np.float64)

    def year_1(self, year: int) -> np.ndarray:
        """Year-1 rate by CATEGORIES (NOK of ``year``)."""
        adult = self.table(year)[0]
        single = adult + self.single_premium(year)
        child = adult - (CHILD_GAP_BEFORE_2014 if year < 2014 else 0.0)
        return np.array([single, adult, child, adult])

    def years_2_5(self, year: int) -> np.ndarray:
        """The rates of grant years 2, 3, 4 and 5 paid in ``year`` (NOK of ``year``)."""
        return self.table(year)[1:]

    def guideline(self, year: int) -> dict[str, float]:
        """Social assistance guideline per month: single, couple, child (mean of the age
        bands); read years as read, others geometric between the nearest read years."""
        known = sorted(self.guideline_read)
        if year in self.guideline_read:
            return self.guideline_read[year]
        lower = [k for k in known if k < year]
        upper = [k for k in known if k > year]
        if not lower or not upper:
            edge = known[0] if not lower else known[-1]
            scale = self.g(year) / self.g(edge)
            return {k: v * scale for k, v in self.guideline_read[edge].items()}
        a, b = lower[-1], upper[0]
        w = (year - a) / (b - a)
        return {k: self.guideline_read[a][k] ** (1 - w) * self.guideline_read[b][k] ** w
                for k in self.guideline_read[a]}

    def services(self, year: int) -> float:
        """Municipal integration services and administration per person in a grant year."""
        return SERVICES_5Y_2016 / GRANT_YEARS * self.g(year) / self.g(2016)

    def status(self, year: int, item: str) -> str:
        """'read' where the figure for ``year`` is published, else 'estimate'."""
        if item == "introduction_stipend":
            return "read" if year in self.g_avg else "estimate"
        if item == "social_assistance":
            return "read" if year in self.guideline_read else "estimate"
        if item in ("grant_year_1", "grant_years_2_5"):
            return "read" if year == READ_TABLE_YEAR else "estimate"
        return "estimate"  # services: indexed from the read anchor


def _guideline(raw: dict[str, Any]) -> dict[int, dict[str, float]]:
    out = {}
    for year, row in raw.items():
        if not isinstance(year, int) or not isinstance(row, dict) or "single" not in row:
            continue
        children = [row[k] for k in ("child_0_5", "child_6_10", "child_11_17") if k in row]
        out[year] = {"single": float(row["single"]), "couple": float(row["couple"]),
                     "child": float(np.mean(children))}
    return out


@lru_cache(maxsize=1)
def ledger_rates() -> LedgerRates:
    """The vendored rates (data/ledger_rates.yaml), loaded safely once."""
    data = safe_load(RATES_FILE.read_text(encoding="utf-8"))
    g = {y: float(v["g_avg"]) for y, v in data["grunnbelop"].items() if isinstance(y, int)}
    committee = data["calculation_committee"]
    cost = {int(y): float(v["value"]) for y, v in committee["cost_per_refugee_5y"].items()}
    parts = {int(y): {"integration_services": float(v["integration_measures_and_admin"]),
                      **({"introduction_stipend": float(v["introduction_stipend"])}
                         if "introduction_stipend" in v else {})}
             for y, v in committee["cost_components_per_refugee_5y"].items()}
    return LedgerRates(g_avg=g, guideline_read=_guideline(
        data["social_assistance_guideline_monthly"]), committee_cost_5y=cost,
        committee_components=parts, committee_persons={
            int(k.rsplit("_", 1)[1]): float(v) for k, v in committee["context"].items()
            if k.startswith("persons_triggering_grant_")})

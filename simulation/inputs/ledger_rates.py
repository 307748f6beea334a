"""The municipal ledger's rates by year: the integration grant, G, social assistance and the
calculation committee's service cost, from ``data/ledger_rates.yaml`` (facts with sources and
a status each), completed by stated estimation rules where the published figures are missing.

The integration grant's rate tables (year 1 by category, years 2-5) for 2010-2023 were not
found in the sources available here (the data file's ``gaps``). What is known, and how the
rates are estimated from it (every estimated figure is flagged ``estimate`` in
:meth:`LedgerRates.status`):

* the five-year total per person (other adults, and children from 2014) is 669,600 NOK in
  2014 (read). Other years: the 2014 total indexed by G (the yearly average). (Indexed back
  to 2009 with that year's G, 72,006, it gives 552,100 against the 551,500 read for 2009.)
* the year-1 rate for an adult in a family is 194,400 in 2024 (read from a secondary source,
  to be confirmed); other years: indexed by G. Years 2-5: the rest of the five-year total,
  in four equal parts (ESTIMATE: the 2009 budget says increases went "mainly to years two and
  three"; the split is not known);
* single adults get 48,000 more in year 1 in 2014 (the difference of the two 2014 totals) and
  46,700 in 2024 (241,100 - 194,400); between them linear, before 2014 the 2014 figure, from
  2011 (before 2011 there was no single-adult rate);
* children: the adult rate from 2014 (read); before, 20,000 less in year 1 (read for 2010);
* unaccompanied minors: the single-adult rate in year 1 (ASSUMPTION: from 2010 minors got
  the adult rate; the separate minors' grant is not in the ledger);
* 2022 and 2023: the 2021 rates (the rates were "slightly lowered" in 2022 and not
  price-adjusted in 2023; the size of the cut is not known).

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
FIVE_YEAR_TOTAL_2014 = 669_600
YEAR_1_FAMILY_ADULT_2024 = 194_400
SINGLE_PREMIUM = {2014: 48_000, 2024: 241_100 - 194_400}
CHILD_GAP_BEFORE_2014 = 20_000
SERVICES_5Y_2016 = 453_700
LAST_PRICED = 2021  # 2022-2023: the 2021 rates (module docstring)


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

    def _grant_year(self, year: int) -> int:
        """The year whose indexed rates ``year`` pays (2022-2023: 2021's)."""
        return LAST_PRICED if LAST_PRICED < year < 2024 else year

    def year_1(self, year: int) -> np.ndarray:
        """Year-1 rate by CATEGORIES (NOK of ``year``)."""
        y = self._grant_year(year)
        adult = YEAR_1_FAMILY_ADULT_2024 * self.g(y) / self.g(2024)
        if y <= 2014:
            premium = SINGLE_PREMIUM[2014]
        elif y >= 2024:
            premium = SINGLE_PREMIUM[2024]
        else:
            w = (y - 2014) / (2024 - 2014)
            premium = (1 - w) * SINGLE_PREMIUM[2014] + w * SINGLE_PREMIUM[2024]
        single = adult + (premium if y >= 2011 else 0.0)
        child = adult - (CHILD_GAP_BEFORE_2014 if y < 2014 else 0.0)
        return np.array([single, adult, child, single])

    def years_2_5(self, year: int) -> np.ndarray:
        """The rates of grant years 2, 3, 4 and 5 paid in ``year`` (NOK of ``year``)."""
        y = self._grant_year(year)
        total = FIVE_YEAR_TOTAL_2014 * self.g(y) / self.g(2014)
        adult_1 = YEAR_1_FAMILY_ADULT_2024 * self.g(y) / self.g(2024)
        return np.full(GRANT_YEARS - 1, (total - adult_1) / (GRANT_YEARS - 1))

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
        return "estimate"  # grants and services: indexed from the read anchors


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

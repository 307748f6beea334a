"""The municipal ledger against IMDi's published grant payouts: the national totals of the
year-1 and years-2-5 integration grant that the model pays, beside IMDi's
(``data/municipal/integration_grants_national_by_year.csv``, SOURCES.md section 6).

The model's window starts in 2010, so before 2014 its years-2-5 total lacks the persons
settled 2006-2009 who were still in their grant years: those rows are marked incomplete.
IMDi's 2022-2023 totals are lower bounds (anonymised cells).
"""

from __future__ import annotations

from functools import lru_cache
from importlib.resources import files

import numpy as np
import pandas as pd

from simulation.analysis import intervals
from simulation.analysis.intervals import HIGH, LOW
from simulation.engine.ledger import COSTS, RECEIPTS
from simulation.inputs.ledger_rates import GRANT_YEARS, LedgerRates

IMDI_FILE = files("simulation") / "data" / "municipal" / "integration_grants_national_by_year.csv"
#: IMDi's names of the two grant lines (English before 2016, Norwegian in the 2022-2023 data)
GRANT_TYPES = {"Integration grant year 1": "grant_year_1",
               "Integreringstilskudd for år 1": "grant_year_1",
               "Integration grant years 2-5": "grant_years_2_5",
               "Integreringstilskudd for år 2-5": "grant_years_2_5"}
#: within this share of IMDi's total counts as matching (the issue's standard)
TOLERANCE = 0.15


@lru_cache(maxsize=1)
def imdi_grant_totals() -> pd.DataFrame:
    """year, item (grant_year_1 | grant_years_2_5), imdi_nok, lower_bound."""
    raw = pd.read_csv(IMDI_FILE.open(encoding="utf-8"))
    rows = raw[raw["grant_type"].isin(list(GRANT_TYPES))]
    return pd.DataFrame({"year": rows["year"].astype(np.int64).to_numpy(),
                         "item": rows["grant_type"].map(GRANT_TYPES).to_numpy(),
                         "imdi_nok": rows["amount_nok"].astype(np.float64).to_numpy(),
                         "lower_bound": rows["is_lower_bound"].astype(bool).to_numpy()})


def national_grants(ledger: pd.DataFrame) -> pd.DataFrame:
    """year, item, nok: one run's grant receipts summed over the municipalities (nominal)."""
    grants = ledger[ledger["item"].astype(str).isin(RECEIPTS)]
    out = grants.groupby(["year", grants["item"].astype(str)])["nok"].sum()
    return out.rename_axis(["year", "item"]).reset_index()


def grant_validation(ledgers: list[pd.DataFrame], start: int) -> pd.DataFrame:
    """Per year and grant line that IMDi published and the runs cover: the model's national
    total (mean and 5-95 % over the runs), IMDi's, their ratio, and whether the model's total
    is complete (years 2-5 need the cohorts of the four years before) and within
    :data:`TOLERANCE`."""
    runs = pd.concat([national_grants(x).assign(run=i) for i, x in enumerate(ledgers)])
    g = runs.groupby(["year", "item"])["nok"]
    model = pd.DataFrame({"model_nok": g.mean(), "model_p5": intervals.grouped(g, LOW),
                          "model_p95": intervals.grouped(g, HIGH)}).reset_index()
    out = model.merge(imdi_grant_totals(), on=["year", "item"], how="inner")
    out["ratio"] = out["model_nok"] / out["imdi_nok"]
    out["complete"] = (out["item"] == "grant_year_1") | (out["year"] >= start + 4)
    out["within_tolerance"] = (out["ratio"] - 1.0).abs() <= TOLERANCE
    return out.sort_values(["item", "year"]).reset_index(drop=True)


def cost_per_refugee(grant_periods: list[pd.DataFrame]) -> pd.DataFrame:
    """Per year and cost item (``costs``: their sum; ``rest``: social assistance and health
    needs, the items besides services and stipend): the municipal cost per refugee over
    five years as the calculation committee measures it, i.e. the year's cost for the
    persons in their five grant years divided by those persons, times five (ASSUMPTION: our
    reading of its method); mean and 5-95 % over the runs, nominal NOK."""
    rows = []
    for i, g in enumerate(grant_periods):
        per = g[list(COSTS)].div(g["persons_in_grant_years"], axis=0) * GRANT_YEARS
        per["costs"] = per.sum(axis=1)
        per["rest"] = per["social_assistance"] + per["health_needs"]
        per["year"] = g["year"].to_numpy()
        rows.append(per.melt(id_vars="year", var_name="item", value_name="nok").assign(run=i))
    runs = pd.concat(rows)
    grouped = runs.groupby(["year", "item"], sort=False)["nok"]
    return pd.DataFrame({"nok": grouped.mean(), "p5": intervals.grouped(grouped, LOW),
                         "p95": intervals.grouped(grouped, HIGH)}).reset_index()


def committee_comparison(per_refugee: pd.DataFrame, rates: LedgerRates) -> pd.DataFrame:
    """The model's cost per refugee over five years beside the calculation committee's,
    for the years and items it published: year, item, model_nok, model_p5, model_p95,
    committee_nok, ratio. The committee's total is ``costs``; of its components, the
    integration services equal the ledger's by construction (the ledger's rate is the
    committee's 2016 figure indexed by G), the introduction stipend does not."""
    published = [(y, "costs", v) for y, v in (rates.committee_cost_5y or {}).items()]
    published += [(y, item, v) for y, parts in (rates.committee_components or {}).items()
                  for item, v in parts.items()]
    # the committee's total less its published parts: social assistance, health and the
    # services the ledger does not count (so the ledger's rest should fall below it)
    for y, parts in (rates.committee_components or {}).items():
        total = (rates.committee_cost_5y or {}).get(y)
        if total is not None and set(parts) == {"integration_services", "introduction_stipend"}:
            published.append((y, "rest", total - sum(parts.values())))
    ref = pd.DataFrame(published, columns=["year", "item", "committee_nok"])
    out = per_refugee.rename(columns={"nok": "model_nok", "p5": "model_p5",
                                      "p95": "model_p95"}).merge(ref, on=["year", "item"])
    out["ratio"] = out["model_nok"] / out["committee_nok"]
    return out.sort_values(["item", "year"]).reset_index(drop=True)

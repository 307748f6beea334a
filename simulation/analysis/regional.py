"""The regional pattern of secondary migration, measured as the register reports it.

Three register figures describe it (``register_targets_more.yaml``):

* SSB's monitor: the share of a cohort no longer living in its settlement municipality after
  five years, by county of settlement (2020 borders; Troms og Finnmark was one county
  2020-2023). The model pools cohorts 2013-2016, which the definition allows in place of 2015.
* SSB Rapporter 2017/18: five-year retention in the five weakest pre-2020 counties (Sogn og
  Fjordane, Nord-Trøndelag, Nordland, Troms, Finnmark), cohorts 2005-2014; the model has
  cohorts 2010-2014 of those.
* SSB's portrait of Iraqis: for persons settled 2005-2010, the net change of each pre-2020
  county's number five years on, in percent of those settled there (emigration and deaths
  included). One group only, so it is compared by sign and rank, not level: the model's
  all-group net change over cohorts 2010-2014 against it.

Counties are taken from the run's municipality table: ``county`` (2024) and
``county_pre2020`` (the county a municipality belonged to before the 2020 reform; a user
geography without it gets NaN for the pre-2020 figures).
"""

from __future__ import annotations

from functools import cache
from typing import TYPE_CHECKING

import numpy as np
import pandas as pd

from simulation.analysis.registry import (
    OUT_5Y_COUNTIES,
    PRE2020_COUNTIES,
    REGIONAL_NET_CHANGE_COHORTS,
    SETTLEMENT_COUNTY_COHORTS,
    WEAKEST_COUNTIES,
    WEAKEST_COUNTY_COHORTS,
    cohorts_with,
    county_key,
)
from simulation.inputs.defaults import register_more

if TYPE_CHECKING:
    from simulation.engine.results import Results

NAN = float("nan")
#: 2024 counties that formed one county in 2020-2023, for the SSB monitor's 2020 borders
COUNTY_2020 = {"Troms": "Troms og Finnmark", "Finnmark": "Troms og Finnmark",
               "Akershus": "Viken", "Buskerud": "Viken", "Østfold": "Viken",
               "Vestfold": "Vestfold og Telemark", "Telemark": "Vestfold og Telemark"}


@cache
def iraqi_net_change() -> dict[str, float]:
    """The register's net change by pre-2020 county (percent), Iraqis settled 2005-2010."""
    for target in register_more()["targets"]:
        if target["id"] == "net_change_by_county_iraqis_2005_2010":
            return {county_key(k): float(v) for k, v in target["value"].items()}
    raise KeyError("net_change_by_county_iraqis_2005_2010 is missing from the register file")


def _k5_rows(res: Results, first: int, last: int) -> pd.DataFrame:
    """Retention-panel rows five years after settlement for cohorts first..last."""
    cohorts = cohorts_with(res.start, res.end, 5, first, last)
    panel = res.retention_panel
    return panel[panel["cohort"].isin(cohorts) & (panel["year"] == panel["cohort"] + 5)]


def _settlement_facts(res: Results, rows: pd.DataFrame, column: str) -> np.ndarray:
    facts = res.municipalities.set_index("code")[column]
    return rows["settlement_municipality"].map(facts).to_numpy()


def out_5y_by_settlement_county(res: Results) -> dict[str, float]:
    """Share no longer in the settlement municipality after 5 years, by the settlement
    municipality's county (2020 borders) for the counties the register names, and nationally;
    cohorts 2013-2016 pooled. Empty when the window has none of those cohorts at 5 years."""
    first, last = SETTLEMENT_COUNTY_COHORTS
    rows = _k5_rows(res, first, last)
    if rows.empty:
        return {}
    county = pd.Series(_settlement_facts(res, rows, "county")).replace(COUNTY_2020).to_numpy()
    alive = rows["persons_alive"].to_numpy(dtype=np.float64)
    home = rows["persons_in_settlement"].to_numpy(dtype=np.float64)
    out: dict[str, float] = {}
    for name in OUT_5Y_COUNTIES:
        sel = county == name
        out[county_key(name)] = 1.0 - home[sel].sum() / alive[sel].sum() if alive[sel].sum() \
            else NAN
    out["national"] = 1.0 - home.sum() / alive.sum() if alive.sum() else NAN
    return out


def retention_5y_weakest_counties(res: Results) -> float:
    """R(5) of persons settled in the five weakest pre-2020 counties, cohorts 2010-2014."""
    if "county_pre2020" not in res.municipalities:
        return NAN
    first, last = WEAKEST_COUNTY_COHORTS
    rows = _k5_rows(res, first, last)
    sel = np.isin(_settlement_facts(res, rows, "county_pre2020"), WEAKEST_COUNTIES)
    alive = rows["persons_alive"].to_numpy(dtype=np.float64)[sel].sum()
    home = rows["persons_in_settlement"].to_numpy(dtype=np.float64)[sel].sum()
    return float(home / alive) if alive else NAN


def net_change_by_county(res: Results) -> dict[str, float]:
    """Per pre-2020 county: persons of cohorts 2010-2014 living in the county five years after
    settlement, minus those settled there, in percent of those settled there (emigration and
    deaths count as losses, as in the register's figure). NaN without ``county_pre2020``."""
    first, last = REGIONAL_NET_CHANGE_COHORTS
    cohorts = cohorts_with(res.start, res.end, 5, first, last)
    keys = [county_key(c) for c in PRE2020_COUNTIES]
    if not cohorts or "county_pre2020" not in res.municipalities:
        return dict.fromkeys(keys, NAN) if cohorts else {}
    old = res.municipalities.set_index("code")["county_pre2020"]
    hh = res.households[res.households["cohort"].isin(cohorts)]
    settled = hh["persons"].astype(np.int64).groupby(
        hh["settlement_municipality"].map(old)).sum()
    live = res.residence
    live = live[live["cohort"].isin(cohorts) & (live["year"] == live["cohort"] + 5)]
    later = live["persons"].astype(np.int64).groupby(live["municipality"].map(old)).sum()
    out: dict[str, float] = {}
    for county in PRE2020_COUNTIES:
        s = float(settled.get(county, 0))
        out[county_key(county)] = 100.0 * (float(later.get(county, 0)) - s) / s if s else NAN
    return out


def regional_pattern(net_change: dict[str, float]) -> dict[str, float]:
    """How the model's net change by county agrees with the register's (Iraqis 2005-2010):
    the share of counties whose sign agrees, and Spearman's rank correlation."""
    if not net_change:
        return {}
    register = iraqi_net_change()
    keys = [k for k in register if np.isfinite(net_change.get(k, NAN))]
    if len(keys) < 3:
        return {"sign_agreement": NAN, "rank_correlation": NAN}
    model = np.array([net_change[k] for k in keys])
    seen = np.array([register[k] for k in keys])
    signs = float(np.mean(np.sign(model) == np.sign(seen)))
    ranks = pd.Series(model).rank().corr(pd.Series(seen).rank())
    return {"sign_agreement": signs, "rank_correlation": float(ranks)}


def regional_indicators(res: Results) -> dict[str, object]:
    """The regional indicators of one run, by id (see ``analysis.registry``)."""
    net = net_change_by_county(res)
    return {
        "out_5y_by_settlement_county": out_5y_by_settlement_county(res),
        "retention_5y_weakest_counties": retention_5y_weakest_counties(res),
        "net_change_by_county": net,
        "regional_pattern": regional_pattern(net),
    }

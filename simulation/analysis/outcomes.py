"""Outcomes by subgroup: who a change in the allocation helps and who it costs.

One run's four outcomes (five-year retention, work, income, needs met) for each country
group, household type and centrality class of the settlement municipality, as a tidy table
that an ensemble keeps per replicate and a comparison pairs by seed. Each outcome is the one
the national indicators use (``analysis.indicators``, ``analysis.measures``), restricted to a
subgroup: the same cohort window, the same population, the same function; nothing is defined
here a second time.

* ``retention_5y``: R(5) of the cohorts with five years in the run (as ``retention_5y``),
  from :func:`analysis.measures.retention`; the denominator is the persons still in Norway
  five years after settlement.
* ``employed_share``: the share of persons living in a household with work, of households
  settled at least five years before the end and still in Norway (as
  ``employment_rate_movers`` / ``_stayers``, both together); denominator: their persons.
* ``income``: the mean household income (G) of the same households (as ``income_movers``);
  ``persons`` is their persons, the mean is per household.
* ``needs_met``: of households still in Norway with an education or health need, the share
  living where every need is met (as ``needs_met_share``, per household); ``persons`` is
  their persons.

The centrality class is always that of the *settlement* municipality (where the allocation
put the household), joined by its code, so a subgroup is the same people whatever they did
after.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, NamedTuple

import numpy as np
import pandas as pd

from simulation.analysis.indicators import (
    employed_share,
    households_with_needs,
    mean_income,
    met_share,
    settled_five_years,
)
from simulation.analysis.measures import retention
from simulation.analysis.registry import cohorts_with
from simulation.inputs.categories import COUNTRY_GROUPS, HOUSEHOLD_TYPES

if TYPE_CHECKING:
    from collections.abc import Callable

    from simulation.engine.results import Results

#: years after settlement of the retention outcome (the register's R(5))
RETENTION_YEARS = 5
CENTRALITY_CLASSES: tuple[str, ...] = ("1", "2", "3", "4", "5", "6")
#: dimension -> its subgroups, in the order tables show them (every subgroup always has a row)
DIMENSIONS: dict[str, tuple[str, ...]] = {
    "country_group": COUNTRY_GROUPS,
    "household_type": HOUSEHOLD_TYPES,
    "settlement_centrality": CENTRALITY_CLASSES,
}
MEASURES: tuple[str, ...] = ("retention_5y", "employed_share", "income", "needs_met")
COLUMNS = ["dimension", "subgroup", "measure", "value", "persons"]
NAN = float("nan")


class MeasureWords(NamedTuple):
    """How a report names a measure: a short title, a sentence's phrase and the number's kind
    (``reports.numbers.number``)."""

    title: str
    phrase: str
    kind: str


MEASURE_WORDS: dict[str, MeasureWords] = {
    "retention_5y": MeasureWords("five-year retention", "five-year retention", "share"),
    "employed_share": MeasureWords("in a household with work", "the share living in a "
                                   "household with work", "share"),
    "income": MeasureWords("household income", "household income", "amount"),
    "needs_met": MeasureWords("needs met", "the share of households whose education or health "
                              "needs are met where they live", "share"),
}

_HOUSEHOLD_WORDS = {"single_man": "single men", "single_woman": "single women",
                    "couple_no_children": "couples without children",
                    "couple_with_children": "couples with children",
                    "lone_parent": "lone parents"}


DIMENSION_WORDS = {"country_group": "country group", "household_type": "household type",
                   "settlement_centrality": "centrality of the settlement municipality"}


def subgroup_words(dimension: str, subgroup: str, short: bool = False) -> str:
    """A subgroup as a report names it: "single men", "persons from Syria", "persons settled
    in centrality class 6 (least central)"; ``short`` for a figure's axis ("Syria",
    "centrality 6 (least central)")."""
    if dimension == "household_type":
        return _HOUSEHOLD_WORDS.get(subgroup, subgroup.replace("_", " "))
    if dimension == "country_group":
        origin = "other countries" if subgroup == "other" else subgroup.capitalize()
        return origin if short else f"persons from {origin}"
    if dimension == "settlement_centrality":
        end = {"1": " (most central)", "6": " (least central)"}.get(subgroup, "")
        return (f"centrality {subgroup}{end}" if short
                else f"persons settled in centrality class {subgroup}{end}")
    return subgroup


def _by_subgroup(frame: pd.DataFrame, columns: list[str], dimension: str,
                 centrality: pd.Series) -> dict[str, pd.DataFrame]:
    """The ``columns`` of ``frame`` (households) split by subgroup label in one pass; the
    centrality class is that of the settlement municipality, joined by its code."""
    if dimension == "settlement_centrality":
        at = centrality.index.get_indexer(frame["settlement_municipality"])
        key: pd.Series | np.ndarray = np.where(at >= 0, centrality.to_numpy()[at], -1)
    else:
        key = frame[dimension]  # categorical: grouped by its codes, labelled by name
    return {str(k): part for k, part in frame[columns].groupby(key, sort=False,
                                                                observed=True)}


def outcomes_by_subgroup(res: Results) -> pd.DataFrame:
    """The four outcomes of one run for every subgroup of every dimension.

    Args:
        res: a run's results (``simulation.run(...)``).

    Returns:
        One row per (dimension, subgroup, measure), every subgroup of :data:`DIMENSIONS` and
        every measure of :data:`MEASURES` (``value`` NaN and ``persons`` 0 where the run has
        no one in it): ``dimension``, ``subgroup``, ``measure``, ``value`` (float64) and
        ``persons`` (int64, the persons the value describes; see the module docstring). The
        persons of one dimension and measure add up to those of the whole population.

    Example:
        >>> res = simulation.run(seed=1)                                   # doctest: +SKIP
        >>> t = outcomes_by_subgroup(res)                                  # doctest: +SKIP
        >>> t.query("measure == 'retention_5y' and dimension == 'household_type'")
        ... # doctest: +SKIP
    """
    centrality = res.municipalities.set_index("code")["centrality"].astype(np.int64)
    cohorts = cohorts_with(res.start, res.end, RETENTION_YEARS, res.start, res.end)
    settled = settled_five_years(res)
    needy = households_with_needs(res)
    households: list[tuple[str, pd.DataFrame | None, Callable[..., float]]] = [
        ("employed_share", settled, employed_share), ("income", settled, mean_income),
        ("needs_met", needy, met_share)]
    columns = {"employed_share": ["persons", "employed"], "income": ["persons", "income"],
               "needs_met": ["persons", "needs_met"]}
    rows: list[tuple[str, str, str, float, int]] = []
    for dim, groups in DIMENSIONS.items():
        shares: dict[str, tuple[float, int]] = {}
        if cohorts:
            table = retention(res, "centrality" if dim == "settlement_centrality" else dim,
                              cohorts)
            at = table[table["years_since_settlement"] == RETENTION_YEARS]
            shares = {str(g): (float(s), int(a)) for g, s, a in zip(
                at["group"], at["share"], at["persons_alive"], strict=True)}
        rows.extend((dim, g, "retention_5y", *shares.get(g, (NAN, 0))) for g in groups)
        for measure, frame, outcome in households:
            parts = ({} if frame is None
                     else _by_subgroup(frame, columns[measure], dim, centrality))
            for g in groups:
                part = parts.get(g)
                rows.append((dim, g, measure, outcome(part) if part is not None else NAN,
                             int(part["persons"].sum()) if part is not None else 0))
    out = pd.DataFrame(rows, columns=COLUMNS)
    out["value"] = out["value"].astype(np.float64)
    out["persons"] = out["persons"].astype(np.int64)
    return out

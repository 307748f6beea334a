"""The measures that indicators, per-run tables and ensembles share, each written once.

* Retention R(k): of the persons settled in a cohort who still live in Norway on 1 January
  of year cohort + k, the share who live in their settlement municipality (SSB's
  definition), from the run's retention panel: by one dimension (:func:`retention`), or
  pooled over any set of cohorts (:class:`PooledRetention`).
* Shares living in groups of municipalities: the 10 largest by population and the
  centrality classes 1-2 and 5-6 (:func:`area_shares`).
* The Hoover index is the engine's (``engine.observe.hoover_index``), which the model's
  yearly series uses too.

Persons are whole numbers, so every sum here is exact and the order of summation never
changes a result.
"""

from __future__ import annotations

import math
from collections.abc import Iterable
from typing import TYPE_CHECKING

import numpy as np
import pandas as pd

from simulation.engine.indexing import unique_inverse

if TYPE_CHECKING:
    from simulation.engine.results import Results

RETENTION_DIMENSIONS = ("all", "cohort", "household_type", "centrality", "county",
                        "country_group")
NAN = float("nan")
_COUNTS = ["persons_alive", "persons_in_settlement"]


def _with_years_since(panel: pd.DataFrame) -> pd.DataFrame:
    return panel.assign(years_since_settlement=panel["year"] - panel["cohort"])


def retention_sums(panel: pd.DataFrame, keys: list[str]) -> pd.DataFrame:
    """Persons alive and persons in their settlement municipality, summed by ``keys`` (columns
    of the retention panel, or ``years_since_settlement``).

    The table ``panel.groupby(keys, observed=True)[counts].sum()`` gives (the same index,
    order and dtypes), counted with ``np.bincount`` over the keys' codes: a run's retention
    table groups its ~230,000 panel rows seven times, and pandas' groupby took most of the
    table's 0.13 s. The counts are whole persons, so the float sums are exact; counts that are
    not integers, or that add up to 2**53 or more, a missing key, or more key combinations
    than an int64 holds, go to groupby itself."""
    if "years_since_settlement" in keys and "years_since_settlement" not in panel:
        panel = _with_years_since(panel)

    def by_pandas() -> pd.DataFrame:
        return panel.groupby(keys, observed=True)[_COUNTS].sum()

    counts = [panel[col] for col in _COUNTS]
    if any(c.dtype.kind not in "iu" or (len(c) and int(c.abs().sum()) >= 2**53)
           for c in counts):
        return by_pandas()  # not whole numbers a float sum holds exactly
    codes, uniques = [], []
    for key in keys:
        c, u = pd.factorize(panel[key])  # by hashing; then ranked, as sort=True would
        if (c < 0).any():  # a missing key, which groupby leaves out: let it
            return by_pandas()
        order = np.argsort(u, kind="stable")
        rank = np.empty(len(order), dtype=np.int64)
        rank[order] = np.arange(len(order))
        codes.append(rank[c])
        uniques.append(u.take(order))
    size = math.prod(max(len(u), 1) for u in uniques)  # Python ints: no overflow
    if size >= 2**62:
        return by_pandas()
    flat = np.zeros(len(panel), dtype=np.int64)
    for c, u in zip(codes, uniques, strict=True):
        flat = flat * max(len(u), 1) + c
    cells, row = unique_inverse(flat)  # by counting over a short key range, else sorted
    sums = {col: np.bincount(row, weights=panel[col].to_numpy(np.float64),
                             minlength=len(cells)).astype(panel[col].dtype)  # as groupby keeps
            for col in _COUNTS}
    levels = []
    for u in reversed(uniques):
        width = max(len(u), 1)
        levels.append(u.take(cells % width) if len(cells) else u[:0])
        cells = cells // width
    levels.reverse()
    index = (pd.Index(levels[0], name=keys[0]) if len(keys) == 1
             else pd.MultiIndex.from_arrays(levels, names=keys).remove_unused_levels())
    return pd.DataFrame(sums, index=index)


def retention(res: Results, by: str = "all", cohorts: Iterable[int] | None = None
              ) -> pd.DataFrame:
    """Retention R(k) by one dimension, k = years since settlement.

    Args:
        res: a run's results (``simulation.run(...)``).
        by: ``all``, ``cohort``, ``household_type``, ``centrality``, ``county`` (both of the
            settlement municipality) or ``country_group``.
        cohorts: only these settlement cohorts (default: all of the run).

    Returns:
        One row per group and k: ``dimension``, ``group``, ``years_since_settlement``,
        ``persons_alive``, ``persons_in_settlement`` and ``share`` (= R(k)).

    Example:
        >>> res = simulation.run(seed=1)                           # doctest: +SKIP
        >>> simulation.retention(res, by="centrality")             # doctest: +SKIP
    """
    if by not in RETENTION_DIMENSIONS:
        raise ValueError(f"by must be one of {RETENTION_DIMENSIONS}, got {by!r}")
    panel = res.retention_panel
    # only the columns this dimension reads, before any rows are copied
    keep = {"all": [], "cohort": [], "centrality": ["settlement_municipality"],
            "county": ["settlement_municipality"]}.get(by, [by])
    panel = panel[["year", "cohort", *keep, *_COUNTS]]
    if cohorts is not None:
        panel = panel[panel["cohort"].isin(list(cohorts))]
    panel = _with_years_since(panel)
    if by in ("centrality", "county"):
        # sum by settlement municipality first and map its fact onto those sums: the same
        # whole numbers, without a string lookup for every row of the panel
        facts = res.municipalities.set_index("code")[by]
        panel = retention_sums(panel, ["settlement_municipality", "years_since_settlement"]
                               ).reset_index()
        panel[by] = panel["settlement_municipality"].map(facts).to_numpy()
    keys = ["years_since_settlement"] if by == "all" else [by, "years_since_settlement"]
    out = retention_sums(panel, keys).reset_index()
    out["share"] = out["persons_in_settlement"] / out["persons_alive"]
    out.insert(0, "dimension", by)
    if by == "all":
        out.insert(1, "group", "all")
    else:
        out = out.rename(columns={by: "group"})
        out["group"] = out["group"].astype(str)
    return out


def retention_table(res: Results) -> pd.DataFrame:
    """Retention by every dimension, long format, plus the pooled 2010-2016 cohorts' curve
    (dimension ``pooled_2010_2016``) that the register's R(5) and R(7) figures describe."""
    pooled = retention(res, "all", cohorts=range(2010, 2017)).assign(
        dimension="pooled_2010_2016", group="2010-2016")
    return pd.concat([*(retention(res, by) for by in RETENTION_DIMENSIONS), pooled],
                     ignore_index=True)


class PooledRetention:
    """R(k) pooled (persons-weighted) over any set of cohorts of one run: the (cohort, k)
    sums are made once, so the many cohort sets of the indicators cost a lookup each.

    >>> pooled = PooledRetention(res)                               # doctest: +SKIP
    >>> pooled(7, [2010, 2011, 2012])                               # doctest: +SKIP
    """

    def __init__(self, res: Results | None = None,
                 sums: dict[tuple[int, int], tuple[float, float]] | None = None) -> None:
        """From a run's retention panel, or from ready sums {(cohort, k): (alive, home)}
        (the calibration's fast path counts them from the engine's arrays)."""
        if sums is None:
            assert res is not None
            table = retention_sums(res.retention_panel, ["cohort", "years_since_settlement"])
            sums = {(int(c), int(k)): (float(a), float(h))
                    for (c, k), a, h in zip(table.index, table["persons_alive"],
                                            table["persons_in_settlement"], strict=True)}
        self._sums = sums

    @property
    def sums(self) -> dict[tuple[int, int], tuple[float, float]]:
        """(cohort, k) -> (persons alive, persons in the settlement municipality)."""
        return self._sums

    def __call__(self, k: int, cohorts: Iterable[int]) -> float:
        """R(k) of these cohorts together; NaN where none of them is observed at k."""
        alive = home = 0.0
        for c in cohorts:
            a, h = self._sums.get((c, k), (0.0, 0.0))
            alive += a
            home += h
        return home / alive if alive else NAN


def counting_emigrants(sums: dict[tuple[int, int], tuple[float, float]], cohort: np.ndarray,
                       exit_year: np.ndarray, emigrated: np.ndarray, persons: np.ndarray
                       ) -> dict[tuple[int, int], tuple[float, float]]:
    """The (cohort, k) -> (persons, home) sums of R(k) with emigrants counted as having left:
    each cohort's persons who emigrated before 1 January of year cohort + k join those alive.
    The other reading of a register figure that does not say whether emigrants are out of
    its denominator (the persons still in Norway, SSB's) or in it (everyone settled who is
    not dead). Arguments are household columns (``emigrated``: exit by emigration)."""
    sel = emigrated & (exit_year >= 0)
    pairs, inverse = np.unique(np.stack([cohort[sel].astype(np.int64),
                                         exit_year[sel].astype(np.int64)]), axis=1,
                               return_inverse=True)
    gone = np.bincount(inverse.ravel(), weights=persons[sel].astype(np.int64),
                       minlength=pairs.shape[1]).astype(np.int64)
    out = {}
    for (c, k), (alive, home) in sums.items():
        before = (pairs[0] == c) & (pairs[1] < c + k)
        out[(c, k)] = (alive + float(gone[before].sum()), home)
    return out


def out_shares_counting_emigrants(alive: np.ndarray, home: np.ndarray, emigrants: np.ndarray
                                  ) -> np.ndarray:
    """Per settlement municipality, 1 - home / (alive + emigrated): the share of those it
    settled who left, emigrants counted as having left (municipalities with nobody: out)."""
    everyone = alive + emigrants
    keep = everyone > 0
    return 1.0 - home[keep] / everyone[keep]


# --- where people live: shares in groups of municipalities -----------------------------------

def area_masks(municipalities: pd.DataFrame) -> dict[str, np.ndarray]:
    """Boolean masks over the municipalities (in table order): ``10_largest`` by population,
    ``centrality_1_2`` and ``centrality_5_6``."""
    pop = municipalities["population"].to_numpy(dtype=float)
    cent = municipalities["centrality"].to_numpy()
    largest = np.zeros(len(pop), dtype=bool)
    largest[np.argsort(-pop)[:10]] = True
    return {"10_largest": largest, "centrality_1_2": cent <= 2, "centrality_5_6": cent >= 5}


def area_shares(persons: np.ndarray, municipalities: pd.DataFrame) -> dict[str, np.ndarray]:
    """Share of ``persons`` (rows: years or runs; columns: municipalities in table order) that
    live in each area of :func:`area_masks`; NaN where a row has no one."""
    persons = np.atleast_2d(np.asarray(persons, dtype=float))
    total = persons.sum(axis=1)
    total[total == 0] = np.nan
    return {name: persons[:, mask].sum(axis=1) / total
            for name, mask in area_masks(municipalities).items()}

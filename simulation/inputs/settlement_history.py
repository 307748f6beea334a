"""Observed settlement per municipality (IMDi), and each municipality's settlement history.

The vendored file ``data/municipal/refugee_settlement_by_year.csv`` (see SOURCES.md section 5)
holds persons settled by agreement per municipality (2024 structure) in 2012-2015 and
2022-2024, and IMDi's requests and decisions in 2012-2017 and 2024.

Suppressed cells (2022-2024): IMDi hides cells under 5 persons (4 sex x age cells per group),
so the file's ``settled_total`` is a lower bound there and ``n_suppressed_cells_*`` counts the
hidden cells, each of 1-4 persons. We count **one person per suppressed cell**
(``SUPPRESSED_CELL_PERSONS``): the only whole number in 1-4 consistent with the government's
national figure for 2022-2023 ("nearly 65,000" settled in the two years, regjeringen.no,
January 2024; lower bounds 64,307, one per cell 64,687, two per cell 65,067) and with "over
33,000" in 2023 (33,603). 2012-2015 have no suppression and match IMDi's national totals
(5,757 / 6,511 / 7,719 / 11,268). 2024 is a partial year (IMDi data as of 13 November 2024).

In the source, 2022-2023 figures for Ålesund (1508) include Haram (1580, split off in 2024),
which shows 0: the placement keeps that, and the history treats Haram as unobserved in those
years (``UNOBSERVED``).
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import lru_cache
from importlib.resources import files
from pathlib import Path

import numpy as np
import pandas as pd

from simulation.inputs.geography import Geography

SETTLEMENT_FILE = files("simulation") / "data" / "municipal" / "refugee_settlement_by_year.csv"

#: persons counted for each cell IMDi suppressed (cells are 1-4 persons; see the module doc)
SUPPRESSED_CELL_PERSONS = 1
#: (year, code) where the source's figure belongs to another municipality (Haram in Ålesund)
UNOBSERVED = frozenset({(2022, "1580"), (2023, "1580")})
REQUIRED = ("year", "kommunenummer", "settled_total", "requested", "decided",
            "n_suppressed_cells_ukrainian", "n_suppressed_cells_other")


class SettlementDataError(ValueError):
    """The settlement file is missing, malformed or inconsistent (the message says where)."""


@dataclass(frozen=True)
class SettlementHistory:
    """Observed settlement by year, aligned with ``codes`` (sorted 4-digit codes).

    ``settled[year]``: persons settled by agreement, suppressed cells imputed (int64);
    ``lower_bound[year]``: the sum of unsuppressed cells; ``requested``/``decided[year]``:
    IMDi's request and the municipal decision (years with data only)."""

    codes: tuple[str, ...]
    settled: dict[int, np.ndarray]
    lower_bound: dict[int, np.ndarray]
    requested: dict[int, np.ndarray]
    decided: dict[int, np.ndarray]

    @property
    def years(self) -> tuple[int, ...]:
        """Years with persons settled per municipality."""
        return tuple(sorted(self.settled))

    def national(self, year: int) -> int:
        """Persons settled nationally in ``year`` (imputed)."""
        return int(self.settled[year].sum())

    def aligned(self, geography: Geography, year: int) -> np.ndarray | None:
        """Observed persons settled per municipality of ``geography`` in ``year``, or None if
        the year has no data or the geography's codes are not exactly the file's codes."""
        if year not in self.settled or sorted(map(str, geography.codes)) != list(self.codes):
            return None
        pos = {c: i for i, c in enumerate(self.codes)}
        return self.settled[year][[pos[str(c)] for c in geography.codes]].copy()


def _numbers(frame: pd.DataFrame, col: str, where: str) -> np.ndarray:
    raw = frame[col].fillna("").str.strip()
    bad = raw[(raw != "") & ~raw.str.fullmatch(r"\d+(\.0+)?")]
    if len(bad):
        line = int(bad.index[0]) + 2
        raise SettlementDataError(f"{where}, line {line}, column {col}: got {bad.iloc[0]!r}; "
                                  "allowed: a whole number >= 0 or empty")
    return pd.to_numeric(raw.replace("", np.nan)).to_numpy(dtype=np.float64)


def read_settlement(path: str | Path | None = None) -> SettlementHistory:
    """Read and check the settlement file (the vendored one by default)."""
    where = str(path or "simulation/data/municipal/refugee_settlement_by_year.csv")
    try:
        text = Path(path).read_text(encoding="utf-8") if path else SETTLEMENT_FILE.read_text(
            encoding="utf-8")
    except OSError as exc:
        raise SettlementDataError(f"{where}: cannot be read ({exc.strerror})") from None
    from io import StringIO
    frame = pd.read_csv(StringIO(text), dtype=str, keep_default_na=False)
    missing = [c for c in REQUIRED if c not in frame.columns]
    if missing:
        raise SettlementDataError(f"{where}: missing columns {missing}; required: "
                                  f"{list(REQUIRED)}")
    code = frame["kommunenummer"].str.strip()
    bad = code[~code.str.fullmatch(r"\d{4}")]
    if len(bad):
        raise SettlementDataError(f"{where}, line {int(bad.index[0]) + 2}, kommunenummer: got "
                                  f"{bad.iloc[0]!r}; allowed: a 4-digit code")
    year = _numbers(frame, "year", where)
    if np.isnan(year).any():
        raise SettlementDataError(f"{where}, line {int(np.argmax(np.isnan(year))) + 2}, year: "
                                  "empty; allowed: a year")
    cols = {c: _numbers(frame, c, where) for c in REQUIRED[2:]}
    codes = tuple(sorted(set(code)))
    out: dict[str, dict[int, np.ndarray]] = {"settled": {}, "lower_bound": {},
                                             "requested": {}, "decided": {}}
    for y in sorted(set(year.astype(int))):
        rows = np.flatnonzero(year == y)
        if sorted(code.iloc[rows]) != list(codes):
            raise SettlementDataError(f"{where}: year {y} does not list every municipality "
                                      f"exactly once ({len(rows)} rows, {len(codes)} codes)")
        order = rows[np.argsort(code.iloc[rows].to_numpy(), kind="stable")]
        settled = cols["settled_total"][order]
        if not np.isnan(settled).all():
            if np.isnan(settled).any():
                raise SettlementDataError(f"{where}: year {y}: settled_total empty for some "
                                          "municipalities; allowed: all or none")
            hidden = (np.nan_to_num(cols["n_suppressed_cells_ukrainian"][order])
                      + np.nan_to_num(cols["n_suppressed_cells_other"][order]))
            out["lower_bound"][y] = settled.astype(np.int64)
            out["settled"][y] = (settled + SUPPRESSED_CELL_PERSONS * hidden).astype(np.int64)
        for key in ("requested", "decided"):
            v = cols[key][order]
            if not np.isnan(v).all():
                out[key][y] = np.nan_to_num(v).astype(np.int64)
    return SettlementHistory(codes=codes, **out)


@lru_cache(maxsize=1)
def observed() -> SettlementHistory:
    """The vendored IMDi settlement figures, read once."""
    return read_settlement()


@dataclass(frozen=True)
class MunicipalHistory:
    """Each municipality's settlement history, aligned with a geography.

    ``years_settled_share``: share of the observed years in which it settled anyone;
    ``mean_share``: its mean share of the national persons settled (observed years weighted
    equally); ``per_1000``: mean persons settled per year per 1,000 inhabitants (2024
    population); ``known``: False where the geography's codes do not match the file (then the
    other arrays are 0 there)."""

    years: tuple[int, ...]
    years_settled_share: np.ndarray
    mean_share: np.ndarray
    per_1000: np.ndarray
    known: np.ndarray


def municipal_history(geography: Geography, exclude_years: tuple[int, ...] = (),
                      history: SettlementHistory | None = None) -> MunicipalHistory:
    """The settlement history of ``geography``'s municipalities from the observed years
    (minus ``exclude_years``, e.g. to validate the allocation model out of sample)."""
    hist = history or observed()
    pos = {c: i for i, c in enumerate(hist.codes)}
    idx = np.array([pos.get(str(c), -1) for c in geography.codes])
    known = idx >= 0
    years = tuple(y for y in hist.years if y not in exclude_years)
    n = geography.n
    settled_years = np.zeros(n)
    counted = np.zeros(n)
    share = np.zeros(n)
    for y in years:
        v = np.where(known, hist.settled[y][idx.clip(0)], 0).astype(np.float64)
        seen = known & ~np.isin(np.asarray(geography.codes, dtype=str),
                                [c for (yy, c) in UNOBSERVED if yy == y])
        counted += seen
        settled_years += seen & (v > 0)
        share += np.where(seen, v / hist.settled[y].sum(), 0.0)
    counted_safe = np.maximum(counted, 1)
    pop = geography.population.astype(np.float64)
    per_1000 = np.zeros(n)
    for y in years:
        v = np.where(known, hist.settled[y][idx.clip(0)], 0).astype(np.float64)
        per_1000 += 1000 * v / pop
    return MunicipalHistory(years=years, years_settled_share=settled_years / counted_safe,
                            mean_share=share / counted_safe,
                            per_1000=per_1000 / max(len(years), 1), known=known)

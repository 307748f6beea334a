"""Where refugees were settled: the settlement pattern of a run, or of IMDi's observed counts.

The same measures apply to both (``pattern_of`` takes plain arrays), so the allocation model
is judged against observation with the very function the run is summarised with:

* ``settling``: municipalities settling anyone in the year;
* ``share_under_5000``: share of persons settled in municipalities under 5,000 inhabitants
  (IMDi 2023: 16.5 %, 2022: 17.1 %, register_targets_more.yaml);
* ``per_1000_<class>``: persons settled per 1,000 inhabitants by size class and by
  centrality class (SSB's 1-6);
* ``share_centrality_<c>``: share of persons settled by centrality class (IMDi 2023 in the
  targets file).

A run's ``municipality_yearly.settled`` counts every person placed in the year: those settled
by agreement and the family members reunified with them (``family_reunification_share``),
who are placed in proportion to the persons by agreement. Shares and counts are therefore the
pattern of settlement by agreement; per-1,000 figures are for persons by agreement when
``by_agreement`` is set (divided by 1 + the share; exact in expectation).
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import numpy as np
import pandas as pd

if TYPE_CHECKING:
    from simulation.engine.results import Results

#: (label, lower bound inclusive, upper bound exclusive) of inhabitants
SIZE_CLASSES = (("under_5000", 0, 5_000), ("5000_19999", 5_000, 20_000),
                ("20000_49999", 20_000, 50_000), ("50000_plus", 50_000, np.inf))
CENTRALITY_CLASSES = (1, 2, 3, 4, 5, 6)


def size_class(population: np.ndarray) -> np.ndarray:
    """Index into SIZE_CLASSES of each population."""
    return np.digitize(np.asarray(population, dtype=np.float64),
                       [low for _, low, _ in SIZE_CLASSES[1:]])


def pattern_of(settled: np.ndarray, population: np.ndarray, centrality: np.ndarray
               ) -> dict[str, float]:
    """The settlement pattern of one year's persons settled per municipality."""
    settled = np.asarray(settled, dtype=np.float64)
    pop = np.asarray(population, dtype=np.float64)
    cen = np.asarray(centrality)
    total = settled.sum()
    out: dict[str, float] = {
        "persons": float(total),
        "settling": float((settled > 0).sum()),
        "share_under_5000": float(settled[pop < 5_000].sum() / total) if total else np.nan,
    }
    cls = size_class(pop)
    for k, (label, _, _) in enumerate(SIZE_CLASSES):
        mask = cls == k
        out[f"per_1000_size_{label}"] = (float(1000 * settled[mask].sum() / pop[mask].sum())
                                         if mask.any() else np.nan)
    for c in CENTRALITY_CLASSES:
        mask = cen == c
        out[f"per_1000_centrality_{c}"] = (float(1000 * settled[mask].sum() / pop[mask].sum())
                                           if mask.any() else np.nan)
    for c in CENTRALITY_CLASSES:
        mask = cen == c
        out[f"share_centrality_{c}"] = float(settled[mask].sum() / total) if total else np.nan
    return out


def settlement_pattern(res: Results, by_agreement: bool = False) -> pd.DataFrame:
    """The settlement pattern of every simulated year (one row per year)."""
    munis = res.municipalities.set_index("code")
    yearly = res.municipality_yearly
    rows = {}
    factor = 1.0 + float(res.params.get("family_reunification_share", 0.0)) if by_agreement \
        else 1.0
    for year, frame in yearly.groupby("year", sort=True):
        m = munis.loc[frame["municipality"].to_numpy()]
        row = pattern_of(frame["settled"].to_numpy(dtype=np.float64),
                         m["population"].to_numpy(), m["centrality"].to_numpy())
        for key in row:
            if key == "persons" or key.startswith("per_1000"):
                row[key] /= factor
        rows[int(year)] = row
    return pd.DataFrame.from_dict(rows, orient="index").rename_axis("year")


def settling_municipalities(res: Results) -> pd.Series:
    """Municipalities settling anyone, per year (``settlement_pattern``'s ``settling``,
    counted without the rest of the pattern)."""
    yearly = res.municipality_yearly
    years, row = np.unique(yearly["year"].to_numpy(np.int64), return_inverse=True)
    settling = np.bincount(row, weights=yearly["settled"].to_numpy(np.float64) > 0,
                           minlength=len(years)).astype(np.int64)
    return pd.Series(settling, index=pd.Index(years, name="year"), name="settling")


def share_under_5000(res: Results) -> pd.Series:
    """Share of persons settled in municipalities under 5,000 inhabitants, per year."""
    return settlement_pattern(res)["share_under_5000"]

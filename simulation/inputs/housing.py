"""Housing prices per municipality, with the missing ones filled from size, centrality and region.

Why: where secondary movers go is not only where jobs and networks are but where they can
afford to live near them (the Østfold towns gain as many movers per person settled as the big
cities; see ``simulation/data/municipal/HOUSING.md`` for the evidence and its limits). SSB
table 06035 gives the mean price per m2 of detached houses sold 2020-2024 for 292
municipalities; for the 65 small ones with too few sales SSB suppresses it.

Filling (ASSUMPTION): a least-squares fit of log price on log population, centrality class and
region (SSB's landsdeler) over the municipalities with a price; its prediction fills the rest
(and any user row whose code is not in the data). The suppressed places are small and
peripheral, where this fit predicts low prices, as the observed small places have. The fit's
residual standard deviation is reported by :func:`fill` so the documentation can say how good
the fill is.
"""

from __future__ import annotations

import numpy as np

__all__ = ["fill"]


def _design(population: np.ndarray, centrality: np.ndarray, region: np.ndarray,
            regions: list[str]) -> np.ndarray:
    cols = [np.ones(len(population)), np.log(population.astype(np.float64))]
    cols += [(centrality == c).astype(np.float64) for c in range(2, 7)]
    cols += [(region == r).astype(np.float64) for r in regions[1:]]
    return np.column_stack(cols)


def fill(price: np.ndarray, population: np.ndarray, centrality: np.ndarray,
         region: np.ndarray) -> tuple[np.ndarray, np.ndarray, float]:
    """The prices with NaNs filled by the fit; which were filled; the fit's residual sd (log).

    The fit uses the rows that have a price (at least 20 are needed; otherwise the median of
    the known prices fills, or 20,000 NOK/m2 when none is known).
    """
    price = np.asarray(price, dtype=np.float64)
    missing = ~np.isfinite(price)
    if not missing.any():
        return price.copy(), missing, float("nan")
    known = ~missing
    if known.sum() < 20:
        value = float(np.median(price[known])) if known.any() else 20_000.0
        return np.where(missing, value, price), missing, float("nan")
    region = np.asarray(region, dtype=object)
    regions = sorted(set(region[known].tolist()))
    x = _design(population, centrality, region, regions)
    coef, *_ = np.linalg.lstsq(x[known], np.log(price[known]), rcond=None)
    residual = np.log(price[known]) - x[known] @ coef
    filled = np.where(missing, np.exp(x @ coef), price)
    return filled, missing, float(residual.std(ddof=x.shape[1]))

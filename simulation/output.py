"""Writing a run's tables and figures: tidy CSVs that pandas reads directly, written into a
temporary directory that replaces the target only when complete (see atomic.py)."""

from __future__ import annotations

from pathlib import Path

import pandas as pd

from .atomic import atomic_directory
from .figures import retention_figure
from .results import Results, retention_table
from .targets import compare


def indicator_table(res: Results) -> pd.DataFrame:
    """Indicators in long form (id, key, simulated) with register figures where they exist."""
    ind = res.indicators()
    rows = [{"id": c.id, "key": c.key, "simulated": c.simulated, "register": c.register,
             "tolerance": c.tolerance, "compared_as": c.compared_as, "within_tolerance": c.within}
            for c in compare(ind)]
    compared = {r["id"] for r in rows}
    for key, value in ind.items():
        if key in compared:
            continue
        items = value.items() if isinstance(value, dict) else [("", value)]
        rows += [{"id": key, "key": str(k), "simulated": float(v), "register": None,
                  "tolerance": None, "compared_as": None, "within_tolerance": None}
                 for k, v in items]
    return pd.DataFrame(rows)


def write_run(res: Results, out: Path) -> Path:
    """Write all tables and figures of one run to ``out`` atomically; returns ``out``."""
    with atomic_directory(Path(out)) as tmp:
        (tmp / "figures").mkdir()
        indicator_table(res).to_csv(tmp / "indicators.csv", index=False)
        retention_table(res).to_csv(tmp / "retention.csv", index=False)
        res.municipality_indicators().to_csv(tmp / "municipalities.csv", index=False)
        res.yearly.to_csv(tmp / "yearly.csv", index=False)
        res.municipality_yearly.to_csv(tmp / "municipality_yearly.csv", index=False)
        res.cohorts.to_csv(tmp / "cohorts.csv", index=False)
        res.moves.to_csv(tmp / "moves.csv", index=False)
        res.stocks.to_csv(tmp / "stocks.csv", index=False)
        retention_figure(res, tmp / "figures" / "retention.png")
    return Path(out)

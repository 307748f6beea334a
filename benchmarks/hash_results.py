"""Fingerprint of every Results table, of the retention table (analysis.measures) and of
flatten(indicators(res)) for a fixed set of runs: the check that a speed change left results
bit-identical (compare two outputs).

    python benchmarks/hash_results.py > before.txt   # ... change ... then diff
"""

from __future__ import annotations

import hashlib
import sys

import numpy as np
import pandas as pd

import simulation
from simulation import default_inputs
from simulation.analysis.measures import retention_table
from simulation.runs.ensemble import flatten

TABLES = ("municipalities", "households", "moves", "retention_panel", "cohorts", "stocks",
          "residence", "yearly", "municipality_yearly", "employment")


def fingerprint(res: simulation.Results) -> dict[str, str]:
    """One hash per table (values and index) and one for the flattened indicators."""
    out = {}
    for name in TABLES:
        table: pd.DataFrame = getattr(res, name)
        h = hashlib.sha1(pd.util.hash_pandas_object(table, index=True).to_numpy().tobytes())
        h.update(repr(list(zip(table.columns, map(str, table.dtypes), strict=True))).encode())
        out[name] = h.hexdigest()[:12]
    table = retention_table(res)
    h = hashlib.sha1(pd.util.hash_pandas_object(table, index=True).to_numpy().tobytes())
    out["retention_table"] = h.hexdigest()[:12]
    flat = flatten(simulation.indicators(res))
    out["indicators"] = hashlib.sha1(repr(sorted(
        (k, np.float64(v).tobytes().hex()) for k, v in flat.items())).encode()).hexdigest()[:12]
    return out


def main() -> None:
    cal = simulation.calibrated()
    cases = [("calibrated", cal, None), ("no_rule", simulation.Params({**dict(cal),
                                                                        "rights_years": 0}), None),
             ("scaled_2010_2013", cal, default_inputs(2010, 2013).scaled(0.3))]
    for label, params, inputs in cases:
        for seed in (0, 1, 2):
            res = simulation.run(params, seed=seed, inputs=inputs)
            fp = fingerprint(res)
            print(label, seed, " ".join(f"{k}={v}" for k, v in fp.items()))
            sys.stdout.flush()


if __name__ == "__main__":
    main()

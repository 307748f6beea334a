"""How much more workers and a Dask cluster shorten the calibration (not a timed test: run by
hand, figures go in the README and docs/calibration.md).

    python benchmarks/bench_calibration.py               # 192 points, four ways (~4 min)
    python benchmarks/bench_calibration.py --points 64   # quicker

Only the simulations of a calibration are spread over workers; its emulators and sampler run
in the calling process. This measures the part that is spread: the calibration's own
``Evaluator`` simulates the same Sobol points of ``calibration/targets.yaml``'s prior box
(full population, the file's replicates and seeds, the target moments only) with 1 and 2
local worker processes and on a Dask LocalCluster with 1 and 2 workers (cluster start
timed apart). It checks that the four give bit-identical moments, and projects the whole
calibration on W workers as (points x seconds per point) / (W x efficiency) + the part that
is not spread (--rest-min: the README's figure for a run from scratch), for the committed
fit's number of simulations (its waves, noise replicates and check runs). Writes a markdown
table to stdout and the figures to benchmarks/results/calibration.json.
"""

from __future__ import annotations

import argparse
import hashlib
import json
import platform
import tempfile
import time
from pathlib import Path

import numpy as np
from scipy.stats import qmc

from simulation.calibration.evaluations import Evaluator
from simulation.calibration.spec import load_spec

REPO = Path(__file__).resolve().parent.parent
WAYS = (("processes", None, 1), ("processes", None, 2), ("dask", "local", 1),
        ("dask", "local", 2))
WARM = max(w for _, _, w in WAYS)  # points that start the workers, not timed


def measure(points: int, seed: int) -> dict:
    spec = load_spec(REPO / "calibration" / "targets.yaml")
    unit = qmc.Sobol(len(spec.names), scramble=True, seed=seed).random_base2(
        int(np.ceil(np.log2(points))))[:points]
    x = spec.low + unit * (spec.high - spec.low)
    thetas = [dict(zip(spec.names, map(float, row), strict=True)) for row in x]
    rows, digests = [], set()
    with tempfile.TemporaryDirectory() as tmp:
        # warm this process (numba's cache, inputs) so that no way pays it alone
        warm = Evaluator(spec, Path(tmp) / "warm.jsonl", 1)
        warm.evaluate(thetas[:1])
        warm.close()
        for kind, scheduler, workers in WAYS:
            t0 = time.perf_counter()
            ev = Evaluator(spec, Path(tmp) / f"{kind}-{workers}.jsonl", workers,
                           scheduler=scheduler)
            # one point per worker: every worker starts and loads the engine before the timing
            # (the local pool runs a single task in this process, so one point would not)
            ev.evaluate(thetas[1:1 + WARM])
            started = time.perf_counter() - t0
            t1 = time.perf_counter()
            values = ev.evaluate(thetas[1 + WARM:])
            simulating = time.perf_counter() - t1
            ev.close()
            digest = hashlib.sha256(np.concatenate(values).tobytes()).hexdigest()
            digests.add(digest)
            rows.append({"way": kind, "workers": workers, "start_s": round(started, 2),
                         "simulating_s": round(simulating, 2),
                         "s_per_point": simulating / (points - 1 - WARM),
                         "moments": digest[:12]})
    base = rows[0]["s_per_point"]
    for r in rows:
        r["speedup_vs_1_process"] = round(base / r["s_per_point"], 3)
        r["efficiency"] = round(base / r["s_per_point"] / r["workers"], 3)
    return {"points": points - 1 - WARM, "replicates": spec.replicates, "scale": spec.scale,
            "identical": len(digests) == 1, "ways": rows,
            "machine": f"{platform.machine()}, {platform.python_version()}"}


def fit_points() -> int:
    """Simulations of the committed fit: its waves' points (fit_waves.csv), the replicates
    that estimate the noise, and the fit check's runs (10 at the mean, 20 at draws)."""
    import pandas as pd

    spec = load_spec(REPO / "calibration" / "targets.yaml")
    waves = pd.read_csv(REPO / "calibration" / "fit" / spec.name / "fit_waves.csv")
    return int(waves["new_points"].sum()) * spec.replicates + spec.posterior.noise_replicates + 30


def projection(result: dict, points: int, rest_min: float) -> list[dict]:
    """The whole calibration on W Dask workers: ``points`` simulations at the measured
    seconds per point of one Dask worker, divided by W with the efficiency measured for 2
    workers against 1 (an assumption beyond 2: this machine has 2 cores), plus the emulators
    and sampler (``rest_min``, not spread); against the same on 2 local processes."""
    by = {(r["way"], r["workers"]): r for r in result["ways"]}
    one = by[("dask", 1)]["s_per_point"]
    efficiency = one / by[("dask", 2)]["s_per_point"] / 2
    here = points * by[("processes", 2)]["s_per_point"] / 60 + rest_min
    out = []
    for w in (1, 2, 4, 8, 16, 32, 64):
        per_point = one if w == 1 else one / (w * efficiency)
        total = points * per_point / 60 + rest_min
        out.append({"workers": w, "minutes": round(total, 1),
                    "speedup_vs_2_processes": round(here / total, 2)})
    return out


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--points", type=int, default=192)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--rest-min", type=float, default=1.4,
                        help="its emulators and sampler (minutes; not spread over workers)")
    args = parser.parse_args()
    result = measure(args.points + 1 + WARM, args.seed)  # + the points that warm up
    points = fit_points()
    result["fit_points"] = points
    result["projection"] = projection(result, points, args.rest_min)
    print(f"{result['points']} points of calibration/targets.yaml's prior box, "
          f"{result['replicates']} replicate(s) each, scale {result['scale']}; moments "
          f"identical in all four ways: {result['identical']}\n")
    print("| way | workers | start (s) | simulating (s) | s per point | speed-up | "
          "efficiency |\n|---|---|---|---|---|---|---|")
    for r in result["ways"]:
        print(f"| {r['way']} | {r['workers']} | {r['start_s']:.1f} | {r['simulating_s']:.1f} | "
              f"{r['s_per_point']:.3f} | {r['speedup_vs_1_process']:.2f}x | "
              f"{r['efficiency']:.0%} |")
    print(f"\nWhole calibration on W Dask workers (projected: the committed fit's {points} "
          "simulations at one Dask worker's seconds per point, divided by W at the 2-worker "
          f"efficiency; the emulators and sampler, {args.rest_min} min, are not divided):\n")
    print("| workers | minutes | speed-up against 2 local processes |\n|---|---|---|")
    for p in result["projection"]:
        print(f"| {p['workers']} | {p['minutes']} | {p['speedup_vs_2_processes']:.1f}x |")
    out = REPO / "benchmarks" / "results" / "calibration.json"
    out.write_text(json.dumps(result, indent=2) + "\n", encoding="utf-8")


if __name__ == "__main__":
    main()

"""Speed and memory of the engine (not a timed test: run by hand, figures go in the README).

    python benchmarks/bench_engine.py            # all measurements, markdown table to stdout
    python benchmarks/bench_engine.py --quick    # skip the 10x population and the reference

Each measurement runs in a fresh subprocess so that peak RSS is that run's own.
Measures, with the calibrated parameters: the full 2010-2023 baseline (one replicate):
simulation wall time, peak RSS, nanoseconds per household-year; the reference model (one
mesa Agent per household) on a ~20,000-household population with the same rules, against
the engine on the same population; and the population scaled 10x (time ratio).
"""

from __future__ import annotations

import argparse
import json
import platform
import subprocess
import sys
import time

CHILD = r"""
import json, resource, sys, time
import simulation
from simulation import default_inputs
kind, scale, seed, repeats = sys.argv[1], float(sys.argv[2]), int(sys.argv[3]), int(sys.argv[4])
inputs = default_inputs()
params = simulation.calibrated()  # the baseline as analysts run it
if scale != 1.0:
    inputs = inputs.scaled(scale)
if kind == "engine":
    simulation.run(seed=seed, inputs=default_inputs(2010, 2011).scaled(0.05))  # warm imports
    best = None
    for r in range(repeats):
        res = simulation.run(params, seed=seed + r, inputs=inputs)
        t = res.timings["simulate_s"]
        best = t if best is None or t < best else best
else:
    from simulation.engine.reference import run_reference
    t0 = time.perf_counter()
    res = run_reference(params, seed=seed, inputs=inputs)
    best = time.perf_counter() - t0
hh_years = int(res.yearly["households_alive"].sum())
print(json.dumps({
    "kind": kind, "scale": scale, "seconds": best, "household_years": hh_years,
    "households": int(len(res.households)), "persons": int(res.households["persons"].sum()),
    "ns_per_household_year": best / hh_years * 1e9,
    "peak_rss_mb": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024,
}))
"""


def measure(kind: str, scale: float, seed: int = 0, repeats: int = 3) -> dict:
    out = subprocess.run([sys.executable, "-c", CHILD, kind, str(scale), str(seed),
                          str(repeats)], capture_output=True, text=True, check=True)
    return json.loads(out.stdout.strip().splitlines()[-1])


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true")
    parser.add_argument("--reference-scale", type=float, default=0.22,
                        help="population scale for the reference comparison (~20,000 households)")
    args = parser.parse_args()
    t0 = time.perf_counter()
    rows = {"full": measure("engine", 1.0)}
    if not args.quick:
        rows["engine_small"] = measure("engine", args.reference_scale)
        rows["reference_small"] = measure("reference", args.reference_scale, repeats=1)
        rows["x10"] = measure("engine", 10.0, repeats=1)
    full = rows["full"]
    print(f"Machine: {platform.machine()}, {platform.processor() or 'cpu'}, "
          f"Python {platform.python_version()}, {__import__('os').cpu_count()} cores")
    print()
    print("| measurement | value | target |")
    print("|---|---|---|")
    print(f"| full baseline 2010-2023, 1 replicate ({full['persons']:,} persons, "
          f"{full['households']:,} households): simulation time | {full['seconds']:.2f} s "
          "| < 1 s |")
    print(f"| full baseline: peak RSS (whole process) | {full['peak_rss_mb']:.0f} MB | < 300 MB |")
    print(f"| full baseline: time per household-year | {full['ns_per_household_year']:,.0f} ns "
          "| |")
    if "reference_small" in rows:
        e, r = rows["engine_small"], rows["reference_small"]
        ratio = r["ns_per_household_year"] / e["ns_per_household_year"]
        print(f"| reference model, {r['households']:,} households: time per household-year "
              f"| {r['ns_per_household_year']:,.0f} ns ({r['seconds']:.1f} s) | |")
        print(f"| engine, same population: time per household-year "
              f"| {e['ns_per_household_year']:,.0f} ns ({e['seconds']:.3f} s) | |")
        print(f"| reference / engine per household-year | {ratio:,.0f}x | >= 30x |")
        x = rows["x10"]
        print(f"| population x10 ({x['persons']:,} persons): time ratio to full "
              f"| {x['seconds'] / full['seconds']:.1f}x ({x['seconds']:.1f} s, "
              f"{x['peak_rss_mb']:.0f} MB) | <= 12x |")
    print(f"\n(benchmark took {time.perf_counter() - t0:.0f} s)", file=sys.stderr)


if __name__ == "__main__":
    main()

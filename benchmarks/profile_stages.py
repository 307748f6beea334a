"""Where a run's time goes, stage by stage (not a timed test: run by hand; the shares go in
the README's Performance section).

    python benchmarks/profile_stages.py            # the full 2010-2023 baseline, best of 8
    python benchmarks/profile_stages.py --runs 3

Each stage of engine/stages.STAGES and the yearly observation are timed with a wrapper around
the model's own stage list (the same calls, one perf_counter pair each); "other" is the rest
of the simulation (mesa's DataCollectors, the year loop). The minimum over runs of each stage
is reported, beside the best run's total.
"""

from __future__ import annotations

import argparse
import time
from collections import Counter
from collections.abc import Callable
from typing import Any

import simulation
from simulation import default_inputs
from simulation.engine import loop
from simulation.engine.model import SecondaryMigrationModel


def timed(name: str, fn: Callable[..., Any], spent: Counter[str]) -> Callable[..., Any]:
    def call(*args: Any) -> Any:
        t0 = time.perf_counter()
        out = fn(*args)
        spent[name] += time.perf_counter() - t0
        return out
    return call


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--runs", type=int, default=8)
    args = parser.parse_args()
    params, inputs = simulation.calibrated(), default_inputs()
    simulation.run(params, seed=0, inputs=default_inputs(2010, 2011).scaled(0.05))  # warm
    spent: Counter[str] = Counter()
    SecondaryMigrationModel.stages = tuple((n, timed(n, f, spent))
                                           for n, f in SecondaryMigrationModel.stages)
    loop.Observer.observe = timed("observation", loop.Observer.observe, spent)
    best: dict[str, float] = {}
    totals = []
    for r in range(args.runs):
        spent.clear()
        res = simulation.run(params, seed=r, inputs=inputs)
        totals.append(res.timings["simulate_s"])
        for name, s in spent.items():
            best[name] = min(best.get(name, s), s)
    total = min(totals)
    households = int(res.yearly["households_alive"].sum())
    print(f"full baseline 2010-2023, best of {args.runs}: {total * 1e3:.0f} ms, "
          f"{total / households * 1e9:.0f} ns per household-year")
    print("| stage | ms (best of runs) | share of the best run |")
    print("|---|---|---|")
    for name, s in sorted(best.items(), key=lambda kv: -kv[1]):
        print(f"| {name} | {s * 1e3:.1f} | {s / total:.0%} |")
    print(f"| other (loop, data collectors) | {(total - sum(best.values())) * 1e3:.1f} | "
          f"{(total - sum(best.values())) / total:.0%} |")


if __name__ == "__main__":
    main()

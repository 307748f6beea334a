"""Speed of placement by matching (not a timed test: run by hand, figures go in the README).

    python benchmarks/bench_matching.py          # markdown table to stdout

Measures, with the calibrated parameters, on a quiet machine:
- matching one peak year: the 2023 cohort (33,603 persons by agreement, IMDi) placed into
  the world as a 2010-2022 run leaves it, matching on retention: the prediction, the
  assignment and the households drawn into their slots (median of 5);
- one replicate of the 2010-2023 baseline against matching-retention (simulation only,
  median of 3, seeds alike);
- `secmig run` of scenarios/baseline.yaml against scenarios/matching-retention.yaml, as a
  user runs them (10 replicates, the default worker processes; wall time, median of 2). The
  issue's standard: a matching run no more than 2x the baseline run.
"""

from __future__ import annotations

import statistics
import subprocess
import sys
import tempfile
import time
from dataclasses import replace
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]


def peak_year() -> float:
    from simulation.engine.matching import match_cohort
    from simulation.engine.model import SecondaryMigrationModel
    from simulation.engine.randomness import Streams
    from simulation.engine.runparams import RunParams
    from simulation.engine.stages.settlement import place
    from simulation.inputs.scenario import load_scenario

    sc = load_scenario(ROOT / "scenarios" / "matching-retention.yaml")
    base_inputs = replace(sc.inputs, allocation=replace(sc.inputs.allocation, matching=None))
    model = SecondaryMigrationModel(sc.params, replace(base_inputs, end=2022), seed=1)
    model.run_model()
    world = model.world
    base = place(world.geography, RunParams(sc.params, base_inputs), 2023,
                 Streams(1).draws("settlement", 2023))
    params = RunParams(sc.params, sc.inputs)
    times = []
    for _ in range(5):
        cohort = replace(base.cohort)
        cohort.settlement = base.cohort.settlement.copy()
        cohort.municipality = base.cohort.municipality.copy()
        t = time.perf_counter()
        _, log = match_cohort(world, params, 2023, cohort, base.by_agreement,
                              Streams(2).draws("settlement", 2023).uniform("matching_slots",
                                                                          len(cohort)))
        times.append(time.perf_counter() - t)
    print(f"peak year 2023: {log.persons:,} persons in {log.households:,} households; "
          f"moved {log.moved_households:,}", file=sys.stderr)
    return statistics.median(times)


def one_replicate() -> tuple[float, float]:
    import simulation
    from simulation.inputs.scenario import load_scenario

    out = []
    for name in ("baseline", "matching-retention"):
        sc = load_scenario(ROOT / "scenarios" / f"{name}.yaml")
        simulation.run(sc.params, 0, replace(sc.inputs, end=sc.inputs.start + 1))  # warm
        out.append(statistics.median(
            simulation.run(sc.params, seed, sc.inputs).timings["simulate_s"]
            for seed in (1, 2, 3)))
    return out[0], out[1]


def cli_run(name: str) -> float:
    times = []
    for _ in range(2):
        with tempfile.TemporaryDirectory() as tmp:
            t = time.perf_counter()
            subprocess.run(["secmig", "run", str(ROOT / "scenarios" / f"{name}.yaml"), "--out",
                            str(Path(tmp) / "out"), "--quiet"], check=True,
                           capture_output=True)
            times.append(time.perf_counter() - t)
    return statistics.median(times)


def main() -> None:
    peak = peak_year()
    base_rep, match_rep = one_replicate()
    base_cli, match_cli = cli_run("baseline"), cli_run("matching-retention")
    print("| measure | baseline | matching on retention | ratio |")
    print("|---|---|---|---|")
    print(f"| matching the 2023 cohort (33,603 persons) | | {peak:.2f} s | |")
    print(f"| one replicate 2010-2023, simulation | {base_rep:.2f} s | {match_rep:.2f} s | "
          f"{match_rep / base_rep:.1f}x |")
    print(f"| `secmig run` (10 replicates) | {base_cli:.1f} s | {match_cli:.1f} s | "
          f"{match_cli / base_cli:.2f}x |")


if __name__ == "__main__":
    main()

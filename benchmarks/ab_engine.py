"""The engine's time against another revision's, measured alternately in the same minutes
(the machine's speed drifts by 5-10 % over an hour, more than most single changes gain).

    python benchmarks/ab_engine.py HEAD~3            # 4 rounds of 6 runs each side
    python benchmarks/ab_engine.py main --rounds 6

The other revision is checked out into a temporary git worktree and imported from there
(PYTHONPATH before the installed package); each side runs in a fresh process per round, full
2010-2023 baseline with the calibrated parameters, and reports its best and median simulation
time. Pair it with benchmarks/hash_results.py, which says whether results changed.
"""

from __future__ import annotations

import argparse
import os
import statistics
import subprocess
import sys
import tempfile
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent

CHILD = r"""
import gc, json, sys
import simulation
from simulation import default_inputs
params, inputs = simulation.calibrated(), default_inputs()
simulation.run(params, seed=0, inputs=default_inputs(2010, 2011).scaled(0.05))  # warm
times = []
for r in range(int(sys.argv[1])):
    gc.collect()
    times.append(simulation.run(params, seed=r, inputs=inputs).timings["simulate_s"])
print(json.dumps(times))
"""


def side(pythonpath: Path, runs: int) -> list[float]:
    env = {**os.environ, "PYTHONPATH": str(pythonpath)}
    out = subprocess.run([sys.executable, "-c", CHILD, str(runs)], capture_output=True,
                         text=True, env=env, cwd=tempfile.gettempdir(), check=True)
    return [float(t) for t in __import__("json").loads(out.stdout.strip().splitlines()[-1])]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("revision", help="the other revision (a commit, branch or tag)")
    parser.add_argument("--rounds", type=int, default=4)
    parser.add_argument("--runs", type=int, default=6, help="runs per side and round")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        other = Path(tmp) / "other"
        subprocess.run(["git", "-C", str(REPO), "worktree", "add", "--detach", str(other),
                        args.revision], check=True, capture_output=True)
        try:
            times: dict[str, list[float]] = {args.revision: [], "this tree": []}
            for _ in range(args.rounds):
                times[args.revision] += side(other, args.runs)
                times["this tree"] += side(REPO, args.runs)
        finally:
            subprocess.run(["git", "-C", str(REPO), "worktree", "remove", "--force",
                            str(other)], check=True, capture_output=True)
    for name, t in times.items():
        print(f"{name}: best {min(t) * 1e3:.1f} ms, median {statistics.median(t) * 1e3:.1f} ms "
              f"({len(t)} runs)")
    ratio = min(times["this tree"]) / min(times[args.revision])
    print(f"this tree / {args.revision} (best): {ratio:.3f}")


if __name__ == "__main__":
    main()

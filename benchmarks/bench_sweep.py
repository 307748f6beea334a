"""Speed of sensitivity sweeps (not a timed test: run by hand, figures go in docs/sweeps.md).

    python benchmarks/bench_sweep.py            # the example Morris sweep, three ways, and
                                                # the posterior example (~7 min)
    python benchmarks/bench_sweep.py --quick    # r = 4 instead of 20 (about 1 minute)
    python benchmarks/bench_sweep.py --posterior-only   # only the posterior example (~2 min)
    python benchmarks/bench_sweep.py --no-rule-only     # only the no-rule effect example (~4 min)
    python benchmarks/bench_sweep.py --effects-only     # every policy effect over the posterior
                                                        # (sweeps/posterior-*.yaml with compare,
                                                        # ~4 min each)

Measures, on sweeps/morris-example.yaml (10 parameters, r = 20: 220 points x 2 replicates =
440 full 2010-2023 baseline runs):
1. `secmig sweep` as a user runs it (2 local worker processes, analysis and report included);
2. the same runs on a Dask LocalCluster with 1 worker, then with 2 workers (cluster start
   included), and the speed-up;
and checks that the three give identical rows. Writes a markdown table to stdout, the
figures to benchmarks/results/sweep.json and a bar chart to docs/sweeps/benchmark.png.
Then runs sweeps/posterior-example.yaml (200 whole posterior draws x 2 replicates) with 2
local processes and keeps its tables, runs and index figure in docs/sweeps/posterior/ (its
time in benchmarks/results/sweep_posterior.json), and sweeps/posterior-no-rule.yaml (the same
draws, each run as the baseline and as no-rule) into docs/sweeps/posterior-no-rule/ (time in
benchmarks/results/sweep_posterior_no_rule.json). ``--effects-only`` runs every such
compared sweep (sweeps/posterior-<policy>.yaml: the policy against the baseline at every
draw) into docs/sweeps/posterior-<policy>/, its time in
benchmarks/results/sweep_posterior_<policy>.json (docs/policy.md reads them).
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
EXAMPLE = REPO / "sweeps" / "morris-example.yaml"
POSTERIOR = REPO / "sweeps" / "posterior-example.yaml"
NO_RULE = REPO / "sweeps" / "posterior-no-rule.yaml"


def effect_sweeps() -> list[Path]:
    """The committed sweeps that compare a policy with the baseline over the posterior."""
    from simulation.sweeps.spec import load_sweep

    return [p for p in sorted((REPO / "sweeps").glob("posterior-*.yaml"))
            if load_sweep(p).variant is not None]


def _sweep_file(tmp: Path, samples: int | None, source: Path = EXAMPLE) -> Path:
    """A copy of an example sweep file in ``tmp`` whose base scenario path is absolute."""
    text = source.read_text(encoding="utf-8").replace("../scenarios/",
                                                      f"{REPO / 'scenarios'}/")
    if samples:
        text = text.replace("samples: 20 ", f"samples: {samples} ")
    path = tmp / source.name
    path.write_text(text, encoding="utf-8")
    return path


def _dask(path: Path, out: Path, workers: int) -> float:
    code = ("import sys, time; from pathlib import Path\n"
            "from simulation.sweeps.spec import load_sweep\n"
            "from simulation.sweeps.runner import run_sweep\n"
            "if __name__ == '__main__':\n"
            "    s = load_sweep(sys.argv[1]); t = time.perf_counter()\n"
            "    run_sweep(s, Path(sys.argv[2]), int(sys.argv[3]), scheduler='local')\n"
            "    print(time.perf_counter() - t)\n")
    script = out.parent / "dask_child.py"
    script.write_text(code, encoding="utf-8")
    res = subprocess.run([sys.executable, str(script), str(path), str(out), str(workers)],
                         capture_output=True, text=True, check=True)
    return float(res.stdout.strip().splitlines()[-1])


def _rows(out: Path):
    from simulation.sweeps.runner import done_runs

    return done_runs(out).drop(columns="duration_s")


def posterior_example(secmig: str, source: Path = POSTERIOR, keep_as: str = "posterior",
                      timing: str = "sweep_posterior.json") -> None:
    """Run a posterior example as a user would and keep what docs/sweeps.md quotes (in
    docs/sweeps/``keep_as``/, its time in benchmarks/results/``timing``)."""
    with tempfile.TemporaryDirectory() as d:
        tmp = Path(d)
        path = _sweep_file(tmp, None, source)
        t = time.perf_counter()
        subprocess.run([secmig, "sweep", str(path), "--jobs", "2", "--out", str(tmp / "out"),
                        "--quiet"], check=True, capture_output=True)
        seconds = time.perf_counter() - t
        keep = REPO / "docs" / "sweeps" / keep_as
        keep.mkdir(parents=True, exist_ok=True)
        for old in keep.glob("*.png"):
            old.unlink()
        for name in ("indices.csv", "discovery.csv", "runs.csv", "spread.csv"):
            shutil.copy(tmp / "out" / name, keep / name)
        shutil.copy(tmp / "out" / "figures" / "indices.png", keep / "indices.png")
        for png in (tmp / "out" / "figures").glob("prim_*.png"):
            shutil.copy(png, keep / png.name)
        runs = len(_rows(tmp / "out"))
    out = REPO / "benchmarks" / "results"
    out.mkdir(exist_ok=True)
    (out / timing).write_text(json.dumps(
        {"runs": runs, "cli_2_processes_s": seconds}, indent=2), encoding="utf-8")
    print(f"| {source.stem} ({runs} runs), 2 local processes | {seconds / 60:.1f} min | |")


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--quick", action="store_true", help="r = 4 trajectories instead of 20")
    ap.add_argument("--posterior-only", action="store_true",
                    help="run only the posterior example")
    ap.add_argument("--no-rule-only", action="store_true",
                    help="run only the no-rule effect over the posterior")
    ap.add_argument("--effects-only", action="store_true",
                    help="run only the policy effects over the posterior (every compared "
                         "sweep)")
    args = ap.parse_args()
    secmig = shutil.which("secmig") or str(Path(sys.executable).parent / "secmig")
    if args.posterior_only:
        posterior_example(secmig)
        return
    if args.no_rule_only:
        _no_rule_example(secmig)
        return
    if args.effects_only:
        for path in effect_sweeps():
            _effect_example(secmig, path)
        return
    results: dict[str, object] = {"machine": f"{platform.processor() or platform.machine()}, "
                                             f"{os.cpu_count()} cores",
                                  "python": platform.python_version()}
    with tempfile.TemporaryDirectory() as d:
        tmp = Path(d)
        path = _sweep_file(tmp, 4 if args.quick else None)
        t = time.perf_counter()
        subprocess.run([secmig, "sweep", str(path), "--jobs", "2", "--out", str(tmp / "cli"),
                        "--quiet"], check=True, capture_output=True)
        results["cli_2_processes_s"] = time.perf_counter() - t
        runs = len(_rows(tmp / "cli"))
        results["runs"] = runs
        results["dask_1_worker_s"] = _dask(path, tmp / "dask1", 1)
        results["dask_2_workers_s"] = _dask(path, tmp / "dask2", 2)
        results["dask_speedup"] = results["dask_1_worker_s"] / results["dask_2_workers_s"]
        same = all(_rows(tmp / "cli").equals(_rows(tmp / k)) for k in ("dask1", "dask2"))
        results["identical_rows"] = same
        if not args.quick:
            figs = REPO / "docs" / "sweeps"
            figs.mkdir(parents=True, exist_ok=True)
            for name in ("indices.png", "morris_mu_sigma.png",
                         "scatter_share_in_10_largest.png"):
                shutil.copy(tmp / "cli" / "figures" / name, figs / name)
            for png in figs.glob("prim_*.png"):
                png.unlink()
            for png in (tmp / "cli" / "figures").glob("prim_*.png"):
                shutil.copy(png, figs / png.name)
            shutil.copy(tmp / "cli" / "indices.csv", figs / "indices.csv")
            shutil.copy(tmp / "cli" / "discovery.csv", figs / "discovery.csv")
    print(f"| measure ({runs} runs) | result | target |\n|---|---|---|")
    print(f"| `secmig sweep`, 2 local processes (incl. report) | "
          f"{results['cli_2_processes_s'] / 60:.1f} min | < 20 min |")
    print(f"| Dask LocalCluster, 1 worker | {results['dask_1_worker_s'] / 60:.1f} min | |")
    print(f"| Dask LocalCluster, 2 workers | {results['dask_2_workers_s'] / 60:.1f} min | |")
    print(f"| speed-up 2 vs 1 worker | {results['dask_speedup']:.2f}x | >= 1.7x |")
    print(f"| identical rows (local, Dask 1, Dask 2) | {'yes' if same else 'NO'} | yes |")
    if not args.quick:
        out = REPO / "benchmarks" / "results"
        out.mkdir(exist_ok=True)
        (out / "sweep.json").write_text(json.dumps(results, indent=2), encoding="utf-8")
        _figure(results, REPO / "docs" / "sweeps" / "benchmark.png")
        posterior_example(secmig)
        for path in effect_sweeps():
            _effect_example(secmig, path)


def _no_rule_example(secmig: str) -> None:
    _effect_example(secmig, NO_RULE)


def _effect_example(secmig: str, path: Path) -> None:
    """One compared sweep, kept in docs/sweeps/<its name>/ (timing: sweep_<name>.json)."""
    posterior_example(secmig, path, path.stem, f"sweep_{path.stem.replace('-', '_')}.json")


def _figure(results: dict, path: Path) -> None:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    labels = ["secmig sweep\n2 processes", "Dask\n1 worker", "Dask\n2 workers"]
    minutes = [results[k] / 60 for k in ("cli_2_processes_s", "dask_1_worker_s",
                                         "dask_2_workers_s")]
    fig, ax = plt.subplots(figsize=(6, 3.2), dpi=110)
    ax.bar(labels, minutes, color=["#1f5f8b", "#9aa5ad", "#d35400"])
    ax.axhline(20, ls="--", color="#b03a2e", lw=1)
    ax.text(2.4, 20, "20 min target", va="bottom", ha="right", fontsize=8, color="#b03a2e")
    for i, m in enumerate(minutes):
        ax.text(i, m, f"{m:.1f} min", ha="center", va="bottom", fontsize=8)
    ax.set_ylabel("wall time (minutes)")
    ax.set_title(f"Morris example sweep, {results['runs']} runs "
                 f"(Dask speed-up {results['dask_speedup']:.2f}x)", fontsize=9)
    fig.tight_layout()
    fig.savefig(path)
    plt.close(fig)


if __name__ == "__main__":
    main()

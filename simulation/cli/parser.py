"""The argument parser: every command, option and its allowed values (argparse names the
option in its own messages, so a bad value is never blamed on a file)."""

from __future__ import annotations

import argparse
from pathlib import Path
from typing import Any

from simulation import __version__
from simulation.cli.console import shown
from simulation.cli.info import cmd_app, cmd_params, cmd_template
from simulation.cli.research import cmd_calibrate, cmd_screen, cmd_sweep
from simulation.cli.scenarios import cmd_compare, cmd_run, cmd_validate
from simulation.inputs.limits import MAX_REPLICATES, MAX_SEED

MAX_JOBS = 1024
MAX_POSTERIOR = 100_000


def whole(low: int, high: int | None = None) -> Any:
    """argparse type: a whole number in [low, high]; argparse names the option, so the
    message reads '--jobs: got -3; allowed: a whole number >= 1'."""
    allowed = f"a whole number >= {low}" + ("" if high is None else f" and <= {high}")

    def parse(text: str) -> int:
        digits = text.strip()
        if not (digits.lstrip("+-")[:1] and digits.lstrip("+-").isascii()
                and digits.lstrip("+-").isdigit() and len(digits) <= 40
                and digits[1:].lstrip("0123456789") == "" and digits[0] in "+-0123456789"):
            raise argparse.ArgumentTypeError(f"got {shown(text)}; allowed: {allowed}")
        value = int(digits, 10)
        if value < low or (high is not None and value > high):
            raise argparse.ArgumentTypeError(f"got {shown(text)}; allowed: {allowed}")
        return value

    parse.__name__ = "whole number"
    return parse


def out_path(text: str) -> str:
    """argparse type for --out/--fitted: a path that names a folder or file of its own."""
    name = Path(text).name if text and "\0" not in text else ""
    if not text or "\0" in text or name in ("", ".", ".."):
        raise argparse.ArgumentTypeError(
            f"got {shown(text)}; allowed: a path that ends in a folder or file name of its "
            "own (not empty, '.', '..' or '/'), such as outputs/my-run")
    return text


def number_in(high: float, allowed: str) -> Any:
    """argparse type: a finite number > 0 and <= ``high`` (``allowed`` says so in words)."""

    def parse(text: str) -> float:
        try:
            value = float(text)
        except ValueError:
            value = float("nan")
        if not (value == value and 0 < value <= high and value != float("inf")):
            raise argparse.ArgumentTypeError(f"got {shown(text)}; allowed: {allowed}")
        return value

    return parse


share = number_in(float("inf"), "a finite number > 0")  # the screening threshold, in tolerances
population_share = number_in(1.0, "a number > 0 and <= 1")  # a share of the people simulated


REPLICATES = whole(1, MAX_REPLICATES)
SEED = whole(0, MAX_SEED)
JOBS = whole(1, MAX_JOBS)


def _add_run_options(p: argparse.ArgumentParser) -> None:
    p.add_argument("--replicates", type=REPLICATES, metavar="N",
                   help=f"override the replicate count (1 to {MAX_REPLICATES})")
    p.add_argument("--seed", type=SEED, metavar="S",
                   help="override the scenario seed (a whole number >= 0)")
    p.add_argument("--jobs", type=JOBS, metavar="J",
                   help="worker processes (default: one per core); results are identical "
                        "for any J")
    p.add_argument("--out", type=out_path, metavar="DIR",
                   help="output folder (default outputs/<name>); the only way to write "
                        "outside outputs/")
    p.add_argument("--force", action="store_true",
                   help="replace an existing output folder that secmig wrote (never a file "
                        "or another folder)")
    p.add_argument("--quiet", action="store_true", help="no progress bar")
    p.add_argument("--posterior", type=whole(1, MAX_POSTERIOR), metavar="K",
                   help="run K posterior draws (from the fitted file the scenario's parameters "
                        "come from) x the replicates, so intervals include parameter "
                        "uncertainty (a 5-95 %% interval covers 90 %% on average from 19 runs "
                        "on; from fewer it is the smallest to the largest run; its ends move "
                        "with the draws chosen: use 100 or more for an answer to forward)")


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="secmig",
        description="Agent-based simulation of refugees' secondary migration between Norway's "
                    "357 municipalities.",
        epilog="Start with: secmig run scenarios/baseline.yaml   (then open "
               "outputs/baseline/report.html)")
    parser.add_argument("--version", action="version", version=f"secmig {__version__}")
    parser.add_argument("--debug", action="store_true", help="show tracebacks on errors")
    sub = parser.add_subparsers(dest="command", metavar="COMMAND")

    p = sub.add_parser("validate", help="check scenario files without running them",
                       description="Check scenario files; report every problem with file, "
                                   "line, key, the value given and what is allowed. Exit 0 "
                                   "when all are valid, 2 when not.")
    p.add_argument("files", nargs="+", metavar="FILE")
    p.set_defaults(func=cmd_validate)

    p = sub.add_parser("run", help="run a scenario's replicates and write outputs and a report",
                       description="Run the replicates of a scenario (without FILE: the "
                                   "built-in 2010-2023 baseline) in parallel processes; print "
                                   "headline indicators beside the register targets; write "
                                   "tables, figures, summary.json, manifest.json and "
                                   "report.html to outputs/<name>/.")
    p.add_argument("file", nargs="?", metavar="FILE", help="scenario YAML (optional)")
    _add_run_options(p)
    p.set_defaults(func=cmd_run)

    p = sub.add_parser("compare", help="run scenarios with common random numbers and compare",
                       description="Run each scenario with the same replicate seeds (those of "
                                   "the first file unless --seed/--replicates) and report "
                                   "paired differences against the first, with intervals.")
    p.add_argument("files", nargs="+", metavar="FILE")
    _add_run_options(p)
    p.set_defaults(func=cmd_compare)

    p = sub.add_parser("calibrate", help="fit parameters to the register targets",
                       description="History matching with emulators against the targets "
                                   "file, then a posterior sample (emcee). Writes fitted.yaml "
                                   "beside the targets file and a fit report. Interrupted runs "
                                   "resume from the evaluations log. See docs/calibration.md.")
    p.add_argument("file", metavar="FILE", help="calibration targets YAML")
    p.add_argument("--budget", type=whole(1, 1_000_000), metavar="N",
                   help="parameter points to evaluate in all waves (each = the file's "
                        "replicates), split 40/60 between wave 1 and the later waves; "
                        "default: the file's posterior.first_points and points")
    p.add_argument("--jobs", type=JOBS, metavar="J", help="worker processes (default: cores)")
    p.add_argument("--seed", type=SEED, metavar="S", help="override the file's seed")
    p.add_argument("--out", type=out_path, metavar="DIR",
                   help="report folder (default fit/<name> beside FILE)")
    p.add_argument("--fitted", type=out_path, metavar="PATH",
                   help="fitted parameter file to write (default beside FILE: fitted.yaml "
                        "for the register fit, fitted-<name>.yaml for any other file)")
    p.add_argument("--scheduler", metavar="ADDRESS|local",
                   help="run the simulations on a Dask distributed cluster: 'local' starts a "
                        "LocalCluster with --jobs workers, an address (tcp://host:8786) "
                        "connects to one; the fit is the same")
    p.add_argument("--scale", type=population_share, metavar="X",
                   help="override the file's share of the people simulated (e.g. 0.25 for a "
                        "cheaper coverage check); the log and outputs are then its own")
    p.add_argument("--coverage", type=whole(1, 1000), metavar="N",
                   help="instead of fitting, check the method: calibrate on N synthetic truths "
                        "drawn from the prior and report how often the 90 %% intervals cover "
                        "the truth (parameters and the no-rule policy effect); writes to "
                        "fit/<name>-coverage beside FILE (or --out)")
    p.add_argument("--check-replicates", type=REPLICATES, default=200, metavar="N",
                   help="fresh replicates of the posterior-mean point in the fit check "
                        "(default 200; the first K of them are also the seeds of the K "
                        "posterior draws, so up to --check-draws they cost nothing extra; "
                        "with 10, the counts of municipalities carry about 1 municipality "
                        "of noise)")
    p.add_argument("--check-draws", type=whole(1, MAX_POSTERIOR), default=200, metavar="K",
                   help="posterior draws in the fit check, one run each (default 200, as many "
                        "as the file's posterior.draws keeps; the 5-95 %% range of K runs "
                        "covers about (K-1)/(K+1) x 90 %% of the predictive distribution: 81 "
                        "%% for K = 20)")
    p.add_argument("--quiet", action="store_true", help="no progress display")
    p.set_defaults(func=cmd_calibrate)

    p = sub.add_parser("screen", help="Morris screen: which parameters the targets see",
                       description="Morris elementary effects of every registry parameter with "
                                   "a calibration prior on every target of FILE (common random "
                                   "numbers); a parameter is free when a Morris step moves some "
                                   "target by more than --threshold of its tolerance. Writes "
                                   "screening.csv, decision.yaml and figures. Interrupted runs "
                                   "resume from the evaluations log. See docs/calibration.md.")
    p.add_argument("file", metavar="FILE", help="calibration targets YAML")
    p.add_argument("--trajectories", type=whole(2, 1000), default=10, metavar="R",
                   help="Morris trajectories (each = parameters + 1 points); default 10")
    p.add_argument("--replicates", type=whole(2, 100), default=2, metavar="N",
                   help="replicates per point, the same seeds at every point; default 2")
    p.add_argument("--threshold", type=share, default=0.25, metavar="T",
                   help="free when mu*/tolerance > T for some target; default 0.25")
    p.add_argument("--jobs", type=JOBS, metavar="J", help="worker processes (default: cores)")
    p.add_argument("--seed", type=SEED, metavar="S", help="override the file's seed")
    p.add_argument("--out", type=out_path, metavar="DIR",
                   help="output folder (default screening/ beside FILE)")
    p.add_argument("--quiet", action="store_true", help="no progress bar")
    p.set_defaults(func=cmd_screen)

    p = sub.add_parser("sweep", help="run or resume a sensitivity sweep (Morris, Sobol, ...)",
                       description="Run every design point x replicate of a sweep file in "
                                   "local processes or on a Dask cluster, writing results as "
                                   "they complete; a rerun resumes. Then SALib indices per "
                                   "indicator, PRIM scenario discovery and report.html. "
                                   "See docs/sweeps.md.")
    p.add_argument("file", metavar="FILE", help="sweep YAML")
    p.add_argument("--jobs", type=JOBS, metavar="J", help="worker processes (default: cores)")
    p.add_argument("--out", type=out_path, metavar="DIR",
                   help="output folder (default outputs/sweeps/<name>)")
    p.add_argument("--scheduler", metavar="ADDRESS|local",
                   help="run on a Dask distributed cluster: 'local' starts a LocalCluster with "
                        "--jobs workers, an address (tcp://host:8786) connects to one")
    p.add_argument("--retry-failed", action="store_true",
                   help="run again the runs that failed before (default: keep their rows)")
    p.add_argument("--report-only", action="store_true",
                   help="no runs: analyse what is written so far (also a stopped sweep)")
    p.add_argument("--quiet", action="store_true", help="no progress bar")
    p.set_defaults(func=cmd_sweep)

    p = sub.add_parser("app", help="start the teaching app in the browser",
                       description="Serve the interactive teaching app (Mesa SolaraViz on the "
                                   "calibrated model): a map of Norway's municipalities, live "
                                   "charts (retention, concentration, destinations, moves) and "
                                   "controls for network strength, the rights rule, settlement "
                                   "and the seed; step, play, pause, reset. Prints the address "
                                   "and opens it in a browser. Lesson: docs/teaching.md.")
    p.add_argument("--port", type=int, default=8765, metavar="P",
                   help="port to listen on (default 8765)")
    p.add_argument("--host", default="127.0.0.1", metavar="HOST",
                   help="address to listen on (default 127.0.0.1, this machine only; "
                        "0.0.0.0 lets students on the same network connect)")
    p.add_argument("--toy", action="store_true",
                   help="start in the toy country (3 towns, 60 villages) instead of Norway")
    p.add_argument("--no-browser", action="store_true",
                   help="do not open a browser (just print the address)")
    p.set_defaults(func=cmd_app)

    p = sub.add_parser("params", help="list the parameter registry")
    p.add_argument("--csv", action="store_true", help="print CSV instead of a table")
    p.set_defaults(func=cmd_params)

    p = sub.add_parser("template", help="print the commented scenario template")
    p.set_defaults(func=cmd_template)
    return parser

"""The `secmig` command line: validate, run, compare, params, template.

Bad input (unknown key, wrong type, out-of-range value, malformed YAML, missing file, bad CSV)
prints every problem with file, line and key, exits with code 2, and writes nothing;
`--debug` shows tracebacks.
"""

from __future__ import annotations

import argparse
import math
import signal
import sys
import time
import traceback
from importlib.resources import files
from pathlib import Path
from typing import Any

from rich.console import Console
from rich.progress import (
    BarColumn,
    MofNCompleteColumn,
    Progress,
    TextColumn,
    TimeElapsedColumn,
    TimeRemainingColumn,
)
from rich.table import Table

from . import __version__
from .parameters import registry_table
from .yamlsource import InputError

console = Console()
err_console = Console(stderr=True, soft_wrap=True)

BUILTIN_BASELINE = files("simulation") / "data" / "baseline.yaml"
USAGE_ERROR = 2


class UsageError(Exception):
    """A command-line mistake the user can fix (exit code 2)."""


def _fmt(x: float | None) -> str:
    if x is None or (isinstance(x, float) and math.isnan(x)):
        return "-"
    return f"{x:,.0f}" if abs(x) >= 100 or float(x).is_integer() else f"{x:.3f}"


def _progress(label: str, disable: bool) -> Progress:
    return Progress(TextColumn(f"[bold]{label}"), BarColumn(), MofNCompleteColumn(),
                    TextColumn("runs"), TimeElapsedColumn(), TimeRemainingColumn(),
                    console=err_console, disable=disable)


def _load(path: str, **overrides: Any):
    from .scenario import load_scenario

    return load_scenario(path, **overrides)


def cmd_validate(args: argparse.Namespace) -> int:
    """Check scenario files without running them; all problems at once."""
    bad = 0
    for path in args.files:
        try:
            scenario = _load(path)
        except InputError as err:
            bad += 1
            err_console.print(f"[red]✗ {path}[/]: {len(err.problems)} problem(s)")
            for p in err.problems:
                err_console.print(f"  {p}", markup=False, highlight=False)
        else:
            console.print(f"[green]✓ {path}[/]: valid (scenario '{scenario.name}', "
                          f"{scenario.inputs.start}-{scenario.inputs.end}, "
                          f"{scenario.schema.replicates} replicates)")
    return USAGE_ERROR if bad else 0


def _headline(summary_frame: Any, title: str) -> None:
    from .ensemble_output import _nested_means
    from .targets import compare

    table = Table(title=title)
    table.add_column("indicator", no_wrap=True)
    for col in ("simulated", "register", "within"):
        table.add_column(col, justify="right", no_wrap=True)
    last_id = None
    for c in compare(_nested_means(summary_frame)):
        mark = {True: "[green]yes", False: "[red]no", None: "-"}[c.within]
        if c.key and c.id != last_id:
            table.add_row(c.id, "", "", "")
        last_id = c.id
        name = f"  {c.key}" + (" ÷ all" if c.compared_as != "level" else "") if c.key else c.id
        table.add_row(name, _fmt(c.simulated), f"{_fmt(c.register)} ± {_fmt(c.tolerance)}", mark)
    for key in ("hoover_index", "share_in_10_largest", "share_centrality_5_6",
                "moves_per_year"):
        if key in summary_frame:
            table.add_row(key, _fmt(float(summary_frame[key].mean())), "-", "-")
    console.print(table)


def cmd_run(args: argparse.Namespace) -> int:
    """Run a scenario's ensemble of replicates and write its output folder."""
    from .atomic import OutputExistsError
    from .ensemble import default_jobs, indicator_frame, run_many
    from .ensemble_output import write_ensemble

    path = args.file or str(BUILTIN_BASELINE)
    scenario = _load(path, seed=args.seed, replicates=args.replicates)
    sch = scenario.schema
    # like the default outputs/<name>, a directory from the file is relative to where
    # secmig runs (not to the scenario file)
    out = Path(args.out or sch.outputs.directory or Path("outputs") / sch.name)
    if out.exists() and not args.force:
        raise OutputExistsError(f"{out} exists; use --force to replace it (it is kept as is)")
    param_sets = scenario.posterior(args.posterior) if args.posterior else [scenario.params]
    total = len(param_sets) * sch.replicates
    jobs = args.jobs or default_jobs(total)
    t0 = time.perf_counter()
    with _progress(sch.name, args.quiet) as bar:
        task = bar.add_task("run", total=total)
        summaries = run_many([(param_sets, scenario.inputs)], sch.seed, sch.replicates, jobs,
                             on_done=lambda n: bar.advance(task, n))[0]
    t_sim = time.perf_counter() - t0
    frame = indicator_frame(summaries)
    what = (f"{args.posterior} posterior draws x {sch.replicates} replicates"
            if args.posterior else f"{sch.replicates} replicates")
    _headline(frame, f"{sch.name}: {sch.period.start}-{sch.period.end}, mean of {what}, "
                     f"seed {sch.seed}")
    write_ensemble(scenario, summaries, out, force=args.force, jobs=jobs,
                   timings={"ensemble_s": t_sim}, posterior=args.posterior or 0)
    console.print(f"Wrote [bold]{out}[/] in {time.perf_counter() - t0:.1f} s "
                  f"({jobs} worker process(es)). Open {out / 'report.html'}")
    return 0


def cmd_compare(args: argparse.Namespace) -> int:
    """Run scenarios with the same replicate seeds and report paired differences."""
    from .atomic import OutputExistsError
    from .compare import write_comparison
    from .ensemble import default_jobs, run_many

    if len(args.files) < 2:
        raise UsageError("compare needs at least two scenario files (the first is the "
                         "reference)")
    problems = []
    scenarios = []
    for path in args.files:
        try:
            scenarios.append(_load(path))
        except InputError as err:
            problems.extend(err.problems)
    if problems:
        raise InputError(problems)
    first = scenarios[0].schema
    seed = args.seed if args.seed is not None else first.seed
    replicates = args.replicates or first.replicates
    out = Path(args.out or Path("outputs") / ("compare_" + "_vs_".join(s.name
                                                                      for s in scenarios)))
    if out.exists() and not args.force:
        raise OutputExistsError(f"{out} exists; use --force to replace it (it is kept as is)")
    sets = [s.posterior(args.posterior) if args.posterior else [s.params] for s in scenarios]
    total = sum(len(p) for p in sets) * replicates
    jobs = args.jobs or default_jobs(total)
    t0 = time.perf_counter()
    with _progress("compare", args.quiet) as bar:
        task = bar.add_task("run", total=total)
        results = run_many([(p, s.inputs) for p, s in zip(sets, scenarios, strict=True)], seed,
                           replicates, jobs, on_done=lambda n: bar.advance(task, n))
    write_comparison(scenarios, results, out, force=args.force, jobs=jobs, seed=seed,
                     replicates=replicates, timings={"ensemble_s": time.perf_counter() - t0},
                     posterior=args.posterior or 0)
    diffs = (out / "differences.csv")
    console.print(f"Wrote [bold]{out}[/] in {time.perf_counter() - t0:.1f} s. "
                  f"Open {out / 'report.html'} (paired differences: {diffs})")
    return 0


def cmd_calibrate(args: argparse.Namespace) -> int:
    """Fit the free parameters to the register targets; write fitted.yaml and a fit report."""
    from dataclasses import replace as dc_replace

    from .calibration import Evaluator, calibrate, load_spec
    from .calibration_output import write_calibration
    from .ensemble import default_jobs

    spec = load_spec(args.file)
    if args.seed is not None:
        spec = dc_replace(spec, seed=args.seed)
    base = Path(args.file).parent
    out = Path(args.out) if args.out else base / "fit" / spec.name
    fitted = Path(args.fitted) if args.fitted else base / (
        "fitted.yaml" if spec.name == "register-2010-2023" else f"fitted-{spec.name}.yaml")
    jobs = args.jobs or default_jobs(spec.replicates)
    log = out / "evaluations.jsonl"
    t0 = time.perf_counter()
    with Progress(TextColumn("[bold]calibrate"), TextColumn("{task.description}"),
                  BarColumn(), TextColumn("{task.completed} runs"), TimeElapsedColumn(),
                  console=err_console, disable=args.quiet) as bar:
        task = bar.add_task("", total=None)
        evaluator = Evaluator(spec, log, jobs, on_run=lambda n: bar.advance(task, n))
        try:
            fit = calibrate(spec, evaluator, args.budget, start=None,
                            on_stage=lambda s: bar.update(task, description=s))
            bar.update(task, description="checking the fit with fresh seeds")
            check = write_calibration(spec, fit, evaluator, out, fitted, args.check_replicates,
                                      args.check_draws, jobs)
        finally:
            evaluator.close()
    fitted_rows = check[check["role"] == "fitted"]
    table = Table(title=f"Calibration '{spec.name}': distance {fit.start_distance:.1f} -> "
                        f"{fit.distance:.1f}")
    for col in ("target", "register", "simulated", "within"):
        table.add_column(col, no_wrap=col != "target")
    for r in check.itertuples():
        mark = {True: "[green]yes", False: "[red]no", None: "-"}[r.within_tolerance]
        table.add_row(r.target + (" (held out)" if r.role != "fitted" else ""),
                      f"{_fmt(r.register)} ± {_fmt(r.tolerance)}", _fmt(r.simulated_mean), mark)
    console.print(table)
    console.print(f"{int(fitted_rows['within_tolerance'].fillna(False).sum())} of "
                  f"{len(fitted_rows)} targets within tolerance. Wrote [bold]{fitted}[/] and "
                  f"{out / 'report.html'} in {time.perf_counter() - t0:.0f} s "
                  f"({fit.evaluations} parameter points; log {log}, rerun to resume).")
    return 0


def cmd_sweep(args: argparse.Namespace) -> int:
    """Run (or resume) a sensitivity sweep, then indices, scenario discovery and a report."""
    from .ensemble import default_jobs
    from .sweep import load_sweep
    from .sweep_runner import done_runs, run_sweep, tasks_to_run

    sweep = load_sweep(args.file)
    sch = sweep.schema
    out = Path(args.out or Path("outputs") / "sweeps" / sch.name)
    total = len(sweep.unit_points()) * sch.replicates
    t0 = time.perf_counter()
    if args.report_only:
        rows = done_runs(out)
        if rows.empty:
            raise UsageError(f"{out} holds no runs of this sweep yet; run it first")
    else:
        todo = len(tasks_to_run(sweep, out, args.retry_failed)) if out.exists() else total
        jobs = args.jobs or default_jobs(todo)
        counts = {"failed": 0}
        with Progress(TextColumn("[bold]sweep"), BarColumn(), MofNCompleteColumn(),
                      TextColumn("runs, {task.fields[failed]} failed"), TimeElapsedColumn(),
                      TextColumn("left"), TimeRemainingColumn(), console=err_console,
                      disable=args.quiet) as bar:
            task = bar.add_task("sweep", total=total, completed=total - todo, failed=0)

            def done(n: int, ok: bool) -> None:
                counts["failed"] += 0 if ok else n
                bar.update(task, advance=n, failed=counts["failed"])

            try:
                rows = run_sweep(sweep, out, jobs, on_done=done, scheduler=args.scheduler,
                                 retry_failed=args.retry_failed)
            except ConnectionError as err:
                raise UsageError(str(err)) from None
            except KeyboardInterrupt:
                bar.stop()
                err_console.print(f"[yellow]stopped[/]: {len(done_runs(out))} of {total} runs "
                                  f"are written in {out / 'runs'}; rerun the same command to "
                                  "resume")
                return 130
        console.print(f"{len(rows)} of {total} runs ({total - todo} from before, "
                      f"{int((rows['status'] != 'ok').sum())} failed) in "
                      f"{time.perf_counter() - t0:.0f} s.")
    _sweep_outputs(sweep, rows, out, time.perf_counter() - t0)
    return 0


def _sweep_outputs(sweep: Any, rows: Any, out: Path, seconds: float) -> None:
    """Indices, scenario discovery, tidy tables and report.html of what is written so far."""
    import pandas as pd

    from .sweep_analysis import RANK_BY, discover, indices, ranking
    from .sweep_report import write_report

    table = indices(sweep, rows)
    boxes = [discover(sweep, rows, d) for d in sweep.schema.discover]
    table.to_csv(out / "indices.csv", index=False)
    rows.to_csv(out / "runs.csv", index=False)
    pd.DataFrame([{"condition": b.condition, "runs": b.runs, "hits": b.hits,
                   "coverage": b.coverage, "density": b.density, "mass": b.mass,
                   **{f"{r.parameter}.{k}": getattr(r, k) for r in b.limits.itertuples()
                      for k in ("low", "high")}, "summary": b.sentence()} for b in boxes]
                 ).to_csv(out / "discovery.csv", index=False)
    report = write_report(sweep, rows, table, boxes, out, seconds)
    key = RANK_BY[sweep.schema.design]
    for ind, ranked in ranking(table, sweep.schema.design).items():
        console.print(f"  {ind}: " + ", ".join(f"{p} ({key} {v:.3g})" for p, v in ranked[:3]))
    for b in boxes:
        console.print(f"  {b.sentence()}", highlight=False)
    console.print(f"Wrote {out / 'runs'} (Parquet), runs.csv, indices.csv, discovery.csv and "
                  f"[bold]{report}[/].")


def cmd_params(args: argparse.Namespace) -> int:
    """Print the parameter registry (a table, or CSV for other tools)."""
    if args.csv:
        import pandas as pd

        pd.DataFrame(registry_table()).to_csv(sys.stdout, index=False)
        return 0
    table = Table(title="secmig parameter registry")
    table.add_column("name", no_wrap=True)
    for col in ("default", "range", "unit", "meaning"):
        table.add_column(col, overflow="fold")
    for row in registry_table():
        table.add_row(row["name"], f"{row['default']:g}", f"{row['low']:g} .. {row['high']:g}",
                      row["unit"], row["meaning"])
    console.print(table)
    return 0


def cmd_template(args: argparse.Namespace) -> int:
    """Print the commented scenario template (every key, generated from the registry)."""
    from .template import template_text

    sys.stdout.write(template_text())
    return 0


def cmd_app(args: argparse.Namespace) -> int:
    """Serve the teaching app (Mesa SolaraViz on the real model) until Ctrl+C."""
    try:
        from .app.serve import AddressError, serve
    except ImportError as err:
        raise UsageError(f"the teaching app needs its web packages ({err.name} is missing); "
                         "reinstall with `pip install -e .`") from None
    try:
        serve(args.host, args.port, toy=args.toy, open_browser=not args.no_browser)
    except AddressError as err:
        raise UsageError(str(err)) from None
    return 0


def _add_run_options(p: argparse.ArgumentParser) -> None:
    p.add_argument("--replicates", type=int, metavar="N", help="override the replicate count")
    p.add_argument("--seed", type=int, metavar="S", help="override the scenario seed")
    p.add_argument("--jobs", type=int, metavar="J",
                   help="worker processes (default: one per core); results are identical "
                        "for any J")
    p.add_argument("--out", metavar="DIR", help="output folder (default outputs/<name>)")
    p.add_argument("--force", action="store_true", help="replace an existing output folder")
    p.add_argument("--quiet", action="store_true", help="no progress bar")
    p.add_argument("--posterior", type=int, metavar="K",
                   help="run K posterior draws (from the fitted file the scenario's parameters "
                        "come from) x the replicates, so intervals include parameter "
                        "uncertainty")


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
                       description="Simulated method of moments against the targets file, "
                                   "then a Gaussian approximation of the posterior. Writes "
                                   "fitted.yaml beside the targets file and a fit report. "
                                   "Interrupted runs resume from the evaluations log.")
    p.add_argument("file", metavar="FILE", help="calibration targets YAML")
    p.add_argument("--budget", type=int, default=160, metavar="N",
                   help="parameter points to evaluate (each = the file's replicates); "
                        "default 160")
    p.add_argument("--jobs", type=int, metavar="J", help="worker processes (default: cores)")
    p.add_argument("--seed", type=int, metavar="S", help="override the file's seed")
    p.add_argument("--out", metavar="DIR", help="report folder (default fit/<name> beside "
                                                "FILE)")
    p.add_argument("--fitted", metavar="PATH", help="fitted parameter file to write (default "
                                                    "fitted.yaml beside FILE)")
    p.add_argument("--check-replicates", type=int, default=10, metavar="N",
                   help="fresh replicates for the fit check (default 10)")
    p.add_argument("--check-draws", type=int, default=20, metavar="K",
                   help="posterior draws in the fit check (default 20)")
    p.add_argument("--quiet", action="store_true", help="no progress display")
    p.set_defaults(func=cmd_calibrate)

    p = sub.add_parser("sweep", help="run or resume a sensitivity sweep (Morris, Sobol, ...)",
                       description="Run every design point x replicate of a sweep file in "
                                   "local processes or on a Dask cluster, writing results as "
                                   "they complete; a rerun resumes. Then SALib indices per "
                                   "indicator, PRIM scenario discovery and report.html. "
                                   "See docs/sweeps.md.")
    p.add_argument("file", metavar="FILE", help="sweep YAML")
    p.add_argument("--jobs", type=int, metavar="J", help="worker processes (default: cores)")
    p.add_argument("--out", metavar="DIR", help="output folder (default outputs/sweeps/<name>)")
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


def _terminate(signum: int, frame: Any) -> None:
    raise KeyboardInterrupt


def main(argv: list[str] | None = None) -> int:
    from .atomic import OutputExistsError

    parser = build_parser()
    args = parser.parse_args(argv)
    if args.command is None:
        parser.print_help()
        return 0
    signal.signal(signal.SIGTERM, _terminate)
    try:
        return args.func(args)
    except InputError as err:
        if args.debug:
            traceback.print_exc()
        err_console.print(f"[red]error:[/] {len(err.problems)} problem(s) in the input; "
                          "nothing was written")
        for p in err.problems:
            err_console.print(f"  {p}", markup=False, highlight=False)
        return USAGE_ERROR
    except (UsageError, OutputExistsError) as err:
        if args.debug:
            traceback.print_exc()
        err_console.print(f"[red]error:[/] {err}", highlight=False)
        return USAGE_ERROR
    except KeyboardInterrupt:
        err_console.print("[red]interrupted[/]: no output was written (earlier output is "
                          "untouched)")
        return 130
    except Exception as err:
        if args.debug:
            traceback.print_exc()
        err_console.print(f"[red]internal error:[/] {type(err).__name__}: {err} "
                          "(run with --debug for the traceback)", highlight=False)
        return 1


if __name__ == "__main__":
    sys.exit(main())

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
from rich.markup import escape
from rich.progress import (
    BarColumn,
    MofNCompleteColumn,
    Progress,
    TextColumn,
    TimeElapsedColumn,
    TimeRemainingColumn,
)
from rich.table import Table
from rich.text import Text

from simulation import __version__
from simulation.inputs.limits import MAX_REPLICATES, MAX_SEED
from simulation.inputs.parameters import registry_table
from simulation.inputs.yamlsource import InputError, Problem

# user text (paths, names, messages) is printed literally: no emoji codes, no highlighting,
# and markup only in our own fixed strings, with user values escaped (see _lit)
console = Console(emoji=False, highlight=False)
err_console = Console(stderr=True, soft_wrap=True, emoji=False, highlight=False)

BUILTIN_BASELINE = files("simulation") / "data" / "baseline.yaml"
USAGE_ERROR = 2
MAX_JOBS = 1024
MAX_POSTERIOR = 100_000


class UsageError(Exception):
    """A command-line mistake the user can fix (exit code 2)."""


def _lit(value: Any) -> str:
    """A user value (path, name, message) made safe to put into a markup string."""
    return escape(str(value))


def _shown(text: str) -> str:
    """A command-line value as given, quoted only where that is needed to see it."""
    text = str(text)
    if len(text) > 40:
        text = text[:37] + "..."
    return text if text and text.strip() == text and text.isprintable() else repr(text)


def _whole(low: int, high: int | None = None) -> Any:
    """argparse type: a whole number in [low, high]; argparse names the option, so the
    message reads '--jobs: got -3; allowed: a whole number >= 1'."""
    allowed = f"a whole number >= {low}" + ("" if high is None else f" and <= {high}")

    def parse(text: str) -> int:
        digits = text.strip()
        if not (digits.lstrip("+-")[:1] and digits.lstrip("+-").isascii()
                and digits.lstrip("+-").isdigit() and len(digits) <= 40
                and digits[1:].lstrip("0123456789") == "" and digits[0] in "+-0123456789"):
            raise argparse.ArgumentTypeError(f"got {_shown(text)}; allowed: {allowed}")
        value = int(digits, 10)
        if value < low or (high is not None and value > high):
            raise argparse.ArgumentTypeError(f"got {_shown(text)}; allowed: {allowed}")
        return value

    parse.__name__ = "whole number"
    return parse


def _out_path(text: str) -> str:
    """argparse type for --out/--fitted: a path that names a folder or file of its own."""
    name = Path(text).name if text and "\0" not in text else ""
    if not text or "\0" in text or name in ("", ".", ".."):
        raise argparse.ArgumentTypeError(
            f"got {_shown(text)}; allowed: a path that ends in a folder or file name of its "
            "own (not empty, '.', '..' or '/'), such as outputs/my-run")
    return text


def _fmt(x: float | None) -> str:
    if x is None or (isinstance(x, float) and math.isnan(x)):
        return "-"
    if abs(x) >= 100 or float(x).is_integer():
        return f"{x:,.0f}"
    return f"{x:.1f}" if abs(x) >= 10 else f"{x:.3f}"  # counts of municipalities: 79.5


def _progress(label: str, disable: bool) -> Progress:
    return Progress(TextColumn(f"[bold]{_lit(label)}"), BarColumn(), MofNCompleteColumn(),
                    TextColumn("runs"), TimeElapsedColumn(), TimeRemainingColumn(),
                    console=err_console, disable=disable)


def _load(path: str, **overrides: Any):
    from simulation.inputs.scenario import load_scenario

    return load_scenario(path, **overrides)


def cmd_validate(args: argparse.Namespace) -> int:
    """Check scenario files without running them; all problems at once."""
    bad = 0
    for path in args.files:
        try:
            scenario = _load(path)
        except InputError as err:
            bad += 1
            err_console.print(f"[red]✗ {_lit(path)}[/]: {err.total} problem(s)")
            for p in err.problems:
                err_console.print(f"  {p}", markup=False)
        else:
            console.print(f"[green]✓ {_lit(path)}[/]: valid (scenario "
                          f"'{_lit(scenario.name)}', {scenario.inputs.start}-"
                          f"{scenario.inputs.end}, {scenario.schema.replicates} replicates)")
    return USAGE_ERROR if bad else 0


_MARK = {True: Text("yes", style="green"), False: Text("no", style="red"), None: Text("-")}


def _short(key: str) -> str:
    """An indicator key short enough for an 80-column table."""
    key = key.replace("settled_persons_", "settled_").replace("at_least_", ">=")
    return key if len(key) <= 36 else key[:35] + "…"


def _headline(summary_frame: Any, title: str, departs: list[str] | None = None) -> None:
    """Headline indicators beside the register. In a counterfactual (``departs``: what differs
    from the rules the register describes) the register is context: no within/outside."""
    from simulation.analysis.targets import compare
    from simulation.runs.output import _nested_means

    table = Table(title=Text(title), title_justify="left")
    table.add_column("indicator", no_wrap=True, max_width=36)
    table.add_column("simulated", justify="right", no_wrap=True)
    table.add_column("register ± tol.", justify="right", no_wrap=True)
    table.add_column("within" if not departs else "context", justify="right", no_wrap=True)
    last_id = None
    for c in compare(_nested_means(summary_frame)):
        if c.key and c.id != last_id:
            table.add_row(Text(_short(c.id)), "", "", "")
        last_id = c.id
        name = (f"  {_short(str(c.key))}" + (" ÷ all" if c.compared_as != "level" else "")
                if c.key else _short(c.id))
        table.add_row(Text(name), _fmt(c.simulated), f"{_fmt(c.register)} ± "
                      f"{_fmt(c.tolerance)}", _MARK[c.within] if not departs else Text("-"))
    for key in ("hoover_index", "share_in_10_largest", "share_centrality_5_6",
                "moves_per_year"):
        if key in summary_frame:
            table.add_row(Text(_short(key)), _fmt(float(summary_frame[key].mean())), "-", "-")
    console.print(table)
    if departs:
        console.print(Text("Counterfactual: the register figures describe today's rules, so "
                           "they are context here, not a check (" + "; ".join(departs) + ")."))


# --- where output goes ----------------------------------------------------------------------

def _file_directory(scenario: Any) -> Path:
    """``outputs.directory`` from a scenario file: only a folder under outputs/ (relative, no
    '..'); anywhere else needs --out on the command line."""
    raw = scenario.schema.outputs.directory
    path = Path(raw)
    parts = path.parts
    if (path.is_absolute() or path.drive or ".." in parts or len(parts) < 2
            or parts[0] != "outputs" or "\0" in raw):
        file, line = scenario.source.where(("outputs", "directory"))
        raise InputError([Problem(file, line, "outputs.directory",
                                  f"got {raw!r}; allowed: a folder under outputs/ (relative, "
                                  f"no '..'), such as outputs/{scenario.slug}; to write "
                                  "anywhere else use --out DIR on the command line")])
    return path


def _run_out(args: argparse.Namespace, scenario: Any) -> Path:
    # like the default outputs/<name>, a directory from the file is relative to where
    # secmig runs (not to the scenario file)
    if args.out:
        return Path(args.out)
    if scenario.schema.outputs.directory is not None:
        return _file_directory(scenario)
    return Path("outputs") / scenario.slug


def _check_posterior(k: int | None, scenarios: list[Any]) -> None:
    """--posterior K asks no more draws than each scenario's fitted file has."""
    if not k:
        return
    for scenario in scenarios:
        n = len(scenario.posterior_draws)
        if k > n:
            where = (f"the fitted file of {scenario.files[0]} has {n}" if n else
                     f"{scenario.files[0]} reads no fitted file with posterior draws, "
                     "parameters: {from: FILE}")
            raise UsageError(f"--posterior: got {k}; allowed: a whole number from 1 to the "
                             f"posterior draws in the scenario's fitted file ({where})")


def _writable_dir(out: Path) -> None:
    """An existing folder that secmig will write into must be writable (checked up front)."""
    import os

    if out.is_dir() and not os.access(out, os.W_OK | os.X_OK):
        raise UsageError(f"cannot write to {out} (no write permission); choose another --out "
                         "or make it writable")


def cmd_run(args: argparse.Namespace) -> int:
    """Run a scenario's ensemble of replicates and write its output folder."""
    from simulation.analysis.targets import departures
    from simulation.reports.atomic import reserve_output
    from simulation.runs.ensemble import default_jobs, indicator_frame, run_many
    from simulation.runs.output import write_ensemble

    path = args.file or str(BUILTIN_BASELINE)
    # option values were checked by argparse: a bad one is never blamed on the file
    scenario = _load(path, seed=args.seed, replicates=args.replicates)
    sch = scenario.schema
    out = _run_out(args, scenario)
    _check_posterior(args.posterior, [scenario])
    # lock, refuse what must not be replaced, and create the temporary folder now: a
    # read-only or busy place is found before the simulation, not after it
    with reserve_output(out, args.force):
        param_sets = (scenario.posterior(args.posterior) if args.posterior
                      else [scenario.params])
        total = len(param_sets) * sch.replicates
        jobs = args.jobs or default_jobs(total)
        t0 = time.perf_counter()
        with _progress(sch.name, args.quiet) as bar:
            task = bar.add_task("run", total=total)
            summaries = run_many([(param_sets, scenario.inputs)], sch.seed, sch.replicates,
                                 jobs, on_done=lambda n: bar.advance(task, n))[0]
        t_sim = time.perf_counter() - t0
        frame = indicator_frame(summaries)
        what = (f"{args.posterior} posterior draws x {sch.replicates} replicates"
                if args.posterior else f"{sch.replicates} replicates")
        _headline(frame, f"{sch.name}: {sch.period.start}-{sch.period.end}, mean of {what}, "
                         f"seed {sch.seed}", departures(scenario.params, scenario.inputs))
        write_ensemble(scenario, summaries, out, force=args.force, jobs=jobs,
                       timings={"ensemble_s": t_sim}, posterior=args.posterior or 0)
    console.print(f"Wrote [bold]{_lit(out)}[/] in {time.perf_counter() - t0:.1f} s "
                  f"({jobs} worker process(es)). Open {_lit(out / 'report.html')}")
    return 0


# indicator key, short label, kind: the headline differences `compare` prints
COMPARE_HEADLINES = (
    ("retention_5y", "retention 5 y", "share"),
    ("retention_7y", "retention 7 y", "share"),
    ("moves_per_year", "moves per year", "number"),
    ("municipalities_by_out_share.at_least_80pct", "munis >=80 % out", "number"),
    ("share_in_10_largest", "share in 10 largest", "share"),
    ("hoover_index", "Hoover index", "index"),
)


def _level(x: float, kind: str) -> str:
    if x is None or x != x:
        return "-"
    if kind == "share":
        return f"{100 * x:.1f} %"
    if kind == "index":
        return f"{x:.3f}"
    return f"{x:,.0f}" if abs(x) >= 100 else f"{x:.1f}"  # a mean count, as _change shows it


def _change(x: float, kind: str) -> str:
    if x is None or x != x:
        return "-"
    if kind == "share":
        return f"{100 * x:+.1f}"
    if kind == "index":
        return f"{x:+.3f}"
    return f"{x:+,.0f}" if abs(x) >= 100 else f"{x:+.1f}"


def _compare_tables(names: list[str], frames: list[Any], replicates: int) -> list[Table]:
    """Per scenario vs the reference (the first): reference and scenario means, the paired
    difference with its 5-95 % interval, and whether it is within noise."""
    from simulation.runs.compare import paired_differences

    tables = []
    for name, frame in zip(names[1:], frames[1:], strict=True):
        diffs = paired_differences(frames[0], frame).set_index("indicator")
        table = Table(title=Text(f"{name} minus {names[0]} (paired, {replicates} "
                                 "replicates; shares in % and points)"), title_justify="left")
        table.add_column("indicator", no_wrap=True)
        table.add_column("reference", justify="right", no_wrap=True)
        table.add_column("scenario", justify="right", no_wrap=True)
        table.add_column("difference [5-95 %]", justify="right", no_wrap=True)
        table.add_column("noise", justify="right", no_wrap=True)
        for key, label, kind in COMPARE_HEADLINES:
            if key not in diffs.index:
                continue
            d = diffs.loc[key]
            noise = d["within_noise"]
            table.add_row(label, _level(d["reference_mean"], kind),
                          _level(d["scenario_mean"], kind),
                          "-" if d["difference"] != d["difference"] else
                          f"{_change(d['difference'], kind)} [{_change(d['p5'], kind)}, "
                          f"{_change(d['p95'], kind)}]",
                          _MARK[None if noise is None or noise != noise else bool(noise)])
        tables.append(table)
    return tables


def cmd_compare(args: argparse.Namespace) -> int:
    """Run scenarios with the same replicate seeds and report paired differences."""
    from simulation.reports.atomic import reserve_output
    from simulation.runs.compare import _unique_names, write_comparison
    from simulation.runs.ensemble import default_jobs, indicator_frame, run_many

    if len(args.files) < 2:
        raise UsageError("compare needs at least two scenario files (the first is the "
                         "reference)")
    problems = []
    scenarios = []
    total = 0
    for path in args.files:
        try:
            scenarios.append(_load(path))
        except InputError as err:
            problems.extend(err.problems)
            total += err.total
    if problems:
        error = InputError(problems)
        error.total = max(total, error.total)
        raise error
    first = scenarios[0].schema
    seed = args.seed if args.seed is not None else first.seed
    replicates = args.replicates if args.replicates is not None else first.replicates
    out = Path(args.out) if args.out else Path("outputs") / (
        "compare_" + "_vs_".join(s.slug for s in scenarios))
    _check_posterior(args.posterior, scenarios)
    with reserve_output(out, args.force):
        sets = [s.posterior(args.posterior) if args.posterior else [s.params]
                for s in scenarios]
        total = sum(len(p) for p in sets) * replicates
        jobs = args.jobs or default_jobs(total)
        t0 = time.perf_counter()
        with _progress("compare", args.quiet) as bar:
            task = bar.add_task("run", total=total)
            results = run_many([(p, s.inputs) for p, s in zip(sets, scenarios, strict=True)],
                               seed, replicates, jobs, on_done=lambda n: bar.advance(task, n))
        for table in _compare_tables(_unique_names([s.name for s in scenarios]),
                                     [indicator_frame(r) for r in results], replicates):
            console.print(table)
        write_comparison(scenarios, results, out, force=args.force, jobs=jobs, seed=seed,
                         replicates=replicates,
                         timings={"ensemble_s": time.perf_counter() - t0},
                         posterior=args.posterior or 0)
    diffs = (out / "differences.csv")
    console.print(f"Wrote [bold]{_lit(out)}[/] in {time.perf_counter() - t0:.1f} s. "
                  f"Open {_lit(out / 'report.html')} (paired differences: {_lit(diffs)})")
    return 0


def _folder_of(out: Path, marks: tuple[str, ...], what: str) -> Any:
    """A check for a folder a command writes into (not atomically: calibration, sweeps):
    nothing there, an empty folder, or one with ``marks`` of that command; never a file or a
    foreign folder, whose files would be overwritten."""
    import os

    def check(path: Path, force: bool) -> None:
        if not os.path.lexists(path):
            return
        if path.is_symlink() or not path.is_dir():
            raise UsageError(f"{path} is a file, not a {what} folder; secmig does not "
                             "replace it: choose another --out")
        if any(path.iterdir()) and not any((path / m).exists() for m in marks):
            raise UsageError(f"{path} is a folder that does not hold a {what} from secmig; "
                             "secmig does not write into it: choose another --out")
        _writable_dir(path)

    return check


def cmd_calibrate(args: argparse.Namespace) -> int:
    """Fit the free parameters to the register targets; write fitted.yaml and a fit report."""
    from dataclasses import replace as dc_replace

    from simulation.calibration.fit import Evaluator, calibrate, load_spec
    from simulation.calibration.report import write_calibration
    from simulation.reports.atomic import reserve_output
    from simulation.runs.ensemble import default_jobs

    spec = load_spec(args.file)
    if args.seed is not None:
        spec = dc_replace(spec, seed=args.seed)
    base = Path(args.file).parent
    out = Path(args.out) if args.out else base / "fit" / spec.name
    fitted = Path(args.fitted) if args.fitted else base / (
        "fitted.yaml" if spec.name == "register-2010-2023" else f"fitted-{spec.name}.yaml")
    if fitted.is_dir():
        raise UsageError(f"--fitted: {fitted} is a folder; allowed: a YAML file path")
    if fitted.exists():
        try:
            head = fitted.read_text(encoding="utf-8", errors="replace")[:200]
        except OSError as err:
            raise UsageError(f"--fitted: cannot read {fitted} ({err.strerror})") from None
        if "GENERATED by secmig calibrate" not in head:
            raise UsageError(f"--fitted: {fitted} exists and was not written by secmig "
                             "calibrate; secmig does not replace it: choose another path")
    jobs = args.jobs or default_jobs(spec.replicates)
    log = out / "evaluations.jsonl"
    t0 = time.perf_counter()
    check_folder = _folder_of(out, ("evaluations.jsonl", "fit_targets.csv", "report.html"),
                              "calibration")
    with reserve_output(out, partial=False, check=check_folder), \
            Progress(TextColumn("[bold]calibrate"), TextColumn("{task.description}",
                                                               markup=False),
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
    table = Table(title=Text(f"Calibration '{spec.name}': distance {fit.start_distance:.1f} "
                             f"-> {fit.distance:.1f}"), title_justify="left")
    for col in ("target", "register", "simulated", "within"):
        table.add_column(col, no_wrap=col != "target")
    for r in check.itertuples():
        table.add_row(Text(r.target + (" (held out)" if r.role != "fitted" else "")),
                      f"{_fmt(r.register)} ± {_fmt(r.tolerance)}", _fmt(r.simulated_mean),
                      _MARK[r.within_tolerance])
    console.print(table)
    console.print(f"{int(fitted_rows['within_tolerance'].fillna(False).sum())} of "
                  f"{len(fitted_rows)} targets within tolerance. Wrote [bold]{_lit(fitted)}[/] "
                  f"and {_lit(out / 'report.html')} in {time.perf_counter() - t0:.0f} s "
                  f"({fit.evaluations} parameter points; log {_lit(log)}, rerun to resume).")
    return 0


def cmd_sweep(args: argparse.Namespace) -> int:
    """Run (or resume) a sensitivity sweep, then indices, scenario discovery and a report."""
    from simulation.reports.atomic import reserve_output
    from simulation.runs.ensemble import default_jobs
    from simulation.sweeps.runner import done_runs, run_sweep, tasks_to_run
    from simulation.sweeps.spec import load_sweep

    sweep = load_sweep(args.file)
    sch = sweep.schema
    out = Path(args.out) if args.out else Path("outputs") / "sweeps" / getattr(
        sweep, "slug", sch.name)
    total = len(sweep.unit_points()) * sch.replicates
    t0 = time.perf_counter()
    check_folder = _folder_of(out, ("sweep.json", "runs"), "sweep")
    with reserve_output(out, partial=False, check=check_folder):
        if args.report_only:
            rows = done_runs(out)
            if rows.empty:
                raise UsageError(f"{out} holds no runs of this sweep yet; run it first")
        else:
            todo = len(tasks_to_run(sweep, out, args.retry_failed)) if out.exists() else total
            jobs = args.jobs or default_jobs(todo)
            counts = {"failed": 0}
            with Progress(TextColumn("[bold]sweep"), BarColumn(), MofNCompleteColumn(),
                          TextColumn("runs, {task.fields[failed]} failed"),
                          TimeElapsedColumn(), TextColumn("left"), TimeRemainingColumn(),
                          console=err_console, disable=args.quiet) as bar:
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
                    err_console.print(f"[yellow]stopped[/]: {len(done_runs(out))} of {total} "
                                      f"runs are written in {_lit(out / 'runs')}; rerun the "
                                      "same command to resume")
                    return 130
            console.print(f"{len(rows)} of {total} runs ({total - todo} from before, "
                          f"{int((rows['status'] != 'ok').sum())} failed) in "
                          f"{time.perf_counter() - t0:.0f} s.")
        _sweep_outputs(sweep, rows, out, time.perf_counter() - t0)
    return 0


def _sweep_outputs(sweep: Any, rows: Any, out: Path, seconds: float) -> None:
    """Indices, scenario discovery, tidy tables and report.html of what is written so far."""
    import pandas as pd

    from simulation.sweeps.analysis import RANK_BY, discover, indices, ranking
    from simulation.sweeps.report import write_report

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
        console.print(f"  {ind}: " + ", ".join(f"{p} ({key} {v:.3g})" for p, v in ranked[:3]),
                      markup=False)
    for b in boxes:
        console.print(f"  {b.sentence()}", markup=False)
    console.print(f"Wrote {_lit(out / 'runs')} (Parquet), runs.csv, indices.csv, discovery.csv "
                  f"and [bold]{_lit(report)}[/].")


def cmd_params(args: argparse.Namespace) -> int:
    """Print the parameter registry (a table, or CSV for other tools)."""
    if args.csv:
        import pandas as pd

        pd.DataFrame(registry_table()).to_csv(sys.stdout, index=False)
        return 0
    table = Table(title="secmig parameter registry (secmig params --csv for a spreadsheet)",
                  title_justify="left", show_lines=True)
    table.add_column("parameter: meaning", ratio=1, overflow="fold")
    table.add_column("default", justify="right", no_wrap=True)
    table.add_column("range", no_wrap=True)
    table.add_column("unit", max_width=14, overflow="fold")
    for row in registry_table():
        text = Text(row["name"], style="bold")
        text.append(f"\n{row['meaning']}")
        table.add_row(text, f"{row['default']:g}", f"{row['low']:g}..{row['high']:g}",
                      Text(row["unit"]))
    console.print(table)
    return 0


def cmd_template(args: argparse.Namespace) -> int:
    """Print the commented scenario template (every key, generated from the registry)."""
    from simulation.inputs.template import template_text

    sys.stdout.write(template_text())
    return 0


def cmd_app(args: argparse.Namespace) -> int:
    """Serve the teaching app (Mesa SolaraViz on the real model) until Ctrl+C."""
    try:
        from simulation.app.serve import AddressError, serve
    except ImportError as err:
        raise UsageError(f"the teaching app needs its web packages ({err.name} is missing); "
                         "reinstall with `pip install -e .`") from None
    try:
        serve(args.host, args.port, toy=args.toy, open_browser=not args.no_browser)
    except AddressError as err:
        raise UsageError(str(err)) from None
    return 0


REPLICATES = _whole(1, MAX_REPLICATES)
SEED = _whole(0, MAX_SEED)
JOBS = _whole(1, MAX_JOBS)


def _add_run_options(p: argparse.ArgumentParser) -> None:
    p.add_argument("--replicates", type=REPLICATES, metavar="N",
                   help=f"override the replicate count (1 to {MAX_REPLICATES})")
    p.add_argument("--seed", type=SEED, metavar="S",
                   help="override the scenario seed (a whole number >= 0)")
    p.add_argument("--jobs", type=JOBS, metavar="J",
                   help="worker processes (default: one per core); results are identical "
                        "for any J")
    p.add_argument("--out", type=_out_path, metavar="DIR",
                   help="output folder (default outputs/<name>); the only way to write "
                        "outside outputs/")
    p.add_argument("--force", action="store_true",
                   help="replace an existing output folder that secmig wrote (never a file "
                        "or another folder)")
    p.add_argument("--quiet", action="store_true", help="no progress bar")
    p.add_argument("--posterior", type=_whole(1, MAX_POSTERIOR), metavar="K",
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
    p.add_argument("--budget", type=_whole(1, 1_000_000), default=160, metavar="N",
                   help="parameter points to evaluate (each = the file's replicates); "
                        "default 160")
    p.add_argument("--jobs", type=JOBS, metavar="J", help="worker processes (default: cores)")
    p.add_argument("--seed", type=SEED, metavar="S", help="override the file's seed")
    p.add_argument("--out", type=_out_path, metavar="DIR",
                   help="report folder (default fit/<name> beside FILE)")
    p.add_argument("--fitted", type=_out_path, metavar="PATH",
                   help="fitted parameter file to write (default fitted.yaml beside FILE)")
    p.add_argument("--check-replicates", type=REPLICATES, default=10, metavar="N",
                   help="fresh replicates for the fit check (default 10)")
    p.add_argument("--check-draws", type=_whole(1, MAX_POSTERIOR), default=20, metavar="K",
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
    p.add_argument("--jobs", type=JOBS, metavar="J", help="worker processes (default: cores)")
    p.add_argument("--out", type=_out_path, metavar="DIR",
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


def _terminate(signum: int, frame: Any) -> None:
    raise KeyboardInterrupt


def _precheck(args: argparse.Namespace) -> None:
    """The YAML files named on the command line, read safely before the heavy imports (numpy,
    pandas, mesa, matplotlib): a special file, a huge file or an alias bomb is refused in
    well under a second, whatever the command."""
    from simulation.inputs.yamlsource import load_yaml

    if args.command == "validate":  # reports file by file itself, and imports little
        return
    named = args.files if hasattr(args, "files") else [getattr(args, "file", None)]
    problems = []
    for path in named:
        if path:
            try:
                load_yaml(path)
            except InputError as err:
                problems.extend(err.problems)
    if problems:
        raise InputError(problems)


def main(argv: list[str] | None = None) -> int:
    from simulation.reports.atomic import OutputError

    parser = build_parser()
    args = parser.parse_args(argv)
    if args.command is None:
        parser.print_help()
        return 0
    signal.signal(signal.SIGTERM, _terminate)
    try:
        _precheck(args)
        return args.func(args)
    except InputError as err:
        if args.debug:
            traceback.print_exc()
        err_console.print(f"[red]error:[/] {err.total} problem(s) in the input; "
                          "nothing was written")
        for p in err.problems:
            err_console.print(f"  {p}", markup=False)
        return USAGE_ERROR
    except (UsageError, OutputError) as err:
        if args.debug:
            traceback.print_exc()
        err_console.print(f"[red]error:[/] {_lit(err)}")
        return USAGE_ERROR
    except KeyboardInterrupt:
        err_console.print("[red]interrupted[/]: no output was written (earlier output is "
                          "untouched)")
        return 130
    except Exception as err:
        if args.debug:
            traceback.print_exc()
        err_console.print(f"[red]internal error:[/] {type(err).__name__}: {_lit(err)} "
                          "(run with --debug for the traceback)")
        return 1


if __name__ == "__main__":
    sys.exit(main())

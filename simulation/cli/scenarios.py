"""The scenario commands: validate files, run one scenario's ensemble, compare scenarios."""

from __future__ import annotations

import argparse
import time
from pathlib import Path

from simulation.cli.console import USAGE_ERROR, UsageError, console, err_console, lit, progress
from simulation.cli.places import BUILTIN_BASELINE, check_posterior, load, run_out
from simulation.cli.tables import compare_tables, headline_table
from simulation.engine.matching import MatchingError
from simulation.inputs.schema import problem_at
from simulation.inputs.yamlsource import InputError


def _matching_problem(err: MatchingError, scenarios: list) -> InputError:
    """A matching setting no assignment can meet, as an input problem of the scenario(s)
    that place by matching (file, line and key; exit 2, nothing written)."""
    key = tuple(err.key.split("."))
    where = [s for s in scenarios if s.inputs.allocation.matching is not None] or scenarios
    return InputError([problem_at(s.source, key, err.message) for s in where])


def cmd_validate(args: argparse.Namespace) -> int:
    """Check scenario files without running them; all problems at once."""
    bad = 0
    for path in args.files:
        try:
            scenario = load(path)
        except InputError as err:
            bad += 1
            err_console.print(f"[red]✗ {lit(path)}[/]: {err.total} problem(s)")
            for p in err.problems:
                err_console.print(f"  {p}", markup=False)
        else:
            console.print(f"[green]✓ {lit(path)}[/]: valid (scenario "
                          f"'{lit(scenario.name)}', {scenario.inputs.start}-"
                          f"{scenario.inputs.end}, {scenario.schema.replicates} replicates)")
    return USAGE_ERROR if bad else 0


def cmd_run(args: argparse.Namespace) -> int:
    """Run a scenario's ensemble of replicates and write its output folder."""
    from simulation.analysis.targets import departures
    from simulation.reports.atomic import reserve_output
    from simulation.runs.ensemble import indicator_frame, run_many
    from simulation.runs.output import write_ensemble
    from simulation.runs.parallel import default_jobs

    path = args.file or str(BUILTIN_BASELINE)
    # option values were checked by argparse: a bad one is never blamed on the file
    scenario = load(path, seed=args.seed, replicates=args.replicates)
    sch = scenario.schema
    out = run_out(args, scenario)
    check_posterior(args.posterior, [scenario])
    # lock, refuse what must not be replaced, and create the temporary folder now: a
    # read-only or busy place is found before the simulation, not after it
    with reserve_output(out, args.force):
        param_sets = (scenario.posterior(args.posterior) if args.posterior
                      else [scenario.params])
        total = len(param_sets) * sch.replicates
        jobs = args.jobs or default_jobs(total)
        t0 = time.perf_counter()
        with progress(sch.name, args.quiet) as bar:
            task = bar.add_task("run", total=total)
            try:
                summaries = run_many([(param_sets, scenario.inputs)], sch.seed,
                                     sch.replicates, jobs,
                                     on_done=lambda n: bar.advance(task, n))[0]
            except MatchingError as err:
                raise _matching_problem(err, [scenario]) from None
        t_sim = time.perf_counter() - t0
        frame = indicator_frame(summaries)
        what = (f"{args.posterior} posterior draws x {sch.replicates} replicates"
                if args.posterior else f"{sch.replicates} replicates")
        headline_table(frame, f"{sch.name}: {sch.period.start}-{sch.period.end}, mean of {what}, "
                         f"seed {sch.seed}", departures(scenario.params, scenario.inputs),
                       checks=scenario.calibration_checks
                       if scenario.at_calibrated_point and not args.posterior else None)
        write_ensemble(scenario, summaries, out, force=args.force, jobs=jobs,
                       timings={"ensemble_s": t_sim}, posterior=args.posterior or 0)
    console.print(f"Wrote [bold]{lit(out)}[/] in {time.perf_counter() - t0:.1f} s "
                  f"({jobs} worker process(es)). Open {lit(out / 'report.html')}")
    return 0


#: posterior draws from which a comparison's interval ends stop moving much with the draws
#: chosen (docs/policy.md, section 1: blocks of 20 draws put the no-rule effect's 5 % end
#: anywhere from -4.9 to -1.7 points; all 200 put it at -2.9)
STABLE_DRAWS = 100
#: that example, as the note quotes it: (draws, 5 % end in points) for the first 20 and all
#: 200 (tests/test_docs_numbers.py recomputes both from docs/sweeps/posterior-no-rule/)
FEW_MANY_ENDS = ((20, -1.7), (200, -2.9))


def cmd_compare(args: argparse.Namespace) -> int:
    """Run scenarios with the same replicate seeds and report paired differences."""
    from simulation.reports.atomic import reserve_output
    from simulation.runs.compare import _unique_names, write_comparison
    from simulation.runs.ensemble import run_many
    from simulation.runs.parallel import default_jobs

    if len(args.files) < 2:
        raise UsageError("compare needs at least two scenario files (the first is the "
                         "reference)")
    problems = []
    scenarios = []
    total = 0
    for path in args.files:
        try:
            scenarios.append(load(path))
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
    check_posterior(args.posterior, scenarios)
    with reserve_output(out, args.force):
        sets = [s.posterior(args.posterior) if args.posterior else [s.params]
                for s in scenarios]
        total = sum(len(p) for p in sets) * replicates
        jobs = args.jobs or default_jobs(total)
        t0 = time.perf_counter()
        with progress("compare", args.quiet) as bar:
            task = bar.add_task("run", total=total)
            try:
                results = run_many([(p, s.inputs) for p, s in zip(sets, scenarios,
                                                                  strict=True)],
                                   seed, replicates, jobs,
                                   on_done=lambda n: bar.advance(task, n), outcomes=True)
            except MatchingError as err:
                raise _matching_problem(err, scenarios) from None
        for table in compare_tables(_unique_names([s.name for s in scenarios]), results,
                                     replicates):
            console.print(table)
        write_comparison(scenarios, results, out, force=args.force, jobs=jobs, seed=seed,
                         replicates=replicates,
                         timings={"ensemble_s": time.perf_counter() - t0},
                         posterior=args.posterior or 0)
    diffs = (out / "differences.csv")
    console.print(f"Wrote [bold]{lit(out)}[/] in {time.perf_counter() - t0:.1f} s. "
                  f"Open {lit(out / 'report.html')} (paired differences: {lit(diffs)})")
    if args.posterior and args.posterior < STABLE_DRAWS:
        few, many = FEW_MANY_ENDS
        console.print(f"note: the intervals' ends come from {args.posterior} posterior draws "
                      "and move with the draws chosen (the no-rule effect's 5 % end: "
                      f"{few[1]:+.1f} points on {few[0]} draws, {many[1]:+.1f} on {many[0]}); "
                      f"use --posterior {STABLE_DRAWS} or "
                      "more for an answer to forward, or a posterior sweep with compare "
                      "(docs/sweeps.md)", markup=False)
    return 0

"""``secmig``'s entry point: parse, pre-check the named YAML files, run the command, and turn
every failure into a message and an exit code (2 for bad input, 130 when interrupted, 1 for an
internal error) without a traceback unless ``--debug``."""

from __future__ import annotations

import argparse
import signal
import sys
import traceback
from typing import Any

from simulation.cli.console import USAGE_ERROR, UsageError, err_console, lit
from simulation.cli.parser import build_parser
from simulation.inputs.yamlsource import InputError
from simulation.runs.dask_pool import DaskClusterError


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
    except (UsageError, OutputError, DaskClusterError) as err:
        if args.debug:
            traceback.print_exc()
        err_console.print(f"[red]error:[/] {lit(err)}")
        return USAGE_ERROR
    except KeyboardInterrupt:
        err_console.print("[red]interrupted[/]: no output was written (earlier output is "
                          "untouched)")
        return 130
    except Exception as err:
        if args.debug:
            traceback.print_exc()
        err_console.print(f"[red]internal error:[/] {type(err).__name__}: {lit(err)} "
                          "(run with --debug for the traceback)")
        return 1


if __name__ == "__main__":
    sys.exit(main())

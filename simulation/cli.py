"""The `secmig` command line."""

from __future__ import annotations

import argparse
import math
import sys
import time
from pathlib import Path

from rich.console import Console
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn
from rich.table import Table

from . import __version__
from .api import run
from .inputs import default_inputs
from .output import write_run
from .parameters import registry_table
from .targets import compare

console = Console()


def _fmt(x: float | None) -> str:
    if x is None or (isinstance(x, float) and math.isnan(x)):
        return "-"
    return f"{x:,.0f}" if abs(x) >= 100 or float(x).is_integer() else f"{x:.3f}"


def cmd_run(args: argparse.Namespace) -> int:
    """Run the built-in 2010-2023 baseline and write tables and figures."""
    inputs = default_inputs()
    years = len(inputs.years)
    t0 = time.perf_counter()
    with Progress(TextColumn("[bold]baseline"), BarColumn(), MofNCompleteColumn(),
                  TextColumn("years"), TimeElapsedColumn(), console=console,
                  disable=args.quiet) as bar:
        task = bar.add_task("run", total=years)
        res = run(seed=args.seed, inputs=inputs, on_year=lambda _y: bar.advance(task))
    ind = res.indicators()
    table = Table(title=f"Headline indicators, baseline {inputs.start}-{inputs.end}, "
                        f"seed {args.seed} (not yet calibrated)")
    table.add_column("indicator", no_wrap=True)
    for col in ("simulated", "register", "within"):
        table.add_column(col, justify="right", no_wrap=True)
    last_id = None
    for c in compare(ind):
        mark = {True: "[green]yes", False: "[red]no", None: "-"}[c.within]
        if c.key and c.id != last_id:
            table.add_row(c.id, "", "", "")
        last_id = c.id
        name = f"  {c.key}" + (" ÷ all" if c.compared_as != "level" else "") if c.key else c.id
        table.add_row(name, _fmt(c.simulated), f"{_fmt(c.register)} ± {_fmt(c.tolerance)}", mark)
    for key in ("hoover_index", "share_in_10_largest", "share_centrality_5_6",
                "moves_per_year"):
        table.add_row(key, _fmt(ind[key]), "-", "-")
    console.print(table)
    out = write_run(res, Path(args.out))
    sim_s = res.timings["simulate_s"]
    console.print(f"Wrote tables and figures to [bold]{out}[/] "
                  f"({time.perf_counter() - t0:.1f} s; simulation {sim_s:.2f} s)")
    console.print(f"Retention curve: {out / 'figures' / 'retention.png'}")
    return 0


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


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="secmig",
        description="Agent-based simulation of refugees' secondary migration between Norway's "
                    "357 municipalities.")
    parser.add_argument("--version", action="version", version=f"secmig {__version__}")
    sub = parser.add_subparsers(dest="command", metavar="COMMAND")
    p_run = sub.add_parser("run", help="run the built-in 2010-2023 baseline and write outputs",
                           description="Run the built-in 2010-2023 baseline on the built-in "
                                       "geography and register inputs; print headline "
                                       "indicators beside the register targets; write CSV "
                                       "tables and figures.")
    p_run.add_argument("--seed", type=int, default=0, help="random seed (default 0)")
    p_run.add_argument("--out", default="outputs/baseline",
                       help="output directory (default outputs/baseline)")
    p_run.add_argument("--quiet", action="store_true", help="no progress bar")
    p_run.set_defaults(func=cmd_run)
    p_params = sub.add_parser("params", help="list the parameter registry")
    p_params.add_argument("--csv", action="store_true", help="print CSV instead of a table")
    p_params.set_defaults(func=cmd_params)
    return parser


def main(argv: list[str] | None = None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    if args.command is None:
        parser.print_help()
        return 0
    try:
        return args.func(args)
    except KeyboardInterrupt:
        console.print("[red]interrupted[/]; no output was written")
        return 130


if __name__ == "__main__":
    sys.exit(main())

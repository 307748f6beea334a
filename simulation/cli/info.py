"""The commands that show or serve rather than simulate: the parameter registry, the
scenario template, the teaching app."""

from __future__ import annotations

import argparse
import sys

from rich.table import Table
from rich.text import Text

from simulation.cli.console import UsageError, console
from simulation.inputs.parameters import registry_table


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
    table.add_column("prior", no_wrap=True)
    table.add_column("unit", max_width=14, overflow="fold")
    for row in registry_table():
        text = Text(row["name"], style="bold")
        text.append(f"\n{row['meaning']}")
        prior = ("-" if row["prior_low"] is None
                 else f"{row['prior_low']:g}..{row['prior_high']:g}")
        table.add_row(text, f"{row['default']:g}", f"{row['low']:g}..{row['high']:g}", prior,
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

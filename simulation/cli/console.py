"""Terminal output shared by the commands: the consoles, number formats, progress bars and the
exit code of a usage error.

User text (paths, names, messages) is printed literally: no emoji codes, no highlighting, and
markup only in our own fixed strings, with user values escaped (see :func:`lit`).
"""

from __future__ import annotations

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
from rich.text import Text

from simulation.reports.numbers import number

console = Console(emoji=False, highlight=False)
err_console = Console(stderr=True, soft_wrap=True, emoji=False, highlight=False)

USAGE_ERROR = 2


class UsageError(Exception):
    """A command-line mistake the user can fix (exit code 2)."""


def lit(value: Any) -> str:
    """A user value (path, name, message) made safe to put into a markup string."""
    return escape(str(value))


def shown(text: str) -> str:
    """A command-line value as given, quoted only where that is needed to see it."""
    text = str(text)
    if len(text) > 40:
        text = text[:37] + "..."
    return text if text and text.strip() == text and text.isprintable() else repr(text)


def fmt(x: float | None, kind: str = "number", *, signed: bool = False) -> str:
    """A number for the terminal: as in the reports (reports/numbers.py), with a comma as the
    thousands separator and '-' when missing."""
    return number(x, kind, signed=signed, missing="-", sep=",")


def progress(label: str, disable: bool) -> Progress:
    return Progress(TextColumn(f"[bold]{lit(label)}"), BarColumn(), MofNCompleteColumn(),
                    TextColumn("runs"), TimeElapsedColumn(), TimeRemainingColumn(),
                    console=err_console, disable=disable)


MARK = {True: Text("yes", style="green"), False: Text("no", style="red"), None: Text("-")}


def short(key: str) -> str:
    """An indicator key short enough for an 80-column table."""
    key = key.replace("settled_persons_", "settled_").replace("at_least_", ">=")
    key = key.replace("_refugees_", "_").replace("_years", "y")
    return key if len(key) <= 36 else key[:35] + "…"

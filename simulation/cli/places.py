"""Where a command reads its default scenario and writes its output, checked before any
simulation runs: a read-only or foreign place is found up front, not after the work."""

from __future__ import annotations

import argparse
from importlib.resources import files
from pathlib import Path
from typing import Any

from simulation.cli.console import UsageError
from simulation.inputs.yamlsource import InputError, Problem

BUILTIN_BASELINE = files("simulation") / "data" / "baseline.yaml"


def load(path: str, **overrides: Any):
    from simulation.inputs.scenario import load_scenario

    return load_scenario(path, **overrides)


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


def run_out(args: argparse.Namespace, scenario: Any) -> Path:
    # like the default outputs/<name>, a directory from the file is relative to where
    # secmig runs (not to the scenario file)
    if args.out:
        return Path(args.out)
    if scenario.schema.outputs.directory is not None:
        return _file_directory(scenario)
    return Path("outputs") / scenario.slug


def check_posterior(k: int | None, scenarios: list[Any]) -> None:
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


def writable_dir(out: Path) -> None:
    """An existing folder that secmig will write into must be writable (checked up front)."""
    import os

    if out.is_dir() and not os.access(out, os.W_OK | os.X_OK):
        raise UsageError(f"cannot write to {out} (no write permission); choose another --out "
                         "or make it writable")


def folder_check(out: Path, marks: tuple[str, ...], what: str) -> Any:
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
        writable_dir(path)

    return check

"""The architecture the folder names promise, checked by import-linter against the contracts in
pyproject.toml ([tool.importlinter]): a module imports only from its own layer or lower ones
(inputs < engine < analysis < reports < runs < calibration | sweeps < app < cli < slurm; the
two research rooms never import each other), there is no import cycle at any level, and the
shipped package carries no test harness.

Each contract is its own test, so a failure names the rule and import-linter's message says
which import breaks it (file and line).
"""

from __future__ import annotations

import re
import subprocess
import sys
import tomllib
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
PYPROJECT = ROOT / "pyproject.toml"
# the console script `lint-imports`, run with this interpreter (no PATH lookup); --no-cache so
# that it writes nothing into the working tree
LINT = ("import sys; from importlinter.cli import lint_imports_command; "
        "sys.exit(lint_imports_command())")


def contracts() -> dict[str, dict]:
    config = tomllib.loads(PYPROJECT.read_text(encoding="utf-8"))["tool"]["importlinter"]
    return {c["id"]: c for c in config["contracts"]}


def lint(contract: str) -> None:
    """Run one contract; fail with import-linter's report if it is broken."""
    done = subprocess.run([sys.executable, "-c", LINT, "--no-cache", "--no-logo",
                           "--contract", contract, str(PYPROJECT)],
                          capture_output=True, text=True, cwd=ROOT, timeout=120)
    if done.returncode != 0:
        pytest.fail(f"import-linter contract {contract!r} broken:\n{done.stdout}\n{done.stderr}",
                    pytrace=False)
    assert "1 kept, 0 broken" in done.stdout, done.stdout


def test_the_contracts_cover_every_subpackage_and_the_layer_order():
    """The contract is the one the brief states (a typo here would make it vacuous)."""
    layers = contracts()["layers"]
    assert layers["layers"] == ["slurm", "cli", "app", "calibration | sweeps", "runs",
                                "reports", "analysis", "engine", "inputs"]
    assert layers["exhaustive"] is True  # a new subpackage must be placed in a layer
    packages = {p.name for p in (ROOT / "simulation").iterdir()
                if p.is_dir() and (p / "__init__.py").exists()}
    modules = {p.stem for p in (ROOT / "simulation").glob("*.py")} - {"__init__"}
    named = {part.strip() for row in layers["layers"] for part in row.replace("|", ":").split(":")}
    assert packages | modules == named


def test_layers():
    lint("layers")


def test_no_import_cycles():
    lint("acyclic")


def test_no_test_harness_in_the_package():
    lint("no-test-harness")
    assert not list((ROOT / "simulation").rglob("chromium.py"))
    # also the imports the import graph cannot see: importlib with a string
    dynamic = re.compile(r"""(import_module|__import__)\(\s*["']"""
                         r"(playwright|pytest|hypothesis|tests)\b")
    for path in (ROOT / "simulation").rglob("*.py"):
        hit = dynamic.search(path.read_text(encoding="utf-8"))
        assert hit is None, f"{path.relative_to(ROOT)}: {hit[0]}"

"""Shared fixtures: full-size baseline runs are ~1 s, so a few are computed once per session;
paired differences over replicates; and a guard that the tests write only into temporary
folders, never into the working tree."""

from __future__ import annotations

import os
import shutil
import signal
import subprocess
from collections.abc import Sequence
from pathlib import Path

import numpy as np
import pytest
from threadpoolctl import threadpool_limits

import simulation

# one BLAS thread per test process: on this 2-core machine the tests share the cores with
# worker processes, and a multi-threaded OpenBLAS spinning against them made one SALib test
# take 80 s instead of 5 (the package itself leaves the BLAS default alone)
threadpool_limits(1)

# the interrupt tests send SIGINT to child processes: a test run started in the background
# (nohup, `cmd &` in a script) inherits SIGINT ignored, children inherit that, and Python then
# installs no KeyboardInterrupt handler; catching it here gives children the default again
signal.signal(signal.SIGINT, signal.default_int_handler)

ROOT = Path(__file__).resolve().parents[1]
# the fixed replicate seeds of the paired tests: 8 replicates give the paired mean a standard
# error that is many times smaller than the unpaired sampling error of one run
PAIRED_SEEDS = tuple(range(101, 109))
# what tools may write while the tests run (caches), outside the tree check
CACHES = (".venv", ".hypothesis", ".pytest_cache", ".ruff_cache", ".import_linter_cache",
          "*.egg-info", "**/__pycache__", "**/__pycache__/**")


@pytest.fixture(scope="session")
def baseline() -> simulation.Results:
    """The default 2010-2023 baseline, seed 1."""
    return simulation.run(seed=1)


@pytest.fixture(scope="session")
def baseline_inputs() -> simulation.Inputs:
    return simulation.default_inputs()


@pytest.fixture(scope="module")
def browser():
    """Debian's headless Chromium driven by Playwright, one per test module. Skipped on a
    developer machine without it; in CI a missing Chromium fails (`.ci/run` installs it)."""
    from tests.chromium import CHROMIUM, CHROMIUM_ARGS

    if not Path(CHROMIUM).exists():
        if os.environ.get("CI"):
            pytest.fail("Chromium is missing in CI: .ci/run must install it")
        pytest.skip("Chromium not installed (apt-get install chromium)")
    from playwright.sync_api import sync_playwright

    with sync_playwright() as pw:
        b = pw.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS, headless=True)
        yield b
        b.close()


# --------------------------------------------------------------------------- paired differences


class Paired:
    """Per-replicate differences ``b - a`` of one measure between two variants run with the same
    replicate seeds (common random numbers), tested against their own standard error.

    The paired spread is many times smaller than the unpaired sampling error (4 sqrt(a + b) for
    counts), so these tests see changes that a comparison of two single runs cannot.
    """

    SEEDS = PAIRED_SEEDS

    def __init__(self, b: Sequence[float], a: Sequence[float], what: str) -> None:
        self.diff = np.asarray(b, dtype=float) - np.asarray(a, dtype=float)
        if self.diff.size < 3:
            raise ValueError("a paired test needs at least 3 replicates")
        self.what = what
        self.mean = float(self.diff.mean())
        self.se = float(self.diff.std(ddof=1) / np.sqrt(self.diff.size))

    def __repr__(self) -> str:
        return (f"{self.what}: mean difference {self.mean:+.2f}, standard error {self.se:.2f} "
                f"over {self.diff.size} paired replicates ({self.diff.tolist()})")

    def assert_positive(self) -> None:
        """An effect: the mean difference exceeds four of its standard errors."""
        assert self.mean > 4 * self.se, self

    def assert_within(self, margin: float) -> None:
        """No effect beyond ``margin``: the mean difference plus four standard errors stays
        inside it (an equivalence test, for knock-on effects the model really has)."""
        assert abs(self.mean) + 4 * self.se <= margin, f"{self} exceeds ±{margin:.2f}"


@pytest.fixture(scope="session")
def paired() -> type[Paired]:
    """The paired-difference test: run both variants for each of ``paired.SEEDS``, then
    ``paired(b, a, what).assert_positive()`` or ``.assert_within(margin)``."""
    return Paired


# --------------------------------------------------------------------------- the working tree


def _tree_state() -> dict[str, tuple[str, int, int]] | None:
    """Every file git reports as changed, new or ignored (caches left out), with its size and
    modification time; None outside a git checkout."""
    if shutil.which("git") is None or not (ROOT / ".git").exists():
        return None
    done = subprocess.run(["git", "status", "--porcelain", "--ignored", "--untracked-files=all",
                           "-z", "--", ".", *(f":(exclude){c}" for c in CACHES)],
                          cwd=ROOT, capture_output=True, text=True, check=False)
    if done.returncode != 0:
        return None
    state = {}
    entries = iter(done.stdout.split("\0"))
    for entry in entries:
        if not entry:
            continue
        code, name = entry[:2], entry[3:]
        if "R" in code or "C" in code:
            next(entries, None)  # a rename or copy: its source path follows
        path = ROOT / name
        st = path.stat() if path.exists() else None
        state[name] = (code, st.st_size if st else -1, st.st_mtime_ns if st else -1)
    return state


@pytest.fixture(scope="session", autouse=True)
def tests_leave_the_tree_alone():
    """Fails the session if any test wrote into the working tree (outputs/, reports, files
    next to the tests): tests write into tmp_path. Compares git's view of changed, new and
    ignored files (with sizes and times) before and after the session."""
    before = _tree_state()
    yield
    after = _tree_state()
    if before is None or after is None:
        return
    changed = sorted(name for name in before.keys() | after.keys()
                     if before.get(name) != after.get(name))
    if changed:
        pytest.fail("the tests changed the working tree (write into tmp_path instead; if you "
                    "edited these files yourself while the tests ran, run them again):\n  "
                    + "\n  ".join(changed), pytrace=False)

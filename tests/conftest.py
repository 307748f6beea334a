"""Shared fixtures: full-size baseline runs are ~1 s, so a few are computed once per session."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

import simulation


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

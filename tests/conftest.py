"""Shared fixtures: full-size baseline runs are ~1 s, so a few are computed once per session."""

from __future__ import annotations

import pytest

import simulation


@pytest.fixture(scope="session")
def baseline() -> simulation.Results:
    """The default 2010-2023 baseline, seed 1."""
    return simulation.run(seed=1)


@pytest.fixture(scope="session")
def baseline_inputs() -> simulation.Inputs:
    return simulation.default_inputs()

"""TEMPORARY (lead's branch): the slow route; replaced by the PERF helper's fast path."""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np

from simulation.inputs.defaults import Inputs
from simulation.inputs.parameters import Params


def simulate_moments(params: Params, seed: np.random.SeedSequence | int, inputs: Inputs,
                     names: Sequence[str]) -> np.ndarray:
    from simulation.analysis.indicators import indicators
    from simulation.engine.driver import run
    from simulation.runs.ensemble import flatten

    flat = flatten(indicators(run(params, seed, inputs)))
    return np.array([flat.get(n, float("nan")) for n in names], dtype=float)

"""The Python API: everything in, results out.

>>> import simulation
>>> res = simulation.run(seed=1)                      # the 2010-2023 baseline
>>> res.indicators()["retention_7y"]                  # doctest: +SKIP
"""

from __future__ import annotations

import time
from collections.abc import Callable, Mapping
from typing import Any

import numpy as np

from .inputs import Inputs, default_inputs
from .model import SecondaryMigrationModel
from .parameters import Params
from .results import Results, build_results


def run(params: Params | Mapping[str, Any] | None = None,
        seed: int | np.random.SeedSequence = 0, inputs: Inputs | None = None, *,
        on_year: Callable[[int], None] | None = None) -> Results:
    """Run one replicate and return its Results (small and picklable).

    ``params`` overrides registry defaults by name; ``seed`` is an int or a SeedSequence
    spawned from a scenario seed (see randomness.replicate_seeds); ``on_year`` is called after
    each simulated year (for progress bars).
    """
    params = params if isinstance(params, Params) else Params(params)
    inputs = inputs or default_inputs()
    t0 = time.perf_counter()
    model = SecondaryMigrationModel(params, inputs, seed)
    t1 = time.perf_counter()
    while model.running:
        model.step()
        if on_year is not None:
            on_year(model.year - 1)
    t2 = time.perf_counter()
    seed_value = int(seed) if not isinstance(seed, np.random.SeedSequence) else None
    res = build_results(model, seed_value, {})
    model.release()
    t3 = time.perf_counter()
    res.timings.update(setup_s=t1 - t0, simulate_s=t2 - t1, results_s=t3 - t2)
    return res

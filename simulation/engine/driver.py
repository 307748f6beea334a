"""The Python API: everything in, results out.

>>> import simulation
>>> res = simulation.run(seed=1)                      # the 2010-2023 baseline
>>> simulation.indicators(res)["retention_7y"]        # doctest: +SKIP
"""

from __future__ import annotations

import time
from collections.abc import Callable, Mapping
from typing import Any

import numpy as np
from threadpoolctl import threadpool_limits

from simulation.engine.ledger import Ledger
from simulation.engine.loop import YearLoop
from simulation.engine.model import SecondaryMigrationModel
from simulation.engine.results import Results, build_results
from simulation.inputs.defaults import Inputs, default_inputs
from simulation.inputs.ledger_rates import ledger_rates
from simulation.inputs.limits import MAX_SEED
from simulation.inputs.parameters import Params


def check_params(params: Any) -> Params:
    """``params`` as Params: None, a Params or a mapping of registry names to numbers; a
    TypeError for anything else, a ParameterError (a ValueError) for a bad name or value."""
    if params is None or isinstance(params, Params):
        return params if params is not None else Params()
    if not isinstance(params, Mapping):
        raise TypeError(f"run: params: got {type(params).__name__} ({params!r:.60}); allowed: "
                        "None, a Params or a mapping {name: number} of registry parameters "
                        "(see `secmig params`)")
    bad = [k for k in params if not isinstance(k, str)]
    if bad:
        raise TypeError(f"run: params: got the key {bad[0]!r}; allowed: parameter names "
                        "(strings) from the registry (see `secmig params`)")
    return Params(params)


def check_seed(seed: Any) -> int | np.random.SeedSequence:
    """``seed`` if it is a whole number from 0 to 2**63-1 or a SeedSequence; TypeError for
    other types (floats, strings, bools), ValueError for a whole number out of range."""
    if isinstance(seed, np.random.SeedSequence):
        return seed
    allowed = f"allowed: a whole number from 0 to {MAX_SEED} or a numpy SeedSequence"
    if isinstance(seed, bool) or not isinstance(seed, (int, np.integer)):
        raise TypeError(f"run: seed: got {seed!r:.60}; {allowed}")
    if not 0 <= int(seed) <= MAX_SEED:
        raise ValueError(f"run: seed: got {seed!r}; {allowed}")
    return int(seed)


def run(params: Params | Mapping[str, Any] | None = None,
        seed: int | np.random.SeedSequence = 0, inputs: Inputs | None = None, *,
        on_year: Callable[[int], None] | None = None, ledger: bool = False) -> Results:
    """Run one replicate of the engine and return its Results (small and picklable).

    Args:
        params: None (the registry defaults), a Params, or a mapping of registry names to
            numbers that overrides the defaults (``{"rights_years": 3}``); see
            ``secmig params`` for the names.
        seed: a whole number from 0 to 2**63-1, or a SeedSequence spawned from a scenario
            seed (see randomness.replicate_seeds). The same seed gives bit-identical results.
        inputs: None (the built-in 2010-2023 baseline) or an Inputs from
            ``default_inputs()``, a loaded scenario or ``inputs.scaled(...)``.
        on_year: called with each simulated year after it ends (for progress bars).
        ledger: also keep the municipal ledger in NOK (``Results.ledger``; engine/ledger.py),
            about a quarter more simulation time; ``secmig run`` and ``compare`` keep it.

    Returns:
        Results: tables (households, moves, retention panel, cohorts, stocks, yearly series,
        municipality series) and ``indicators()``; ``timings`` in seconds.

    Raises:
        TypeError, ValueError: a parameter, seed or input outside what is allowed (the
            message says what is).

    Example:
        >>> import simulation
        >>> res = simulation.run({"rights_years": 3}, seed=1,
        ...                      inputs=simulation.default_inputs(2010, 2015).scaled(0.1))
        >>> sorted(res.yearly["year"])[:2]
        [2010, 2011]
        >>> simulation.indicators(res)["retention_5y"]  # doctest: +SKIP
        0.80...
    """
    params = check_params(params)
    seed = check_seed(seed)
    if inputs is not None and not isinstance(inputs, Inputs):
        raise TypeError(f"run: inputs: got {type(inputs).__name__} ({inputs!r:.60}); allowed: "
                        "None (the built-in baseline) or an Inputs from default_inputs() or "
                        "a loaded scenario")
    if on_year is not None and not callable(on_year):
        raise TypeError(f"run: on_year: got {on_year!r:.60}; allowed: None or a function "
                        "of the year")
    return simulate(SecondaryMigrationModel, params, seed,
                    inputs if inputs is not None else default_inputs(), on_year, ledger)


def simulate(model_class: type[YearLoop], params: Params, seed: int | np.random.SeedSequence,
             inputs: Inputs, on_year: Callable[[int], None] | None = None,
             ledger: bool = False) -> Results:
    """Build a model of ``model_class`` (the engine or the reference), run every year, and
    turn it into Results; the one driver both models share (arguments already checked)."""
    t0 = time.perf_counter()
    model = model_class(params, inputs, seed)
    if ledger:
        model.ledger = Ledger(ledger_rates())
    t1 = time.perf_counter()
    # one BLAS thread: the model's matrix products are small (groups x municipalities), and
    # a run then computes them the same way in any process, alone or beside other workers
    with threadpool_limits(1):
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

"""secmig: refugees' secondary migration between Norway's municipalities, as an agent-based
simulation (households as vectorized columns, municipalities as mesa agents).

The subpackages are the rooms data flows through, one way: ``inputs`` (registry, geography,
scenario files) -> ``engine`` (the model and its stages) -> ``analysis`` (indicators and their
registry) -> ``reports`` (pages, figures) -> ``runs`` (ensembles, comparisons) ->
``calibration`` and ``sweeps`` -> the front ends ``app``, ``cli`` and ``slurm``. A module
imports only from its own room or earlier ones (tests/test_architecture.py).

The public names load on first use, so that `secmig --help` and validation start fast.
"""

from __future__ import annotations

from importlib import import_module
from typing import Any

__version__ = "0.1.0"

_EXPORTS = {
    "run": "engine.driver", "Results": "engine.results", "Geography": "inputs.geography",
    "GeographyError": "inputs.geography_csv", "load_geography": "inputs.geography_csv",
    "Inputs": "inputs.defaults", "AllocationPolicy": "inputs.defaults",
    "default_inputs": "inputs.defaults", "REGISTRY": "inputs.parameters",
    "Parameter": "inputs.parameters", "ParameterError": "inputs.parameters",
    "Params": "inputs.parameters", "load_scenario": "inputs.scenario",
    "calibrated": "inputs.parameters", "indicators": "analysis.indicators",
    "municipality_indicators": "analysis.indicators", "retention": "analysis.measures",
    "outcomes_by_subgroup": "analysis.outcomes",
    "indicator_ids": "analysis.registry", "describe": "analysis.registry",
}

__all__ = ["__version__", *_EXPORTS]


def __getattr__(name: str) -> Any:
    if name in _EXPORTS:
        value = getattr(import_module(f".{_EXPORTS[name]}", __name__), name)
        globals()[name] = value
        return value
    raise AttributeError(f"module 'simulation' has no attribute {name!r}")

"""secmig: refugees' secondary migration between Norway's municipalities, as an agent-based
simulation (households as vectorized columns, municipalities as mesa agents).

The public names load on first use, so that `secmig --help` and validation start fast.
"""

from __future__ import annotations

from importlib import import_module
from typing import Any

__version__ = "0.1.0"

_EXPORTS = {
    "run": "api", "Results": "results", "Geography": "geography",
    "GeographyError": "geography", "load_geography": "geography", "Inputs": "inputs",
    "AllocationPolicy": "inputs", "default_inputs": "inputs", "REGISTRY": "parameters",
    "Parameter": "parameters", "ParameterError": "parameters", "Params": "parameters",
    "load_scenario": "scenario", "calibrated": "parameters",
}

__all__ = ["__version__", *_EXPORTS]


def __getattr__(name: str) -> Any:
    if name in _EXPORTS:
        value = getattr(import_module(f".{_EXPORTS[name]}", __name__), name)
        globals()[name] = value
        return value
    raise AttributeError(f"module 'simulation' has no attribute {name!r}")

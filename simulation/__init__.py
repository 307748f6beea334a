"""secmig: refugees' secondary migration between Norway's municipalities, as an agent-based
simulation (households as vectorized columns, municipalities as mesa agents)."""

from .api import run
from .geography import Geography, GeographyError, load_geography
from .inputs import AllocationPolicy, Inputs, default_inputs
from .parameters import REGISTRY, Parameter, ParameterError, Params
from .results import Results

__version__ = "0.1.0"

__all__ = [
    "REGISTRY", "AllocationPolicy", "Geography", "GeographyError", "Inputs", "Parameter",
    "ParameterError", "Params", "Results", "__version__", "default_inputs", "load_geography",
    "run",
]

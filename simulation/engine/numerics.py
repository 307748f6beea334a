"""Which arithmetic a process's results depend on, beyond the seed: numpy computes float64
``exp``, ``log``, ``log1p``, ``expm1``, ``log10`` and ``power`` with Intel's SVML routines on
processors with AVX-512 and with the C library's elsewhere, and the two differ in the last bit
for a few percent of arguments (docs/calibration.md, "Resuming, reproducibility, Dask"). A
run is bit-identical to another only where this signature is the same, so manifests record it
and a Dask cluster whose workers differ from the client is refused."""

from __future__ import annotations

import platform

import numpy as np


def signature() -> str:
    """numpy's version, the processor architecture and the SIMD targets numpy dispatches to
    in this process (after ``NPY_DISABLE_CPU_FEATURES``), e.g.
    ``numpy 2.4.6 x86_64 X86_V3 X86_V4 AVX512_ICL``."""
    try:
        from numpy._core._multiarray_umath import __cpu_dispatch__, __cpu_features__
    except ImportError:  # a numpy without these (private) tables: say so
        return " ".join(["numpy", np.__version__, platform.machine(), "simd-unknown"])
    targets = [t for t in __cpu_dispatch__ if __cpu_features__.get(t)]
    return " ".join(["numpy", np.__version__, platform.machine(), *targets])

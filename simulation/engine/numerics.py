"""Which arithmetic a process's results depend on, beyond the seed: numpy computes float64
``exp``, ``log``, ``log1p``, ``expm1``, ``log10`` and ``power`` with Intel's SVML routines on
processors with AVX-512 and with the C library's elsewhere, and the two differ in the last bit
for a few percent of arguments (docs/calibration.md, "Resuming, reproducibility, Dask"); the
compiled kernels call the C library's ``log`` and ``sqrt`` through numba. Runs can be expected
to be bit-identical only where this signature is the same (it is necessary, not proven
sufficient), so manifests record it and work computed under another one is not mixed in."""

from __future__ import annotations

import platform

import numpy as np


def signature() -> str:
    """numpy's and numba's versions, the C library, the processor architecture and the SIMD
    targets numpy dispatches to in this process (after ``NPY_DISABLE_CPU_FEATURES``), e.g.
    ``numpy 2.4.6 numba 0.68.1 glibc 2.36 x86_64 X86_V3 X86_V4 AVX512_ICL``."""
    import numba

    libc, libc_version = platform.libc_ver()
    head = ["numpy", np.__version__, "numba", numba.__version__, libc or "libc",
            libc_version or "unknown", platform.machine()]
    try:
        from numpy._core._multiarray_umath import __cpu_dispatch__, __cpu_features__
    except ImportError:  # a numpy without these (private) tables: say so
        return " ".join([*head, "simd-unknown"])
    return " ".join([*head, *(t for t in __cpu_dispatch__ if __cpu_features__.get(t))])

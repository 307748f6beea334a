"""Which arithmetic a process's results depend on, beyond the seed: numpy computes float64
``exp``, ``log``, ``log1p``, ``expm1``, ``log10`` and ``power`` with Intel's SVML routines on
processors with AVX-512 and with the C library's elsewhere, and the two differ in the last bit
for a few percent of arguments (docs/calibration.md, "Resuming, reproducibility, Dask"); the
compiled kernels call the C library's ``log`` and ``sqrt`` through numba; and matrix products
(the network within reach, correlations among the indicators) go to the BLAS, whose kernel
OpenBLAS picks by processor (``OPENBLAS_CORETYPE``), each summing in its own order. Runs can be
expected to be bit-identical only where this signature is the same (it is necessary, not
proven sufficient), so manifests record it and work computed under another one is not mixed
in."""

from __future__ import annotations

import contextlib
import platform
from functools import cache

import numpy as np


def signature() -> str:
    """numpy's and numba's versions, the C library, the processor architecture, the SIMD
    targets numpy dispatches to in this process (after ``NPY_DISABLE_CPU_FEATURES``) and the
    BLAS with the kernel it uses, e.g. ``numpy 2.4.6 numba 0.68.1 glibc 2.36 x86_64 X86_V3
    X86_V4 AVX512_ICL blas openblas 0.3.31.188.0 SkylakeX``. Fixed for a process (numpy and
    the BLAS choose when loaded), so worked out once."""
    return _signature()


@cache
def _signature() -> str:
    import numba

    libc, libc_version = platform.libc_ver()
    head = ["numpy", np.__version__, "numba", numba.__version__, libc or "libc",
            libc_version or "unknown", platform.machine()]
    try:
        from numpy._core._multiarray_umath import __cpu_dispatch__, __cpu_features__
    except ImportError:  # a numpy without these (private) tables: say so
        simd = ["simd-unknown"]
    else:
        simd = [t for t in __cpu_dispatch__ if __cpu_features__.get(t)]
    return " ".join([*head, *simd, *blas()])


def blas() -> list[str]:
    """numpy's and scipy's BLAS libraries, each as ``blas <library> <version> <kernel>``, in
    a fixed order (threadpoolctl reads them from the loaded shared objects; OpenBLAS names
    the kernel it chose for this processor, e.g. SkylakeX or Haswell). scipy's is loaded
    first, so that the answer does not depend on what the process happened to import."""
    from threadpoolctl import threadpool_info

    with contextlib.suppress(ImportError):
        import scipy.linalg  # noqa: F401  (loads scipy's BLAS; mesa imports it anyway)
    found = sorted({(str(lib.get("internal_api", "unknown")),
                     str(lib.get("version") or "unknown"),
                     str(lib.get("architecture") or "unknown"))
                    for lib in threadpool_info() if lib.get("user_api") == "blas"})
    return [part for lib in found for part in ("blas", *lib)] or ["blas-unknown"]

"""Which arithmetic a process's results depend on, beyond the seed: numpy computes float64
``exp``, ``log``, ``log1p``, ``expm1``, ``log10`` and ``power`` with Intel's SVML routines on
processors with AVX-512 and with the C library's elsewhere, and the two differ in the last bit
for a few percent of arguments (docs/calibration.md, "Resuming, reproducibility, Dask"); the
compiled kernels call the C library's ``log`` and ``sqrt`` through numba; and numpy's matrix
products (the network within reach, correlations among the indicators) go to its BLAS, whose
kernel OpenBLAS picks by processor (``OPENBLAS_CORETYPE``), each summing in its own order.
Runs can be expected to be bit-identical only where this signature is the same (it is
necessary, not proven sufficient), so manifests record it and work computed under another one
is not mixed in (:func:`accepts`)."""

from __future__ import annotations

import contextlib
import platform
from functools import cache
from pathlib import Path

import numpy as np


def signature() -> str:
    """numpy's and numba's versions, the C library, the processor architecture, the SIMD
    targets numpy dispatches to in this process (after ``NPY_DISABLE_CPU_FEATURES``) and
    numpy's BLAS with the kernel it uses, e.g. ``numpy 2.4.6 numba 0.68.1 glibc 2.36 x86_64
    X86_V3 X86_V4 AVX512_ICL blas openblas 0.3.31.188.0 SkylakeX``. Fixed for a process (numpy
    and its BLAS choose when loaded), so worked out once."""
    return _signature()


def accepts(recorded: str | None) -> bool:
    """Whether work recorded with signature ``recorded`` may be reused here: the same
    signature, none at all (written before signatures were recorded), or this one without its
    BLAS part (written before the BLAS was recorded, on this kind of machine)."""
    return recorded is None or recorded in (signature(), _without_blas())


@cache
def _signature() -> str:
    return " ".join([_without_blas(), *blas()])


@cache
def _without_blas() -> str:
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
    return " ".join([*head, *simd])


def _is_numpys(filepath: str) -> bool:
    """A BLAS shipped inside numpy's wheel (``numpy.libs/`` on Linux and Windows,
    ``numpy/.dylibs/`` on macOS)."""
    parent = Path(filepath).parent
    return parent.name.startswith("numpy") or parent.parent.name == "numpy"


def blas() -> list[str]:
    """numpy's BLAS as ``blas <library> <version> <kernel>`` (threadpoolctl reads it from the
    loaded shared objects; OpenBLAS names the kernel it chose for this processor, e.g.
    SkylakeX or Haswell). scipy's own BLAS is left out: nothing that makes a result calls it.
    Where numpy uses a system BLAS that cannot be told apart, every BLAS loaded is named,
    after loading scipy's, so that the answer does not depend on what the process imported."""
    from threadpoolctl import threadpool_info

    libs = [lib for lib in threadpool_info() if lib.get("user_api") == "blas"]
    own = [lib for lib in libs if _is_numpys(str(lib.get("filepath", "")))]
    if not own:
        with contextlib.suppress(ImportError):
            import scipy.linalg  # noqa: F401  (loads scipy's BLAS; mesa imports it anyway)
        own = [lib for lib in threadpool_info() if lib.get("user_api") == "blas"]
    found = sorted({(str(lib.get("internal_api", "unknown")),
                     str(lib.get("version") or "unknown"),
                     str(lib.get("architecture") or "unknown")) for lib in own})
    return [part for lib in found for part in ("blas", *lib)] or ["blas-unknown"]

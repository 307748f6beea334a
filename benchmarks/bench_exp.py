"""What an `exp` of the engine's own would cost (not a timed test: run by hand, figures go in
the README's Performance section and docs/calibration.md).

    python benchmarks/bench_exp.py

Results depend on the processor because numpy's float64 `exp` is Intel's SVML routine with
AVX-512 and the C library's without (engine/numerics.py). The cure is an `exp` compiled from
plain IEEE arithmetic, the same bits on every machine. This measures, on 1,000,000 arguments
drawn uniformly from [-30, 5] (the range of the engine's log-odds and utilities): numpy's
`exp`, numba calling the C library's, and fdlibm's algorithm (the reduction by ln 2 in two
parts, the rational approximation of Remes' P1..P5 and a scaling by a table of 2**k) in a
numba loop; and its accuracy against `exp` in long double (80-bit on x86). Then, in fresh
processes, whether each gives the same bits when numba compiles for a generic x86-64, for
Haswell (FMA) and for this processor, and with numpy's AVX-512 turned off.
"""

from __future__ import annotations

import math
import os
import subprocess
import sys
import time

import numpy as np
from numba import njit

LN2_HI, LN2_LO = 6.93147180369123816490e-01, 1.90821492927058770002e-10
INV_LN2 = 1.44269504088896338700e+00
P1, P2, P3 = 1.66666666666666019037e-01, -2.77777777770155933842e-03, 6.61375632143793436117e-05
P4, P5 = -1.65339022054652515390e-06, 4.13813679705723846039e-08
POW2 = np.array([math.ldexp(1.0, k) for k in range(-1074, 1024)])  # 2**k, exactly


@njit(cache=False)
def exp_libm(x: np.ndarray, out: np.ndarray) -> None:
    for i in range(x.size):
        out[i] = math.exp(x[i])


@njit(cache=False)
def exp_own(x: np.ndarray, out: np.ndarray, pow2: np.ndarray) -> None:
    for i in range(x.size):
        v = min(max(x[i], -745.0), 709.0)
        k = np.floor(v * INV_LN2 + 0.5)
        hi = v - k * LN2_HI
        lo = k * LN2_LO
        r = hi - lo
        t = r * r
        c = r - t * (P1 + t * (P2 + t * (P3 + t * (P4 + t * P5))))
        out[i] = (1.0 - ((lo - (r * c) / (2.0 - c)) - hi)) * pow2[np.int64(k) + 1074]


def ulps(values: np.ndarray, exact: np.ndarray) -> tuple[float, float]:
    """Largest error in units of the last place, and the share not correctly rounded."""
    err = np.abs((values.astype(np.longdouble) - exact)
                 / np.spacing(exact.astype(np.float64)).astype(np.longdouble))
    return float(err.max()), float((values != exact.astype(np.float64)).mean())


def main() -> None:
    x = np.random.default_rng(0).uniform(-30.0, 5.0, 1_000_000)
    out = np.empty_like(x)
    exp_libm(x, out)
    exp_own(x, out, POW2)
    ways = {"numpy np.exp": lambda: np.exp(x, out=out), "numba, C library": lambda: exp_libm(
        x, out), "numba, fdlibm's algorithm": lambda: exp_own(x, out, POW2)}
    exact = np.exp(x.astype(np.longdouble))
    print("| exp | ns per value (best of 15) | largest error (ulp) | not correctly rounded |")
    print("|---|---|---|---|")
    for name, call in ways.items():
        best = min(_timed(call) for _ in range(15)) / x.size * 1e9
        err, share = ulps(out, exact)
        print(f"| {name} | {best:.2f} | {err:.2f} | {share:.1%} |")
    same_everywhere()


CHILD = """
import hashlib, sys
import numpy as np
sys.path.insert(0, sys.argv[1])
from bench_exp import POW2, exp_own
x = np.random.default_rng(1).uniform(-700, 700, 2_000_000)
out = np.empty_like(x)
exp_own(x, out, POW2)
print(hashlib.sha256(out.tobytes()).hexdigest()[:12],
      hashlib.sha256(np.exp(x).tobytes()).hexdigest()[:12])
"""


def same_everywhere() -> None:
    """The bits of each exp on 2,000,000 values in [-700, 700], per way of compiling."""
    here = os.path.dirname(os.path.abspath(__file__))
    print("\n| compiled for | fdlibm's algorithm (sha256) | numpy np.exp (sha256) |")
    print("|---|---|---|")
    for label, env in (("this processor", {}), ("generic x86-64", {"NUMBA_CPU_NAME": "generic"}),
                       ("Haswell (FMA)", {"NUMBA_CPU_NAME": "haswell"}),
                       ("numpy without AVX-512",
                        {"NPY_DISABLE_CPU_FEATURES": "X86_V4 AVX512_ICL"})):
        out = subprocess.run([sys.executable, "-c", CHILD, here], capture_output=True,
                             text=True, check=True, env={**os.environ, **env}).stdout.split()
        print(f"| {label} | {out[0]} | {out[1]} |")


def _timed(call) -> float:
    t0 = time.perf_counter()
    call()
    return time.perf_counter() - t0


if __name__ == "__main__":
    main()

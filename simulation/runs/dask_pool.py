"""Tasks on a Dask distributed cluster, for work that a cluster shortens (calibration waves,
sweeps): 'local' starts a LocalCluster on loopback with ``jobs`` worker processes; anything else
is the address of a running scheduler (``tcp://host:8786``). Results come back in task order,
so the caller sees the same results whatever the cluster's size.
"""

from __future__ import annotations

import os
from collections.abc import Callable, Sequence
from typing import Any, TypeVar

T = TypeVar("T")

_MALLOC_TUNED = False


def signature() -> str:
    """This process's numerics signature (engine/numerics.py; imported when first needed, so
    that importing this module stays light for the command line)."""
    from simulation.engine.numerics import signature as numerics_signature

    return numerics_signature()


class DaskClusterError(ConnectionError):
    """The cluster cannot be used: unreachable, or its workers compute otherwise than this
    process (the CLI reports it with exit code 2)."""


def undo_dask_malloc_trim() -> None:
    """Dask's nanny starts workers with MALLOC_TRIM_THRESHOLD_ set, which turns off glibc's
    adaptive mmap threshold: every large numpy array is then mmapped and page-faulted anew,
    and a run takes ~60 % longer. Give big arrays back to the heap (once per process; glibc
    only, a no-op elsewhere)."""
    global _MALLOC_TUNED
    if _MALLOC_TUNED or "MALLOC_TRIM_THRESHOLD_" not in os.environ:
        return
    _MALLOC_TUNED = True
    try:
        import ctypes

        libc = ctypes.CDLL("libc.so.6")
        libc.mallopt(-3, 64 << 20)  # M_MMAP_THRESHOLD: arrays under 64 MiB from the heap
        libc.mallopt(-1, 256 << 20)  # M_TRIM_THRESHOLD: keep up to 256 MiB for reuse
    except (OSError, AttributeError):
        pass


def connect(scheduler: str, jobs: int) -> tuple[Any, Any]:
    """(client, cluster or None); a ConnectionError that says what to write when the address
    cannot be reached."""
    from distributed import Client, LocalCluster

    cluster = (LocalCluster(n_workers=max(1, jobs), threads_per_worker=1, processes=True,
                            dashboard_address=None, host="127.0.0.1")
               if scheduler == "local" else None)
    try:
        client = Client(cluster if cluster is not None else scheduler, timeout="20s")
    except (OSError, TimeoutError) as err:
        if cluster is not None:
            cluster.close()
        raise DaskClusterError(f"cannot reach the Dask scheduler at {scheduler!r} ({err}); "
                              "allowed: 'local' or a running scheduler's address such as "
                              "tcp://host:8786") from None
    try:
        check_workers(client.run(signature))
    except BaseException:  # refused, or the workers could not answer: leave nothing open
        client.close()
        if cluster is not None:
            cluster.close()
        raise
    return client, cluster


def check_workers(signatures: dict[str, str]) -> None:
    """Refuse a cluster whose workers compute numpy's transcendental functions (or matrix
    products) otherwise than this process (engine/numerics.py): their results would differ
    in the last bits from one machine's, and runs diverge from there, so the same seed would
    not give the same fit."""
    here = signature()
    other = {w: s for w, s in signatures.items() if s != here}
    if other:
        worker, theirs = sorted(other.items())[0]
        raise DaskClusterError(
            f"{len(other)} of {len(signatures)} Dask workers compute differently from this "
            f"process (worker {worker}: {theirs!r}; here: {here!r}), so results would not be "
            "bit-identical to a run on one machine; use workers with the same numpy, numba, C "
            "library, BLAS and processor features")


def signed(fn: Callable[..., T], *args: Any) -> tuple[str, T]:
    """A task as a worker runs it: (the worker's numerics signature, the result), so that a
    worker that joined after the check at connection (a batch job on Slurm) is checked too."""
    undo_dask_malloc_trim()
    return signature(), fn(*args)


def unsigned(pair: tuple[str, T], here: str) -> T:
    """A signed task's result; a ConnectionError if its worker computes otherwise than
    ``here`` (this process's signature)."""
    theirs, result = pair
    if theirs != here:
        raise DaskClusterError(
            f"a Dask worker computes differently from this process ({theirs!r}; here: "
            f"{here!r}), so results would not be bit-identical to a run on one machine; use "
            "workers with the same numpy, numba, C library, BLAS and processor features")
    return result


class DaskPool:
    """The WorkerPool interface (``map``, ``close``) on a Dask cluster, connected on first use
    and kept for every later batch."""

    def __init__(self, scheduler: str, jobs: int) -> None:
        self.scheduler, self.jobs = scheduler, jobs
        self._client: Any = None
        self._cluster: Any = None

    def map(self, fn: Callable[..., T], tasks: Sequence[tuple[Any, ...]],
            on_done: Callable[[int], None] | None = None) -> list[T]:
        from distributed import as_completed

        if self._client is None:
            self._client, self._cluster = connect(self.scheduler, self.jobs)
        futures = [self._client.submit(signed, fn, *t, pure=False) for t in tasks]
        position = {f.key: i for i, f in enumerate(futures)}
        out: list[Any] = [None] * len(tasks)
        here = signature()
        try:
            for fut in as_completed(futures):
                out[position[fut.key]] = unsigned(fut.result(), here)
                if on_done:
                    on_done(1)
        except BaseException:  # a refused worker, a failed task: stop the rest of the batch
            self._client.cancel(futures)
            raise
        return out

    def close(self) -> None:
        if self._client is not None:
            self._client.close()
        if self._cluster is not None:
            self._cluster.close()
        self._client = self._cluster = None

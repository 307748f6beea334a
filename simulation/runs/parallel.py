"""The one process-pool loop of the package: ensembles, calibration and sweeps all map a
function over tasks with it.

Workers are spawned clean, ignore Ctrl-C (the parent stops them) and exit when the parent
dies, so an interrupted run leaves no process computing for nobody. Results come back keyed by
task position, so whatever the number of workers the caller sees the same results in the same
order (``parallel_map``) or can keep each one as soon as it is done (``completed``).

Example::

    from simulation.runs.parallel import parallel_map

    squares = parallel_map(pow, [(2, 2), (3, 2)], jobs=2)  # [4, 9]
"""

from __future__ import annotations

import multiprocessing
import os
import signal
import sys
import threading
import time
from collections.abc import Callable, Iterator, Sequence
from concurrent.futures import ProcessPoolExecutor, as_completed
from typing import Any, TypeVar

T = TypeVar("T")

OnDone = Callable[[int], None]


def _quiet_worker(parent: int | None = None, pdeathsig: bool = False) -> None:
    """Initializer of every pool worker: ignore Ctrl-C (it reaches the whole process group;
    the parent cleans up and stops the workers) and exit when the parent dies, also by
    SIGKILL, so no worker keeps computing for nobody."""
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    # one BLAS thread per worker: the parallelism is the workers. With OpenBLAS's default
    # (a thread per core in every worker) the small matrix products of a run spun against
    # the other workers: placement by matching, which has many, ran 45 % slower.
    # threadpool_limits reaches only the libraries already loaded; SciPy brings its own
    # OpenBLAS, loaded with the first task that imports scipy.linalg, which reads these
    # variables when it loads. Without them a sweep's delta indices (SciPy's KDE) ran
    # 8x slower on two workers than in one process.
    for var in ("OPENBLAS_NUM_THREADS", "OMP_NUM_THREADS", "MKL_NUM_THREADS"):
        os.environ[var] = "1"
    from threadpoolctl import threadpool_limits

    threadpool_limits(1)
    if parent is None:
        return
    if pdeathsig:
        _exit_with_parent()
    threading.Thread(target=_watch_parent, args=(parent,), name="secmig-parent-watch",
                     daemon=True).start()


def _exit_with_parent() -> None:
    """Linux: have the kernel send SIGTERM to this process when its parent exits."""
    if not sys.platform.startswith("linux"):
        return
    try:
        import ctypes

        libc = ctypes.CDLL(None, use_errno=True)
        libc.prctl(1, signal.SIGTERM, 0, 0, 0)  # PR_SET_PDEATHSIG
    except (OSError, AttributeError):
        pass


def _watch_parent(parent: int, every: float = 0.5) -> None:
    """Fallback on any platform: poll the parent PID; when it is gone, exit at once."""
    while True:
        if os.getppid() != parent:
            os._exit(1)
        time.sleep(every)


class WorkerPool:
    """Worker processes kept for several maps (calibration evaluates batch after batch);
    ``jobs`` <= 1 runs every task in this process. Use it as a context manager, or call
    :meth:`close`."""

    def __init__(self, jobs: int) -> None:
        self.jobs = max(1, int(jobs))
        self._pool: ProcessPoolExecutor | None = None

    def _executor(self) -> ProcessPoolExecutor:
        if self._pool is None:
            # spawn: workers start clean (no inherited threads or locks from the progress
            # display). PR_SET_PDEATHSIG fires when the *thread* that started a worker ends, so
            # it is used only when the workers are started from the main thread; the PID watch
            # covers every case.
            main = threading.current_thread() is threading.main_thread()
            self._pool = ProcessPoolExecutor(
                max_workers=self.jobs, mp_context=multiprocessing.get_context("spawn"),
                initializer=_quiet_worker, initargs=(os.getpid(), main))
        return self._pool

    def completed(self, fn: Callable[..., T], tasks: Sequence[tuple[Any, ...]],
                  on_done: OnDone | None = None) -> Iterator[tuple[int, T]]:
        """(task position, ``fn(*task)``) for each task as soon as it is done. An error in a
        task, an interrupt, or a caller that stops early stops the workers at once."""
        if self.jobs <= 1 or len(tasks) <= 1:
            for i, task in enumerate(tasks):
                result = fn(*task)
                if on_done:
                    on_done(1)
                yield i, result
            return
        pool = self._executor()
        futures = {pool.submit(fn, *task): i for i, task in enumerate(tasks)}
        try:
            for fut in as_completed(futures):
                result = fut.result()
                if on_done:
                    on_done(1)
                yield futures[fut], result
        except BaseException:  # GeneratorExit too: nobody waits for the rest
            self.close()
            raise

    def map(self, fn: Callable[..., T], tasks: Sequence[tuple[Any, ...]],
            on_done: OnDone | None = None) -> list[T]:
        """``[fn(*task) for task in tasks]``, computed by the workers, in task order."""
        out: list[Any] = [None] * len(tasks)
        for i, result in self.completed(fn, tasks, on_done):
            out[i] = result
        return out

    def close(self) -> None:
        """Stop the workers at once (after an error or interrupt, or when done)."""
        if self._pool is None:
            return
        for proc in list(getattr(self._pool, "_processes", {}).values()):
            proc.terminate()
        self._pool.shutdown(wait=False, cancel_futures=True)
        self._pool = None

    def __enter__(self) -> WorkerPool:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()


def parallel_map(fn: Callable[..., T], tasks: Sequence[tuple[Any, ...]], jobs: int,
                 on_done: OnDone | None = None) -> list[T]:
    """``[fn(*task) for task in tasks]`` on up to ``jobs`` worker processes, in task order
    whatever ``jobs`` is (``jobs`` <= 1: in this process). ``on_done(1)`` after each task.

    Args:
        fn: a module-level function (workers import it by name).
        tasks: the argument tuples, one per call.
        jobs: worker processes; never more than there are tasks.
        on_done: called with 1 after each finished task (progress display).
    """
    with WorkerPool(min(jobs, len(tasks))) as pool:
        return pool.map(fn, tasks, on_done)


def default_jobs(tasks: int) -> int:
    """Worker processes by default: one per core, at most one per task."""
    return max(1, min(tasks, os.cpu_count() or 1))

"""The one parallel map: results in task order for any number of workers, progress per task,
and a failing task stops the workers instead of leaving them computing."""

from __future__ import annotations

import time

import pytest

from simulation.runs.parallel import WorkerPool, parallel_map


def slow_square(x: int, delay: float) -> int:
    """A task whose later instances finish first when ``delay`` decreases."""
    time.sleep(delay)
    return x * x


def fail_on(x: int, bad: int) -> int:
    if x == bad:
        raise ValueError(f"task {x} failed")
    time.sleep(0.05)
    return x


def test_results_in_task_order_for_any_number_of_workers():
    tasks = [(i, 0.12 - 0.02 * i) for i in range(6)]  # the last task finishes first
    for jobs in (1, 3):
        done: list[int] = []
        assert parallel_map(slow_square, tasks, jobs, done.append) == [i * i for i in range(6)]
        assert done == [1] * len(tasks)


@pytest.mark.slow  # ~1.1 s: kept out of the fast tier (under a minute)
def test_completed_gives_task_positions_as_soon_as_done():
    tasks = [(i, 1.0 if i == 0 else 0.0) for i in range(4)]
    with WorkerPool(2) as pool:
        order = [i for i, _ in pool.completed(slow_square, tasks)]
    assert sorted(order) == [0, 1, 2, 3] and order[-1] == 0  # the slow first task comes last


def test_a_failing_task_raises_and_stops_the_workers():
    pool = WorkerPool(2)
    with pytest.raises(ValueError, match="task 3 failed"):
        pool.map(fail_on, [(i, 3) for i in range(8)])
    assert pool._pool is None  # closed: its workers were terminated


def test_run_each_gives_each_set_its_own_seed_and_repeats_run_many():
    """``run_each``: set k on the k-th replicate seed. A repeated set's first runs are
    run_many's replicates (so the fit check's mean-point runs extend its replicates), two
    sets on one seed each differ from a single seed's, and workers do not change a run."""
    from simulation import Params, default_inputs
    from simulation.runs.ensemble import indicator_frame, run_each, run_many

    inputs = default_inputs(2010, 2014, scale=0.03)
    p = Params()
    reps = indicator_frame(run_many([(p, inputs)], 11, 2, jobs=1)[0])
    each = indicator_frame(run_each([p, p, p], inputs, 11, jobs=2))
    assert each.index.tolist() == [0, 1, 2]
    assert each.iloc[:2].equals(reps)
    assert not each.iloc[1].equals(each.iloc[0])  # its own noise, not replicate 0's
    assert indicator_frame(run_each([p, p, p], inputs, 11, jobs=1)).equals(each)


def blas_threads() -> list[int]:
    """In a worker: load SciPy's own OpenBLAS (as SALib's delta does through the KDE) and
    report the threads of every BLAS library loaded."""
    import scipy.linalg  # noqa: F401
    from threadpoolctl import threadpool_info

    return [lib["num_threads"] for lib in threadpool_info() if lib["user_api"] == "blas"]


def test_workers_run_one_blas_thread_also_in_libraries_loaded_later():
    """A BLAS loaded after the worker started (SciPy's, with the first task) gets one thread
    too: with two it spun against the other worker and delta indices ran 8x slower."""
    with WorkerPool(2) as pool:
        found = pool.map(blas_threads, [(), ()])
    assert all(threads and set(threads) == {1} for threads in found), found

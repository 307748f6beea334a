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

"""Ensembles: replicates of one scenario in parallel processes, reduced to small summaries and
aggregated into means and 5-95 % intervals.

Replicate i always gets the i-th seed spawned from the scenario seed and results are gathered
in replicate order, so the output is identical for any number of worker processes.
"""

from __future__ import annotations

import multiprocessing
import os
import signal
import sys
import threading
import time
from collections.abc import Callable, Sequence
from concurrent.futures import ProcessPoolExecutor
from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd

from simulation.analysis.indicators import concentration_series
from simulation.engine.driver import run
from simulation.engine.randomness import replicate_seeds
from simulation.engine.results import retention_table
from simulation.inputs.defaults import Inputs
from simulation.inputs.parameters import Params


@dataclass
class ReplicateSummary:
    """What an ensemble keeps of one replicate (small, picklable)."""

    replicate: int
    indicators: dict[str, Any]
    retention: pd.DataFrame  # dimension, group, years_since_settlement, share
    municipalities: pd.DataFrame  # the per-municipality indicator table
    flows: pd.DataFrame  # origin, destination, persons
    yearly: pd.DataFrame  # national series per year (incl. concentration)
    simulate_s: float


def flatten(indicators: dict[str, Any]) -> dict[str, float]:
    """{'a': {'x': 1}} -> {'a.x': 1.0}: every indicator as one number per key."""
    flat: dict[str, float] = {}
    for key, value in indicators.items():
        if isinstance(value, dict):
            flat.update({f"{key}.{k}": float(v) for k, v in value.items()})
        else:
            flat[key] = float(value)
    return flat


def run_replicate(params: Params, inputs: Inputs, seed: np.random.SeedSequence,
                  replicate: int) -> ReplicateSummary:
    """One replicate, reduced (this runs in a worker process)."""
    res = run(params, seed, inputs)
    flows = (res.moves.groupby(["origin", "destination"])["persons"].sum().reset_index())
    yearly = res.yearly.merge(concentration_series(res).drop(columns="hoover_index"),
                              on="year", how="left")
    ret = retention_table(res)[["dimension", "group", "years_since_settlement", "share",
                                "persons_alive"]]
    return ReplicateSummary(replicate, res.indicators(), ret, res.municipality_indicators(),
                            flows, yearly, res.timings["simulate_s"])


def _quiet_worker(parent: int | None = None, pdeathsig: bool = False) -> None:
    """Initializer of every pool worker: ignore Ctrl-C (it reaches the whole process group;
    the parent cleans up and stops the workers) and exit when the parent dies, also by
    SIGKILL, so no worker keeps computing for nobody."""
    signal.signal(signal.SIGINT, signal.SIG_IGN)
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


def _pool(jobs: int) -> ProcessPoolExecutor:
    # spawn: workers start clean (no inherited threads or locks from the progress display).
    # PR_SET_PDEATHSIG fires when the *thread* that started a worker ends, so it is used only
    # when the pool is made (and its workers started) from the main thread; the PID watch
    # covers every case.
    main = threading.current_thread() is threading.main_thread()
    return ProcessPoolExecutor(max_workers=jobs, mp_context=multiprocessing.get_context("spawn"),
                               initializer=_quiet_worker, initargs=(os.getpid(), main))


def stop_pool(pool: ProcessPoolExecutor) -> None:
    """Stop a pool at once (after an error or interrupt, or when done): terminate workers."""
    for proc in list(getattr(pool, "_processes", {}).values()):
        proc.terminate()
    pool.shutdown(wait=False, cancel_futures=True)


def run_ensemble(params: Params, inputs: Inputs, seed: int, replicates: int, jobs: int = 1,
                 on_done: Callable[[int], None] | None = None) -> list[ReplicateSummary]:
    """All replicates of one scenario, in replicate order whatever ``jobs`` is."""
    return run_many([(params, inputs)], seed, replicates, jobs, on_done)[0]


def run_many(runs: Sequence[tuple[Params | Sequence[Params], Inputs]], seed: int,
             replicates: int, jobs: int = 1, on_done: Callable[[int], None] | None = None
             ) -> list[list[ReplicateSummary]]:
    """Several scenarios with the same replicate seeds (common random numbers).

    A scenario given a list of K parameter sets (posterior draws) runs K x replicates: run
    k * replicates + r uses draw k and replicate seed r, the same pairing in every scenario.
    """
    seeds = replicate_seeds(seed, replicates)
    sets = [[p] if isinstance(p, Params) else list(p) for p, _ in runs]
    tasks = [(s, k, r) for s in range(len(runs)) for k in range(len(sets[s]))
             for r in range(replicates)]
    out: list[list[ReplicateSummary | None]] = [[None] * (len(sets[s]) * replicates)
                                               for s in range(len(runs))]

    def submit_args(s: int, k: int, r: int) -> tuple:
        return (sets[s][k], runs[s][1], seeds[r], k * replicates + r)

    if jobs <= 1:
        for s, k, r in tasks:
            out[s][k * replicates + r] = run_replicate(*submit_args(s, k, r))
            if on_done:
                on_done(1)
    else:
        pool = _pool(min(jobs, len(tasks)))
        try:
            futures = {pool.submit(run_replicate, *submit_args(s, k, r)): (s, k, r)
                       for s, k, r in tasks}
            for fut in _as_completed(futures):
                s, k, r = futures[fut]
                out[s][k * replicates + r] = fut.result()
                if on_done:
                    on_done(1)
        except BaseException:
            stop_pool(pool)
            raise
        pool.shutdown()
    return [[x for x in row if x is not None] for row in out]


def _as_completed(futures: dict) -> Any:
    from concurrent.futures import as_completed

    return as_completed(futures)


def default_jobs(replicates: int) -> int:
    """Worker processes by default: one per core, at most one per replicate."""
    return max(1, min(replicates, os.cpu_count() or 1))


# --- aggregation ----------------------------------------------------------------------------

def interval(values: np.ndarray) -> tuple[float, float, float]:
    """Mean and 5th/95th percentiles over replicates (NaNs ignored)."""
    v = np.asarray(values, dtype=float)
    v = v[~np.isnan(v)]
    if len(v) == 0:
        return (float("nan"),) * 3
    return float(v.mean()), float(np.percentile(v, 5)), float(np.percentile(v, 95))


def indicator_frame(summaries: list[ReplicateSummary]) -> pd.DataFrame:
    """One row per replicate, one column per flattened indicator."""
    return pd.DataFrame([flatten(s.indicators) for s in summaries],
                        index=pd.Index([s.replicate for s in summaries], name="replicate"))


def aggregate_retention(summaries: list[ReplicateSummary]) -> pd.DataFrame:
    """Retention by dimension with mean share and 5-95 % interval over replicates."""
    frames = [s.retention.assign(replicate=s.replicate) for s in summaries]
    allr = pd.concat(frames, ignore_index=True)
    keys = ["dimension", "group", "years_since_settlement"]
    g = allr.groupby(keys, sort=False)["share"]
    out = g.mean().rename("share").to_frame()
    out["p5"] = g.quantile(0.05)
    out["p95"] = g.quantile(0.95)
    out["persons_alive_mean"] = allr.groupby(keys, sort=False)["persons_alive"].mean()
    return out.reset_index()


def aggregate_municipalities(summaries: list[ReplicateSummary]) -> pd.DataFrame:
    """Per municipality: means over replicates, with intervals for the main measures."""
    allm = pd.concat([s.municipalities.assign(replicate=s.replicate) for s in summaries])
    facts = summaries[0].municipalities[["municipality", "name", "county", "centrality",
                                         "population"]]
    numeric = [c for c in allm.columns if c not in ("municipality", "name", "county",
                                                   "centrality", "population", "replicate")]
    g = allm.groupby("municipality", sort=False)
    out = facts.set_index("municipality").join(g[numeric].mean())
    for col in ("out_migration_share_2010_2016", "net_secondary_migration_per_1000"):
        out[f"{col}_p5"] = g[col].quantile(0.05)
        out[f"{col}_p95"] = g[col].quantile(0.95)
    return out.reset_index()


def aggregate_flows(summaries: list[ReplicateSummary]) -> pd.DataFrame:
    """Origin-destination persons per replicate (wide) and their mean."""
    allf = pd.concat([s.flows.assign(replicate=s.replicate) for s in summaries])
    wide = allf.pivot_table(index=["origin", "destination"], columns="replicate",
                            values="persons", aggfunc="sum", fill_value=0)
    wide.columns = [f"persons_r{c}" for c in wide.columns]
    wide["mean"] = wide.mean(axis=1)
    return wide.sort_values("mean", ascending=False).reset_index()


def aggregate_yearly(summaries: list[ReplicateSummary]) -> pd.DataFrame:
    """National yearly series: mean and 5-95 % interval of every measure."""
    ally = pd.concat([s.yearly.assign(replicate=s.replicate) for s in summaries])
    measures = [c for c in ally.columns if c not in ("year", "replicate")]
    g = ally.groupby("year")[measures]
    out = g.mean()
    for q, suffix in ((0.05, "p5"), (0.95, "p95")):
        out = out.join(g.quantile(q).add_suffix(f"_{suffix}"))
    return out.reset_index()

"""Running a sweep: every design point x replicate not yet written, on local processes or a
Dask cluster, results appended as Parquet parts as they complete.

A run's seed depends only on its replicate number (the same seeds at every point: common
random numbers across the design), so rows are identical for any number of workers and on
Dask; a rerun skips the runs already written, and a failed run is a row too.
"""

from __future__ import annotations

import json
import os
import shutil
import time
from collections.abc import Callable, Iterable
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from simulation.engine.numerics import accepts as numerics_accepts
from simulation.engine.numerics import signature as numerics_signature
from simulation.engine.randomness import replicate_seeds
from simulation.inputs.defaults import Inputs
from simulation.inputs.parameters import Params
from simulation.inputs.yamlsource import InputError, Problem
from simulation.runs.dask_pool import connect, signed, undo_dask_malloc_trim, unsigned
from simulation.runs.ensemble import flatten
from simulation.runs.parallel import WorkerPool
from simulation.sweeps.spec import EFFECT, LEVERS, Sweep, apply_levers

OnDone = Callable[[int, bool], None]


def _run_one(params: Params, inputs: Inputs, levers: dict[str, float],
             seed: np.random.SeedSequence, run_id: int, point: int, replicate: int,
             values: dict[str, float], indicators: list[str],
             variant_params: Params | None = None, variant_inputs: Inputs | None = None
             ) -> dict[str, Any]:
    """Worker: one run -> one result row (never raises: a failure is a row too). With a
    compared scenario (``variant_*``) the row holds the base's indicators and, as
    ``effect.<indicator>``, the compared scenario's minus the base's at the same seed (a
    paired difference, as ``secmig compare`` computes it)."""
    undo_dask_malloc_trim()
    t0 = time.perf_counter()
    row: dict[str, Any] = {"run_id": run_id, "point": point, "replicate": replicate,
                           # the sweep's seed: this run is SeedSequence(seed).spawn(R)[replicate]
                           "seed": int(seed.entropy), **values}
    effects = [EFFECT + k for k in indicators] if variant_params is not None else []
    try:
        flat = _indicators(params, apply_levers(inputs, levers), seed, indicators)
        row.update({k: flat.get(k, float("nan")) for k in indicators})
        if variant_params is not None:
            other = _indicators(variant_params, apply_levers(variant_inputs, levers), seed,
                                indicators)
            row.update({EFFECT + k: other.get(k, float("nan")) - row[k] for k in indicators})
        row.update(status="ok", error="")
    except Exception as err:
        row.update({k: float("nan") for k in [*indicators, *effects]})
        row.update(status="failed", error=f"{type(err).__name__}: {err}")
    row["duration_s"] = time.perf_counter() - t0
    return row


def _indicators(params: Params, inputs: Inputs, seed: np.random.SeedSequence,
                indicators: list[str]) -> dict[str, float]:
    """One run's flat indicators: only those the sweep analyses (about 0.2 s a run for all)."""
    from simulation.analysis.indicators import indicators as of_run
    from simulation.engine import driver as api

    return flatten(of_run(api.run(params, seed, inputs), ids=indicators))


def done_runs(out: Path) -> pd.DataFrame:
    """Every run written to ``out`` (from its Parquet parts): one row per run id, a retried
    run's successful row over its failed one."""
    parts = sorted((Path(out) / "runs").glob("part-*.parquet"))
    if not parts:
        return pd.DataFrame()
    rows = pd.concat([pd.read_parquet(p) for p in parts], ignore_index=True)
    rows = rows.assign(_failed=rows["status"] != "ok")
    rows = rows.sort_values(["run_id", "_failed"], kind="stable")
    return (rows.drop_duplicates("run_id", keep="first").drop(columns="_failed")
            .reset_index(drop=True))


def _flush(out: Path, rows: list[dict[str, Any]]) -> None:
    if not rows:
        return
    runs = out / "runs"
    runs.mkdir(parents=True, exist_ok=True)
    first = min(r["run_id"] for r in rows)
    name = f"part-{first:08d}-{len(rows)}-{time.time_ns() % 10**9:09d}"
    tmp = runs / f".{name}.tmp"
    pd.DataFrame(rows).sort_values("run_id").to_parquet(tmp, index=False)
    os.replace(tmp, runs / f"{name}.parquet")  # atomic: a part is whole or absent
    rows.clear()


def _collect(rows: Iterable[dict[str, Any]], pending: list[dict[str, Any]], out: Path,
             on_done: OnDone | None, flush_every: int) -> None:
    """Keep each finished row, report it, and write a part every ``flush_every`` rows."""
    for row in rows:
        pending.append(row)
        if on_done:
            on_done(1, row["status"] == "ok")
        if len(pending) >= flush_every:
            _flush(out, pending)


def _run_on_dask(tasks: list[tuple], inputs: Inputs, variant_inputs: Inputs | None,
                 scheduler: str, jobs: int, pending: list[dict[str, Any]], out: Path,
                 on_done: OnDone | None, flush_every: int) -> None:
    """The same tasks on a Dask distributed cluster: 'local' starts a LocalCluster on
    loopback with ``jobs`` worker processes, anything else is a scheduler address. The base
    inputs (geography, stocks), and the compared scenario's, go to the workers once, not
    with every task."""
    from distributed import as_completed as dask_completed

    client, cluster = connect(scheduler, jobs)
    try:
        shared = client.scatter(inputs, broadcast=True)
        other = (client.scatter(variant_inputs, broadcast=True)
                 if variant_inputs is not None else None)
        futures = [client.submit(signed, _run_one, t[0], shared, *t[1:], other, pure=False)
                   for t in tasks]
        here = numerics_signature()
        _collect((unsigned(f.result(), here) for f in dask_completed(futures)), pending, out,
                 on_done, flush_every)
    finally:
        _flush(out, pending)
        client.close()
        if cluster is not None:
            cluster.close()


def _check_folder(sweep: Sweep, out: Path) -> None:
    """An output folder holds one sweep: resuming a changed sweep into it would mix rows."""
    stamp = out / "sweep.json"
    fingerprint = sweep.fingerprint()
    here = numerics_signature()
    if stamp.exists() and any((out / "runs").glob("part-*.parquet")):
        before = json.loads(stamp.read_text(encoding="utf-8"))
        if before.get("fingerprint") != fingerprint:
            raise InputError([Problem(str(out), None, "--out", "this folder holds runs of a "
                                      "different sweep (design, base scenario, replicates, "
                                      "seed or indicators changed); choose another --out, or "
                                      "delete the folder to start again")])
        if not numerics_accepts(before.get("numerics")):
            raise InputError([Problem(str(out), None, "--out", "this folder's runs were "
                                      f"computed with {before['numerics']!r} and this machine "
                                      f"computes with {here!r} (numpy's exp, log, ... differ "
                                      "in the last bit, and so do matrix products with another "
                                      "BLAS kernel, so resumed rows would not match a "
                                      "sweep run in one go); resume on the same kind of "
                                      "machine, or choose another --out")])
    out.mkdir(parents=True, exist_ok=True)
    stamp.write_text(json.dumps({"name": sweep.schema.name, "file": str(sweep.path),
                                 "fingerprint": fingerprint, "numerics": here}, indent=2),
                     encoding="utf-8")


def tasks_to_run(sweep: Sweep, out: Path, retry_failed: bool = False) -> list[tuple]:
    """(params, levers, seed, run id, point, replicate, values, indicators, compared
    scenario's params or None) of every run not yet written (failed runs too if
    ``retry_failed``)."""
    sch = sweep.schema
    seeds = replicate_seeds(sch.seed, sch.replicates)
    written = done_runs(out)
    skip = set() if written.empty else set(
        written.loc[(written["status"] == "ok") | (not retry_failed), "run_id"].tolist())
    tasks = []
    for i, x in enumerate(sweep.points()):
        values = {n: float(v) for n, v in zip(sweep.names, x, strict=True)}
        own = {n: v for n, v in values.items() if n not in LEVERS}
        params, _ = sweep.setup(own, i)
        other = sweep.setup(own, i, variant=True)[0] if sweep.variant is not None else None
        levers = {n: v for n, v in values.items() if n in LEVERS}
        for r in range(sch.replicates):
            run_id = i * sch.replicates + r
            if run_id not in skip:
                tasks.append((params, levers, seeds[r], run_id, i, r, values, sch.indicators,
                              other))
    return tasks


def run_sweep(sweep: Sweep, out: Path, jobs: int = 1, on_done: OnDone | None = None,
              flush_every: int | None = None, scheduler: str | None = None,
              retry_failed: bool = False) -> pd.DataFrame:
    """Run every point x replicate not yet written; returns all rows, sorted by run id.
    ``scheduler`` runs them on Dask ('local' or an address) instead of local processes."""
    out = Path(out)
    fresh = not out.exists()
    _check_folder(sweep, out)
    try:
        return _run_tasks(sweep, out, jobs, on_done, flush_every, scheduler, retry_failed)
    except BaseException:
        if fresh and not any((out / "runs").glob("part-*.parquet")):
            shutil.rmtree(out, ignore_errors=True)  # nothing ran: leave nothing behind
        raise


def _run_tasks(sweep: Sweep, out: Path, jobs: int, on_done: OnDone | None,
               flush_every: int | None, scheduler: str | None,
               retry_failed: bool) -> pd.DataFrame:
    design = pd.DataFrame(sweep.points(), columns=sweep.names).rename_axis("point")
    design.to_csv(out / "design.csv")
    tasks = tasks_to_run(sweep, out, retry_failed)
    inputs = sweep.base.inputs
    other = sweep.variant.inputs if sweep.variant is not None else None
    pending: list[dict[str, Any]] = []
    # small sweeps write every run; large ones in parts of up to 8 (fewer files)
    flush_every = flush_every or max(1, min(8, len(tasks) // 20))
    if scheduler and tasks:
        _run_on_dask(tasks, inputs, other, scheduler, max(jobs, 1), pending, out, on_done,
                     flush_every)
    elif tasks:
        with WorkerPool(min(jobs, len(tasks))) as pool:
            try:
                done = pool.completed(_run_one, [(t[0], inputs, *t[1:], other)
                                                 for t in tasks])
                _collect((row for _, row in done), pending, out, on_done, flush_every)
            finally:
                _flush(out, pending)  # whatever finished is kept, also on an interrupt
    _flush(out, pending)
    return done_runs(out)

"""Sensitivity sweeps: a design over registry parameters, every point x replicate run, results
written as they complete (Parquet parts), resumable, and SALib indices per indicator.

A run's seed depends only on its replicate number (the same seeds at every point: common
random numbers across the design), so results are identical for any number of workers, and a
rerun skips the runs already written.
"""

from __future__ import annotations

import os
import time
from collections.abc import Callable
from concurrent.futures import as_completed
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Literal

import numpy as np
import pandas as pd
from pydantic import BaseModel, ConfigDict, Field, ValidationError
from scipy.stats import qmc

from .ensemble import _pool, flatten, stop_pool
from .parameters import BY_NAME, Params
from .randomness import replicate_seeds
from .scenario import Scenario, _pydantic_problems, load_scenario
from .yamlsource import InputError, Problem, load_yaml

Design = Literal["grid", "random", "lhs", "sobol", "morris"]


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", strict=True)


class Range(_Strict):
    low: float
    high: float


class SweepSchema(_Strict):
    name: str = Field(pattern=r"^[A-Za-z0-9][A-Za-z0-9_.-]{0,79}$")
    description: str = ""
    base: str = Field(description="scenario file the sweep varies (relative to this file)")
    design: Design
    samples: int = Field(ge=1, le=100_000, description="grid: levels per parameter; random/"
                                                       "lhs: points; sobol: base N; morris: "
                                                       "trajectories r")
    replicates: int = Field(1, ge=1, le=1000)
    seed: int = Field(0, ge=0)
    parameters: dict[str, Range]
    indicators: list[str] = Field(min_length=1)


@dataclass
class Sweep:
    """A loaded sweep: the base scenario, the varied parameters and the design."""

    schema: SweepSchema
    path: Path
    base: Scenario
    names: list[str]
    low: np.ndarray
    high: np.ndarray

    @property
    def problem(self) -> dict[str, Any]:
        """The SALib problem definition."""
        return {"num_vars": len(self.names), "names": self.names,
                "bounds": [[lo, hi] for lo, hi in zip(self.low, self.high, strict=True)]}

    def points(self) -> np.ndarray:
        """The design: one row per point, one column per parameter (natural units)."""
        sch, p = self.schema, len(self.names)
        if sch.design == "morris":
            from SALib.sample import morris

            return morris.sample(self.problem, sch.samples, num_levels=4, seed=sch.seed)
        if sch.design == "sobol":
            from SALib.sample import sobol

            return sobol.sample(self.problem, sch.samples, calc_second_order=False,
                                seed=sch.seed)
        if sch.design == "grid":
            axes = [np.linspace(lo, hi, sch.samples) for lo, hi in zip(self.low, self.high,
                                                                        strict=True)]
            return np.array(np.meshgrid(*axes, indexing="ij")).reshape(p, -1).T
        unit = (qmc.LatinHypercube(d=p, seed=sch.seed).random(sch.samples)
                if sch.design == "lhs" else
                np.random.default_rng(sch.seed).random((sch.samples, p)))
        return self.low + unit * (self.high - self.low)


def load_sweep(path: str | Path) -> Sweep:
    """Read and check a sweep file (errors name file, line, key and what is allowed)."""
    src = load_yaml(path)
    if not isinstance(src.data, dict):
        raise InputError([Problem(str(path), 1, "", "a sweep file must be a mapping")])
    try:
        schema = SweepSchema.model_validate(src.data)
    except ValidationError as err:
        raise InputError(_pydantic_problems(err, src)) from None
    problems: list[Problem] = []
    names, low, high = [], [], []
    for name, rng in schema.parameters.items():
        file, line = src.where(("parameters", name))
        p = BY_NAME.get(name)
        if p is None:
            problems.append(Problem(file, line, f"parameters.{name}", "unknown parameter; see "
                                    "`secmig params`"))
            continue
        if not (p.low <= rng.low < rng.high <= p.high):
            problems.append(Problem(file, line, f"parameters.{name}",
                                    f"range [{rng.low}, {rng.high}] must increase and lie "
                                    f"inside the registry range [{p.low:g}, {p.high:g}]"))
        names.append(name)
        low.append(rng.low)
        high.append(rng.high)
    base_path = Path(path).parent / schema.base
    try:
        base = load_scenario(base_path)
    except InputError as err:
        problems.extend(err.problems)
    if problems:
        raise InputError(problems)
    return Sweep(schema, Path(path), base, names, np.array(low), np.array(high))


def _run_one(params: Params, inputs: Any, seed: np.random.SeedSequence, run_id: int,
             point: int, replicate: int, values: dict[str, float], indicators: list[str]
             ) -> dict[str, Any]:
    """Worker: one run -> one result row (never raises: a failure is a row too)."""
    from .api import run

    t0 = time.perf_counter()
    row: dict[str, Any] = {"run_id": run_id, "point": point, "replicate": replicate, **values}
    try:
        flat = flatten(run(params, seed, inputs).indicators())
        row.update({k: flat.get(k, float("nan")) for k in indicators})
        row.update(status="ok", error="")
    except Exception as err:
        row.update({k: float("nan") for k in indicators})
        row.update(status="failed", error=f"{type(err).__name__}: {err}")
    row["duration_s"] = time.perf_counter() - t0
    return row


def done_runs(out: Path) -> pd.DataFrame:
    """Every run already written (from the Parquet parts)."""
    parts = sorted((out / "runs").glob("part-*.parquet"))
    if not parts:
        return pd.DataFrame()
    return pd.concat([pd.read_parquet(p) for p in parts], ignore_index=True)


def _flush(out: Path, rows: list[dict[str, Any]]) -> None:
    if not rows:
        return
    runs = out / "runs"
    runs.mkdir(parents=True, exist_ok=True)
    first = min(r["run_id"] for r in rows)
    tmp = runs / f".part-{first:08d}-{len(rows)}.tmp"
    pd.DataFrame(rows).sort_values("run_id").to_parquet(tmp, index=False)
    os.replace(tmp, runs / f"part-{first:08d}-{len(rows)}.parquet")  # atomic: whole or none
    rows.clear()


def _collect(rows: Any, pending: list[dict[str, Any]], out: Path,
             on_done: Callable[[int, bool], None] | None, flush_every: int) -> None:
    """Keep each finished row, report it, and write a part every ``flush_every`` rows."""
    for row in rows:
        pending.append(row)
        if on_done:
            on_done(1, row["status"] == "ok")
        if len(pending) >= flush_every:
            _flush(out, pending)


def _run_on_dask(tasks: list[tuple], scheduler: str, jobs: int, pending: list[dict[str, Any]],
                 out: Path, on_done: Callable[[int, bool], None] | None,
                 flush_every: int) -> None:
    """The same tasks on a Dask distributed cluster: 'local' starts a LocalCluster on
    loopback with ``jobs`` worker processes, anything else is a scheduler address."""
    from distributed import Client, LocalCluster
    from distributed import as_completed as dask_completed

    cluster = (LocalCluster(n_workers=jobs, threads_per_worker=1, processes=True,
                            dashboard_address=None, host="127.0.0.1")
               if scheduler == "local" else None)
    client = Client(cluster if cluster is not None else scheduler)
    try:
        futures = [client.submit(_run_one, *t, pure=False) for t in tasks]
        _collect((f.result() for f in dask_completed(futures)), pending, out, on_done,
                 flush_every)
    finally:
        _flush(out, pending)
        client.close()
        if cluster is not None:
            cluster.close()


def run_sweep(sweep: Sweep, out: Path, jobs: int = 1,
              on_done: Callable[[int, bool], None] | None = None,
              flush_every: int | None = None, scheduler: str | None = None) -> pd.DataFrame:
    """Run every point x replicate not yet written; returns all rows, sorted by run id.
    ``scheduler`` runs them on Dask ('local' or an address) instead of local processes."""
    sch = sweep.schema
    points = sweep.points()
    seeds = replicate_seeds(sch.seed, sch.replicates)
    out.mkdir(parents=True, exist_ok=True)
    pd.DataFrame(points, columns=sweep.names).rename_axis("point").to_csv(out / "design.csv")
    done = set(done_runs(out).get("run_id", pd.Series(dtype=int)).tolist())
    tasks = []
    for i, x in enumerate(points):
        values = {n: float(v) for n, v in zip(sweep.names, x, strict=True)}
        params = Params({**dict(sweep.base.params), **values})
        for r in range(sch.replicates):
            run_id = i * sch.replicates + r
            if run_id not in done:
                tasks.append((params, sweep.base.inputs, seeds[r], run_id, i, r, values,
                              sch.indicators))
    pending: list[dict[str, Any]] = []
    # small sweeps write every run; large ones in parts of up to 8 (fewer files)
    flush_every = flush_every or max(1, min(8, len(tasks) // 20))
    if scheduler and tasks:
        _run_on_dask(tasks, scheduler, max(jobs, 1), pending, out, on_done, flush_every)
    elif jobs <= 1:
        try:
            _collect((_run_one(*t) for t in tasks), pending, out, on_done, flush_every)
        finally:
            _flush(out, pending)  # whatever finished is kept, also on an interrupt
    else:
        pool = _pool(jobs)
        try:
            futures = [pool.submit(_run_one, *t) for t in tasks]
            _collect((f.result() for f in as_completed(futures)), pending, out, on_done,
                     flush_every)
        finally:
            _flush(out, pending)  # whatever finished is kept, also on an interrupt
            stop_pool(pool)
    _flush(out, pending)
    return done_runs(out).sort_values("run_id").reset_index(drop=True)


def analyse(sweep: Sweep, rows: pd.DataFrame) -> pd.DataFrame:
    """Sensitivity indices per indicator (SALib: Morris mu*, sigma; Sobol S1, ST with
    confidence intervals), on the mean over replicates at each design point."""
    sch = sweep.schema
    points = sweep.points()
    ok = rows[rows["status"] == "ok"]
    means = ok.groupby("point")[sch.indicators].mean().reindex(range(len(points)))
    out = []
    for ind in sch.indicators:
        y = means[ind].to_numpy(dtype=float)
        if np.isnan(y).any():
            continue  # incomplete or failed points: no indices for this indicator
        if sch.design == "morris":
            from SALib.analyze import morris

            res = morris.analyze(sweep.problem, points, y, num_levels=4, seed=sch.seed)
            for i, n in enumerate(sweep.names):
                out.append({"indicator": ind, "parameter": n, "mu_star": res["mu_star"][i],
                            "mu_star_conf": res["mu_star_conf"][i], "sigma": res["sigma"][i],
                            "mu": res["mu"][i]})
        elif sch.design == "sobol":
            from SALib.analyze import sobol

            res = sobol.analyze(sweep.problem, y, calc_second_order=False, seed=sch.seed)
            for i, n in enumerate(sweep.names):
                out.append({"indicator": ind, "parameter": n, "S1": res["S1"][i],
                            "S1_conf": res["S1_conf"][i], "ST": res["ST"][i],
                            "ST_conf": res["ST_conf"][i]})
    return pd.DataFrame(out)

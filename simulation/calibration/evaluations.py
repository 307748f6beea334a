"""Model evaluations for calibration: parameter points run in parallel, kept in a log.

A point is run with the calibration's R common seeds (``evaluate``) or with seeds of a named
stream (``evaluate(..., stream="noise")``: fresh replicates for the noise estimate, the
synthetic truths of the coverage check). Every result is appended to an evaluations log keyed
by the point and the stream, so an interrupted calibration resumes where it stopped and a rerun
with the same seed simulates nothing; results come back in the order asked whatever the number
of workers, which keeps a fit bit-identical for a seed.
"""

from __future__ import annotations

import hashlib
import json
import time
import warnings
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from simulation.calibration.spec import Moment, Spec
from simulation.engine.numerics import accepts as numerics_accepts
from simulation.engine.numerics import signature as numerics_signature
from simulation.engine.randomness import replicate_seeds
from simulation.inputs.defaults import Inputs
from simulation.inputs.limits import MAX_SEED
from simulation.inputs.parameters import Params
from simulation.runs.parallel import WorkerPool

BLOCK = 64  # points simulated between two writes of the log


def _evaluate_task(params: Params, inputs: Inputs, seed: np.random.SeedSequence,
                   names: list[str]) -> list[float]:
    """Worker: one replicate at one parameter point -> the named moments' values."""
    from simulation.calibration.fastpath import simulate_moments

    return [float(v) for v in simulate_moments(params, seed, inputs, names)]


def stream_seeds(seed: int, stream: str, n: int) -> list[np.random.SeedSequence]:
    """``n`` seeds of a named stream, independent of the common seeds and of other streams."""
    tag = int(hashlib.sha256(stream.encode()).hexdigest()[:12], 16)
    return replicate_seeds((seed * 1_000_003 + tag) % MAX_SEED, n)


@dataclass
class Evaluator:
    """Runs parameter points (R replicates each, common seeds), with a resumable log.

    ``extra`` names indicators to record beside the moments (e.g. the policy measures of the
    coverage check)."""

    spec: Spec
    log_path: Path
    jobs: int = 1
    on_run: Callable[[int], None] | None = None
    extra: Sequence[str] = ()
    scheduler: str | None = None  # None: local processes; 'local' or an address: Dask
    cache: dict[str, np.ndarray] = field(default_factory=dict)
    count: int = 0  # points simulated (not replayed from the log)
    seconds: float = 0.0  # wall time spent simulating them

    def __post_init__(self) -> None:
        self.columns = sorted({m.name for m in self.spec.moments + self.spec.holdout}
                              | {f"{m.id}.all" for m in self.spec.moments + self.spec.holdout
                                 if m.compare == "ratio_to_all"} | set(self.extra))
        self.seeds = replicate_seeds(self.spec.seed, self.spec.replicates)
        self.inputs = self.spec.inputs()
        self.log_path.parent.mkdir(parents=True, exist_ok=True)
        self.digest = self.spec.digest()
        # a record computed with other arithmetic (numpy's exp, log, ... on another kind of
        # processor; engine/numerics.py) is not reused: it would differ in the last bits and
        # then in its random decisions. Records from before it was logged count as this one's
        self.numerics = numerics_signature()
        if self.log_path.exists():
            for line in self.log_path.read_text().splitlines():
                try:
                    rec = json.loads(line)
                except json.JSONDecodeError:  # a line cut short by an interruption
                    continue
                if (rec.get("digest") == self.digest and rec.get("columns") == self.columns
                        and numerics_accepts(rec.get("numerics"))):
                    self.cache[rec["key"]] = np.array(rec["values"], dtype=float)
        if self.scheduler:
            from simulation.runs.dask_pool import DaskPool

            self._pool: Any = DaskPool(self.scheduler, self.jobs)
        else:
            self._pool = WorkerPool(self.jobs)  # kept: every batch reuses the same workers

    def close(self) -> None:
        self._pool.close()

    def _key(self, theta: dict[str, float], stream: str, n: int) -> str:
        point = json.dumps({k: round(v, 12) for k, v in sorted(theta.items())})
        return point if stream == "common" else f"{stream}/{n}/{point}"

    def evaluate(self, thetas: Sequence[dict[str, float]], stream: str = "common",
                 n: int | None = None) -> list[np.ndarray]:
        """(replicates x columns) values for each point, simulating only what is not logged.

        ``stream`` 'common' uses the R common seeds; any other name uses ``n`` seeds of that
        stream (the same for every point asked with that name)."""
        return self.evaluate_streams([(t, stream, n) for t in thetas])

    def evaluate_streams(self, requests: Sequence[tuple[dict[str, float], str, int | None]]
                         ) -> list[np.ndarray]:
        """``evaluate`` for (point, stream, n) requests of several streams at once, so that
        all their runs are spread over the workers together (the coverage check asks for 40
        posterior draws' policy effects, each on its own stream)."""
        seeds_of: dict[tuple[str, int], list[np.random.SeedSequence]] = {}
        keys, point_of, seeds_for = [], {}, {}
        for theta, stream, n in requests:
            n = self.spec.replicates if stream == "common" else int(n or 1)
            if (stream, n) not in seeds_of:
                seeds_of[(stream, n)] = (self.seeds if stream == "common"
                                         else stream_seeds(self.spec.seed, stream, n))
            key = self._key(theta, stream, n)
            keys.append(key)
            point_of[key], seeds_for[key] = theta, seeds_of[(stream, n)]
        todo = [k for k in dict.fromkeys(keys) if k not in self.cache]
        t0 = time.perf_counter()
        for start in range(0, len(todo), BLOCK):  # logged block by block: a stop loses little
            block = todo[start:start + BLOCK]
            tasks = [(k, r) for k in block for r in range(len(seeds_for[k]))]
            params = {k: self.spec.params(point_of[k]) for k in block}
            values_of = self._pool.map(_evaluate_task, [(params[k], self.inputs,
                                                         seeds_for[k][r], self.columns)
                                                        for k, r in tasks], self.on_run)
            results = dict(zip(tasks, values_of, strict=True))
            with self.log_path.open("a+") as fh:
                fh.seek(0, 2)
                if fh.tell():  # a line torn by an interruption must not swallow the next
                    fh.seek(fh.tell() - 1)
                    if fh.read(1) != "\n":
                        fh.write("\n")
                for k in block:  # logged in a fixed order: the log is the same for any jobs
                    values = np.array([results[(k, r)] for r in range(len(seeds_for[k]))])
                    self.cache[k] = values
                    fh.write(json.dumps({"digest": self.digest, "key": k,
                                         "numerics": self.numerics, "columns": self.columns,
                                         "values": values.tolist()}) + "\n")
        self.count += len(todo)
        if todo:
            self.seconds += time.perf_counter() - t0
        return [self.cache[k] for k in keys]

    def moments(self, values: np.ndarray, moments: list[Moment]) -> np.ndarray:
        """(replicates x moments) from (replicates x columns)."""
        out = np.empty((len(values), len(moments)))
        for r, row in enumerate(values):
            flat = dict(zip(self.columns, row, strict=True))
            out[r] = [m.simulated(flat) for m in moments]
        return out

    def column(self, values: np.ndarray, name: str) -> np.ndarray:
        """One recorded column (e.g. an ``extra`` indicator) per replicate."""
        return values[:, self.columns.index(name)]

    def mean_moments(self, thetas: Sequence[dict[str, float]], moments: list[Moment]
                     ) -> np.ndarray:
        """(points x moments): each point's moments averaged over the common seeds."""
        with warnings.catch_warnings():  # a moment undefined in every replicate stays NaN
            warnings.simplefilter("ignore", RuntimeWarning)
            return np.array([np.nanmean(self.moments(v, moments), axis=0)
                             for v in self.evaluate(thetas)])

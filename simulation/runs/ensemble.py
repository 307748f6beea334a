"""Ensembles: replicates of one scenario in parallel processes, reduced to small summaries and
aggregated into means and 5-95 % intervals.

Replicate i always gets the i-th seed spawned from the scenario seed and results are gathered
in replicate order, so the output is identical for any number of worker processes.
"""

from __future__ import annotations

import warnings
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pandas as pd

from simulation.analysis.indicators import concentration_series, indicators, municipality_indicators
from simulation.analysis.intervals import HIGH, LOW, bounds, grouped, quantile
from simulation.analysis.measures import retention_table
from simulation.analysis.outcomes import outcomes_by_subgroup
from simulation.engine.driver import run
from simulation.engine.ledger import COSTS, RECEIPTS
from simulation.engine.randomness import replicate_seeds
from simulation.inputs.defaults import Inputs
from simulation.inputs.parameters import Params
from simulation.runs.parallel import parallel_map


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
    # dimension, subgroup, measure, value, persons (analysis.outcomes): who gains and who pays
    # when a comparison changes the allocation (~70 rows, made here as the run's tables are
    # not kept)
    outcomes: pd.DataFrame = field(default_factory=pd.DataFrame)
    # placement by matching, one row per year (engine/matching; empty without it)
    matching: pd.DataFrame = field(default_factory=pd.DataFrame)
    # the municipal ledger: year, municipality, item, nok, nok_<price year> (engine/ledger.py)
    ledger: pd.DataFrame = field(default_factory=pd.DataFrame)
    # national amounts for persons in their grant years (Results.ledger_grant_period)
    ledger_grant_period: pd.DataFrame = field(default_factory=pd.DataFrame)


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
                  replicate: int, outcomes: bool = False) -> ReplicateSummary:
    """One replicate, reduced (this runs in a worker process); ``outcomes``: also the
    outcomes by subgroup (about 0.15 s a run: only comparisons read them)."""
    res = run(params, seed, inputs, ledger=True)
    flows = (res.moves.groupby(["origin", "destination"])["persons"].sum().reset_index())
    yearly = res.yearly.merge(concentration_series(res).drop(columns="hoover_index"),
                              on="year", how="left")
    ret = retention_table(res)[["dimension", "group", "years_since_settlement", "share",
                                "persons_alive"]]
    return ReplicateSummary(replicate, indicators(res), ret, municipality_indicators(res),
                            flows, yearly, res.timings["simulate_s"],
                            outcomes=outcomes_by_subgroup(res) if outcomes else pd.DataFrame(),
                            matching=res.matching, ledger=res.ledger,
                            ledger_grant_period=res.ledger_grant_period)


def run_many(runs: Sequence[tuple[Params | Sequence[Params], Inputs]], seed: int,
             replicates: int, jobs: int = 1, on_done: Callable[[int], None] | None = None,
             outcomes: bool = False) -> list[list[ReplicateSummary]]:
    """Replicates of several scenarios with the same replicate seeds (common random numbers),
    reduced to small summaries, in the same order for any number of worker processes.

    Args:
        runs: one (parameters, inputs) pair per scenario. Parameters may be a list of K sets
            (posterior draws): that scenario then runs K x ``replicates``, run
            ``k * replicates + r`` with draw k and replicate seed r, the same pairing in every
            scenario.
        seed: the ensemble seed; replicate r gets the r-th seed spawned from it.
        replicates: runs per parameter set.
        jobs: worker processes (1: in this process).
        on_done: called with 1 after each finished run (progress display).
        outcomes: keep each run's outcomes by subgroup (``analysis.outcomes``; a comparison
            of allocations reads them, "who gains and who pays").

    Returns:
        Per scenario, its :class:`ReplicateSummary` list in run order.

    Example::

        from simulation import Params, default_inputs
        from simulation.runs.ensemble import indicator_frame, run_many

        inputs = default_inputs(2010, 2016, scale=0.1)
        base, tie = run_many([(Params(), inputs), (Params({"rights_years": 0}), inputs)],
                             seed=1, replicates=4, jobs=2)
        paired = indicator_frame(tie)["retention_5y"] - indicator_frame(base)["retention_5y"]
    """
    seeds = replicate_seeds(seed, replicates)
    sets = [[p] if isinstance(p, Params) else list(p) for p, _ in runs]
    tasks = [(sets[s][k], runs[s][1], seeds[r], k * replicates + r, outcomes)
             for s in range(len(runs)) for k in range(len(sets[s])) for r in range(replicates)]
    done = iter(parallel_map(run_replicate, tasks, jobs, on_done))
    return [[next(done) for _ in range(len(sets[s]) * replicates)] for s in range(len(runs))]


def run_each(sets: Sequence[Params], inputs: Inputs, seed: int, jobs: int = 1,
             on_done: Callable[[int], None] | None = None) -> list[ReplicateSummary]:
    """One run per parameter set, set k on the k-th replicate seed of ``seed``.

    Posterior draws run this way each carry their own noise, so the spread of the runs is a
    posterior predictive one (``run_many`` would give every draw replicate 0's seed). Two
    lists of the same length run this way are paired seed by seed; and the first R runs of a
    list of one set repeated are ``run_many``'s R replicates of it."""
    seeds = replicate_seeds(seed, len(sets))
    tasks = [(p, inputs, seeds[k], k, False) for k, p in enumerate(sets)]
    return list(parallel_map(run_replicate, tasks, jobs, on_done))


# --- aggregation ----------------------------------------------------------------------------

def interval(values: np.ndarray) -> tuple[float, float, float]:
    """Mean and 5th/95th percentiles over replicates (NaNs ignored; analysis/intervals.py
    says how the percentiles are placed)."""
    v = np.asarray(values, dtype=float)
    v = v[~np.isnan(v)]
    if len(v) == 0:
        return (float("nan"),) * 3
    return (float(v.mean()), *bounds(v))


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
    out["p5"] = grouped(g, LOW)
    out["p95"] = grouped(g, HIGH)
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
        out[f"{col}_p5"] = grouped(g[col], LOW)
        out[f"{col}_p95"] = grouped(g[col], HIGH)
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
    return _by_year([s.yearly.assign(replicate=s.replicate) for s in summaries])


def aggregate_ledger(summaries: list[ReplicateSummary]) -> pd.DataFrame:
    """The municipal ledger per (year, municipality, item), with ``net`` (receipts minus
    costs) and ``net_accumulated`` (net summed from the window's first year, in the price
    year's kroner only; its nominal column is empty) added per run:
    the mean over runs of the nominal NOK and of the price year's NOK,
    and the 5-95 % interval of the latter (empty if the runs kept no ledger).

    Each run's ledger is laid into one (run, year, municipality, item) array, so that 200
    runs (``--posterior 20``) take about 100 MB and a second, not gigabytes of long tables
    and pivots. A combination a run lacks counts as missing, not as zero (receipts and costs
    sum over what is there, as a table's row sum does)."""
    frames = [s.ledger for s in summaries if not s.ledger.empty]
    if not frames:
        return pd.DataFrame()
    real = next(c for c in frames[0].columns if c.startswith("nok_"))
    years = np.unique(np.concatenate([f["year"].to_numpy(np.int64) for f in frames]))
    codes = np.unique(np.concatenate([pd.unique(f["municipality"].to_numpy())
                                      for f in frames]).astype(str))
    items = [*RECEIPTS, *COSTS, "net", "net_accumulated"]
    cube = {c: np.full((len(frames), len(years), len(codes), len(items)), np.nan)
            for c in ("nok", real)}
    code_index, item_index = pd.Index(codes), pd.Index(items)
    for r, f in enumerate(frames):
        y = np.searchsorted(years, f["year"].to_numpy(np.int64))
        m = code_index.get_indexer(f["municipality"].astype(str))
        item = f["item"].astype("category")  # (the ledger's item is categorical already)
        i = item_index.get_indexer(item.cat.categories.astype(str))[item.cat.codes.to_numpy()]
        if (i < 0).any() or (i >= len(RECEIPTS) + len(COSTS)).any():
            raise ValueError("a run's ledger has an item outside engine/ledger.ITEMS: "
                             f"{sorted(set(f['item'].astype(str)) - set(RECEIPTS + COSTS))}")
        for c in cube:
            cube[c][r, y, m, i] = f[c].to_numpy(np.float64)
    n_in, n_out = len(RECEIPTS), len(RECEIPTS) + len(COSTS)
    for c, values in cube.items():
        present = ~np.isnan(values[..., :n_out]).all(axis=-1)
        receipts = np.nansum(values[..., :n_in], axis=-1)
        costs = np.nansum(values[..., n_in:n_out], axis=-1)
        values[..., n_out] = np.where(present, receipts - costs, np.nan)
        # the net position summed over the window's years so far, in the price year's
        # kroner only: a sum of nominal kroner of different years means nothing
        if c == real:
            values[..., n_out + 1] = np.cumsum(np.where(present, values[..., n_out], 0.0),
                                               axis=1)
            values[..., n_out + 1][~present] = np.nan
    order = np.argsort(np.array(items, dtype=object), kind="stable")  # items as text, sorted
    n_y, n_m, n_i = len(years), len(codes), len(items)
    out = pd.DataFrame({
        "year": np.repeat(years, n_m * n_i),
        "municipality": np.tile(np.repeat(codes, n_i), n_y),
        "item": np.tile(np.array(items, dtype=object)[order], n_y * n_m),
    })
    with np.errstate(all="ignore"), warnings.catch_warnings():
        warnings.simplefilter("ignore", RuntimeWarning)  # a combination no run has: NaN
        for c in ("nok", real):
            out[c] = np.nanmean(cube[c], axis=0)[..., order].ravel()
        for q, suffix in ((LOW, "p5"), (HIGH, "p95")):
            out[f"{real}_{suffix}"] = quantile(cube[real], q, axis=0)[..., order].ravel()
    out["municipality"] = out["municipality"].astype(frames[0]["municipality"].dtype)
    out["item"] = out["item"].astype(pd.Series(["x"]).dtype)
    # only (year, municipality) pairs some run has (the engine writes every one every year)
    seen = (~np.isnan(cube[real][..., :n_out])).any(axis=(0, -1))
    return out[np.repeat(seen.ravel(), n_i)].reset_index(drop=True)


def aggregate_matching(summaries: list[ReplicateSummary]) -> pd.DataFrame:
    """What placement by matching did each year: mean and 5-95 % interval of every measure
    (empty without matching)."""
    frames = [s.matching.assign(replicate=s.replicate) for s in summaries
              if not s.matching.empty]
    return _by_year(frames) if frames else pd.DataFrame()


def _by_year(frames: list[pd.DataFrame]) -> pd.DataFrame:
    """Per year: the mean of every measure over the frames (replicates), with p5 and p95."""
    ally = pd.concat(frames)
    measures = [c for c in ally.columns if c not in ("year", "replicate")]
    g = ally.groupby("year")[measures]
    out = g.mean()
    for q, suffix in ((LOW, "p5"), (HIGH, "p95")):
        out = out.join(grouped(g, q).add_suffix(f"_{suffix}"))
    return out.reset_index()

"""Stage 5: the choice of destination (MODEL.md 4.6) for the movers of ``world.plans``.

Destinations are chosen by multinomial logit without a Python loop over households:
utilities are computed once per (origin, group, needs, job move) combination present among
this year's movers, and every mover then samples its row by inverse CDF.
"""

from __future__ import annotations

import numpy as np

from simulation.engine import kernels
from simulation.engine.indexing import stable_order, unique_inverse
from simulation.engine.randomness import Draws
from simulation.engine.runparams import NEED_CODES, RunParams
from simulation.engine.world import MovePlans, World
from simulation.inputs.categories import COUNTRY_GROUPS


def need_bits(world: World, rows: np.ndarray) -> np.ndarray:
    """Needs as a 3-bit code: school 1, higher education 2, health 4."""
    hh = world.households
    return (hh.need_school[rows] * 1 + hh.need_higher[rows] * 2
            + hh.need_health[rows] * 4).astype(np.int64)


def destination_utilities(world: World, params: RunParams, origin: np.ndarray,
                          group: np.ndarray, needs: np.ndarray, job: np.ndarray,
                          out: np.ndarray | None = None, work: np.ndarray | None = None,
                          network: np.ndarray | None = None) -> np.ndarray:
    """Utility of every municipality (columns) for each combination (rows); origin = -inf.

    Utility is additive in an origin part, a group part (network), a needs part (services) and
    a job part (labour market), so each is a small table and a row is four gathered rows; all
    but the network part are fixed for the run (``params``). ``out`` and ``work`` (each
    (combinations, municipalities)) are reused buffers; without them fresh arrays.
    ``network``: the network part (groups, municipalities) if the caller has it already.

    The engine runs ``kernels.destination_utilities`` (less each row's maximum); this is its
    specification, compared bit for bit in tests/test_kernels.py.
    """
    if network is None:
        network = params.dest_network_effect * np.log1p(world.stock)  # (groups, n)
    shape = (len(origin), world.geography.n)
    util = np.empty(shape) if out is None else out
    part = np.empty(shape) if work is None else work
    # in place, in the order (((static + network) + services) + labour) of the plain sum;
    # mode="clip" (the indices are valid) because take buffers ``out`` under mode="raise"
    np.take(params.static_utility, origin, axis=0, out=util, mode="clip")
    for table, index in ((network, group), (params.service_utility, needs),
                         (params.labour_utility, job)):
        np.take(table, index, axis=0, out=part, mode="clip")
        util += part
    return util


# The draw's rounding depends on this: a combination's CDF is searched shifted by its index
# within its block of COMBO_CHUNK (how the draw was first written, one searchsorted over the
# block's rows laid end to end). Changing it changes results in the last bits.
COMBO_CHUNK = 2048
# combinations computed at once: (SUB_CHUNK x 357) float64 arrays, ~1.5 MB, stay in cache
# (a divisor of COMBO_CHUNK, so a sub-block never straddles two blocks)
SUB_CHUNK = 512
if COMBO_CHUNK % SUB_CHUNK:
    raise RuntimeError("destination: SUB_CHUNK must divide COMBO_CHUNK")


def choose_destinations(world: World, params: RunParams, year: int, rng: Draws) -> None:
    """Stage 5: a destination for each planned mover, from one uniform per household row.

    Combinations are processed in blocks (a loop over blocks, never over households) so that
    memory stays flat however many movers a peak year has.
    """
    plans = world.plans
    if plans is None:
        raise RuntimeError("choose_destinations runs after decide_moves (world.plans unset)")
    u = rng.uniform_at("destination", plans.movers)
    plans.destination = sample_destinations(world, params, plans, u)


def sample_destinations(world: World, params: RunParams, plans: MovePlans, u: np.ndarray
                        ) -> np.ndarray:
    """Destinations of ``plans.movers`` from one uniform per mover (``u``)."""
    movers = plans.movers
    if len(movers) == 0:
        return np.zeros(0, dtype=np.int16)
    hh = world.households
    n = world.geography.n
    origin = hh.municipality[movers].astype(np.int64)
    group = hh.group[movers].astype(np.int64)
    key = (((origin * len(COUNTRY_GROUPS) + group) * NEED_CODES + need_bits(world, movers)) * 2
           + plans.job.astype(np.int64))
    combos, row = unique_inverse(key)
    tie = hh.tie[movers].astype(np.int64)
    has_tie = (tie >= 0) & (tie != origin)
    dest = np.empty(len(movers), dtype=np.int64)
    order = stable_order(row, len(combos))
    bounds = np.searchsorted(row[order], np.arange(0, len(combos) + SUB_CHUNK, SUB_CHUNK))
    network = params.dest_network_effect * np.log1p(world.stock)  # (groups, n), this year
    rows = min(SUB_CHUNK, len(combos))
    util_buf = np.empty((rows, n))
    tie_boost = float(np.expm1(params.dest_tie_effect))
    n_g = len(COUNTRY_GROUPS)
    for b, start in enumerate(range(0, len(combos), SUB_CHUNK)):
        block = combos[start:start + SUB_CHUNK]
        who = order[bounds[b]:bounds[b + 1]]
        util = util_buf[:len(block)]
        # compiled (kernels.py): the utilities less each row's maximum, then numpy's exp,
        # then the running sums and each mover's search (the same sums, quotients and
        # comparisons as destination_utilities and offset_search, so bit for bit the same)
        kernels.destination_utilities(params.static_utility, network, params.service_utility,
                                      params.labour_utility, block // (16 * n_g),
                                      (block // 16) % n_g, (block // 2) % NEED_CODES,
                                      block % 2, util)
        np.exp(util, out=util)
        found = np.empty(len(who), dtype=np.int64)
        kernels.destination_draw(util, row[who] - start,
                                 (row[who] % COMBO_CHUNK).astype(np.float64), u[who],
                                 tie[who], has_tie[who], tie_boost, found)
        dest[who] = found
    return dest.astype(np.int16)


def offset_search(cumsum: np.ndarray, total: np.ndarray, r: np.ndarray, shift: np.ndarray,
                  query: np.ndarray) -> np.ndarray:
    """For each mover, the number of destinations j with ``cumsum[j, r] / total[r] + shift
    <= query`` (in float64, each operation rounded as written): a vectorized binary search
    over the columns ``r`` of the cumulative weights (destination x combination).

    This is what a ``searchsorted(side="right")`` over the block's normalized CDFs laid end to
    end, each shifted by its index in the block, gives once the offset is taken off (the way
    the draw was first written); doing it per mover costs log2(n) gathers instead of passes
    over the block, and yields the same positions, rounding included.

    The engine searches in ``kernels.destination_draw``; this is its specification, compared
    bit for bit in tests/test_kernels.py.
    """
    n = len(cumsum)
    shift = shift.astype(np.float64)
    scale = total[r]
    lo = np.zeros(len(r), dtype=np.int64)
    hi = np.full(len(r), n, dtype=np.int64)
    for _ in range(int(n).bit_length()):
        mid = (lo + hi) // 2
        active = lo < hi
        below = active & ((cumsum[np.minimum(mid, n - 1), r] / scale + shift) <= query)
        lo = np.where(below, mid + 1, lo)
        hi = np.where(active & ~below, mid, hi)
    return lo

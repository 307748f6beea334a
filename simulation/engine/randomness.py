"""Random streams: one scenario seed, replicate seeds by SeedSequence.spawn, and one named,
independent stream per (stage, draw, year).

Every random decision in the model has a name, declared once in :data:`DRAWS` with a fixed
id. A stage receives a :class:`Draws` for its year and asks for numbers by name
(``rng.uniform("finds_job", n)``); the generator behind that name is derived from the run's
SeedSequence with the spawn key ``(*root, DRAW_KEY, id, year)``. So

* a change in one stage or one year (a policy that moves more people, say) does not shift the
  numbers any other decision sees: nothing is drawn "after" anything else;
* two decisions never share a stream: a :class:`Draws` refuses a name asked for twice, and
  a name the table does not declare;
* draws are indexed by household row (``n`` = every row ever settled), never by "the k-th
  mover", so two scenarios run with the same seed share common random numbers.

The ids are part of the results: renumbering one changes every run's outcome. Add new draws
with new ids; never reuse a retired id.

Uniforms and normals are *counter-based*: the number for household row ``i`` is a hash of
(the draw's key, ``i``), SplitMix64 (Steele, Lea & Flood 2014, "Fast splittable pseudorandom
number generators", the generator behind Java's SplittableRandom) with a per-draw odd gamma,
so that no generator object is built per draw and no state is carried from one row to the
next. Why: building ~30 PCG64 generators a year and filling their arrays was a quarter of the
engine's time (issue 14). The per-draw (state, gamma) pair comes from the run's SeedSequence
by the same mixing, so streams stay independent across draws, years and replicates. Draws
that need a distribution numpy provides (gamma, lognormal, permutations) still get a numpy
Generator of their own (:meth:`Draws.generator`).
"""

from __future__ import annotations

import math

import numpy as np
from numba import njit

DRAW_KEY = 1_000_003  # first spawn-key element of every named stream (outside spawn()'s range)

# (stage, draw name) -> fixed id. The stage names are those of stages/__init__.STAGES.
DRAWS: dict[tuple[str, str], int] = {
    # the whole run (year 0)
    ("model", "mesa"): 1,  # mesa's own generator (model.random / model.rng), unused by rules
    # stage 1, settlement: the cohort (make_cohort), then the municipalities and allocation
    ("settlement", "lone_parent_children"): 10,
    ("settlement", "family_children"): 11,
    ("settlement", "single_adult_male"): 12,
    ("settlement", "minor_male"): 13,
    ("settlement", "single_adult_age"): 14,
    ("settlement", "minor_age"): 15,
    ("settlement", "family_head_age"): 16,
    ("settlement", "country_group"): 17,
    ("settlement", "productivity"): 18,
    ("settlement", "health_need"): 19,
    ("settlement", "school_need"): 20,
    ("settlement", "arrives_with_tie"): 21,
    ("settlement", "tie_place"): 22,
    ("settlement", "priority_noise"): 23,  # municipality-level: who is asked to settle first
    ("settlement", "allocation_order"): 24,  # the order households are laid in the line
    # observed years: the order households are laid against IMDi's counts (place_exactly)
    ("settlement", "observed_placement"): 100,
    # stage 2, life course
    ("life_course", "work"): 30,  # the first adult (slot a) finds or loses work
    ("life_course", "income_noise"): 31,
    ("life_course", "school_need_onset"): 32,
    ("life_course", "higher_education_onset"): 33,
    ("life_course", "school_need_ends"): 34,
    ("life_course", "higher_education_ends"): 35,
    ("life_course", "tie_onset"): 36,
    ("life_course", "tie_place"): 37,
    # stage 3, exits
    ("exits", "exit"): 40,  # emigration or death (one uniform: two disjoint outcomes)
    # stage 4, move decision
    ("move_decision", "move"): 50,  # job move below p_job, general move up to p_any
    # stage 5, destination choice
    ("destination", "destination"): 60,
    # stage 6, apply moves
    ("moves", "work_after_move"): 70,  # slot a keeps (employed) or finds (not) work there
    # added for issue 13: the rights rule's delayed moves (120-129)
    ("move_decision", "delay"): 120,  # a move held back by the rights rule is delayed
    # work helper (110-119): the second adult's work, the lone parent's sex
    ("moves", "work_after_move_b"): 110,  # as work_after_move, for the second adult (slot b)
    ("life_course", "work_b"): 111,  # as work, for the second adult (slot b)
    ("settlement", "lone_parent_female"): 112,  # a lone parent is a mother (make_cohort)
    # added for issue 15: placement by matching, the order households fill their slots
    ("settlement", "matching_slots"): 130,
}
if len(set(DRAWS.values())) != len(DRAWS):
    raise RuntimeError("randomness.DRAWS: two draws share an id")


def replicate_seeds(seed: int, replicates: int) -> list[np.random.SeedSequence]:
    """Independent seeds for ``replicates`` runs of one scenario seed."""
    return np.random.SeedSequence(seed).spawn(replicates)


def as_seed_sequence(seed: int | np.random.SeedSequence) -> np.random.SeedSequence:
    """Accept a plain integer seed or a spawned SeedSequence."""
    if isinstance(seed, np.random.SeedSequence):
        return seed
    return np.random.SeedSequence(int(seed))


MASK = (1 << 64) - 1
_TO_UNIT = 1.0 / 9007199254740992.0  # 2**-53: the top 53 bits of a word as a double in [0, 1)


def _mix64(z: int) -> int:
    """SplitMix64's finaliser (Stafford's variant 13), on Python ints."""
    z = ((z ^ (z >> 30)) * 0xBF58476D1CE4E5B9) & MASK
    z = ((z ^ (z >> 27)) * 0x94D049BB133111EB) & MASK
    return z ^ (z >> 31)


def _gamma(z: int) -> int:
    """An odd increment with enough bit transitions (SplittableRandom.mixGamma)."""
    z = ((z ^ (z >> 33)) * 0xFF51AFD7ED558CCD) & MASK
    z = (((z ^ (z >> 33)) * 0xC4CEB9FE1A85EC53) & MASK) | 1
    return z ^ 0xAAAAAAAAAAAAAAAA if bin(z ^ (z >> 1)).count("1") < 24 else z


@njit(cache=True)
def _word(state: np.uint64, gamma: np.uint64, i: int) -> np.uint64:
    """The SplitMix64 output for row ``i`` of the stream (state, gamma)."""
    z = state + np.uint64(i + 1) * gamma
    z = (z ^ (z >> np.uint64(30))) * np.uint64(0xBF58476D1CE4E5B9)
    z = (z ^ (z >> np.uint64(27))) * np.uint64(0x94D049BB133111EB)
    return z ^ (z >> np.uint64(31))


@njit(cache=True)
def uniform_at(state: np.uint64, gamma: np.uint64, i: int) -> float:
    """The uniform on [0, 1) of row ``i`` (53-bit, as numpy's ``random()``): what the
    compiled kernels call for the rows that need a number, instead of reading an array."""
    return float(_word(state, gamma, i) >> np.uint64(11)) * _TO_UNIT


@njit(cache=True)
def counter_uniforms(state: np.uint64, gamma: np.uint64, n: int) -> np.ndarray:
    """Uniforms on [0, 1) for rows 0..n-1 of one stream."""
    out = np.empty(n, dtype=np.float64)
    for i in range(n):
        out[i] = uniform_at(state, gamma, i)
    return out


@njit(cache=True)
def counter_uniforms_at(state: np.uint64, gamma: np.uint64, rows: np.ndarray) -> np.ndarray:
    """The uniforms of the given rows only: ``counter_uniforms(state, gamma, n)[rows]``."""
    out = np.empty(len(rows), dtype=np.float64)
    for k in range(len(rows)):
        out[k] = uniform_at(state, gamma, rows[k])
    return out


@njit(cache=True)
def _normal(state: np.uint64, gamma: np.uint64, i: int) -> float:
    """The standard normal of row ``i``: Marsaglia's polar method on the pairs of words
    (64 i + 2 j, 64 i + 2 j + 1), j = 0, 1, ... until a pair falls inside the unit disc
    (1.27 tries on average; 32 failures in a row, probability 1e-21, would give 0). No
    trigonometry: libm's cos cost 22 ns a row."""
    for j in range(32):
        w = 64 * i + 2 * j
        x = 2.0 * (float(_word(state, gamma, w) >> np.uint64(11)) * _TO_UNIT) - 1.0
        y = 2.0 * (float(_word(state, gamma, w + 1) >> np.uint64(11)) * _TO_UNIT) - 1.0
        r2 = x * x + y * y
        if 0.0 < r2 < 1.0:
            return x * math.sqrt(-2.0 * math.log(r2) / r2)
    return 0.0


@njit(cache=True)
def counter_normals(state: np.uint64, gamma: np.uint64, n: int) -> np.ndarray:
    """Standard normals for rows 0..n-1 (:func:`_normal`). The one implementation: the
    engine, the reference and the tests all call these compiled functions, so their rounding
    is shared."""
    out = np.empty(n, dtype=np.float64)
    for i in range(n):
        out[i] = _normal(state, gamma, i)
    return out


@njit(cache=True)
def counter_normals_at(state: np.uint64, gamma: np.uint64, rows: np.ndarray) -> np.ndarray:
    """The standard normals of the given rows only: ``counter_normals(state, gamma, n)[rows]``
    without drawing the others (a normal costs ~16 ns, a log and a square root)."""
    out = np.empty(len(rows), dtype=np.float64)
    for k in range(len(rows)):
        out[k] = _normal(state, gamma, rows[k])
    return out


def draw_id(stage: str, name: str) -> int:
    """The fixed id of a declared draw; a KeyError naming the table otherwise."""
    try:
        return DRAWS[(stage, name)]
    except KeyError:
        raise KeyError(f"no draw {name!r} declared for stage {stage!r} in "
                       "randomness.DRAWS") from None


class Streams:
    """Generators for (stage, draw, year), derived deterministically from one SeedSequence."""

    def __init__(self, seed: int | np.random.SeedSequence) -> None:
        self.root = as_seed_sequence(seed)
        # two words of the run's own entropy for the counter-based streams (one call per run)
        self._words = [int(w) for w in self.root.generate_state(2, np.uint64)]

    def counter(self, stage: str, name: str, year: int = 0) -> tuple[np.uint64, np.uint64]:
        """(state, gamma) of the counter-based stream of one declared draw in one year."""
        draw = draw_id(stage, name)
        z = _mix64((self._words[0] ^ _mix64(draw * 0x9E3779B97F4A7C15 + int(year))) & MASK)
        return np.uint64(z), np.uint64(_gamma(_mix64(z ^ self._words[1])))

    def seed_sequence(self, stage: str, name: str, year: int = 0) -> np.random.SeedSequence:
        """The SeedSequence of one declared draw in one year (the same every time)."""
        draw = draw_id(stage, name)
        return np.random.SeedSequence(entropy=self.root.entropy,
                                      spawn_key=(*self.root.spawn_key, DRAW_KEY, draw,
                                                 int(year)))

    def generator(self, stage: str, name: str, year: int = 0) -> np.random.Generator:
        """A fresh generator for one declared draw in one year."""
        return np.random.Generator(np.random.PCG64(self.seed_sequence(stage, name, year)))

    def draws(self, stage: str, year: int) -> Draws:
        """The named draws of ``stage`` in ``year``: the ``rng`` a stage is called with."""
        return Draws(self, stage, year)


class Draws:
    """The ``rng`` of one stage in one year: random numbers by declared name, each name once.

    >>> rng = Streams(1).draws("exits", 2010)
    >>> u = rng.uniform("exit", 5)      # one uniform per household row
    >>> rng.uniform("exit", 5)          # doctest: +IGNORE_EXCEPTION_DETAIL
    Traceback (most recent call last):
    ValueError: draw 'exit' of stage 'exits' asked for twice in 2010
    """

    def __init__(self, streams: Streams, stage: str, year: int) -> None:
        self.streams = streams
        self.stage = stage
        self.year = year
        self.used: set[str] = set()

    def _claim(self, name: str) -> None:
        if name in self.used:
            raise ValueError(f"draw {name!r} of stage {self.stage!r} asked for twice in "
                             f"{self.year}: each decision needs its own declared name")
        draw_id(self.stage, name)
        self.used.add(name)

    def generator(self, name: str) -> np.random.Generator:
        """The generator of draw ``name`` (for gamma, lognormal, permutation, ...)."""
        self._claim(name)
        return self.streams.generator(self.stage, name, self.year)

    def uniform(self, name: str, size: int) -> np.ndarray:
        """``size`` uniforms on [0, 1) for draw ``name``, one per household row (counter-based:
        row i's number does not depend on ``size``)."""
        self._claim(name)
        return counter_uniforms(*self.streams.counter(self.stage, name, self.year), int(size))

    def counter(self, name: str) -> tuple[np.uint64, np.uint64]:
        """The (state, gamma) of draw ``name``, for numbers drawn later for the rows that
        need them (``counter_uniforms``/``counter_normals_at``; the same numbers as
        :meth:`uniform` and :meth:`normal` give those rows)."""
        self._claim(name)
        return self.streams.counter(self.stage, name, self.year)

    def uniform_at(self, name: str, rows: np.ndarray) -> np.ndarray:
        """The uniforms of draw ``name`` for ``rows`` only (``uniform(name, n)[rows]``)."""
        self._claim(name)
        return counter_uniforms_at(*self.streams.counter(self.stage, name, self.year),
                                   np.asarray(rows, dtype=np.int64))

    def normal(self, name: str, size: int) -> np.ndarray:
        """``size`` standard normals for draw ``name``, one per row (counter-based)."""
        self._claim(name)
        return counter_normals(*self.streams.counter(self.stage, name, self.year), int(size))

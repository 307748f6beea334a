"""Random streams: one scenario seed, replicate seeds by SeedSequence.spawn, and a separate
stream per decision and year.

A stream is keyed by (decision, year) rather than drawn in sequence, so that a change in one
stage or one year (a policy that moves more people, say) does not shift the numbers any other
stage or year sees. Draws inside a stage are indexed by household row, never by "the k-th
mover", for the same reason: two scenarios run with the same seed share common random numbers.
"""

from __future__ import annotations

from enum import IntEnum

import numpy as np


class Stream(IntEnum):
    """The decisions that draw random numbers, each from its own stream."""

    COHORT = 0  # who arrives: household types, sizes, ages, groups, needs, ties
    ALLOCATION = 1  # which municipalities settle and who goes where
    LIFE_COURSE = 2  # employment, income, needs, ties
    EXIT = 3  # emigration and death
    MOVE = 4  # whether to move
    DESTINATION = 5  # where to move
    MUNICIPALITY = 6  # yearly municipality-level noise (settling priority)


def replicate_seeds(seed: int, replicates: int) -> list[np.random.SeedSequence]:
    """Independent seeds for ``replicates`` runs of one scenario seed."""
    return np.random.SeedSequence(seed).spawn(replicates)


def as_seed_sequence(seed: int | np.random.SeedSequence) -> np.random.SeedSequence:
    """Accept a plain integer seed or a spawned SeedSequence."""
    if isinstance(seed, np.random.SeedSequence):
        return seed
    return np.random.SeedSequence(int(seed))


class Streams:
    """Generators for (decision, year) derived deterministically from one SeedSequence."""

    def __init__(self, seed: int | np.random.SeedSequence) -> None:
        self.root = as_seed_sequence(seed)

    def get(self, stream: Stream, year: int) -> np.random.Generator:
        """A fresh generator for this decision in this year (same every time it is asked)."""
        child = np.random.SeedSequence(
            entropy=self.root.entropy,
            spawn_key=(*self.root.spawn_key, 1_000_003, int(stream), int(year)),
        )
        return np.random.Generator(np.random.PCG64(child))

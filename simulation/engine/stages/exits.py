"""Stage 3, exits: emigration and death remove whole households from the population in Norway.

Exited households keep their row (with ``exit_year`` and ``exit_reason``) so that every settled
person is accounted for: settled = alive in Norway + exited, per cohort, every year.
"""

from __future__ import annotations

import numpy as np

from simulation.engine.households import EXIT_DEATH, EXIT_EMIGRATION
from simulation.engine.randomness import Draws
from simulation.engine.runparams import RunParams
from simulation.engine.world import World


def exits(world: World, params: RunParams, year: int, rng: Draws) -> None:
    """Stage 3 from one uniform per household row: below the emigration rate the household
    emigrates, up to emigration + death rate it dies out."""
    hh = world.households
    u = rng.uniform("exit", len(hh))
    emigrates = hh.alive & (u < params.emigration_rate)
    dies = hh.alive & ~emigrates & (u < params.emigration_rate + params.death_rate)
    leaving = np.flatnonzero(emigrates | dies)
    world.remove(leaving, year, np.where(emigrates[leaving], EXIT_EMIGRATION, EXIT_DEATH))

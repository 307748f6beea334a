"""Stage 3, exits: emigration and death remove whole households from the population in Norway.

Exited households keep their row (with ``exit_year`` and ``exit_reason``) so that every settled
person is accounted for: settled = alive in Norway + exited, per cohort, every year.
"""

from __future__ import annotations

import numpy as np

from simulation.engine.households import EXIT_DEATH, EXIT_EMIGRATION
from simulation.engine.world import World
from simulation.inputs.parameters import Params


def exits(world: World, params: Params, year: int, u: np.ndarray) -> None:
    """Stage 3 from one uniform per household row."""
    hh = world.households
    emigrates = hh.alive & (u < params.emigration_rate)
    dies = hh.alive & ~emigrates & (u < params.emigration_rate + params.death_rate)
    leaving = emigrates | dies
    hh.exit_reason[emigrates] = EXIT_EMIGRATION
    hh.exit_reason[dies] = EXIT_DEATH
    hh.exit_year[leaving] = year
    hh.alive &= ~leaving

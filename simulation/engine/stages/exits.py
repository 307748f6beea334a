"""Stage 3, exits: emigration and death remove whole households from the population in Norway.

Emigration is higher for households still in a rural settlement municipality in their first
years (CMI policy brief: refugee families settled in rural municipalities were more likely to
emigrate, usually soon after arrival); the size of that ratio is an assumption.

Exited households keep their row (with ``exit_year`` and ``exit_reason``) so that every settled
person is accounted for: settled = alive in Norway + exited, per cohort, every year.
"""

from __future__ import annotations

import numpy as np

from simulation.engine.households import EXIT_DEATH, EXIT_EMIGRATION
from simulation.engine.randomness import Draws
from simulation.engine.runparams import RunParams
from simulation.engine.terms import EARLY_EMIGRATION_YEARS, RURAL_CENTRALITY
from simulation.engine.world import World


def emigration_rates(world: World, params: RunParams, year: int) -> np.ndarray:
    """Each household's emigration probability this year."""
    hh = world.households
    rural_start = ((world.geography.centrality[hh.settlement] >= RURAL_CENTRALITY)
                   & (hh.municipality == hh.settlement)
                   & (hh.years_since(year) < EARLY_EMIGRATION_YEARS))
    return params.emigration_rate * np.where(rural_start, params.emigration_rural_ratio, 1.0)


def exits(world: World, params: RunParams, year: int, rng: Draws) -> None:
    """Stage 3 from one uniform per household row: below the emigration rate the household
    emigrates, up to emigration + death rate it dies out."""
    hh = world.households
    u = rng.uniform("exit", len(hh))
    emigration = emigration_rates(world, params, year)
    emigrates = hh.alive & (u < emigration)
    dies = hh.alive & ~emigrates & (u < emigration + params.death_rate)
    leaving = np.flatnonzero(emigrates | dies)
    world.remove(leaving, year, np.where(emigrates[leaving], EXIT_EMIGRATION, EXIT_DEATH))

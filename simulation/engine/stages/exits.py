"""Stage 3, exits: emigration and death remove whole households from the population in Norway.

Emigration is higher for households still in a rural settlement municipality in their first
years (CMI policy brief: refugee families settled in rural municipalities were more likely to
emigrate, usually soon after arrival); the size of that ratio is an assumption.

Exited households keep their row (with ``exit_year`` and ``exit_reason``) so that every settled
person is accounted for: settled = alive in Norway + exited, per cohort, every year.
"""

from __future__ import annotations

import numpy as np

from simulation.engine import kernels
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
    # compiled (kernels.exit_reasons): emigration_rates, the uniform and the two comparisons
    # in one loop
    reason = np.empty(len(hh), dtype=np.int8)
    kernels.exit_reasons(hh.alive, hh.cohort, hh.municipality, hh.settlement,
                         world.geography.centrality, *rng.counter("exit"), year,
                         float(params.emigration_rate), float(params.emigration_rural_ratio),
                         float(params.death_rate),
                         RURAL_CENTRALITY, EARLY_EMIGRATION_YEARS, reason)
    leaving = np.flatnonzero(reason)
    world.remove(leaving, year, np.where(reason[leaving] == 1, EXIT_EMIGRATION, EXIT_DEATH))

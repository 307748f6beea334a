"""The year loop both models share: the vectorized engine (model.py) and the per-household
reference (reference.py) differ only in their stage set and in how they hold households.

One ``step()`` runs the model's ``stages`` in order, each as ``stage(state, params, year,
rng)`` with the stage's named draws of the year, then observes the year through one
:class:`~simulation.engine.observe.Observer` and one pair of mesa DataCollectors, always on an
engine :class:`~simulation.engine.world.World` (the reference hands a column snapshot of its
agents). So both models publish the same tables through the same
:func:`~simulation.engine.results.build_results`, and a newcomer reads the loop once.
"""

from __future__ import annotations

from typing import Any

import mesa
import numpy as np

from simulation.engine.ledger import Ledger
from simulation.engine.observe import Observer, hoover_index
from simulation.engine.randomness import Streams
from simulation.engine.runparams import RunParams
from simulation.engine.world import World
from simulation.inputs.defaults import Inputs
from simulation.inputs.parameters import Params


def hoover(world: World) -> float:
    """Hoover index of settled households (alive) against the total population."""
    persons = world.resident.sum(axis=0).astype(float)
    return hoover_index(persons, world.geography.population.astype(float))


# national series per calendar year, from the observed world
YEARLY_REPORTERS: dict[str, Any] = {
    "year": lambda m: m.year,
    "households_alive": lambda m: int(m.observed.households.alive.sum()),
    "persons_alive": lambda m: int(m.observed.households.size[
        m.observed.households.alive].sum()),
    "persons_settled": lambda m: float(m.observed.settled_now.sum()),
    "persons_moving": lambda m: float(m.observed.moves_out.sum()),
    "settling_municipalities": lambda m: int(m.observed.settling_now.sum()),
    "hoover_index": lambda m: hoover(m.observed),
}
# yearly municipality series: one array per measure and year (vectorized; a per-agent reporter
# would cost a Python call per municipality and measure)
MUNICIPALITY_REPORTERS: dict[str, Any] = {
    "refugee_stock": lambda m: m.observed.stock.sum(axis=0),
    "settled": lambda m: m.observed.settled_now.copy(),
    "moves_in": lambda m: m.observed.moves_in.copy(),
    "moves_out": lambda m: m.observed.moves_out.copy(),
    "integration_quality": lambda m: m.observed.quality.copy(),
    # employment per municipality (adults of working age, where they live)
    "adults": lambda m: m.observer.municipal["adults"],
    "employed_adults": lambda m: m.observer.municipal["employed_adults"],
}


class YearLoop(mesa.Model):
    """A mesa Model whose ``step()`` is one calendar year of ``stages``.

    Subclasses set ``stages`` (``(name, stage)`` pairs; the name keys the stage's draws in
    randomness.DRAWS) and provide, as attributes or properties, ``state`` (what the stages
    act on) and ``world`` (that state as an engine World, for observation and results).
    """

    stages: tuple[tuple[str, Any], ...] = ()
    state: Any
    world: World

    def __init__(self, params: Params, inputs: Inputs,
                 seed: int | np.random.SeedSequence = 0) -> None:
        self.streams = Streams(seed)
        super().__init__(rng=self.streams.generator("model", "mesa"))
        self.params = RunParams(params, inputs)
        self.inputs = inputs
        self.year = inputs.start
        self.observer = Observer()
        self.observed: World | None = None  # the world as last observed
        # the municipal ledger in NOK (engine/ledger.py), kept on request (driver.run's
        # ``ledger``): about 4 ms a year, a quarter of the engine's own time
        self.ledger: Ledger | None = None
        self.datacollector = mesa.DataCollector(model_reporters=YEARLY_REPORTERS)
        self.municipality_series = mesa.DataCollector(model_reporters=MUNICIPALITY_REPORTERS)

    def step(self) -> None:
        """One calendar year: every stage in order, then observation on 1 January."""
        year = self.year
        state = self.state
        for name, stage in self.stages:
            stage(state, self.params, year, self.streams.draws(name, year))
        self.observed = self.world
        self.observer.observe(self.observed, year)
        if self.ledger is not None:
            self.ledger.observe(self.observed, self.params, year)
        self.datacollector.collect(self)
        self.municipality_series.collect(self)
        self.year += 1
        self.running = self.year <= self.inputs.end

    def run_model(self) -> None:
        """Run every year of the window."""
        while self.running:
            self.step()

    def release(self) -> None:
        """Let the model be garbage-collected: mesa 3.3's ``Agent._ids`` (a class-level dict
        keyed by model) otherwise keeps every model ever built alive, ~12 MB per run."""
        mesa.Agent._ids.pop(self, None)

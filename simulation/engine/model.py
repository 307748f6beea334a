"""The mesa Model of the engine: the vectorized stage set on the shared year loop (loop.py).

Municipalities are mesa agents fixed to the cells of a ``discrete_space.Network`` built from
the municipality graph; households are not agents but columns (see households.py), and every
yearly stage is one vectorized function over all of them (MODEL.md 3 and 8).
"""

from __future__ import annotations

import mesa
import numpy as np
from mesa.discrete_space import FixedAgent, Network

from simulation.engine.loop import YearLoop, hoover
from simulation.engine.stages import STAGES, Stage
from simulation.engine.world import World
from simulation.inputs.defaults import Inputs
from simulation.inputs.parameters import Params


class Municipality(FixedAgent):
    """One of the 357 municipalities: static facts from the geography, dynamic state from the
    model's arrays (read through properties so the vectorized stages stay the single truth)."""

    def __init__(self, model: SecondaryMigrationModel, index: int, cell: mesa.discrete_space.Cell
                 ) -> None:
        super().__init__(model)
        self.index = index
        self.code = str(model.world.geography.codes[index])
        self.name = str(model.world.geography.names[index])
        self.cell = cell

    @property
    def refugee_stock(self) -> float:
        """Persons with refugee background living here (settled households + background)."""
        return float(self.model.world.stock[:, self.index].sum())

    @property
    def settled(self) -> float:
        return float(self.model.world.settled_now[self.index])

    @property
    def moves_in(self) -> float:
        return float(self.model.world.moves_in[self.index])

    @property
    def moves_out(self) -> float:
        return float(self.model.world.moves_out[self.index])

    @property
    def integration_quality(self) -> float:
        return float(self.model.world.quality[self.index])


class SecondaryMigrationModel(YearLoop):
    """Refugee households settled in Norway's municipalities, deciding each year whether and
    where to move. One ``step()`` is one calendar year: the stages of ``stages.STAGES`` in the
    order of MODEL.md 3, then observation.

    Args:
        params: parameter values (a :class:`~simulation.inputs.parameters.Params`); the model
            keeps them as a :class:`~simulation.engine.runparams.RunParams`, with the inputs
            and the tables derived from both.
        inputs: geography, settlement volumes and composition, allocation policy and scale
            (:func:`~simulation.inputs.defaults.default_inputs` or a loaded scenario).
        seed: an int or a SeedSequence (a replicate's, see randomness.replicate_seeds); every
            random number of the run is a named draw derived from it (randomness.DRAWS).
        graph_k: neighbours per municipality in mesa's ``Network`` of municipalities.

    Attributes:
        world: the state that changes (households, stocks, quality, move plans, events).
        stages: the yearly ``(name, stage)`` pairs, run in order.
        observer, datacollector, municipality_series: what ``build_results`` turns into
            tables.

    Example:
        >>> from simulation.inputs.defaults import default_inputs
        >>> from simulation.inputs.parameters import Params
        >>> model = SecondaryMigrationModel(Params(), default_inputs(2010, 2012), seed=1)
        >>> model.run_model()                      # or model.step(), one year at a time
        >>> model.year, model.running
        (2013, False)
        >>> model.release()                        # let mesa forget the model
    """

    stages: tuple[tuple[str, Stage], ...] = STAGES

    def __init__(self, params: Params, inputs: Inputs, seed: int | np.random.SeedSequence = 0,
                 graph_k: int = 6) -> None:
        super().__init__(params, inputs, seed)
        geo = inputs.geography
        self.world = World.start(geo, inputs.background_stock)
        self.space = Network(geo.graph(k=graph_k), random=self.random)
        self.municipalities = [Municipality(self, i, self.space._cells[i]) for i in range(geo.n)]

    @property
    def state(self) -> World:
        """The engine's stages act on the world directly."""
        return self.world

    @property
    def stock(self) -> np.ndarray:
        """Refugee-background persons by (group, municipality) now (``world.stock``)."""
        return self.world.stock

    def hoover(self) -> float:
        """Hoover index of settled households (alive) against the total population."""
        return hoover(self.world)

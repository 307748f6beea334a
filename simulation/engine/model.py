"""The mesa Model: owns the year loop, the random streams and the data collection.

Municipalities are mesa agents fixed to the cells of a ``discrete_space.Network`` built from
the municipality graph; households are not agents but columns (see households.py), and every
yearly stage is one vectorized function over all of them (MODEL.md 3 and 8).
"""

from __future__ import annotations

import mesa
import numpy as np
from mesa.discrete_space import FixedAgent, Network

from simulation.engine.observe import Observer, hoover_index
from simulation.engine.randomness import Stream, Streams
from simulation.engine.stages import decisions, exits, lifecourse, moves, settlement
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
        return float(self.model.stock[:, self.index].sum())

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


class SecondaryMigrationModel(mesa.Model):
    """Refugee households settled in Norway's municipalities, deciding each year whether and
    where to move. One ``step()`` is one calendar year, stages in the order of MODEL.md 3."""

    def __init__(self, params: Params, inputs: Inputs, seed: int | np.random.SeedSequence = 0,
                 graph_k: int = 6) -> None:
        self.streams = Streams(seed)
        root = self.streams.root
        model_seed = np.random.SeedSequence(root.entropy, spawn_key=(*root.spawn_key, 7))
        super().__init__(rng=np.random.default_rng(model_seed))
        self.params = params
        self.inputs = inputs
        self.year = inputs.start
        geo = inputs.geography
        self.world = World.start(geo, inputs.background_stock)
        # the part of destination utility fixed for the run (parameters are fixed too)
        self.world.static_utility = decisions.static_utility(self.world, params)
        self.stock = self.world.stock()
        self.observer = Observer()
        self.space = Network(geo.graph(k=graph_k), random=self.random)
        self.municipalities = [Municipality(self, i, self.space._cells[i]) for i in range(geo.n)]
        self.datacollector = mesa.DataCollector(
            model_reporters={
                "year": lambda m: m.year,
                "households_alive": lambda m: int(m.world.households.alive.sum()),
                "persons_alive": lambda m: int(m.world.households.size[
                    m.world.households.alive].sum()),
                "persons_settled": lambda m: float(m.world.settled_now.sum()),
                "persons_moving": lambda m: float(m.world.moves_out.sum()),
                "settling_municipalities": lambda m: int(m.world.settling_now.sum()),
                "hoover_index": lambda m: m.hoover(),
            },
        )
        # yearly municipality series: one array per measure and year (vectorized; a per-agent
        # reporter would cost a Python call per municipality and measure)
        self.municipality_series = mesa.DataCollector(
            model_reporters={
                "refugee_stock": lambda m: m.stock.sum(axis=0),
                "settled": lambda m: m.world.settled_now.copy(),
                "moves_in": lambda m: m.world.moves_in.copy(),
                "moves_out": lambda m: m.world.moves_out.copy(),
                "integration_quality": lambda m: m.world.quality.copy(),
            },
        )

    def hoover(self) -> float:
        """Hoover index of settled households (alive) against the total population."""
        hh = self.world.households
        geo = self.world.geography
        persons = np.bincount(hh.municipality[hh.alive], weights=hh.size[hh.alive],
                              minlength=geo.n)
        return hoover_index(persons, geo.population.astype(float))

    def step(self) -> None:
        """One calendar year: settle, life course, exits, decide, choose, move, observe."""
        year, p, w, s = self.year, self.params, self.world, self.streams
        inp = self.inputs
        noise = s.get(Stream.MUNICIPALITY, year).standard_normal(w.geography.n)
        settlement.settle(w, year, inp.volumes[year], inp.composition[year], inp.allocation, p,
                          s.get(Stream.COHORT, year), s.get(Stream.ALLOCATION, year), noise,
                          inp.scale)
        n = len(w.households)
        lifecourse.life_course(w, p, year, s.get(Stream.LIFE_COURSE, year))
        exits.exits(w, p, year, s.get(Stream.EXIT, year).random(n))
        self.stock = w.stock()
        programme = lifecourse.in_programme(w, p, year)
        move_u = s.get(Stream.MOVE, year).random((2, n))
        decision = decisions.decide_moves(w, p, year, self.stock, programme, move_u[0])
        dest_u = s.get(Stream.DESTINATION, year).random(n)
        destination = decisions.choose_destinations(w, p, decision, self.stock,
                                                    dest_u[decision.movers])
        moves.apply_moves(w, p, year, decision, destination, move_u[1])
        self.stock = w.stock()
        self.observer.observe(w, year)
        self.datacollector.collect(self)
        self.municipality_series.collect(self)
        self.year += 1
        self.running = self.year <= inp.end

    def release(self) -> None:
        """Let the model be garbage-collected: mesa 3.3's ``Agent._ids`` (a class-level dict
        keyed by model) otherwise keeps every model ever built alive, ~12 MB per run."""
        mesa.Agent._ids.pop(self, None)

    def run_model(self) -> None:
        """Run every year of the window."""
        while self.running:
            self.step()

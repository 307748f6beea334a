"""The yearly stages in the order of MODEL.md 3: settle, life course, exits, move decision,
destination choice, moves. Each is one vectorized function over all households with the same
contract, ``stage(world, params, year, rng)``:

* ``world`` (:class:`~simulation.engine.world.World`): the state it reads and updates;
* ``params`` (:class:`~simulation.engine.runparams.RunParams`): parameters, inputs and the
  tables derived from them, fixed for the run;
* ``year``: the calendar year;
* ``rng`` (:class:`~simulation.engine.randomness.Draws`): the stage's named draws this year.

A stage returns nothing; what the next stage needs it leaves in the world (the move decision
leaves ``world.plans``). Stages import shared terms from engine/terms.py, never each other.
"""

from __future__ import annotations

from collections.abc import Callable

from simulation.engine.randomness import Draws
from simulation.engine.runparams import RunParams
from simulation.engine.stages.destination import choose_destinations
from simulation.engine.stages.exits import exits
from simulation.engine.stages.life_course import life_course
from simulation.engine.stages.move_decision import decide_moves
from simulation.engine.stages.moves import apply_moves
from simulation.engine.stages.settlement import settle
from simulation.engine.world import World

Stage = Callable[[World, RunParams, int, Draws], None]

# (name, stage) in the order of one year; the name keys the stage's draws in randomness.DRAWS
STAGES: tuple[tuple[str, Stage], ...] = (
    ("settlement", settle),
    ("life_course", life_course),
    ("exits", exits),
    ("move_decision", decide_moves),
    ("destination", choose_destinations),
    ("moves", apply_moves),
)

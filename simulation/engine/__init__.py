"""The simulation itself. Reading order for a newcomer:

driver.run (one replicate in, Results out) -> model.SecondaryMigrationModel on loop.YearLoop
(the year loop: stages in order, then observation) -> stages/ (one function per stage, each
``stage(world, params, year, rng)``) with terms.py (what stages share); world.py (the state
that changes: households.py columns, the stock, move plans, events), runparams.py (what is
fixed for a run), randomness.py (the named draws), observe.py and results.py (what is
recorded and returned), and reference.py (the same rules, one household at a time).
"""

"""The simulation itself. Reading order for a newcomer:

driver.run (one replicate in, Results out) -> model.SecondaryMigrationModel on loop.YearLoop
(the year loop: stages in order, then observation) -> stages/ (one function per stage, each
``stage(world, params, year, rng)``) with terms.py (what stages share); world.py (the state
that changes: households.py columns, the stock, move plans, events), runparams.py (what is
fixed for a run), randomness.py (the named draws), observe.py and results.py (what is
recorded and returned), and reference.py (the same rules, one household at a time).
"""

# Bump whenever the same seed, parameters and inputs give different numbers (a rule, a stream,
# an order of operations): resumable logs (calibration evaluations, sweep rows) include it in
# their fingerprints, so a log written by another engine is never mixed into a new one.
# 2: counter-based uniforms and normals (issue 14).
RESULTS_VERSION = 2

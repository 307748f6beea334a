"""Limits on run settings shared by scenario files, the command line and the Python API (one
definition each, so a value one of them accepts is never refused by another). No imports:
the command line reads them at start."""

MAX_SEED = 2**63 - 1  # seeds are stored as int64 (manifest, sweep rows)
MAX_REPLICATES = 10_000  # replicate runs of one scenario

"""The `secmig` command line: validate, run, compare, calibrate, sweep, app, params, template.

Bad input (unknown key, wrong type, out-of-range value, malformed YAML, missing file, bad CSV)
prints every problem with file, line and key, exits with code 2, and writes nothing;
`--debug` shows tracebacks. One module a job: ``parser`` (commands and options), ``main`` (the
entry point), ``scenarios`` / ``research`` / ``info`` (the commands), ``tables`` and
``console`` (what is printed), ``places`` (where output goes).
"""

from simulation.cli.main import main

__all__ = ["main"]

"""Sensitivity sweeps (one-at-a-time, Morris, Sobol) over registry parameters and levers."""

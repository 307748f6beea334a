"""Fitting the behavioural parameters to register targets, and the fit's report."""

"""Shared output helpers: HTML pages and tables, figures, and atomic output folders."""

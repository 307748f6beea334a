"""Shared output helpers: numbers written by kind, HTML pages and tables, figures, and atomic
output folders."""

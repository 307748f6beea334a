"""The categories the register counts people by, shared by inputs, engine and analysis.

Their order is the households' integer coding in the engine (``engine/households.py``), so it
is fixed here once: append new categories, never reorder.
"""

from __future__ import annotations

HOUSEHOLD_TYPES: tuple[str, ...] = (
    "single_man", "single_woman", "couple_no_children", "couple_with_children", "lone_parent",
)

COUNTRY_GROUPS: tuple[str, ...] = (
    "syria", "eritrea", "somalia", "afghanistan", "ukraine", "other",
)

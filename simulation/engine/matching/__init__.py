"""Placement by matching (``settlement.allocation.method: matching``; docs/placement.md).

Each year the baseline allocation is made first (IMDi's observed counts, the allocation model
or quotas); its persons by agreement per municipality are the capacities. The households by
agreement are then re-assigned among them: :mod:`.kinds` groups them by what is known at
placement, :mod:`.predict` asks the calibrated model what each kind would do in each
municipality, :mod:`.solve` finds the assignment with the most predicted value within the
capacities and constraints, and :mod:`.slots` draws the households into it.
"""

from simulation.engine.matching.place import MatchingError, match_cohort

__all__ = ["MatchingError", "match_cohort"]

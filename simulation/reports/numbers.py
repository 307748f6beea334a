"""Numbers for people, written once for every place that shows them: the HTML reports, the
compare brief, the policy brief in docs/ and the terminal tables.

A value is written by its kind (an indicator's kind is in ``analysis/registry.py``):

* ``share``: a percentage with one decimal (``80.1 %``); a signed share is a difference in
  percentage points (``-6.7``);
* ``count``: persons or municipalities, whole (also a mean over runs: "58 municipalities"),
  with a thousands separator;
* ``per1000``: persons per 1,000 inhabitants, signed, one decimal;
* ``number``: a number without a kind: whole from 100 (or when whole), one decimal from 10,
  else three;
* anything else (``index``, ``ratio``, ``amount``): three decimals.

Missing values (None, NaN) show as ``missing``. The separator differs by medium only: a space
in reports (the Norwegian and SI convention), a comma in the terminal.
"""

from __future__ import annotations

import math
from typing import Any


def number(x: Any, kind: str = "number", *, signed: bool = False, missing: str = "–",
           sep: str = " ") -> str:
    """``x`` written by its ``kind`` (see the module docstring); ``signed`` for differences.

    >>> number(0.8012, "share"), number(-0.067, "share", signed=True)
    ('80.1 %', '-6.7')
    >>> number(166000, "count", sep=","), number(57.6, "count"), number(12.5, "per1000")
    ('166,000', '58', '+12.5')
    """
    if x is None:
        return missing
    x = float(x)
    if math.isnan(x):
        return missing
    sign = "+" if signed else ""
    if kind == "share":
        return f"{100 * x:{sign}.1f}" + ("" if signed else " %")
    if kind == "per1000":
        return f"{x:+.1f}"
    if kind in ("count", "number"):
        digits = 0 if kind == "count" or x.is_integer() or abs(x) >= 100 else (
            1 if abs(x) >= 10 else 3)
        return f"{x:{sign},.{digits}f}".replace(",", sep)
    return f"{x:{sign}.3f}"

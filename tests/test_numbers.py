"""One way to write a number: by kind, the same in reports, briefs and the terminal (only the
thousands separator and the missing mark differ by medium)."""

from __future__ import annotations

import math

import pytest

from simulation.cli.console import fmt as terminal
from simulation.reports.html import value as html_value
from simulation.reports.numbers import number


@pytest.mark.parametrize(("x", "kind", "signed", "want"), [
    (0.80123, "share", False, "80.1 %"),
    (-0.0674, "share", True, "-6.7"),
    (0.004, "share", True, "+0.4"),
    (166_000, "count", False, "166 000"),
    (57.6, "count", False, "58"),
    (491.2, "count", True, "+491"),
    (12.54, "per1000", False, "+12.5"),
    (0.11423, "index", False, "0.114"),
    (1.1834, "ratio", False, "1.183"),
    (3.4261, "amount", True, "+3.426"),
    (1234.0, "number", False, "1 234"),
    (57.64, "number", False, "57.6"),
    (0.0301, "number", False, "0.030"),
    (7, "number", False, "7"),
])
def test_number_by_kind(x, kind, signed, want):
    assert number(x, kind, signed=signed) == want


def test_missing_values():
    assert number(None, "share") == "–" and number(math.nan, "count") == "–"
    assert terminal(None) == "-" and terminal(float("nan"), "share") == "-"


def test_every_medium_writes_the_same_number():
    for x, kind in ((0.8012, "share"), (166_000, "count"), (0.114, "index"), (12.5, "per1000")):
        assert html_value(x, kind) == number(x, kind)
        assert terminal(x, kind) == number(x, kind, sep=",")
    assert terminal(166_000, "count") == "166,000" and terminal(0.8012, "share") == "80.1 %"

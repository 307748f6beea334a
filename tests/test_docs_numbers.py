"""The lesson's tables (docs/teaching.md) are the numbers of docs/teaching/results.json, which
docs/make_teaching.py writes from seeded runs: every cell is recomputed here from that file, so
a rerun that changes a result fails until the text is brought in line."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np

DOCS = Path(__file__).resolve().parent.parent / "docs"
RIGHTS = {"rights 5 years (today)": "rights 5 years (today)",
          "rights 0 years": "rights 0 years (no tie)",
          "rights 10 years": "rights 10 years",
          "rights 5 years + job exemption": "rights 5 years + job exemption"}


def _rows() -> dict[str, list[str]]:
    rows = {}
    for line in (DOCS / "teaching.md").read_text(encoding="utf-8").splitlines():
        if line.startswith("| ") and not line.startswith("|---"):
            cells = [c.strip() for c in line.strip("|").split("|")]
            rows[cells[0]] = cells[1:]
    return rows


def _percent_range(values: list[float]) -> str:
    lo, hi = round(100 * min(values)), round(100 * max(values))
    return f"{lo} %" if lo == hi else f"{lo}-{hi} %"


def test_toy_country_table_matches_results():
    results = json.loads((DOCS / "teaching" / "results.json").read_text())
    rows = _rows()
    strengths = ("0", "0.5", "1", "2")
    for label, key in (("each group's town-dwellers in its main town", "group_in_main_town"),
                       ("Hoover index", "hoover")):
        want = [" / ".join(f"{v:.2f}" for v in results[f"toy_{s}"][key]) for s in strengths]
        assert rows[label] == want, (label, rows[label], want)
    want = [_percent_range(results[f"toy_{s}"]["towns_share"]) for s in strengths]
    assert rows["share in the 3 towns"] == want


def test_rights_table_matches_results():
    results = json.loads((DOCS / "teaching" / "results.json").read_text())
    rows = _rows()
    for label, key in RIGHTS.items():
        r = results[key]
        want = [f"{100 * np.mean(r['R5']):.1f} %", f"{100 * np.mean(r['R7']):.1f} %",
                f"{round(np.mean(r['moves_total']), -2):,.0f}"]
        assert rows[label] == want, (label, rows[label], want)


def test_lesson_quotes_the_calibrated_network_strength():
    """The lesson's step 3 names where the app's network slider starts: the calibrated
    posterior mean of dest_network_effect, as simulation/app/page.py rounds it."""
    import simulation

    value = round(simulation.calibrated().dest_network_effect, 2)
    text = " ".join((DOCS / "teaching.md").read_text(encoding="utf-8").split())
    assert f"the calibration's posterior mean is {value:.2f}, where the app's slider" in text

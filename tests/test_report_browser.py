"""The HTML report opened in a real headless Chromium (Debian's package, driven by Playwright):
every figure loads, the headline table is there, and a screenshot is saved.

`.ci/run` installs Chromium; on a developer machine without it the test is skipped (in CI it
fails instead, so it can never silently pass there).
"""

from __future__ import annotations

from pathlib import Path

import pytest

from simulation.cli import main

# browsers, servers and CLI subprocesses: the slow tier (pytest -m slow)
pytestmark = pytest.mark.slow


def _check_page(browser, report: Path, shot: Path) -> dict:
    page = browser.new_page(viewport={"width": 1100, "height": 900})
    page.goto(report.as_uri())
    info = page.evaluate("""() => ({
        title: document.title,
        images: Array.from(document.images).map(i => [i.complete, i.naturalWidth]),
        headings: Array.from(document.querySelectorAll('h2')).map(h => h.textContent),
        rows: document.querySelectorAll('table tr').length,
        text: document.body.innerText,
    })""")
    page.screenshot(path=str(shot), full_page=True)
    page.close()
    assert info["images"] and all(ok and w > 300 for ok, w in info["images"]), info["images"]
    assert shot.stat().st_size > 50_000
    assert "<span" not in info["text"] and "&lt;" not in info["text"]
    return info


def test_run_report_renders(browser, tmp_path):
    scen = tmp_path / "s.yaml"
    scen.write_text("name: browser\ndescription: A short run for the browser check.\n"
                    "period: {start: 2010, end: 2017}\nreplicates: 2\n", encoding="utf-8")
    out = tmp_path / "out"
    assert main(["run", str(scen), "--out", str(out), "--quiet", "--jobs", "1"]) == 0
    info = _check_page(browser, out / "report.html", tmp_path / "report.png")
    assert info["title"] == "secmig: browser"
    assert {"What was run", "Headline numbers", "Municipalities",
            "Kroner: the municipal ledger", "Files and provenance"} <= set(info["headings"])
    assert "Still living in the settlement municipality after 7 years" in info["text"]
    assert len(info["images"]) == 7 and info["rows"] > 30  # six figures and the ledger's map


def test_comparison_report_renders(browser, tmp_path):
    base = tmp_path / "a.yaml"
    base.write_text("name: a\ndescription: reference\nperiod: {start: 2010, end: 2015}\n"
                    "replicates: 2\n", encoding="utf-8")
    (tmp_path / "b.yaml").write_text("extends: a.yaml\nname: b\ndescription: no rule\n"
                                     "policy: {rights_years: 0}\n", encoding="utf-8")
    out = tmp_path / "cmp"
    assert main(["compare", str(base), str(tmp_path / "b.yaml"), "--out", str(out), "--quiet",
                 "--jobs", "1"]) == 0
    info = _check_page(browser, out / "report.html", tmp_path / "compare.png")
    assert "b minus a" in info["text"] and "The answer in short" in info["headings"]
    assert "Kroner: what it moves between municipalities" in info["headings"]


def test_sweep_report_renders(browser, tmp_path):
    """A small Morris sweep with a discovery condition: index bars, mu*-sigma plane, PRIM
    box and scatter figures all load, and the ranking reads as text."""
    (tmp_path / "base.yaml").write_text("name: base\nperiod: {start: 2010, end: 2014}\n",
                                        encoding="utf-8")
    sweep = tmp_path / "sweep.yaml"
    sweep.write_text("name: browser-sweep\ndescription: A small sweep for the browser check.\n"
                     "base: base.yaml\ndesign: morris\nsamples: 3\nseed: 1\nparameters:\n"
                     "  move_intercept: {low: -1.6, high: -0.6}\n"
                     "  dest_network_effect: {low: 0.2, high: 1.0}\n"
                     "indicators: [retention_3y, share_in_10_largest]\n"
                     "discover:\n  - {indicator: retention_3y, below: 0.9}\n", encoding="utf-8")
    out = tmp_path / "sweep"
    assert main(["sweep", str(sweep), "--out", str(out), "--quiet", "--jobs", "1"]) == 0
    info = _check_page(browser, out / "report.html", tmp_path / "sweep.png")
    assert info["title"] == "Sensitivity sweep: browser-sweep"
    assert {"What was run", "Which parameters matter", "Every run"} <= set(info["headings"])
    assert any(h.startswith("Scenario discovery") for h in info["headings"])
    assert "retention_3y" in info["text"] and "move_intercept (mu_star" in info["text"]
    assert len(info["images"]) >= 4

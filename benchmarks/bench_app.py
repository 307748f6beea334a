"""Responsiveness of the teaching app, run by hand (not a timed test; figures go in
docs/teaching.md).

    python benchmarks/bench_app.py              # both measurements, markdown to stdout
    python benchmarks/bench_app.py --no-browser # only the server-side part

1. Server side: for each year of the full Norway model (2010-2023, calibrated parameters),
   the time of one ``step()`` plus building everything the page shows (map, four charts,
   headline numbers).
2. In the browser: ``secmig app`` as a subprocess, Debian's Chromium via Playwright; the time
   from clicking Step to the new year appearing on the page (step, views, websocket, DOM),
   timed inside the page, for every year of the run.
"""

from __future__ import annotations

import argparse
import platform
import statistics
import sys
import time
from pathlib import Path

# the browser harness lives with the tests (tests/chromium.py), not in the shipped package:
# run as a script, Python puts only benchmarks/ on the path, so add the checkout's root
sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
from tests.chromium import CHROMIUM, CHROMIUM_ARGS, running_app

ROOT = Path(__file__).resolve().parents[1]

JS_STEP = """(year) => new Promise((resolve, reject) => {
    const button = Array.from(document.querySelectorAll('button'))
        .find(b => b.textContent.trim().toLowerCase() === 'step');
    const t0 = performance.now();
    const seen = () => document.querySelector('.kpi[data-key="year"] .kpi-value')
        ?.textContent === year;
    const obs = new MutationObserver(() => {
        if (seen()) { obs.disconnect(); resolve(performance.now() - t0); } });
    obs.observe(document.body, {subtree: true, childList: true, characterData: true});
    setTimeout(() => reject(new Error('no update within 20 s')), 20000);
    button.click();
})"""


def server_side() -> list[tuple[int, float, float]]:
    """(year, step seconds, views seconds) for each year of the full model."""
    from simulation.app import views
    from simulation.app.page import initial_model

    model = initial_model()
    rows = []
    while model.running:
        year = model.year
        t0 = time.perf_counter()
        model.step()
        t1 = time.perf_counter()
        views.map_svg(model, views.NET)
        for draw in (views.retention_svg, views.concentration_svg, views.split_svg,
                     views.moves_svg):
            draw(model)
        views.headline(model)
        rows.append((year, t1 - t0, time.perf_counter() - t1))
    return rows


def in_browser(chromium: str) -> list[tuple[int, float]]:
    """(year, seconds from clicking Step to the year shown) for each year, in Chromium."""
    from playwright.sync_api import sync_playwright

    with running_app(cwd=ROOT) as url, sync_playwright() as pw:
        browser = pw.chromium.launch(executable_path=chromium, args=CHROMIUM_ARGS,
                                     headless=True)
        page = browser.new_page(viewport={"width": 1500, "height": 1000})
        page.goto(url)
        page.wait_for_selector("svg.secmig-map circle.muni", timeout=30_000)
        rows = []
        for year in range(2010, 2024):
            # timed inside the page: from the click to the new year in the DOM (no
            # Playwright round trips in the figure)
            ms = page.evaluate(JS_STEP, str(year))
            rows.append((year, ms / 1000.0))
        browser.close()
    return rows


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--no-browser", action="store_true")
    parser.add_argument("--chromium", default=CHROMIUM)
    args = parser.parse_args()
    print(f"machine: {platform.machine()}, Python {platform.python_version()}\n")
    rows = server_side()
    total = [s + v for _, s, v in rows]
    print("| year | step (s) | views (s) | step + views (s) |\n|---|---|---|---|")
    for (year, s, v), t in zip(rows, total, strict=True):
        print(f"| {year} | {s:.3f} | {v:.3f} | {t:.3f} |")
    print(f"\nserver side, step + views per year: mean {statistics.mean(total):.3f} s, "
          f"max {max(total):.3f} s")
    if not args.no_browser and Path(args.chromium).exists():
        clicks = in_browser(args.chromium)
        times = [t for _, t in clicks]
        print("\n| year | click Step -> year shown (s) |\n|---|---|")
        for year, t in clicks:
            print(f"| {year} | {t:.3f} |")
        print(f"\nin the browser, click to updated page: mean {statistics.mean(times):.3f} s, "
              f"max {max(times):.3f} s")


if __name__ == "__main__":
    main()

"""Figures, numbers and screenshots for docs/teaching.md, from actual runs of the app's model.

    python docs/make_teaching.py               # figures + numbers + app screenshots
    python docs/make_teaching.py --no-browser  # figures and numbers only

Runs the three experiments of the lesson headless with TeachingModel (the calibrated engine,
as the app runs it), three seeds per setting, writes PNG figures into docs/teaching/ and prints
the numbers quoted in the lesson; then starts `secmig app` and takes screenshots of the
experiments set up through the app's own controls (Playwright + Debian's Chromium).
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from pathlib import Path

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt
import numpy as np
from matplotlib.ticker import MaxNLocator

# the browser harness lives with the tests (tests/chromium.py), not in the shipped package:
# run as a script, Python puts only docs/ on the path, so add the checkout's root
sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
from simulation.app.teaching_model import NORWAY, TOY, TeachingModel
from tests.chromium import CHROMIUM, CHROMIUM_ARGS, running_app

OUT = Path(__file__).resolve().parent / "teaching"
ROOT = OUT.parents[1]
SEEDS = (1, 2, 3)


def run(**controls) -> TeachingModel:
    m = TeachingModel(**controls)
    while m.running:
        m.step()
    return m


def hazards(m: TeachingModel) -> dict[int, float]:
    """Yearly leaving hazard h(k) = 1 - R(k)/R(k-1) from the pooled retention curve."""
    r = {0: 1.0, **m.retention_curve()}
    return {k: 1 - r[k] / r[k - 1] for k in range(1, 12) if k in r and k - 1 in r}


def experiment_network(results: dict) -> None:
    strengths = (0.0, 0.5, 1.0, 2.0)
    fig, axes = plt.subplots(1, 2, figsize=(10, 3.8))
    for s in strengths:
        runs = [run(world=TOY, network_strength=s, seed=seed) for seed in SEEDS]
        years = [v.year for v in runs[0].years]
        main = np.mean([[v.concentration["group in its main town"] for v in m.years]
                        for m in runs], axis=0)
        hoov = np.mean([[v.concentration["Hoover index"] for v in m.years] for m in runs],
                       axis=0)
        axes[0].plot(years, main, label=f"network strength {s:g}")
        axes[1].plot(years, hoov, label=f"network strength {s:g}")
        results[f"toy_{s:g}"] = {
            "group_in_main_town": [round(m.years[-1].concentration["group in its main town"], 3)
                                   for m in runs],
            "hoover": [round(m.years[-1].concentration["Hoover index"], 3) for m in runs],
            "towns_share": [round(m.years[-1].concentration["share in the 3 towns"], 3)
                            for m in runs]}
    axes[0].axhline(1 / 3, color="grey", lw=0.8, ls=":")
    axes[0].set(title="Toy country: share of each group's town-dwellers\nin its main town "
                      "(1/3 = even)", ylim=(0, 1))
    axes[1].set(title="Toy country: Hoover index of settled refugees\nagainst population",
                ylim=(0, 0.8))
    axes[0].legend(fontsize=8)
    for ax in axes:
        ax.set_xlabel("year (mean of 3 seeds)")
        ax.xaxis.set_major_locator(MaxNLocator(integer=True))
    fig.tight_layout()
    fig.savefig(OUT / "network_toy.png", dpi=110)
    plt.close(fig)
    for s in (0.0, 0.5, 2.0):
        runs = [run(world=NORWAY, network_strength=s, seed=seed) for seed in SEEDS]
        results[f"norway_{s:g}"] = {
            "hoover": [round(m.years[-1].concentration["Hoover index"], 3) for m in runs],
            "top10": [round(m.years[-1].concentration["share in the 10 largest"], 3)
                      for m in runs]}


def experiment_rights(results: dict) -> None:
    settings = {"rights 5 years (today)": {"rights_years": 5},
                "rights 0 years (no tie)": {"rights_years": 0},
                "rights 10 years": {"rights_years": 10},
                "rights 5 years + job exemption": {"rights_years": 5, "job_exemption": True}}
    fig, ax = plt.subplots(figsize=(7, 3.8))
    for label, controls in settings.items():
        runs = [run(world=NORWAY, seed=seed, **controls) for seed in SEEDS]
        h = [hazards(m) for m in runs]
        ks = sorted(h[0])
        mean_h = [np.mean([x[k] for x in h]) for k in ks]
        ax.plot(ks, mean_h, marker="o", label=label)
        results[label] = {
            "hazard": {k: round(float(v), 3) for k, v in zip(ks, mean_h, strict=True)},
            "R5": [round(m.retention_curve()[5], 3) for m in runs],
            "R7": [round(m.retention_curve()[7], 3) for m in runs],
            "moves_total": [round(sum(v.persons_moving for v in m.years)) for m in runs]}
    ax.axvspan(0.5, 5.5, color="#E69F00", alpha=0.1)
    ax.set(title="Norway 2010-2023: yearly chance of leaving the settlement municipality",
           xlabel="years since settlement (k)", ylabel="h(k) = 1 - R(k)/R(k-1)")
    ax.legend(fontsize=8)
    fig.tight_layout()
    fig.savefig(OUT / "rights_timing.png", dpi=110)
    plt.close(fig)


def experiment_small(results: dict) -> None:
    classes = [(0, 2000), (2000, 5000), (5000, 20_000), (20_000, 100_000), (100_000, 10**7)]
    names = ["< 2k", "2-5k", "5-20k", "20-100k", "100k+"]
    fig, ax = plt.subplots(figsize=(7, 3.8))
    for j, threshold in enumerate((0, 5000)):
        runs = [run(world=NORWAY, exclude_below=threshold, seed=seed) for seed in SEEDS]
        pop = runs[0].world.geography.population
        per = []
        for lo, hi in classes:
            sel = (pop >= lo) & (pop < hi)
            per.append(np.mean([1000 * m.net_moves[sel].sum() / pop[sel].sum() for m in runs]))
        settled = [np.mean([m.stock.sum(axis=0)[(pop >= lo) & (pop < hi)].sum()
                            - m.inputs.background_stock.sum(axis=0)[(pop >= lo) & (pop < hi)]
                            .sum() for m in runs]) for lo, hi in classes]
        x = np.arange(len(classes)) + (j - 0.5) * 0.38
        ax.bar(x, per, width=0.38, label=("settlement everywhere" if threshold == 0
                                          else "no settlement below 5,000"))
        results[f"exclude_{threshold}"] = {
            "net_per_1000_by_class": dict(zip(names, [round(float(v), 1) for v in per],
                                              strict=True)),
            "living_2024_by_class": dict(zip(names, [round(float(v)) for v in settled],
                                             strict=True)),
            "R5": [round(m.retention_curve()[5], 3) for m in runs],
            "moves_total": [round(sum(v.persons_moving for v in m.years)) for m in runs],
            "hoover": [round(m.years[-1].concentration["Hoover index"], 3) for m in runs],
            "top10": [round(m.years[-1].concentration["share in the 10 largest"], 3)
                      for m in runs]}
    ax.axhline(0, color="black", lw=0.6)
    ax.set_xticks(np.arange(len(classes)), names)
    ax.set(title="Norway 2010-2023: net secondary migration by municipality size",
           xlabel="population of the municipality", ylabel="persons per 1,000 inhabitants")
    ax.legend(fontsize=8)
    fig.tight_layout()
    fig.savefig(OUT / "small_municipalities.png", dpi=110)
    plt.close(fig)


# --------------------------------------------------------------------------- screenshots


def _year(page) -> str:
    return page.locator('.kpi[data-key="year"] .kpi-value').text_content()


def _run_to_end(page, last: int) -> None:
    while _year(page) != str(last):
        before = _year(page)
        page.get_by_role("button", name="Step").click()
        page.wait_for_function("""(b) => document.querySelector(
            '.kpi[data-key="year"] .kpi-value').textContent !== b""", arg=before)


def _slider(page, label: str, keys: list[str]) -> None:
    s = page.locator(".v-input", has_text=label).locator("[role=slider]")
    s.focus()
    for k in keys:
        s.press(k)


def _select(page, label: str, option: str) -> None:
    page.locator(".v-select", has_text=label).click()
    page.get_by_role("option", name=option, exact=True).click()


def screenshots() -> None:
    from playwright.sync_api import sync_playwright

    with running_app(cwd=ROOT) as url, sync_playwright() as pw:
        browser = pw.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        page = browser.new_page(viewport={"width": 1500, "height": 1000})

        def fresh() -> None:
            page.goto(url)
            page.wait_for_selector("svg.secmig-map circle.muni", timeout=30_000)

        def shoot(name: str, last: int) -> None:
            page.get_by_role("button", name="Reset").click()
            page.wait_for_function("() => document.querySelector('.kpi[data-key=\"year\"]"
                                   " .kpi-value').textContent.includes('not started')")
            _run_to_end(page, last)
            page.mouse.move(0, 0)
            page.screenshot(path=str(OUT / name), full_page=True)

        fresh()  # 1. toy country, strong networks, coloured by a group's share
        _select(page, "World", TOY)
        _slider(page, "Network strength", ["End"])
        shoot("app_toy_network.png", 2029)
        _select(page, "Colour the map by", "Eritrea share")
        page.wait_for_timeout(500)
        page.screenshot(path=str(OUT / "app_toy_network_eritrea.png"), full_page=True)
        fresh()  # 2. Norway without the rights tie
        _slider(page, "Rights years", ["Home"])
        shoot("app_rights_0.png", 2023)
        fresh()  # 3. Norway, no settlement below 5,000 inhabitants
        _slider(page, "No settlement below", ["ArrowRight"] * 5)
        shoot("app_no_small.png", 2023)
        browser.close()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--no-browser", action="store_true")
    args = parser.parse_args()
    OUT.mkdir(exist_ok=True)
    results: dict = {}
    t0 = time.perf_counter()
    experiment_network(results)
    experiment_rights(results)
    experiment_small(results)
    (OUT / "results.json").write_text(json.dumps(results, indent=1), encoding="utf-8")
    print(json.dumps(results, indent=1))
    print(f"experiments: {time.perf_counter() - t0:.0f} s")
    if not args.no_browser:
        screenshots()


if __name__ == "__main__":
    main()

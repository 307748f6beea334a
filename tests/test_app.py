"""The teaching app: its model, views and toy country without a browser, then the real app
(`secmig app` as a subprocess) in a headless Chromium driven by Playwright.

`.ci/run` installs Chromium and fetches the front-end files; on a developer machine without
Chromium the browser test is skipped (in CI it fails instead, so it cannot silently pass).
"""

from __future__ import annotations

import re
import shutil
import socket
from pathlib import Path

import numpy as np
import pytest

from simulation.app import assets, views
from simulation.app.headless import running_app
from simulation.app.teaching_model import NORWAY, TOY, TeachingModel, build_params
from simulation.app.toy import TOWN_POPULATION, toy_geography
from simulation.cli import main
from simulation.parameters import calibrated

ROOT = Path(__file__).resolve().parents[1]


# --------------------------------------------------------------------------- without a browser


def test_controls_reach_the_calibrated_params():
    p = build_params(network_strength=1.7, rights_years=0, job_exemption=True)
    cal = calibrated()
    assert (p.dest_network_effect, p.rights_years, p.job_move_exemption) == (1.7, 0, 1)
    assert p.move_intercept == cal.move_intercept  # the rest stays calibrated


def test_norway_year_views_show_every_municipality():
    m = TeachingModel(world=NORWAY, seed=3)
    assert views.headline(m)["Hoover index"] == "-"
    m.step()
    for measure in views.MEASURES:
        svg = views.map_svg(m, measure)
        assert svg.count('class="muni"') == 357
    assert "Oslo (Oslo)" in views.map_svg(m, views.NET)
    assert views.headline(m)["year"] == "2010"
    assert float(views.headline(m)["Hoover index"]) == pytest.approx(m.hoover(), abs=5e-4)
    for draw in (views.retention_svg, views.concentration_svg, views.split_svg, views.moves_svg):
        assert draw(m).startswith("<svg")
    with pytest.raises(ValueError, match="unknown measure"):
        views.map_svg(m, "nonsense")


def test_settlement_controls_change_who_is_settled_where():
    small = TeachingModel(exclude_below=10_000, seed=2)
    small.step()
    pop = small.world.geography.population
    assert small.world.settled_now[pop < 10_000].sum() == 0
    assert small.world.settled_now.sum() > 0
    half = TeachingModel(volume_percent=50, seed=2)
    full = TeachingModel(volume_percent=100, seed=2)
    half.step()
    full.step()
    assert half.world.settled_now.sum() == pytest.approx(full.world.settled_now.sum() / 2,
                                                         rel=0.05)


def test_rights_years_zero_means_more_early_moves():
    def moved(rights: int) -> float:
        m = TeachingModel(rights_years=rights, seed=4)
        for _ in range(4):
            m.step()
        return sum(v.persons_moving for v in m.years)

    assert moved(0) > 1.1 * moved(5)


def test_toy_geography_is_a_few_equal_towns_and_many_villages():
    geo = toy_geography()
    towns = geo.population >= TOWN_POPULATION
    assert towns.sum() == 3 and geo.n == 63
    assert len(set(geo.labour_market[towns])) == 1 and len(set(geo.centrality[towns])) == 1
    assert (geo.population[~towns] < 5000).all()
    assert geo.distance_km.max() < 400  # one small region: the map has room to show it


def test_toy_network_feedback_concentrates_groups():
    """Network strength turns an even split over equal towns into concentration."""
    def concentration(strength: float) -> float:
        out = []
        for seed in (1, 2):
            m = TeachingModel(world=TOY, network_strength=strength, seed=seed)
            while m.running:
                m.step()
            out.append(m.years[-1].concentration["group in its main town"])
        return float(np.mean(out))

    even, strong = concentration(0.0), concentration(2.0)
    assert even < 0.45  # about a third per town
    assert strong > even + 0.15


def test_toy_map_uses_the_same_view():
    m = TeachingModel(world=TOY)
    m.step()
    assert views.map_svg(m, views.OUT).count('class="muni"') == 63


def test_assets_missing_lists_absent_packages(tmp_path):
    assert assets.missing(tmp_path) == list(assets.PACKAGES)
    first = tmp_path / assets.PACKAGES[0]
    first.mkdir(parents=True)
    (first / "package.json").write_text("{}")
    assert assets.missing(tmp_path) == list(assets.PACKAGES[1:])


def test_app_bad_port_is_a_usage_error(capsys):
    assert main(["app", "--port", "70000", "--no-browser"]) == 2
    assert "out of range" in capsys.readouterr().err


def test_app_busy_port_is_a_usage_error(capsys):
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        s.listen()
        port = s.getsockname()[1]
        assert main(["app", "--port", str(port), "--no-browser"]) == 2
    assert "Try another --port" in capsys.readouterr().err


# --------------------------------------------------------------------------- in a browser


@pytest.fixture(scope="module")
def app_url(browser):
    """`secmig app` as a real subprocess on a free loopback port, until the module ends (after
    the browser fixture, so a machine without Chromium skips before starting a server)."""
    try:
        with running_app(cwd=ROOT) as url:
            yield url
    except RuntimeError as err:
        pytest.fail(str(err))


@pytest.fixture(scope="module")
def page(browser, app_url):
    pg = browser.new_page(viewport={"width": 1500, "height": 1000})
    pg.goto(app_url)
    pg.wait_for_selector("svg.secmig-map circle.muni", timeout=30_000)
    yield pg
    pg.close()


def _headline(pg) -> dict[str, str]:
    return dict(pg.evaluate("""() => Array.from(document.querySelectorAll('.kpi')).map(
        k => [k.dataset.key, k.querySelector('.kpi-value').textContent])"""))


def _step_to(pg, year: int) -> dict[str, str]:
    """Press Step until the headline shows ``year`` (each press = one simulated year)."""
    while True:
        shown = _headline(pg)["year"]
        if shown == str(year):
            return _headline(pg)
        before = shown
        pg.get_by_role("button", name="Step").click()
        pg.wait_for_function("""(before) => {
            const k = document.querySelector('.kpi[data-key="year"] .kpi-value');
            return k && k.textContent !== before; }""", arg=before, timeout=10_000)


def test_app_in_browser(page, tmp_path):
    pg = page
    # the map: one drawn circle per municipality, with hover text
    circles = pg.locator("svg.secmig-map circle.muni")
    assert circles.count() == 357
    assert pg.locator("svg.secmig-map").get_attribute("data-municipalities") == "357"
    oslo = pg.locator('svg.secmig-map circle.muni[data-code="0301"] title').text_content()
    assert oslo.startswith("Oslo (Oslo)") and "refugee background" in oslo
    assert "not started" in _headline(pg)["year"]

    # the calibrated rules, two years
    base = _step_to(pg, 2011)
    assert re.fullmatch(r"0\.\d{3}", base["Hoover index"])
    # the charts are separate widgets, updated just after the headline: wait for them
    pg.wait_for_function("""() => document.querySelectorAll('svg.chart-moves rect.bar')
                         .length === 2 * 2""", timeout=10_000)

    # change a control (rights years to 0), Reset, the same two years again
    slider = pg.locator(".v-input", has_text="Rights years").locator("[role=slider]")
    slider.focus()
    slider.press("Home")
    pg.get_by_role("button", name="Reset").click()
    pg.wait_for_function("""() => document.querySelector('.rules')?.textContent
                         .includes('rights 0 years')""", timeout=10_000)
    assert "not started" in _headline(pg)["year"]
    changed = _step_to(pg, 2011)
    moving = {k: int(v["persons moving"].replace(",", "")) for k, v in
              (("base", base), ("changed", changed))}
    assert moving["changed"] > moving["base"]  # no rights to lose: more people move early
    assert changed["Hoover index"] != base["Hoover index"]

    # the map's colour follows the chosen measure
    fill_before = circles.first.get_attribute("fill")
    pg.locator(".v-select", has_text="Colour the map by").click()
    pg.get_by_role("option", name=views.OUT).click()
    pg.wait_for_function("""(t) => document.querySelector('svg.secmig-map').textContent
                         .includes(t)""", arg="Share of those settled here who have left",
                         timeout=10_000)
    assert circles.count() == 357
    fills = {circles.nth(i).get_attribute("fill") for i in range(0, 357, 17)}
    assert fills != {fill_before}

    shot = tmp_path / "app.png"
    pg.screenshot(path=str(shot), full_page=True)
    assert shot.stat().st_size > 50_000
    keep = ROOT / "outputs" / "test_app"
    keep.mkdir(parents=True, exist_ok=True)
    shutil.copy(shot, keep / "app.png")

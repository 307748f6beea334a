"""The teaching app: its model, views and toy country without a browser, then the real app
(`secmig app` as a subprocess) in a headless Chromium driven by Playwright.

`.ci/run` installs Chromium and fetches the front-end files; on a developer machine without
Chromium the browser test is skipped (in CI it fails instead, so it cannot silently pass).
"""

from __future__ import annotations

import re
import socket
import subprocess
import sys
import time
import urllib.request

import numpy as np
import pytest

from simulation.app import assets, serve, views
from simulation.app.svg import DIVERGING, colours
from simulation.app.teaching_model import NORWAY, TOY, TeachingModel, build_params
from simulation.app.toy import TOWN_NAMES, TOWN_POPULATION, toy_geography
from simulation.cli import main
from simulation.inputs.parameters import calibrated
from tests.chromium import free_port, running_app

# browsers, servers and CLI subprocesses: the slow tier (pytest -m slow)
pytestmark = pytest.mark.slow


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


def test_rights_years_zero_means_more_early_moves(paired):
    """Paired over seeds: at the fitted rights cost (about 0.1) removing the rule adds about
    5 % to the first four years' moves, too little to show in one pair of runs."""
    def moved(rights: int, seed: int) -> float:
        m = TeachingModel(rights_years=rights, seed=seed)
        for _ in range(4):
            m.step()
        return sum(v.persons_moving for v in m.years)

    seeds = paired.SEEDS[:4]
    paired([moved(0, s) for s in seeds], [moved(5, s) for s in seeds],
           "persons moving in 4 years, no rule - 5-year rule").assert_positive()


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


def _circles(svg: str) -> dict[str, dict[str, str]]:
    """code -> attributes (cx, cy, r, fill, title) of the map's municipality circles."""
    out = {}
    for m in re.finditer(r'<circle class="muni" data-code="(\d+)" cx="([\d.]+)" '
                         r'cy="([\d.]+)" r="([\d.]+)" fill="(#[0-9a-f]{6})"><title>(.*?)'
                         r'</title>', svg, re.S):
        out[m[1]] = dict(zip(("cx", "cy", "r", "fill", "title"), m.groups()[1:], strict=True))
    return out


def _rgb(colour: str) -> np.ndarray:
    return np.array([int(colour[i:i + 2], 16) for i in (1, 3, 5)])


def test_net_colours_are_the_reports_rdbu_r():
    """Red = net gain, blue = net loss, near-white at zero: matplotlib's RdBu_r, as the
    reports' maps use."""
    from matplotlib import colormaps
    from matplotlib.colors import to_hex

    t = np.linspace(0.0, 1.0, 41)
    ours = colours(t, 0.0, 1.0, DIVERGING)
    theirs = [to_hex(colormaps["RdBu_r"](x)) for x in t]
    diff = max(int(np.abs(_rgb(a) - _rgb(b)).max()) for a, b in zip(ours, theirs, strict=True))
    assert diff <= 3
    gain, zero, loss = (_rgb(c) for c in colours(np.array([30.0, 0.0, -30.0]), -30, 30,
                                                 DIVERGING))
    assert gain[0] > 50 + gain[2] and loss[2] > 50 + loss[0] and zero.min() > 240

    m = TeachingModel(seed=1)
    for _ in range(3):
        m.step()
    svg = views.map_svg(m, views.NET)
    assert "red = net gain (more moved in than out), blue = net loss" in svg
    assert "(net loss)" in svg and "(net gain)" in svg
    values = views.measure_values(m, views.NET)[0]
    circles = _circles(svg)
    codes = list(m.world.geography.codes)
    top, bottom = codes[int(np.argmax(values))], codes[int(np.argmin(values))]
    assert values.max() > 0 > values.min()
    red, blue = _rgb(circles[top]["fill"]), _rgb(circles[bottom]["fill"])
    assert red[0] > red[2] and blue[2] > blue[0]


def test_net_per_1000_is_float64_even_from_narrow_counts():
    m = TeachingModel(seed=1)
    m.step()
    assert m.net_moves.dtype == np.float64
    values = views.measure_values(m, views.NET)[0]
    assert values.dtype == np.float64
    pop = m.world.geography.population
    # a count beyond int16 (and a population beyond it) stay exact: no wrap-around
    m.net_moves = np.full(m.world.geography.n, 30_000, dtype=np.int16)
    m.net_moves[0] = -30_000
    values = views.measure_values(m, views.NET)[0]
    assert values.dtype == np.float64
    assert values[0] == pytest.approx(-30_000_000 / pop[0])
    assert values[1] == pytest.approx(30_000_000 / pop[1])


def test_fixed_colour_scale_is_the_same_for_every_run():
    runs = []
    for seed, rights in ((1, 5), (2, 0)):
        m = TeachingModel(seed=seed, rights_years=rights)
        for _ in range(3):
            m.step()
        runs.append(m)
    adaptive = [views.map_svg(m, views.NET) for m in runs]
    fixed = [views.map_svg(m, views.NET, fixed=True) for m in runs]
    his = [re.search(r'data-hi="([\d.e+-]+)"', s)[1] for s in adaptive]
    assert his[0] != his[1]  # each run fitted to its own data
    limit = views.FIXED_NET_LIMIT[NORWAY]
    for m, svg in zip(runs, fixed, strict=True):
        assert f'data-scale="fixed" data-lo="{-limit:g}" data-hi="{limit:g}"' in svg
        assert f"Fixed scale: {-limit:.0f} to +{limit:.0f} per 1,000 in every run" in svg
        assert f"≥ +{limit:.0f} (net gain)" in svg
        values = views.measure_values(m, views.NET)[0]
        expected = colours(values, -limit, limit, DIVERGING)
        got = _circles(svg)
        assert [got[c]["fill"] for c in m.world.geography.codes] == expected
    # the same value gets the same colour in both runs
    a, b = _circles(fixed[0]), _circles(fixed[1])
    va = views.measure_values(runs[0], views.NET)[0]
    vb = views.measure_values(runs[1], views.NET)[0]
    for i, c in enumerate(runs[0].world.geography.codes):
        if round(va[i], 9) == round(vb[i], 9):
            assert a[c]["fill"] == b[c]["fill"]
    share = views.map_svg(runs[0], views.OUT, fixed=True)
    assert 'data-lo="0" data-hi="1"' in share and "Fixed scale: 0 to 100 %" in share


def test_oslo_is_on_top_at_its_centre_and_hides_no_centre():
    m = TeachingModel(seed=1)
    while m.running:
        m.step()
    svg = views.map_svg(m, views.NET)
    core = re.search(r'<circle class="muni-core" data-code="0301" cx="([\d.]+)" '
                     r'cy="([\d.]+)" r="([\d.]+)"[^>]*><title>Oslo \(Oslo\)', svg)
    assert core, "Oslo needs its hoverable core on top"
    assert svg.rindex('class="muni"') < svg.index('class="muni-core"')  # drawn last
    cx, cy, r = (float(v) for v in core.groups())
    circles = _circles(svg)
    # larger circles first, smaller on top
    order = [float(c["r"]) for c in circles.values()]
    assert order == sorted(order, reverse=True)
    for code, c in circles.items():
        if code != "0301":
            assert np.hypot(float(c["cx"]) - cx, float(c["cy"]) - cy) > r
    assert '<circle class="capital-outline"' in svg


def test_toy_towns_are_labelled():
    m = TeachingModel(world=TOY)
    m.step()
    svg = views.map_svg(m, views.NET)
    labels = re.findall(r'<text class="town-label"[^>]*>([^<]+)</text>', svg)
    assert sorted(labels) == sorted(TOWN_NAMES)
    norway = views.map_svg(TeachingModel(world=NORWAY), views.NET)
    assert '<text class="town-label"' not in norway


def test_network_warning_only_off_loopback():
    for host in ("127.0.0.1", "localhost", "::1"):
        assert serve.network_warning(host, 8765) == ""
    for host in ("0.0.0.0", "::", "192.0.2.10"):
        warning = serve.network_warning(host, 8765)
        assert warning.startswith("WARNING") and "anyone" in warning


def test_app_on_all_interfaces_prints_a_warning(tmp_path):
    """The real `secmig app --host 0.0.0.0` warns that the network can reach it."""
    port = free_port()
    proc = subprocess.Popen([sys.executable, "-m", "simulation.cli", "app", "--host", "0.0.0.0",
                             "--port", str(port), "--no-browser"], stdout=subprocess.PIPE,
                            stderr=subprocess.STDOUT, text=True, cwd=tmp_path)
    try:
        deadline = time.monotonic() + 60
        while proc.poll() is None and time.monotonic() < deadline:
            try:
                with urllib.request.urlopen(f"http://127.0.0.1:{port}/", timeout=2):
                    break
            except OSError:
                time.sleep(0.3)
    finally:
        proc.terminate()
        try:
            out, _ = proc.communicate(timeout=10)
        except subprocess.TimeoutExpired:
            proc.kill()
            out, _ = proc.communicate()
    assert f"open http://localhost:{port}" in out
    assert "WARNING: the app listens on every network interface" in out
    assert "anyone who can reach this machine on the network can open it" in out


# --------------------------------------------------------------------------- in a browser


@pytest.fixture(scope="module")
def app_url(browser, tmp_path_factory):
    """`secmig app` as a real subprocess on a free loopback port, until the module ends (after
    the browser fixture, so a machine without Chromium skips before starting a server); it runs
    in a temporary folder, so that nothing it might write lands in the working tree."""
    try:
        with running_app(cwd=tmp_path_factory.mktemp("app")) as url:
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
    # (the Hoover index after two years moves only in its fourth decimal at the fitted cost)
    assert re.fullmatch(r"0\.\d{3}", changed["Hoover index"])

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

    shot = tmp_path / "app.png"  # pytest keeps the last runs' tmp_path to look at
    pg.screenshot(path=str(shot), full_page=True)
    assert shot.stat().st_size > 50_000


def test_mesa_internals_hidden_and_oslo_reachable(page):
    pg = page
    sidebar = pg.locator(".v-navigation-drawer").inner_text()
    assert "Render Interval" not in sidebar and "Use Threads" not in sidebar
    assert "Play speed (ms per year)" in sidebar
    for name in ("Reset", "Step"):
        assert pg.get_by_role("button", name=name).count() == 1

    # Oslo: a real hover at the centre of its circle reaches Oslo, not a neighbour
    oslo = pg.locator('svg.secmig-map circle.muni[data-code="0301"]')
    oslo.scroll_into_view_if_needed()
    box = oslo.bounding_box()
    cx, cy = box["x"] + box["width"] / 2, box["y"] + box["height"] / 2
    top = pg.evaluate("""([x, y]) => { const e = document.elementFromPoint(x, y);
        return [e.dataset.code, e.querySelector('title')?.textContent]; }""", [cx, cy])
    assert top[0] == "0301" and top[1].startswith("Oslo (Oslo)")
    pg.mouse.move(cx, cy)
    hovered = pg.evaluate("""() => Array.from(document.querySelectorAll('svg.secmig-map :hover'))
        .map(e => e.dataset.code)""")
    assert hovered == ["0301"]
    pg.mouse.move(0, 0)


def test_fixed_colour_scale_in_browser(page):
    pg = page
    pg.locator(".v-select", has_text="Colour the map by").click()
    pg.get_by_role("option", name=views.NET, exact=True).click()
    pg.wait_for_function("""() => document.querySelector('svg.secmig-map').textContent
                         .includes('red = net gain')""", timeout=10_000)
    svg = pg.locator("svg.secmig-map")
    assert svg.get_attribute("data-scale") == "adaptive"
    adaptive_hi = float(svg.get_attribute("data-hi"))
    fixed_box = pg.get_by_text("Fixed colour scale", exact=True)
    fixed_box.click()
    pg.wait_for_selector('svg.secmig-map[data-scale="fixed"]', timeout=10_000)
    limit = views.FIXED_NET_LIMIT[NORWAY]
    assert float(svg.get_attribute("data-hi")) == limit != adaptive_hi
    assert f"Fixed scale: {-limit:.0f} to +{limit:.0f} per 1,000" in svg.text_content()
    # every circle's colour is the fixed scale's colour of its value (from the hover text)
    titles = pg.locator("svg.secmig-map circle.muni title").all_text_contents()
    fills = pg.evaluate("""() => Array.from(document.querySelectorAll(
        'svg.secmig-map circle.muni')).map(c => c.getAttribute('fill'))""")
    values = np.array([float(re.search(r": ([+-][\d.]+) per 1,000$", t)[1]) for t in titles])
    expected = colours(values, -limit, limit, DIVERGING)
    # values are shown rounded to 0.1: allow a step of the colour ramp for that
    worst = max(int(np.abs(_rgb(a) - _rgb(b)).max()) for a, b in zip(fills, expected, strict=True))
    assert len(fills) == 357 and worst <= 3
    fixed_box.click()
    pg.wait_for_selector('svg.secmig-map[data-scale="adaptive"]', timeout=10_000)


def test_toy_towns_labelled_and_finished_run_says_so(page, tmp_path):
    pg = page
    pg.locator(".v-select", has_text="World").click()
    pg.get_by_role("option", name=TOY, exact=True).click()
    pg.get_by_role("button", name="Reset").click()
    pg.wait_for_function("""() => document.querySelector('svg.secmig-map')
                         ?.dataset.municipalities === '63'""", timeout=20_000)
    labels = pg.locator("svg.secmig-map text.town-label")
    assert sorted(labels.all_text_contents()) == sorted(TOWN_NAMES)
    assert labels.first.is_visible()
    assert pg.locator(".run-finished").count() == 0
    _step_to(pg, 2028)
    assert pg.locator(".run-finished").count() == 0  # one year to go: not finished
    _step_to(pg, 2029)
    notice = pg.locator(".run-finished")
    notice.wait_for(timeout=10_000)
    text = notice.inner_text()
    assert "Run finished" in text and "2029" in text and "press Reset" in text
    assert pg.get_by_role("button", name="Step").is_disabled()
    shot = tmp_path / "toy_finished.png"
    pg.screenshot(path=str(shot), full_page=True)
    assert shot.stat().st_size > 50_000
    # Reset starts a new run: the notice goes
    pg.get_by_role("button", name="Reset").click()
    pg.wait_for_function("""() => document.querySelector('.kpi[data-key="year"] .kpi-value')
                         .textContent.includes('not started')""", timeout=10_000)
    pg.locator(".run-finished").wait_for(state="detached", timeout=10_000)
    assert pg.get_by_role("button", name="Step").is_enabled()

"""What the app shows, as SVG strings and numbers computed from a running TeachingModel.

Kept apart from the Solara page so the drawing can be tested and timed without a browser:
everything here is a pure function of the model's current state.
"""

from __future__ import annotations

from html import escape

import numpy as np

from simulation.app.svg import (
    DIVERGING,
    FONT,
    SEQUENTIAL,
    TITLE,
    colours,
    legend_bar,
    line_chart,
    stacked_bars,
)
from simulation.app.teaching_model import NORWAY, TOY, TeachingModel
from simulation.inputs.categories import COUNTRY_GROUPS

NET = "Net secondary migration"
OUT = "Out-migration share of those settled"
GROUP_LABELS = {g: g.capitalize() for g in COUNTRY_GROUPS if g != "other"}
MEASURES: tuple[str, ...] = (NET, *(f"{n} share" for n in GROUP_LABELS.values()), OUT)
# map size in SVG units: drawn about 1:1 in the left half of the page on a 1500 px wide window
# (larger on larger screens or with the sidebar closed); the top MAP_HEAD units hold the title,
# the colour legend and what its colours mean, the rest fits Norway (about 1.07 times as tall
# as wide) edge to edge
MAP_W, MAP_H, MAP_HEAD = 490, 650, 126
# the fixed colour scale (the map's "Fixed colour scale" option): net secondary migration in
# persons per 1,000 inhabitants, -limit..+limit, one limit per world (Norway's municipalities
# reach about +-40 over 2010-2023, the toy country's small villages and towns several hundred);
# shares always run 0..100 %. Values beyond the range get the end colours.
FIXED_NET_LIMIT = {NORWAY: 40.0, TOY: 200.0}


def measure_values(model: TeachingModel, measure: str) -> tuple[np.ndarray, str, bool]:
    """Per-municipality values of a map measure (float64), its legend title and whether it
    diverges around zero (net migration) rather than running from low to high (shares)."""
    geo = model.world.geography
    if measure == NET:
        # float64 throughout: the reports once had a 16-bit wrap-around in this number
        net = np.asarray(model.net_moves, dtype=np.float64)
        return (1000.0 * net / np.asarray(geo.population, dtype=np.float64),
                "Net secondary migration since start, per 1,000 inhabitants", True)
    if measure == OUT:
        return (np.asarray(model.out_migration_share(), dtype=np.float64),
                "Share of those settled here who have left", False)
    for g, label in GROUP_LABELS.items():
        if measure == f"{label} share":
            stock = np.asarray(model.stock, dtype=np.float64)
            total = stock.sum(axis=0)
            with np.errstate(invalid="ignore", divide="ignore"):
                share = np.where(total > 0, stock[COUNTRY_GROUPS.index(g)] / total, np.nan)
            return share, f"{label}: share of refugee-background residents", False
    raise ValueError(f"unknown measure {measure!r} (allowed: {', '.join(MEASURES)})")


def colour_scale(model: TeachingModel, values: np.ndarray, diverging: bool,
                 fixed: bool) -> tuple[float, float, tuple[str, ...], str, str, str]:
    """(lo, hi, colour stops, left label, right label, note) of the map's colour legend.

    Adaptive (default): net migration runs +-(95th percentile of |value|) of this run, shares
    0..(highest share). Fixed: net migration +-FIXED_NET_LIMIT of the world, shares 0..100 %,
    the same for every run, so two runs' maps can be compared colour for colour."""
    finite = values[np.isfinite(values)]
    if diverging:
        if fixed:
            hi = FIXED_NET_LIMIT.get(model.world_name, FIXED_NET_LIMIT[NORWAY])
            return (-hi, hi, DIVERGING, f"≤ {-hi:.0f} (net loss)", f"≥ +{hi:.0f} (net gain)",
                    f"Fixed scale: {-hi:.0f} to +{hi:.0f} per 1,000 in every run "
                    f"({model.world_name}); beyond it the end colours")
        hi = max(float(np.percentile(np.abs(finite), 95)) if finite.size else 1.0, 1e-9)
        return (-hi, hi, DIVERGING, f"{-hi:.0f} (net loss)", f"+{hi:.0f} (net gain)",
                "Scale fitted to this run (±95th percentile); to compare runs, tick "
                "Fixed colour scale")
    if fixed:
        return (0.0, 1.0, SEQUENTIAL, "0 %", "100 %",
                "Fixed scale: 0 to 100 % in every run")
    hi = max(float(finite.max()) if finite.size else 1.0, 1e-9)
    return (0.0, hi, SEQUENTIAL, "0 %", f"{100 * hi:.0f} %",
            "Scale fitted to this run (0 to its highest value); to compare runs, tick "
            "Fixed colour scale")


def _project(lat: np.ndarray, lon: np.ndarray, pad: float = 12.0) -> tuple[np.ndarray,
                                                                           np.ndarray]:
    """Equirectangular projection around the mean latitude, fitted (and centred) into the map
    box below its header."""
    k = np.cos(np.radians(lat.mean()))
    x, y = (lon - lon.min()) * k, lat.max() - lat
    box_w, box_h = MAP_W - 2 * pad, MAP_H - MAP_HEAD - 2 * pad
    span = max(x.max() / box_w, y.max() / box_h, 1e-9)
    return (pad + (box_w - x.max() / span) / 2 + x / span,
            MAP_HEAD + pad + (box_h - y.max() / span) / 2 + y / span)


def map_svg(model: TeachingModel, measure: str, fixed: bool = False) -> str:
    """One circle per municipality at its coordinates: area ~ refugee-background stock,
    colour = the measure, hover = name and numbers. ``fixed``: the fixed colour scale.

    Draw order: larger circles first, smaller on top, so every small municipality stays
    visible and hoverable. The capital's circle is the largest and many neighbours' centres lie
    inside it, so it gets an outline on top of everything (its extent stays visible) and a
    small hoverable core at its centre, smaller than the distance to the nearest neighbour's
    centre (so it covers no one else's centre). The toy country's towns are labelled."""
    geo = model.world.geography
    values, title, diverging = measure_values(model, measure)
    stock = np.asarray(model.stock, dtype=np.float64).sum(axis=0)
    lo, hi, stops, left, right, note = colour_scale(model, values, diverging, fixed)
    fill = colours(values, lo, hi, stops)
    x, y = _project(np.asarray(geo.lat, dtype=np.float64), np.asarray(geo.lon, dtype=np.float64))
    radius = 1.5 + 16.0 * np.sqrt(stock / max(float(stock.max()), 1.0))
    out_share = model.out_migration_share()
    net_moves = np.asarray(model.net_moves, dtype=np.float64)

    def tip(i: int) -> str:
        shown = (f"{values[i]:+.1f} per 1,000" if diverging else
                 "no one settled" if np.isnan(values[i]) else f"{100 * values[i]:.1f} %")
        left_share = "-" if np.isnan(out_share[i]) else f"{100 * out_share[i]:.0f} %"
        return escape(f"{geo.names[i]} ({geo.table['county'].iat[i]})\n"
                      f"population {int(geo.population[i]):,}\n"
                      f"refugee background {stock[i]:,.0f}\n"
                      f"net secondary migration {net_moves[i]:+,.0f} persons\n"
                      f"settled here and left {left_share}\n{measure}: {shown}")

    marks = []
    for i in np.argsort(-radius, kind="stable"):  # small circles on top of large ones
        marks.append(f'<circle class="muni" data-code="{geo.codes[i]}" cx="{x[i]:.1f}" '
                     f'cy="{y[i]:.1f}" r="{radius[i]:.1f}" fill="{fill[i]}">'
                     f'<title>{tip(i)}</title></circle>')
    for i in np.flatnonzero(np.asarray(geo.oslo, dtype=bool)):
        others = np.delete(np.hypot(x - x[i], y - y[i]), i)
        core = min(3.0, 0.6 * float(others.min()) if others.size else 3.0, radius[i])
        marks.append(f'<circle class="capital-outline" cx="{x[i]:.1f}" cy="{y[i]:.1f}" '
                     f'r="{radius[i]:.1f}"/>'
                     f'<circle class="muni-core" data-code="{geo.codes[i]}" cx="{x[i]:.1f}" '
                     f'cy="{y[i]:.1f}" r="{core:.1f}" fill="{fill[i]}">'
                     f'<title>{tip(i)}</title></circle>')
    if model.world_name == TOY:
        for i in sorted(model.largest):
            marks.append(f'<text class="town-label" x="{x[i]:.1f}" '
                         f'y="{y[i] - radius[i] - 4:.1f}" text-anchor="middle">'
                         f'{escape(str(geo.names[i]))}</text>')
    meaning = ("red = net gain (more moved in than out), blue = net loss, white = 0"
               if diverging else "yellow = low, dark purple = high; grey = no one settled")
    head = (f'<text x="8" y="20" style="{TITLE};font-size:16px">'
            f'{escape(model.world_name)}: {geo.n} municipalities</text>'
            f'<text x="8" y="39" style="{FONT};font-size:13px;fill:#444">circle area = '
            f'residents with refugee background</text>'
            f'<text class="legend-meaning" x="8" y="103" style="{FONT}">{escape(meaning)}</text>'
            f'<text class="legend-scale" x="8" y="119" style="{FONT};fill:#444">'
            f'{escape(note)}</text>')
    style = ("<style>.muni,.muni-core{stroke:#555;stroke-width:.4;fill-opacity:.9}"
             ".muni:hover,.muni-core:hover{stroke:#000;stroke-width:2}"
             ".muni-core{stroke:#000;stroke-width:1}"
             ".capital-outline{fill:none;stroke:#222;stroke-width:1.2;pointer-events:none}"
             ".town-label{font-family:Roboto,Arial,sans-serif;font-size:14px;font-weight:600;"
             "fill:#111;stroke:#fff;stroke-width:3px;paint-order:stroke;pointer-events:none}"
             "</style>")
    return (f'<svg class="secmig-map" data-municipalities="{geo.n}" '
            f'data-scale="{"fixed" if fixed else "adaptive"}" data-lo="{lo:g}" data-hi="{hi:g}" '
            f'viewBox="0 0 {MAP_W} {MAP_H}" width="100%" xmlns="http://www.w3.org/2000/svg">'
            f'{style}{head}{legend_bar(8, 64, 300, stops, left, right, title)}'
            f'{"".join(marks)}</svg>')


def retention_svg(model: TeachingModel) -> str:
    """Pooled retention curve R(k), with the rights window marked."""
    curve = model.retention_curve()
    rights = model.params.rights_years
    x_max = max(10.0, max(curve, default=0))
    return line_chart({"all cohorts so far": [(0.0, 1.0), *curve.items()]},
                      "Retention: share still in the settlement municipality",
                      css_class="chart-retention", xlabel="years since settlement",
                      y_range=(0.0, 1.0), x_range=(0.0, x_max),
                      shade=(0.0, rights, "rights window") if rights > 0 else None)


def concentration_svg(model: TeachingModel) -> str:
    """Hoover index and share in the largest places, by year."""
    series: dict[str, list[tuple[float, float]]] = {}
    for v in model.years:
        for label, value in v.concentration.items():
            series.setdefault(label, []).append((v.year, value))
    return line_chart(series, "Concentration of settled refugees", css_class="chart-concentration",
                      y_range=(0.0, 1.0), x_range=_year_range(model))


def split_svg(model: TeachingModel) -> str:
    """Where those leaving their settlement municipality go, by year (shares)."""
    years = [v.year for v in model.years]
    labels = list(model.years[0].split) if model.years else ["Oslo", "same county",
                                                              "other county"]
    parts = {k: [v.split.get(k, 0.0) for v in model.years] for k in labels}
    return stacked_bars(years, parts, "Destinations of those leaving their settlement place",
                        css_class="chart-split", share=True)


def moves_svg(model: TeachingModel) -> str:
    """Persons moving per year, split by whether they were still inside the rights window."""
    years = [v.year for v in model.years]
    r = int(model.params.rights_years)
    if r == 0:
        parts = {"all (no rights window)": [v.persons_moving for v in model.years]}
    else:
        parts = {f"inside the {r}-year rights window": [v.moving_in_window for v in model.years],
                 "settled longer": [v.persons_moving - v.moving_in_window for v in model.years]}
    return stacked_bars(years, parts, "Persons moving per year", css_class="chart-moves")


def _year_range(model: TeachingModel) -> tuple[float, float]:
    return float(model.inputs.start), float(model.inputs.end)


def headline(model: TeachingModel) -> dict[str, str]:
    """The numbers shown above the charts (formatted), for the last simulated year."""
    if not model.years:
        return {"year": f"{model.inputs.start} (not started)", "Hoover index": "-",
                model.largest_label: "-", "retention after 5 years": "-",
                "persons moving": "-"}
    v = model.years[-1]
    r5 = model.retention_curve().get(5)
    return {"year": str(v.year),
            "Hoover index": f"{v.concentration['Hoover index']:.3f}",
            model.largest_label: f"{100 * v.concentration[model.largest_label]:.1f} %",
            "retention after 5 years": "-" if r5 is None else f"{100 * r5:.1f} %",
            "persons moving": f"{v.persons_moving:,.0f}"}

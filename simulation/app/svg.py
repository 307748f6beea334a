"""Small SVG drawing helpers: line charts, stacked bars, colour scales.

The app draws its map and charts as plain SVG strings: they need no front-end library (so the
app works offline once Solara's own files are there), render in a millisecond or two, carry
hover text in ``<title>`` elements, and the browser test can count the drawn marks.
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from html import escape

import numpy as np

# colour-blind-safe series colours (Okabe-Ito)
SERIES = ("#0072B2", "#E69F00", "#009E73", "#CC79A7", "#56B4E9", "#D55E00")
# sequential (viridis stops) and diverging scales. DIVERGING is matplotlib's "RdBu_r" sampled at
# 0, 0.1, ..., 1 (blue - white - red): the reports' maps use it for net migration, so here too
# low (net loss) is blue, zero near-white and high (net gain) red
SEQUENTIAL = ("#fde725", "#5ec962", "#21918c", "#3b528b", "#440154")
DIVERGING = ("#053061", "#2065ab", "#4393c3", "#90c4dd", "#d1e5f0", "#f7f6f6", "#fddbc7",
             "#f3a481", "#d6604d", "#b1182b", "#67001f")
MISSING = "#bdbdbd"
FONT = "font-family:Roboto,Arial,sans-serif;font-size:12px"
TITLE = "font-family:Roboto,Arial,sans-serif;font-size:14px;font-weight:500"
# chart size in SVG units: drawn about 1:1 in a 2x2 grid beside the map on a 1500 px wide
# window (so 12 px text stays 12 px on screen), larger on larger screens
CHART_W, CHART_H = 258, 330


def text_width(text: str, size: float = 12.0) -> float:
    """Rough rendered width of ``text`` in Roboto/Arial at ``size`` px (for layout only)."""
    return 0.53 * size * len(text)


def wrap(text: str, width: float, size: float = 12.0) -> list[str]:
    """Split ``text`` at spaces into lines about ``width`` px wide at ``size`` px."""
    lines: list[str] = []
    for word in text.split():
        if lines and text_width(f"{lines[-1]} {word}", size) <= width:
            lines[-1] = f"{lines[-1]} {word}"
        else:
            lines.append(word)
    return lines or [""]


def _hex(c: str) -> np.ndarray:
    return np.array([int(c[i:i + 2], 16) for i in (1, 3, 5)], dtype=float)


def colours(values: np.ndarray, lo: float, hi: float, stops: Sequence[str]) -> list[str]:
    """Map values linearly from [lo, hi] onto the colour stops (NaN -> grey)."""
    v = np.asarray(values, dtype=float)
    t = np.clip((v - lo) / (hi - lo) if hi > lo else np.zeros_like(v), 0.0, 1.0)
    rgb = np.array([_hex(c) for c in stops])
    pos = t * (len(stops) - 1)
    i = np.minimum(np.floor(np.nan_to_num(pos)).astype(int), len(stops) - 2)
    f = (np.nan_to_num(pos) - i)[:, None]
    mixed = np.rint(rgb[i] * (1 - f) + rgb[i + 1] * f).astype(int)
    return [MISSING if math.isnan(x) else "#{:02x}{:02x}{:02x}".format(*m)
            for x, m in zip(v, mixed, strict=True)]


def legend_bar(x: float, y: float, width: float, stops: Sequence[str], left: str, right: str,
               title: str) -> str:
    """A horizontal gradient bar with end labels and a title above it."""
    gid = f"g{abs(hash((tuple(stops), title))) % 10**8}"
    grad = "".join(f'<stop offset="{i / (len(stops) - 1):.2f}" stop-color="{c}"/>'
                   for i, c in enumerate(stops))
    return (f'<defs><linearGradient id="{gid}">{grad}</linearGradient></defs>'
            f'<text x="{x}" y="{y - 5}" style="{FONT}">{escape(title)}</text>'
            f'<rect x="{x}" y="{y}" width="{width}" height="9" fill="url(#{gid})"/>'
            f'<text x="{x}" y="{y + 21}" style="{FONT}">{escape(left)}</text>'
            f'<text x="{x + width}" y="{y + 21}" text-anchor="end" style="{FONT}">'
            f'{escape(right)}</text>')


def _nice_ticks(lo: float, hi: float, n: int = 5, whole: bool = False) -> list[float]:
    """Round tick values covering [lo, hi] (``whole``: integers only, for years)."""
    if not math.isfinite(lo) or not math.isfinite(hi) or hi <= lo:
        return [lo]
    raw = max((hi - lo) / n, 1.0) if whole else (hi - lo) / n
    mag = 10 ** math.floor(math.log10(raw))
    steps = (1, 2, 5, 10) if whole else (1, 2, 2.5, 5, 10)
    step = next(m * mag for m in steps if m * mag >= raw)
    first = math.ceil(lo / step - 1e-9) * step
    return [first + i * step for i in range(int((hi - first) / step + 1e-9) + 1)]


def _fmt(v: float, percent: bool) -> str:
    if percent:
        return f"{100 * v:.0f} %"
    return f"{v:,.0f}" if abs(v) >= 100 else f"{v:.2g}"


class Frame:
    """Plot area with axes: maps data to pixels and draws the title (wrapped to the width),
    the legend (wrapped into rows), the grid, ticks and labels."""

    def __init__(self, width: int, height: int, x: tuple[float, float],
                 y: tuple[float, float], title: str, percent: bool = False,
                 xlabel: str = "", labels: Sequence[str] = ()) -> None:
        self.w, self.h, self.percent = width, height, percent
        self.title_lines = wrap(title, width - 8, 14)
        self.legend_rows: list[list[tuple[float, str]]] = [[]]
        x_at = 6.0
        for label in labels:
            item = 16 + text_width(label)
            if self.legend_rows[-1] and x_at + item > width - 4:
                self.legend_rows.append([])
                x_at = 6.0
            self.legend_rows[-1].append((x_at, label))
            x_at += item + 10
        legend_h = 16 * len(self.legend_rows) if labels else 0
        self.left, self.right, self.bottom = 50, 12, 38
        self.top = 8 + 17 * len(self.title_lines) + legend_h + 8
        self.x0, self.x1 = x if x[1] > x[0] else (x[0] - 0.5, x[0] + 0.5)
        self.y0, self.y1 = y if y[1] > y[0] else (y[0], y[0] + 1.0)
        self.xlabel = xlabel
        # room for about one year label ("2016") per 46 px
        self.max_xticks = max(2, int((width - self.left - self.right) / 46))

    def px(self, x: float) -> float:
        return self.left + (x - self.x0) / (self.x1 - self.x0) * (self.w - self.left - self.right)

    def py(self, y: float) -> float:
        return self.h - self.bottom - (y - self.y0) / (self.y1 - self.y0) * (
            self.h - self.top - self.bottom)

    def axes(self, xticks: Sequence[float] | None = None) -> str:
        parts = [f'<text x="6" y="{20 + 17 * i}" style="{TITLE}">{escape(line)}</text>'
                 for i, line in enumerate(self.title_lines)]
        for t in _nice_ticks(self.y0, self.y1):
            y = self.py(t)
            parts.append(f'<line x1="{self.left}" x2="{self.w - self.right}" y1="{y:.1f}" '
                         f'y2="{y:.1f}" stroke="#e0e0e0"/>'
                         f'<text x="{self.left - 5}" y="{y + 4:.1f}" text-anchor="end" '
                         f'style="{FONT}">{_fmt(t, self.percent)}</text>')
        ticks = (xticks if xticks is not None
                 else _nice_ticks(self.x0, self.x1, self.max_xticks, True))
        for t in ticks:
            x = self.px(t)
            parts.append(f'<text x="{x:.1f}" y="{self.h - self.bottom + 16}" '
                         f'text-anchor="middle" style="{FONT}">{t:g}</text>')
        parts.append(f'<line x1="{self.left}" x2="{self.w - self.right}" '
                     f'y1="{self.h - self.bottom}" y2="{self.h - self.bottom}" stroke="#888"/>')
        if self.xlabel:
            parts.append(f'<text x="{(self.left + self.w - self.right) / 2}" y="{self.h - 4}" '
                         f'text-anchor="middle" style="{FONT}">{escape(self.xlabel)}</text>')
        return "".join(parts)

    def legend(self) -> str:
        out, i = [], 0
        base = 8 + 17 * len(self.title_lines) + 12
        for r, row in enumerate(self.legend_rows):
            y = base + 16 * r
            for x, label in row:
                out.append(f'<rect x="{x}" y="{y - 6}" width="12" height="5" '
                           f'fill="{SERIES[i % len(SERIES)]}"/><text x="{x + 16}" '
                           f'y="{y}" style="{FONT}">{escape(label)}</text>')
                i += 1
        return "".join(out)

    def svg(self, body: str, css_class: str) -> str:
        return (f'<svg class="{css_class}" viewBox="0 0 {self.w} {self.h}" width="100%" '
                f'xmlns="http://www.w3.org/2000/svg">{body}</svg>')


def line_chart(series: Mapping[str, Sequence[tuple[float, float]]], title: str, *,
               css_class: str, percent: bool = True, xlabel: str = "",
               y_range: tuple[float, float] | None = None,
               x_range: tuple[float, float] | None = None,
               shade: tuple[float, float, str] | None = None,
               width: int = CHART_W, height: int = CHART_H) -> str:
    """Lines with a dot and hover text per point; y from 0 unless ``y_range`` is given;
    ``shade`` = (x from, x to, label) marks a span such as the rights window."""
    pts = [p for s in series.values() for p in s if math.isfinite(p[1])]
    xs = [p[0] for p in pts] or [0.0]
    ys = [p[1] for p in pts] or [1.0]
    yr = y_range or (0.0, max(ys) * 1.1 if max(ys) > 0 else 1.0)
    xr = x_range or (min(xs), max(xs))
    f = Frame(width, height, xr, yr, title, percent, xlabel, list(series))
    body = [f.axes(), f.legend()]
    if shade is not None:
        a, b = f.px(shade[0]), f.px(min(shade[1], f.x1))
        body.append(f'<rect class="shade" x="{a:.1f}" y="{f.top}" width="{b - a:.1f}" '
                    f'height="{f.h - f.top - f.bottom}" fill="#E69F00" fill-opacity="0.1"/>'
                    # from the span's left edge: a narrow span's label runs on past its
                    # right edge rather than into the axis labels
                    f'<text x="{a + 4:.1f}" y="{f.h - f.bottom - 6}" '
                    f'style="{FONT};fill:#a06800">{escape(shade[2])}</text>')
    for i, (label, s) in enumerate(series.items()):
        colour = SERIES[i % len(SERIES)]
        good = [(x, y) for x, y in s if math.isfinite(y)]
        if len(good) > 1:
            path = " ".join(f"{f.px(x):.1f},{f.py(y):.1f}" for x, y in good)
            body.append(f'<polyline points="{path}" fill="none" stroke="{colour}" '
                        f'stroke-width="2"/>')
        for x, y in good:
            body.append(f'<circle class="point" cx="{f.px(x):.1f}" cy="{f.py(y):.1f}" r="3" '
                        f'fill="{colour}"><title>{escape(label)}, {x:g}: '
                        f'{_fmt(y, percent) if percent else f"{y:.3f}"}</title></circle>')
    return f.svg("".join(body), css_class)


def stacked_bars(x: Sequence[int], parts: Mapping[str, Sequence[float]], title: str, *,
                 css_class: str, share: bool = False, width: int = CHART_W,
                 height: int = CHART_H, xlabel: str = "") -> str:
    """One stacked bar per x; ``share`` stacks each bar's shares of its total (0..1)."""
    values = np.array([list(v) for v in parts.values()], dtype=float).reshape(len(parts), -1)
    totals = values.sum(axis=0)
    if share:
        with np.errstate(invalid="ignore", divide="ignore"):
            values = np.where(totals > 0, values / totals, 0.0)
    top = float(values.sum(axis=0).max()) if values.size else 1.0
    x0, x1 = (min(x) - 0.6, max(x) + 0.6) if len(x) else (0.0, 1.0)
    f = Frame(width, height, (x0, x1), (0.0, 1.0 if share else max(top * 1.1, 1.0)), title,
              share, xlabel, list(parts))
    ticks = list(x)[:: math.ceil(len(x) / f.max_xticks)] if len(x) else []
    body = [f.axes(ticks), f.legend()]
    bw = 0.7 * (f.px(1) - f.px(0)) if len(x) else 0
    for j, xv in enumerate(x):
        base = 0.0
        for i, label in enumerate(parts):
            v = float(values[i, j])
            y_top, y_base = f.py(base + v), f.py(base)
            shown = f"{100 * v:.0f} %" if share else f"{v:,.0f}"
            body.append(f'<rect class="bar" x="{f.px(xv) - bw / 2:.1f}" y="{y_top:.1f}" '
                        f'width="{bw:.1f}" height="{max(y_base - y_top, 0):.1f}" '
                        f'fill="{SERIES[i % len(SERIES)]}"><title>{xv}: {escape(label)} '
                        f'{shown}</title></rect>')
            base += v
    return f.svg("".join(body), css_class)

"""Self-contained HTML reports (figures embedded) that a policy analyst can forward."""

from __future__ import annotations

import base64
import html
import math
from pathlib import Path
from typing import Any

import pandas as pd

from simulation.reports.numbers import number

CSS = """
body{font-family:system-ui,-apple-system,Segoe UI,Roboto,sans-serif;max-width:980px;
margin:2em auto;padding:0 1em;color:#222;line-height:1.45}
h1{font-size:1.6em;margin-bottom:.2em}h2{border-bottom:2px solid #1f5f8b;padding-bottom:.2em;
margin-top:2em}.sub{color:#555;margin-top:0}table{border-collapse:collapse;margin:1em 0;
font-size:.9em}th,td{border:1px solid #ccc;padding:.3em .6em;text-align:right}
th{background:#eef3f7}td:first-child,th:first-child{text-align:left}
td:not(:first-child){white-space:nowrap}table.facts td{white-space:normal}
td.text{text-align:left}
.ok{color:#1e7b34;font-weight:600}.off{color:#b03a2e;font-weight:600}.noise{color:#777}
figure{margin:1.5em 0}figure img{max-width:100%;border:1px solid #ddd}
figcaption{color:#444;font-size:.9em}.note{background:#fff8e1;border-left:4px solid #f0b400;
padding:.6em 1em}code{background:#f3f3f3;padding:0 .2em}.small{font-size:.85em;color:#555}
"""


RAW = "\x00raw:"


def Raw(markup: str) -> str:  # noqa: N802 - reads like a type at call sites
    """Mark HTML that a table cell shows as is (a prefix survives pandas' string dtypes)."""
    return RAW + markup


def esc(text: Any) -> str:
    return html.escape(str(text))


def fmt(x: Any) -> str:
    """A table cell without a kind: yes/no, a number (:func:`numbers.number`), or text."""
    if isinstance(x, bool):
        return "yes" if x else "no"
    if x is None or isinstance(x, (int, float)):
        return number(x)
    return esc(x)


def value(x: Any, kind: str) -> str:
    """A value by its kind (an indicator's kind is in ``analysis.registry``): 'code' and
    'text' as given, numbers as :func:`numbers.number` writes them."""
    if kind in ("text", "code"):
        return "–" if x is None or (isinstance(x, float) and math.isnan(x)) else esc(x)
    return number(x, kind)


def image(path: Path, caption: str) -> str:
    data = base64.b64encode(Path(path).read_bytes()).decode("ascii")
    return (f'<figure><img alt="{esc(caption)}" src="data:image/png;base64,{data}">'
            f"<figcaption>{esc(caption)}</figcaption></figure>")


def _cell(v: Any, kind: str | None) -> str:
    if isinstance(v, str) and v.startswith(RAW):
        return v[len(RAW):]
    return value(v, kind) if kind else fmt(v)


def table(frame: pd.DataFrame, kinds: dict[str, str] | None = None) -> str:
    """An HTML table; ``kinds`` formats columns by kind (see :func:`value`), others by
    :func:`fmt`."""
    kinds = kinds or {}
    head = "".join(f"<th>{esc(c)}</th>" for c in frame.columns)
    rows = []
    for _, row in frame.iterrows():
        cells = "".join(
            ("<td class='text'>" if kinds.get(c) in ("text", "code") else "<td>")
            + f"{_cell(v, kinds.get(c))}</td>"
            for c, v in zip(frame.columns, row, strict=True))
        rows.append(f"<tr>{cells}</tr>")
    return f"<table><thead><tr>{head}</tr></thead><tbody>{''.join(rows)}</tbody></table>"


def page(title: str, subtitle: str, sections: list[tuple[str, str]]) -> str:
    body = "".join(f"<h2>{esc(h)}</h2>{content}" for h, content in sections)
    return (f"<!DOCTYPE html><html lang='en'><head><meta charset='utf-8'>"
            f"<meta name='viewport' content='width=device-width, initial-scale=1'>"
            f"<title>{esc(title)}</title><style>{CSS}</style></head><body>"
            f"<h1>{esc(title)}</h1><p class='sub'>{esc(subtitle)}</p>{body}</body></html>")

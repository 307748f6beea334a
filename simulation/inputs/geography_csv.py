"""Reading a municipality table (the built-in 2024 data or a user's CSV) into a Geography,
with every input error named by file, line and column (one message format, easy to grep).

The CSV's columns and the derived attributes (from the vendored municipal data by code, the
proxies as the fallback) are described in geography.py; this module only reads, checks and
hands checked columns to :func:`~simulation.inputs.geography.from_columns`.
"""

from __future__ import annotations

import csv
import io
import math
import os
import re
import stat
from functools import lru_cache
from pathlib import Path
from typing import NoReturn

from simulation.inputs.geography import DATA_COLUMNS, OVERRIDE_COLUMNS, Geography, from_columns

__all__ = ["BUILTIN_CSV", "REQUIRED_COLUMNS", "GeographyError", "load_geography"]

REQUIRED_COLUMNS: tuple[str, ...] = (
    "kommunenummer",
    "name",
    "county",
    "region",
    "population",
    "centrality",
    "lat",
    "lon",
    "area_km2",
)
BUILTIN_CSV: Path = Path(__file__).resolve().parents[1] / "data" / "municipalities_no.csv"

_LAT_RANGE = (57.9, 71.3)  # mainland Norway, with a margin
_LON_RANGE = (4.4, 31.3)
_NUMBER_RANGES = {  # override columns that hold numbers: allowed range
    "employment_rate": (0.0, 100.0),  # % of residents 15-74
    "unemployment": (0.0, 100.0),  # % of the labour force
    "jobs_per_resident": (0.0, 10.0),  # jobs per resident 15-74 (Norway: 0.2-1.3)
    "housing_price": (1_000.0, 500_000.0),  # NOK per m2 (Norway: 8,400-71,000)
}
_TRUE = frozenset({"true", "1", "yes"})
_FALSE = frozenset({"false", "0", "no"})
_CODE_RE = re.compile(r"\d{4}")
_INT_RE = re.compile(r"[+]?\d{1,18}")  # at most 18 digits: fits int64
MAX_FILE_BYTES = 20_000_000  # the built-in table is ~30 kB
MAX_MUNICIPALITIES = 2_000  # distances and utilities are n x n (Norway has 357)
MAX_POPULATION = 10_000_000  # persons in one municipality (Oslo: 717,710)
MAX_TOTAL_POPULATION = 100_000_000  # persons in all (Norway: 5.6 million)
MAX_AREA_KM2 = 1_000_000.0  # one municipality (Norway: 385,000 km2 in all)


class GeographyError(ValueError):
    """Bad geography input; the message names the file, the row (the line number in the
    file, header = line 1) and the column."""


def _fail(file: str, line: int, column: str, what: str, value: object, allowed: str) -> NoReturn:
    """Raise the one message format used for every input error, so users can grep for it."""
    shown = repr(value)
    if len(shown) > 60:  # never echo a whole line or file into a message
        shown = shown[:57] + "..."
    raise GeographyError(
        f"{file}: line {line}, column '{column}': {what} (got {shown}; allowed: {allowed})"
    )


def _check_file(file: str, path: Path) -> None:
    """Refuse, before opening, what is not a regular file of at most MAX_FILE_BYTES (so a FIFO
    or a device such as /dev/zero never blocks or fills memory)."""
    try:
        st = os.stat(path)
    except FileNotFoundError:
        raise GeographyError(f"{file}: geography file not found") from None
    except (OSError, ValueError) as e:
        raise GeographyError(f"{file}: cannot read geography file "
                             f"({getattr(e, 'strerror', None) or e})") from None
    if stat.S_ISDIR(st.st_mode):
        raise GeographyError(f"{file}: is a directory, expected a CSV file")
    if not stat.S_ISREG(st.st_mode):
        raise GeographyError(f"{file}: is not a regular file (a device, pipe or socket); "
                             "expected a CSV file")
    if st.st_size > MAX_FILE_BYTES:
        raise GeographyError(f"{file}: file is {st.st_size:,} bytes; allowed: a geography CSV "
                             f"of at most {MAX_FILE_BYTES:,} bytes")


def _read_rows(file: str, path: Path) -> tuple[list[str], list[tuple[int, list[str]]]]:
    """Header and (line number, cells) of each non-blank record, with whitespace stripped."""
    _check_file(file, path)
    try:
        with open(path, "rb") as raw:
            data = raw.read(MAX_FILE_BYTES + 1)
        if len(data) > MAX_FILE_BYTES:
            raise GeographyError(f"{file}: larger than {MAX_FILE_BYTES:,} bytes; allowed: a "
                                 f"geography CSV of at most {MAX_FILE_BYTES:,} bytes")
        if b"\0" in data:
            raise GeographyError(f"{file}: a binary file (it contains NUL bytes), expected a "
                                 "CSV file")
        text = data.decode("utf-8-sig")
        reader = csv.reader(io.StringIO(text, newline=""))
        records: list[tuple[int, list[str]]] = []
        start = 1
        for cells in reader:
            if any(c.strip() for c in cells):
                records.append((start, [c.strip() for c in cells]))
                if len(records) > MAX_MUNICIPALITIES + 1:
                    raise GeographyError(
                        f"{file}: line {start}: more than {MAX_MUNICIPALITIES:,} "
                        f"municipalities; allowed: at most {MAX_MUNICIPALITIES:,} rows "
                        "(Norway has 357; distances are computed for every pair)")
            start = reader.line_num + 1
    except UnicodeDecodeError as e:
        raise GeographyError(f"{file}: not valid UTF-8 ({e.reason} at byte {e.start})") from None
    except csv.Error as e:
        raise GeographyError(f"{file}: not a readable CSV file ({str(e)[:80]})") from None
    except OSError as e:
        raise GeographyError(f"{file}: cannot read geography file ({e.strerror or e})") from None
    if not records:
        raise GeographyError(
            f"{file}: file is empty (expected the header {','.join(REQUIRED_COLUMNS)})"
        )
    (_, header), *rows = records
    return header, rows


def _check_header(file: str, header: list[str]) -> None:
    seen: set[str] = set()
    for name in header:
        if name in seen and name in (*REQUIRED_COLUMNS, *OVERRIDE_COLUMNS, *DATA_COLUMNS):
            _fail(file, 1, name, "column appears twice in the header", name, "each column once")
        seen.add(name)
    missing = [c for c in REQUIRED_COLUMNS if c not in seen]
    if missing:
        _fail(
            file,
            1,
            ", ".join(missing),
            f"missing required column{'s' if len(missing) > 1 else ''}",
            ",".join(header),
            f"a header with at least {','.join(REQUIRED_COLUMNS)}",
        )


def _parse_float(s: str) -> float | None:
    try:
        v = float(s)
    except ValueError:
        return None
    return v if math.isfinite(v) else None


def _parse_rows(
    file: str, header: list[str], rows: list[tuple[int, list[str]]]
) -> dict[str, list[object]]:
    """Validate cell by cell (row by row, left to right) and return typed columns."""
    pos = {
        name: header.index(name)
        for name in (*REQUIRED_COLUMNS, *OVERRIDE_COLUMNS, *DATA_COLUMNS)
        if name in header
    }
    overrides = [c for c in (*OVERRIDE_COLUMNS, *DATA_COLUMNS) if c in pos]
    out: dict[str, list[object]] = {c: [] for c in (*REQUIRED_COLUMNS, *overrides)}
    first_line: dict[str, int] = {}
    lat_lo, lat_hi = _LAT_RANGE
    lon_lo, lon_hi = _LON_RANGE
    total_population = 0

    for line, cells in rows:
        if len(cells) > len(header):
            _fail(
                file,
                line,
                f"(field {len(header) + 1})",
                "more fields than the header has",
                cells[len(header)],
                f"{len(header)} fields",
            )
        cells = cells + [""] * (len(header) - len(cells))

        def cell(col: str, _cells: list[str] = cells) -> str:
            return _cells[pos[col]]

        code = cell("kommunenummer")
        if not _CODE_RE.fullmatch(code):
            _fail(
                file,
                line,
                "kommunenummer",
                "municipality code must be exactly 4 digits",
                code,
                "4 digits with leading zero, e.g. '0301'",
            )
        if code in first_line:
            _fail(
                file,
                line,
                "kommunenummer",
                f"duplicate municipality code, already on line {first_line[code]}",
                code,
                "each code once",
            )
        first_line[code] = line
        out["kommunenummer"].append(code)

        for col in ("name", "county", "region"):
            if not cell(col):
                _fail(file, line, col, "empty", cell(col), "non-empty text")
            out[col].append(cell(col))

        s = cell("population")
        if not _INT_RE.fullmatch(s) or not 1 <= int(s) <= MAX_POPULATION:
            _fail(
                file,
                line,
                "population",
                "population must be a positive integer",
                s[:60],
                f"whole number from 1 to {MAX_POPULATION:,}",
            )
        out["population"].append(int(s))
        total_population += int(s)
        if total_population > MAX_TOTAL_POPULATION:
            _fail(
                file,
                line,
                "population",
                "the populations add up to more than "
                f"{MAX_TOTAL_POPULATION:,} by this line",
                s,
                f"a total of at most {MAX_TOTAL_POPULATION:,} (Norway: 5.6 million)",
            )

        s = cell("centrality")
        if not _INT_RE.fullmatch(s) or not 1 <= int(s) <= 6:
            _fail(
                file,
                line,
                "centrality",
                "SSB centrality class must be an integer 1..6",
                s,
                "1, 2, 3, 4, 5 or 6",
            )
        out["centrality"].append(int(s))

        for col, lo, hi in (("lat", lat_lo, lat_hi), ("lon", lon_lo, lon_hi)):
            s = cell(col)
            v = _parse_float(s)
            if v is None or not lo <= v <= hi:
                _fail(
                    file,
                    line,
                    col,
                    f"{col} must be a decimal degree inside Norway",
                    s,
                    f"{lo}..{hi}",
                )
            out[col].append(v)

        s = cell("area_km2")
        v = _parse_float(s) if s else math.nan
        if v is None or (s and not 0 < v <= MAX_AREA_KM2):
            _fail(
                file,
                line,
                "area_km2",
                "area must be empty or a positive number",
                s[:60],
                f"empty or a number > 0 and <= {MAX_AREA_KM2:,.0f}",
            )
        out["area_km2"].append(v)

        for col in overrides:
            s = cell(col)
            if not s:
                out[col].append(None)  # keep the derived default
            elif col == "labour_market":
                v = _parse_float(s)
                if v is None or not 0.0 <= v <= 1.0:
                    _fail(
                        file,
                        line,
                        col,
                        "labour_market must be a number in [0, 1]",
                        s,
                        "0..1, or empty for the default",
                    )
                out[col].append(v)
            elif col in _NUMBER_RANGES:
                lo, hi = _NUMBER_RANGES[col]
                v = _parse_float(s)
                if v is None or not lo <= v <= hi:
                    _fail(file, line, col, f"{col} must be a number in [{lo:g}, {hi:g}]", s,
                          f"{lo:g}..{hi:g}, or empty for the data/default")
                out[col].append(v)
            elif col == "county_pre2020":
                out[col].append(s)
            else:
                low = s.lower()
                if low not in _TRUE and low not in _FALSE:
                    _fail(
                        file,
                        line,
                        col,
                        f"{col} must be a boolean",
                        s,
                        "true/false/1/0/yes/no, or empty for the default",
                    )
                out[col].append(low in _TRUE)

    if len(rows) < 2:
        last = rows[-1][0] if rows else 1
        _fail(
            file,
            last,
            "kommunenummer",
            "need at least 2 municipalities",
            len(rows),
            ">= 2 data rows",
        )
    return out


def _load_file(path: Path, file: str, source: str) -> Geography:
    header, rows = _read_rows(file, path)
    _check_header(file, header)
    return from_columns(_parse_rows(file, header, rows), source)


@lru_cache(maxsize=1)
def _load_builtin() -> Geography:
    return _load_file(BUILTIN_CSV, str(BUILTIN_CSV), "built-in")


def load_geography(path: str | os.PathLike[str] | None = None) -> Geography:
    """Load and validate a municipality table; ``None`` gives the (cached) built-in 2024 data.

    Raises :class:`GeographyError` naming file, line and column on any bad input.
    """
    if path is None:
        return _load_builtin()
    file = os.fspath(path)
    if not isinstance(file, str):
        file = os.fsdecode(file)
    return _load_file(Path(file), file, file)

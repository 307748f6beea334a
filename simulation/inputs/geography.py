"""Norway's municipalities as the simulation's map: attributes, distances and a neighbour graph.

Every other part of the model (where refugees are settled, where they move next, what a
municipality offers them) reads the same :class:`Geography`, so the input is validated once,
here, with error messages that point at the exact file, line and column.

Data
----
The built-in table ``simulation/data/municipalities_no.csv`` holds the 357 municipalities of
the 2024 structure (codes, names, counties, regions, population on 1 January 2024, SSB
centrality class, centroid lat/lon and area). It is compiled from Statistics Norway (SSB)
data and from polygons based on Kartverket data, both CC BY 4.0; see
``simulation/data/municipalities_no.SOURCES.md`` for sources, method and checks.

A user CSV must have the header
``kommunenummer,name,county,region,population,centrality,lat,lon,area_km2``
(UTF-8, a BOM is accepted; extra columns are ignored, except the override columns below).

Derived attributes (defaults)
-----------------------------
The model needs a few services/opportunity indicators that SSB does not publish as one
table, so they are derived from size and centrality (``P`` = population, ``C`` = centrality
class, 1 = most central, 6 = least central):

* ``labour_market`` (labour-market strength, 0..1) =
  ``clip(0.6 * (log10(P) - 2.3) / (log10(717710) - 2.3) + 0.4 * (6 - C) / 5, 0, 1)``;
  717,710 is Oslo's population, so Oslo scores 1.
* ``upper_secondary`` (an upper-secondary school within reach) = ``P >= 4000 or C <= 3``
* ``higher_education`` (university/college) = ``P >= 40000``
* ``hospital`` = ``P >= 20000``

A user CSV may supply any of the columns ``labour_market`` (a number in [0, 1]),
``upper_secondary``, ``higher_education`` and ``hospital`` (true/false/1/0/yes/no, any case)
to override these; an empty cell keeps the derived default for that row.

Two flags are fixed: ``east`` (county in :data:`EAST_COUNTIES`, "Østlandet") and ``oslo``
(code ``0301``).
"""

from __future__ import annotations

import csv
import io
import math
import os
import re
import stat
from collections.abc import Iterator
from dataclasses import dataclass
from functools import cached_property, lru_cache
from pathlib import Path
from typing import NoReturn

import networkx as nx
import numpy as np
import pandas as pd

__all__ = [
    "BUILTIN_CSV",
    "EAST_COUNTIES",
    "OVERRIDE_COLUMNS",
    "REQUIRED_COLUMNS",
    "Geography",
    "GeographyError",
    "load_geography",
]

EAST_COUNTIES: frozenset[str] = frozenset(
    {"Oslo", "Akershus", "Østfold", "Buskerud", "Innlandet", "Vestfold", "Telemark"}
)
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
OVERRIDE_COLUMNS: tuple[str, ...] = (
    "labour_market",
    "upper_secondary",
    "higher_education",
    "hospital",
)
BUILTIN_CSV: Path = Path(__file__).resolve().parents[1] / "data" / "municipalities_no.csv"

_EARTH_RADIUS_KM = 6371.0088  # IUGG mean Earth radius
_OSLO_CODE = "0301"
_OSLO_POPULATION = 717_710  # scales labour_market so that Oslo (the largest) reaches 1
_LAT_RANGE = (57.9, 71.3)  # mainland Norway, with a margin
_LON_RANGE = (4.4, 31.3)
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


# --------------------------------------------------------------------------- derived defaults


def _default_labour_market(population: np.ndarray, centrality: np.ndarray) -> np.ndarray:
    """Labour-market strength from size (60 %) and centrality (40 %), see module docstring."""
    size = (np.log10(population.astype(np.float64)) - 2.3) / (math.log10(_OSLO_POPULATION) - 2.3)
    central = (6 - centrality.astype(np.float64)) / 5
    return np.clip(0.6 * size + 0.4 * central, 0.0, 1.0)


def _default_upper_secondary(population: np.ndarray, centrality: np.ndarray) -> np.ndarray:
    return (population >= 4000) | (centrality <= 3)


def _default_higher_education(population: np.ndarray, centrality: np.ndarray) -> np.ndarray:
    return population >= 40_000


def _default_hospital(population: np.ndarray, centrality: np.ndarray) -> np.ndarray:
    return population >= 20_000


_DEFAULTS = {
    "labour_market": _default_labour_market,
    "upper_secondary": _default_upper_secondary,
    "higher_education": _default_higher_education,
    "hospital": _default_hospital,
}


# --------------------------------------------------------------------------- distances


def _haversine_matrix(lat: np.ndarray, lon: np.ndarray) -> np.ndarray:
    """Great-circle distances (km) between all pairs; exactly symmetric with a zero diagonal."""
    phi = np.radians(np.asarray(lat, dtype=np.float64))
    lam = np.radians(np.asarray(lon, dtype=np.float64))
    dphi = phi[:, None] - phi[None, :]
    dlam = lam[:, None] - lam[None, :]
    h = np.sin(dphi / 2) ** 2 + np.cos(phi)[:, None] * np.cos(phi)[None, :] * np.sin(dlam / 2) ** 2
    d = 2 * _EARTH_RADIUS_KM * np.arcsin(np.sqrt(np.clip(h, 0.0, 1.0)))
    d = (d + d.T) / 2  # guard against any rounding asymmetry
    np.fill_diagonal(d, 0.0)
    return d


def _readonly(a: np.ndarray) -> np.ndarray:
    """A read-only view, so callers cannot silently change the shared (cached) geography."""
    v = np.asarray(a).view()
    v.flags.writeable = False
    return v


# --------------------------------------------------------------------------- Geography


@dataclass(frozen=True, eq=False)
class Geography:
    """The municipalities, their attributes and pairwise distances.

    Shared and cached: treat ``table`` and all arrays as read-only.
    """

    table: pd.DataFrame
    distance_km: np.ndarray
    source: str

    def __post_init__(self) -> None:
        n = len(self.table)
        d = np.array(self.distance_km, dtype=np.float64, copy=True)
        if d.shape != (n, n):
            raise ValueError(f"distance_km has shape {d.shape}, expected ({n}, {n})")
        d.flags.writeable = False
        object.__setattr__(self, "distance_km", d)

    def __repr__(self) -> str:
        return f"Geography(n={self.n}, source={self.source!r})"

    # ---- size and identifiers
    @property
    def n(self) -> int:
        return len(self.table)

    @cached_property
    def codes(self) -> np.ndarray:
        return _readonly(np.array(self.table["code"].tolist(), dtype=str))

    @cached_property
    def names(self) -> np.ndarray:
        return _readonly(np.array(self.table["name"].tolist(), dtype=str))

    @cached_property
    def _index(self) -> dict[str, int]:
        return {code: i for i, code in enumerate(self.table["code"].tolist())}

    def index_of(self, code: str) -> int:
        """Row index of a municipality code such as ``"0301"``."""
        try:
            return self._index[code]
        except (KeyError, TypeError):
            raise KeyError(
                f"unknown municipality code {code!r} in geography {self.source!r} "
                f"(codes are 4-digit strings such as '0301')"
            ) from None

    # ---- numeric attributes
    def _col(self, name: str, dtype: type) -> np.ndarray:
        return _readonly(self.table[name].to_numpy(dtype=dtype, copy=True))

    @cached_property
    def population(self) -> np.ndarray:
        return self._col("population", np.int64)

    @cached_property
    def centrality(self) -> np.ndarray:
        return self._col("centrality", np.int64)

    @cached_property
    def lat(self) -> np.ndarray:
        return self._col("lat", np.float64)

    @cached_property
    def lon(self) -> np.ndarray:
        return self._col("lon", np.float64)

    @cached_property
    def labour_market(self) -> np.ndarray:
        return self._col("labour_market", np.float64)

    @cached_property
    def upper_secondary(self) -> np.ndarray:
        return self._col("upper_secondary", bool)

    @cached_property
    def higher_education(self) -> np.ndarray:
        return self._col("higher_education", bool)

    @cached_property
    def hospital(self) -> np.ndarray:
        return self._col("hospital", bool)

    @cached_property
    def east(self) -> np.ndarray:
        return self._col("east", bool)

    @cached_property
    def oslo(self) -> np.ndarray:
        return self._col("oslo", bool)

    # ---- counties
    @cached_property
    def _counties(self) -> tuple[list[str], np.ndarray]:
        names = sorted(set(self.table["county"].tolist()))
        lookup = {c: i for i, c in enumerate(names)}
        idx = np.array([lookup[c] for c in self.table["county"].tolist()], dtype=np.int64)
        return names, _readonly(idx)

    @property
    def county_names(self) -> list[str]:
        """County names sorted; position = value in :attr:`county_index` (a fresh list)."""
        return list(self._counties[0])

    @property
    def county_index(self) -> np.ndarray:
        return self._counties[1]

    # ---- graph
    def graph(self, k: int = 6) -> nx.Graph:
        """Undirected k-nearest-neighbour graph (union of each node's k nearest), made connected.

        The model's mesa ``Network`` space is built on it (one municipality agent per node;
        neighbours for maps and local views). If the kNN graph falls apart (islands,
        remote clusters), the shortest edge between two components is added until connected,
        so every municipality is reachable. Returns a new graph on every call.
        """
        if isinstance(k, bool) or not isinstance(k, int | np.integer) or k < 1:
            raise ValueError(f"k must be a positive integer (got {k!r})")
        n = self.n
        d = self.distance_km
        g = nx.Graph()
        t = self.table
        for i, row in enumerate(t.itertuples(index=False)):
            g.add_node(
                i,
                code=str(row.code),
                name=str(row.name),
                county=str(row.county),
                population=int(row.population),
                centrality=int(row.centrality),
                lat=float(row.lat),
                lon=float(row.lon),
            )
        kk = min(int(k), n - 1)
        for i in range(n):
            order = np.argsort(d[i], kind="stable")  # ties broken by index: deterministic
            picked = 0
            for j in order:
                if j == i:
                    continue
                g.add_edge(i, int(j), distance_km=float(d[i, j]))
                picked += 1
                if picked == kk:
                    break
        for i, j in _bridges(g, d):
            g.add_edge(i, j, distance_km=float(d[i, j]))
        return g


def _bridges(g: nx.Graph, d: np.ndarray) -> Iterator[tuple[int, int]]:
    """Yield, one at a time, the shortest edge joining two different components."""
    n = len(d)
    comp = np.empty(n, dtype=np.int64)
    for c, nodes in enumerate(nx.connected_components(g)):
        comp[list(nodes)] = c
    while len(np.unique(comp)) > 1:
        masked = np.where(comp[:, None] != comp[None, :], d, np.inf)
        i, j = divmod(int(np.argmin(masked)), n)  # first minimum in row-major order
        i, j = min(i, j), max(i, j)
        yield i, j
        comp[comp == comp[j]] = comp[i]


# --------------------------------------------------------------------------- loading


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
        if name in seen and (name in REQUIRED_COLUMNS or name in OVERRIDE_COLUMNS):
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
        for name in (*REQUIRED_COLUMNS, *OVERRIDE_COLUMNS)
        if name in header
    }
    overrides = [c for c in OVERRIDE_COLUMNS if c in pos]
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


def _build(raw: dict[str, list[object]], source: str) -> Geography:
    """Sort by code, derive defaults, apply overrides and compute distances."""
    order = sorted(range(len(raw["kommunenummer"])), key=lambda i: str(raw["kommunenummer"][i]))

    def col(name: str) -> list[object]:
        return [raw[name][i] for i in order]

    pop = np.array(col("population"), dtype=np.int64)
    cen = np.array(col("centrality"), dtype=np.int64)
    codes = [str(c) for c in col("kommunenummer")]
    counties = [str(c) for c in col("county")]
    table = pd.DataFrame(
        {
            "code": codes,
            "name": col("name"),
            "county": counties,
            "region": col("region"),
            "population": pop,
            "centrality": cen,
            "lat": np.array(col("lat"), dtype=np.float64),
            "lon": np.array(col("lon"), dtype=np.float64),
            "area_km2": np.array(col("area_km2"), dtype=np.float64),
        }
    )
    for name, default in _DEFAULTS.items():
        values = default(pop, cen)
        if name in raw:  # override column present: empty cells (None) keep the default
            given = col(name)
            values = np.array(
                [d if g is None else g for g, d in zip(given, values.tolist(), strict=True)],
                dtype=values.dtype,
            )
        table[name] = values
    table["east"] = np.array([c in EAST_COUNTIES for c in counties], dtype=bool)
    table["oslo"] = np.array([c == _OSLO_CODE for c in codes], dtype=bool)
    distance = _haversine_matrix(table["lat"].to_numpy(), table["lon"].to_numpy())
    return Geography(table=table, distance_km=distance, source=source)


def _load_file(path: Path, file: str, source: str) -> Geography:
    header, rows = _read_rows(file, path)
    _check_header(file, header)
    return _build(_parse_rows(file, header, rows), source)


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

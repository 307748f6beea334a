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

A user CSV (read and checked in geography_csv.py) must have the header
``kommunenummer,name,county,region,population,centrality,lat,lon,area_km2``
(UTF-8, a BOM is accepted; extra columns are ignored, except the override columns below).

Municipal attributes: observed data, proxies as the fallback
-------------------------------------------------------------
For every row whose code is one of the 357 codes of the vendored municipal data
(``simulation/data/municipal/``, read by municipal.py; sources in its SOURCES.md) -- the
built-in table and any user CSV rows with those codes -- the attributes come from the data:

* ``employment_rate`` (% of residents 15-74 employed, SSB 2022), ``unemployment`` (registered,
  NAV November 2018; Utsira 2017), ``jobs_per_resident`` (jobs located here per resident 15-74,
  SSB 2022), ``commuting`` (n x n: share of employed residents of i working in j, SSB 2022,
  rows sum to 1, only flows between the table's municipalities), ``county_pre2020`` (the county
  before the 2018-2020 reforms).
* ``housing_price`` (NOK per m2 of detached houses sold 2020-2024, SSB table 06035; the 65
  small municipalities where SSB suppresses it, and codes not in the data, get the prediction
  of housing.py's fit on size, centrality and region: ``housing_price_filled``).
* ``labour_market`` (0..1, higher = stronger): the composite of labour_market.py (employment
  rate, unemployment and the jobs in the commuting area, each scaled between its 5th and 95th
  percentile in Norway).
* ``has_upper_secondary`` (a public upper-secondary school), ``has_hospital`` (a general
  hospital), ``has_higher_education`` (a higher-education campus): in the municipality itself.
* ``upper_secondary``, ``hospital``, ``higher_education`` (the household can use the service
  from where it lives): the service is in the municipality, in one that receives >= 10 % of
  its commuters, or in one whose centroid lies within 20 km (school), 60 km (hospital) or
  50 km (campus); thresholds and reasons in service_access.py.

Fallback for codes not in the data (``P`` = population, ``C`` = centrality class, 1 = most
central, 6 = least central) -- the size/centrality proxies of the first version:

* ``labour_market`` = ``clip(0.6 * (log10(P) - 2.3) / (log10(717710) - 2.3) + 0.4 * (6 - C) / 5,
  0, 1)``; 717,710 is Oslo's population. Also used for a known code whose composite cannot be
  computed.
* ``upper_secondary`` = ``has_upper_secondary`` = ``P >= 4000 or C <= 3``
* ``higher_education`` = ``has_higher_education`` = ``P >= 40000``
* ``hospital`` = ``has_hospital`` = ``P >= 20000``
* ``employment_rate``, ``unemployment``, ``jobs_per_resident``: NaN; ``county_pre2020``: the
  row's ``county``; commuting: everyone works at home.

(The proxies already meant "within reach", so the neighbour rule is not applied to fallback
rows; a known row may reach a fallback row's proxy service.)

Overrides: a user CSV may supply any of the columns ``labour_market`` (a number in [0, 1]),
``upper_secondary``, ``higher_education``, ``hospital``, ``has_upper_secondary``,
``has_higher_education``, ``has_hospital`` (true/false/1/0/yes/no, any case),
``employment_rate``, ``unemployment`` (0..100), ``jobs_per_resident`` (0..10),
``housing_price`` (NOK per m2, 1,000..500,000) and ``county_pre2020`` (text). A non-empty
cell wins over the data and the fallback; an empty cell
keeps them. Overridden ``has_*``, ``employment_rate`` and ``unemployment`` feed the derived
access and composite (``jobs_per_resident`` is carried for analysis only; the composite uses
the commuting-area jobs), and an overridden ``labour_market`` or access flag wins over all.

Two flags are fixed: ``east`` (county in :data:`EAST_COUNTIES`, "Østlandet") and ``oslo``
(code ``0301``).
"""
from __future__ import annotations

import math
from collections.abc import Iterator
from dataclasses import dataclass
from functools import cached_property

import networkx as nx
import numpy as np
import pandas as pd

from simulation.inputs import housing, labour_market, service_access
from simulation.inputs.municipal import load_municipal

__all__ = ["DATA_COLUMNS", "EAST_COUNTIES", "OVERRIDE_COLUMNS", "Geography", "from_columns"]

EAST_COUNTIES: frozenset[str] = frozenset(
    {"Oslo", "Akershus", "Østfold", "Buskerud", "Innlandet", "Vestfold", "Telemark"}
)
OVERRIDE_COLUMNS: tuple[str, ...] = (
    "labour_market",
    "upper_secondary",
    "higher_education",
    "hospital",
)

# further override columns: own-municipality services, raw labour-market figures, old county
DATA_COLUMNS: tuple[str, ...] = (
    "has_upper_secondary",
    "has_higher_education",
    "has_hospital",
    "employment_rate",
    "unemployment",
    "jobs_per_resident",
    "county_pre2020",
    "housing_price",
)
_SERVICES: tuple[str, ...] = ("upper_secondary", "higher_education", "hospital")

_EARTH_RADIUS_KM = 6371.0088  # IUGG mean Earth radius
_OSLO_CODE = "0301"
_OSLO_POPULATION = 717_710  # scales labour_market so that Oslo (the largest) reaches 1


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
    commuting: np.ndarray | None = None  # n x n shares, rows sum to 1; None: all work at home

    def __post_init__(self) -> None:
        n = len(self.table)
        d = np.array(self.distance_km, dtype=np.float64, copy=True)
        if d.shape != (n, n):
            raise ValueError(f"distance_km has shape {d.shape}, expected ({n}, {n})")
        d.flags.writeable = False
        object.__setattr__(self, "distance_km", d)
        c = np.eye(n) if self.commuting is None else np.array(self.commuting, dtype=np.float64)
        if c.shape != (n, n) or not np.allclose(c.sum(axis=1), 1.0):
            raise ValueError(f"commuting must be ({n}, {n}) shares with rows summing to 1")
        c.flags.writeable = False
        object.__setattr__(self, "commuting", c)

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
    def has_upper_secondary(self) -> np.ndarray:
        """A public upper-secondary school in the municipality itself."""
        return self._col("has_upper_secondary", bool)

    @cached_property
    def has_higher_education(self) -> np.ndarray:
        """A higher-education campus in the municipality itself."""
        return self._col("has_higher_education", bool)

    @cached_property
    def has_hospital(self) -> np.ndarray:
        """A general hospital in the municipality itself."""
        return self._col("has_hospital", bool)

    @cached_property
    def employment_rate(self) -> np.ndarray:
        """% of residents 15-74 employed (SSB 2022); NaN where unknown."""
        return self._col("employment_rate", np.float64)

    @cached_property
    def unemployment(self) -> np.ndarray:
        """Registered unemployment, % (NAV Nov 2018); NaN where unknown."""
        return self._col("unemployment", np.float64)

    @cached_property
    def jobs_per_resident(self) -> np.ndarray:
        """Jobs located here per resident 15-74 (SSB 2022); NaN where unknown."""
        return self._col("jobs_per_resident", np.float64)

    @cached_property
    def housing_price(self) -> np.ndarray:
        """Price per m2 of detached houses, NOK (SSB 2020-2024; filled where suppressed)."""
        return self._col("housing_price", np.float64)

    @cached_property
    def from_data(self) -> np.ndarray:
        """The row's code is in the municipal data (else its attributes are the fallback)."""
        return self._col("from_data", bool)

    @cached_property
    def county_pre2020(self) -> np.ndarray:
        return _readonly(np.array(self.table["county_pre2020"].tolist(), dtype=str))

    @cached_property
    def region(self) -> np.ndarray:
        return _readonly(np.array(self.table["region"].tolist(), dtype=str))

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
        so every municipality is reachable. Returns a new graph on every call (mesa writes
        into its nodes), built from nodes and edges worked out once per geography and k:
        every model builds one, and the Python loops over the distances took 10 ms a run.
        """
        if isinstance(k, bool) or not isinstance(k, int | np.integer) or k < 1:
            raise ValueError(f"k must be a positive integer (got {k!r})")
        nodes, edges = self._graph_parts(min(int(k), self.n - 1))
        g = nx.Graph()
        g.add_nodes_from((i, dict(attrs)) for i, attrs in nodes)
        g.add_edges_from((i, j, {"distance_km": d}) for i, j, d in edges)
        return g

    def _graph_parts(self, kk: int) -> tuple[list[tuple[int, dict[str, object]]],
                                             list[tuple[int, int, float]]]:
        """The graph's nodes (with attributes) and edges (with distances, in the order they
        are added: each node's kk nearest, ties by index, then the bridges), cached by kk."""
        cache: dict[int, tuple[list, list]] = self.__dict__.setdefault("_graph_cache", {})
        if kk in cache:
            return cache[kk]
        n = self.n
        d = self.distance_km
        nodes = [(i, {"code": str(row.code), "name": str(row.name), "county": str(row.county),
                      "population": int(row.population), "centrality": int(row.centrality),
                      "lat": float(row.lat), "lon": float(row.lon)})
                 for i, row in enumerate(self.table.itertuples(index=False))]
        g = nx.Graph()
        g.add_nodes_from(range(n))
        edges: list[tuple[int, int, float]] = []
        for i in range(n):
            order = np.argsort(d[i], kind="stable")  # ties broken by index: deterministic
            picked = [int(j) for j in order[:kk + 1] if j != i][:kk]
            for j in picked:
                edges.append((i, j, float(d[i, j])))
                g.add_edge(i, j)
        edges.extend((i, j, float(d[i, j])) for i, j in _bridges(g, d))
        cache[kk] = (nodes, edges)
        return nodes, edges


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


def from_columns(raw: dict[str, list[object]], source: str) -> Geography:
    """A Geography from checked columns (``kommunenummer``, the other required columns and any
    override or data columns; None in one keeps the data/default): sorted by code, attributes
    taken from the municipal data by code (fallback: the proxies), overrides applied,
    distances and commuting shares computed. The CSV reader and the toy country call it."""
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
    data = load_municipal()
    m = data.align(codes)
    known = m["known"].to_numpy(dtype=bool)

    def given(name: str, values: np.ndarray) -> np.ndarray:
        """The values with the CSV's non-empty override cells put in."""
        if name not in raw:
            return values
        cells = col(name)
        return np.array(
            [v if g is None else g for g, v in zip(cells, values.tolist(), strict=True)],
            dtype=values.dtype,
        )

    def observed(name: str, fallback: np.ndarray) -> np.ndarray:
        found = m[name].to_numpy(dtype=object)
        values = [d if k else f for d, k, f in zip(found, known, fallback.tolist(), strict=True)]
        return given(name, np.array(values, dtype=fallback.dtype))

    nan = np.full(len(codes), np.nan)
    table["from_data"] = known
    table["employment_rate"] = observed("employment_rate", nan)
    table["unemployment"] = observed("unemployment", nan)
    jobs = np.where(known, m["jobs_per_100"].to_numpy(dtype=np.float64) / 100.0, np.nan)
    table["jobs_per_resident"] = given("jobs_per_resident", jobs)
    table["commuting_area_jobs"] = m["commuting_area_jobs"].to_numpy(dtype=np.float64)
    table["county_pre2020"] = observed("county_pre2020", np.array(counties, dtype=object))
    price, filled, _ = housing.fill(observed("housing_price", nan), pop, cen,
                                    np.array(table["region"].tolist(), dtype=object))
    table["housing_price"] = price
    table["housing_price_filled"] = filled
    commuting = data.commuting_for(codes)
    distance = _haversine_matrix(table["lat"].to_numpy(), table["lon"].to_numpy())

    full = data.table
    bounds = labour_market.reference_bounds(
        full["employment_rate"].to_numpy(),
        full["unemployment"].to_numpy(),
        full["commuting_area_jobs"].to_numpy(),
    )
    strength = labour_market.composite(
        table["employment_rate"].to_numpy(),
        table["unemployment"].to_numpy(),
        table["commuting_area_jobs"].to_numpy(),
        bounds,
    )
    proxy = _default_labour_market(pop, cen)
    table["labour_market"] = given(
        "labour_market", np.where(np.isfinite(strength), strength, proxy)
    )
    for service in _SERVICES:
        fallback = _DEFAULTS[service](pop, cen)
        has = observed(f"has_{service}", fallback)
        reach = service_access.access(service, has, commuting, distance)
        table[f"has_{service}"] = has
        table[service] = given(service, np.where(known, reach, fallback))
    table["east"] = np.array([c in EAST_COUNTIES for c in counties], dtype=bool)
    table["oslo"] = np.array([c == _OSLO_CODE for c in codes], dtype=bool)
    return Geography(table=table, distance_km=distance, source=source, commuting=commuting)

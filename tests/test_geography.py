"""Tests for simulation.inputs.geography: built-in data, derived attributes, input checks."""

from __future__ import annotations

import re
from collections.abc import Callable
from pathlib import Path

import networkx as nx
import numpy as np
import pandas as pd
import pytest

from simulation.inputs.geography import EAST_COUNTIES, OVERRIDE_COLUMNS, Geography
from simulation.inputs.geography_csv import (
    BUILTIN_CSV,
    REQUIRED_COLUMNS,
    GeographyError,
    load_geography,
)


@pytest.fixture(scope="module")
def geo() -> Geography:
    return load_geography()


def builtin_frame() -> pd.DataFrame:
    """The built-in CSV as strings (codes keep their leading zero, empty cells stay empty)."""
    return pd.read_csv(BUILTIN_CSV, dtype=str, keep_default_na=False)


def write_csv(df: pd.DataFrame, path: Path) -> Path:
    df.to_csv(path, index=False)
    return path


# --------------------------------------------------------------------------- built-in data


def test_constants() -> None:
    assert len(REQUIRED_COLUMNS) == 9 and REQUIRED_COLUMNS[0] == "kommunenummer"
    assert OVERRIDE_COLUMNS == ("labour_market", "upper_secondary", "higher_education", "hospital")
    assert len(EAST_COUNTIES) == 7 and "Østfold" in EAST_COUNTIES
    assert BUILTIN_CSV.is_file()


def test_builtin_basics(geo: Geography) -> None:
    assert geo.n == 357
    assert geo.source == "built-in"
    assert list(geo.table.index) == list(range(357))
    assert list(geo.codes) == sorted(geo.codes)
    assert all(len(c) == 4 and c.isdigit() for c in geo.codes)
    assert int(geo.population.sum()) == 5_550_203
    assert geo.population.dtype == np.int64 and geo.centrality.dtype == np.int64
    assert int((geo.centrality == 1).sum()) == 5
    assert geo.table["area_km2"].isna().sum() == 2
    assert len(geo.county_names) == 15
    assert geo.county_names == sorted(geo.county_names)
    assert set(geo.county_index.tolist()) == set(range(15))
    assert geo.county_names[geo.county_index[geo.index_of("4601")]] == "Vestland"


def test_oslo(geo: Geography) -> None:
    i = geo.index_of("0301")
    row = geo.table.iloc[i]
    assert row["code"] == "0301" and row["name"] == "Oslo"
    assert bool(row["oslo"]) and bool(row["east"])
    assert geo.oslo[i] and geo.east[i]
    assert int(geo.oslo.sum()) == 1
    # observed composite (was the proxy, where Oslo scored exactly 1): among the top tenth
    assert geo.labour_market[i] >= np.percentile(geo.labour_market, 90)
    assert not geo.east[geo.index_of("4601")]


def test_index_of_unknown(geo: Geography) -> None:
    with pytest.raises(KeyError, match="9999"):
        geo.index_of("9999")
    with pytest.raises(KeyError, match="301"):
        geo.index_of("301")


def test_distances(geo: Geography) -> None:
    d = geo.distance_km
    assert d.shape == (357, 357) and d.dtype == np.float64
    assert np.array_equal(d, d.T)
    assert np.all(np.diag(d) == 0.0)
    assert np.all(d[~np.eye(357, dtype=bool)] > 0)
    # Centroid to centroid (Oslo's centroid lies north of the city centre): ~299 km.
    oslo_bergen = d[geo.index_of("0301"), geo.index_of("4601")]
    assert 290 < oslo_bergen < 330
    assert d.max() < 2000  # Norway is ~1,750 km long


def test_read_only(geo: Geography) -> None:
    with pytest.raises(ValueError):
        geo.distance_km[0, 1] = 1.0
    with pytest.raises(ValueError):
        geo.population[0] = 1
    with pytest.raises(AttributeError):
        geo.source = "x"  # type: ignore[misc]


def test_builtin_is_cached(geo: Geography) -> None:
    assert load_geography() is geo


def test_graph(geo: Geography) -> None:
    g = geo.graph()
    assert g.number_of_nodes() == 357
    assert nx.is_connected(g)
    assert all(g.degree(v) >= 6 for v in g)
    assert all(data["distance_km"] > 0 for _, _, data in g.edges(data=True))
    i, j = next(iter(g.edges))
    assert g.edges[i, j]["distance_km"] == geo.distance_km[i, j]
    node = g.nodes[geo.index_of("0301")]
    assert node["code"] == "0301" and node["name"] == "Oslo" and node["county"] == "Oslo"
    assert node["population"] == 717_710 and node["centrality"] == 1
    assert {"lat", "lon"} <= set(node)
    assert nx.utils.graphs_equal(g, geo.graph())  # deterministic


def test_graph_bridges_components(tmp_path: Path) -> None:
    """Two far-apart clusters: k=1 kNN leaves them separate, the bridge must join them."""
    df = builtin_frame()
    df = df[df["kommunenummer"].isin(["0301", "3201", "3205", "5601", "5603", "5605"])]
    geo = load_geography(write_csv(df, tmp_path / "two_clusters.csv"))
    g = geo.graph(k=1)
    assert nx.is_connected(g)
    assert geo.graph(k=10).number_of_edges() == 15  # k capped at n - 1: complete graph
    with pytest.raises(ValueError):
        geo.graph(k=0)


def test_derived_attributes(geo: Geography) -> None:
    # from the municipal data since issue 13 (the proxies gave 26 / 66 / 203 "yes")
    assert geo.from_data.all()
    assert int(geo.has_higher_education.sum()) == 51  # the verified campus list
    assert int(geo.has_hospital.sum()) == 54
    assert int(geo.has_upper_secondary.sum()) == 191
    for service in ("upper_secondary", "higher_education", "hospital"):
        own, reach = getattr(geo, f"has_{service}"), getattr(geo, service)
        assert np.all(reach >= own) and reach.sum() > own.sum()  # neighbours count
    assert np.all((geo.labour_market >= 0) & (geo.labour_market <= 1))
    assert geo.labour_market[geo.index_of("5634")] < 0.1  # Vardø: weakest in the data
    assert int(geo.east.sum()) == sum(int(c in EAST_COUNTIES) for c in geo.table["county"].tolist())


# --------------------------------------------------------------------------- user CSVs


def test_user_csv_equals_builtin(tmp_path: Path, geo: Geography) -> None:
    path = write_csv(builtin_frame().iloc[::-1], tmp_path / "reversed.csv")
    user = load_geography(path)
    assert user.source == str(path)
    assert list(user.codes) == list(geo.codes)  # sorted by code again
    pd.testing.assert_frame_equal(user.table, geo.table)
    assert np.array_equal(user.distance_km, geo.distance_km)


def test_bom_and_extra_columns(tmp_path: Path, geo: Geography) -> None:
    df = builtin_frame()
    df["comment"] = "ignored"
    path = tmp_path / "bom.csv"
    path.write_text(df.to_csv(index=False), encoding="utf-8-sig")
    user = load_geography(str(path))
    assert "comment" not in user.table.columns
    pd.testing.assert_frame_equal(user.table, geo.table)


def test_overrides(tmp_path: Path, geo: Geography) -> None:
    df = builtin_frame()
    utsira = df.index[df["kommunenummer"] == "1151"][0]
    oslo = df.index[df["kommunenummer"] == "0301"][0]
    for col in OVERRIDE_COLUMNS:
        df[col] = ""  # empty everywhere: derived default
    df.loc[utsira, "labour_market"] = "0.75"
    df.loc[utsira, "upper_secondary"] = "Yes"
    df.loc[utsira, "higher_education"] = "TRUE"
    df.loc[utsira, "hospital"] = "1"
    df.loc[oslo, "hospital"] = "no"
    df.loc[oslo, "higher_education"] = "0"
    user = load_geography(write_csv(df, tmp_path / "override.csv"))
    u, o = user.index_of("1151"), user.index_of("0301")
    assert user.labour_market[u] == 0.75
    assert user.upper_secondary[u] and user.higher_education[u] and user.hospital[u]
    assert not user.hospital[o] and not user.higher_education[o]
    assert user.labour_market[o] == geo.labour_market[o]  # empty cell: default
    # +Utsira (already within reach of Haugesund's hospital), -Oslo
    assert int(user.hospital.sum()) == int(geo.hospital.sum()) - 1 + int(not geo.hospital[u])
    assert int(user.higher_education.sum()) == (
        int(geo.higher_education.sum()) - 1 + int(not geo.higher_education[u]))
    others = np.ones(user.n, dtype=bool)
    others[[u, o]] = False
    assert np.array_equal(user.labour_market[others], geo.labour_market[others])
    assert user.table["upper_secondary"].dtype == bool


# --------------------------------------------------------------------------- bad CSVs

Mutation = Callable[[pd.DataFrame], pd.DataFrame]


def _set(row: int, col: str, value: str) -> Mutation:
    def mutate(df: pd.DataFrame) -> pd.DataFrame:
        if col not in df.columns:
            df[col] = ""
        df.loc[row, col] = value
        return df

    return mutate


def _drop_column(col: str) -> Mutation:
    return lambda df: df.drop(columns=[col])


def _duplicate(src: int, dst: int) -> Mutation:
    def mutate(df: pd.DataFrame) -> pd.DataFrame:
        df.loc[dst, "kommunenummer"] = df.loc[src, "kommunenummer"]
        return df

    return mutate


# (id, mutation, expected line, expected column, extra text expected in the message)
# Data row r (0-based) is on line r + 2 (the header is line 1).
BAD_CASES = [
    ("missing_column", _drop_column("centrality"), 1, "centrality", "kommunenummer,name"),
    ("duplicate_code", _duplicate(5, 20), 22, "kommunenummer", "line 7"),
    ("three_digit_code", _set(3, "kommunenummer", "301"), 5, "kommunenummer", "'301'"),
    ("non_numeric_population", _set(10, "population", "12k"), 12, "population", "'12k'"),
    ("zero_population", _set(0, "population", "0"), 2, "population", "'0'"),
    ("centrality_7", _set(100, "centrality", "7"), 102, "centrality", "'7'"),
    ("latitude_outside", _set(50, "lat", "55.0"), 52, "lat", "57.9"),
    ("bad_boolean", _set(30, "hospital", "maybe"), 32, "hospital", "'maybe'"),
    ("labour_market_1.5", _set(200, "labour_market", "1.5"), 202, "labour_market", "'1.5'"),
    ("empty_name", _set(7, "name", ""), 9, "name", "non-empty"),
    ("negative_area", _set(8, "area_km2", "-3"), 10, "area_km2", "'-3'"),
    ("longitude_text", _set(9, "lon", "east"), 11, "lon", "'east'"),
]


@pytest.mark.parametrize(
    ("mutate", "line", "column", "extra"),
    [case[1:] for case in BAD_CASES],
    ids=[case[0] for case in BAD_CASES],
)
def test_bad_csv(tmp_path: Path, mutate: Mutation, line: int, column: str, extra: str) -> None:
    path = write_csv(mutate(builtin_frame()), tmp_path / "bad_geo.csv")
    with pytest.raises(GeographyError) as info:
        load_geography(path)
    msg = str(info.value)
    assert str(path) in msg
    assert f"line {line}," in msg
    assert f"'{column}'" in msg
    assert extra in msg


def test_first_error_in_file_order(tmp_path: Path) -> None:
    """Rows are scanned top to bottom, so the earlier bad row is reported."""
    df = builtin_frame()
    df.loc[40, "centrality"] = "0"
    df.loc[4, "population"] = "-5"
    path = write_csv(df, tmp_path / "two_errors.csv")
    with pytest.raises(GeographyError, match=r"line 6, column 'population'"):
        load_geography(path)


def test_blank_lines_keep_line_numbers(tmp_path: Path) -> None:
    lines = BUILTIN_CSV.read_text(encoding="utf-8").splitlines()
    lines.insert(1, "")  # blank line 2: the first data row moves to line 3
    cells = lines[4].split(",")
    cells[5] = "9"  # centrality of the data row on line 5
    lines[4] = ",".join(cells)
    path = tmp_path / "blank.csv"
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    with pytest.raises(GeographyError, match=r"line 5, column 'centrality'"):
        load_geography(path)


def test_missing_file(tmp_path: Path) -> None:
    path = tmp_path / "no_such_file.csv"
    with pytest.raises(GeographyError, match=r"no_such_file\.csv: .*not found"):
        load_geography(path)


def test_directory_is_not_a_file(tmp_path: Path) -> None:
    with pytest.raises(GeographyError, match=re.escape(str(tmp_path))):
        load_geography(tmp_path)


def test_too_few_rows(tmp_path: Path) -> None:
    path = write_csv(builtin_frame().head(1), tmp_path / "one_row.csv")
    with pytest.raises(GeographyError, match=r"one_row\.csv: line 2, column 'kommunenummer'"):
        load_geography(path)


def test_empty_file(tmp_path: Path) -> None:
    path = tmp_path / "empty.csv"
    path.write_text("", encoding="utf-8")
    with pytest.raises(GeographyError, match=r"empty\.csv: file is empty"):
        load_geography(path)


def test_geography_error_is_value_error() -> None:
    assert issubclass(GeographyError, ValueError)


# --------------------------------------------------------------------------- hostile input

import os  # noqa: E402
import time  # noqa: E402

from simulation.inputs.geography_csv import (  # noqa: E402
    MAX_FILE_BYTES,
    MAX_MUNICIPALITIES,
    MAX_POPULATION,
    MAX_TOTAL_POPULATION,
)


def _refused(path: object, *expected: str) -> str:
    t0 = time.perf_counter()
    with pytest.raises(GeographyError) as info:
        load_geography(path)  # type: ignore[arg-type]
    assert time.perf_counter() - t0 < 2.0
    msg = str(info.value)
    assert str(path) in msg
    for text in expected:
        assert text in msg, (text, msg)
    assert len(msg) < 500  # never echoes the file's content
    return msg


def test_special_files(tmp_path: Path) -> None:
    _refused("/dev/zero", "not a regular file")
    fifo = tmp_path / "pipe.csv"
    os.mkfifo(fifo)
    _refused(fifo, "not a regular file")
    huge = tmp_path / "huge.csv"
    with open(huge, "wb") as fh:  # sparse: costs nothing
        fh.truncate(MAX_FILE_BYTES + 1)
    _refused(huge, f"at most {MAX_FILE_BYTES:,} bytes")
    binary = tmp_path / "binary.csv"
    binary.write_bytes(b"kommunenummer,name\x00\xff\xfe" * 100)
    _refused(binary, "binary")


@pytest.mark.parametrize(("value", "expected"), [
    ("9" * 19, "from 1 to 10,000,000"),  # beyond int64
    ("9" * 5000, "from 1 to 10,000,000"),  # beyond Python's int-from-text limit
    (str(MAX_POPULATION + 1), "'10000001'"),
])
def test_absurd_population(tmp_path: Path, value: str, expected: str) -> None:
    path = write_csv(_set(3, "population", value)(builtin_frame()), tmp_path / "pop.csv")
    _refused(path, "line 5, column 'population'", expected)


def test_total_population_cap(tmp_path: Path) -> None:
    df = builtin_frame()
    df["population"] = str(MAX_POPULATION)
    path = write_csv(df, tmp_path / "total.csv")
    _refused(path, "column 'population'", f"at most {MAX_TOTAL_POPULATION:,}")


def test_too_many_rows(tmp_path: Path) -> None:
    lines = [",".join(REQUIRED_COLUMNS)] + [
        f"{i:04d},M{i},C,R,1000,3,60.0,10.0," for i in range(MAX_MUNICIPALITIES + 5)]
    path = tmp_path / "many.csv"
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    _refused(path, f"more than {MAX_MUNICIPALITIES:,} municipalities")


@pytest.mark.parametrize(("col", "value"), [("lat", "nan"), ("lon", "inf"),
                                            ("area_km2", "1e300"), ("labour_market", "nan"),
                                            ("area_km2", "x" * 5000)])
def test_non_finite_and_huge_numbers(tmp_path: Path, col: str, value: str) -> None:
    path = write_csv(_set(6, col, value)(builtin_frame()), tmp_path / "nf.csv")
    msg = _refused(path, f"line 8, column '{col}'")
    assert "x" * 100 not in msg

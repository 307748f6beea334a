"""Tests for the vendored municipal data (inputs/municipal.py) and what geography takes from it."""

from __future__ import annotations

import csv
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from simulation.inputs import labour_market, service_access
from simulation.inputs.geography import DATA_COLUMNS, Geography
from simulation.inputs.geography_csv import BUILTIN_CSV, GeographyError, load_geography
from simulation.inputs.municipal import (
    CROSS_COUNTY,
    MUNICIPAL_DIR,
    OLD_COUNTIES,
    MunicipalData,
    load_municipal,
)

REPO = Path(__file__).resolve().parents[1]
CAMPUS_FILES = {"higher_education_campuses.csv", "higher_education_by_municipality.csv"}
NOT_VENDORED: set[str] = set()  # every shared table is vendored
ADDED = {"housing_prices.csv"}  # found for issue 13 (HOUSING.md), not in the shared data


@pytest.fixture(scope="module")
def data() -> MunicipalData:
    return load_municipal()


@pytest.fixture(scope="module")
def geo() -> Geography:
    return load_geography()


def raw(name: str) -> pd.DataFrame:
    return pd.read_csv(MUNICIPAL_DIR / name, dtype=str, keep_default_na=False)


def builtin_frame() -> pd.DataFrame:
    return pd.read_csv(BUILTIN_CSV, dtype=str, keep_default_na=False)


# --------------------------------------------------------------------------- vendored files


def _shared_dir() -> Path | None:
    """The project's shared data (../shared next to the checkout, or next to its parent for a
    worktree); None outside the project machine."""
    for base in (REPO.parent, REPO.parent.parent):
        d = base / "shared" / "data" / "municipal"
        if d.is_dir():
            return d
    return None


def test_vendored_files_match_shared() -> None:
    shared = _shared_dir()
    if shared is None:
        pytest.skip("no ../shared/data/municipal on this machine")
    names = {p.name for p in shared.iterdir() if p.suffix == ".csv"} - NOT_VENDORED
    assert names == {p.name for p in MUNICIPAL_DIR.glob("*.csv")} - ADDED
    for name in sorted(names - CAMPUS_FILES):  # campus files: verified versions will differ
        assert (MUNICIPAL_DIR / name).read_bytes() == (shared / name).read_bytes(), name
    sources = (MUNICIPAL_DIR / "SOURCES.md").read_text(encoding="utf-8")
    original = (shared / "SOURCES.md").read_text(encoding="utf-8")
    assert sources.endswith(original)  # copied whole, under a short header
    assert "attribution" in sources[: len(sources) - len(original)]


def test_shipped_as_package_data() -> None:
    text = (REPO / "pyproject.toml").read_text(encoding="utf-8")
    assert '"data/municipal/*.csv"' in text and '"data/municipal/*.md"' in text


# ------------------------------------------------------------------- figures from the raw tables


def test_service_counts_recomputed_from_raw_tables(data: MunicipalData) -> None:
    schools = raw("upper_secondary_schools_list_2022.csv")
    public = schools[schools["category"] == "public_upper_secondary"]
    from_register = public[public["record_source"] == "geonorge_nsr_2022"]
    assert from_register["kommunenummer"].nunique() == 190  # the Geonorge/NSR extract
    assert public["kommunenummer"].nunique() == 191  # + Kragerø, added by the compiler
    assert set(data.table.index[data.table["has_upper_secondary"]]) == set(
        public["kommunenummer"])

    sites = raw("health_sites_gisco_2020_classified.csv")
    general = sites[sites["site_type"].isin(
        ["general_somatic_hospital", "private_nonprofit_general_hospital"])]
    assert general["kommunenummer"].nunique() == 54
    assert set(data.table.index[data.table["has_hospital"]]) == set(general["kommunenummer"])

    campuses = raw("higher_education_campuses.csv")
    # the verified list (CAMPUS_VERIFICATION.md): 85 rows in 51 municipalities, each with its
    # stored source (the shared, partly unverified original had 78 rows in 50)
    assert len(campuses) == 85 and campuses["kommunenummer"].nunique() == 51
    assert not campuses["verification"].str.contains("NOT verified").any()
    assert set(data.table.index[data.table["has_higher_education"]]) == set(
        campuses["kommunenummer"])


def test_labour_figures(data: MunicipalData) -> None:
    lm = raw("labour_market.csv")
    counted = lm[lm["employed_residents_15_74"] != ""]  # Ålesund/Haram: rates only
    assert len(counted) == 355
    assert counted["employed_residents_15_74"].astype(np.int64).sum() == 2_782_512
    t = data.table
    assert len(t) == 357 and list(t.index) == sorted(t.index)
    assert t["employment_rate"].between(58.6, 76.4).all()
    assert t.loc["0301", "employment_rate"] == 71.6
    assert t["unemployment"].notna().all()
    assert t.loc["1151", "unemployment_year"] == 2017  # Utsira suppressed in 2018
    assert (t["unemployment_year"] == 2018).sum() == 356
    assert t["unemployment_2015"].notna().sum() == 316  # Trøndelag absent 2015-2016
    assert t["employment_imputed"].sum() == 2
    assert t.loc["1508", "employment_rate"] == t.loc["1580", "employment_rate"]


def test_refugee_figures_keep_gaps(data: MunicipalData) -> None:
    t = data.table
    ref = t["refugee_employment_2013"]
    assert ref.notna().sum() == 292 and ref.isna().sum() == 65
    assert t["refugee_rate_suppressed"].sum() == 55
    assert ref[t["refugee_rate_suppressed"]].isna().all()  # suppressed stays missing
    assert t.loc["0301", "refugee_employment_2013"] == 54.5
    assert t["refugees_2014"].sum() == 171_364
    assert t["refugees_2014"].dtype == np.int64
    assert (t["refugees_2014"] <= t["immigrants_2014"]).all()


def test_old_counties(data: MunicipalData) -> None:
    c = data.table["county_pre2020"]
    assert set(c) == set(OLD_COUNTIES.values()) and len(OLD_COUNTIES) == 19
    assert c["0301"] == "Oslo" and c["1580"] == "Møre og Romsdal"
    assert c["5001"] == "Sør-Trøndelag" and c["5006"] == "Nord-Trøndelag"
    assert c["4601"] == "Hordaland" and c["4602"] == "Sogn og Fjordane"  # Kinn: Flora
    assert c["3203"] == "Akershus" and c["3301"] == "Buskerud" and c["5512"] == "Troms"
    # the cross-county rule covers exactly the 2024 municipalities whose 2013 parts span two
    labour = raw("immigrant_labour_2013.csv").set_index("kommunenummer")
    spans = {k for k, v in labour["source_codes_2013"].items()
             if len({code[:2] for code in v.split()}) > 1}
    assert spans == set(CROSS_COUNTY)


def test_commuting_matrix(data: MunicipalData) -> None:
    codes = data.codes
    c = data.commuting_for(codes)
    assert c.shape == (357, 357) and c.dtype == np.float64
    assert np.allclose(c.sum(axis=1), 1.0) and (c >= 0).all()
    flows = raw("commuting_flows_2022.csv")
    assert flows["employed_persons_2022"].astype(np.int64).sum() == 2_809_789
    o = codes.index("0301")
    home = flows[flows["home_kommunenummer"] == "0301"]["employed_persons_2022"].astype(float)
    assert c[o, o] == pytest.approx(327_755 / home.sum())
    # the matrix's home share agrees with the published one; they differ only in the base
    # (all employed in the flow table, 2.81 M, vs employed aged 15-74, 2.78 M): < 2.5 points
    published = data.table["home_share"].to_numpy() / 100
    assert np.abs(np.diag(c) - published).max() < 0.025
    assert np.corrcoef(np.diag(c), published)[0, 1] > 0.99
    # Haram: the pre-split 1507 row, its internal share on Haram's own diagonal
    a, h = codes.index("1508"), codes.index("1580")
    assert c[h, h] == c[a, a] and c[h, a] == 0.0 and c[:, h].sum() == c[h, h]
    assert data.table.loc["1580", "commuting_area_jobs"] == data.table.loc[
        "1508", "commuting_area_jobs"]


def test_commuting_subset_and_unknown(data: MunicipalData) -> None:
    c = data.commuting_for(["0301", "3201", "9999"])
    assert np.allclose(c.sum(axis=1), 1.0)
    assert c[2].tolist() == [0.0, 0.0, 1.0]  # unknown: everyone works at home
    assert c[1, 0] > 0.3  # Bærum -> Oslo


def test_loaded_once(data: MunicipalData) -> None:
    assert load_municipal() is data
    with pytest.raises(ValueError):
        data.flows[0, 0] = 1.0


# --------------------------------------------------------------------------- labour market


def test_labour_market_composite(geo: Geography, data: MunicipalData) -> None:
    lm = pd.Series(geo.labour_market, index=list(geo.codes))
    rank = lm.rank(pct=True)
    for city in ("0301", "4601", "5001", "1103"):  # Oslo, Bergen, Trondheim, Stavanger
        assert rank[city] >= 0.85, city
    for weak in ("5634", "5616", "5626"):  # Vardø, Hasvik, Gamvik
        assert rank[weak] <= 0.05, weak
    # monotone in each part
    bounds = {"employment_rate": (60.0, 74.0), "unemployment": (1.0, 3.0),
              "log_area_jobs": (4.0, 5.0)}
    base = labour_market.composite(np.array([67.0]), np.array([2.0]), np.array([3e4]), bounds)
    up = labour_market.composite(np.array([70.0]), np.array([2.0]), np.array([3e4]), bounds)
    low = labour_market.composite(np.array([67.0]), np.array([2.5]), np.array([3e4]), bounds)
    deep = labour_market.composite(np.array([67.0]), np.array([2.0]), np.array([9e4]), bounds)
    assert up > base and low < base and deep > base
    assert sum(labour_market.WEIGHTS.values()) == pytest.approx(1.0)


# --------------------------------------------------------------------------- service access


def test_haram_reaches_alesund_school(geo: Geography) -> None:
    h, a = geo.index_of("1580"), geo.index_of("1508")
    reach = service_access.reach("upper_secondary", geo.has_upper_secondary, geo.commuting,
                                 geo.distance_km)
    assert reach[h, a]
    assert geo.upper_secondary[h] and geo.hospital[h] and geo.higher_education[h]
    assert not geo.has_hospital[h] and geo.has_hospital[a]  # Ålesund's hospital counts for Haram


def test_utsira_has_no_own_service(geo: Geography) -> None:
    u = geo.index_of("1151")
    assert not geo.has_upper_secondary[u]
    assert not geo.has_hospital[u]
    assert not geo.has_higher_education[u]
    assert not geo.upper_secondary[u]  # 22 km of sea from Karmøy: beyond a daily school trip


def test_access_rule_by_hand(geo: Geography) -> None:
    """Recompute access from the stated rule with plain loops over a sample of rows."""
    for service in ("upper_secondary", "hospital", "higher_education"):
        has = getattr(geo, f"has_{service}")
        got = getattr(geo, service)
        for i in range(0, geo.n, 17):
            expect = any(
                has[j] and (i == j or geo.commuting[i, j] >= service_access.MIN_COMMUTING_SHARE
                            or geo.distance_km[i, j] <= service_access.MAX_KM[service])
                for j in range(geo.n))
            assert got[i] == expect, (service, geo.codes[i])


# --------------------------------------------------------------------------- user CSVs


def test_unknown_codes_fall_back_to_proxies(tmp_path: Path, geo: Geography) -> None:
    df = builtin_frame()
    keep = df[df["kommunenummer"].isin(["0301", "3201", "1151", "4601"])].copy()
    fake = keep.iloc[[0]].copy()
    fake[["kommunenummer", "name", "population", "centrality"]] = ["9001", "Ny", "50000", "2"]
    fake2 = keep.iloc[[0]].copy()
    fake2[["kommunenummer", "name", "population", "centrality", "lat"]] = [
        "9002", "Liten", "900", "6", "65.0"]
    path = tmp_path / "mixed.csv"
    pd.concat([keep, fake, fake2]).to_csv(path, index=False)
    user = load_geography(path)
    known = [user.index_of(c) for c in ("0301", "3201", "1151", "4601")]
    assert user.from_data[known].all() and not user.from_data[user.index_of("9001")]
    for i, code in zip(known, ("0301", "3201", "1151", "4601"), strict=True):
        j = geo.index_of(code)
        assert user.labour_market[i] == geo.labour_market[j]  # fixed national bounds
        assert user.employment_rate[i] == geo.employment_rate[j]
        assert user.has_hospital[i] == geo.has_hospital[j]
        assert user.county_pre2020[i] == geo.county_pre2020[j]
    f, s = user.index_of("9001"), user.index_of("9002")
    # the proxies (first version): population >= 20,000 / 40,000, >= 4,000 or centrality <= 3
    assert user.hospital[f] and user.higher_education[f] and user.upper_secondary[f]
    assert not (user.hospital[s] or user.higher_education[s] or user.upper_secondary[s])
    assert user.has_hospital[f] and not user.has_hospital[s]
    expected = np.clip(0.6 * (np.log10(50000) - 2.3) / (np.log10(717710) - 2.3)
                       + 0.4 * 4 / 5, 0, 1)
    assert user.labour_market[f] == pytest.approx(expected)
    assert np.isnan(user.employment_rate[f]) and np.isnan(user.unemployment[f])
    assert user.county_pre2020[f] == "Oslo"  # the row's own county
    assert user.commuting[f].tolist() == [0.0] * f + [1.0] + [0.0] * (user.n - f - 1)
    assert np.allclose(user.commuting.sum(axis=1), 1.0)


def test_overrides_win(tmp_path: Path, geo: Geography) -> None:
    df = builtin_frame()
    for col in (*DATA_COLUMNS, "labour_market", "hospital"):
        df[col] = ""
    oslo = df.index[df["kommunenummer"] == "0301"][0]
    utsira = df.index[df["kommunenummer"] == "1151"][0]
    vardo = df.index[df["kommunenummer"] == "5634"][0]
    df.loc[oslo, "has_hospital"] = "no"
    df.loc[oslo, "hospital"] = "yes"  # access override beats the own flag
    df.loc[utsira, "has_upper_secondary"] = "yes"
    df.loc[utsira, "county_pre2020"] = "Hordaland"
    df.loc[vardo, "employment_rate"] = "80"
    df.loc[vardo, "unemployment"] = "0.5"
    df.loc[vardo, "jobs_per_resident"] = "1.25"
    df.to_csv(tmp_path / "o.csv", index=False)
    user = load_geography(tmp_path / "o.csv")
    o, u, v = (user.index_of(c) for c in ("0301", "1151", "5634"))
    assert not user.has_hospital[o] and user.hospital[o]
    assert user.has_upper_secondary[u] and user.upper_secondary[u]
    assert user.county_pre2020[u] == "Hordaland"
    assert user.employment_rate[v] == 80.0 and user.jobs_per_resident[v] == 1.25
    assert user.labour_market[v] > geo.labour_market[geo.index_of("5634")]  # feeds the composite
    df.loc[vardo, "labour_market"] = "0.02"
    df.to_csv(tmp_path / "o2.csv", index=False)
    assert load_geography(tmp_path / "o2.csv").labour_market[v] == 0.02  # and that wins


@pytest.mark.parametrize(("col", "value", "allowed"), [
    ("has_hospital", "maybe", "true/false"),
    ("has_upper_secondary", "2", "true/false"),
    ("employment_rate", "101", "0..100"),
    ("unemployment", "-1", "0..100"),
    ("jobs_per_resident", "x", "0..10"),
    ("jobs_per_resident", "inf", "0..10"),
])
def test_bad_data_columns(tmp_path: Path, col: str, value: str, allowed: str) -> None:
    df = builtin_frame()
    df[col] = ""
    df.loc[12, col] = value
    path = tmp_path / "bad_data.csv"
    df.to_csv(path, index=False, quoting=csv.QUOTE_MINIMAL)
    with pytest.raises(GeographyError) as info:
        load_geography(path)
    msg = str(info.value)
    assert str(path) in msg and "line 14," in msg and f"'{col}'" in msg and allowed in msg


def test_duplicate_data_column(tmp_path: Path) -> None:
    lines = BUILTIN_CSV.read_text(encoding="utf-8").splitlines()
    lines = [lines[0] + ",unemployment,unemployment"] + [x + ",," for x in lines[1:]]
    path = tmp_path / "dup.csv"
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    with pytest.raises(GeographyError, match=r"line 1, column 'unemployment'"):
        load_geography(path)


def test_region_and_raw_arrays_read_only(geo: Geography) -> None:
    assert geo.region[geo.index_of("0301")] == "Oslo og Viken"
    assert geo.county_pre2020.dtype.kind == "U"
    for arr in (geo.employment_rate, geo.unemployment, geo.jobs_per_resident, geo.commuting,
                geo.has_hospital, geo.county_pre2020, geo.region):
        with pytest.raises(ValueError):
            arr[0] = arr[1]


# --------------------------------------------------------------------------- a broken data file


@pytest.mark.parametrize(("file", "col", "row", "value", "what"), [
    ("labour_market.csv", "employment_rate_15_74_pct", 4, "abc", "not a number"),
    ("hospitals_by_municipality.csv", "has_general_hospital", 9, "Ja", "not True/False"),
    ("upper_secondary_by_municipality.csv", "has_public_upper_secondary", 2, "False",
     "disagrees with the count"),  # row 2 (Stavanger) has public schools
])
def test_broken_vendored_file_is_named(tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
                                       file: str, col: str, row: int, value: str,
                                       what: str) -> None:
    from simulation.inputs import municipal

    for p in MUNICIPAL_DIR.glob("*.csv"):
        (tmp_path / p.name).write_bytes(p.read_bytes())
    df = raw(file)
    df.loc[row, col] = value
    df.to_csv(tmp_path / file, index=False)
    monkeypatch.setattr(municipal, "MUNICIPAL_DIR", tmp_path)
    municipal._expected_codes.cache_clear()
    try:
        with pytest.raises(municipal.MunicipalDataError) as info:
            municipal.load_municipal.__wrapped__()  # uncached: the shared copy stays
    finally:
        municipal._expected_codes.cache_clear()
    msg = str(info.value)
    assert str(tmp_path / file) in msg and f"line {row + 2}," in msg and f"'{col}'" in msg
    assert what in msg


def test_campus_table_is_rebuilt_from_the_verified_list(tmp_path: Path) -> None:
    """The by-municipality campus table is what the verification's script makes of the list."""
    import runpy

    script = MUNICIPAL_DIR / "scripts" / "rebuild_campuses.py"
    rebuild = runpy.run_path(str(script))["rebuild"]
    out = tmp_path / "by_municipality.csv"
    assert rebuild(MUNICIPAL_DIR / "higher_education_campuses.csv", out) == 51
    assert out.read_bytes() == (MUNICIPAL_DIR / "higher_education_by_municipality.csv").read_bytes()


def test_housing_prices_are_rebuilt_from_the_transcription(tmp_path: Path) -> None:
    """housing_prices.csv is what the extraction script makes of the transcribed SSB figures,
    and its means are the means of the yearly enebolig prices."""
    import runpy

    main = runpy.run_path(str(MUNICIPAL_DIR / "scripts" / "extract_housing.py"))["main"]
    out = tmp_path / "housing.csv"
    main(out)
    assert out.read_bytes() == (MUNICIPAL_DIR / "housing_prices.csv").read_bytes()
    t = raw("housing_prices.csv")
    years = [f"enebolig_{y}" for y in range(2020, 2025)]
    values = t[years].replace("", np.nan).astype(np.float64)
    has = values.notna().any(axis=1)
    assert int(has.sum()) == 292
    mean = values[has].mean(axis=1).round()
    assert (mean == t.loc[has, "enebolig_mean_2020_2024"].astype(np.float64)).all()


def test_housing_fill_for_suppressed_prices(data: MunicipalData) -> None:
    from simulation.inputs.geography_csv import load_geography
    from simulation.inputs.housing import fill

    geo = load_geography()
    t = geo.table
    filled = t["housing_price_filled"].to_numpy(dtype=bool)
    assert int(filled.sum()) == 65
    known = data.table["housing_price"].reindex(t["code"]).to_numpy()
    assert np.array_equal(geo.housing_price[~filled], known[~filled])
    # the suppressed places are small: the fill puts them below the median of the known prices
    assert np.median(geo.housing_price[filled]) < np.median(known[~filled])
    # the fit recovers held-out prices within its residual spread (log sd ~0.17)
    rng = np.random.default_rng(0)
    held = rng.choice(np.flatnonzero(~filled), 40, replace=False)
    trial = known.copy()
    trial[held] = np.nan
    guess, was_filled, sd = fill(trial, geo.population, geo.centrality,
                                 np.array(t["region"].tolist(), dtype=object))
    assert was_filled[held].all() and 0.1 < sd < 0.3
    err = np.log(guess[held] / known[held])
    assert abs(err.mean()) < 3 * sd / np.sqrt(len(held)) + 0.05 and err.std() < 2 * sd

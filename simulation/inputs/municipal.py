"""The vendored municipal tables (labour market, services, refugees, commuting), read once.

Why: the geography's labour market and services used to be proxies of size and centrality,
wrong for 50-70 municipalities per service. The real figures live in
``simulation/data/municipal/`` (SSB, NAV, Udir/Geonorge, Helsenorge via Eurostat GISCO, IMDi;
sources, method and flags in ``simulation/data/municipal/SOURCES.md``, copied whole from the
project's shared data). This module reads and checks those tables once (cached) and hands out
per-municipality attributes aligned to any list of 2024 codes; it knows nothing of the model.

What it provides (one row per 2024 municipality, 357 rows):

* ``employment_rate`` -- employed residents 15-74 / residents 15-74, % (SSB 2022).
  Ålesund 1508 and Haram 1580 carry the pre-split 1507 rate (``employment_imputed``).
* ``jobs_per_100`` -- jobs located in the municipality per 100 residents 15-74 (SSB 2022).
* ``home_share`` -- % of employed residents working in their home municipality (SSB 2022).
* ``unemployment_2015`` .. ``unemployment_2018`` -- registered unemployment, % of the labour
  force, November (NAV); 2015-2017 are missing for Trøndelag. ``unemployment`` is 2018, or,
  where 2018 is suppressed (Utsira only), the latest earlier year (``unemployment_year`` says
  which).
* ``has_upper_secondary`` (a public upper-secondary school, Udir/NSR 2022),
  ``has_hospital`` (a general hospital site, Helsenorge 2020), ``has_higher_education`` (any
  higher-education campus; the campus list is partly unverified, see SOURCES.md).
* ``refugee_employment_2013`` -- employment rate of immigrants with flight as reason, 2013, %
  (IMDi; ages about 20-66). NaN where the source suppressed it (``refugee_rate_suppressed``)
  or left it empty; never filled in.
* ``refugees_2014`` / ``immigrants_2014`` -- immigrants resident 1.1.2014 with flight as
  reason / with any known reason (IMDi/SSB).
* ``county_pre2020`` -- the county before the 2018-2020 reforms (see :func:`_county_pre2020`).
* ``commuting_area_jobs`` -- jobs at the places where the residents work, weighted by where
  they work: ``sum_j share[i, j] * jobs[j]`` (jobs = employed persons by place of work, the
  column sums of the 2022 commuting table). A measure of the depth of the labour market a
  resident can reach daily.
* ``housing_price`` -- mean price per m2 of detached houses (enebolig) sold 2020-2024, NOK
  (SSB table 06035; ``housing_prices.csv``, sources in ``HOUSING.md``). NaN for the 65 small
  municipalities where SSB suppresses the price (too few sales); housing.py fills those.
* the commuting matrix (:meth:`MunicipalData.commuting_for`): share of employed residents of
  i working in j, rows sum to 1.

Ålesund/Haram in the commuting table: SSB's 2022 flows are for pre-split 1507 Ålesund (incl.
Haram) and are stored under 1508 (``includes_haram_1580``). They cannot be split, so (ASSUMPTION)
Haram's row is a copy of the 1507 row, with the 1507-internal share put on Haram's own
diagonal (as the imputed ``home_share`` of both says: 84 % work "at home"); no flow is written
into Haram's column, so jobs in Haram count as Ålesund's for other municipalities' commuters.
Both get the ``commuting_area_jobs`` of the pre-split area. Haram's link to Ålesund's services
comes from distance (service_access.py), not from this matrix.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path

import numpy as np
import pandas as pd

__all__ = [
    "CROSS_COUNTY",
    "MUNICIPAL_DIR",
    "OLD_COUNTIES",
    "MunicipalData",
    "MunicipalDataError",
    "load_municipal",
]

MUNICIPAL_DIR: Path = Path(__file__).resolve().parents[1] / "data" / "municipal"
N_MUNICIPALITIES = 357

OLD_COUNTIES: dict[str, str] = {
    "01": "Østfold", "02": "Akershus", "03": "Oslo", "04": "Hedmark", "05": "Oppland",
    "06": "Buskerud", "07": "Vestfold", "08": "Telemark", "09": "Aust-Agder",
    "10": "Vest-Agder", "11": "Rogaland", "12": "Hordaland", "14": "Sogn og Fjordane",
    "15": "Møre og Romsdal", "16": "Sør-Trøndelag", "17": "Nord-Trøndelag", "18": "Nordland",
    "19": "Troms", "20": "Finnmark",
}
# 2024 municipalities whose 2013 parts lay in two old counties: the county of the part with
# most residents (all margins are large; SSB population 1.1.2017, rounded). A test checks that
# exactly these seven span counties, so a change in the mapping cannot slip through.
CROSS_COUNTY: dict[str, tuple[str, str]] = {
    "1577": ("15", "Volda (~9,000) + Hornindal (14, ~1,200)"),
    "3203": ("02", "Asker (~61,000) + Røyken and Hurum (06, ~32,000)"),
    "3226": ("02", "Aurskog-Høland (~16,000) + Rømskog (01, ~700)"),
    "3301": ("06", "Drammen and Nedre Eiker (~93,000) + Svelvik (07, ~6,700)"),
    "5054": ("16", "Rissa (~6,600) + Leksvik (17, ~3,500)"),
    "5055": ("16", "Hemne (~4,200) + Halsa (15, ~1,600)"),
    "5512": ("19", "Skånland (~3,000) + Tjeldsund (18, ~1,200)"),
}
_ALESUND, _HARAM = "1508", "1580"


class MunicipalDataError(ValueError):
    """A vendored municipal table fails a check; names the file, line and column."""


def _fail(file: str, line: int, column: str, what: str) -> MunicipalDataError:
    return MunicipalDataError(f"{MUNICIPAL_DIR / file}: line {line}, column '{column}': {what}")


@lru_cache(maxsize=1)
def _expected_codes() -> frozenset[str]:
    """The 357 codes of labour_market.csv, which every other table must repeat."""
    df = pd.read_csv(MUNICIPAL_DIR / "labour_market.csv", dtype=str, keep_default_na=False)
    return frozenset(c for c in df["kommunenummer"] if len(c) == 4 and c.isdigit())


def _read(file: str, columns: Sequence[str]) -> pd.DataFrame:
    """A table as strings (codes keep leading zeros), indexed by code, exactly 357 codes."""
    df = pd.read_csv(MUNICIPAL_DIR / file, dtype=str, keep_default_na=False, encoding="utf-8")
    missing = [c for c in ("kommunenummer", *columns) if c not in df.columns]
    if missing:
        raise _fail(file, 1, ", ".join(missing), "missing column")
    dup = df["kommunenummer"].duplicated()
    if dup.any():
        raise _fail(file, int(np.argmax(dup)) + 2, "kommunenummer", "duplicate code")
    if len(df) != N_MUNICIPALITIES:
        raise _fail(file, len(df) + 1, "kommunenummer",
                    f"{len(df)} rows, expected {N_MUNICIPALITIES}")
    other = ~df["kommunenummer"].isin(_expected_codes())
    if other.any():
        raise _fail(file, int(np.argmax(other)) + 2, "kommunenummer",
                    "code not in labour_market.csv (every table has the same 357 codes)")
    df["_line"] = np.arange(2, len(df) + 2)
    return df.set_index("kommunenummer")


def _floats(df: pd.DataFrame, file: str, col: str, lo: float, hi: float,
            empty_ok: bool) -> pd.Series:
    out = pd.to_numeric(df[col].where(df[col] != ""), errors="coerce").astype(np.float64)
    bad = (df[col] != "") & ~out.between(lo, hi)
    if not empty_ok:
        bad |= df[col] == ""
    if bad.any():
        row = df[bad].iloc[0]
        raise _fail(file, int(row["_line"]), col,
                    f"{row[col]!r} is not a number in {lo}..{hi}")
    return out


def _flags(df: pd.DataFrame, file: str, col: str) -> pd.Series:
    bad = ~df[col].isin(["True", "False"])
    if bad.any():
        row = df[bad].iloc[0]
        raise _fail(file, int(row["_line"]), col, f"{row[col]!r} is not True/False")
    return df[col] == "True"


def _agree(flag: pd.Series, count: pd.Series, df: pd.DataFrame, file: str, col: str) -> None:
    """A has_* flag must say what its count says (the flag is derived from the count)."""
    bad = flag != (count > 0)
    if bad.any():
        raise _fail(file, int(df[bad].iloc[0]["_line"]), col, "flag disagrees with the count")


# --------------------------------------------------------------------------- the tables


def _housing(out: pd.DataFrame) -> None:
    f = "housing_prices.csv"
    t = _read(f, ["enebolig_mean_2020_2024"])
    out["housing_price"] = _floats(t, f, "enebolig_mean_2020_2024", 1_000, 200_000, True)


def _labour(out: pd.DataFrame) -> None:
    f = "labour_market.csv"
    t = _read(f, ["employment_rate_15_74_pct", "jobs_per_100_residents_15_74",
                  "share_employed_residents_working_in_home_muni_pct", "imputed",
                  *(f"reg_unemployed_pct_nov{y}" for y in range(2015, 2019))])
    out["employment_rate"] = _floats(t, f, "employment_rate_15_74_pct", 40, 90, False)
    out["jobs_per_100"] = _floats(t, f, "jobs_per_100_residents_15_74", 1, 400, False)
    out["home_share"] = _floats(
        t, f, "share_employed_residents_working_in_home_muni_pct", 0, 100, False)
    out["employment_imputed"] = _flags(t, f, "imputed")
    if set(out.index[out["employment_imputed"]]) != {_ALESUND, _HARAM}:
        raise _fail(f, 1, "imputed", "expected exactly 1508 Ålesund and 1580 Haram imputed")
    years = range(2015, 2019)
    for y in years:
        out[f"unemployment_{y}"] = _floats(t, f, f"reg_unemployed_pct_nov{y}", 0, 30, True)
    latest = pd.Series(np.nan, index=out.index)
    year = pd.Series(0, index=out.index, dtype=np.int64)
    for y in years:  # the latest year with a figure wins
        has = out[f"unemployment_{y}"].notna()
        latest[has] = out.loc[has, f"unemployment_{y}"]
        year[has] = y
    if latest.isna().any():
        raise _fail(f, int(t.loc[latest.isna()].iloc[0]["_line"]), "reg_unemployed_pct_nov2018",
                    "no registered unemployment in any year 2015-2018")
    out["unemployment"] = latest
    out["unemployment_year"] = year


def _services(out: pd.DataFrame) -> None:
    f = "upper_secondary_by_municipality.csv"
    t = _read(f, ["n_public_upper_secondary", "has_public_upper_secondary"])
    n = _floats(t, f, "n_public_upper_secondary", 0, 100, False)
    out["has_upper_secondary"] = _flags(t, f, "has_public_upper_secondary")
    _agree(out["has_upper_secondary"], n, t, f, "has_public_upper_secondary")
    f = "hospitals_by_municipality.csv"
    t = _read(f, ["n_general_hospital_sites", "has_general_hospital"])
    n = _floats(t, f, "n_general_hospital_sites", 0, 100, False)
    out["has_hospital"] = _flags(t, f, "has_general_hospital")
    _agree(out["has_hospital"], n, t, f, "has_general_hospital")
    f = "higher_education_by_municipality.csv"
    t = _read(f, ["n_state_institution_campuses", "n_private_institution_campuses",
                  "has_any_higher_education_campus"])
    n = (_floats(t, f, "n_state_institution_campuses", 0, 100, False)
         + _floats(t, f, "n_private_institution_campuses", 0, 100, False))
    out["has_higher_education"] = _flags(t, f, "has_any_higher_education_campus")
    _agree(out["has_higher_education"], n, t, f, "has_any_higher_education_campus")


def _refugees(out: pd.DataFrame) -> pd.Series:
    """Refugee employment 2013 and immigrants by reason 2014; returns the 2013 source codes."""
    f = "immigrant_labour_2013.csv"
    col = "employment_rate_refugee_immigrants_2013_pct"
    t = _read(f, [col, "refugee_rate_suppressed_in_source", "source_codes_2013"])
    out["refugee_employment_2013"] = _floats(t, f, col, 0, 100, True)
    out["refugee_rate_suppressed"] = _flags(t, f, "refugee_rate_suppressed_in_source")
    bad = out["refugee_rate_suppressed"] & out["refugee_employment_2013"].notna()
    if bad.any():
        raise _fail(f, int(t[bad].iloc[0]["_line"]), col, "a rate where the flag says suppressed")
    f = "refugee_background_population_2014.csv"
    t2 = _read(f, ["immigrants_total_2014", "immigrants_reason_refugee_2014"])
    for name, c in (("immigrants_2014", "immigrants_total_2014"),
                    ("refugees_2014", "immigrants_reason_refugee_2014")):
        out[name] = _floats(t2, f, c, 0, 1e6, False).astype(np.int64)
    if (out["refugees_2014"] > out["immigrants_2014"]).any():
        raise _fail(f, 1, "immigrants_reason_refugee_2014", "more refugees than immigrants")
    return t["source_codes_2013"].str.split()


def _county_pre2020(out: pd.DataFrame, codes_2013: pd.Series) -> None:
    """The old county of each 2024 municipality.

    Rule: the municipality codes in force in 2013 that make up the 2024 municipality (IMDi's
    2013 table lists them; they are checked against SSB's code mapping) give the old county by
    their first two digits. Where they span two counties (seven cases), the county of the
    part with most residents is taken (:data:`CROSS_COUNTY`). Haram (old 1534) and Ålesund
    are both Møre og Romsdal.
    """
    f = "code_mapping_old_to_2024.csv"
    m = pd.read_csv(MUNICIPAL_DIR / f, dtype=str, keep_default_na=False)
    target = dict(zip(m["old_code"], m["kommunenummer_2024"], strict=True))
    counties: dict[str, str] = {}
    spans: set[str] = set()
    for code, olds in codes_2013.items():
        line = int(out.index.get_loc(code)) + 2
        if not olds:
            raise _fail("immigrant_labour_2013.csv", line, "source_codes_2013", "empty")
        for old in olds:
            if target.get(old) != code or old[:2] not in OLD_COUNTIES:
                raise _fail("immigrant_labour_2013.csv", line, "source_codes_2013",
                            f"old code {old} does not map to {code} in {f}")
        prefixes = {old[:2] for old in olds}
        if len(prefixes) > 1:
            spans.add(str(code))
            if code not in CROSS_COUNTY or CROSS_COUNTY[code][0] not in prefixes:
                raise _fail("immigrant_labour_2013.csv", line, "source_codes_2013",
                            f"spans old counties {sorted(prefixes)}; no rule in CROSS_COUNTY")
            counties[code] = OLD_COUNTIES[CROSS_COUNTY[code][0]]
        else:
            counties[code] = OLD_COUNTIES[prefixes.pop()]
    if spans != set(CROSS_COUNTY):
        raise _fail(f, 1, "old_code", f"cross-county municipalities changed: {sorted(spans)}")
    out["county_pre2020"] = pd.Series(counties)
    if out["county_pre2020"].nunique() != len(OLD_COUNTIES):
        raise _fail(f, 1, "old_code", "not all 19 old counties are present")


def _flows(codes: list[str]) -> np.ndarray:
    """Employed persons 2022 by (home, work) as an n x n float64 matrix, Haram's row built."""
    f = "commuting_flows_2022.csv"
    t = pd.read_csv(MUNICIPAL_DIR / f, dtype=str, keep_default_na=False)
    idx = {c: i for i, c in enumerate(codes)}
    for col in ("home_kommunenummer", "work_kommunenummer"):
        unknown = ~t[col].isin(idx)
        if unknown.any():
            raise _fail(f, int(np.argmax(unknown)) + 2, col, "unknown municipality code")
    count = pd.to_numeric(t["employed_persons_2022"], errors="coerce")
    if not (count > 0).all() or (count % 1 != 0).any():
        raise _fail(f, int(np.argmax(~(count > 0))) + 2, "employed_persons_2022",
                    "flows must be positive whole numbers")
    if t.duplicated(["home_kommunenummer", "work_kommunenummer"]).any():
        raise _fail(f, 1, "home_kommunenummer", "a (home, work) pair appears twice")
    haram = (t["includes_haram_1580"] == "True")
    if not ((t.loc[haram, "home_kommunenummer"] == _ALESUND)
            | (t.loc[haram, "work_kommunenummer"] == _ALESUND)).all():
        raise _fail(f, 1, "includes_haram_1580", "flag set on a flow without 1508")
    n = len(codes)
    flows = np.zeros((n, n), dtype=np.float64)
    np.add.at(flows, (t["home_kommunenummer"].map(idx).to_numpy(),
                      t["work_kommunenummer"].map(idx).to_numpy()),
              count.to_numpy(dtype=np.float64))
    a, h = idx[_ALESUND], idx[_HARAM]
    if flows[h].sum() or flows[:, h].sum():
        raise _fail(f, 1, "home_kommunenummer", "unexpected flows for 1580 Haram")
    flows[h] = flows[a]  # ASSUMPTION: the pre-split 1507 pattern (see module docstring)
    flows[h, h], flows[h, a] = flows[a, a], 0.0
    if np.any(flows.sum(axis=1) <= 0) or np.any(np.diag(flows) <= 0):
        raise _fail(f, 1, "home_kommunenummer", "a municipality without residents at work")
    return flows


# --------------------------------------------------------------------------- the data


@dataclass(frozen=True, eq=False)
class MunicipalData:
    """The checked municipal attributes (``table``, indexed by 2024 code, sorted) and the
    commuting flows (``flows[i, j]`` = employed residents of i working in j, 2022)."""

    table: pd.DataFrame
    flows: np.ndarray

    @property
    def codes(self) -> list[str]:
        return list(self.table.index)

    def align(self, codes: Sequence[str]) -> pd.DataFrame:
        """The attributes in the order of ``codes``; rows for codes not in the data are
        missing (NaN / None), and ``known`` says which rows came from the data."""
        out = self.table.reindex(list(codes))
        out["known"] = np.array([c in self.table.index for c in codes], dtype=bool)
        return out.reset_index(drop=True)

    def commuting_for(self, codes: Sequence[str]) -> np.ndarray:
        """Share of employed residents of ``codes[i]`` working in ``codes[j]`` (float64, rows
        sum to 1). Only flows between the listed municipalities count (each row is
        renormalised over them); a code not in the data keeps all its workers at home."""
        pos = self.table.index.get_indexer(list(codes))
        known = pos >= 0
        n = len(codes)
        f = np.zeros((n, n), dtype=np.float64)
        k = np.flatnonzero(known)
        f[np.ix_(k, k)] = self.flows[np.ix_(pos[k], pos[k])]
        f[~known, ~known] = 1.0  # the diagonal of unknown rows
        return f / f.sum(axis=1, keepdims=True)


@lru_cache(maxsize=1)
def load_municipal() -> MunicipalData:
    """Read and check the vendored tables once; raises :class:`MunicipalDataError`."""
    t = _read("labour_market.csv", [])
    out = pd.DataFrame(index=pd.Index(sorted(t.index), name="code"))
    _labour(out)
    _services(out)
    codes_2013 = _refugees(out)
    _county_pre2020(out, codes_2013)
    _housing(out)
    flows = _flows(list(out.index))
    share = flows / flows.sum(axis=1, keepdims=True)
    jobs = flows.sum(axis=0)  # employed persons by place of work
    area = share @ jobs
    a, h = out.index.get_loc(_ALESUND), out.index.get_loc(_HARAM)
    area[h] = area[a]  # the pre-split area for both (Haram's jobs sit in Ålesund's column)
    out["commuting_area_jobs"] = area
    flows.flags.writeable = False
    return MunicipalData(table=out, flows=flows)

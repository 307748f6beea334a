"""Recompute higher_education_by_municipality.csv from higher_education_campuses.csv.

Same columns and rules as the shared original (section 4 of SOURCES.md):
one row per 2024 municipality, in the order of municipalities_no.csv;
n_state_institution_campuses = campus rows whose type is not "private";
n_private_institution_campuses = campus rows whose type is "private";
has_state_university_campus = any row of type "state university" (not university
colleges, not specialised universities); has_any_higher_education_campus = any row;
institutions = distinct institution names, sorted by code point, joined with "; ";
all_entries_verified_in_stored_source = empty without rows, else False if any row's
verification says "NOT verified" or "not found in stored sources".

Usage (from the repository root):
    python3 simulation/data/municipal/scripts/rebuild_campuses.py [campuses.csv] [out.csv]

Written by the campus verification of issue 13 (see ../CAMPUS_VERIFICATION.md); a test checks
that the shipped by-municipality table is what this script makes from the shipped list.
"""
import csv
import sys
from collections import defaultdict
from pathlib import Path

HERE = Path(__file__).resolve().parents[1]  # simulation/data/municipal
MUNI = HERE.parent / "municipalities_no.csv"
UNVERIFIED = ("NOT verified", "not found in stored sources")
COLUMNS = ["kommunenummer", "name", "n_state_institution_campuses",
           "n_private_institution_campuses", "has_state_university_campus",
           "has_any_higher_education_campus", "institutions",
           "all_entries_verified_in_stored_source"]


def rebuild(campuses: Path, out: Path) -> int:
    """Write the by-municipality table; return the number of municipalities with a campus."""
    with MUNI.open(encoding="utf-8", newline="") as f:
        munis = [(r["kommunenummer"], r["name"]) for r in csv.DictReader(f)]
    known = {code for code, _ in munis}
    rows = defaultdict(list)
    with campuses.open(encoding="utf-8", newline="") as f:
        for line, r in enumerate(csv.DictReader(f), start=2):
            if r["kommunenummer"] not in known:
                raise ValueError(f"{campuses}, line {line}: kommunenummer "
                                 f"{r['kommunenummer']!r} is not a 2024 code")
            rows[r["kommunenummer"]].append(r)
    n_any = 0
    with out.open("w", encoding="utf-8", newline="") as f:
        w = csv.writer(f, lineterminator="\n")
        w.writerow(COLUMNS)
        for code, name in munis:
            here = rows.get(code, [])
            n_private = sum(r["institution_type"] == "private" for r in here)
            n_state = len(here) - n_private
            uni = any(r["institution_type"] == "state university" for r in here)
            insts = "; ".join(sorted({r["institution"] for r in here}))
            verified = ""
            if here:
                n_any += 1
                verified = str(all(not any(u in r["verification"] for u in UNVERIFIED)
                                   for r in here))
            w.writerow([code, name, n_state, n_private, uni, bool(here), insts, verified])
    return n_any


if __name__ == "__main__":
    src = Path(sys.argv[1]) if len(sys.argv) > 1 else HERE / "higher_education_campuses.csv"
    dst = Path(sys.argv[2]) if len(sys.argv) > 2 else HERE / "higher_education_by_municipality.csv"
    print(f"{rebuild(src, dst)} municipalities with a campus -> {dst}")

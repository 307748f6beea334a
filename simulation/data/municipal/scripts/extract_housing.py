"""Write housing_prices.csv from kommuner_prices.json (beside this script).

Usage (from the repository root): python3 simulation/data/municipal/scripts/extract_housing.py
[out.csv]. Written by the housing search of issue 13 (see ../HOUSING.md); a test checks that
the shipped housing_prices.csv is what it makes.

kommuner_prices.json holds the square-metre prices (enebolig/småhus/blokk) transcribed
from the stored file VirtualAiCorp/NMBU-sammenligning:kilde/public/bolig/bolig.json (commit
0ddee600fae708df159a7fd8228ae0cfe79478ca), which its script build from SSB table 06035 (freeholder
dwellings sold in free sale, average NOK per m2, by municipality (2024 codes) and type of building).
"""
import csv
import json
import sys
from pathlib import Path

SCRIPTS = Path(__file__).resolve().parent
HERE = SCRIPTS.parent  # simulation/data/municipal
MUNI = HERE.parent / "municipalities_no.csv"
YEARS = [str(y) for y in range(2020, 2025)]
TYPES = {"e": "enebolig", "s": "smahus", "b": "blokk"}


def main(out: Path = HERE / "housing_prices.csv") -> None:
    """One row per 2024 municipality; empty cell = SSB suppressed (too few sales) or none."""
    prices = json.loads((SCRIPTS / "kommuner_prices.json").read_text(encoding="utf-8"))
    with MUNI.open(encoding="utf-8", newline="") as f:
        munis = [(r["kommunenummer"], r["name"]) for r in csv.DictReader(f)]
    cols = [f"{TYPES[t]}_{y}" for t in TYPES for y in YEARS]
    with out.open("w", encoding="utf-8", newline="") as f:
        w = csv.writer(f, lineterminator="\n")
        w.writerow(["kommunenummer", "name", *cols, "enebolig_mean_2020_2024", "enebolig_n_years"])
        for code, name in munis:
            p = prices[code]
            row = [p.get(t, {}).get(y, "") for t in TYPES for y in YEARS]
            e = [p.get("e", {}).get(y) for y in YEARS]
            e = [x for x in e if x is not None]
            mean = round(sum(e) / len(e)) if e else ""
            w.writerow([code, name, *row, mean, len(e)])


if __name__ == "__main__":
    main(Path(sys.argv[1]) if len(sys.argv) > 1 else HERE / "housing_prices.csv")

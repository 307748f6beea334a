"""A small, documented fit of the labour parameters' defaults (issue 13, work helper).

Holds the calibrated move parameters of calibration/fitted.yaml fixed (through
scenarios/baseline.yaml) and moves five labour parameters so that the baseline's employment
indicators meet the register's employment figures:

* ``resettled_refugees_employed_after_7_years``: 0.50 +- 0.05 (SSB, "Halvparten i arbeid etter
  sju år", 2018; the model's value is all refugee adults 7 years after settlement, cohorts
  2010-2016);
* ``ukrainians_employed_by_duration_2024``: 0.18 overall and 0.30 after about two years
  +- 0.05 (NAV, Arbeid og velferd 2/2024, end of March 2024; the model's end of 2023);
* ``employment_rate_by_sex`` 8 years after settlement: men 0.60, women 0.35 (SSB, "6 av 10
  menn selvforsørget etter 8 år"; self-support, a stricter measure than employment, so the
  model's employment may sit a little above it: weight 1/2, tolerance 0.08);
* ``refugee_employment_by_municipality.labour_market_slope``: the register's slope of the
  municipal refugee employment rate (IMDikator 2013, municipalities with 50+ refugee adults)
  on the geography's labour market, computed here from the data file.

The free parameters are the intercept, the duration, female, Ukrainian, labour-market and
programme effects; the mother, belonging and exit terms keep their ASSUMPTION defaults.
Method: Nelder-Mead (bounded by the registry's ranges) on the weighted sum of squared
(gap / tolerance) of the mean over ``SEEDS`` full-size replicates (common random numbers
across evaluations).

Run from the repository root: ``.venv/bin/python calibration/employment_fit.py``; it writes
calibration/employment_fit.yaml.
"""

from __future__ import annotations

import csv
import sys
from pathlib import Path

import numpy as np
import yaml
from scipy.optimize import minimize

import simulation
from simulation.analysis.indicators import employment_indicators
from simulation.analysis.registry import MIN_MUNICIPAL_ADULTS

ROOT = Path(__file__).resolve().parent.parent
# the vendored copy once the geography helper's branch is merged, else the shared data
_VENDORED = ROOT / "simulation" / "data" / "municipal" / "immigrant_labour_2013.csv"
MUNICIPAL_2013 = (_VENDORED if _VENDORED.exists()
                  else Path("/work/shared/data/municipal/immigrant_labour_2013.csv"))
SEEDS = (11, 12)
FREE = ("employment_intercept", "employment_duration_effect", "employment_female_effect",
        "employment_ukraine_effect", "employment_labour_effect", "employment_programme_effect")
START = (-2.9, 0.2, -0.6, 0.5, 1.4, -0.8)
STEP = (0.4, 0.1, 0.3, 0.5, 0.6, 0.5)
BOUNDS = ((-8.0, 2.0), (0.0, 1.5), (-4.0, 0.0), (-3.0, 3.0), (0.0, 5.0), (-5.0, 0.0))


def register_municipal_slope() -> dict[str, float]:
    """SD and labour-market slope of the refugee employment rate across municipalities with
    at least MIN_MUNICIPAL_ADULTS refugee adults (count = employed / rate), IMDikator 2013."""
    geo = simulation.load_geography()
    labour = dict(zip((str(c) for c in geo.codes), geo.labour_market, strict=True))
    rates, markets = [], []
    with MUNICIPAL_2013.open(encoding="utf-8") as f:
        for row in csv.DictReader(f):
            try:
                rate = float(row["employment_rate_refugee_immigrants_2013_pct"]) / 100
                employed = float(row["employed_refugee_immigrants_2013"])
            except ValueError:
                continue
            code = row["kommunenummer"]
            if rate > 0 and employed / rate >= MIN_MUNICIPAL_ADULTS and code in labour:
                rates.append(rate)
                markets.append(labour[code])
    r, m = np.array(rates), np.array(markets)
    return {"municipalities": len(r), "sd": float(r.std(ddof=1)),
            "labour_market_slope": float(np.polyfit(m, r, 1)[0]), "mean": float(r.mean())}


def targets(slope: float) -> list[tuple[str, float, float, float]]:
    """(flat indicator id, register value, tolerance, weight)."""
    return [
        ("resettled_refugees_employed_after_7_years", 0.50, 0.05, 1.0),
        ("ukrainians_employed_by_duration_2024.all_working_age", 0.18, 0.05, 1.0),
        ("ukrainians_employed_by_duration_2024.about_2_years", 0.30, 0.05, 1.0),
        ("employment_rate_by_sex.men", 0.60, 0.08, 0.5),
        ("employment_rate_by_sex.women", 0.35, 0.08, 0.5),
        ("refugee_employment_by_municipality.labour_market_slope", slope, 0.1, 0.5),
    ]


def simulate(values: dict[str, float]) -> dict[str, float]:
    """Mean employment indicators over SEEDS at the baseline with ``values``."""
    scenario = simulation.load_scenario(str(ROOT / "scenarios" / "baseline.yaml"))
    params = scenario.params.replace(**values)
    runs = []
    for seed in SEEDS:
        res = simulation.run(params, seed=seed, inputs=scenario.inputs)
        flat = {}
        for key, value in employment_indicators(res).items():
            if isinstance(value, dict):
                flat.update({f"{key}.{k}": v for k, v in value.items()})
            else:
                flat[key] = value
        runs.append(flat)
    return {k: float(np.mean([r[k] for r in runs])) for k in runs[0]}


def main() -> int:
    register = register_municipal_slope()
    goal = targets(register["labour_market_slope"])
    trace: list[float] = []

    def loss(x: np.ndarray) -> float:
        values = dict(zip(FREE, (float(v) for v in x), strict=True))
        sim = simulate(values)
        total = sum(w * ((sim[t] - v) / tol) ** 2 for t, v, tol, w in goal)
        trace.append(total)
        print(f"{len(trace):3d} {total:8.3f} " + " ".join(f"{v:+.3f}" for v in x), flush=True)
        return total

    simplex = np.array(START) + np.vstack([np.zeros(len(FREE)), np.diag(STEP)])
    fit = minimize(loss, np.array(START), method="Nelder-Mead", bounds=BOUNDS,
                   options={"maxfev": 120, "xatol": 0.02, "fatol": 0.05,
                            "initial_simplex": np.clip(simplex, *np.array(BOUNDS).T)})
    best = {k: round(float(v), 3) for k, v in zip(FREE, fit.x, strict=True)}
    sim = simulate(best)
    out = {
        "about": "Written by calibration/employment_fit.py: labour parameters fitted at the "
                 "calibrated move parameters (scenarios/baseline.yaml), seeds "
                 f"{list(SEEDS)}, Nelder-Mead, {len(trace)} evaluations.",
        "parameters": best,
        "distance": round(float(fit.fun), 3),
        "register_municipal_2013": {k: round(v, 4) if isinstance(v, float) else v
                                    for k, v in register.items()},
        "targets": [{"indicator": t, "register": round(v, 4), "tolerance": tol,
                     "simulated": round(sim[t], 4), "within": abs(sim[t] - v) <= tol}
                    for t, v, tol, _ in goal],
        "other_indicators": {k: round(v, 4) for k, v in sim.items()
                             if k not in {t for t, *_ in goal}},
    }
    path = ROOT / "calibration" / "employment_fit.yaml"
    path.write_text(yaml.safe_dump(out, sort_keys=False, allow_unicode=True), encoding="utf-8")
    print(yaml.safe_dump(out, sort_keys=False))
    return 0


if __name__ == "__main__":
    sys.exit(main())

"""Coverage, measured: simulation-based calibration of the calibration itself.

For each of N synthetic truths drawn from the prior: the targets are simulated at the truth with
seeds the calibration never uses (one replicate, as the register is one realisation), plus a
draw of the stated model discrepancy (the likelihood assumes one, so the check does too); the
whole calibration (``history.py``) is run on them; and we record whether each parameter's 90 %
interval covers its truth, and whether the 90 % interval of the *policy effect* analysts read
(no five-year rule minus baseline: five-year retention and persons moving per year) covers the
true effect (the mean over paired replicates at the truth).

Wave 1 does not depend on the targets, so it is simulated once and shared by all truths; the
later waves, the noise estimate and the sampler are each truth's own (Talts et al. 2018,
"Validating Bayesian inference algorithms with simulation-based calibration").
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pandas as pd

from simulation.analysis.intervals import quantile
from simulation.calibration.evaluations import Evaluator
from simulation.calibration.fit import summarise
from simulation.calibration.history import METHOD_VERSION, discrepancy_sd, history_match
from simulation.calibration.spec import Spec
from simulation.engine.numerics import accepts as numerics_accepts
from simulation.engine.numerics import signature as numerics_signature

POLICY = {"rights_years": 0.0}  # the no-rule scenario
EFFECTS = ("retention_5y", "moves_per_year")  # the policy measures whose effect is checked
LEVEL = 0.90


@dataclass
class Coverage:
    """Per (truth, parameter) and per (truth, effect) rows, and their summaries."""

    parameters: pd.DataFrame
    effects: pd.DataFrame

    def summary(self) -> dict[str, float]:
        p, e = self.parameters, self.effects
        out = {"truths": int(p["truth"].nunique()), "pairs": len(p),
               "parameter_coverage": float(p["covered"].mean())}
        for m in EFFECTS:
            rows = e[e["measure"] == m]
            out[f"effect_coverage.{m}"] = float(rows["covered"].mean()) if len(rows) else np.nan
        return out


def _effects(evaluator: Evaluator, pairs: list[tuple[dict[str, float], str, int]]
             ) -> list[dict[str, float]]:
    """For each (point, stream, n): no-rule minus baseline, paired on the same ``n`` seeds of
    the stream, per measure (mean). All pairs' runs go to the workers together."""
    requests = [r for theta, stream, n in pairs
                for r in ((theta, stream, n), ({**theta, **POLICY}, stream, n))]
    values = evaluator.evaluate_streams(requests)
    return [{m: float(np.nanmean(evaluator.column(norule, m) - evaluator.column(base, m)))
             for m in EFFECTS} for base, norule in zip(values[::2], values[1::2], strict=True)]


def settings_key(spec: Spec, budget: int | None, effect_replicates: int, effect_draws: int
                 ) -> str:
    """What one truth's rows depend on besides its index: a finished truth is reused only
    under the same key (the engine, seed, population share, period and moments via the
    spec's digest; the priors; the posterior settings; the budget; the effect runs; the
    version of the search)."""
    text = json.dumps({"digest": spec.digest(), "method": METHOD_VERSION, "names": spec.names,
                       "low": [float(x) for x in spec.low],
                       "high": [float(x) for x in spec.high],
                       "discrepancy_of": [[m.tolerance, m.weight] for m in spec.moments],
                       "posterior": spec.posterior.model_dump(), "budget": budget,
                       "effects": [effect_replicates, effect_draws]}, sort_keys=True)
    return hashlib.sha256(text.encode()).hexdigest()[:16]


def _finished(path: Path | None, key: str) -> dict[int, dict]:
    """Truths already done under ``key`` (the last record of each; a cut line is skipped)."""
    done: dict[int, dict] = {}
    if path is None or not path.exists():
        return done
    for line in path.read_text(encoding="utf-8").splitlines():
        try:
            rec = json.loads(line)
        except json.JSONDecodeError:  # a line cut by an interruption
            continue
        # a truth computed with other arithmetic (engine/numerics.py) is not reused; records
        # from before it was logged (or before its BLAS was) count as this machine's
        if rec.get("key") == key and numerics_accepts(rec.get("numerics")):
            done[int(rec["truth"])] = rec
    return done


def coverage(spec: Spec, evaluator: Evaluator, truths: int, budget: int | None = None,
             effect_replicates: int = 8, effect_draws: int = 40,
             on_stage: Callable[[str], None] | None = None,
             record: Path | None = None) -> Coverage:
    """Run the check over ``truths`` prior draws (reproducible for the file's seed).

    ``record`` (a JSON-lines file) keeps each finished truth's rows: a rerun, or a run with
    more truths, reuses them instead of refitting (the emulators and the sampler are most of a
    truth's time once its simulations are in the evaluations log)."""
    say = on_stage or (lambda _s: None)
    low, high = spec.low, spec.high
    disc = discrepancy_sd(spec.moments, spec.posterior.discrepancy)
    key = settings_key(spec, budget, effect_replicates, effect_draws)
    done = _finished(record, key)
    prows, erows = [], []
    for i in range(truths):
        if i in done:
            say(f"truth {i + 1} of {truths}: done before")
            prows += done[i]["parameters"]
            erows += done[i]["effects"]
            continue
        first_p, first_e = len(prows), len(erows)
        rng = np.random.default_rng(np.random.SeedSequence([spec.seed, 20_18, i]))
        z_true = rng.random(len(spec.names))
        theta = spec.theta(z_true)
        obs = evaluator.evaluate([theta], stream=f"truth-{i}", n=1)[0]
        targets = evaluator.moments(obs, spec.moments)[0] + rng.standard_normal(len(disc)) * disc
        say(f"truth {i + 1} of {truths}: calibrating")
        post = history_match(spec, evaluator, targets=targets, budget=budget,
                             seed=spec.seed + 7919 * (i + 1),
                             on_stage=lambda s, i=i: say(f"truth {i + 1}: {s}"))
        fit = summarise(spec, post, len(post.z))
        draws = np.array([[d[n] for n in spec.names] for d in fit.draws])
        lo, hi = quantile(draws, [(1 - LEVEL) / 2, (1 + LEVEL) / 2], axis=0)
        for j, name in enumerate(spec.names):
            prows.append({"truth": i, "parameter": name, "true": theta[name],
                          "p5": lo[j], "p95": hi[j], "covered": bool(lo[j] <= theta[name] <= hi[j]),
                          "rank": float(np.mean(draws[:, j] < theta[name])),
                          "interval_share_of_prior": (hi[j] - lo[j]) / (high[j] - low[j])})
        say(f"truth {i + 1}: policy effect")
        picks = np.linspace(0, len(fit.draws) - 1, min(effect_draws, len(fit.draws)))
        true, *post_eff = _effects(evaluator, [(theta, f"effect-{i}", effect_replicates)]
                                   + [(fit.draws[int(k)], f"effect-{i}-{n}", 1)
                                      for n, k in enumerate(picks.round())])
        for m in EFFECTS:
            vals = np.array([e[m] for e in post_eff])
            elo, ehi = quantile(vals, [(1 - LEVEL) / 2, (1 + LEVEL) / 2])
            erows.append({"truth": i, "measure": m, "true_effect": true[m],
                          "p5": float(elo), "p95": float(ehi), "posterior_mean": float(
                              np.nanmean(vals)), "covered": bool(elo <= true[m] <= ehi)})
        if record is not None:
            with record.open("a", encoding="utf-8") as fh:
                fh.write(json.dumps({"key": key, "truth": i, "numerics": numerics_signature(),
                                     "parameters": _plain(prows[first_p:]),
                                     "effects": _plain(erows[first_e:])}) + "\n")
    return Coverage(pd.DataFrame(prows), pd.DataFrame(erows))


def _plain(rows: list[dict]) -> list[dict]:
    """Rows as JSON values (numpy scalars to float, bool, int); floats round-trip exactly."""
    def one(v: object) -> object:
        if isinstance(v, (bool, np.bool_)):
            return bool(v)
        if isinstance(v, (int, np.integer)):
            return int(v)
        if isinstance(v, (float, np.floating)):
            return float(v)
        return v
    return [{k: one(v) for k, v in r.items()} for r in rows]

"""What a calibration writes: the fitted parameter file, and a fit report (HTML and CSV) that
sets each register figure beside the simulated value and says how well each parameter is
identified."""

from __future__ import annotations

import math
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import yaml

from simulation import __version__
from simulation.calibration.fit import Evaluator, Fit, residuals
from simulation.calibration.spec import Moment, Spec
from simulation.inputs.parameters import BY_NAME
from simulation.reports import html as report
from simulation.reports.figures import _save, plt
from simulation.runs.ensemble import flatten, run_many


def moment_values(summaries: list, moments: list[Moment]) -> np.ndarray:
    """(runs x moments) from ensemble summaries."""
    return np.array([[m.simulated(flatten(s.indicators)) for m in moments] for s in summaries])


def fit_check(spec: Spec, fit: Fit, evaluator: Evaluator, replicates: int, draws: int,
              jobs: int) -> pd.DataFrame:
    """Each target beside the fitted model: fresh seeds (not those of the fit), the point
    estimate over ``replicates`` runs, and ``draws`` posterior draws for parameter uncertainty.
    """
    inputs = spec.inputs()
    check_seed = spec.seed + 1_000_003
    point = run_many([(spec.params(fit.theta), inputs)], check_seed, replicates, jobs)[0]
    post = run_many([(spec.params(d), inputs) for d in fit.draws[:draws]], check_seed, 1,
                    jobs)
    moments = spec.moments + spec.holdout
    pv = moment_values(point, moments)
    qv = moment_values([r[0] for r in post], moments)
    rows = []
    reach = reachability(spec, fit, evaluator)
    for i, m in enumerate(moments):
        mean = float(np.nanmean(pv[:, i]))
        within = bool(abs(mean - m.value) <= m.tolerance) if mean == mean else None
        rows.append({
            "target": m.name + (" (ratio to all)" if m.compare == "ratio_to_all" else ""),
            "role": "fitted" if i < len(spec.moments) else "held out",
            "register": m.value, "tolerance": m.tolerance, "weight": m.weight,
            "simulated_mean": mean,
            "replicates_p5": float(np.nanpercentile(pv[:, i], 5)),
            "replicates_p95": float(np.nanpercentile(pv[:, i], 95)),
            "posterior_p5": float(np.nanpercentile(qv[:, i], 5)),
            "posterior_p95": float(np.nanpercentile(qv[:, i], 95)),
            "within_tolerance": within,
            "reason_if_not": "" if within or i >= len(spec.moments) else reach.get(m.name, ""),
            "definition": m.definition, "source": m.source, "caveat": m.caveat,
        })
    return pd.DataFrame(rows)


def reachability(spec: Spec, fit: Fit, evaluator: Evaluator) -> dict[str, str]:
    """For each target, whether any evaluated point reached it alone (to tell a structural
    miss from a trade-off between targets). Uses the evaluations already made."""
    best = {m.name: math.inf for m in spec.moments}
    weights = np.array([max(m.weight, 1e-12) for m in spec.moments])
    for h in fit.history:
        values = evaluator.evaluate([{n: h[n] for n in spec.names}])[0]
        r = residuals(spec, np.nanmean(evaluator.moments(values, spec.moments), axis=0))
        for m, x in zip(spec.moments, np.abs(r) / np.sqrt(weights), strict=True):
            best[m.name] = min(best[m.name], float(x))
    return {
        name: ("not reached at any of the points tried in the prior box: the model's structure "
               "or the free parameters' ranges cannot produce it" if b > 1.0 else
               f"reachable alone (closest {b:.2f} tolerances) but not together with the other "
               "targets: a trade-off in the fit")
        for name, b in best.items()}


def parameter_table(spec: Spec, fit: Fit) -> pd.DataFrame:
    draws = np.array([[d[n] for n in spec.names] for d in fit.draws])
    rows = []
    for i, n in enumerate(spec.names):
        ratio = fit.identification[n]
        label = ("well identified" if ratio < 0.5 else
                 "partly identified" if ratio < 0.8 else "weakly identified (close to prior)")
        rows.append({
            "parameter": n, "unit": BY_NAME[n].unit, "prior_low": spec.low[i],
            "prior_high": spec.high[i], "start": fit.start_theta[n], "estimate": fit.theta[n],
            "p5": float(np.percentile(draws[:, i], 5)),
            "p95": float(np.percentile(draws[:, i], 95)),
            "posterior_sd": float(math.sqrt(fit.cov[i, i])),
            "sd_ratio_to_prior": ratio, "identification": label,
            "meaning": BY_NAME[n].meaning,
        })
    return pd.DataFrame(rows)


def fitted_document(spec: Spec, fit: Fit, check: pd.DataFrame, params: pd.DataFrame
                    ) -> dict[str, Any]:
    """The content of fitted.yaml."""
    point = {**{k: v for k, v in spec.base.items()}, **{k: round(v, 6)
                                                          for k, v in fit.theta.items()}}
    return {
        "about": (f"Fitted by `secmig calibrate {spec.path}` (simulated method of moments; "
                  "Gaussian approximation of the posterior). 'parameters' is the point "
                  "estimate that scenarios read with parameters: {from: this file}; "
                  "'posterior_draws' are used by `secmig run --posterior K`."),
        "secmig_version": __version__,
        "created_utc": datetime.now(UTC).isoformat(timespec="seconds"),
        "calibration": {"name": spec.name, "seed": spec.seed, "replicates": spec.replicates,
                        "period": [spec.start, spec.end], "evaluations": fit.evaluations,
                        "distance": round(fit.distance, 4),
                        "start_distance": round(fit.start_distance, 4)},
        "parameters": point,
        "intervals": {r.parameter: {"p5": round(r.p5, 6), "p95": round(r.p95, 6),
                                    "posterior_sd": round(r.posterior_sd, 6),
                                    "prior": [float(r.prior_low), float(r.prior_high)],
                                    "identification": r.identification}
                      for r in params.itertuples()},
        "posterior_draws": [{k: round(v, 6) for k, v in d.items()} for d in fit.draws],
        "targets": [{"target": r.target, "role": r.role, "register": float(r.register),
                     "tolerance": float(r.tolerance),
                     "simulated_mean": round(float(r.simulated_mean), 6),
                     "within_tolerance": r.within_tolerance}
                    for r in check.itertuples()],
    }


def _fit_figure(check: pd.DataFrame, path: Path) -> Path:
    fig, ax = plt.subplots(figsize=(8, 0.35 * len(check) + 1.5), dpi=120)
    y = np.arange(len(check))[::-1]
    z = (check["simulated_mean"] - check["register"]) / check["tolerance"]
    lo = (check["posterior_p5"] - check["register"]) / check["tolerance"]
    hi = (check["posterior_p95"] - check["register"]) / check["tolerance"]
    colours = np.where(check["role"] == "held out", "#8e44ad",
                       np.where(z.abs() <= 1, "#1e7b34", "#b03a2e"))
    ax.hlines(y, lo, hi, color="#999999", lw=3)
    ax.scatter(z, y, color=colours, zorder=3)
    ax.axvspan(-1, 1, color="#1e7b34", alpha=0.08)
    ax.axvline(0, color="black", lw=0.8)
    ax.set_yticks(y, check["target"], fontsize=7)
    ax.set_xlabel("(simulated - register) / tolerance")
    ax.set_title("Fit to the register targets: dot = point estimate, grey = posterior 5-95 %,\n"
                 "green band = within tolerance, purple = held out (not fitted)", fontsize=9)
    return _save(fig, path)


def write_calibration(spec: Spec, fit: Fit, evaluator: Evaluator, out: Path, fitted: Path,
                      check_replicates: int, check_draws: int, jobs: int) -> pd.DataFrame:
    """Write fitted.yaml, fit_targets.csv, fit_parameters.csv, fit_history.csv, report.html."""
    check = fit_check(spec, fit, evaluator, check_replicates, check_draws, jobs)
    params = parameter_table(spec, fit)
    out.mkdir(parents=True, exist_ok=True)
    check.to_csv(out / "fit_targets.csv", index=False)
    params.to_csv(out / "fit_parameters.csv", index=False)
    pd.DataFrame(fit.history).to_csv(out / "fit_history.csv", index=False)
    doc = fitted_document(spec, fit, check, params)
    tmp = fitted.with_suffix(".yaml.partial")
    tmp.write_text("# GENERATED by secmig calibrate: do not edit by hand.\n"
                   + yaml.safe_dump(doc, sort_keys=False, allow_unicode=True), encoding="utf-8")
    tmp.replace(fitted)
    fig = _fit_figure(check, out / "fit_targets.png")
    (out / "report.html").write_text(_report(spec, fit, check, params, fig, fitted),
                                     encoding="utf-8")
    return check


def _report(spec: Spec, fit: Fit, check: pd.DataFrame, params: pd.DataFrame, fig: Path,
            fitted: Path) -> str:
    fitted_rows = check[check["role"] == "fitted"]
    n_in = int(fitted_rows["within_tolerance"].fillna(False).sum())
    misses = fitted_rows[fitted_rows["within_tolerance"] == False]  # noqa: E712
    miss_html = "".join(f"<li><b>{report.esc(r.target)}</b>: simulated "
                        f"{report.fmt(r.simulated_mean)} against {report.fmt(r.register)} ± "
                        f"{report.fmt(r.tolerance)}. {report.esc(r.reason_if_not)}.</li>"
                        for r in misses.itertuples())
    caveats = fitted_rows[fitted_rows["caveat"].astype(str) != ""]
    caveat_html = "".join(f"<li><b>{report.esc(r.target)}</b>: {report.esc(r.caveat)}</li>"
                          for r in caveats.itertuples())
    rights = params[params["parameter"] == "rights_cost"]
    rights_html = ""
    if not rights.empty:
        r = rights.iloc[0]
        rights_html = (
            f"<p><b>The rights-rule cost</b> (<code>rights_cost</code>), on which the policy "
            f"scenarios depend, is estimated at {r.estimate:.2f} (90 % interval {r.p5:.2f}-"
            f"{r.p95:.2f}, prior {r.prior_low:g}-{r.prior_high:g}); its posterior sd is "
            f"{r.sd_ratio_to_prior:.0%} of the prior's: <b>{report.esc(r.identification)}</b>. "
            "The register only says that moving does not change markedly after year 5, so "
            "conclusions about changing the rule should be read with this interval (run "
            "scenarios with <code>--posterior K</code>).</p>")
    table_t = check[["target", "role", "register", "tolerance", "simulated_mean",
                     "replicates_p5", "replicates_p95", "posterior_p5", "posterior_p95",
                     "within_tolerance"]]
    table_p = params[["parameter", "unit", "prior_low", "prior_high", "start", "estimate", "p5",
                      "p95", "sd_ratio_to_prior", "identification"]]
    sections = [
        ("Summary", f"<p>{n_in} of {len(fitted_rows)} fitted targets are within their "
                    f"tolerance with the point estimate (mean of fresh replicates, seeds not "
                    f"used in the fit). Distance {fit.start_distance:.1f} at the start, "
                    f"{fit.distance:.1f} at the optimum, after {fit.evaluations} parameter "
                    f"points of {spec.replicates} replicates each.</p>"
         + (f"<p>Outside tolerance:</p><ul>{miss_html}</ul>" if miss_html else "")
         + (f"<p><b>Fits weaker than they look</b> (a band chosen by the project, or a "
            f"parameter that exists mainly to match the target):</p><ul>{caveat_html}</ul>"
            if caveat_html else "")
         + rights_html),
        ("Targets", report.image(fig, "Each target: simulated minus register, in tolerances.")
         + report.table(table_t)),
        ("Parameters", "<p>Estimate, 90 % interval (Gaussian approximation at the optimum, "
                       "truncated to the prior box), and identification: the posterior sd as "
                       "a share of the prior sd (below 0.5 well identified; near 1 the "
                       "targets say little about the parameter).</p>" + report.table(table_p)),
        ("Method", "<p>Simulated method of moments: distance = sum of weight x ((simulated - "
                   "register) / tolerance)^2 over the targets, simulated means over "
                   f"{spec.replicates} replicates with the same seeds at every point (common "
                   "random numbers). A scrambled Sobol design over the prior box, then "
                   "bounded Gauss-Newton (scipy least_squares, trf) from the best point. The "
                   "posterior is a Gaussian approximation: precision = J' S^-1 J + prior "
                   "precision, S = tolerance^2 / weight + Monte Carlo variance; it ignores "
                   "non-linearity beyond the finite-difference step and treats tolerances as "
                   "standard errors.</p>"
                   f"<p class='small'>Fitted file: <code>{report.esc(fitted)}</code>; tables "
                   "fit_targets.csv, fit_parameters.csv, fit_history.csv.</p>"),
    ]
    return report.page(f"secmig calibration: {spec.name}",
                       f"Fit to register figures, {spec.start}-{spec.end}", sections)

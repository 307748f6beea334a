"""What a calibration writes: the fitted parameter file, and a fit report (HTML, CSV, figures)
that sets each register figure beside its posterior predictive interval, shows the posterior's
marginals and ridges, and says what drives the rights-rule cost."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import yaml

from simulation import __version__
from simulation.analysis.intervals import HIGH, LOW, bounds, quantile
from simulation.calibration.evaluations import Evaluator
from simulation.calibration.fit import Fit
from simulation.calibration.history import discrepancy_sd
from simulation.calibration.spec import Moment, Spec
from simulation.inputs.parameters import BY_NAME
from simulation.reports import html as report
from simulation.reports.figures import _save, plt
from simulation.runs.ensemble import flatten, run_each

CHECK_STREAM = 1_000_003  # the fit check's seeds: the file's seed plus this, never used to fit
RIGHTS = "rights_cost"


def moment_values(summaries: list, moments: list[Moment]) -> np.ndarray:
    """(runs x moments) from ensemble summaries."""
    return np.array([[m.simulated(flatten(s.indicators)) for m in moments] for s in summaries])


def fit_check(spec: Spec, fit: Fit, replicates: int, draws: int, jobs: int) -> pd.DataFrame:
    """Each target beside the fitted model, with fresh seeds (not those of the fit): the
    posterior mean over ``replicates`` runs, and the posterior predictive interval from
    ``draws`` posterior draws (one run each, draw k on the k-th fresh seed, so each carries
    its own noise), without and with the model discrepancy.

    The mean point also runs on each draw's seed, and so do the draws pulled halfway to the
    mean: where an outcome bends over the posterior's spread, its average over the draws
    departs from its value at their mean (Jensen's inequality), by about a quarter as much at
    half the spread when the bend is quadratic. Paired seed by seed, that difference is
    measured with little noise; it is why a posterior can meet a target on average while its
    mean point misses it."""
    inputs = spec.inputs()
    check_seed = spec.seed + CHECK_STREAM
    chosen = fit.draws[:draws]
    n = max(len(chosen), replicates)
    mean_runs = run_each([spec.params(fit.theta)] * n, inputs, check_seed, jobs)
    point = mean_runs[:replicates]  # the same seeds as run_many's replicates 0..R-1
    post = run_each([spec.params(d) for d in chosen], inputs, check_seed, jobs)
    half = run_each([spec.params(toward(d, fit.theta, 0.5)) for d in chosen], inputs,
                    check_seed, jobs)
    moments = spec.moments + spec.holdout
    pv = moment_values(point, moments)
    mv = moment_values(mean_runs[:len(chosen)], moments)
    qv = moment_values(post, moments)
    hv = moment_values(half, moments)
    disc = discrepancy_sd(moments, spec.posterior.discrepancy)
    noise = np.random.default_rng(check_seed).standard_normal(qv.shape) * disc
    at_mean, over_draws = emulated(fit, len(moments))
    rows = []
    for i, m in enumerate(moments):
        mean = float(np.nanmean(pv[:, i]))
        within = bool(abs(mean - m.value) <= m.tolerance) if mean == mean else None
        lo, hi = bounds(qv[:, i])
        dlo, dhi = bounds(qv[:, i] + noise[:, i])
        post_mean = float(np.nanmean(qv[:, i]))
        half_mean = float(np.nanmean(hv[:, i]))
        rows.append({
            "target": m.name + (" (ratio to all)" if m.compare == "ratio_to_all" else ""),
            "role": "fitted" if i < len(spec.moments) else "held out",
            "register": m.value, "tolerance": m.tolerance, "weight": m.weight,
            "simulated_mean": mean,
            "replicates_p5": float(quantile(pv[:, i], LOW)),
            "replicates_p95": float(quantile(pv[:, i], HIGH)),
            "posterior_p5": float(lo), "posterior_p95": float(hi),
            "predictive_p5": float(dlo), "predictive_p95": float(dhi),
            "within_tolerance": within,
            # the same target averaged over the fresh runs at posterior draws: what a
            # --posterior run shows, and not the same as the value at the mean point when the
            # outcome responds to the parameters nonlinearly
            "posterior_runs_mean": post_mean,
            "within_tolerance_posterior": (bool(abs(post_mean - m.value) <= m.tolerance)
                                           if post_mean == post_mean else None),
            # the bend: the runs at the draws (and at the draws pulled halfway to the
            # mean) minus the mean point's runs on the same seeds
            "half_spread_runs_mean": half_mean,
            "bend_over_draws": float(np.nanmean(qv[:, i] - mv[:, i])),
            "bend_at_half_spread": float(np.nanmean(hv[:, i] - mv[:, i])),
            # the last wave's emulators at the posterior mean and averaged over the posterior
            # sample: where the emulated value at the mean misses too, the miss is the
            # likelihood's compromise between targets, which more simulations would not remove
            "emulated_at_mean": float(at_mean[i]),
            "emulated_over_draws": float(over_draws[i]),
            "inside_predictive": bool(dlo <= m.value <= dhi),
            "definition": m.definition, "source": m.source, "caveat": m.caveat,
        })
    return pd.DataFrame(rows)


def toward(draw: dict[str, float], mean: dict[str, float], share: float) -> dict[str, float]:
    """A posterior draw moved toward the mean: ``mean + share * (draw - mean)``, so ``share``
    1 is the draw and 0 the mean (inside the prior box, which is convex)."""
    return {k: mean[k] + share * (v - mean[k]) for k, v in draw.items()}


def emulated(fit: Fit, n: int) -> tuple[np.ndarray, np.ndarray]:
    """The last wave's emulated moments at the posterior mean and averaged over the whole
    posterior sample (unit cube), padded with NaN to ``n`` (held-out moments have none)."""
    emulator = fit.posterior.likelihood.emulator
    draws = fit.posterior.chain.draws
    pad = np.full(n, np.nan)
    at_mean, over = pad.copy(), pad.copy()
    k = len(emulator.intercept)
    at_mean[:k] = emulator.predict(draws.mean(axis=0))[0]
    over[:k] = emulator.predict(draws).mean(axis=0)
    return at_mean, over


def parameter_table(spec: Spec, fit: Fit) -> pd.DataFrame:
    draws = np.array([[d[n] for n in spec.names] for d in fit.draws])
    rows = []
    for i, n in enumerate(spec.names):
        ratio = fit.identification[n]
        label = ("well identified" if ratio < 0.5 else
                 "partly identified" if ratio < 0.8 else "weakly identified (close to prior)")
        rows.append({
            "parameter": n, "unit": BY_NAME[n].unit, "prior_low": spec.low[i],
            "prior_high": spec.high[i], "estimate": fit.theta[n],
            "p5": float(quantile(draws[:, i], LOW)),
            "p50": float(quantile(draws[:, i], 0.5)),
            "p95": float(quantile(draws[:, i], HIGH)),
            "posterior_sd": float(np.sqrt(fit.cov[i, i])),
            "sd_ratio_to_prior": ratio, "identification": label,
            "at_prior_bound": prior_bound(draws[:, i], spec.low[i], spec.high[i]),
            "meaning": BY_NAME[n].meaning,
        })
    return pd.DataFrame(rows)


EDGE = 0.10  # the outer tenth of a prior range at either end
PILED = 0.2  # a posterior with more than a fifth of its draws there (over 2x the prior's
# share; with 200 draws about 5 standard errors above it) leans on the bound


def prior_bound(draws: np.ndarray, low: float, high: float) -> str:
    """'upper' or 'lower' when the posterior piles against that end of the prior box (a sign
    that the box, not the data, decides the value), else ''."""
    z = (np.asarray(draws, float) - low) / (high - low)
    upper, lower = float(np.mean(z > 1 - EDGE)), float(np.mean(z < EDGE))
    if max(upper, lower) <= PILED:
        return ""
    return "upper" if upper >= lower else "lower"


def joint_fit(spec: Spec, fit: Fit) -> tuple[pd.DataFrame, dict[str, object]]:
    """Could any simulated point meet every target at once? Per fitted target, the share of
    all evaluated points within its tolerance; overall, how many points meet all of them and
    which targets the best point (fewest misses, then smallest largest miss) still misses.
    The points are single runs with the common seeds, so this is what the simulator showed,
    not an emulator's guess."""
    means = fit.posterior.means
    value = np.array([m.value for m in spec.moments])
    tol = np.array([m.tolerance for m in spec.moments])
    with np.errstate(invalid="ignore"):
        z = np.abs(means - value) / tol
    within = z <= 1.0  # NaN (undefined moment) counts as a miss
    misses = (~within).sum(axis=1)
    worst = np.where(np.isfinite(z), z, np.inf).max(axis=1)
    best = int(np.lexsort((worst, misses))[0])
    table = pd.DataFrame({"target": [m.name for m in spec.moments],
                          "share_of_points_within": within.mean(axis=0),
                          "best_point_in_tolerances": (means[best] - value) / tol})
    summary = {"points": len(means), "all_within": int((misses == 0).sum()),
               "best_point_misses": [m.name for m, w in zip(spec.moments, within[best],
                                                            strict=True) if not w]}
    return table, summary


def wave_table(fit: Fit) -> pd.DataFrame:
    """One row per history-matching wave."""
    return pd.DataFrame([{
        "wave": w.number, "new_points": w.new_points, "emulator_training_points":
        w.training_points, "not_ruled_out_share": w.not_ruled_out,
        "largest_emulator_error_in_tolerances": max(
            (sd / m.tolerance for m, sd in zip(fit.spec.moments, w.loo_sd.values(),
                                               strict=True) if sd == sd), default=np.nan),
    } for w in fit.posterior.waves])


def rights_drivers(spec: Spec, fit: Fit) -> tuple[pd.DataFrame, pd.DataFrame]:
    """What pins the rights-rule cost: (targets that respond to it, in sd of the likelihood per
    prior range, at the posterior mean; parameters correlated with it in the posterior)."""
    if RIGHTS not in spec.names:
        return pd.DataFrame(), pd.DataFrame()
    j = spec.names.index(RIGHTS)
    like = fit.posterior.likelihood
    z = spec.z_of(fit.theta)
    grad = like.emulator.gradient(z)[:, j]  # per unit of the prior range
    sd = np.sqrt(np.diag(like.cov))
    rows = [{"target": spec.moments[k].name, "change_per_prior_range_in_sd": float(grad[k] / s)}
            for k, s in zip(like.used, sd, strict=True)]
    targets = pd.DataFrame(rows).sort_values("change_per_prior_range_in_sd", key=np.abs,
                                             ascending=False, kind="stable")
    draws = np.array([[d[n] for n in spec.names] for d in fit.draws])
    corr = np.corrcoef(draws, rowvar=False)[j]
    params = pd.DataFrame({"parameter": spec.names, "posterior_correlation": corr})
    params = params[params["parameter"] != RIGHTS].sort_values(
        "posterior_correlation", key=np.abs, ascending=False, kind="stable")
    return targets.reset_index(drop=True), params.reset_index(drop=True)


def fitted_document(spec: Spec, fit: Fit, check: pd.DataFrame, params: pd.DataFrame
                    ) -> dict[str, Any]:
    """The content of fitted.yaml (its format is read by scenarios, --posterior K, compare,
    sweeps and the app: keep it)."""
    point = {**{k: v for k, v in spec.base.items()}, **{k: round(v, 6)
                                                          for k, v in fit.theta.items()}}
    chain = fit.posterior.chain
    return {
        "about": (f"Fitted by `secmig calibrate {spec.path}` (history matching with quadratic "
                  "emulators, then an ensemble MCMC posterior sample). 'parameters' is the "
                  "posterior mean that scenarios read with parameters: {from: this file}; "
                  "'posterior_draws' are used by `secmig run --posterior K`."),
        "secmig_version": __version__,
        "created_utc": datetime.now(UTC).isoformat(timespec="seconds"),
        "calibration": {"name": spec.name, "seed": spec.seed, "replicates": spec.replicates,
                        "period": [spec.start, spec.end], "evaluations": fit.evaluations,
                        "method": "history matching + emulator posterior (emcee)",
                        "waves": len(fit.posterior.waves),
                        "discrepancy_share_of_tolerance": spec.posterior.discrepancy,
                        "effective_draws": round(chain.effective_draws, 1)},
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
                     "predictive_p5": round(float(r.predictive_p5), 6),
                     "predictive_p95": round(float(r.predictive_p95), 6),
                     "within_tolerance": r.within_tolerance,
                     # averaged over the fresh runs at posterior draws (what --posterior
                     # shows): run reports cite it beside a miss at the point
                     "posterior_runs_mean": round(float(r.posterior_runs_mean), 6),
                     "within_tolerance_posterior": r.within_tolerance_posterior,
                     # the emulators at the posterior mean (None: no emulator, held out)
                     "emulated_at_mean": (round(float(r.emulated_at_mean), 6)
                                          if r.emulated_at_mean == r.emulated_at_mean
                                          else None)}
                    for r in check.itertuples()],
    }


# --- figures ----------------------------------------------------------------------------------

def _fit_figure(check: pd.DataFrame, path: Path) -> Path:
    fig, ax = plt.subplots(figsize=(8, 0.35 * len(check) + 1.5), dpi=120)
    y = np.arange(len(check))[::-1]
    z = (check["simulated_mean"] - check["register"]) / check["tolerance"]
    lo = (check["predictive_p5"] - check["register"]) / check["tolerance"]
    hi = (check["predictive_p95"] - check["register"]) / check["tolerance"]
    colours = np.where(check["role"] == "held out", "#8e44ad",
                       np.where(z.abs() <= 1, "#1e7b34", "#b03a2e"))
    ax.hlines(y, lo, hi, color="#999999", lw=3)
    ax.scatter(z, y, color=colours, zorder=3)
    ax.axvspan(-1, 1, color="#1e7b34", alpha=0.08)
    ax.axvline(0, color="black", lw=0.8)
    ax.set_yticks(y, check["target"], fontsize=7)
    ax.set_xlabel("(simulated - register) / tolerance")
    ax.set_title("Each target: dot = posterior mean (fresh replicates), grey = posterior\n"
                 "predictive 5-95 % (with discrepancy); green band = within tolerance, "
                 "purple = held out", fontsize=9)
    return _save(fig, path)


def _marginals_figure(spec: Spec, fit: Fit, path: Path) -> Path:
    """Every free parameter's posterior histogram on its prior box (the prior is flat)."""
    n = len(spec.names)
    cols = 5
    rows = int(np.ceil(n / cols))
    fig, axes = plt.subplots(rows, cols, figsize=(2.3 * cols, 1.7 * rows), dpi=110,
                             squeeze=False)
    for i, ax in enumerate(axes.flat):
        if i >= n:
            ax.axis("off")
            continue
        name = spec.names[i]
        x = np.array([d[name] for d in fit.draws])
        ax.hist(x, bins=20, range=(spec.low[i], spec.high[i]), color="#2e6da4", alpha=0.8)
        ax.axvline(fit.theta[name], color="black", lw=1)
        ax.set_xlim(spec.low[i], spec.high[i])
        ax.set_yticks([])
        ax.set_title(name, fontsize=7)
        ax.tick_params(labelsize=6)
    fig.suptitle("Posterior marginals on the prior box (flat prior); line = posterior mean",
                 fontsize=9)
    return _save(fig, path)


def ridge_parameters(spec: Spec, fit: Fit, k: int = 6) -> list[str]:
    """The parameters of the pairwise plot: the rights-rule cost and those most correlated with
    it, then the most correlated pairs overall (the ridges)."""
    draws = np.array([[d[n] for n in spec.names] for d in fit.draws])
    corr = np.nan_to_num(np.corrcoef(draws, rowvar=False))
    np.fill_diagonal(corr, 0.0)
    chosen: list[int] = []
    if RIGHTS in spec.names:
        j = spec.names.index(RIGHTS)
        chosen = [j, *np.argsort(-np.abs(corr[j]), kind="stable")[:2].tolist()]
    for flat in np.argsort(-np.abs(np.triu(corr, 1)).ravel(), kind="stable"):
        a, b = divmod(int(flat), len(spec.names))
        for c in (a, b):
            if c not in chosen and len(chosen) < k:
                chosen.append(c)
        if len(chosen) >= k:
            break
    return [spec.names[i] for i in chosen[:k]]


def _pairs_figure(spec: Spec, fit: Fit, names: list[str], path: Path) -> Path:
    k = len(names)
    fig, axes = plt.subplots(k, k, figsize=(1.7 * k + 1, 1.7 * k + 1), dpi=110, squeeze=False)
    box = {n: (spec.low[spec.names.index(n)], spec.high[spec.names.index(n)]) for n in names}
    data = {n: np.array([d[n] for d in fit.draws]) for n in names}
    for r, a in enumerate(names):
        for c, b in enumerate(names):
            ax = axes[r, c]
            ax.tick_params(labelsize=5)
            if c > r:
                ax.axis("off")
                continue
            if r == c:
                ax.hist(data[a], bins=20, range=box[a], color="#2e6da4")
                ax.set_yticks([])
            else:
                ax.scatter(data[b], data[a], s=3, alpha=0.5, color="#2e6da4")
                ax.set_ylim(*box[a])
            ax.set_xlim(*box[b])
            if r == k - 1:
                ax.set_xlabel(b, fontsize=6)
            if c == 0 and r > 0:
                ax.set_ylabel(a, fontsize=6)
    fig.suptitle("Pairs of the posterior: the ridges of equally good fits (axes = prior box)",
                 fontsize=9)
    return _save(fig, path)


def _rights_figure(targets: pd.DataFrame, params: pd.DataFrame, path: Path) -> Path:
    fig, (a1, a2) = plt.subplots(1, 2, figsize=(10, 3.6), dpi=110)
    t = targets.head(8)[::-1]
    a1.barh(t["target"], t["change_per_prior_range_in_sd"], color="#b9770e")
    a1.set_xlabel("change over rights_cost's prior range, in sd of the likelihood", fontsize=7)
    a1.set_title("Targets that respond to rights_cost", fontsize=9)
    p = params.head(8)[::-1]
    a2.barh(p["parameter"], p["posterior_correlation"], color="#2e6da4")
    a2.set_xlim(-1, 1)
    a2.set_xlabel("posterior correlation with rights_cost", fontsize=7)
    a2.set_title("Parameters it trades off against", fontsize=9)
    for ax in (a1, a2):
        ax.tick_params(labelsize=6)
        ax.axvline(0, color="black", lw=0.6)
    return _save(fig, path)


# --- writing ------------------------------------------------------------------------------------

def write_calibration(spec: Spec, fit: Fit, evaluator: Evaluator, out: Path, fitted: Path,
                      check_replicates: int, check_draws: int, jobs: int) -> pd.DataFrame:
    """Write fitted.yaml, fit_targets.csv, fit_parameters.csv, fit_waves.csv, fit_history.csv,
    posterior_draws.csv, the figures and report.html."""
    check = fit_check(spec, fit, check_replicates, check_draws, jobs)
    params = parameter_table(spec, fit)
    waves = wave_table(fit)
    rt, rp = rights_drivers(spec, fit)
    joint, joint_summary = joint_fit(spec, fit)
    out.mkdir(parents=True, exist_ok=True)
    joint.to_csv(out / "fit_joint.csv", index=False)
    check.to_csv(out / "fit_targets.csv", index=False)
    params.to_csv(out / "fit_parameters.csv", index=False)
    waves.to_csv(out / "fit_waves.csv", index=False)
    pd.DataFrame(fit.history).to_csv(out / "fit_history.csv", index=False)
    pd.DataFrame(fit.draws).to_csv(out / "posterior_draws.csv", index=False)
    doc = fitted_document(spec, fit, check, params)
    tmp = fitted.with_suffix(".yaml.partial")
    tmp.write_text("# GENERATED by secmig calibrate: do not edit by hand.\n"
                   + yaml.safe_dump(doc, sort_keys=False, allow_unicode=True), encoding="utf-8")
    tmp.replace(fitted)
    figs = {"targets": _fit_figure(check, out / "fit_targets.png"),
            "marginals": _marginals_figure(spec, fit, out / "posterior_marginals.png"),
            "pairs": _pairs_figure(spec, fit, ridge_parameters(spec, fit),
                                   out / "posterior_pairs.png")}
    if not rt.empty:
        figs["rights"] = _rights_figure(rt, rp, out / "rights_cost_drivers.png")
    (out / "report.html").write_text(_report(spec, fit, check, params, waves, rt, rp, figs,
                                             fitted, joint_summary), encoding="utf-8")
    return check


def miss_reason(row: Any) -> str:
    """Why a target is missed at the posterior mean, from its row of the fit check, in
    tolerances from the register figure: the last emulators averaged over the posterior draws
    (does the posterior as a whole sit off the target?); fresh runs at the draws against the
    mean point's run on the same seed, and at the draws pulled halfway to the mean (does the
    outcome bend over the posterior's spread, so that the draws meet it on average and their
    mean point does not?); else the emulators' error at the point."""
    z_mean = (row.emulated_at_mean - row.register) / row.tolerance
    if z_mean != z_mean:  # NaN: no emulator for this target
        return ""
    z_draws = (row.emulated_over_draws - row.register) / row.tolerance
    z_runs = (row.posterior_runs_mean - row.register) / row.tolerance
    numbers = (f"Emulated over the posterior draws {z_draws:+.2f} tolerances from the register "
               f"figure, at the mean point {z_mean:+.2f}; fresh runs at the draws "
               f"{z_runs:+.2f}: ")
    bend = getattr(row, "bend_over_draws", float("nan")) / row.tolerance
    half = getattr(row, "bend_at_half_spread", float("nan")) / row.tolerance
    if abs(z_draws) > 1:
        why = ("the posterior as a whole sits off this target, a compromise the likelihood "
               "makes with the other targets, which more simulations would not remove")
    elif abs(z_runs) <= 1 and abs(bend) >= 0.25:
        why = ("the posterior's draws meet it on average, its mean point does not: the "
               "outcome bends over the posterior's spread. Seed by seed, the runs at the draws "
               f"average {bend:+.2f} tolerances from the mean point's runs, and at the draws "
               f"pulled halfway to the mean {half:+.2f} (a quarter as much if the bend is "
               "quadratic: Jensen's inequality, not the emulators)")
    elif abs(z_mean) > 1:
        why = ("the posterior's draws meet it on average, its mean point does not: the "
               "outcome responds nonlinearly to the parameters")
    else:
        why = ("the emulators put the mean point inside, the simulation there falls outside: "
               "the emulators' error, or the fit's own seeds differing from the fresh ones")
    return numbers + why + "."


def _report(spec: Spec, fit: Fit, check: pd.DataFrame, params: pd.DataFrame,
            waves: pd.DataFrame, rt: pd.DataFrame, rp: pd.DataFrame, figs: dict[str, Path],
            fitted: Path, joint: dict[str, object]) -> str:
    fitted_rows = check[check["role"] == "fitted"]
    n_in = int(fitted_rows["within_tolerance"].fillna(False).sum())
    n_post = int(fitted_rows["within_tolerance_posterior"].fillna(False).sum())
    n_pred = int(fitted_rows["inside_predictive"].sum())
    misses = fitted_rows[fitted_rows["within_tolerance"] == False]  # noqa: E712
    miss_html = "".join(f"<li><b>{report.esc(r.target)}</b>: simulated "
                        f"{report.fmt(r.simulated_mean)} against {report.fmt(r.register)} ± "
                        f"{report.fmt(r.tolerance)}. {miss_reason(r)}</li>"
                        for r in misses.itertuples())
    caveats = fitted_rows[fitted_rows["caveat"].astype(str) != ""]
    caveat_html = "".join(f"<li><b>{report.esc(r.target)}</b>: {report.esc(r.caveat)}</li>"
                          for r in caveats.itertuples())
    chain = fit.posterior.chain
    rights_html = ""
    rights = params[params["parameter"] == RIGHTS]
    if not rights.empty:
        r = rights.iloc[0]
        top_t = ", ".join(f"{x.target} ({x.change_per_prior_range_in_sd:+.1f} sd)"
                          for x in rt.head(3).itertuples())
        top_p = ", ".join(f"{x.parameter} ({x.posterior_correlation:+.2f})"
                          for x in rp.head(3).itertuples())
        rights_html = (
            f"<p><b>The rights-rule cost</b> (<code>{RIGHTS}</code>), on which the policy "
            f"scenarios depend: posterior mean {r.estimate:.2f}, 90 % interval {r.p5:.2f}-"
            f"{r.p95:.2f} (prior {r.prior_low:g}-{r.prior_high:g}); posterior sd "
            f"{r.sd_ratio_to_prior:.0%} of the prior's: <b>{report.esc(r.identification)}</b>. "
            f"The targets that move most with it: {report.esc(top_t)}; the parameters it "
            f"trades off against: {report.esc(top_p)}.</p>")
    bound = params[params["at_prior_bound"] != ""]
    bound_html = ("<p><b>Posteriors against a prior bound</b> (more than a fifth of the draws in "
                  "the outer tenth of the range: the box's end, not the data alone, limits them; "
                  "fine where the end is a natural limit, such as a cost that cannot be "
                  "negative, a reason to widen the box where the end is a guess): "
                  + report.esc(", ".join(f"{r.parameter} ({r.at_prior_bound})"
                                         for r in bound.itertuples())) + ".</p>"
                  if len(bound) else "")
    best_misses = joint["best_point_misses"]
    joint_html = (
        f"<p><b>Joint fit</b>: of the {joint['points']:,} simulated points, "
        f"{joint['all_within']:,} meet every fitted target within tolerance; the closest one "
        + ("meets them all" if not best_misses else
           "still misses " + report.esc(", ".join(best_misses)))
        + " (fit_joint.csv: per target, the share of points within tolerance).</p>")
    table_t = check[["target", "role", "register", "tolerance", "simulated_mean",
                     "posterior_runs_mean", "bend_over_draws", "emulated_at_mean",
                     "predictive_p5",
                     "predictive_p95", "within_tolerance", "within_tolerance_posterior",
                     "inside_predictive"]]
    table_p = params[["parameter", "unit", "prior_low", "prior_high", "estimate", "p5", "p50",
                      "p95", "sd_ratio_to_prior", "identification", "at_prior_bound"]]
    sections = [
        ("Summary", f"<p>{n_in} of {len(fitted_rows)} fitted targets are within their "
                    f"tolerance at the posterior mean (mean of fresh replicates, seeds not "
                    f"used in the fit); averaged over the fresh runs at posterior draws (what "
                    f"<code>--posterior</code> shows), {n_post} of {len(fitted_rows)} are; "
                    f"{n_pred} of {len(fitted_rows)} register figures lie "
                    f"inside their 90 % posterior predictive interval. {fit.evaluations} "
                    f"parameter points in {len(waves)} waves; {len(fit.draws)} posterior draws "
                    f"(about {chain.effective_draws:.0f} effective). Time in this call: "
                    f"{fit.seconds.get('simulating', 0):.0f} s simulating (what more workers "
                    f"or a Dask cluster shorten), {fit.seconds.get('emulators_and_sampler', 0):.0f}"
                    " s fitting emulators and sampling.</p>"
         + (f"<p>Outside tolerance:</p><ul>{miss_html}</ul>" if miss_html else "")
         + (f"<p><b>Fits weaker than they look</b>:</p><ul>{caveat_html}</ul>"
            if caveat_html else "") + joint_html + bound_html + rights_html),
        ("Targets", report.image(figs["targets"], "Each target: simulated minus register, in "
                                 "tolerances.") + report.table(table_t)),
        ("Parameters", "<p>Posterior mean (the point estimate), median and 90 % interval; "
                       "identification = posterior sd / prior sd (below 0.5 well identified; "
                       "near 1 the targets say little).</p>"
         + report.image(figs["marginals"], "Posterior marginals.")
         + report.image(figs["pairs"], "Pairs: the ridges.") + report.table(table_p)),
        ("The rights-rule cost", (report.image(figs["rights"], "What drives rights_cost.")
                                  + report.table(rt) + report.table(rp.head(10)))
         if "rights" in figs else "<p>rights_cost is not a free parameter here.</p>"),
        ("Waves", "<p>History matching: the share of the prior box not ruled out after each "
                  "wave, and the emulators' largest error.</p>" + report.table(waves)),
        ("Method", "<p>History matching with quadratic emulators (ridge regression, terms "
                   "and penalty by 5-fold cross-validation), then an ensemble MCMC (emcee, "
                   "differential-evolution moves) on the last emulators. The likelihood of "
                   "each register figure: Gaussian with covariance = replicate noise (Ledoit-"
                   f"Wolf, {spec.posterior.noise_replicates} fresh replicates) x (1 + 1/R), "
                   "+ the emulator's cross-validated error, + model discrepancy with sd "
                   f"{spec.posterior.discrepancy:g} x tolerance / sqrt(weight) (an "
                   "ASSUMPTION). Simulated moments are means over "
                   f"{spec.replicates} replicates with the same seeds at every point (common "
                   "random numbers). See docs/calibration.md.</p>"
                   f"<p class='small'>Fitted file: <code>{report.esc(fitted)}</code>; tables "
                   "fit_targets.csv, fit_parameters.csv, fit_waves.csv, fit_history.csv, "
                   "posterior_draws.csv.</p>"),
    ]
    return report.page(f"secmig calibration: {spec.name}",
                       f"Fit to register figures, {spec.start}-{spec.end}", sections)

"""Register targets set beside simulated indicators with the same ids.

The targets of ``register_targets.yaml`` are compared as listed; those of
``register_targets_more.yaml`` that the model expresses are mapped to their indicators (a
county name to its key, a band to its centre and half-width); the rest of that file (figures
for all refugees in Norway, observed settlement, which is an input, and evidence) is not a
target. A dict-valued target is compared key by key. The 2005 household-type figures are levels
of an older, more mobile cohort, so for them the *ratio* to the all-types figure is compared.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Any

from simulation.analysis.registry import county_key
from simulation.inputs.defaults import (
    AllocationPolicy,
    Inputs,
    default_composition,
    default_volumes,
    register,
    register_more,
)
from simulation.inputs.parameters import BY_NAME, Params

RATIO_TARGETS = {"retention_5y_by_household_type_2005"}

#: the rules under which the register figures were observed (the registry's defaults)
TODAYS_RULES = ("rights_years", "job_move_exemption", "rights_self_sufficiency",
                "programme_years")


def departures(params: Params, inputs: Inputs) -> list[str]:
    """What in this run departs from the rules and inputs that the register figures describe
    (empty: the register is a check on the model; else it is context only, because it
    describes today's rules, not this counterfactual)."""
    out = []
    for name in TODAYS_RULES:
        p = BY_NAME[name]
        if params[name] != p.default:
            shown = ("yes" if params[name] else "no") if p.kind == "bool" \
                else f"{params[name]:g} {p.unit}"
            today = ("yes" if p.default else "no") if p.kind == "bool" \
                else f"{p.default:g} {p.unit}"
            out.append(f"{name} = {shown} (today: {today})")
    if inputs.allocation != AllocationPolicy():
        out.append("settlement allocation changed")
    built_in = default_volumes()
    if any(abs(v / inputs.scale - built_in.get(y, float("nan"))) > 1e-6 * max(1.0, v)
           or y not in built_in for y, v in inputs.volumes.items()):
        out.append("settlement volumes differ from IMDi's")
    if any(c != default_composition(min(y, 2024)) for y, c in inputs.composition.items()):
        out.append("composition of arrivals changed")
    if inputs.geography.source != "built-in":
        out.append("user geography")
    return out


@dataclass(frozen=True)
class Comparison:
    """One simulated figure beside its register figure."""

    id: str
    key: str  # "" for scalar targets, else the dict key (e.g. "oslo", "2011")
    simulated: float
    register: float | None
    tolerance: float | None
    compared_as: str  # "level" or "ratio to all"

    @property
    def within(self) -> bool | None:
        """True/False when a numeric target exists and the simulated value is known."""
        if self.register is None or self.tolerance is None or math.isnan(self.simulated):
            return None
        return abs(self.simulated - self.register) <= self.tolerance


def ratio_to_all(value: float, all_value: float) -> float:
    """A key's value relative to its family's ``all`` key: how register figures of an older
    cohort are compared (the one definition, for reports and for calibration); NaN where
    ``all`` is zero or unknown."""
    if not all_value or math.isnan(all_value):
        return float("nan")
    return float(value) / float(all_value)


#: targets of register_targets_more.yaml the model expresses: file id -> indicator id
MORE_TARGETS = {
    "out_5y_by_settlement_county_2015": "out_5y_by_settlement_county",
    "retention_5y_weakest_counties": "retention_5y_weakest_counties",
    "resettled_refugees_employed_after_7_years": "resettled_refugees_employed_after_7_years",
    "ukrainians_employed_by_duration_2024": "ukrainians_employed_by_duration_2024",
}


def _more_target(t: dict[str, Any]) -> dict[str, Any] | None:
    """A target of the second file in the first file's form (indicator id, keys, value and
    tolerance), or None where the model has no indicator for it."""
    ind = MORE_TARGETS.get(t["id"])
    if ind is None:
        return None
    value = t["value"]
    if isinstance(value, dict) and "band" in value:  # a band: its centre and half-width
        low, high = (float(v) for v in value["band"])
        return {"id": ind, "value": round((low + high) / 2, 10),
                "tolerance": round((high - low) / 2, 10)}
    if isinstance(value, dict):
        return {"id": ind, "value": {county_key(str(k)): v for k, v in value.items()},
                "tolerance": t["tolerance"]}
    return {"id": ind, "value": value, "tolerance": t["tolerance"]}


def targets() -> list[dict[str, Any]]:
    """The register targets: the first file's as listed, then the second file's that the
    model expresses (mapped to their indicators)."""
    more = [m for t in register_more()["targets"] if (m := _more_target(t)) is not None]
    return [*register()["targets"], *more]


def _band(target: dict[str, Any]) -> tuple[float, float] | None:
    if target["id"] == "no_break_after_year_5":
        return (0.8, 1.25)  # the file's qualitative statement, as its numeric band
    return None


def compare(indicators: dict[str, Any]) -> list[Comparison]:
    """Every target key beside the simulated value of the indicator with the same id."""
    rows: list[Comparison] = []
    for t in targets():
        tid = t["id"]
        sim = indicators.get(tid)
        if sim is None:
            continue
        band = _band(t)
        if band is not None:
            mid, half = (band[0] + band[1]) / 2, (band[1] - band[0]) / 2
            rows.append(Comparison(tid, "", float(sim), mid, half, "level"))
            continue
        value, tol = t["value"], t["tolerance"]
        if isinstance(value, dict):
            for key, reg in value.items():
                if isinstance(sim, dict) and key not in sim and str(key) not in sim:
                    continue  # a key the model does not report (e.g. "in_programme")
                s = sim.get(key, sim.get(str(key), float("nan"))) if isinstance(sim, dict) \
                    else float("nan")
                tk = tol.get(key) if isinstance(tol, dict) else tol
                if tid in RATIO_TARGETS and key != "all":
                    rows.append(Comparison(tid, str(key),
                                           ratio_to_all(s, sim.get("all", float("nan"))),
                                           ratio_to_all(reg, value["all"]),
                                           ratio_to_all(tk, value["all"]), "ratio to all"))
                elif tid in RATIO_TARGETS:
                    continue
                else:
                    rows.append(Comparison(tid, str(key), float(s), float(reg), float(tk),
                                           "level"))
        else:
            rows.append(Comparison(tid, "", float(sim), float(value), float(tol), "level"))
    return rows


def calibration_name(c: Comparison) -> str:
    """The name a fit report gives this comparison's target (``id.key``, ``(ratio to all)``
    for the ratio targets)."""
    name = f"{c.id}.{c.key}" if c.key else c.id
    return name + (" (ratio to all)" if c.compared_as != "level" else "")


@dataclass(frozen=True)
class MissNote:
    """A register target this run misses, beside what the calibration found for it: its
    average over runs at posterior draws (what ``--posterior`` shows) and its 90 % posterior
    predictive interval (with the model discrepancy), both from the fitted file's check."""

    comparison: Comparison
    posterior_runs_mean: float | None
    within_posterior: bool | None
    predictive: tuple[float, float] | None


def miss_notes(comparisons: list[Comparison], checks: list[dict[str, Any]]
               ) -> list[MissNote]:
    """The targets outside tolerance in ``comparisons``, each with the fitted file's check of
    it (``checks``: its ``targets`` list; empty fields where the file does not have them, as
    in files written before the posterior average was recorded)."""
    by_name = {str(c.get("target")): c for c in checks}

    def number(entry: dict[str, Any], key: str) -> float | None:
        value = entry.get(key)
        if isinstance(value, bool) or not isinstance(value, int | float):
            return None
        return None if math.isnan(float(value)) else float(value)

    out = []
    for c in comparisons:
        if c.within is not False:
            continue
        entry = by_name.get(calibration_name(c), {})
        lo, hi = number(entry, "predictive_p5"), number(entry, "predictive_p95")
        post = number(entry, "posterior_runs_mean")
        within = entry.get("within_tolerance_posterior")
        out.append(MissNote(c, post, within if isinstance(within, bool) else None,
                            (lo, hi) if lo is not None and hi is not None else None))
    return out


def describe_miss(note: MissNote, show: Any) -> str:
    """One sentence on a missed target, with ``show(value)`` formatting its values (the
    terminal's and the HTML report's own formatting)."""
    c = note.comparison
    text = (f"{show(c.simulated)} against {show(c.register)} ± {show(c.tolerance)} at the "
            "calibrated point")
    if note.posterior_runs_mean is not None:
        verdict = {True: "within tolerance", False: "also outside tolerance",
                   None: "not judged"}[note.within_posterior]
        text += (f"; averaged over the calibration's runs at posterior draws "
                 f"{show(note.posterior_runs_mean)} ({verdict})")
    if note.predictive is not None:
        lo, hi = note.predictive
        inside = "inside" if lo <= c.register <= hi else "outside"
        text += (f"; the register value is {inside} the 90 % posterior predictive interval "
                 f"{show(lo)} to {show(hi)}")
    return text + "."


MISS_FOOTNOTE = ("The calibrated point is the posterior mean of the parameters. Outcomes "
                 "respond to the parameters nonlinearly, so runs at the posterior's draws can "
                 "meet a target that its mean point misses; --posterior 20 runs them "
                 "(intervals then include parameter uncertainty).")

"""The one parameter registry: every behavioural and policy parameter, typed, with its range.

Scenarios, calibration and sweeps all override parameters *by name* through
:meth:`Params.replace`; an unknown name or an out-of-range value is an error, so a typo can
never silently fall back to a default. Defaults are starting points for calibration, not truths.
Logit effects are on the log-odds of a yearly probability; utility effects are on the
multinomial-logit utility of a destination.
"""

from __future__ import annotations

import difflib
from collections.abc import Iterator, Mapping
from dataclasses import dataclass, replace
from typing import Any, Literal

Kind = Literal["float", "int", "bool"]


@dataclass(frozen=True)
class Parameter:
    """One registry entry: what a parameter is, its default, its allowed range and unit."""

    name: str
    default: float
    low: float
    high: float
    unit: str
    meaning: str
    group: str
    kind: Kind = "float"
    #: calibration prior box (inside low..high, containing the default); None = not a
    #: calibration parameter (a policy lever, an input, or fitted elsewhere: NO_PRIOR says why)
    prior: tuple[float, float] | None = None

    def check(self, value: Any) -> float:
        """Return ``value`` coerced to this parameter's kind, or raise ParameterError."""
        if isinstance(value, bool) and self.kind != "bool":
            raise ParameterError(self.name, value, self.allowed())
        if isinstance(value, (str, bytes)):  # "5" is not 5: YAML and Python give numbers
            raise ParameterError(self.name, value, self.allowed())
        if self.kind == "bool":
            if isinstance(value, bool) or value in (0, 1):
                return float(bool(value))
            raise ParameterError(self.name, value, self.allowed())
        try:
            number = float(value)
        except (TypeError, ValueError):
            raise ParameterError(self.name, value, self.allowed()) from None
        if number != number or not self.low <= number <= self.high:
            raise ParameterError(self.name, value, self.allowed())
        if self.kind == "int":
            if number != int(number):
                raise ParameterError(self.name, value, self.allowed())
            return float(int(number))
        return number

    def allowed(self) -> str:
        """Human-readable allowed values, for error messages."""
        if self.kind == "bool":
            return "true or false"
        if self.kind == "int":
            return f"a whole number from {self.low:g} to {self.high:g} ({self.unit})"
        return f"a number from {self.low:g} to {self.high:g} ({self.unit})"


class ParameterError(ValueError):
    """A parameter override names an unknown parameter or gives a value outside its range."""

    def __init__(self, name: str, value: Any, allowed: str) -> None:
        self.name, self.value, self.allowed = name, value, allowed
        super().__init__(f"parameter '{name}': got {value!r}; allowed: {allowed}")


def _p(name: str, default: float, low: float, high: float, unit: str, meaning: str,
       group: str, kind: Kind = "float") -> Parameter:
    return Parameter(name, default, low, high, unit, meaning, group, kind)


_ENTRIES: tuple[Parameter, ...] = (
    # --- settlement allocation (MODEL.md 4.1) ---
    _p("settling_municipalities_min", 130, 20, 357, "municipalities",
       "Municipalities settling in a year with (almost) no refugees, and the continuity set "
       "(continuity_only); the count rises towards all with the national volume (fitted to "
       "IMDi's counts 2012-2015, 2019-2023 and 2016 decisions, docs/settlement_allocation.md)",
       "settlement", "int"),
    _p("settling_volume_scale", 7360, 1000, 40000, "persons",
       "National volume at which the not-yet-settling municipalities are 63 % drawn in "
       "(fitted, docs/settlement_allocation.md)", "settlement"),
    _p("settlement_size_elasticity", 0.8, 0.2, 1.2, "elasticity",
       "Size part of the quota: population**elasticity when only the core settles (low "
       "volume); below 1, small municipalities settle more per inhabitant (fitted to IMDi "
       "2012-2015 by size class)", "settlement"),
    _p("settlement_size_elasticity_peak", 0.55, 0.2, 1.2, "elasticity",
       "The same elasticity when every municipality is drawn in (peak volume; fitted to IMDi "
       "2022-2023: 16.5-17 % to municipalities under 5,000); in between it moves with the "
       "share drawn in", "settlement"),
    _p("settlement_history_weight", 0.5, 0.0, 1.0, "share",
       "Weight of a municipality's own observed settlement (its mean share of the national "
       "settlement, IMDi 2012-2015 and 2022-2024) in its quota; the rest follows size",
       "settlement"),
    _p("settlement_priority_noise", 0.03, 0.0, 1.0, "share of observed years",
       "Year-to-year randomness in which municipalities are asked to settle, beside each "
       "one's continuity (share of IMDi's observed years it settled)", "settlement"),
    _p("family_reunification_share", 0.17, 0.0, 0.5, "persons per settled person",
       "Family members reunified with settled refugees, added to the cohort's households "
       "(estimate: 150,600 settled by agreement 2010-2023 become ~176,000 persons, of whom "
       "~166,000 are still in Norway in 2024)", "settlement"),
    # --- policy (MODEL.md 4.7) ---
    _p("rights_years", 5, 0, 10, "years",
       "Years after settlement during which moving without agreement costs benefit-dependent "
       "households their rights (0 = no tie)", "policy", "int"),
    _p("rights_cost", 0.6, 0.0, 4.0, "logit",
       "Lower log-odds of moving for a benefit-dependent household that still holds its rights "
       "inside the rights window", "policy"),
    _p("rights_delay_share", 0.5, 0.0, 1.0, "share",
       "Share of the moves the rights cost holds back that are only delayed: carried out in the "
       "first year the household can move without losing rights (0 = every held-back move is "
       "abandoned, 1 = every one is delayed; Danish evidence says mostly delayed, the "
       "Norwegian register shows no marked break after year 5: the fit decides)", "policy"),
    _p("job_move_exemption", 0, 0, 1, "flag",
       "A move to a job keeps the household's rights (no rights cost on job moves)",
       "policy", "bool"),
    _p("rights_self_sufficiency", 0, 0, 1, "flag",
       "Self-sufficiency condition: a move inside the window keeps the household's rights if it "
       "is employed after the move (job moves included)", "policy", "bool"),
    _p("programme_years", 2, 0, 4, "years",
       "Length of the introduction programme, a right only in the settlement municipality",
       "policy", "int"),
    # --- life course: employment and income (MODEL.md 4.2), per adult ---
    _p("employment_intercept", -3.08, -8.0, 2.0, "logit",
       "Log-odds of a non-employed adult finding work in a year (a man, reference levels)",
       "labour"),
    _p("employment_duration_effect", 0.05, 0.0, 1.5, "logit per year",
       "Rise in job-finding log-odds per year since settlement, up to 6 years (SSB: employment "
       "rises with duration of residence; fitted small: leaving the programme and belonging "
       "carry most of the rise)", "labour"),
    _p("employment_labour_effect", 1.45, 0.0, 5.0, "logit per unit",
       "Job-finding log-odds per unit of local labour-market strength (0..1; spread across "
       "municipalities: IMDikator 2013)", "labour"),
    _p("employment_belonging_effect", 1.0, 0.0, 4.0, "logit per unit",
       "Job-finding log-odds per unit of belonging (0..1; ASSUMPTION, MODEL.md 4.2)", "labour"),
    _p("employment_programme_effect", -0.25, -5.0, 0.0, "logit",
       "Lower job-finding log-odds while in the introduction programme (a full-time programme)",
       "labour"),
    _p("employment_female_effect", -0.83, -4.0, 0.0, "logit",
       "Job-finding log-odds of a woman against a man (SSB: after 8 years ~60 % of refugee men "
       "and ~35 % of women self-supporting)", "labour"),
    _p("employment_mother_effect", -0.4, -3.0, 0.0, "logit",
       "Further job-finding log-odds of a mother (woman in a household with children): "
       "ASSUMPTION, young children keep mothers out of work longer", "labour"),
    _p("employment_ukraine_effect", 1.2, -3.0, 3.0, "logit",
       "Job-finding log-odds of Ukrainians against other refugees of the same sex and household "
       "type (NAV 2024: 18 % employed overall, ~30 % after about two years: a slow first year, "
       "then faster than earlier groups)", "labour"),
    _p("employment_exit_rate", 0.04, 0.0, 0.3, "per year",
       "Yearly probability that an employed adult loses work (ASSUMPTION)", "labour"),
    _p("wage_level", 3.0, 1.0, 6.0, "G per adult",
       "Yearly earnings of an employed adult where labour-market strength is 0.5", "labour"),
    _p("wage_labour_effect", 0.6, 0.0, 1.5, "share",
       "Earnings span between the weakest and strongest labour market (factor 1 +/- half this)",
       "labour"),
    _p("benefit_level", 1.2, 0.5, 2.5, "G per adult",
       "Yearly social benefits of a non-employed adult outside the programme", "labour"),
    _p("stipend_level", 2.0, 1.0, 3.0, "G per adult",
       "Introduction stipend per adult in the programme (2 G by law; two thirds under 25)",
       "labour"),
    _p("income_noise", 0.05, 0.0, 0.6, "log sd",
       "Year-to-year spread of household income around its expected level", "labour"),
    _p("move_keep_job", 0.7, 0.0, 1.0, "probability",
       "Chance that an employed adult keeps (or moves with) work on a non-job move",
       "labour"),
    # --- needs ---
    _p("health_need_share", 0.15, 0.0, 0.5, "share",
       "Share of households with health needs at settlement", "needs"),
    _p("school_need_share", 0.3, 0.0, 1.0, "share",
       "Share of families with children who have a youth needing upper-secondary school at "
       "settlement", "needs"),
    _p("school_need_onset", 0.08, 0.0, 0.5, "per year",
       "Yearly chance that a family without one gets a youth needing upper-secondary school",
       "needs"),
    _p("higher_education_onset", 0.06, 0.0, 0.5, "per year",
       "Yearly chance that a young adult (19-30) wants higher education once the programme ends",
       "needs"),
    _p("need_end_rate", 0.2, 0.0, 1.0, "per year",
       "Yearly chance that an education need ends (youth grows up, study ends); health "
       "needs last",
       "needs"),
    # --- belonging and integration quality (MODEL.md 4.3, 4.4) ---
    _p("belonging_rate", 0.25, 0.0, 1.0, "per year",
       "Yearly growth of belonging towards 1 in an ideal place", "belonging"),
    _p("belonging_quality_weight", 1.0, 0.0, 3.0, "weight",
       "Weight of the municipality's integration quality in belonging growth", "belonging"),
    _p("belonging_network_weight", 0.5, 0.0, 3.0, "weight",
       "Weight of local co-ethnic presence in belonging growth", "belonging"),
    _p("belonging_employment_weight", 0.5, 0.0, 3.0, "weight",
       "Weight of having work in belonging growth", "belonging"),
    _p("belonging_needs_weight", 0.5, 0.0, 3.0, "weight",
       "Weight of having one's needs met locally in belonging growth", "belonging"),
    _p("belonging_reset", 0.7, 0.0, 1.0, "share",
       "Share of belonging lost on a move", "belonging"),
    _p("quality_growth", 0.15, 0.0, 0.6, "per year",
       "Yearly growth of integration quality towards 1 in a year the municipality settles",
       "belonging"),
    _p("quality_decay", 0.15, 0.0, 0.6, "per year",
       "Yearly decay of integration quality in a year without settlement", "belonging"),
    # --- exits ---
    _p("emigration_rate", 0.008, 0.0, 0.05, "per year",
       "Yearly probability that a household emigrates (estimate)", "exit"),
    _p("death_rate", 0.002, 0.0, 0.02, "per year",
       "Yearly probability that a household leaves the population through death (estimate)",
       "exit"),
    _p("emigration_rural_ratio", 1.5, 1.0, 4.0, "hazard ratio",
       "Emigration hazard of a household still in a rural (centrality 5-6) settlement "
       "municipality in its first three years, relative to others (CMI: families settled in "
       "rural municipalities emigrated more, usually soon after arrival; the size is an "
       "ASSUMPTION)", "exit"),
    # --- move decision (MODEL.md 4.5) ---
    _p("move_intercept", -1.1, -8.0, 2.0, "logit",
       "Log-odds of a general move for a reference single man, age 30, after the programme",
       "move"),
    _p("move_first_year_effect", -1.0, -5.0, 1.0, "logit",
       "Settlement year: only part of a year to move in", "move"),
    _p("move_programme_effect", -1.5, -5.0, 0.0, "logit",
       "In the introduction programme, which is lost on moving", "move"),
    _p("move_duration_effect", 0.12, -0.5, 1.0, "logit per year",
       "Change per year after the programme has ended", "move"),
    _p("move_single_woman_effect", -0.3, -3.0, 1.0, "logit",
       "Single woman relative to single man", "move"),
    _p("move_couple_effect", -0.35, -3.0, 1.0, "logit",
       "Couple without children relative to single man", "move"),
    _p("move_family_effect", -0.8, -3.0, 1.0, "logit",
       "Couple with children relative to single man", "move"),
    _p("move_lone_parent_effect", -0.7, -3.0, 1.0, "logit",
       "Lone parent relative to single man", "move"),
    _p("move_age_effect", -0.03, -0.2, 0.1, "logit per year",
       "Change per year of the head's age above 30", "move"),
    _p("move_employed_effect", -0.4, -3.0, 1.0, "logit", "Having work", "move"),
    _p("move_belonging_effect", -2.0, -6.0, 0.0, "logit per unit",
       "Belonging (0..1) holds people", "move"),
    _p("move_network_effect", -0.08, -1.0, 0.5, "logit per log person",
       "Local co-ethnic stock, per unit of log(1 + persons)", "move"),
    _p("move_size_effect", -0.25, -1.0, 0.5, "logit per log person",
       "Municipality size, per unit of log population relative to 10,000", "move"),
    _p("move_centrality_effect", 0.3, -0.5, 1.0, "logit per class",
       "Per centrality class (1 most central, 6 least), relative to 3.5", "move"),
    _p("move_north_effect", 0.4, -1.0, 2.0, "logit",
       "Living in Northern Norway (Nord-Norge), relative to the east (SSB: 32-35 % of the 2015 "
       "cohort settled in Nordland or Troms og Finnmark had left after 5 years, 18 % "
       "nationally)", "move"),
    _p("move_west_effect", 0.2, -1.0, 2.0, "logit",
       "Living in Western or Central Norway (Vestlandet, Trøndelag), relative to the east "
       "(SSB: Sogn og Fjordane and Nord-Trøndelag among the five weakest counties)", "move"),
    _p("move_network_share_effect", -0.1, -1.0, 0.5, "logit per percentage point",
       "Share of the municipality's population from the household's group, per percentage "
       "point, beside the network's size (the register counts both; Edin et al. 2003 and "
       "Andersson 2021 find the network's composition matters, not only its size; the "
       "direction here is an ASSUMPTION left to the fit)", "move"),
    _p("move_network_reach_effect", -0.05, -1.0, 0.5, "logit per log person",
       "Co-ethnics of the household's group in other municipalities within reach, per unit of "
       "log(1 + persons weighted by exp(-km / 50)): a network nearby makes a move to it less "
       "needed", "move"),
    _p("move_unmet_need_effect", 0.8, 0.0, 3.0, "logit",
       "An education or health need the municipality cannot meet", "move"),
    _p("move_tie_effect", 1.0, 0.0, 4.0, "logit",
       "A tie (family, partner, friends) in another municipality, weighted by its distance "
       "(1 - exp(-km / 50): a tie next door hardly pulls)", "move"),
    _p("job_move_intercept", -4.5, -9.0, 0.0, "logit",
       "Log-odds of taking a job in another municipality in a year", "move"),
    _p("job_move_labour_effect", -1.5, -5.0, 1.0, "logit per unit",
       "Weak local labour markets push job moves (per unit of local labour strength)", "move"),
    _p("job_move_employed_effect", -0.3, -3.0, 2.0, "logit",
       "Employed households relative to non-employed for job moves", "move"),
    _p("tie_share", 0.2, 0.0, 1.0, "share",
       "Share of households arriving with a tie to a municipality where their group lives "
       "(family, friends; often elsewhere)", "move"),
    _p("tie_onset_rate", 0.03, 0.0, 0.3, "per year",
       "Yearly chance that a single forms a tie elsewhere (partner, friends)", "move"),
    # --- destination choice (MODEL.md 4.6) ---
    _p("dest_size_effect", 0.4, 0.0, 2.0, "utility per log person", "Log population",
       "destination"),
    _p("dest_centrality_effect", -0.15, -1.0, 0.5, "utility per class",
       "Per centrality class (negative: central places attract)", "destination"),
    _p("dest_network_effect", 0.5, 0.0, 2.0, "utility per log person",
       "Co-ethnic stock of the household's group, per unit of log(1 + persons)",
       "destination"),
    _p("dest_labour_effect", 1.0, 0.0, 5.0, "utility per unit",
       "Labour-market strength (0..1); doubled for job moves", "destination"),
    _p("dest_service_effect", 1.0, 0.0, 4.0, "utility per need met",
       "Services that meet the household's needs (school, higher education, hospital)",
       "destination"),
    _p("dest_distance_effect", -0.8, -3.0, 0.0, "utility per log km",
       "Distance from the current municipality, per unit of log(1 + km)", "destination"),
    _p("dest_same_county_effect", 1.2, -1.0, 3.0, "utility", "Same county as now",
       "destination"),
    _p("dest_oslo_effect", 0.0, -1.0, 3.0, "utility", "Oslo", "destination"),
    _p("dest_east_effect", 0.3, -1.0, 2.0, "utility", "Eastern Norway (Østlandet)",
       "destination"),
    _p("dest_housing_effect", -0.5, -3.0, 1.0, "utility per log price",
       "Housing price per m2 relative to the national median, per unit of log (negative: cheaper "
       "places attract). ASSUMPTION with weak evidence: the Østfold towns, cheap and near Oslo's "
       "jobs, gain as many movers per person settled as the big cities (SSB, NRK 2023; NOVA "
       "2008: movers found homes through friends and the private rental market); no study "
       "estimates its size, the fit does", "destination"),
    _p("dest_tie_effect", 3.0, 0.0, 8.0, "utility", "The municipality of the household's tie",
       "destination"),
    # --- the municipal ledger (engine/ledger.py): accounting, no effect on behaviour ---
    _p("grant_split_origin_share", 0.5, 0.0, 1.0, "share",
       "Share of a moving year's integration grant kept by the municipality moved from "
       "(IMDi's table gives it 1/8, 3/8, 5/8 or 7/8 by the quarter of the move: 1/2 for moves "
       "spread evenly over the year, an ASSUMPTION)", "ledger"),
    _p("social_assistance_take_up", 0.5, 0.0, 1.0, "share",
       "Share of the guideline social assistance that households without work after the "
       "programme draw from the municipality (ASSUMPTION; the rest is state benefits)",
       "ledger"),
    _p("health_need_cost", 40_000, 0.0, 500_000, "NOK a year (2024)",
       "Extra municipal cost of a household with a health need, per year (ASSUMPTION: no "
       "published figure found)", "ledger"),
)

#: Calibration priors: the box a parameter may take in calibration and screening
#: (docs/calibration.md, "Screening"). The 28 boxes marked "fit" are those of the earlier fit
#: (calibration/targets.yaml before the screen); the others are plausible ranges around the
#: default, most of them an ASSUMPTION (no study gives the size), wide enough that the screen
#: can tell whether the targets care.
PRIORS: dict[str, tuple[float, float]] = {
    "family_reunification_share": (0.05, 0.3),    # fit (SSB: ~176,000 persons of 150,600)
    "rights_cost": (0.0, 2.0),                    # fit
    "rights_delay_share": (0.0, 1.0),             # fit (the whole range: the fit decides)
    # labour
    "employment_intercept": (-4.0, -2.0),         # fit
    "employment_duration_effect": (0.0, 0.5),     # fit
    "employment_labour_effect": (0.0, 3.0),       # fit (IMDikator 2013 slope)
    "employment_belonging_effect": (0.0, 2.5),    # ASSUMPTION
    "employment_programme_effect": (-2.0, 0.0),   # fit
    "employment_female_effect": (-1.5, 0.0),      # fit (SSB: 60 % men, 35 % women)
    "employment_mother_effect": (-1.5, 0.0),      # ASSUMPTION
    "employment_ukraine_effect": (-1.0, 3.0),     # fit (NAV 2024), widened
    "employment_exit_rate": (0.01, 0.1),          # ASSUMPTION: 1-10 % of jobs lost a year
    "wage_level": (2.0, 4.5),                     # ASSUMPTION: 2-4.5 G a year in work
    "wage_labour_effect": (0.0, 1.2),             # fit
    "benefit_level": (0.8, 1.8),                  # ASSUMPTION: social assistance ~1-1.5 G
    "stipend_level": (1.6, 2.0),                  # law: 2 G, two thirds under 25 (mean >= 1.6)
    "income_noise": (0.0, 0.3),                   # fit
    "move_keep_job": (0.2, 1.0),                  # fit
    # needs (all ASSUMPTION)
    "health_need_share": (0.05, 0.3),
    "school_need_share": (0.1, 0.5),
    "school_need_onset": (0.02, 0.15),
    "higher_education_onset": (0.02, 0.15),
    "need_end_rate": (0.1, 0.4),                  # needs lasting 2.5-10 years
    # belonging and integration quality (all ASSUMPTION, MODEL.md 4.3-4.4)
    "belonging_rate": (0.1, 0.5),
    "belonging_quality_weight": (0.25, 2.0),
    "belonging_network_weight": (0.0, 1.5),
    "belonging_employment_weight": (0.0, 1.5),
    "belonging_needs_weight": (0.0, 1.5),
    "belonging_reset": (0.4, 1.0),
    "quality_growth": (0.05, 0.3),
    "quality_decay": (0.05, 0.3),
    # exits
    "emigration_rate": (0.003, 0.015),            # fit
    "death_rate": (0.001, 0.004),                 # ASSUMPTION: a young population
    "emigration_rural_ratio": (1.0, 2.5),         # ASSUMPTION (CMI: more, not how much)
    # move decision
    "move_intercept": (-2.5, 0.0),                # fit
    "move_first_year_effect": (-2.5, 0.5),        # fit
    "move_programme_effect": (-4.0, 0.0),         # fit, widened (docs/calibration.md)
    "move_duration_effect": (-0.1, 0.6),          # fit, widened (docs/calibration.md)
    "move_single_woman_effect": (-1.0, 0.5),      # ASSUMPTION (SSB 2012: women stay more)
    "move_couple_effect": (-1.5, 0.5),            # fit
    "move_family_effect": (-2.0, 0.0),            # fit
    "move_lone_parent_effect": (-1.5, 0.0),       # ASSUMPTION (SSB 2012: they stay most)
    "move_age_effect": (-0.06, 0.0),              # ASSUMPTION: migration falls with age
    "move_employed_effect": (-1.2, 0.2),          # ASSUMPTION
    "move_belonging_effect": (-4.0, -0.5),        # ASSUMPTION
    "move_network_effect": (-0.4, 0.2),           # ASSUMPTION
    "move_size_effect": (-0.6, 0.5),              # ASSUMPTION (top widened from 0.1: piled)
    "move_centrality_effect": (0.0, 0.8),         # fit
    "move_north_effect": (-0.5, 1.5),             # fit (SSB monitor: 32-35 % vs 18 %)
    "move_west_effect": (-0.5, 1.5),              # fit
    "move_network_share_effect": (-0.5, 0.2),     # fit
    "move_network_reach_effect": (-0.4, 0.2),     # fit
    "move_unmet_need_effect": (0.2, 1.6),         # ASSUMPTION
    "move_tie_effect": (0.3, 2.0),                # ASSUMPTION
    "job_move_intercept": (-6.0, -3.5),           # ASSUMPTION: 0.25-3 % a year
    "job_move_labour_effect": (-3.0, 0.0),        # ASSUMPTION
    "job_move_employed_effect": (-1.0, 0.5),      # ASSUMPTION
    "tie_share": (0.05, 0.4),                     # ASSUMPTION
    "tie_onset_rate": (0.01, 0.08),               # ASSUMPTION
    # destination choice
    "dest_size_effect": (0.1, 1.0),               # ASSUMPTION
    "dest_centrality_effect": (-0.5, 0.2),        # ASSUMPTION
    "dest_network_effect": (0.1, 1.2),            # ASSUMPTION (Edin et al. 2003: networks pull)
    "dest_labour_effect": (0.25, 2.5),            # ASSUMPTION
    "dest_service_effect": (0.25, 2.0),           # ASSUMPTION
    "dest_distance_effect": (-1.6, -0.3),         # ASSUMPTION: gravity elasticities ~0.5-1.5
    "dest_same_county_effect": (0.0, 2.5),        # fit
    "dest_oslo_effect": (-1.0, 1.5),              # fit
    "dest_east_effect": (-0.5, 1.5),              # fit
    "dest_housing_effect": (-2.0, 0.5),           # fit
    "dest_tie_effect": (1.5, 5.0),                # ASSUMPTION
}

#: Why a registry parameter has no prior (is never calibrated).
NO_PRIOR: dict[str, str] = {
    "settling_municipalities_min": "input: fitted to IMDi's settlement counts "
                                   "(docs/settlement_allocation.md)",
    "settling_volume_scale": "input: fitted to IMDi's settlement counts "
                             "(docs/settlement_allocation.md)",
    "settlement_size_elasticity": "settlement allocation, fitted separately to IMDi's counts "
                                  "by size class (docs/settlement_allocation.md)",
    "settlement_size_elasticity_peak": "settlement allocation, fitted separately to IMDi "
                                       "2022-2023 (docs/settlement_allocation.md)",
    "settlement_history_weight": "settlement allocation, fitted separately "
                                 "(docs/settlement_allocation.md)",
    "settlement_priority_noise": "settlement allocation, fitted separately "
                                 "(docs/settlement_allocation.md)",
    "rights_years": "policy lever",
    "job_move_exemption": "policy lever",
    "rights_self_sufficiency": "policy lever",
    "programme_years": "policy lever (the law: 2 years)",
    "grant_split_origin_share": "ledger input: accounting, no effect on behaviour",
    "social_assistance_take_up": "ledger input: accounting, no effect on behaviour",
    "health_need_cost": "ledger input: accounting, no effect on behaviour",
}

REGISTRY: tuple[Parameter, ...] = tuple(replace(p, prior=PRIORS.get(p.name)) for p in _ENTRIES)

BY_NAME: dict[str, Parameter] = {p.name: p for p in REGISTRY}

#: the policy levers, in registry order: a scenario's `policy:` section takes exactly these
POLICY_KEYS: tuple[str, ...] = tuple(p.name for p in REGISTRY if p.group == "policy")


def suggest(name: str) -> str:
    """A 'did you mean' hint for a misspelt parameter name ('' when nothing is close)."""
    close = difflib.get_close_matches(name, BY_NAME, n=1, cutoff=0.6)
    return f" (did you mean '{close[0]}'?)" if close else ""


class Params(Mapping[str, float]):
    """An immutable set of parameter values: the registry's defaults plus validated overrides.

    Values read as attributes (``params.rights_years``) so stage code stays short; every value
    is a float (switches are 0.0 or 1.0, whole numbers like 5.0).

    Args:
        overrides: values by registry name (`secmig params` lists them). An unknown name, a
            value outside the registry range, a text such as "5" or a fraction for a
            whole-number parameter raises :class:`ParameterError` naming what is allowed (with
            a did-you-mean for a misspelt name).

    Example::

        from simulation import Params, run

        params = Params({"rights_years": 3, "job_move_exemption": True})
        params.rights_years                     # 3.0
        params.replace(rights_years=0)          # a copy: the rule switched off
        params.changed()                        # {'rights_years': 3.0, 'job_move_exemption': 1.0}
        results = run(params, seed=1)
    """

    __slots__ = ("_values",)

    def __init__(self, overrides: Mapping[str, Any] | None = None) -> None:
        values = {p.name: float(p.default) for p in REGISTRY}
        for name, value in (overrides or {}).items():
            if name not in BY_NAME:
                raise ParameterError(name, value, "a parameter name from the registry"
                                     + suggest(name) + "; see `secmig params`")
            values[name] = BY_NAME[name].check(value)
        object.__setattr__(self, "_values", values)

    def replace(self, **overrides: Any) -> Params:
        """A copy with some values changed (validated)."""
        return Params({**self._values, **overrides})

    def __getattr__(self, name: str) -> float:
        try:
            return self._values[name]
        except KeyError:
            raise AttributeError(f"no parameter '{name}'{suggest(name)}") from None

    def __setattr__(self, name: str, value: Any) -> None:
        raise AttributeError("Params is immutable; use replace()")

    def __getitem__(self, name: str) -> float:
        return self._values[name]

    def __iter__(self) -> Iterator[str]:
        return iter(self._values)

    def __len__(self) -> int:
        return len(self._values)

    def __reduce__(self) -> tuple[type, tuple[dict[str, float]]]:
        return (Params, (dict(self._values),))

    def changed(self) -> dict[str, float]:
        """Only the values that differ from the registry defaults."""
        return {k: v for k, v in self._values.items() if v != BY_NAME[k].default}

    def __repr__(self) -> str:
        return f"Params({self.changed()})"


def calibrated(path: str | None = None) -> Params:
    """The calibrated point estimate: registry defaults overridden by the 'parameters' of a
    fitted file (default: the copy of calibration/fitted.yaml shipped in the package)."""
    from importlib.resources import files
    from pathlib import Path

    from simulation.inputs.yamlsource import safe_load

    source = Path(path) if path else files("simulation") / "data" / "fitted.yaml"
    text = source.read_text(encoding="utf-8")
    return Params(safe_load(text)["parameters"])


def calibration_parameters() -> tuple[Parameter, ...]:
    """The registry entries with a calibration prior (screened, and free if the screen says
    so), in registry order."""
    return tuple(p for p in REGISTRY if p.prior is not None)


def registry_table() -> list[dict[str, Any]]:
    """The registry as rows (for `secmig params`, docs and templates)."""
    return [
        {"name": p.name, "group": p.group, "default": p.default, "low": p.low, "high": p.high,
         "unit": p.unit, "kind": p.kind, "meaning": p.meaning,
         "prior_low": p.prior[0] if p.prior else None,
         "prior_high": p.prior[1] if p.prior else None}
        for p in REGISTRY
    ]

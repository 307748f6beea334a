"""The reference model: the engine's rules written out per household, for reading and testing.

The engine (model.py and the stage modules) keeps households as numpy columns and runs every
yearly stage as one vectorized function; that is fast but hides the rules behind array
arithmetic. This module applies the *same* rules to one household at a time: each household
is a mesa :class:`HouseholdAgent` with plain attributes, each rule a short method with scalar
math (``math.exp``, ``if``), and destination choice a loop over all municipalities. It serves
three purposes (MODEL.md 8):

* teaching: the decision rules can be read top to bottom, one household at a time;
* testing: tests/test_reference.py checks that the engine agrees with it *statistically*
  (households draw from mesa's ``model.random`` one at a time, the engine from its named
  vectorized draws, so the two are never bit-identical);
* benchmarking: it is the baseline of the engine's performance ratio.

What it shares with the engine, so that only the rules are restated here:

* the year loop, observation, data collection and results (loop.YearLoop, driver.simulate,
  results.build_results): each year its agents are observed as an engine World snapshot
  (:meth:`ReferenceModel.world`), so both models publish the same tables by construction;
* the constants of the rules (terms.py) and the run's fixed tables (RunParams);
* the municipality-level settlement steps: the arriving cohort, which municipalities settle
  and their quotas (``settlement.place_cohort``, with the engine's named draws).

Everything a household does after arriving (its tie, work, income, needs, belonging, exit,
move decision, destination choice and the move itself) is written out below, and the stage
functions at the end run it for every household in the engine's order (MODEL.md 3). Within a
stage every household reads the same snapshot of the network stocks, exactly as the
vectorized engine does, so the order in which households are visited does not matter.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import dataclass, fields
from typing import Any

import mesa
import numpy as np

from simulation.engine.driver import check_params, simulate
from simulation.engine.households import (
    ADULTS_BY_TYPE,
    EXIT_DEATH,
    EXIT_EMIGRATION,
    EXIT_NONE,
    FAMILY_TYPES,
    LONE_PARENT,
    NO_MUNICIPALITY,
    SINGLE_MAN,
    SINGLE_WOMAN,
    Households,
)
from simulation.engine.loop import YearLoop
from simulation.engine.randomness import Draws
from simulation.engine.results import Results
from simulation.engine.runparams import (
    NORTH_REGIONS,
    WEST_REGIONS,
    RunParams,
    relative_housing_price,
)
from simulation.engine.stages import STAGES
from simulation.engine.stages.settlement import TIE_TO_DRAW, place_cohort
from simulation.engine.terms import (
    EARLY_EMIGRATION_YEARS,
    EMPLOYMENT_DURATION_CAP,
    LONE_PARENT_FEMALE_SHARE,
    NETWORK_SATURATION,
    REACH_KM,
    REFERENCE_CENTRALITY,
    REFERENCE_POPULATION,
    RURAL_CENTRALITY,
    TIE_POPULATION_WEIGHT,
    UKRAINE,
)
from simulation.engine.world import EventLog, World, initial_quality, size_score
from simulation.inputs.defaults import Inputs, default_inputs
from simulation.inputs.parameters import Params

Stock = list[list[float]]  # persons with refugee background by [country group][municipality]

def logistic(log_odds: float) -> float:
    """Probability from log-odds."""
    return 1.0 / (1.0 + math.exp(-log_odds))


@dataclass(slots=True)
class Place:
    """One municipality: static facts from the geography and the little state that changes.

    Municipalities are not agents here (they decide nothing in the reference); the engine's
    mesa municipality agents only report this same state.
    """

    index: int
    code: str
    county: int
    population: float
    log_population: float
    centrality: int
    labour_market: float
    upper_secondary: bool
    higher_education: bool
    hospital: bool
    east: bool
    oslo: bool
    log_housing: float  # log(housing price per m2 / national median)
    north: bool  # Nord-Norge (the move decision's regional term)
    west: bool  # Vestlandet or Trøndelag
    size_score: float
    quality: float  # integration quality, 0..1 (MODEL.md 4.4)
    settles: bool = False  # settles refugees this year
    settled: float = 0.0  # persons settled here this year
    moves_in: float = 0.0  # persons moving in this year
    moves_out: float = 0.0  # persons moving out this year


@dataclass(frozen=True)
class MovePlan:
    """A household's decision to move this year (stage 4)."""

    job: bool  # a job move (taking work elsewhere) rather than a general move
    holds_rights: bool  # still held its settlement rights when it decided
    delayed: bool = False  # a move the rights rule had held back, made now that it is free

class HouseholdAgent(mesa.Agent):
    """A refugee household: the decision unit of the model (MODEL.md 2).

    ``household`` is its id: the position in the order of arrival, as in the engine, so the
    Results tables of both models mean the same.
    """

    model: ReferenceModel

    def __init__(self, model: ReferenceModel, household: int, cohort: int, municipality: int,
                 htype: int, group: int, size: int, age0: int, productivity: float,
                 need_school: bool, need_health: bool) -> None:
        super().__init__(model)
        self.household = household
        self.cohort = cohort  # settlement year
        self.settlement = municipality  # settlement municipality (index)
        self.municipality = municipality  # current municipality (index)
        self.htype = htype  # index into HOUSEHOLD_TYPES
        self.group = group  # index into COUNTRY_GROUPS
        self.size = size  # persons
        self.age0 = age0  # head's age at settlement
        self.productivity = productivity  # lasting individual earnings factor
        self.alive = True  # living in Norway
        self.exit_year = -1
        self.exit_reason = EXIT_NONE
        # adults by slot (MODEL.md 4.2): a is the single adult, the lone parent or the man of a
        # couple; b, the woman of a couple, exists only in couples. Children do not work.
        self.female_a = (htype == SINGLE_WOMAN
                         or (htype == LONE_PARENT
                             and self.random.random() < LONE_PARENT_FEMALE_SHARE))
        self.female_b = self.has_b
        self.employed_a = False
        self.employed_b = False
        self.income = 0.0  # household income this year, in G
        self.programme_lost = False  # moved away during the introduction programme
        self.rights_lost = False  # moved without agreement inside the rights window
        self.delayed_move = False  # a move held back by the rights rule, still to come
        self.belonging = 0.0
        self.need_school = need_school  # a youth needing upper-secondary school
        self.need_higher = False  # a young adult wanting higher education
        self.need_health = need_health
        self.tie = NO_MUNICIPALITY  # municipality of a tie (family, partner, friends), or -1
        self.moves = 0
        self.pending_event: dict[str, Any] | None = None  # move awaiting its income-after

    # ----------------------------------------------------------------- simple facts

    def years_since(self, year: int) -> int:
        """Years since settlement (0 in the settlement year)."""
        return year - self.cohort

    def age(self, year: int) -> int:
        """Head's age this year."""
        return self.age0 + self.years_since(year)

    @property
    def adults(self) -> int:
        """Adults in the household (income is per adult)."""
        return int(ADULTS_BY_TYPE[self.htype])

    @property
    def has_b(self) -> bool:
        """A second adult (slot b): couples with or without children."""
        return self.adults == 2

    @property
    def employed(self) -> bool:
        """At least one adult employed (else benefit-dependent, for the rights rule)."""
        return self.employed_a or self.employed_b

    @property
    def employed_adults(self) -> int:
        return int(self.employed_a) + int(self.employed_b)

    @property
    def is_single(self) -> bool:
        return self.htype in (SINGLE_MAN, SINGLE_WOMAN)

    @property
    def place(self) -> Place:
        """The municipality the household lives in now."""
        return self.model.places[self.municipality]

    def in_programme(self, year: int) -> bool:
        """In the introduction programme: its first years, an adult head of 18-55, and only in
        the settlement municipality (moving away loses it for good; MODEL.md 4.7)."""
        p = self.model.params
        age = self.age(year)
        return (self.alive and self.years_since(year) < p.programme_years and 18 <= age <= 55
                and not self.programme_lost and self.municipality == self.settlement)

    def holds_rights(self, year: int) -> bool:
        """Inside the rights window and not yet lost by an earlier move without agreement."""
        return self.years_since(year) < self.model.params.rights_years and not self.rights_lost

    def has_unmet_need(self) -> bool:
        """An education or health need the current municipality cannot meet."""
        here = self.place
        return ((self.need_school and not here.upper_secondary)
                or (self.need_higher and not here.higher_education)
                or (self.need_health and not here.hospital))

    def employment_log_odds(self, year: int, place: Place, programme: bool,
                            female: bool) -> float:
        """Log-odds of one adult (a woman if ``female``) finding work this year in ``place``
        (MODEL.md 4.2): rises with years since settlement (up to 6), the local labour market
        and belonging; lower in the programme, for women, for mothers (women in households
        with children) and for Ukrainians."""
        p = self.model.params
        mother = female and self.htype in FAMILY_TYPES
        return (p.employment_intercept
                + p.employment_duration_effect * min(self.years_since(year),
                                                     EMPLOYMENT_DURATION_CAP)
                + p.employment_labour_effect * place.labour_market
                + p.employment_belonging_effect * self.belonging
                + p.employment_programme_effect * programme
                + p.employment_female_effect * female
                + p.employment_mother_effect * mother
                + p.employment_ukraine_effect * (self.group == UKRAINE))

    def adults_by_slot(self) -> list[str]:
        """The adult slots this household has ("a", and "b" in couples)."""
        return ["a", "b"] if self.has_b else ["a"]

    # ----------------------------------------------------------------- stage 1: tie on arrival

    def draw_tie(self, tie_weights: Stock) -> None:
        """Point the household's tie to a municipality where its group lives (by persons)."""
        self.tie = self.random.choices(range(len(tie_weights[self.group])),
                                       weights=tie_weights[self.group])[0]

    # ----------------------------------------------------------------- stage 2: life course

    def live_a_year(self, year: int, stock: Stock, tie_weights: Stock) -> None:
        """Work, income, needs, belonging and ties for one year (MODEL.md 4.2-4.3)."""
        p = self.model.params
        if not self.alive:
            self.income = 0.0
            self.pending_event = None
            return
        programme = self.in_programme(year)

        # work, per adult: a non-employed adult may find a job, an employed one may lose it
        for slot in self.adults_by_slot():
            female = getattr(self, f"female_{slot}")
            if getattr(self, f"employed_{slot}"):
                if self.random.random() < p.employment_exit_rate:
                    setattr(self, f"employed_{slot}", False)
            elif self.random.random() < logistic(self.employment_log_odds(
                    year, self.place, programme, female)):
                setattr(self, f"employed_{slot}", True)

        # income, summed over the adults: a wage by local labour market for each employed
        # adult, else the stipend in the programme (two thirds under 25), else social
        # benefits; with a little year-to-year noise
        labour = self.place.labour_market
        wage = p.wage_level * (1 + p.wage_labour_effect * (labour - 0.5)) * self.productivity
        if programme:
            not_working = p.stipend_level * (2 / 3 if self.age(year) < 25 else 1.0)
        else:
            not_working = p.benefit_level
        income = sum(wage if getattr(self, f"employed_{slot}") else not_working
                     for slot in self.adults_by_slot())
        self.income = income * math.exp(p.income_noise * self.random.gauss(0.0, 1.0))
        if self.pending_event is not None:  # a move last year: record income one year after
            self.pending_event["income_after"] = self.income
            self.pending_event = None

        # needs: a youth reaching upper-secondary age, a young adult wanting to study; needs
        # may also end (the youth grows up, the study ends)
        if self.htype in FAMILY_TYPES and self.random.random() < p.school_need_onset:
            self.need_school = True
        age = self.age(year)
        young = 19 <= age <= 30 and self.years_since(year) >= p.programme_years
        if young and not programme and self.random.random() < p.higher_education_onset:
            self.need_higher = True
        if self.random.random() < p.need_end_rate:
            self.need_school = False
        if self.random.random() < p.need_end_rate:
            self.need_higher = False

        # belonging grows towards 1 with integration quality, co-ethnic presence, work and
        # met needs (a weighted mean of the four drivers; MODEL.md 4.3)
        here = self.place
        network = min(math.log1p(stock[self.group][self.municipality]) / NETWORK_SATURATION,
                      1.0)
        weights = (p.belonging_quality_weight, p.belonging_network_weight,
                   p.belonging_employment_weight, p.belonging_needs_weight)
        drivers = (weights[0] * here.quality + weights[1] * network
                   + weights[2] * self.employed + weights[3] * (not self.has_unmet_need())
                   ) / max(sum(weights), 1e-12)
        self.belonging += p.belonging_rate * drivers * (1.0 - self.belonging)

        # a single without a tie elsewhere (none, or one where it lives now) may form one
        # (partner, friends); the new tie may again fall where it lives
        no_tie_elsewhere = self.tie < 0 or self.tie == self.municipality
        if self.is_single and no_tie_elsewhere and self.random.random() < p.tie_onset_rate:
            self.draw_tie(tie_weights)

    # ----------------------------------------------------------------- stage 3: exit

    def maybe_exit(self, year: int) -> None:
        """Emigration or death removes the whole household from the population in Norway."""
        if not self.alive:
            return
        p = self.model.params
        # emigration is higher in the first years in a rural settlement municipality
        rural_start = (self.model.places[self.settlement].centrality >= RURAL_CENTRALITY
                       and self.municipality == self.settlement
                       and self.years_since(year) < EARLY_EMIGRATION_YEARS)
        emigration = p.emigration_rate * (p.emigration_rural_ratio if rural_start else 1.0)
        u = self.random.random()
        if u < emigration:
            self.exit_reason = EXIT_EMIGRATION
        elif u < emigration + p.death_rate:
            self.exit_reason = EXIT_DEATH
        else:
            return
        self.alive = False
        self.exit_year = year

    # ----------------------------------------------------------------- stage 4: move decision

    def general_move_log_odds(self, year: int, stock: Stock, reach: Stock,
                              programme: bool) -> float:
        """Log-odds of a general move (network, services, belonging, ties, region; MODEL.md
        4.5), before the rights rule."""
        p = self.model.params
        here = self.place
        years = self.years_since(year)
        type_effect = (0.0, p.move_single_woman_effect, p.move_couple_effect,
                       p.move_family_effect, p.move_lone_parent_effect)[self.htype]
        tie_pull = 0.0  # a tie elsewhere pulls more the further away it is
        if self.tie >= 0 and self.tie != self.municipality:
            km = self.model.geography.distance_km[self.municipality, self.tie]
            tie_pull = 1.0 - math.exp(-km / REACH_KM)
        co_ethnics = stock[self.group][self.municipality]
        return (p.move_intercept + type_effect
                + p.move_age_effect * (self.age(year) - 30)
                + p.move_first_year_effect * (years == 0)
                + p.move_programme_effect * programme
                + p.move_duration_effect * max(years - p.programme_years, 0)
                + p.move_employed_effect * self.employed
                + p.move_belonging_effect * self.belonging
                + p.move_network_effect * math.log1p(co_ethnics)
                + p.move_network_share_effect * 100.0 * co_ethnics / here.population
                + p.move_network_reach_effect * math.log1p(reach[self.group][self.municipality])
                + p.move_size_effect * (here.log_population - math.log(REFERENCE_POPULATION))
                + p.move_centrality_effect * (here.centrality - REFERENCE_CENTRALITY)
                + p.move_north_effect * here.north + p.move_west_effect * here.west
                + p.move_unmet_need_effect * self.has_unmet_need()
                + p.move_tie_effect * tie_pull)

    def job_move_log_odds(self, year: int, programme: bool) -> float:
        """Log-odds of taking a job in another municipality: pushed by a weak local labour
        market (before the rights rule)."""
        p = self.model.params
        return (p.job_move_intercept
                + p.job_move_labour_effect * self.place.labour_market
                + p.job_move_employed_effect * self.employed
                + p.move_first_year_effect * (self.years_since(year) == 0)
                + p.move_programme_effect * programme)

    def rights_costs(self, year: int) -> tuple[float, float]:
        """The rights rule's cost on a general and a job move (MODEL.md 4.7): for a
        benefit-dependent household that still holds its rights; job moves are free of it
        under the job-move exemption or the self-sufficiency condition."""
        p = self.model.params
        if not (self.holds_rights(year) and not self.employed):
            return 0.0, 0.0
        exempt_job = p.job_move_exemption or p.rights_self_sufficiency
        return p.rights_cost, 0.0 if exempt_job else p.rights_cost

    def decide_move(self, year: int, stock: Stock, reach: Stock) -> MovePlan | None:
        """Stage 4: move this year? Two channels: first a job move may come up; if not, a
        general move may happen. A move the rights rule holds back may be delayed to the first
        year the household is free of the rule. Returns the plan, or None to stay."""
        if not self.alive:
            return None
        p = self.model.params
        programme = self.in_programme(year)
        job = self.job_move_log_odds(year, programme)
        general = self.general_move_log_odds(year, stock, reach, programme)
        cost_general, cost_job = self.rights_costs(year)
        p_job = logistic(job - cost_job)
        p_any = p_job + (1.0 - p_job) * logistic(general - cost_general)
        p_job_free = logistic(job)
        p_free = p_job_free + (1.0 - p_job_free) * logistic(general)
        # one uniform for both channels: below p_job a job move, up to p_any a general move;
        # between p_any and p_free the rule held the move back
        u = self.random.random()
        if u < p_any:
            self.delayed_move = False
            return MovePlan(job=u < p_job, holds_rights=self.holds_rights(year))
        if u < p_free and self.random.random() < p.rights_delay_share:
            self.delayed_move = True  # held back, to be made once free of the rule
        if self.delayed_move and cost_general == 0.0:
            self.delayed_move = False
            return MovePlan(job=False, holds_rights=self.holds_rights(year), delayed=True)
        return None

    # ----------------------------------------------------------------- stage 5: destination

    def destination_utilities(self, log_stock: Stock, job: bool) -> list[float]:
        """Utility of moving to each municipality (MODEL.md 4.6), in the order of
        ``model.places``: size, centrality, Oslo and the East, the group's network, the labour
        market (doubled for a job move), services that meet the household's needs, distance,
        same county and the household's tie. The current municipality gets -inf (not a
        destination)."""
        p = self.model.params
        origin = self.place
        network = log_stock[self.group]
        log_distance = self.model.log_distance[origin.index]
        labour_effect = p.dest_labour_effect * (2.0 if job else 1.0)
        size, centrality = p.dest_size_effect, p.dest_centrality_effect
        oslo, east, housing = p.dest_oslo_effect, p.dest_east_effect, p.dest_housing_effect
        network_effect, service, distance = (p.dest_network_effect, p.dest_service_effect,
                                             p.dest_distance_effect)
        same_county = p.dest_same_county_effect
        utilities = []
        for place in self.model.places:
            if place.index == origin.index:
                utilities.append(-math.inf)
                continue
            services_met = (self.need_school * place.upper_secondary
                            + self.need_higher * place.higher_education
                            + self.need_health * place.hospital)
            utility = (size * place.log_population + centrality * place.centrality
                       + oslo * place.oslo + east * place.east
                       + housing * place.log_housing
                       + network_effect * network[place.index]
                       + labour_effect * place.labour_market
                       + service * services_met
                       + distance * log_distance[place.index]
                       + same_county * (place.county == origin.county))
            if place.index == self.tie:  # a tie elsewhere (never the current municipality)
                utility += p.dest_tie_effect
            utilities.append(utility)
        return utilities

    def choose_destination(self, plan: MovePlan, log_stock: Stock) -> int:
        """Stage 5: a municipality other than the current one, drawn from the multinomial
        logit (softmax) of the destination utilities.

        The engine samples the tie as a mixture (the tie with probability lam, else the
        softmax without the tie bonus); adding ``dest_tie_effect`` to the tie's utility, as
        here, is the same distribution written the direct way."""
        utilities = self.destination_utilities(log_stock, plan.job)
        top = max(utilities)
        weights = [math.exp(u - top) for u in utilities]  # shifted against overflow; exp(-inf)=0
        return self.random.choices(range(len(weights)), weights=weights)[0]

    # ----------------------------------------------------------------- stage 6: apply move

    def move(self, year: int, destination: int, plan: MovePlan) -> dict[str, Any]:
        """Stage 6: relocate; returns the move event (its income-after comes a year later)."""
        p = self.model.params
        target = self.model.places[destination]
        origin = self.municipality
        employed_before = self.employed

        # work at the destination, per adult: a job move brings work to the first adult (slot
        # a); otherwise an employed adult may keep (or move with) the work, the others may
        # find work there
        for slot in self.adults_by_slot():
            if slot == "a" and plan.job:
                works = True
            elif getattr(self, f"employed_{slot}"):
                works = self.random.random() < p.move_keep_job
            else:
                female = getattr(self, f"female_{slot}")
                p_find = logistic(self.employment_log_odds(year, target, False, female))
                works = self.random.random() < p_find
            setattr(self, f"employed_{slot}", works)
        employed_after = self.employed

        # rights are lost by moving inside the window, unless a job move is exempt; the
        # programme is lost by any move; most belonging is left behind
        exempt = plan.job and bool(p.job_move_exemption)
        if p.rights_self_sufficiency and employed_after:
            exempt = True  # self-sufficient after the move: rights kept
        if plan.holds_rights and not exempt:
            self.rights_lost = True
        self.programme_lost = True
        self.belonging *= 1.0 - p.belonging_reset
        self.municipality = destination
        self.moves += 1

        event = {
            "year": year, "household": self.household, "cohort": self.cohort,
            "origin": origin, "destination": destination, "persons": self.size,
            "job_move": plan.job, "years_since_settlement": year - self.cohort,
            "from_settlement": origin == self.settlement,
            "employed_before": employed_before, "employed_after": employed_after,
            "health_need": self.need_health, "income_before": self.income,
            "income_after": math.nan, "delayed": plan.delayed,
        }
        self.pending_event = event
        return event



class ReferenceModel(YearLoop):
    """The reference's year loop: the shared YearLoop with the per-household stage set
    (``REFERENCE_STAGES``). Randomness: each household draws from ``model.random`` (mesa's,
    seeded from the run's named stream ``("model", "mesa")``); the settlement steps it shares
    with the engine use the engine's named draws.

    Args:
        params: parameter values (kept as a RunParams, as in the engine).
        inputs: as for the engine; meant for up to ~20,000 households
            (e.g. ``default_inputs().scaled(0.1)``).
        seed: an int or a SeedSequence.

    Example:
        >>> from simulation.inputs.defaults import default_inputs
        >>> model = ReferenceModel(Params(), default_inputs(2010, 2011).scaled(0.05), seed=7)
        >>> model.step()
        >>> len(model.agents) == len(model.households) > 0
        True
    """

    def __init__(self, params: Params, inputs: Inputs,
                 seed: int | np.random.SeedSequence = 0) -> None:
        super().__init__(params, inputs, seed)
        geo = inputs.geography
        self.geography = geo
        quality = initial_quality(geo)
        score = size_score(geo)
        county = geo.county_index
        region = geo.table["region"].tolist()
        housing = relative_housing_price(geo)
        self.places = [
            Place(index=i, code=str(geo.codes[i]), county=int(county[i]),
                  population=float(geo.population[i]),
                  log_population=math.log(float(geo.population[i])),
                  centrality=int(geo.centrality[i]),
                  labour_market=float(geo.labour_market[i]),
                  upper_secondary=bool(geo.upper_secondary[i]),
                  higher_education=bool(geo.higher_education[i]),
                  hospital=bool(geo.hospital[i]), east=bool(geo.east[i]),
                  oslo=bool(geo.oslo[i]), log_housing=float(housing[i]),
                  north=region[i] in NORTH_REGIONS,
                  west=region[i] in WEST_REGIONS, size_score=float(score[i]),
                  quality=float(quality[i]))
            for i in range(geo.n)
        ]
        self.log_distance: list[list[float]] = np.log1p(geo.distance_km).tolist()
        self.background: Stock = np.asarray(inputs.background_stock, dtype=float).tolist()
        self.households: list[HouseholdAgent] = []  # in order of arrival (id = position)
        self.events: list[dict[str, Any]] = []
        self.matching_log: list[Any] = []  # placement by matching, as the engine's World
        self.plans: list[tuple[HouseholdAgent, MovePlan]] = []  # this year's, stage 4
        self.destinations: list[int] = []  # of the plans, stage 5

    stages = ()  # set below, once the stage functions are defined

    @property
    def state(self) -> ReferenceModel:
        """The reference's stages act on the model (its places and household agents)."""
        return self

    # ----------------------------------------------------------------- shared views

    def network_stock(self) -> Stock:
        """Persons with refugee background by group and municipality: the background stock
        plus every household living in Norway."""
        stock = [row[:] for row in self.background]
        for h in self.households:
            if h.alive:
                stock[h.group][h.municipality] += h.size
        return stock

    def tie_weights(self, stock: Stock) -> Stock:
        """Weights of a new tie's municipality, by group: the group's persons plus a little
        population."""
        return [[stock[g][place.index] + TIE_POPULATION_WEIGHT * place.population
                 for place in self.places] for g in range(len(stock))]

    def update_quality(self) -> None:
        """Integration quality builds in a year the municipality settles (faster when large)
        and decays in a year it does not (MODEL.md 4.4)."""
        p = self.params
        for place in self.places:
            if place.settles:
                build = p.quality_growth * (0.5 + 0.5 * place.size_score)
                place.quality += build * (1.0 - place.quality)
            else:
                place.quality *= 1.0 - p.quality_decay

    def matching_world(self) -> World:
        """The world at placement for the matching (a snapshot that logs into the model)."""
        world = self.world
        world.matching_log = self.matching_log
        return world

    @property
    def world(self) -> World:
        """The agents and places as an engine World (columns), for the shared observation
        and results; a fresh snapshot on every access."""
        world = World.start(self.geography, self.inputs.background_stock)
        hh = Households.empty(len(self.households))
        for f in fields(Households):
            if f.name != "pending_event":
                setattr(hh, f.name, np.array([getattr(h, f.name) for h in self.households],
                                             dtype=getattr(hh, f.name).dtype))
        world.settle_households(hh)  # counts the stock of the households alive
        world.quality = np.array([place.quality for place in self.places])
        world.settled_now = np.array([place.settled for place in self.places])
        world.settling_now = np.array([place.settles for place in self.places])
        world.moves_in = np.array([place.moves_in for place in self.places])
        world.moves_out = np.array([place.moves_out for place in self.places])
        world.events = EventLog()
        if self.events:
            ids = world.events.add({k: np.array([e[k] for e in self.events])
                                    for k in self.events[0] if k != "income_after"})
            world.events.set_income_after(ids, np.array([e["income_after"]
                                                         for e in self.events]))
        return world


# --------------------------------------------------------------------- the stages
# Each runs one stage of MODEL.md 3 for every household, with the engine's contract
# ``stage(state, params, year, rng)``; ``rng`` (the stage's named draws) is used only where
# the engine's own municipality-level steps are shared.


def settle(model: ReferenceModel, params: RunParams, year: int, rng: Draws) -> None:
    """Stage 1: this year's cohort arrives, is placed by the municipal quotas (the engine's
    own steps), and the households arriving with a tie get one."""
    matching = params.inputs.allocation.matching is not None
    cohort, quotas = place_cohort(model.geography, params, year, rng,
                                  model.matching_world() if matching else None)
    for place in model.places:
        place.settles = bool(quotas[place.index] > 0)
        place.settled = 0.0
    arrivals = []
    for i in range(len(cohort)):
        h = HouseholdAgent(
            model, household=len(model.households), cohort=year,
            municipality=int(cohort.settlement[i]), htype=int(cohort.htype[i]),
            group=int(cohort.group[i]), size=int(cohort.size[i]),
            age0=int(cohort.age0[i]), productivity=float(cohort.productivity[i]),
            need_school=bool(cohort.need_school[i]),
            need_health=bool(cohort.need_health[i]))
        model.households.append(h)
        h.place.settled += h.size
        if cohort.tie[i] == TIE_TO_DRAW:
            arrivals.append(h)
    tie_weights = model.tie_weights(model.network_stock())  # the new cohort included
    for h in arrivals:
        h.draw_tie(tie_weights)


def life_course(model: ReferenceModel, params: RunParams, year: int, rng: Draws) -> None:
    """Stage 2: every household lives a year; then integration quality is updated (after
    belonging, which used last year's quality)."""
    stock = model.network_stock()
    tie_weights = model.tie_weights(stock)
    for h in model.households:
        h.live_a_year(year, stock, tie_weights)
    model.update_quality()


def exits(model: ReferenceModel, params: RunParams, year: int, rng: Draws) -> None:
    """Stage 3: emigration or death."""
    for h in model.households:
        h.maybe_exit(year)


def decide_moves(model: ReferenceModel, params: RunParams, year: int, rng: Draws) -> None:
    """Stage 4: who moves, all reading the stock after exits (and the co-ethnics within reach
    of each municipality, a municipality-level table)."""
    stock = model.network_stock()
    reach = (np.array(stock) @ params.reach.T).tolist()
    model.plans = [(h, plan) for h in model.households
                   if (plan := h.decide_move(year, stock, reach)) is not None]


def choose_destinations(model: ReferenceModel, params: RunParams, year: int, rng: Draws
                        ) -> None:
    """Stage 5: where each mover goes, all reading the same stock (before anyone moves)."""
    log_stock = [[math.log1p(x) for x in row] for row in model.network_stock()]
    model.destinations = [h.choose_destination(plan, log_stock) for h, plan in model.plans]


def apply_moves(model: ReferenceModel, params: RunParams, year: int, rng: Draws) -> None:
    """Stage 6: the moves, and this year's persons moving in and out of each place."""
    for place in model.places:
        place.moves_in = place.moves_out = 0.0
    for (h, plan), destination in zip(model.plans, model.destinations, strict=True):
        model.places[h.municipality].moves_out += h.size
        model.places[destination].moves_in += h.size
        model.events.append(h.move(year, destination, plan))
    model.plans, model.destinations = [], []


# the engine's year (stages.STAGES) defines the order and the draw names once; each engine
# stage is matched with the reference rule of the same function name
_RULES = {rule.__name__: rule for rule in (settle, life_course, exits, decide_moves,
                                           choose_destinations, apply_moves)}
REFERENCE_STAGES = tuple((name, _RULES[stage.__name__]) for name, stage in STAGES)
ReferenceModel.stages = REFERENCE_STAGES


def run_reference(params: Params | Mapping[str, Any] | None = None,
                  seed: int | np.random.SeedSequence = 0, inputs: Inputs | None = None
                  ) -> Results:
    """Run the reference model once and return Results like :func:`simulation.run` (the
    same driver and tables).

    Meant for populations up to ~20,000 households (e.g. ``default_inputs().scaled(0.1)``);
    the full-size baseline works but is slow.

    >>> res = run_reference(seed=1, inputs=default_inputs(2010, 2012).scaled(0.05))
    >>> list(res.yearly["year"])
    [2010, 2011, 2012]
    """
    return simulate(ReferenceModel, check_params(params), seed,
                    inputs if inputs is not None else default_inputs())

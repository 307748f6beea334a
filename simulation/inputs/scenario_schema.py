"""Scenario files, the schema: every key a scenario file may hold, its type and range.

The policy section takes exactly the registry's policy levers (``POLICY_KEYS``); their values
are checked against the registry in scenario_sections.py, with the other parameters.
"""

from __future__ import annotations

import unicodedata
from typing import Annotated, Any, Literal

from pydantic import (
    AfterValidator,
    Field,
    ValidationInfo,
    create_model,
    field_validator,
    model_validator,
)

from simulation.inputs.limits import MAX_REPLICATES, MAX_SEED
from simulation.inputs.parameters import POLICY_KEYS
from simulation.inputs.schema import Strict, name_problem
from simulation.inputs.yamlsource import show

BUILT_IN = "built-in"
MAX_VOLUME = 500_000  # persons settled in one year (~15x the largest year on record, 2016)
MAX_WEIGHT = 1e9  # a quota weight (relative; persons or shares)
MAX_CSV_BYTES = 20_000_000  # volumes and quota CSVs (a few kB in practice)
MAX_PATH = 4096  # characters in a file path


def check_path(value: str) -> str:
    """A file path as written in a scenario file, or ValueError: control characters, more
    than MAX_PATH characters and blank paths are refused before any file is opened."""
    if "\0" in value or any(unicodedata.category(c) == "Cc" for c in value):
        raise ValueError(f"got {show(value)}; a file path must not contain control characters")
    if len(value) > MAX_PATH:
        raise ValueError(f"got a path of {len(value):,} characters; allowed: at most {MAX_PATH}")
    if not value.strip():
        raise ValueError("got an empty path; write the path of a file")
    return value


PathStr = Annotated[str, AfterValidator(check_path)]


class Period(Strict):
    """Simulated calendar years, inclusive. Years after 2024 are projections and need volumes."""

    start: int = Field(2010, ge=1990, le=2100, description="first simulated year")
    end: int = Field(2023, ge=1990, le=2100, description="last simulated year")

    @model_validator(mode="after")
    def _ordered(self) -> Period:
        if self.end < self.start:
            raise ValueError(f"end ({self.end}) is before start ({self.start})")
        return self


class VolumesFile(Strict):
    """Yearly volumes from a CSV with columns year, persons."""

    from_: PathStr = Field(alias="from", description="CSV path with columns year, persons")


Outcome = Literal["retention", "employment"]


class Constraints(Strict):
    """What placement by matching must respect besides the capacities (docs/placement.md)."""

    upper_secondary_for_youth: bool = Field(
        False, description="households with youth needing upper-secondary school only where "
                           "there is one (in the municipality or within reach)")
    hospital_for_health_needs: bool = Field(
        False, description="households with a health need only where there is a hospital "
                           "within reach")
    max_group_share: float | None = Field(
        None, gt=0, le=1, description="at most this share of a municipality's capacity from "
                                      "one country group in a year (e.g. 0.5)")
    group_share_floor: int = Field(
        10, ge=0, le=100_000, description="persons of one group a municipality may always "
                                          "take, whatever the share (small intakes)")
    minimum_fill: float = Field(
        0.0, ge=0, le=1, description="balance: every municipality takes at least this share "
                                     "of its baseline persons (Bansak & Paulson)")
    minimum_intake: PathStr | None = Field(
        None, description="CSV with columns municipality, persons: a yearly intake a "
                          "municipality has agreed to take at least")


class Allocation(Strict):
    """Who may settle refugees (MODEL.md 4.1 scenario levers), and how they are placed."""

    exclude_below_population: int = Field(
        0, ge=0, le=1_000_000,
        description="no settlement in municipalities with fewer inhabitants (persons)")
    exclude_centrality: list[Literal[1, 2, 3, 4, 5, 6]] = Field(
        default_factory=list, description="no settlement in these centrality classes (1-6)")
    quotas: PathStr | None = Field(
        None, description="CSV with columns municipality, weight: fixed shares of each "
                          "year's volume (replaces the size-based allocation)")
    continuity_only: bool = Field(
        False, description="settle only in the municipalities that settle every year (the "
                           "set asked in low-volume years); the same volume goes to them")
    observed: bool = Field(
        True, description="in the years IMDi's figures cover (2012-2015, 2022-2024), settle "
                          "the observed persons per municipality; false: the allocation model "
                          "in every year")
    method: Literal["baseline", "matching"] = Field(
        "baseline", description="'baseline': households go where the allocation above puts "
                                "them; 'matching': that allocation's persons per municipality "
                                "become capacities and households are matched to them")
    objective: Outcome | dict[Outcome, float] = Field(
        "retention", description="matching: 'retention' (persons still there after `horizon` "
                                 "years), 'employment' (adults employed then) or weights, e.g. "
                                 "{retention: 0.5, employment: 0.5}")
    horizon: int = Field(5, ge=1, le=15, description="matching: years after settlement the "
                                                     "objective is predicted for")
    slack: float = Field(0.0, ge=0, le=1, description="matching: capacity = the baseline's "
                                                      "persons x (1 + slack)")
    constraints: Constraints = Field(default_factory=Constraints)

    @field_validator("objective")
    @classmethod
    def _weights(cls, value: Any) -> Any:
        if isinstance(value, dict):
            for name, w in value.items():
                if not (isinstance(w, int | float) and not isinstance(w, bool)
                        and 0 <= w <= 1000 and w == w):
                    raise ValueError(f"objective weight {name}: got {show(w)}; allowed: a "
                                     "number from 0 to 1000")
        return value

    @field_validator("objective", "horizon", "slack", "constraints")
    @classmethod
    def _only_with_matching(cls, value: Any, info: ValidationInfo) -> Any:
        if info.data.get("method", "baseline") != "matching":
            raise ValueError("applies only to placement by matching; add 'method: matching' "
                             "under settlement.allocation, or remove it")
        return value


class Settlement(Strict):
    """Arrivals: yearly volumes and how they are allocated."""

    volumes: Literal["built-in"] | dict[int, float] | VolumesFile = Field(
        BUILT_IN, description="persons settled per year: 'built-in' (IMDi 2010-2024), a "
                              "mapping year: persons, or {from: CSV with year, persons}")
    composition_like: int | None = Field(
        None, ge=2010, le=2024,
        description="use the built-in arrivals' composition (household types, country groups) "
                    "of this year for every year; default: each year's own (years after 2024 "
                    "like 2024, an estimate)")
    allocation: Allocation = Field(default_factory=Allocation)


Policy = create_model(
    "Policy", __base__=Strict,
    __doc__="Policy levers: the registry's policy group (ranges as in `secmig params`).",
    **{name: (Any, None) for name in POLICY_KEYS})


class Outputs(Strict):
    """Where and how results are written."""

    directory: PathStr | None = Field(None, description="output folder, relative to where secmig "
                                                    "runs (default outputs/<name>)")
    formats: list[Literal["csv", "parquet"]] = Field(
        default_factory=lambda: ["csv"], description="table formats: csv and/or parquet")


class ScenarioSchema(Strict):
    """A scenario file."""

    name: str = Field(description="short name in words (any script); the output folder is "
                                  "derived from it")
    description: str = Field("", description="what this scenario asks, in words")
    period: Period = Field(default_factory=Period)
    seed: int = Field(20250614, ge=0, le=MAX_SEED, description="scenario random seed")
    replicates: int = Field(10, ge=1, le=MAX_REPLICATES, description="replicate runs")
    geography: PathStr = Field(BUILT_IN, description="'built-in' or a CSV path with the columns "
                                                 "of simulation/data/municipalities_no.csv")
    settlement: Settlement = Field(default_factory=Settlement)
    policy: Policy = Field(default_factory=Policy)
    parameters: dict[str, Any] = Field(
        default_factory=dict, description="overrides by registry name; 'from: FILE' reads a "
                                          "YAML file whose 'parameters' mapping comes first")
    outputs: Outputs = Field(default_factory=Outputs)

    @field_validator("name")
    @classmethod
    def _name(cls, value: str) -> str:
        problem = name_problem(value)
        if problem:
            raise ValueError(problem)
        return value

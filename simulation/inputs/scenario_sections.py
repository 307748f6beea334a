"""Scenario files, the sections that read other files or the registry: yearly volumes (a
mapping or a CSV), parameters (with a fitted `from:` file and posterior draws), geography and
the allocation policy (quota CSVs). Each adds its problems to a list, so that one pass reports
every problem of a scenario, with file, line and key.
"""

from __future__ import annotations

import csv
import difflib
import io
import math
from pathlib import Path
from typing import Any

import numpy as np

from simulation.inputs.defaults import AllocationPolicy, MatchingPolicy, default_volumes
from simulation.inputs.geography import Geography
from simulation.inputs.geography_csv import GeographyError, load_geography
from simulation.inputs.parameters import BY_NAME, POLICY_KEYS, ParameterError, suggest
from simulation.inputs.scenario_messages import got
from simulation.inputs.scenario_schema import (
    BUILT_IN,
    MAX_CSV_BYTES,
    MAX_VOLUME,
    MAX_WEIGHT,
    ScenarioSchema,
    VolumesFile,
    check_path,
)
from simulation.inputs.schema import problem_at
from simulation.inputs.yamlsource import (
    MAX_PROBLEMS,
    MAX_YAML_BYTES,
    InputError,
    KeyPath,
    Problem,
    Sourced,
    cut,
    dotted,
    file_problem,
    load_yaml,
    read_text,
    show,
)


def file_path(src: Sourced, key: KeyPath, value: str) -> Path:
    """A path written in the file that set ``key``, resolved against that file's folder."""
    file, _ = src.where(key)
    return (Path(file).parent / value).resolve()


def _read_csv(path: Path, columns: tuple[str, ...]) -> list[tuple[int, dict[str, str]]]:
    """(line number, row) of each data row of a CSV file with at least ``columns``; a
    ValueError naming the file otherwise (not a regular file, too large, missing columns)."""
    try:
        text = read_text(path, limit=MAX_CSV_BYTES, kind="CSV file")
    except InputError as err:
        raise ValueError(f"{path}: {err.problems[0].message}") from None
    try:
        reader = csv.DictReader(io.StringIO(text, newline=""))
        fields = reader.fieldnames or []
        missing = [c for c in columns if c not in [f.strip() for f in fields]]
        if missing:
            raise ValueError(f"{path}: line 1: missing column(s) {', '.join(missing)}; expected "
                             f"a header with {', '.join(columns)} (got "
                             f"{show(','.join(fields))})")
        reader.fieldnames = [f.strip() for f in fields]
        rows = []
        start = 2
        for row in reader:
            rows.append((start, row))
            start = reader.line_num + 1
        return rows
    except csv.Error as err:
        raise ValueError(f"{path}: not a readable CSV file ({cut(str(err))})") from None


def _cell(row: dict[str, Any], col: str) -> str:
    value = row.get(col)
    return value.strip() if isinstance(value, str) else ""


def _persons_problem(value: Any) -> str | None:
    """Why a yearly settlement volume is not allowed, or None."""
    allowed = f"allowed: a number of persons from 0 to {MAX_VOLUME:,}"
    if isinstance(value, bool) or not isinstance(value, int | float):
        return f"{got(value)}; {allowed}"
    if isinstance(value, float) and not math.isfinite(value):
        return f"got {value}; {allowed}"
    if value < 0:
        return f"got {value}: persons must be >= 0; {allowed}"
    if value > MAX_VOLUME:
        return (f"got {value:,}; {allowed} (the largest year on record, 2016, settled "
                "about 15,000; a larger number is almost surely a typo)")
    return None


def _year_problem(year: Any) -> str | None:
    if isinstance(year, bool) or not isinstance(year, int) or not 1990 <= year <= 2100:
        return f"got the year {show(year)}; allowed: a year from 1990 to 2100"
    return None


def resolve_volumes(schema: ScenarioSchema, src: Sourced, problems: list[Problem]
             ) -> dict[int, float]:
    vol = schema.settlement.volumes
    key: KeyPath = ("settlement", "volumes")
    volumes = default_volumes()
    if isinstance(vol, VolumesFile):
        csv_path = file_path(src, (*key, "from"), vol.from_)
        given: dict[int, float] = {}
        first: dict[int, int] = {}
        try:
            for i, row in _read_csv(csv_path, ("year", "persons")):
                y, p = _cell(row, "year"), _cell(row, "persons")
                try:
                    year = int(y) if len(y) < 10 else None
                except ValueError:
                    year = None
                bad = (f"column 'year': got {show(y)}; allowed: a year from 1990 to 2100"
                       if year is None else
                       (f"column 'year': {_year_problem(year)}" if _year_problem(year) else None))
                if bad is None and year in first:
                    bad = (f"column 'year': {year} is given twice (first on line "
                           f"{first[year]}); give each year once")
                try:
                    persons = float(p) if len(p) < 40 else None
                except ValueError:
                    persons = None
                pbad = (f"column 'persons': got {show(p)}; allowed: a number of persons from 0 "
                        f"to {MAX_VOLUME:,}" if persons is None else
                        (f"column 'persons': {_persons_problem(persons)}"
                         if _persons_problem(persons) else None))
                for b in (bad, pbad):
                    if b:
                        problems.append(problem_at(src, (*key, "from"),
                                                   f"{csv_path}: line {i}, {b}"))
                if bad is None and pbad is None and year is not None and persons is not None:
                    given[year] = persons
                    first[year] = i
            volumes.update(given)
        except ValueError as err:
            problems.append(problem_at(src, (*key, "from"), str(err)))
    elif isinstance(vol, dict):
        for year, persons in vol.items():
            why = _year_problem(year) or _persons_problem(persons)
            if why:
                problems.append(problem_at(src, (*key, year), why))
            else:
                volumes[int(year)] = float(persons)
    period = schema.period
    missing = [y for y in range(period.start, period.end + 1) if y not in volumes]
    if missing:
        shown = (str(missing) if len(missing) <= 12 else
                 f"{missing[0]}-{missing[-1]} ({len(missing)} years)")
        problems.append(problem_at(src, key, f"no settlement volume for year(s) {shown}: "
                                 f"built-in volumes cover {min(default_volumes())}-"
                                 f"{max(default_volumes())}; give the others as a mapping "
                                 "year: persons (e.g. volumes: {2025: 18900}) or from a CSV"))
    return {y: volumes[y] for y in range(period.start, period.end + 1) if y in volumes}


def _number_problem(value: Any, param: Any) -> str | None:
    """Refuse values that are not YAML numbers (or true/false for switches) before the
    registry's range check: '0.5' in quotes, lists, mappings, dates, empty values."""
    if param.kind == "bool":
        if isinstance(value, bool) or (isinstance(value, int) and value in (0, 1)):
            return None
        return f"{got(value)}; allowed: {param.allowed()}"
    if isinstance(value, bool) or not isinstance(value, int | float):
        return f"{got(value)}; allowed: {param.allowed()}"
    if isinstance(value, int) and abs(value) > 1e300:
        return f"got a {len(str(abs(value)))}-digit number; allowed: {param.allowed()}"
    return None


def _check_param(name: str, value: Any) -> tuple[float | None, str | None]:
    param = BY_NAME[name]
    why = _number_problem(value, param)
    if why:
        return None, why
    try:
        return param.check(value), None
    except (ParameterError, OverflowError):
        return None, f"{got(value)}; allowed: {param.allowed()}"


def resolve_parameters(raw_parameters: Any, raw_policy: Any, src: Sourced, problems: list[Problem],
                draws: list[dict[str, Any]] | None = None,
                fitted_file: dict[str, Any] | None = None) -> dict[str, Any]:
    """Registry overrides from `parameters` (and its `from:` file) and `policy`, checked by
    name and range; works on the raw data so it reports even when other keys are invalid.
    ``draws`` (when given) receives the fitted file's posterior draws, ``fitted_file`` its
    `parameters`, its `calibration` facts and its check of each register target (`targets`:
    the fit at the point and over the posterior)."""
    overrides: dict[str, Any] = {}
    raw = dict(raw_parameters) if isinstance(raw_parameters, dict) else {}
    policy = {k: v for k, v in raw_policy.items() if k in POLICY_KEYS and v is not None} \
        if isinstance(raw_policy, dict) else {}
    source = raw.pop("from", None)
    if source is not None:
        key: KeyPath = ("parameters", "from")
        why = None
        if isinstance(source, str):
            try:
                check_path(source)
            except ValueError as err:
                why = str(err)
        else:
            why = f"{got(source)}; write the path of a YAML file with a 'parameters' mapping"
        if why:
            problems.append(problem_at(src, key, why))
        else:
            try:
                target = file_path(src, key, source)
                why = file_problem(target, limit=MAX_YAML_BYTES, kind="YAML file")
                if why:
                    raise InputError([problem_at(src, key, f"{source}: {why}")])
                fitted = load_yaml(target)
                values = (fitted.data or {}).get("parameters") if isinstance(
                    fitted.data, dict) else None
                if not isinstance(values, dict):
                    raise InputError([Problem(fitted.file, 1, "parameters",
                                              "expected a mapping 'parameters: {name: value}'")])
                raw_checks = fitted.data.get("targets")
                facts = fitted.data.get("calibration")
                if fitted_file is not None:
                    fitted_file.update(
                        parameters=dict(values),
                        calibration=facts if isinstance(facts, dict) else {},
                        targets=[c for c in raw_checks if isinstance(c, dict)
                                 and isinstance(c.get("target"), str)]
                        if isinstance(raw_checks, list) else [])
                raw_draws = fitted.data.get("posterior_draws")
                if draws is not None and isinstance(raw_draws, list):
                    for i, d in enumerate(raw_draws):
                        if not isinstance(d, dict):
                            continue
                        good = True
                        for n, v in d.items():
                            if n in BY_NAME:
                                _, why = _check_param(n, v)
                                if why:
                                    f, line = fitted.where(("posterior_draws", i, n))
                                    problems.append(Problem(f, line, dotted(
                                        ("posterior_draws", i, n)), why))
                                    good = False
                        if good:
                            draws.append(d)
                for name, value in values.items():
                    if name not in BY_NAME:
                        f, line = fitted.where(("parameters", name))
                        hint = suggest(str(name)[:100]) if len(problems) < MAX_PROBLEMS else ""
                        problems.append(Problem(f, line, dotted(("parameters", name)),
                                                f"unknown parameter{hint}"))
                    else:
                        overrides[name] = value
            except InputError as err:
                problems.extend(err.problems)
    for name, value in raw.items():
        if name in policy:
            problems.append(problem_at(src, ("parameters", name),
                                     f"also set under policy.{name}; set it in one place"))
        overrides[name] = value
    overrides.update(policy)
    checked: dict[str, Any] = {}
    unknown = 0
    for name, value in overrides.items():
        key = ("policy", name) if name in policy else ("parameters", name)
        if name not in BY_NAME:
            unknown += 1  # did-you-mean only for the first (the rest are not listed anyway)
            hint = suggest(str(name)[:100]) if unknown <= MAX_PROBLEMS else ""
            problems.append(problem_at(src, key, f"unknown parameter{hint}; see "
                                     "`secmig params` for the list"))
            continue
        number, why = _check_param(name, value)
        if why:
            problems.append(problem_at(src, key, why))
        else:
            checked[name] = number
    return checked


def resolve_geography(schema: ScenarioSchema, src: Sourced, problems: list[Problem]
               ) -> Geography | None:
    if schema.geography == BUILT_IN:
        return load_geography()
    path = file_path(src, ("geography",), schema.geography)
    try:
        return load_geography(path)
    except GeographyError as err:
        problems.append(problem_at(src, ("geography",), str(err)))
    return None


def _name_hint(text: str, geo: Geography | None) -> str:
    """'; 'Oslo' is 0301' when a quota row names a municipality instead of giving its code."""
    if geo is None or not text:
        return ""
    names = [str(n) for n in geo.names]
    by_lower: dict[str, list[int]] = {}
    for i, n in enumerate(names):  # "Våler (Østfold)" is found as "Våler" too
        by_lower.setdefault(n.casefold(), []).append(i)
        short = n.split(" (")[0].casefold()
        if short != n.casefold():
            by_lower.setdefault(short, []).append(i)
    hits = by_lower.get(text.casefold())
    if hits:
        codes = " or ".join(f"{geo.codes[i]} ({names[i]})" if len(hits) > 1
                            else str(geo.codes[i]) for i in hits)
        return f"; {text!r} is {codes}: write the 4-digit code"
    close = difflib.get_close_matches(text.casefold(), list(by_lower), n=3, cutoff=0.75)
    if close:
        return "; did you mean " + " or ".join(
            f"{names[i]!r} ({geo.codes[i]})" for c in close for i in by_lower[c][:2]) + "?"
    return ""


def _municipality_csv(src: Sourced, key: KeyPath, path: Path, column: str,
                      geo: Geography | None, problems: list[Problem]) -> dict[str, float] | None:
    """A CSV with columns municipality (4-digit code), ``column`` (a number from 0 to
    MAX_WEIGHT): code -> number, or None after adding its problems (each with its line)."""
    before = len(problems)
    out: dict[str, float] = {}
    try:
        first: dict[str, int] = {}
        for i, row in _read_csv(path, ("municipality", column)):
            where = f"{path}: line {i}"
            raw_code, raw_number = _cell(row, "municipality"), _cell(row, column)
            code = raw_code.zfill(4) if raw_code.isdigit() and len(raw_code) <= 4 else None
            if code is None:
                problems.append(problem_at(src, key, (
                    f"{where}, column 'municipality': got {show(raw_code)}; allowed: a "
                    f"4-digit municipality code such as '0301'{_name_hint(raw_code, geo)}")))
            elif geo is not None and code not in set(geo.codes.tolist()):
                problems.append(problem_at(src, key, (
                    f"{where}, column 'municipality': unknown municipality code {code!r} "
                    f"(not in the geography {geo.source})")))
                code = None
            elif code in first:
                problems.append(problem_at(src, key, (
                    f"{where}, column 'municipality': {code} is given twice (lines "
                    f"{first[code]} and {i}); give each municipality once")))
                code = None
            try:
                number = float(raw_number) if len(raw_number) < 40 else math.nan
            except ValueError:
                number = math.nan
            if not (math.isfinite(number) and 0 <= number <= MAX_WEIGHT):
                problems.append(problem_at(src, key, (
                    f"{where}, column '{column}': got {show(raw_number)}; allowed: a number "
                    f"from 0 to {MAX_WEIGHT:,.0f}")))
            elif code is not None:
                out[code] = number
                first[code] = i
    except ValueError as err:
        problems.append(problem_at(src, key, str(err)))
    return None if len(problems) > before else out


def _matching(schema: ScenarioSchema, src: Sourced, geo: Geography | None,
              problems: list[Problem]) -> MatchingPolicy | None:
    """The matching settings of a scenario whose allocation method is 'matching'."""
    alloc = schema.settlement.allocation
    if alloc.method != "matching":
        return None
    objective = ({alloc.objective: 1.0} if isinstance(alloc.objective, str)
                 else {k: float(v) for k, v in alloc.objective.items()})
    c = alloc.constraints
    intake = None
    if c.minimum_intake is not None:
        key: KeyPath = ("settlement", "allocation", "constraints", "minimum_intake")
        intake = _municipality_csv(src, key, file_path(src, key, c.minimum_intake), "persons",
                                   geo, problems)
    return MatchingPolicy(objective=objective, horizon=alloc.horizon, slack=alloc.slack,
                          minimum_fill=c.minimum_fill,
                          upper_secondary_for_youth=c.upper_secondary_for_youth,
                          hospital_for_health_needs=c.hospital_for_health_needs,
                          max_group_share=c.max_group_share,
                          group_share_floor=c.group_share_floor, minimum_intake=intake)


def resolve_allocation(schema: ScenarioSchema, src: Sourced, geo: Geography | None,
                problems: list[Problem]) -> AllocationPolicy:
    alloc = schema.settlement.allocation
    key: KeyPath = ("settlement", "allocation")
    quotas = None
    if alloc.quotas is not None:
        qkey: KeyPath = (*key, "quotas")
        qpath = file_path(src, qkey, alloc.quotas)
        quotas = _municipality_csv(src, qkey, qpath, "weight", geo, problems)
        if quotas is not None and not any(quotas.values()):
            problems.append(problem_at(src, qkey, f"{qpath}: all weights are zero (or there "
                                     "are no rows); at least one must be > 0"))
            quotas = None
    policy = AllocationPolicy(exclude_below_population=alloc.exclude_below_population,
                              exclude_centrality=tuple(alloc.exclude_centrality), quotas=quotas,
                              continuity_only=alloc.continuity_only,
                              observed=alloc.observed,
                              matching=_matching(schema, src, geo, problems))
    if geo is not None:
        eligible = (geo.population >= policy.exclude_below_population)
        eligible &= ~np.isin(geo.centrality, policy.exclude_centrality)
        if quotas is not None:
            eligible &= np.isin(geo.codes, [c for c, w in quotas.items() if w > 0])
        if not eligible.any():
            problems.append(problem_at(src, key, "this allocation excludes every municipality"))
    return policy

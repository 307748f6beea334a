"""Regenerate docs/ledger.md and docs/ledger/ from the baseline (the figures are actual runs).

    python docs/make_ledger.py [--replicates 10] [--jobs 2]

Runs the baseline's replicates with the municipal ledger, compares the national totals of
the integration grant the model pays with IMDi's published payouts, and writes
docs/ledger/validation.csv, docs/ledger/grants.png and docs/ledger.md (the numbers read from
the CSV; tests/test_ledger.py checks the page against it). About 10 s on 2 cores.
"""

from __future__ import annotations

import argparse
import textwrap
from pathlib import Path

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt
import pandas as pd

from simulation.analysis.ledger import (
    TOLERANCE,
    committee_comparison,
    cost_per_refugee,
    grant_validation,
)
from simulation.engine.ledger import COSTS, RECEIPTS
from simulation.inputs.ledger_rates import ledger_rates
from simulation.inputs.scenario import load_scenario
from simulation.reports.numbers import number
from simulation.runs.ensemble import run_many

ROOT = Path(__file__).resolve().parent.parent
OUT = ROOT / "docs" / "ledger"
WORDS = {"grant_year_1": "year 1", "grant_years_2_5": "years 2-5"}


def table(v: pd.DataFrame) -> str:
    lines = ["| year | grant | model, NOK million (mean of runs) | 5-95 % | IMDi, NOK million | "
             "model / IMDi | note |",
             "|---|---|---|---|---|---|---|"]
    for r in v.itertuples():
        notes = []
        if not r.complete:
            notes.append("incomplete: no cohorts before 2010 in the model")
        if r.lower_bound:
            notes.append("IMDi's total is a lower bound" + (" (the model is below it)"
                                                            if r.ratio < 1 else ""))
        if r.complete and not r.lower_bound:
            notes.append("within 15 %" if r.within_tolerance else "outside 15 %")
        lines.append(f"| {r.year} | {WORDS[r.item]} | {number(r.model_nok / 1e6, 'count')} | "
                     f"{number(r.model_p5 / 1e6, 'count')}-{number(r.model_p95 / 1e6, 'count')}"
                     f" | {number(r.imdi_nok / 1e6, 'count')} | {r.ratio:.2f} | "
                     f"{'; '.join(notes)} |")
    return "\n".join(lines)


#: the calculation committee's coverage of municipal costs by the grant (data/ledger_rates.yaml)
COMMITTEE = {2016: 0.923, 2017: 0.949, 2018: 0.996, 2019: 1.017, 2020: 1.059, 2021: 0.973,
             2022: 0.973}


def coverage(grant_periods: list[pd.DataFrame]) -> pd.DataFrame:
    """Per year: the grants over the costs the ledger counts, for the persons in their grant
    years (the committee's population), nationally (mean over runs)."""
    rows = []
    for g in grant_periods:
        g = g.set_index("year")
        rows.append(g[list(RECEIPTS)].sum(axis=1) / g[list(COSTS)].sum(axis=1))
    ratio = pd.concat(rows, axis=1).mean(axis=1)
    return pd.DataFrame({"year": ratio.index, "coverage": ratio.to_numpy(),
                         "committee": [COMMITTEE.get(int(y)) for y in ratio.index]})


def below_note(c: pd.DataFrame) -> str:
    """Which years the model's coverage is below the committee's, and the likelier cause."""
    below = [int(r.year) for r in c.itertuples() if r.committee == r.committee
             and r.coverage < r.committee]
    if not below:
        return "the model is above it in every year"
    return (f"where the model is below, in {', '.join(map(str, below))}, the estimated rates of "
            "2018-2023 (interpolated towards 2024's, 2022-2023 held at 2021's) are the likelier "
            "cause, since the committee's coverage rose to 2020")


def coverage_table(c: pd.DataFrame) -> str:
    rows = c[c["committee"].notna()]
    lines = ["| year | grants / counted costs (model) | grant coverage (calculation committee) |",
             "|---|---|---|"]
    lines += [f"| {int(r.year)} | {r.coverage:.2f} | {r.committee:.3f} |"
              for r in rows.itertuples()]
    return "\n".join(lines)


def year_1_note(v: pd.DataFrame) -> str:
    """The paragraph on the year-1 comparisons of 2011-2015, from the table."""
    rows = v[(v["item"] == "grant_year_1") & v["year"].between(2011, 2014)]
    y2015 = v[(v["item"] == "grant_year_1") & (v["year"] == 2015)]["ratio"].iloc[0]
    text = (f"- **Year 1**: the model pays {rows['ratio'].min():.2f}-{rows['ratio'].max():.2f} "
            f"of IMDi's total in 2011-2014 and {y2015:.2f} in 2015. With the year-1 rates "
            "estimated from the 2024 rate indexed back by G (before the 2017 table was found) "
            "it paid about a fifth too little. What is left in 2011-2014 may be one-off grants "
            "in IMDi's year-1 line that the ledger leaves out (eldretilskudd, "
            "barnehagetilskudd) or a larger year-1 share before 2017. In 2015, the year of the "
            "autumn arrivals, many were settled late in the year, and IMDi pays a person not "
            "yet registered at the last instalment in the next year's first (read for 2022); "
            "the model pays every settled person's year 1 in the settlement year.")
    return textwrap.fill(text, width=92, subsequent_indent="  ")


COST_WORDS = {"costs": "all counted costs", "integration_services":
              "integration services and administration (the ledger's rate is this figure)",
              "introduction_stipend": "introduction stipend",
              "rest": "the rest: social assistance, health (committee: and other services)"}


def cost_table(c: pd.DataFrame) -> str:
    lines = ["| year | item | model, NOK per refugee over five years (mean of runs) | 5-95 % | "
             "calculation committee | model / committee |",
             "|---|---|---|---|---|---|"]
    lines += [f"| {int(r.year)} | {COST_WORDS[r.item]} | {number(r.model_nok, 'count')} | "
              f"{number(r.model_p5, 'count')}-{number(r.model_p95, 'count')} | "
              f"{number(r.committee_nok, 'count')} | {r.ratio:.2f} |"
              for r in c.itertuples()]
    return "\n".join(lines)


def figure(v: pd.DataFrame, path: Path) -> None:
    fig, axes = plt.subplots(1, 2, figsize=(9, 3.4), dpi=120, sharey=False)
    for ax, (item, part) in zip(axes, v.groupby("item", sort=True), strict=True):
        x = range(len(part))
        ax.bar([i - 0.2 for i in x], part["model_nok"] / 1e9, width=0.4, label="model",
               color="#1f5f8b")
        ax.errorbar([i - 0.2 for i in x], part["model_nok"] / 1e9,
                    yerr=[(part["model_nok"] - part["model_p5"]) / 1e9,
                          (part["model_p95"] - part["model_nok"]) / 1e9],
                    fmt="none", ecolor="black", capsize=2)
        ax.bar([i + 0.2 for i in x], part["imdi_nok"] / 1e9, width=0.4, label="IMDi",
               color="#d95f02")
        ax.set_xticks(list(x), [str(y) for y in part["year"]])
        ax.set_title(f"Integration grant, {WORDS[item]}", fontsize=9)
        ax.set_ylabel("NOK billion (nominal)")
    axes[0].legend(fontsize=8)
    fig.tight_layout()
    fig.savefig(path)
    plt.close(fig)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--replicates", type=int, default=10)
    parser.add_argument("--jobs", type=int, default=2)
    args = parser.parse_args()
    base = load_scenario(ROOT / "scenarios" / "baseline.yaml")
    runs = run_many([(base.params, base.inputs)], base.schema.seed, args.replicates,
                    args.jobs)[0]
    OUT.mkdir(parents=True, exist_ok=True)
    v = grant_validation([r.ledger for r in runs], base.inputs.start)
    cover = coverage([r.ledger_grant_period for r in runs])
    rates = ledger_rates()
    per = cost_per_refugee([r.ledger_grant_period for r in runs])
    cost = committee_comparison(per, rates)
    cost.to_csv(OUT / "cost_per_refugee.csv", index=False)
    persons = pd.concat([r.ledger_grant_period for r in runs]).groupby("year")[
        "persons_in_grant_years"].mean()
    persons_year, persons_committee = next(iter((rates.committee_persons or {}).items()))
    persons_model = float(persons.loc[persons_year])
    totals = cost[cost["item"] == "costs"]
    by = {(int(r.year), r.item): r for r in cost.itertuples()}
    stipend, rest = by[(2016, "introduction_stipend")], by[(2016, "rest")]
    cover.to_csv(OUT / "coverage.csv", index=False)
    v.to_csv(OUT / "validation.csv", index=False)
    figure(v, OUT / "grants.png")
    checked = v[v["complete"] & ~v["lower_bound"]]
    inside = int(checked["within_tolerance"].sum())
    text = f"""# The municipal ledger: the grants the model pays against IMDi's payouts

*Generated by `python docs/make_ledger.py` ({args.replicates} replicates of the baseline,
seed {base.schema.seed}); do not edit by hand. Code: `simulation/engine/ledger.py`, rates:
`simulation/inputs/ledger_rates.py` and `simulation/data/ledger_rates.yaml`.*

The ledger pays each municipality the integration grant for the refugees living there:
year 1 by person category in the settlement year, years 2-5 per person, counted from the
first settlement and split in the year of a move. Summed over the municipalities, these are
the national totals IMDi publishes (SOURCES.md of `simulation/data/municipal/`, section 6).

**The rates are read for one year and estimated for the others.** IMDi's rate table was
found for 2017 only (year 1 by category: 235,000 for single adults, 185,000 for others; the
rates of grant years 2-5 paid that year: 230,000, 167,000, 84,000 and 70,500). The budgets
give the five-year totals of 2008-2010 and 2014 (669,600 NOK in 2014; 717,600 for single
adults), a secondary source the year-1 rates of 2024. The other years divide their five-year
total as 2017's table does, the totals interpolated between the years they are known:
`inputs/ledger_rates.py` states each rule, `simulation/data/ledger_rates.yaml` has the sources.
A moving year's grant is split half and half (`grant_split_origin_share`): IMDi's table gives
the municipality moved from 1/8, 3/8, 5/8 or 7/8 by the quarter of the move, a half on average
over the year.

![Grants: model and IMDi](ledger/grants.png)

{table(v)}

Of the {len(checked)} comparisons that are complete and not lower bounds, {inside} are within
{100 * TOLERANCE:.0f} % of IMDi's total. The gaps, and what explains them:

{year_1_note(v)}
- **Years 2-5 before 2014 are incomplete by construction**: the model starts in 2010, so
  the persons settled 2006-2009 who were still in their grant years are missing.
- **2022-2023**: IMDi's totals are lower bounds (anonymised cells); the rates of 2018-2021 are
  interpolated between 2017's and 2024's, and 2022-2023 held at 2021's (the 2022 cut is not
  quantified; 2023 was not price-adjusted).

**The cost side.** The ledger counts the introduction stipend, social assistance, the
municipality's integration services and administration (the calculation committee's 453,700
NOK per refugee over five years in 2016, indexed by G; the introduction programme's running
cost, its staff and courses, is counted in this item: we read the committee's "integration
measures and administration" as holding the programme's measures, and no separate programme
cost per participant was found) and health needs. For the persons in
their five grant years, the population the calculation committee counts, the grants cover
this share of those costs nationally (model, mean of runs), beside the coverage the committee
reports (it counts more services than the ledger, which would put the model's ratio above
its; {below_note(cover)}):

{coverage_table(cover)}

**The cost per refugee over five years.** The calculation committee reports the
municipalities' cost per refugee over the five grant years. We read its method as a year's
costs for the persons in their grant years, per person, times five (ASSUMPTION), and measure
the model's the same way (`simulation.analysis.ledger.cost_per_refugee`, from
`Results.ledger_grant_period`; `docs/ledger/cost_per_refugee.csv`):

{cost_table(cost)}

The total is within {100 * (totals["ratio"] - 1).abs().max():.0f} % of the committee's in
{", ".join(str(int(y)) for y in totals["year"])}, but its mix is not: the model pays
{stipend.ratio:.2f} times the committee's introduction stipend in 2016 and its social
assistance and health needs come to {rest.ratio:.2f} of the committee's rest (which also
holds services the ledger does not count). The stipend is 2 G a year (two thirds under 25)
to every adult in the programme without work, for the whole programme; in practice many
participants start late, pause, or lose part of it for absence, which the model does not
know. So the agreement of the total is partly offsetting errors, and a scenario that
shifts people between programme years and later years moves the ledger's costs more than it
would the municipalities'. The services item agrees by construction in 2016; the committee's 2018
figure was 3.7 % below its 2017 one (a lower imputed interest on municipal housing; 2017's
was not found), which the G-indexed rate does not follow. The committee's 2014 total
(770,300) is the figure the project's brief gives; it was not re-found in a source. The
persons in their grant years, the population of these figures:
{number(persons_model, "count")} in the model in {persons_year} against
{number(persons_committee, "count")} that the committee counted (ratio
{persons_model / persons_committee:.2f}). The cohorts of 2013-2017 are all in the model, so the
gap is not the window's start. We have not settled its cause; candidates are the family
reunification the model adds as a flat share of IMDi's settled persons
(`family_reunification_share`) and grant-triggering persons outside IMDi's settlement
counts. The cost per refugee is per person, so a short count does not bias it.

Where to read it: the "Kroner" sections of every run report (national totals per item, a
map of the net position per inhabitant) and of every `secmig compare` brief (what a scenario
moves between municipalities by size and centrality, with intervals), and the fiscal view of
each policy family in [policy.md](policy.md).
`ledger.csv` in every run's output folder has the yearly ledger per municipality and item,
nominal and in 2024 NOK (deflated by G), with 5-95 % intervals.
"""
    (ROOT / "docs" / "ledger.md").write_text(text, encoding="utf-8")
    print(f"wrote {ROOT / 'docs' / 'ledger.md'}")


if __name__ == "__main__":
    main()

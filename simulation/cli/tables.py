"""The tables a command prints: headline indicators beside the register, paired differences.
Labels and kinds come from the indicator registry (analysis/registry.py); every table fits 80
columns."""

from __future__ import annotations

from typing import Any

from rich.table import Table
from rich.text import Text

from simulation.cli.console import MARK, console, fmt, short


def headline_table(summary_frame: Any, title: str, departs: list[str] | None = None,
                   checks: list[dict[str, Any]] | None = None) -> None:
    """Headline indicators beside the register. In a counterfactual (``departs``: what differs
    from the rules the register describes) the register is context: no within/outside.
    ``checks``: the fitted file's check of each target, for a run at the calibrated point:
    each miss is then set beside what the calibration's posterior gives for it."""
    from simulation.analysis.registry import TERMINAL_CONTEXT_IDS, describe
    from simulation.analysis.targets import MISS_FOOTNOTE, compare, describe_miss, miss_notes
    from simulation.runs.output import _nested_means

    table = Table(title=Text(title), title_justify="left")
    table.add_column("indicator", no_wrap=True, max_width=36)
    table.add_column("simulated", justify="right", no_wrap=True)
    table.add_column("register ± tol.", justify="right", no_wrap=True)
    table.add_column("within" if not departs else "context", justify="right", no_wrap=True)
    last_id = None
    comparisons = compare(_nested_means(summary_frame))
    for c in comparisons:
        if c.key and c.id != last_id:
            table.add_row(Text(short(c.id)), "", "", "")
        last_id = c.id
        name = (f"  {short(str(c.key))}" + (" ÷ all" if c.compared_as != "level" else "")
                if c.key else short(c.id))
        kind = ("ratio" if c.compared_as != "level"
                else describe(f"{c.id}.{c.key}" if c.key else c.id).kind)
        table.add_row(Text(name), fmt(c.simulated, kind), f"{fmt(c.register, kind)} ± "
                      f"{fmt(c.tolerance, kind)}", MARK[c.within] if not departs else Text("-"))
    for key in TERMINAL_CONTEXT_IDS:
        if key in summary_frame:
            table.add_row(Text(short(key)), fmt(float(summary_frame[key].mean()),
                                                describe(key).kind), "-", "-")
    console.print(table)
    notes = miss_notes(comparisons, checks) if checks and not departs else []
    for note in notes:
        c = note.comparison
        kind = ("ratio" if c.compared_as != "level"
                else describe(f"{c.id}.{c.key}" if c.key else c.id).kind)
        name = f"{short(c.id)} {short(str(c.key))}".strip()
        console.print(Text(f"Outside: {name}: "
                           + describe_miss(note, lambda v, k=kind: fmt(v, k).strip())))
    if notes:
        console.print(Text(MISS_FOOTNOTE))
    if departs:
        console.print(Text("Counterfactual: the register figures describe today's rules, so "
                           "they are context here, not a check (" + "; ".join(departs) + ")."))


def compare_tables(names: list[str], results: list[Any], replicates: int) -> list[Table]:
    """Per scenario vs the reference (the first): reference and scenario means, the paired
    difference with its 5-95 % interval, and whether it is within noise (``results``: each
    scenario's replicate summaries; out-share counts over municipalities settling in both, as
    in the report)."""
    from simulation.analysis.registry import TERMINAL_COMPARE_IDS, describe
    from simulation.runs.compare import compared, paired_differences
    from simulation.runs.ensemble import indicator_frame

    frames = [indicator_frame(r) for r in results]
    tables = []
    for name, frame, runs in zip(names[1:], frames[1:], results[1:], strict=True):
        diffs = paired_differences(*compared(frames[0], frame, results[0], runs)
                                   ).set_index("indicator")
        table = Table(title=Text(f"{name} minus {names[0]} (paired, {replicates} "
                                 "replicates; shares in % and points)"), title_justify="left")
        table.add_column("indicator", no_wrap=True)
        table.add_column("reference", justify="right", no_wrap=True)
        table.add_column("scenario", justify="right", no_wrap=True)
        table.add_column("difference [5-95 %]", justify="right", no_wrap=True)
        table.add_column("noise", justify="right", no_wrap=True)
        for key in TERMINAL_COMPARE_IDS:
            if key not in diffs.index:
                continue
            label, kind = describe(key).short, describe(key).kind
            d = diffs.loc[key]
            noise = d["within_noise"]
            table.add_row(label, fmt(d["reference_mean"], kind),
                          fmt(d["scenario_mean"], kind),
                          "-" if d["difference"] != d["difference"] else
                          f"{fmt(d['difference'], kind, signed=True)} "
                          f"[{fmt(d['p5'], kind, signed=True)}, "
                          f"{fmt(d['p95'], kind, signed=True)}]",
                          MARK[None if noise is None or noise != noise else bool(noise)])
        tables.append(table)
    return tables

"""The ledger in a comparison and in a run's report: what a scenario moves between
municipalities in kroner (issue 16).

Each run's ledger (``ReplicateSummary.ledger``) gives per municipality and year the grants
received and the costs paid, in NOK of the price year (deflated by G). A municipality's
*net position* is receipts minus costs, averaged over the years of the window. A comparison
pairs runs by seed, so the change of each municipality's net position, and of each type of
municipality's (centrality class, size class), comes with an interval over the pairs.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from simulation.analysis.intervals import HIGH, LOW, quantile
from simulation.engine.ledger import COSTS, RECEIPTS
from simulation.runs.ensemble import ReplicateSummary

#: size classes of municipalities by inhabitants (the settlement levers' thresholds)
SIZE_CLASSES = ((0, 5_000, "under 5,000"), (5_000, 20_000, "5,000-20,000"),
                (20_000, 100_000, "20,000-100,000"), (100_000, 10**9, "100,000 and more"))


def price_column(frame: pd.DataFrame) -> str:
    return next(c for c in frame.columns if c.startswith("nok_"))


def yearly_position(summary: ReplicateSummary) -> pd.DataFrame:
    """One run: per municipality, the yearly average (over the window) of the grants
    received, the costs paid and the net position, in NOK of the price year."""
    ledger = summary.ledger
    col = price_column(ledger)
    wide = ledger.pivot_table(index="municipality", columns=ledger["item"].astype(str),
                              values=col, aggfunc="sum")
    years = ledger["year"].nunique()
    out = pd.DataFrame({"receipts": wide[list(RECEIPTS)].sum(axis=1) / years,
                        "costs": wide[list(COSTS)].sum(axis=1) / years})
    out["net"] = out["receipts"] - out["costs"]
    return out


def size_class(population: pd.Series) -> pd.Series:
    labels = pd.Series("", index=population.index, dtype=object)
    for low, high, label in SIZE_CLASSES:
        labels[(population >= low) & (population < high)] = label
    return labels


def fiscal_differences(reference: list[ReplicateSummary], other: list[ReplicateSummary],
                       municipalities: pd.DataFrame
                       ) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Paired (other - reference) yearly net position per municipality and per type of
    municipality (centrality class, size class): mean and 5-95 % over the run pairs, NOK
    of the price year a year. ``municipalities``: code, name, centrality, population."""
    facts = municipalities.set_index("code")
    per_run = []
    for a, b in zip(reference, other, strict=True):
        d = yearly_position(b) - yearly_position(a)
        per_run.append(d.reindex(facts.index).fillna(0.0))
    stack = np.stack([d[["receipts", "costs", "net"]].to_numpy() for d in per_run])
    by_muni = pd.DataFrame({"municipality": facts.index, "name": facts["name"].to_numpy(),
                            "centrality": facts["centrality"].to_numpy(),
                            "population": facts["population"].to_numpy()})
    for j, what in enumerate(("receipts", "costs", "net")):
        by_muni[f"change_{what}"] = stack[:, :, j].mean(axis=0)
    by_muni["change_net_p5"] = quantile(stack[:, :, 2], LOW, axis=0)
    by_muni["change_net_p95"] = quantile(stack[:, :, 2], HIGH, axis=0)
    rows = []
    groups = {"centrality": facts["centrality"].astype(int).astype(str),
              "size": size_class(facts["population"])}
    for kind, label in groups.items():
        for group in sorted(label.unique(), key=_order(kind)):
            members = (label == group).to_numpy()
            net = stack[:, members, 2].sum(axis=1)
            rows.append({"grouping": kind, "group": group, "municipalities": int(members.sum()),
                         "change_receipts": float(stack[:, members, 0].sum(axis=1).mean()),
                         "change_costs": float(stack[:, members, 1].sum(axis=1).mean()),
                         "change_net": float(net.mean()),
                         "change_net_p5": float(quantile(net, LOW)),
                         "change_net_p95": float(quantile(net, HIGH))})
    return by_muni, pd.DataFrame(rows)


def _order(kind: str):
    sizes = [label for _, _, label in SIZE_CLASSES]
    return (lambda g: sizes.index(g)) if kind == "size" else (lambda g: int(g))


def moves_money(name: str, by_type: pd.DataFrame, grouping: str = "size") -> str:
    """'{name} moves about NOK X million a year from <groups losing> to <groups gaining>',
    each group with its own change, over one grouping (size or centrality)."""
    t = by_type[by_type["grouping"] == grouping]
    losers = t[t["change_net"] < 0].sort_values("change_net")
    gainers = t[t["change_net"] > 0].sort_values("change_net", ascending=False)
    if losers.empty or gainers.empty:
        return f"{name} changes no type of municipality's net position much."
    moved = min(-losers["change_net"].sum(), gainers["change_net"].sum())

    def words(rows: pd.DataFrame) -> str:
        def one(r: pd.Series) -> str:
            group = f"centrality {r['group']}" if grouping == "centrality" else r["group"]
            return f"{group} ({abs(r['change_net']) / 1e6:,.0f})"
        items = [one(r) for _, r in rows.iterrows()]
        return items[0] if len(items) == 1 else ", ".join(items[:-1]) + " and " + items[-1]
    kind = "centrality classes" if grouping == "centrality" else "municipalities by size"
    return (f"{name} moves about NOK {moved / 1e6:,.0f} million a year (2024 kroner, net of "
            f"costs) between {kind}: from {words(losers)} to {words(gainers)} (NOK million a "
            "year)")

"""The intro's headline figure: the book's answer at a glance."""

from __future__ import annotations

from pathlib import Path

import matplotlib.pyplot as plt
import numpy as np
import pandas as pd

from steerspace.data.paper import paper_table
from steerspace.figures.style import (
    PAGE_WIDTH,
    accuracy_axis,
    add_chance,
    error_bars,
    language_color,
    language_marker,
    method_style,
)

QUANTITIES = {
    ("Non-Target", "all_languages"): "between\nlanguages",
    ("Non-Target", "target"): "to the\ntarget",
    ("Non-Target", "medoid"): "to the\nmedoid",
}
SOURCE_MARKERS = {"Aya-8B": "s", "Bloom-7B": "^", "PolyLM-13B": "D"}


#: the result tables the headline figure reads, and the chapter that writes each
HEADLINE_INPUTS = {
    "table1.csv": "embedding_space",
    "retrieval_summary.csv": "crosslingual_retrieval",
    "baselines_vs_intervention.csv": "baselines",
}


def missing_headline_inputs(results: Path) -> list[str]:
    """The chapters whose tables the headline figure needs but ``results`` lacks (a
    chapter run alone, before the others): empty when the figure can be drawn."""
    return sorted({ch for name, ch in HEADLINE_INPUTS.items() if not (results / name).is_file()})


def headline_data(results: Path) -> dict:
    """The inputs of :func:`headline_figure` from a run's result tables: Table 1
    (``table1.csv``, beside the paper's), retrieval with the target as query
    (``retrieval_summary.csv``) and the baselines (``baselines_vs_intervention.csv``,
    all pairs, the intervention averaged over targets)."""
    ours = pd.read_csv(results / "table1.csv").assign(source="ours")
    paper = paper_table("table1_distances").rename(columns={"model": "source"})
    distances = pd.concat([ours, paper])
    distances["quantity"] = [
        QUANTITIES.get(key)
        for key in zip(distances["language"], distances["distance_type"], strict=True)
    ]
    distances = distances.dropna(subset=["quantity"])[["source", "quantity", "pre", "post"]]
    summary = pd.read_csv(results / "retrieval_summary.csv")
    summary = summary[summary["part"] == "target as query"]
    retrieval = summary.rename(columns={"pre_value": "pre", "post_value": "post"})
    vs = pd.read_csv(results / "baselines_vs_intervention.csv")
    vs = vs[vs["view"] == "all pairs"].replace({"score": {"dot": "inner product"}})
    baselines = vs.groupby(["method", "score"], sort=False)[["value", "low", "high"]].mean()
    return {
        "distances": distances,
        "retrieval": retrieval[["score", "target", "pre", "post"]],
        "baselines": baselines.reset_index(),
        "chance": float(summary["chance"].iloc[0]),
    }


def headline_figure(
    distances: pd.DataFrame,
    retrieval: pd.DataFrame,
    baselines: pd.DataFrame,
    *,
    chance: float,
    title: str,
) -> plt.Figure:
    """Three panels, one above the other (the text column's width).

    ``distances``: one row per (source, quantity) with ``pre`` and ``post`` (Table 1
    means over targets; source "ours" or a paper model). ``retrieval``: one row per
    (score, target) with ``pre`` and ``post`` top-1 accuracy, the target as query.
    ``baselines``: one row per (method, score) with ``value``, ``low``, ``high``:
    all-pairs top-1 accuracy of the original space, the intervention and cheap
    transformations of the original space. ``chance`` is 1 / candidates. Legends sit
    to the right of their panel, clear of the arrows and bars.
    """
    fig, (left, middle, right) = plt.subplots(
        3, 1, figsize=(PAGE_WIDTH, 9.6), layout="constrained", height_ratios=[1.1, 1, 1]
    )
    quantities = list(dict.fromkeys(distances["quantity"]))
    for i, quantity in enumerate(quantities):
        rows = distances[distances["quantity"] == quantity]
        for j, row in enumerate(rows.itertuples(index=False)):
            x = i + (j - (len(rows) - 1) / 2) * 0.16
            ours = row.source == "ours"
            marker = "o" if ours else SOURCE_MARKERS.get(row.source, "o")
            color = "#252525" if ours else "#8C8C8C"
            left.annotate("", xy=(x, row.post), xytext=(x, row.pre),
                          arrowprops={"arrowstyle": "->", "color": color, "lw": 1.6 if ours else 1})  # fmt: skip
            left.plot(x, row.pre, marker, mfc="none", color=color, ms=7 if ours else 5)
            left.plot(x, row.post, marker, color=color, ms=7 if ours else 5,
                      label=row.source if i == 0 else None)  # fmt: skip
    left.set_xticks(range(len(quantities)), quantities)
    left.set_ylabel("mean cosine distance\n(hollow: pre, filled: post)")
    left.set_title("Table 1: languages move closer", fontsize=10)
    left.set_xlim(-0.5, len(quantities) - 0.5)
    left.legend(fontsize=8, loc="upper left", bbox_to_anchor=(1.01, 1.0), title="source",
                title_fontsize=8)  # fmt: skip

    scores = list(dict.fromkeys(retrieval["score"]))
    targets = list(dict.fromkeys(retrieval["target"]))
    for i, score in enumerate(scores):
        for j, target in enumerate(targets):
            row = retrieval[(retrieval["score"] == score) & (retrieval["target"] == target)].iloc[0]
            x = i + (j - (len(targets) - 1) / 2) * 0.14
            color, marker = language_color(target), language_marker(target)
            middle.annotate("", xy=(x, row["post"]), xytext=(x, row["pre"]),
                            arrowprops={"arrowstyle": "->", "color": color, "lw": 1})  # fmt: skip
            middle.plot(x, row["pre"], marker, mfc="none", color=color, ms=6)
            middle.plot(x, row["post"], marker, color=color, ms=6, label=target if i == 0 else None)
    add_chance(middle, chance)
    accuracy_axis(middle, list(retrieval["pre"]) + list(retrieval["post"]), chance)
    middle.set_xticks(range(len(scores)), scores)
    middle.set_ylabel("top-1 accuracy, target as query\n(hollow: pre, filled: post)")
    middle.set_title("§5: retrieval by inner product and by cosine", fontsize=10)
    middle.set_xlim(-0.5, len(scores) - 0.5)
    middle.legend(fontsize=8, loc="upper left", bbox_to_anchor=(1.01, 1.0), title="target",
                  title_fontsize=8)  # fmt: skip

    methods = list(dict.fromkeys(baselines["method"]))
    width = 0.8 / len(methods)
    for m, method in enumerate(methods):
        rows = baselines[baselines["method"] == method].set_index("score").reindex(scores)
        x = np.arange(len(scores)) + (m - (len(methods) - 1) / 2) * width
        err = error_bars(rows["value"], rows["low"], rows["high"])
        right.bar(x, rows["value"], width=width, yerr=err, capsize=2, label=method,
                  linewidth=0.6, **method_style(m))  # fmt: skip
    add_chance(right, chance)
    accuracy_axis(right, baselines["high"], chance)
    right.set_xticks(range(len(scores)), scores)
    right.set_ylabel("all-pairs top-1 accuracy")
    right.set_title("Beyond: cheap baselines vs the intervention", fontsize=10)
    right.legend(fontsize=8, loc="upper left", bbox_to_anchor=(1.01, 1.0))
    fig.suptitle(title, fontsize=11)
    return fig

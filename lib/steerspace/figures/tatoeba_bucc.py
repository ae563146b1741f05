"""Figures of the independent benchmarks (paper App. H, Table 7): Tatoeba, BUCC-18.

Accuracies are drawn on axes scaled to the data with the chance line (1 / number of
candidates), with 95 % intervals over sentence pairs; pre and post are the book's
condition styles, targets their own colours and markers.
"""

from __future__ import annotations

import matplotlib.pyplot as plt
import numpy as np
import pandas as pd

from steerspace.figures.style import (
    PAGE_WIDTH,
    accuracy_axis,
    add_chance,
    chance_label,
    condition_bar,
    error_bars,
    language_color,
    language_marker,
    language_order,
)

_ERR = {"ecolor": "#000000", "elinewidth": 0.8, "capsize": 2, "fmt": "none"}


def gains_figure(frame: pd.DataFrame, *, k: int, title: str) -> plt.Figure:
    """The paper's Table 7 as a figure: top-1 accuracy of each unit (target ×
    direction) with the original model (pre) and under the target's top-``k`` experts
    (post); one panel per score, each scaled to the bars it shows (not to other k).

    ``frame`` is :func:`steerspace.analyses.tatoeba_bucc.accuracy_table` (``k`` = 0 is pre).
    """
    scores = list(dict.fromkeys(frame["score"]))
    targets = language_order(set(frame["target"]))
    directions = list(dict.fromkeys(frame["direction"]))
    units = [(t, d) for t in targets for d in directions]
    fig, axes = plt.subplots(len(scores), 1, figsize=(PAGE_WIDTH, 2.7 * len(scores) + 0.8),
                             squeeze=False, layout="constrained")  # fmt: skip
    x = np.arange(len(units))
    for ax, score in zip(axes[:, 0], scores, strict=True):
        part = frame[frame["score"] == score].set_index(["target", "direction", "k"])
        shown = part.reindex([(t, d, kk) for t, d in units for kk in (0, k)])
        for offset, (condition, kk) in ((-0.2, ("pre", 0)), (0.2, ("post", k))):
            rows = part.reindex([(t, d, kk) for t, d in units])
            label = "pre (original model)" if kk == 0 else f"post (k = {k} experts)"
            condition_bar(
                ax,
                x + offset,
                rows["value"].to_numpy(),
                condition=condition,
                width=0.4,
                label=label,
            )
            ax.errorbar(
                x + offset,
                rows["value"],
                yerr=error_bars(rows["value"], rows["low"], rows["high"]),
                **_ERR,
            )
        chance = float(part["chance"].max())
        add_chance(ax, chance, label=chance_label(chance))
        accuracy_axis(ax, shown["high"], chance)
        ax.set_ylabel(f"top-1 accuracy\n({score})")
        ax.set_xticks(x, [f"{t}\n{d}" for t, d in units], fontsize=8)
    axes[-1, 0].set_xlabel("intervention target and retrieval direction (query → candidates)")
    handles, labels = axes[0, 0].get_legend_handles_labels()
    fig.legend(handles, labels, loc="outside lower center", ncols=3, fontsize=8)
    fig.suptitle(title, fontsize=11)
    return fig


def k_grid_figure(frame: pd.DataFrame, *, title: str) -> plt.Figure:
    """Top-1 accuracy over the number of experts k (ours: the paper reports one k): one
    panel per direction (rows) and score (columns), one line per target, each panel
    scaled to its own data; ``pre`` is the original model. The k axis is categorical
    (equally spaced, labelled).

    ``frame`` is :func:`steerspace.analyses.tatoeba_bucc.accuracy_table`.
    """
    scores = list(dict.fromkeys(frame["score"]))
    directions = list(dict.fromkeys(frame["direction"]))
    ks = sorted(set(frame["k"]))
    targets = language_order(set(frame["target"]))
    fig, axes = plt.subplots(len(directions), len(scores), figsize=(PAGE_WIDTH, 2.8 * len(directions) + 1.0),
                             squeeze=False, sharex=True, layout="constrained")  # fmt: skip
    x = np.arange(len(ks))
    for j, score in enumerate(scores):
        column = frame[frame["score"] == score]
        chance = float(column["chance"].max())
        for i, direction in enumerate(directions):
            ax = axes[i, j]
            part = column[column["direction"] == direction]
            for n, target in enumerate(targets):
                rows = part[part["target"] == target].set_index("k").reindex(ks)
                shift = (n - (len(targets) - 1) / 2) * 0.04
                ax.errorbar(x + shift, rows["value"], yerr=error_bars(rows["value"], rows["low"], rows["high"]), color=language_color(target),
                            marker=language_marker(target), ms=5, lw=1.2, capsize=2,
                            label=f"target {target}")  # fmt: skip
            add_chance(ax, chance, label=chance_label(chance))
            accuracy_axis(ax, part["high"], chance)
            ax.set_title(f"{direction}, {score}", fontsize=10)
            if j == 0:
                ax.set_ylabel("top-1 accuracy")
        axes[-1, j].set_xticks(x, ["pre" if k == 0 else f"{k:,}" for k in ks])
        axes[-1, j].set_xlabel("experts set (k; pre = original model)")
    handles, labels = axes[0, 0].get_legend_handles_labels()
    fig.legend(handles, labels, loc="outside lower center", ncols=min(4, len(labels)), fontsize=8)
    fig.suptitle(title, fontsize=11)
    return fig

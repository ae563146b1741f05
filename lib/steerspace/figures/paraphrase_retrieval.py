"""Figures of paraphrase retrieval (paper §6, Tables 3 and 5).

The three pairings of spaces are the book's condition styles (pre, post, mixed: greys
and hatches, never a language colour); accuracy axes are scaled to the data, with
each pool's chance level (1 / pool size) and 95 % intervals over queries.
"""

from __future__ import annotations

import matplotlib.pyplot as plt
import numpy as np
import pandas as pd

from steerspace.figures.crosslingual_retrieval import interval_bars
from steerspace.figures.style import (
    CHANCE_STYLE,
    PAGE_WIDTH,
    accuracy_axis,
    add_chance,
    chance_label,
    condition_bar,
    language_order,
)

LEGEND_LABELS = {
    "pre": "pre (original model)",
    "post": "post (intervened model)",
    "mixed": "mixed (queries pre, candidates post)",
}


def paraphrase_figure(table: pd.DataFrame, *, title: str) -> plt.Figure:
    """The paper's Tables 3 and 5 as a figure: per language, top-1 paraphrase retrieval
    pre, post and mixed under that language's own intervention, one panel per score
    (one above the other).

    ``table`` is :func:`steerspace.analyses.paraphrase_retrieval.paraphrase_table` (one or more scores).
    Pools of equal size share one chance line; otherwise each language's chance is
    drawn over its own bars.
    """
    scores = list(dict.fromkeys(table["score"]))
    languages = language_order(set(table["language"]))
    x = np.arange(len(languages))
    width = 0.8 / len(LEGEND_LABELS)
    fig, axes = plt.subplots(len(scores), 1, figsize=(PAGE_WIDTH, 2.5 * len(scores) + 1.0),
                             squeeze=False, layout="constrained")  # fmt: skip
    for ax, score in zip(axes[:, 0], scores, strict=True):
        part = table[table["score"] == score].set_index(["condition", "language"])
        for i, (condition, label) in enumerate(LEGEND_LABELS.items()):
            rows = part.loc[condition].reindex(languages)
            offset = (i - 1) * width
            condition_bar(ax, x + offset, rows["value"].to_numpy(), condition=condition,
                          width=width, label=label)  # fmt: skip
            interval_bars(ax, x + offset, rows)
        chances = part.loc["pre"].reindex(languages)["chance"].to_numpy()
        if np.allclose(chances, chances[0]):
            add_chance(ax, float(chances[0]), label=chance_label(float(chances[0])))
        else:
            ax.hlines(chances, x - 0.45, x + 0.45, **CHANCE_STYLE, label="chance (1/pool size)")
        shown = part.loc[list(LEGEND_LABELS)]
        accuracy_axis(ax, shown["high"], float(chances.max()))
        ax.set_xticks(x, languages)
        ax.set_ylabel(f"paraphrase top-1\naccuracy ({score})")
    axes[-1, 0].set_xlabel("pool language (= intervention target)")
    handles, labels = axes[0, 0].get_legend_handles_labels()
    fig.legend(handles, labels, loc="outside lower center", ncols=2, fontsize=8)
    fig.suptitle(title, fontsize=11)
    return fig

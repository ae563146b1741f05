"""Figures of the random-unit control (paper §7, App. G: Figs. 27–32, Table 6).

Conditions are drawn in the book's condition styles (greys and hatches, never a
language colour): the original model (``pre``), the experts, and the two controls,
random units at the experts' values and at their own means. Error bars of the
controls are their spread over seeds (a seed is one draw of random units).
"""

from __future__ import annotations

import matplotlib.pyplot as plt
import numpy as np
import pandas as pd

from steerspace.figures.embedding_space import QUANTITY_LABELS
from steerspace.figures.style import (
    PAGE_WIDTH,
    accuracy_axis,
    add_chance,
    condition_bar,
    error_bars,
    language_order,
)

#: condition of :mod:`steerspace.analyses.random_control` → its style in :data:`.style.CONDITIONS`
STYLE_NAMES = {
    "pre": "pre",
    "experts": "experts",
    "experts' values": "random (experts' values)",
    "own means": "random (own means)",
}
LEGEND_LABELS = {
    "pre": "original model (pre)",
    "experts": "k experts",
    "experts' values": "k random units, experts' values",
    "own means": "k random units, own means",
}
_ERR = {"ecolor": "#000000", "elinewidth": 0.8, "capsize": 2}


def _conditions(frame: pd.DataFrame) -> list[str]:
    return [c for c in STYLE_NAMES if c in set(frame["condition"])]


def _bars(ax: plt.Axes, rows: pd.DataFrame, x: np.ndarray, offset: float, width: float,
          condition: str, yerr: np.ndarray | None) -> None:  # fmt: skip
    condition_bar(ax, x + offset, rows["value"].to_numpy(), condition=STYLE_NAMES[condition],
                  width=width, label=LEGEND_LABELS[condition])  # fmt: skip
    if yerr is not None:
        ax.errorbar(x + offset, rows["value"], yerr=yerr, fmt="none", **_ERR)


def _seed_range(rows: pd.DataFrame) -> np.ndarray | None:
    """Error bars from the seed range, or None with a single seed (nothing to show)."""
    if rows["seeds"].max() < 2:
        return None
    # clipped: the mean of equal seeds can fall a rounding error below their minimum
    return error_bars(rows["value"], rows["seed_min"], rows["seed_max"])


def control_distance_figure(table: pd.DataFrame, *, title: str) -> plt.Figure:
    """Table 1 under the control (ours; the paper shows only UMAPs, Figs. 27–29): per
    target, each distance under the original model, the experts and the two controls.

    ``table`` is :func:`steerspace.analyses.random_control.distance_table`: bars are the values, error
    bars their 95 % intervals over sentences (for a control, of the mean over seeds),
    and black dots the single seeds.
    """
    quantities = [q for q in QUANTITY_LABELS if q in set(table["quantity"])]
    targets = language_order(set(table["target"]))
    conditions = _conditions(table)
    width = 0.8 / len(conditions)
    fig, axes = plt.subplots(2, 2, figsize=(PAGE_WIDTH, 6.3), sharex=True, layout="constrained")
    x = np.arange(len(targets))
    for ax, quantity in zip(axes.ravel(), quantities, strict=False):
        part = table[table["quantity"] == quantity].set_index(["condition", "target"])
        seeds_label = "single seeds"  # one legend entry, however many conditions have seeds
        for i, condition in enumerate(conditions):
            rows = part.loc[condition].reindex(targets)
            offset = (i - (len(conditions) - 1) / 2) * width
            err = error_bars(rows["value"], rows["low"], rows["high"])
            _bars(ax, rows, x, offset, width, condition, err)
            if rows["seeds"].max() > 1:
                for j, values in enumerate(rows["seed_values"]):
                    ax.plot([x[j] + offset] * len(values), values, ".", color="black", ms=3,
                            label=seeds_label)  # fmt: skip
                    seeds_label = None
        ax.set_title(QUANTITY_LABELS[quantity].replace("\n", " "), fontsize=10)
        ax.set_xticks(x, targets)
    for ax in axes[:, 0]:
        ax.set_ylabel("cosine distance")
    for ax in axes[1]:
        ax.set_xlabel("intervention target")
    for ax in axes.ravel()[len(quantities) :]:
        ax.set_visible(False)
    handles, labels = axes.ravel()[0].get_legend_handles_labels()
    fig.legend(handles, labels, loc="outside lower center", ncols=3, fontsize=8)
    fig.suptitle(title, fontsize=11)
    return fig


def control_retrieval_figure(
    frame: pd.DataFrame, *, targets: list[str], chance: float, title: str
) -> plt.Figure:
    """The paper's Figs. 30–32: top-1 accuracy with the target as query, per candidate
    language, under each condition; one panel per target and score (rows).

    ``frame`` is :func:`steerspace.analyses.random_control.accuracy_by_candidate` with a ``score``
    column; error bars of the controls are the range over seeds.
    """
    scores = list(dict.fromkeys(frame["score"]))
    panels = [(t, s) for t in targets for s in scores]
    fig, axes = plt.subplots(len(panels), 1, figsize=(PAGE_WIDTH, 2.4 * len(panels) + 1.1),
                             squeeze=False, layout="constrained")  # fmt: skip
    for ax, (target, score) in zip(axes[:, 0], panels, strict=True):
        part = frame[(frame["target"] == target) & (frame["score"] == score)]
        candidates = language_order(set(part["candidate"]))
        conditions = _conditions(part)
        width = 0.8 / len(conditions)
        x = np.arange(len(candidates))
        part = part.set_index(["condition", "candidate"])
        for i, condition in enumerate(conditions):
            rows = part.loc[condition].reindex(candidates)
            offset = (i - (len(conditions) - 1) / 2) * width
            _bars(ax, rows, x, offset, width, condition, _seed_range(rows))
        add_chance(ax, chance, label=f"chance (1/{round(1 / chance)})")
        accuracy_axis(ax, np.r_[part["value"], part["seed_max"]], chance)
        ax.set_xticks(x, candidates)
        ax.set_ylabel("top-1 accuracy")
        ax.set_title(f"query {target}, {score}", fontsize=10)
    axes[-1, 0].set_xlabel("candidate language")
    handles, labels = axes[0, 0].get_legend_handles_labels()
    fig.legend(handles, labels, loc="outside lower center", ncols=3, fontsize=8)
    fig.suptitle(title, fontsize=11)
    return fig


def control_paraphrase_figure(table: pd.DataFrame, *, title: str) -> plt.Figure:
    """The paper's Table 6 as a figure (ours): paraphrase top-1 accuracy per target with
    the original model (pre) and in the space of the experts and of each control
    (post); one panel per score (one above the other), chance at 1 / pool size.

    ``table`` is :func:`steerspace.analyses.random_control.paraphrase_table` with a ``score`` column;
    error bars of the controls are the range over seeds.
    """
    scores = list(dict.fromkeys(table["score"]))
    targets = language_order(set(table["target"]))
    fig, axes = plt.subplots(len(scores), 1, figsize=(PAGE_WIDTH, 2.5 * len(scores) + 1.1),
                             squeeze=False, layout="constrained")  # fmt: skip
    x = np.arange(len(targets))
    for ax, score in zip(axes[:, 0], scores, strict=True):
        part = table[table["score"] == score]
        pre = part[part["condition"] == "experts"].set_index("target").reindex(targets)
        rows = {"pre": pre.assign(value=pre["pre"], seeds=1)}
        for condition in STYLE_NAMES:
            sub = part[part["condition"] == condition].set_index("target").reindex(targets)
            if condition != "pre" and not sub.empty and sub["post"].notna().any():
                rows[condition] = sub.assign(value=sub["post"], seed_min=sub["post_seed_min"],
                                             seed_max=sub["post_seed_max"])  # fmt: skip
        width = 0.8 / len(rows)
        for i, (condition, r) in enumerate(rows.items()):
            offset = (i - (len(rows) - 1) / 2) * width
            _bars(
                ax, r, x, offset, width, condition, _seed_range(r) if condition != "pre" else None
            )
        chance = 1.0 / float(part["pairs"].max())
        add_chance(ax, chance, label=f"chance (1/{round(1 / chance)})")
        accuracy_axis(ax, np.r_[part["pre"], part["post"], part["post_seed_max"]], chance)
        ax.set_xticks(x, targets)
        ax.set_ylabel(f"paraphrase top-1\naccuracy ({score})")
    axes[-1, 0].set_xlabel("intervention target (= pool language)")
    handles, labels = axes[0, 0].get_legend_handles_labels()
    fig.legend(handles, labels, loc="outside lower center", ncols=3, fontsize=8)
    fig.suptitle(title, fontsize=11)
    return fig

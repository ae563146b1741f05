"""Figures of the embedding space (paper §4, Table 1, Fig. 3, App. C, App. G)."""

from __future__ import annotations

from collections.abc import Mapping

import matplotlib.pyplot as plt
import numpy as np
import pandas as pd

from steerspace.figures.style import (
    error_bars,
    language_color,
    language_marker,
    place_labels,
)

QUANTITY_LABELS = {
    "all_languages": "between non-target\nlanguages",
    "medoid_non_target": "non-target languages\nto the medoid",
    "medoid_target": "target language\nto the medoid",
    "target": "other languages\nto the target",
}


def umap_figure(
    coords: Mapping[str, tuple[np.ndarray, np.ndarray]], *, target: str, title: str
) -> plt.Figure:
    """UMAP of pre and post sentence embeddings in one projection (paper Fig. 3).

    ``coords[lang] = (pre_xy, post_xy)``. Each language has its colour and marker;
    pre-intervention sentences are hollow, post-intervention ones filled (so the two
    stay apart in greyscale). Labels ``code`` (pre centroid) and ``code*`` (post
    centroid) are placed clear of each other with leader lines; the target's are bold.
    """
    fig, ax = plt.subplots(figsize=(7.5, 6.5), layout="constrained")
    order = [c for c in coords if c != target] + [target]
    labels = {}
    for code in order:
        pre_xy, post_xy = coords[code]
        color, marker = language_color(code), language_marker(code)
        width = 1.2 if code == target else 0.6
        ax.scatter(*pre_xy.T, s=14, marker=marker, facecolors="none", edgecolors=color,
                   linewidths=width, alpha=0.7)  # fmt: skip
        ax.scatter(*post_xy.T, s=14, marker=marker, color=color, edgecolors="black" if code == target else "none",
                   linewidths=0.4, alpha=0.7)  # fmt: skip
        labels[code] = tuple(pre_xy.mean(0))
        labels[f"{code}*"] = tuple(post_xy.mean(0))
    texts = place_labels(ax, labels)
    for text in texts:
        if text.get_text().rstrip("*") == target:
            text.set_fontweight("bold")
    ax.scatter([], [], marker="o", facecolors="none", edgecolors="#444444", label="pre (hollow)")
    ax.scatter([], [], marker="o", color="#444444", label="post (filled, label ends in *)")
    ax.legend(loc="best", fontsize=8)
    ax.set_xlabel("UMAP 1 (no unit)")
    ax.set_ylabel("UMAP 2 (no unit)")
    ax.set_title(title)
    ax.set_xticks([])
    ax.set_yticks([])
    return fig


def distance_change_figure(estimates: pd.DataFrame, *, title: str) -> plt.Figure:
    """Table 1 per target with intervals: pre (hollow) and post (filled) for each of
    the four distances, an arrow from pre to post.

    ``estimates`` has one row per (target, quantity, space ∈ {pre, post}) with columns
    ``value``, ``low``, ``high`` (cosine distances).
    """
    quantities = [q for q in QUANTITY_LABELS if q in set(estimates["quantity"])]
    targets = list(dict.fromkeys(estimates["target"]))
    fig, axes = plt.subplots(
        1, len(quantities), figsize=(3.0 * len(quantities), 3.6), sharey=True, layout="constrained"
    )
    for ax, quantity in zip(np.atleast_1d(axes), quantities, strict=True):
        for i, target in enumerate(targets):
            rows = estimates[(estimates["target"] == target) & (estimates["quantity"] == quantity)]
            pre = rows[rows["space"] == "pre"].iloc[0]
            post = rows[rows["space"] == "post"].iloc[0]
            color = language_color(target)
            for x, row, face in ((i - 0.12, pre, "none"), (i + 0.12, post, color)):
                ax.errorbar(x, row["value"], yerr=error_bars([row["value"]], [row["low"]], [row["high"]]),
                            fmt=language_marker(target), color=color, mfc=face, ms=6, capsize=2)  # fmt: skip
            ax.annotate("", xy=(i + 0.12, post["value"]), xytext=(i - 0.12, pre["value"]),
                        arrowprops={"arrowstyle": "->", "color": color, "lw": 1})  # fmt: skip
        ax.set_xticks(range(len(targets)), targets)
        ax.set_xlabel("intervention target")
        ax.set_title(QUANTITY_LABELS[quantity], fontsize=9)
    first = np.atleast_1d(axes)[0]
    first.set_ylabel("cosine distance (0 = same direction)")
    first.plot([], [], "o", mfc="none", color="#444444", label="pre")
    first.plot([], [], "o", color="#444444", label="post")
    first.legend(fontsize=8, loc="lower left")
    fig.suptitle(title, fontsize=11)
    return fig

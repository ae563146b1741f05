"""Figures of the embedding space (paper §4, Table 1, Fig. 3, App. C, App. G)."""

from __future__ import annotations

from collections.abc import Mapping

import matplotlib.pyplot as plt
import numpy as np
import pandas as pd

from steerspace.figures.style import (
    LABEL_HALO,
    PAGE_WIDTH,
    error_bars,
    language_color,
    language_marker,
)

QUANTITY_LABELS = {
    "all_languages": "between non-target\nlanguages",
    "medoid_non_target": "non-target languages\nto the medoid",
    "medoid_target": "target language\nto the medoid",
    "target": "other languages\nto the target",
}


#: the free band at each side of a UMAP for the labels of crowded centroids (axes fraction)
_MARGIN = 0.07
#: the smallest vertical gap between two margin labels (axes fraction)
_LABEL_GAP = 0.034
#: where a label may sit around its centroid (unit directions; tried in this order)
_AROUND = ((1, 0), (-1, 0), (0, 1), (0, -1), (1, 1), (-1, 1), (1, -1), (-1, -1))


def _spread(wanted: list[float], gap: float, low: float = 0.02, high: float = 0.98) -> list[float]:
    """Positions as close as possible to ``wanted`` (sorted) with at least ``gap``
    between neighbours, inside [``low``, ``high``]."""
    n = len(wanted)
    if n == 0:
        return []
    gap = min(gap, (high - low) / max(n - 1, 1))
    pos = [min(max(w, low + i * gap), high - (n - 1 - i) * gap) for i, w in enumerate(wanted)]
    for _ in range(500):  # push overlapping neighbours apart, keep the column inside
        moved = False
        for i in range(1, n):
            if pos[i] - pos[i - 1] < gap - 1e-12:
                middle = (pos[i] + pos[i - 1]) / 2
                pos[i - 1], pos[i] = middle - gap / 2, middle + gap / 2
                moved = True
        if pos[0] < low:
            pos = [p + low - pos[0] for p in pos]
        elif pos[-1] > high:
            pos = [p + high - pos[-1] for p in pos]
        if not moved:
            break
    return pos


def _overlaps(box: tuple[float, float, float, float], boxes: list) -> bool:
    x0, y0, x1, y1 = box
    return any(x0 < b[2] and b[0] < x1 and y0 < b[3] and b[1] < y1 for b in boxes)


def _label_centroids(ax: plt.Axes, centroids: dict[str, tuple[float, float]], target: str) -> list:
    """Label every centroid beside itself where the label overlaps neither another
    label nor a centroid (tried at eight places around it); the others go to columns
    at the left and right margins, in the order of their height, each with a leader
    line to its centroid. The target's labels are bold."""
    fig = ax.figure
    fig.draw_without_rendering()  # the final layout: pixel positions are valid from here
    renderer = fig.canvas.get_renderer()
    to_points = 72.0 / fig.dpi
    names = list(centroids)
    xy = np.array([centroids[n] for n in names], dtype=float)
    px = ax.transData.transform(xy)
    inner = ax.transAxes.transform([(_MARGIN, 0.01), (1 - _MARGIN, 0.99)])
    radius = 6.0  # half a centroid marker, in pixels
    taken = [(x - radius, y - radius, x + radius, y + radius) for x, y in px]
    weight = {n: "bold" if n.rstrip("*") == target else "normal" for n in names}
    sizes = {}
    for name in names:
        probe = ax.text(0, 0, name, fontsize=8, fontweight=weight[name])
        box = probe.get_window_extent(renderer)
        sizes[name] = (box.width, box.height)
        probe.remove()
    texts, margin = [], []
    neighbours = [int(np.sum(np.hypot(*(px - p).T) < 40)) for p in px]
    for i in sorted(range(len(names)), key=lambda i: (neighbours[i], i)):
        name, (x, y), (w, h) = names[i], px[i], sizes[names[i]]
        for dx, dy in _AROUND:
            cx = x + dx * (radius + 2 + w / 2)
            cy = y + dy * (radius + 1 + h / 2)
            box = (cx - w / 2 - 1, cy - h / 2 - 1, cx + w / 2 + 1, cy + h / 2 + 1)
            inside = (
                inner[0, 0] <= box[0]
                and box[2] <= inner[1, 0]
                and inner[0, 1] <= box[1]
                and box[3] <= inner[1, 1]
            )
            if inside and not _overlaps(box, taken):
                taken.append(box)
                texts.append(ax.annotate(
                    name, xy=tuple(xy[i]), xytext=((cx - x) * to_points, (cy - y) * to_points),
                    textcoords="offset points", ha="center", va="center", fontsize=8,
                    fontweight=weight[name], path_effects=LABEL_HALO,
                ))  # fmt: skip
                break
        else:
            margin.append(i)
    if margin:
        frac = ax.transAxes.inverted().transform(px)
        middle = float(np.median(frac[margin, 0]))
        for side in ("left", "right"):
            column = sorted((i for i in margin if (frac[i, 0] <= middle) == (side == "left")),
                            key=lambda i: frac[i, 1])  # fmt: skip
            heights = _spread([float(frac[i, 1]) for i in column], _LABEL_GAP)
            x = 0.01 if side == "left" else 0.99
            for i, y in zip(column, heights, strict=True):
                texts.append(ax.annotate(
                    names[i], xy=tuple(xy[i]), xytext=(x, y), textcoords="axes fraction",
                    ha=side, va="center", fontsize=8, fontweight=weight[names[i]],
                    path_effects=LABEL_HALO, arrowprops={"arrowstyle": "-", "color": "#555555",
                                                    "lw": 0.5, "shrinkA": 1, "shrinkB": 4},
                ))  # fmt: skip
    return texts


def umap_figure(
    coords: Mapping[str, tuple[np.ndarray, np.ndarray]], *, target: str, title: str
) -> plt.Figure:
    """UMAP of pre and post sentence embeddings in one projection (paper Fig. 3).

    ``coords[lang] = (pre_xy, post_xy)``. Each language has its colour and marker;
    pre-intervention sentences are hollow, post-intervention ones filled (so the two
    stay apart in greyscale). Each centroid is marked (black edge) and labelled,
    ``code`` (pre) and ``code*`` (post): beside itself where there is room, else in a
    column at the left or right margin with a leader line (labels never pile up on
    each other); the target's labels are bold.
    """
    fig, ax = plt.subplots(figsize=(PAGE_WIDTH, 6.6), layout="constrained")
    order = [c for c in coords if c != target] + [target]
    centroids = {}
    for code in order:
        pre_xy, post_xy = coords[code]
        color, marker = language_color(code), language_marker(code)
        width = 1.2 if code == target else 0.6
        ax.scatter(*pre_xy.T, s=12, marker=marker, facecolors="none", edgecolors=color,
                   linewidths=width, alpha=0.6)  # fmt: skip
        ax.scatter(*post_xy.T, s=12, marker=marker, color=color, edgecolors="black" if code == target else "none",
                   linewidths=0.4, alpha=0.6)  # fmt: skip
        centroids[code] = tuple(pre_xy.mean(0))
        centroids[f"{code}*"] = tuple(post_xy.mean(0))
    for name, (x, y) in centroids.items():
        code = name.rstrip("*")
        ax.plot(x, y, linestyle="none", marker=language_marker(code), ms=7, mew=1.0, mec="black",
                mfc=language_color(code) if name.endswith("*") else "white", zorder=5)  # fmt: skip
    ax.margins(0.02)
    ax.autoscale_view()
    x0, x1 = ax.get_xlim()
    pad = _MARGIN * (x1 - x0) / (1 - 2 * _MARGIN)
    ax.set_xlim(x0 - pad, x1 + pad)  # free bands at the sides for the margin labels
    ax.set_ylim(*ax.get_ylim())
    ax.scatter([], [], marker="o", facecolors="none", edgecolors="#444444", label="pre (hollow)")
    ax.scatter([], [], marker="o", color="#444444", label="post (filled)")
    ax.plot([], [], "o", mec="black", mfc="white", ms=7, label="centroid: code (pre), code* (post)")
    fig.legend(loc="outside lower center", ncols=3, fontsize=8)
    ax.set_xlabel("UMAP 1 (no unit)")
    ax.set_ylabel("UMAP 2 (no unit)")
    ax.set_title(title, fontsize=11)
    ax.set_xticks([])
    ax.set_yticks([])
    _label_centroids(ax, centroids, target)  # last: it needs the final layout
    return fig


def distance_change_figure(estimates: pd.DataFrame, *, title: str) -> plt.Figure:
    """Table 1 per target with intervals: pre (hollow) and post (filled) for each of
    the four distances, an arrow from pre to post.

    ``estimates`` has one row per (target, quantity, space ∈ {pre, post}) with columns
    ``value``, ``low``, ``high`` (cosine distances).
    """
    quantities = [q for q in QUANTITY_LABELS if q in set(estimates["quantity"])]
    targets = list(dict.fromkeys(estimates["target"]))
    ncols = min(2, len(quantities))
    nrows = -(-len(quantities) // ncols)
    fig, axes = plt.subplots(nrows, ncols, figsize=(PAGE_WIDTH, 2.8 * nrows + 0.9), sharey=True,
                             squeeze=False, layout="constrained")  # fmt: skip
    flat = axes.ravel()
    for ax in flat[len(quantities) :]:
        ax.set_visible(False)
    for ax, quantity in zip(flat, quantities, strict=False):
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
        ax.set_xlim(-0.5, len(targets) - 0.5)
        ax.set_xlabel("intervention target")
        ax.set_title(QUANTITY_LABELS[quantity].replace("\n", " "), fontsize=9)
    for ax in axes[:, 0]:
        ax.set_ylabel("cosine distance\n(0 = same direction)")
    first = flat[0]
    first.plot([], [], "o", mfc="none", color="#444444", label="pre")
    first.plot([], [], "o", color="#444444", label="post")
    fig.legend(*first.get_legend_handles_labels(), loc="outside lower center", ncols=2, fontsize=8)
    fig.suptitle(title, fontsize=11)
    return fig

"""Figures of the baselines chapter ("Is steering more than re-centering?"; not in the
paper). Accuracy panels are scaled to their data with the chance line; conditions and
methods are greys with hatches; an intervention on a target wears the target's colour."""

from __future__ import annotations

from collections.abc import Mapping, Sequence

import matplotlib.pyplot as plt
import numpy as np
import pandas as pd
from matplotlib.container import BarContainer
from matplotlib.ticker import MaxNLocator, NullLocator

from steerspace.figures.style import (
    CONDITIONS,
    PAGE_WIDTH,
    accuracy_axis,
    add_chance,
    condition_bar,
    error_bars,
    language_color,
    language_marker,
    language_order,
    method_style,
    symmetric_limit,
)

VIEWS = ("target as query", "all pairs")
# the three parts of a combination: the intervention in its "post" style, then methods
PART_STYLES = {
    "intervention": CONDITIONS["post"],
    "baseline alone": method_style(1),
    "both": method_style(2),
}
SCORE_NAMES = {"dot": "inner product (the paper's)", "cosine": "cosine"}
SHORT_SCORE_NAMES = {"dot": "inner product", "cosine": "cosine"}


def _error_bars(ax: plt.Axes, x, rows: pd.DataFrame, scale: float = 1.0) -> None:
    ax.errorbar(
        x,
        scale * rows["value"],
        yerr=error_bars(rows["value"], rows["low"], rows["high"], scale=scale),
        fmt="none",
        ecolor="#7F7F7F",
        elinewidth=1.0,
        capsize=1.5,
        zorder=4,
    )


def _grid(scores: Sequence[str]) -> tuple[plt.Figure, np.ndarray]:
    fig, axes = plt.subplots(
        len(scores),
        len(VIEWS),
        figsize=(PAGE_WIDTH, 2.8 * len(scores) + 1.0),
        squeeze=False,
        layout="constrained",
    )
    return fig, axes


def _panel_title(view: str, score: str) -> str:
    return f"{SHORT_SCORE_NAMES.get(score, score)}: {view}"


def similarity_figure(acc: pd.DataFrame, *, chance: float, title: str) -> plt.Figure:
    """Top-1 accuracy pre and post each target's intervention, by score (rows) and view
    (columns), with 95 % intervals over queries and the chance line.

    ``acc``: one row per (target, view, score, space ∈ pre/post) with ``value``,
    ``low``, ``high``. Each panel has its own accuracy axis (inner-product accuracies
    are far smaller than cosine ones).
    """
    scores = list(dict.fromkeys(acc["score"]))
    targets = list(dict.fromkeys(acc["target"]))
    fig, axes = _grid(scores)
    x = np.arange(len(targets))
    for row, score in enumerate(scores):
        for col, view in enumerate(VIEWS):
            ax = axes[row, col]
            part = acc[(acc["score"] == score) & (acc["view"] == view)]
            for i, space in enumerate(("pre", "post")):
                rows = part[part["space"] == space].set_index("target").reindex(targets)
                pos = x + (i - 0.5) * 0.38
                condition_bar(ax, pos, rows["value"], condition=space, width=0.38)
                _error_bars(ax, pos, rows)
            accuracy_axis(ax, part["high"], chance)
            add_chance(ax, chance)
            ax.set_xticks(x, targets)
            ax.set_title(_panel_title(view, score), fontsize=10)
            if col == 0:
                ax.set_ylabel("top-1 accuracy")
            if row == len(scores) - 1:
                ax.set_xlabel("intervention target")
    handles, labels = axes[0, 0].get_legend_handles_labels()
    fig.legend(handles, labels, loc="outside lower center", ncols=3, fontsize=8)
    fig.suptitle(title)
    return fig


def dimension_share_figure(shares: Mapping[str, pd.DataFrame], *, title: str) -> plt.Figure:
    """Share of the mean squared norm (left) and of the variance (right) per dimension,
    sorted from the largest, for the original space (``"pre"``, black) and each
    target's intervened space (``"post <target>"``, the target's colour); the dotted
    line is an isotropic space (1/d)."""
    fig, axes = plt.subplots(1, 2, figsize=(PAGE_WIDTH, 3.8), sharey=True, layout="constrained")
    for ax, column, what in zip(
        axes, ("norm_share", "variance_share"), ("mean squared norm", "variance"), strict=True
    ):
        dim = 1
        for name, frame in shares.items():
            values = np.sort(frame[column].to_numpy())[::-1]
            dim = values.size
            rank = np.arange(1, dim + 1)
            if name == "pre":
                ax.plot(rank, values, color="black", lw=2.4, ls="--", label="pre", zorder=5)
            else:
                target = name.split()[-1]
                ax.plot(rank, values, color=language_color(target), lw=1.1, label=name,
                        marker=language_marker(target), markevery=0.2, ms=4)  # fmt: skip
        ax.axhline(1 / dim, color="#6E6E6E", lw=0.8, ls=":", label="isotropic (1/d)")
        ax.set_xscale("log")
        ax.set_yscale("log")
        ax.set_xlabel("dimension rank\n(largest first, log scale)")
        ax.set_title(f"share of the {what}", fontsize=10)
    axes[0].set_ylabel("share per dimension\n(fraction, log scale)")
    handles, labels = axes[1].get_legend_handles_labels()
    fig.legend(handles, labels, loc="outside lower center", ncols=4, fontsize=8)
    fig.suptitle(title)
    return fig


def methods_figure(
    acc: pd.DataFrame,
    *,
    methods: Sequence[str],
    chance: float,
    title: str,
    styles: Mapping[str, Mapping[str, str]] | None = None,
) -> plt.Figure:
    """Top-1 accuracy of each method (the original space, each baseline on it, the
    intervention) per target, by score (rows) and view (columns), with 95 % intervals
    and the chance line. ``acc``: rows (target, view, score, method, value, low, high);
    ``styles``: method → bar style (face colour, hatch, edge; default
    :func:`~steerspace.figures.style.method_style` by position)."""
    styles = {m: (styles or {}).get(m, method_style(i)) for i, m in enumerate(methods)}
    scores = list(dict.fromkeys(acc["score"]))
    targets = list(dict.fromkeys(acc["target"]))
    fig, axes = _grid(scores)
    x = np.arange(len(targets))
    width = 0.84 / len(methods)
    for row, score in enumerate(scores):
        for col, view in enumerate(VIEWS):
            ax = axes[row, col]
            part = acc[(acc["score"] == score) & (acc["view"] == view)]
            for i, method in enumerate(methods):
                rows = part[part["method"] == method].set_index("target").reindex(targets)
                pos = x + (i - (len(methods) - 1) / 2) * width
                ax.bar(pos, rows["value"], width=width, label=method, linewidth=0.6,
                       **styles[method])  # fmt: skip
                _error_bars(ax, pos, rows)
            accuracy_axis(ax, part["high"], chance)
            add_chance(ax, chance)
            ax.set_xticks(x, targets)
            ax.set_title(_panel_title(view, score), fontsize=10)
            if col == 0:
                ax.set_ylabel("top-1 accuracy")
            if row == len(scores) - 1:
                ax.set_xlabel("intervention target")
    handles, labels = axes[0, 0].get_legend_handles_labels()
    fig.legend(handles, labels, loc="outside lower center", ncols=min(3, len(labels)), fontsize=8)
    fig.suptitle(title)
    return fig


def pair_delta_figure(
    panels: Sequence[tuple[str, str, pd.DataFrame]], *, title: str, ncols: int = 2
) -> plt.Figure:
    """Heatmaps of Δ top-1 accuracy per (query, candidate) language pair.

    ``panels``: (family, panel title, query × candidate DataFrame of changes). Panels of
    one family share one symmetric colour scale, and each family gets its own scale
    and colour bar, so a family with small changes (the intervention) is not drawn
    blank beside one with large changes (a baseline). Axes are sorted by code. The
    grid is ``ncols`` panels wide (at most two fit the text column's width with
    language codes readable); the colour bars lie under the grid, one per family.
    Where every panel shows the same languages, only the outer panels name them.
    """
    families = list(dict.fromkeys(family for family, _, _ in panels))
    limits = {
        f: symmetric_limit([d.to_numpy() for fam, _, d in panels if fam == f], floor=1e-3)
        for f in families
    }
    ncols = max(1, min(ncols, 2, len(panels)))
    nrows = int(np.ceil(len(panels) / ncols))
    fig, axes = plt.subplots(
        nrows, ncols, figsize=(PAGE_WIDTH, 3.5 * nrows + 0.5 + 0.8 * len(families)),
        squeeze=False, layout="constrained",
    )  # fmt: skip
    shapes = {
        (tuple(language_order(d.index)), tuple(language_order(d.columns))) for _, _, d in panels
    }
    outer_only = len(shapes) == 1
    images = {}
    for i, (ax, (family, name, delta)) in enumerate(zip(axes.flat, panels, strict=False)):
        order = language_order(delta.index)
        data = delta.reindex(index=order, columns=language_order(delta.columns)).to_numpy()
        images[family] = ax.imshow(data, cmap="RdBu", vmin=-limits[family], vmax=limits[family])
        ax.set_xticks(range(data.shape[1]), language_order(delta.columns), rotation=90, fontsize=8)
        ax.set_yticks(range(data.shape[0]), order, fontsize=8)
        row, col = divmod(i, ncols)
        below = i + ncols < len(panels)  # another panel under this one
        if not (outer_only and below):
            ax.set_xlabel("candidate language")
        else:
            ax.tick_params(labelbottom=False)
        if not (outer_only and col > 0):
            ax.set_ylabel("query language")
        else:
            ax.tick_params(labelleft=False)
        ax.grid(False)
        ax.set_title(name, fontsize=10)
    for ax in list(axes.flat)[len(panels) :]:
        ax.set_visible(False)
    shown = list(axes.flat)[: len(panels)]
    for family, image in reversed(images.items()):  # the first family's bar ends up on top
        bar = fig.colorbar(image, ax=shown, location="bottom", shrink=0.6, aspect=35, pad=0.01,
                           label=f"Δ top-1 accuracy, {family}")  # fmt: skip
        bar.ax.xaxis.set_major_locator(MaxNLocator(5))
    fig.suptitle(title, fontsize=11)
    return fig


def sweep_figure(sweep: pd.DataFrame, *, rule: int, chance: float, title: str) -> plt.Figure:
    """All-pairs top-1 accuracy after all-but-the-top against the number of removed
    components, by score, with 95 % intervals (bands), the chance line and the d/100
    rule marked. ``sweep``: rows (components, score, value, low, high)."""
    fig, ax = plt.subplots(figsize=(6.4, 3.6), layout="constrained")
    for i, (score, part) in enumerate(sweep.groupby("score", sort=False)):
        part = part.sort_values("components")
        style = method_style(i)
        line_color = "#252525" if i == 0 else "#737373"
        ax.plot(part["components"], part["value"], marker="os"[i % 2], color=line_color,
                ls="-" if i == 0 else "--", label=SCORE_NAMES.get(score, score))  # fmt: skip
        ax.fill_between(part["components"], part["low"], part["high"], color=style["color"],
                        alpha=0.25, linewidth=0)  # fmt: skip
    ax.axvline(rule, color="#6E6E6E", lw=0.8, ls=":", label=f"d/100 rule ({rule})")
    accuracy_axis(ax, sweep["high"], chance)
    add_chance(ax, chance)
    ax.set_xscale("log")
    grid = sorted(set(sweep["components"]))
    ax.set_xticks(grid, [str(c) for c in grid])
    ax.xaxis.set_minor_locator(NullLocator())
    ax.set_xlabel("principal components removed (log scale)")
    ax.set_ylabel("top-1 accuracy, all pairs (fraction)")
    ax.legend(fontsize=8, loc="upper left")
    ax.set_title(title, fontsize=10)
    return fig


def combination_figure(gains: pd.DataFrame, *, baselines: Sequence[str], title: str) -> plt.Figure:
    """Gains in top-1 accuracy (pp) over the original space, per target: the
    intervention alone, the baseline alone, and the baseline after the intervention
    (both), with 95 % intervals; the short black bar is the sum of the two separate
    gains. ``gains``: rows (baseline, target, part ∈ intervention/baseline alone/both/
    sum, value, low, high) as fractions. One panel per baseline (one above the other),
    each scaled to its data."""
    parts = tuple(PART_STYLES)
    fig, axes = plt.subplots(
        len(baselines), 1, figsize=(PAGE_WIDTH, 2.2 * len(baselines) + 1.0), squeeze=False,
        sharex=True, layout="constrained",
    )  # fmt: skip
    for ax, baseline in zip(axes[:, 0], baselines, strict=True):
        sub = gains[gains["baseline"] == baseline]
        targets = list(dict.fromkeys(sub["target"]))
        x = np.arange(len(targets))
        for i, part in enumerate(parts):
            rows = sub[sub["part"] == part].set_index("target").reindex(targets)
            pos = x + (i - 1) * 0.27
            ax.bar(pos, 100 * rows["value"], width=0.27, label=part, linewidth=0.6,
                   **PART_STYLES[part])  # fmt: skip
            _error_bars(ax, pos, rows, scale=100.0)
        total = sub[sub["part"] == "sum"].set_index("target").reindex(targets)
        ax.scatter(x + 0.27, 100 * total["value"], color="black", marker="_", s=220, zorder=5,
                   label="sum of the two")  # fmt: skip
        handles = [*(c for c in ax.containers if isinstance(c, BarContainer)), ax.collections[-1]]
        ax.axhline(0, color="black", lw=0.6)
        ax.set_xticks(x, targets)
        ax.set_title(baseline, fontsize=10)
        ax.set_ylabel("Δ top-1 accuracy\nvs original (pp)")
    axes[-1, 0].set_xlabel("intervention target")
    fig.legend(handles=handles, loc="outside lower center", ncols=4, fontsize=8)
    fig.suptitle(title)
    return fig

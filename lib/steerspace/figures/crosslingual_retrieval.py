"""Figures of cross-lingual retrieval (paper §5: Fig. 4, Table 2, Fig. 5; App. E–F).

Accuracies are drawn on axes scaled to the data with the chance line (1 / number of
candidates) and 95 % intervals over queries; pre and post are the book's condition
styles; languages are sorted by their code; the Δ-accuracy heatmaps of all targets
share one symmetric colour scale per score (the caller passes it, from
:func:`steerspace.figures.style.symmetric_limit`).
"""

from __future__ import annotations

from collections.abc import Mapping

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
    unseen_label_colors,
)

#: error bars in a mid grey: visible on the light (pre), dark (post) and white hatched
#: (mixed) bars alike, with no halo that would cut a bar in two
_ERR = {"ecolor": "#7F7F7F", "elinewidth": 1.0, "capsize": 1.5, "fmt": "none", "zorder": 4}
CORRELATION_LABELS = {
    "r(acc_post,d_post)": "r(acc post, d post)",
    "r(acc_pre,d_pre)": "r(acc pre, d pre)",
    "r(d_post,d_pre)": "r(d post, d pre)",
    "r(delta_acc,d_pre-d_post)": "r(Δacc, d pre − d post)",
}
UNTESTABLE_COLOUR = "#BBBBBB"
NO_PAIR_COLOUR = "#9E9E9E"
PAPER_TICK = {"marker": "|", "linestyle": "none", "color": "#555555", "ms": 10, "mew": 1.6}


def interval_bars(ax: plt.Axes, x: np.ndarray, rows: pd.DataFrame) -> None:
    """95 % intervals (``value``, ``low``, ``high`` of ``rows``) as error bars on bars:
    mid grey, so that they show on dark and light bars alike without a halo."""
    err = error_bars(rows["value"], rows["low"], rows["high"])
    ax.errorbar(x, rows["value"], yerr=err, **_ERR)


def target_query_figure(
    table: pd.DataFrame,
    *,
    target: str,
    chance: float,
    seen: Mapping[str, bool | None],
    title: str,
) -> plt.Figure:
    """The paper's Fig. 4 for one target: top-1 accuracy with the target's sentences as
    queries and each other language's as candidates, pre and post, one panel per score.

    ``table`` is :func:`steerspace.analyses.crosslingual_retrieval.accuracy_table` with a ``score`` column;
    error bars are 95 % intervals over queries. Tick labels of languages the model did
    not see in pre-training are red (none where that is unknown).
    """
    mine = table[(table["target"] == target) & table["condition"].isin(["pre", "post"])]
    scores = list(dict.fromkeys(mine["score"]))
    candidates = language_order(set(mine["candidate"]))
    x = np.arange(len(candidates))
    fig, axes = plt.subplots(len(scores), 1, figsize=(PAGE_WIDTH, 2.6 * len(scores) + 0.8),
                             squeeze=False, layout="constrained")  # fmt: skip
    for ax, score in zip(axes[:, 0], scores, strict=True):
        part = mine[mine["score"] == score].set_index(["condition", "candidate"])
        for offset, condition, label in ((-0.2, "pre", "pre (original model)"),
                                         (0.2, "post", f"post (experts of {target})")):  # fmt: skip
            rows = part.loc[condition].reindex(candidates)
            condition_bar(ax, x + offset, rows["value"].to_numpy(), condition=condition,
                          width=0.4, label=label)  # fmt: skip
            interval_bars(ax, x + offset, rows)
        add_chance(ax, chance, label=chance_label(chance))
        accuracy_axis(ax, part["high"], chance)
        ax.set_xticks(x, candidates)
        unseen_label_colors(ax, candidates, dict(seen))
        ax.set_ylabel(f"top-1 accuracy\n({score})")
    axes[-1, 0].set_xlabel(f"candidate language (queries: {target} sentences)")
    handles, labels = axes[0, 0].get_legend_handles_labels()
    fig.legend(handles, labels, loc="outside lower center", ncols=3, fontsize=8)
    fig.suptitle(title, fontsize=11)
    return fig


def delta_heatmap_figure(
    marks: Mapping[str, pd.DataFrame],
    *,
    limits: Mapping[str, float],
    target: str,
    chance: float,
    title: str,
) -> plt.Figure:
    """The paper's Fig. 5 for one target: change of top-1 accuracy (post − pre) for
    every query (rows) × candidate (columns) language, one panel per score.

    ``marks[score]`` is :func:`steerspace.analyses.crosslingual_retrieval.delta_marks`; ``limits[score]``
    the colour limit shared by every target's figure (so colours compare across
    targets). A dot marks a pair whose 95 % interval over queries excludes 0; the
    target's row and column are framed. The panels sit one above the other, each as
    wide as the text column allows.
    """
    scores = list(marks)
    fig, axes = plt.subplots(len(scores), 1, figsize=(PAGE_WIDTH * 0.8, 5.0 * len(scores) + 0.7),
                             squeeze=False, layout="constrained")  # fmt: skip
    for ax, score in zip(axes[:, 0], scores, strict=True):
        frame = marks[score]
        languages = language_order(set(frame["query"]) | set(frame["candidate"]))
        grid = frame.pivot(index="query", columns="candidate", values="value")
        grid = grid.reindex(index=languages, columns=languages)
        sig = frame.pivot(index="query", columns="candidate", values="excludes_zero")
        sig = sig.reindex(index=languages, columns=languages).fillna(False).astype(bool)
        lim = float(limits[score])
        cmap = plt.get_cmap("RdBu").with_extremes(bad=NO_PAIR_COLOUR)
        im = ax.imshow(grid.to_numpy(float), cmap=cmap, vmin=-lim, vmax=lim)
        rows, cols = np.nonzero(sig.to_numpy())
        ax.scatter(cols, rows, s=12, facecolors="white", edgecolors="black", marker="o",
                   linewidths=0.6, label="95 % interval excludes 0")  # fmt: skip
        if target in languages:
            i = languages.index(target)
            for rect in ((i - 0.5, -0.5, 1, len(languages)), (-0.5, i - 0.5, len(languages), 1)):
                ax.add_patch(plt.Rectangle(rect[:2], rect[2], rect[3], fill=False, lw=1.2,
                                           edgecolor="black"))  # fmt: skip
        ax.set_xticks(range(len(languages)), languages, rotation=90, fontsize=8)
        ax.set_yticks(range(len(languages)), languages, fontsize=8)
        ax.set_xlabel("candidate language")
        ax.set_ylabel("query language")
        ax.grid(False)
        ax.set_title(
            f"{score}; chance 1/{round(1 / chance):,}; grey diagonal: no pair", fontsize=10
        )
        fig.colorbar(im, ax=ax, shrink=0.9, label="Δ top-1 accuracy\n(post − pre)")
    handles, labels = axes[0, 0].get_legend_handles_labels()
    fig.legend(handles, labels, loc="outside lower center", fontsize=8, markerscale=1.5)
    fig.suptitle(title, fontsize=11)
    return fig


def change_summary_figure(summary: pd.DataFrame, *, title: str) -> plt.Figure:
    """Ours (the paper shows no such summary): per target, the change of mean top-1
    accuracy (post − pre) with the target as query (left) and over the pairs without
    the target (right), with 95 % intervals over queries; one marker style per score.

    ``summary`` has one row per (``part``, ``score``, target) with ``change_value``,
    ``change_low``, ``change_high`` and ``testable`` (accuracy above chance pre or post;
    untestable points are grey).
    """
    parts = list(dict.fromkeys(summary["part"]))
    scores = list(dict.fromkeys(summary["score"]))
    targets = language_order(set(summary["target"]))
    fig, axes = plt.subplots(1, len(parts), figsize=(PAGE_WIDTH, 3.4), squeeze=False,
                             sharey=True, layout="constrained")  # fmt: skip
    x = np.arange(len(targets))
    for ax, part in zip(axes[0], parts, strict=True):
        for j, score in enumerate(scores):
            rows = summary[(summary["part"] == part) & (summary["score"] == score)]
            rows = rows.set_index("target").reindex(targets)
            shift = (j - (len(scores) - 1) / 2) * 0.25
            for i, target in enumerate(targets):
                r = rows.loc[target]
                colour = language_color(target) if r["testable"] else UNTESTABLE_COLOUR
                ax.errorbar(x[i] + shift, 100 * r["change_value"],
                            yerr=error_bars([r["change_value"]], [r["change_low"]],
                                            [r["change_high"]], scale=100),
                            fmt=language_marker(target), color=colour, ms=6, capsize=2,
                            mfc=colour if j == 0 else "white")  # fmt: skip
        ax.axhline(0, color="#444444", lw=0.8)
        ax.set_xticks(x, targets)
        ax.set_xlabel("intervention target")
        ax.set_title(part, fontsize=10)
    axes[0, 0].set_ylabel("Δ top-1 accuracy\n(percentage points)")
    for j, score in enumerate(scores):
        axes[0, 0].plot([], [], "o", color="#444444", mfc="#444444" if j == 0 else "white",
                        label=score)  # fmt: skip
    axes[0, 0].plot([], [], "o", color=UNTESTABLE_COLOUR, label="accuracy at chance: no verdict")
    fig.legend(loc="outside lower center", ncols=3, fontsize=8)
    fig.suptitle(title, fontsize=11)
    return fig


def table2_figure(ours: pd.DataFrame, paper: pd.DataFrame, *, title: str) -> plt.Figure:
    """The paper's Table 2 as a figure: each correlation per query (= target) language,
    ours by score with its 95 % interval over candidate languages, the paper's three
    models as grey ticks. Correlations resting on accuracies at chance are grey.

    ``ours`` is :func:`steerspace.analyses.crosslingual_retrieval.table2_checked` with a ``score`` column;
    ``paper`` is the paper's Table 2 (``query_language_iso``, ``correlation``, ``r``);
    its values are the only vertical ticks (our intervals have no caps).
    """
    correlations = [c for c in CORRELATION_LABELS if c in set(ours["correlation"])]
    scores = list(dict.fromkeys(ours["score"]))
    targets = language_order(set(ours["query_language"]))
    y = np.arange(len(targets))
    ncols = min(2, len(correlations))
    nrows = -(-len(correlations) // ncols)
    fig, axes = plt.subplots(nrows, ncols, figsize=(PAGE_WIDTH, (0.32 * len(targets) + 1.3) * nrows + 1.0),
                             sharex=True, sharey=True, squeeze=False, layout="constrained")  # fmt: skip
    for ax in axes.ravel()[len(correlations) :]:
        ax.set_visible(False)
    for ax, name in zip(axes.ravel(), correlations, strict=False):
        theirs = paper[paper["correlation"] == name]
        for i, target in enumerate(targets):
            r = theirs.loc[theirs["query_language_iso"] == target, "r"].dropna()
            ax.plot(r, [y[i]] * len(r), **PAPER_TICK)
        for j, score in enumerate(scores):
            rows = ours[(ours["correlation"] == name) & (ours["score"] == score)]
            rows = rows.set_index("query_language").reindex(targets)
            shift = (j - (len(scores) - 1) / 2) * 0.3
            for i, target in enumerate(targets):
                row = rows.loc[target]
                colour = language_color(target) if row["testable"] else UNTESTABLE_COLOUR
                ax.errorbar(row["r"], y[i] + shift, xerr=[[row["r"] - row["ci_low"]],
                            [row["ci_high"] - row["r"]]], fmt=language_marker(target),
                            color=colour, mfc=colour if j == 0 else "white", ms=5,
                            capsize=0)  # fmt: skip
        ax.axvline(0, color="#444444", lw=0.8)
        ax.set_xlim(-1.05, 1.05)
        ax.set_title(CORRELATION_LABELS[name], fontsize=10)
        ax.tick_params(labelbottom=True)
    for ax in axes[-1]:
        ax.set_xlabel("Pearson r")
    for ax in axes[:, 0]:
        ax.set_ylabel("query language\n(= intervention target)")
    axes[0, 0].set_yticks(y, targets)
    axes[0, 0].invert_yaxis()
    for j, score in enumerate(scores):
        axes[0, 0].plot([], [], "o", color="#444444", mfc="#444444" if j == 0 else "white",
                        label=f"ours, {score}")  # fmt: skip
    axes[0, 0].plot([], [], "o", color=UNTESTABLE_COLOUR, label="ours, accuracy at chance")
    axes[0, 0].plot([], [], **PAPER_TICK, label="paper (three models)")
    fig.legend(loc="outside lower center", ncols=2, fontsize=8)
    fig.suptitle(title, fontsize=11)
    return fig

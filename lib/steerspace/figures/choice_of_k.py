"""The figure of the choice of k (paper Fig. 2, App. B): steering and perplexity against
the number of experts, and the trade-off between them."""

from __future__ import annotations

from collections.abc import Sequence

import matplotlib.pyplot as plt
import pandas as pd

from steerspace.figures.style import (
    PAGE_WIDTH,
    accuracy_axis,
    error_bars,
    language_color,
    language_marker,
    language_order,
    place_labels,
)


def k_axis(ax: plt.Axes, grid: Sequence[int]) -> None:
    """A symmetric-log k axis with a tick at every k of the grid: linear from 0 to the
    smallest k > 0, logarithmic above, so that k = 0 (the original model) sits at 0.
    The axis starts just left of 0 (the negative half of a symmetric-log axis would
    otherwise leave its left part empty) and ends just right of the largest k."""
    positive = [k for k in grid if k > 0]
    linthresh = min(positive) if positive else 1
    ax.set_xscale("symlog", linthresh=linthresh, linscale=0.6)
    ax.set_xticks(list(grid), [str(k) for k in grid])
    ax.minorticks_off()
    ax.set_xlim(-0.15 * linthresh, max(grid, default=1) * 1.25)


def _share_axis(ax: plt.Axes, values) -> None:
    """A share axis scaled to the data (:func:`accuracy_axis`), with a little room below
    0 and above the top so that markers at a share of 0 or 1 are drawn whole."""
    upper = accuracy_axis(ax, values)
    ax.set_ylim(-0.03 * upper, 1.03 * upper)


def _legend(ax: plt.Axes) -> None:
    ax.legend(loc="upper left", bbox_to_anchor=(1.01, 1.0), fontsize=8)


def k_sweep_figure(table: pd.DataFrame, *, label_target: str, title: str) -> plt.Figure:
    """Three panels over the grid of k (one line per target, its colour and marker):

    1. the share of free generations langid.py assigns to the target, with Wilson 95 %
       intervals over generations;
    2. the change of log-perplexity of held-out target text against k = 0 (nats per
       token), with block-bootstrap 95 % intervals over tokens;
    3. the trade-off: share against the change of log-perplexity, each target's path
       through k, the points of ``label_target`` labelled with their k.

    ``table`` is :func:`steerspace.analyses.choice_of_k.sweep_table`'s.
    """
    grid = sorted(int(k) for k in table["k"].unique())
    targets = language_order(table["target"].unique())
    fig, (top, mid, bottom) = plt.subplots(3, 1, figsize=(PAGE_WIDTH, 9.5), layout="constrained")
    for target in targets:
        rows = table[table["target"] == target].sort_values("k")
        style = {"color": language_color(target), "marker": language_marker(target), "ms": 5,
                 "capsize": 2, "lw": 1.2, "label": target}  # fmt: skip
        top.errorbar(
            rows["k"],
            rows["share"],
            yerr=error_bars(rows["share"], rows["share_low"], rows["share_high"]),
            **style,
        )
        mid.errorbar(rows["k"], rows["dlog_ppl"],
                     yerr=error_bars(rows["dlog_ppl"], rows["dlog_low"], rows["dlog_high"]), **style)  # fmt: skip
        bottom.plot(rows["dlog_ppl"], rows["share"], color=style["color"], marker=style["marker"],
                    ms=5, lw=1.0, label=target)  # fmt: skip
        bottom.plot(rows["dlog_ppl"].iloc[:1], rows["share"].iloc[:1], linestyle="none",
                    marker=style["marker"], ms=7, mfc="white", color=style["color"])  # fmt: skip
    for ax in (top, mid):
        k_axis(ax, grid)
        ax.set_xlabel("number of experts k (0 = the original model; symmetric-log scale)")
        _legend(ax)
    _share_axis(top, table["share_high"])
    top.set_ylabel("share of generations\nin the target language")
    top.set_title("steering (Fig. 2, top)", fontsize=10)
    mid.axhline(0.0, color="#6E6E6E", lw=0.8, ls=":")
    mid.set_ylabel("Δ log-perplexity vs k = 0\n(nats per token)")
    mid.set_title("perplexity of held-out target text (Fig. 2, bottom)", fontsize=10)
    bottom.set_xlabel("Δ log-perplexity vs k = 0 (nats per token)")
    bottom.set_ylabel("share of generations\nin the target language")
    _share_axis(bottom, table["share"])
    bottom.set_xlim(*bottom.get_xlim())  # fixed before labelling: labels stay inside
    rows = table[table["target"] == label_target].sort_values("k")
    labels = place_labels(bottom, {f"k={k}": (x, y) for k, x, y in
                                   zip(rows["k"], rows["dlog_ppl"], rows["share"], strict=True)})  # fmt: skip
    for text in labels:
        text.set_clip_on(True)
    bottom.set_title(f"the trade-off (hollow: k = 0; k labelled for {label_target})", fontsize=10)
    _legend(bottom)
    fig.suptitle(title, fontsize=11)
    return fig

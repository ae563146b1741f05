"""Figures of the finding-experts chapter (paper §3.2; the paper prints no figure of
its experts, so these are ours). Expert layers are **transformer blocks** 0 … L − 1
(the MLP inside block ℓ), not hidden states 0 … L (see
:func:`steerspace.figures.style.layer_axis`)."""

from __future__ import annotations

from collections.abc import Mapping

import matplotlib.pyplot as plt
import numpy as np
import pandas as pd

from steerspace.figures.embedding_space import QUANTITY_LABELS
from steerspace.figures.style import (
    CHANCE_STYLE,
    CONDITIONS,
    PAGE_WIDTH,
    error_bars,
    language_color,
    language_marker,
    language_order,
    layer_axis,
    method_style,
    nice_ceiling,
)

BLOCK_LABEL = "transformer block (its MLP units)"
NO_SKILL = {"color": "#6E6E6E", "linestyle": ":", "linewidth": 0.9}
# Table 1 under the two poolings: pre, then post with the book's (mean) and ml-aura's (max)
POOLING_STYLES = {
    "pre": CONDITIONS["pre"],
    "mean": CONDITIONS["post"],
    "max": method_style(1),
}
POOLING_LABELS = {
    "pre": "pre (original model)",
    "mean": "post, experts by mean-pooled AUROC (this book)",
    "max": "post, experts by max-pooled AUROC (ml-aura's pooling)",
}


#: panels per row of a grid of targets: two fit the text column's width
NCOLS = 2


def _panels(n: int, *, height: float, sharey: bool = True, extra: float = 0.6):
    """A grid of ``n`` panels, :data:`NCOLS` to a row, as wide as the text column;
    ``height`` per row plus ``extra`` for the title and legend."""
    ncols = min(NCOLS, n)
    nrows = -(-n // ncols)
    fig, axes = plt.subplots(
        nrows, ncols, figsize=(PAGE_WIDTH, height * nrows + extra), sharey=sharey,
        squeeze=False, layout="constrained",
    )  # fmt: skip
    flat = axes.ravel()
    for ax in flat[n:]:
        ax.set_visible(False)
    return fig, flat[:n]


def auroc_per_layer_figure(
    tables: Mapping[str, pd.DataFrame], *, chance: float, title: str
) -> plt.Figure:
    """AUROC of every unit per block, one panel per target (sorted by code): boxes
    25th–75th percentile, whiskers 1st–99th, the block's best unit as the target's
    marker; the no-skill level (0.5) and ``chance``, the AUROC the best of all units
    reaches by chance (:func:`steerspace.analyses.finding_experts.chance_auroc`)."""
    targets = language_order(tables)
    fig, axes = _panels(len(targets), height=2.5)
    for ax, target in zip(axes, targets, strict=True):
        tab = tables[target]
        blocks = sorted(int(b) for b in tab["layer"].unique())
        data = [tab.loc[tab["layer"] == b, "auroc"].dropna().to_numpy() for b in blocks]
        color = language_color(target)
        ax.boxplot(data, positions=blocks, whis=(1, 99), showfliers=False, widths=0.7, manage_ticks=False,
                   patch_artist=True, boxprops={"facecolor": color, "alpha": 0.45},
                   medianprops={"color": "black"})  # fmt: skip
        ax.plot(blocks, [d.max() for d in data], linestyle="none", marker=language_marker(target),
                ms=4, color=color, label="best unit of the block")  # fmt: skip
        ax.axhline(0.5, **NO_SKILL, label="no skill (0.5)")
        ax.axhline(chance, **CHANCE_STYLE, label="best of all units by chance")
        layer_axis(ax, len(blocks), label="block")
        ax.set_title(f"target {target}")
    for ax in axes[:: min(NCOLS, len(targets))]:
        ax.set_ylabel("AUROC (target vs the others)")
    handles, labels = axes[0].get_legend_handles_labels()
    fig.legend(handles, labels, loc="outside lower center", ncols=3, fontsize=8)
    fig.suptitle(title, fontsize=11)
    return fig


def experts_per_layer_figure(
    shares: pd.DataFrame, band: pd.DataFrame, *, k: int, title: str
) -> plt.Figure:
    """Share of each target's top-k experts in each block (``shares``: index = block,
    one column per target), against the share of all units and the 95 % range of k
    random units (``band`` from :func:`steerspace.analyses.finding_experts.random_layer_band`)."""
    fig, ax = plt.subplots(figsize=(PAGE_WIDTH, 3.4), layout="constrained")
    blocks = band.index.to_numpy()
    ax.fill_between(blocks, band["low"], band["high"], step="mid", color="#D9D9D9",
                    label=f"{k} random units (95 % range)")  # fmt: skip
    ax.step(blocks, band["all_units"], where="mid", color="#252525", lw=1.2, ls="--",
            label="all units")  # fmt: skip
    for target in language_order(shares.columns):
        ax.plot(shares.index, shares[target], marker=language_marker(target), ms=4, lw=1.2,
                color=language_color(target), label=f"target {target}")  # fmt: skip
    layer_axis(ax, len(blocks), label=BLOCK_LABEL)
    ax.set_ylim(0, nice_ceiling(1.05 * float(np.nanmax(shares.to_numpy()))))
    ax.set_ylabel(f"share of the top-{k} experts")
    ax.legend(loc="upper left", bbox_to_anchor=(1.01, 1.0), fontsize=8)
    ax.set_title(title)
    return fig


def overlap_figure(overlap: pd.DataFrame, *, title: str) -> plt.Figure:
    """Jaccard overlap between the targets' expert sets, axes sorted by code, values
    written in the cells (0 = disjoint, 1 = the same units)."""
    order = language_order(overlap.index)
    mat = overlap.loc[order, order].to_numpy()
    fig, ax = plt.subplots(figsize=(4.4, 3.7), layout="constrained")
    im = ax.imshow(mat, vmin=0, vmax=1, cmap="Greys")
    ax.set_xticks(range(len(order)), order)
    ax.set_yticks(range(len(order)), order)
    ax.set_xlabel("target")
    ax.set_ylabel("target")
    for i in range(len(order)):
        for j in range(len(order)):
            ax.text(j, i, f"{mat[i, j]:.2f}", ha="center", va="center", fontsize=8,
                    color="white" if mat[i, j] > 0.5 else "black")  # fmt: skip
    ax.grid(False)
    fig.colorbar(im, ax=ax, label="Jaccard overlap (no unit)")
    ax.set_title(title)
    return fig


def symlog_threshold(values: np.ndarray) -> float:
    """Where a symmetric-log axis of ``values`` turns from linear to logarithmic: the
    75th percentile of |values| rounded up to a round number (most points stay on the
    linear part, the few large ones are compressed)."""
    finite = np.abs(np.asarray(values, dtype=float))
    finite = finite[np.isfinite(finite) & (finite > 0)]
    return nice_ceiling(float(np.quantile(finite, 0.75))) if finite.size else 1.0


def symlog_ticks(linthresh: float, edge: float) -> list[float]:
    """Major ticks of a symmetric-log axis from −``edge`` to ``edge`` that never collide:
    0, ±``linthresh`` (the ends of the linear part) and at most three powers of ten a
    side, at least a decade beyond it (every second or third power where there are
    more), counted down from the largest."""
    first = int(np.floor(np.log10(linthresh))) + 1
    powers = [10.0**p for p in range(first, int(np.floor(np.log10(edge))) + 1)]
    powers = [v for v in powers if v >= 10 * linthresh * (1 - 1e-9)]
    step = max(1, -(-len(powers) // 3))
    side = [linthresh, *powers[::-1][::step][::-1]]
    return [-v for v in side[::-1]] + [0.0] + side


def _symlog_label(value: float) -> str:
    return "0" if value == 0 else f"{value:g}".replace("-", "−")


def expert_values_figure(experts: Mapping[str, pd.DataFrame], *, title: str) -> plt.Figure:
    """For each target's experts (one panel per target, sorted by code): the value the
    intervention sets (``mean_pos``) against the unit's mean over the other languages
    (``mean_neg``), on symmetric-log axes shared by all panels so that a few units far
    out do not squash the rest; dotted: the diagonal (no change)."""
    targets = language_order(experts)
    values = np.concatenate(
        [experts[t][["mean_pos", "mean_neg"]].to_numpy().ravel() for t in targets]
    )
    linthresh = symlog_threshold(values)
    edge = nice_ceiling(float(np.nanmax(np.abs(values))) * 1.1)
    fig, axes = _panels(len(targets), height=3.0, extra=0.8)
    ticks = symlog_ticks(linthresh, edge)
    for ax, target in zip(axes, targets, strict=True):
        ex = experts[target]
        ax.scatter(ex["mean_neg"], ex["mean_pos"], s=7, alpha=0.5, marker=language_marker(target),
                   color=language_color(target), linewidths=0)  # fmt: skip
        ax.plot([-edge, edge], [-edge, edge], color="#6E6E6E", lw=0.8, ls=":")
        for axis in ("x", "y"):
            getattr(ax, f"set_{axis}scale")("symlog", linthresh=linthresh)
            getattr(ax, f"set_{axis}ticks")(ticks, [_symlog_label(t) for t in ticks])
            getattr(ax, f"set_{axis}lim")(-edge, edge)
        ax.minorticks_off()
        ax.axvspan(-linthresh, linthresh, color="#F0F0F0", zorder=0, lw=0)
        ax.set_title(f"target {target}")
        ax.set_xlabel("mean over the other languages")
    for ax in axes[:: min(NCOLS, len(targets))]:
        ax.set_ylabel("set value (mean over the target)")
    fig.suptitle(
        f"{title}\n(symmetric-log axes, linear within ±{linthresh:g} (shaded))", fontsize=10
    )
    return fig


def pooling_table1_figure(estimates: pd.DataFrame, *, title: str) -> plt.Figure:
    """Table 1 per target under the two poolings of the AUROC: ``estimates`` has one row
    per (target, quantity, condition ∈ pre/mean/max) with ``value``, ``low``, ``high``
    (cosine distances); bars in the condition styles with 95 % intervals, one panel
    per quantity."""
    quantities = [q for q in QUANTITY_LABELS if q in set(estimates["quantity"])]
    targets = language_order(estimates["target"].unique())
    conditions = [c for c in POOLING_STYLES if c in set(estimates["condition"])]
    fig, flat = _panels(len(quantities), height=2.6, extra=1.0)
    x = np.arange(len(targets))
    width = 0.8 / len(conditions)
    for ax, quantity in zip(flat, quantities, strict=True):
        part = estimates[estimates["quantity"] == quantity]
        for i, condition in enumerate(conditions):
            rows = part[part["condition"] == condition].set_index("target").reindex(targets)
            pos = x + (i - (len(conditions) - 1) / 2) * width
            ax.bar(pos, rows["value"], width=width, linewidth=0.6, label=POOLING_LABELS[condition],
                   **POOLING_STYLES[condition])  # fmt: skip
            ax.errorbar(pos, rows["value"], yerr=error_bars(rows["value"], rows["low"], rows["high"]),
                        fmt="none", ecolor="#B2182B", elinewidth=0.8, capsize=1.5)  # fmt: skip
        ax.set_xticks(x, targets)
        ax.set_xlabel("intervention target")
        ax.set_title(QUANTITY_LABELS[quantity], fontsize=9)
    for ax in flat[:: min(NCOLS, len(quantities))]:
        ax.set_ylabel("cosine distance")
    handles, labels = flat[0].get_legend_handles_labels()
    fig.legend(handles, labels, loc="outside lower center", ncols=1, fontsize=8)
    fig.suptitle(title, fontsize=11)
    return fig

"""Figures of the "beyond the paper" chapter (ours, not in the paper): per-state
distances, retrieval and ABX, linguistic similarity, dose–response.

Per-state figures use hidden-state indices (0 = embeddings, s = output of block s − 1,
the last = final norm) with integer ticks; each target wears its colour and marker;
the original model is dashed with hollow markers (drawn above the intervened lines),
the intervened one solid and filled. The lower row of each per-state figure shows the
change with its 95 % interval as a band. Every panel has its own y scale (the
suptitle says so): side by side, a change of a few hundredths sits next to one of
tenths.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence

import matplotlib.pyplot as plt
import numpy as np
import pandas as pd
from matplotlib.lines import Line2D
from matplotlib.ticker import LogFormatter, MaxNLocator

from steerspace.figures.style import (
    CHANCE_STYLE,
    PAGE_WIDTH,
    accuracy_axis,
    add_chance,
    error_bars,
    language_color,
    language_marker,
    layer_axis,
    place_labels,
)

STATE_LABEL = "hidden state\n(0 = embeddings, last = final norm)"
#: said under the title of a figure whose panels side by side have different y scales
OWN_SCALES = "each panel on its own y scale"


def _line(ax: plt.Axes, rows: pd.DataFrame, target: str | None, *, pre: bool, scale: float = 1.0):
    color = "black" if target is None else language_color(target)
    marker = "o" if target is None else language_marker(target)
    ax.plot(rows["layer"], scale * rows["value"], color=color, marker=marker, ms=3.5,
            ls="--" if pre else "-", lw=1.6 if pre else 1.1, mfc="white" if pre else color,
            zorder=6 if pre else 3)  # fmt: skip


def _band(ax: plt.Axes, rows: pd.DataFrame, target: str, *, scale: float = 1.0) -> None:
    color = language_color(target)
    ax.plot(rows["layer"], scale * rows["value"], color=color, marker=language_marker(target),
            ms=3.5, lw=1.1)  # fmt: skip
    ax.fill_between(rows["layer"], scale * rows["low"], scale * rows["high"], color=color,
                    alpha=0.18, linewidth=0)  # fmt: skip


def _legend(fig: plt.Figure, targets: Sequence[str], *, shared_pre: bool) -> None:
    handles = [
        Line2D([], [], color=language_color(t), marker=language_marker(t), label=f"post {t}")
        for t in targets
    ]
    pre_label = "pre (original model)" if shared_pre else "pre (dashed, hollow)"
    handles.append(Line2D([], [], color="black", ls="--", marker="o", mfc="white", label=pre_label))
    fig.legend(handles=handles, loc="outside lower center", ncols=min(len(handles), 6), fontsize=8)


def _per_state(
    frame: pd.DataFrame,
    *,
    panels: Sequence[tuple[str, str]],
    column: str,
    top_label: str,
    bottom_label: str,
    change: str,
    scale_top: float,
    scale_bottom: float,
    shared_pre: bool,
    title: str,
) -> tuple[plt.Figure, np.ndarray]:
    """Two rows of panels per state: values pre/post (top) and the change (bottom)."""
    targets = list(dict.fromkeys(frame["target"]))
    n_states = int(frame["layer"].max()) + 1
    fig, axes = plt.subplots(
        2, len(panels), figsize=(PAGE_WIDTH, 6.6), squeeze=False, sharex=True,
        layout="constrained",
    )  # fmt: skip
    for col, (key, name) in enumerate(panels):
        part = frame[frame[column] == key]
        top, bottom = axes[0, col], axes[1, col]
        for target in targets:
            rows = part[part["target"] == target]
            _line(top, rows[rows["condition"] == "post"], target, pre=False, scale=scale_top)
            if not shared_pre:
                _line(top, rows[rows["condition"] == "pre"], target, pre=True, scale=scale_top)
            _band(bottom, rows[rows["condition"] == change], target, scale=scale_bottom)
        if shared_pre:
            rows = part[(part["target"] == targets[0]) & (part["condition"] == "pre")]
            _line(top, rows, None, pre=True, scale=scale_top)
        bottom.axhline(0, color="black", lw=0.7)
        top.set_title(name, fontsize=10)
        layer_axis(top, n_states, label="")
        layer_axis(bottom, n_states, label=STATE_LABEL)
    axes[0, 0].set_ylabel(top_label)
    axes[1, 0].set_ylabel(bottom_label)
    _legend(fig, targets, shared_pre=shared_pre)
    fig.suptitle(f"{title}\n({OWN_SCALES})" if len(panels) > 1 else title, fontsize=11)
    return fig, axes


def layer_distance_figure(frame: pd.DataFrame, *, title: str) -> plt.Figure:
    """Per hidden state: the mean cosine distance between the non-target languages and
    of the other languages to the target (top, log scale), pre and post each target's
    intervention, and the change relative to the pre distance, (post − pre) / pre, in %
    with its 95 % interval over sentences (bottom).

    ``frame``: :func:`steerspace.analyses.beyond_the_paper.layers.distance_intervals_by_layer`.
    """
    fig, axes = _per_state(
        frame,
        panels=[("all_languages", "between the non-target\nlanguages"),
                ("to_target", "of the other languages\nto the target")],
        column="quantity",
        top_label="mean cosine distance\n(log scale)",
        bottom_label="relative change,\n(post − pre) / pre (%)",
        change="relative_change",
        scale_top=1.0,
        scale_bottom=100.0,
        shared_pre=False,
        title=title,
    )  # fmt: skip
    for ax in axes[0]:
        ax.set_yscale("log")
        ax.yaxis.set_major_formatter(LogFormatter())  # plain decimals, not 5 × 10⁻¹
        ax.yaxis.set_minor_formatter(LogFormatter(labelOnlyBase=False, minor_thresholds=(1, 0.4)))
    return fig


def layer_retrieval_figure(frame: pd.DataFrame, *, chance: float, title: str) -> plt.Figure:
    """Per hidden state: top-1 accuracy with the target's sentences as queries (mean
    over candidate languages), pre and post, by score (columns; top, with the chance
    line), and its change post − pre in percentage points with its 95 % interval over
    queries (bottom).

    ``frame``: :func:`steerspace.analyses.beyond_the_paper.layers.retrieval_intervals_by_layer`.
    """
    names = {"dot": "inner product\n(the paper's)", "cosine": "cosine"}
    scores = list(dict.fromkeys(frame["score"]))
    fig, axes = _per_state(
        frame,
        panels=[(s, names.get(s, s)) for s in scores],
        column="score",
        top_label="top-1 accuracy,\ntarget as query",
        bottom_label="change post − pre (pp)",
        change="change",
        scale_top=1.0,
        scale_bottom=100.0,
        shared_pre=False,
        title=title,
    )
    for ax, score in zip(axes[0], scores, strict=True):
        values = frame[(frame["score"] == score) & frame["condition"].isin(["pre", "post"])]
        accuracy_axis(ax, values["value"], chance)
        add_chance(ax, chance, label=None)
    return fig


def abx_figure(frame: pd.DataFrame, *, title: str) -> plt.Figure:
    """Per hidden state: ABX error (%) of the original model (one dashed line: the same
    space for every target) and under each target's intervention, for the language
    and the meaning task (columns; top, 50 % = chance), and the change against the
    original on the same triplets, in percentage points with its 95 % interval over
    triplets (bottom).

    ``frame``: :func:`steerspace.analyses.beyond_the_paper.abx.abx_intervals` rows (spaces ``pre`` and
    ``post <target>``) with a ``task`` column.
    """
    posts = frame[frame["space"] != "pre"]
    targets = list(dict.fromkeys(posts["space"].str.removeprefix("post ")))
    data = pd.concat(
        [
            frame[(frame["space"] == "pre") & (frame["condition"] == "error")].assign(
                condition="pre", target=targets[0]
            ),
            posts.assign(
                target=posts["space"].str.removeprefix("post "),
                condition=posts["condition"].replace({"error": "post"}),
            ),
        ]
    )
    fig, axes = _per_state(
        data,
        panels=[("language", "language task\n(A, X same language)"),
                ("meaning", "meaning task\n(A, X translations)")],
        column="task",
        top_label="ABX error (%)",
        bottom_label="change vs original (pp)",
        change="change",
        scale_top=100.0,
        scale_bottom=100.0,
        shared_pre=True,
        title=title,
    )  # fmt: skip
    for ax in axes[0]:
        ax.axhline(50, **CHANCE_STYLE)
        ax.set_ylim(-2, 102)
        ax.text(0.01, 51, "chance", transform=ax.get_yaxis_transform(), fontsize=8,
                color=CHANCE_STYLE["color"], va="bottom")  # fmt: skip
    return fig


def similarity_figure(
    sim: pd.DataFrame,
    fits: Mapping[str, object],
    *,
    x: str,
    outcomes: Mapping[str, str],
    marked: Sequence[tuple[str, str]] = (),
    title: str,
) -> plt.Figure:
    """Per (target, candidate) pair: the outcome (e.g. Δ top-1 accuracy, pp) against
    the candidate's distance to the target, one colour and marker per target, with the
    least-squares line; the title gives Pearson r with its 95 % interval over targets.
    Points in ``marked`` ((target, candidate) pairs, e.g. the ones a leave-one-out
    check finds the correlation rests on) are labelled. ``fits``: outcome →
    :class:`steerspace.analyses.beyond_the_paper.similarity.Relation`; the x values get a small fixed offset per
    target so that equal distances do not hide each other."""
    from steerspace.text.format import fmt, fmt_ci

    targets = list(dict.fromkeys(sim["target"]))
    offsets = {t: (i - (len(targets) - 1) / 2) * 0.012 for i, t in enumerate(targets)}
    fig, axes = plt.subplots(
        1, len(outcomes), figsize=(PAGE_WIDTH, 4.2), squeeze=False, layout="constrained"
    )
    for ax, (outcome, label) in zip(axes[0], outcomes.items(), strict=True):
        labels = {}
        for target in targets:
            rows = sim[sim["target"] == target]
            xs = rows[x] + offsets[target]
            ax.scatter(xs, 100 * rows[outcome], s=22, color=language_color(target),
                       marker=language_marker(target), label=f"target {target}", alpha=0.85)  # fmt: skip
            for (t, c), xv, yv in zip(
                zip(rows["target"], rows["candidate"], strict=True), xs, rows[outcome], strict=True
            ):
                if (t, c) in marked:
                    labels[f"{t}→{c}"] = (xv, 100 * yv)
        fit = fits[outcome]
        grid = np.linspace(sim[x].min(), sim[x].max(), 20)
        ax.plot(grid, 100 * (fit.intercept + fit.slope * grid), color="#252525", lw=1.2,
                label="least squares")  # fmt: skip
        if labels:
            place_labels(ax, labels)
        ax.axhline(0, color="black", lw=0.6)
        ax.set_title(
            f"r = {fmt_ci(fit.r, 'r')}\n({fmt(fit.r.n, 'int')} targets resampled)", fontsize=10
        )
        ax.set_xlabel(f"{x.replace('_', ' ')} to the target (0–1)")
        ax.set_ylabel(label)
    handles, labels = axes[0, 0].get_legend_handles_labels()
    fig.legend(handles, labels, loc="outside lower center", ncols=min(len(labels), 6), fontsize=8)
    fig.suptitle(f"{title}\n({OWN_SCALES})" if len(outcomes) > 1 else title, fontsize=11)
    return fig


# the dose-response quantities: column, label with its one unit, style (each in a panel
# of its own: dark grey with a distinct marker each, never a language colour)
DOSE_QUANTITIES = {
    "gain": ("retrieval gain (pp)", {"color": "#252525", "marker": "o", "ls": "-"}),
    "share": ("generations in the\ntarget language (%)",
              {"color": "#252525", "marker": "s", "ls": "-"}),
    "dlogppl": ("Δ log-perplexity\n(nats/token)", {"color": "#252525", "marker": "^", "ls": "-"}),
}  # fmt: skip
#: the two dials in the trade-off panel
_DIAL_STYLES = {
    "k": {"color": "#252525", "marker": "o", "ls": "-"},
    "s": {"color": "#737373", "marker": "s", "ls": "--"},
}
#: each quantity's scale from the fraction in the table to the unit on its axis
_DOSE_SCALES = {"gain": 100.0, "share": 100.0, "dlogppl": 1.0}


def _dose_panel(ax: plt.Axes, frame: pd.DataFrame, x: str, column: str) -> None:
    """One quantity (one unit) against one dial, with its 95 % intervals."""
    label, style = DOSE_QUANTITIES[column]
    scale = _DOSE_SCALES[column]
    errors = error_bars(frame[column], frame[f"{column}_low"], frame[f"{column}_high"], scale=scale)
    ax.errorbar(frame[x], scale * frame[column], yerr=errors, capsize=2, ms=5, lw=1.3,
                label=label.replace("\n", " "), **style)  # fmt: skip
    if column != "share":
        ax.axhline(0, color="black", lw=0.6)


def dose_figure(
    by_k: pd.DataFrame, by_strength: pd.DataFrame, *, k_main: int, title: str
) -> plt.Figure:
    """Dose–response of one target's intervention, with 95 % intervals: retrieval gain
    (pp, over queries), share of free generations in the target language (%, Wilson)
    and Δ held-out log-perplexity (nats/token, over token blocks), one row each (one
    unit per panel, rows share their y scale), against the number of experts k (left
    column) and the strength s at k = ``k_main`` (right column); bottom: the gain
    against the perplexity cost along both dials (the point k = ``k_main`` at full
    strength is one setting, labelled once).

    ``by_k``, ``by_strength``: rows with ``k``, ``strength`` and, for each of
    :data:`DOSE_QUANTITIES`, the column with ``_low`` and ``_high``.
    """
    fig = plt.figure(figsize=(PAGE_WIDTH, 9.8), layout="constrained")
    grid = fig.add_gridspec(len(DOSE_QUANTITIES) + 1, 2, height_ratios=[1, 1, 1, 1.5])
    dials = ((by_k, "k"), (by_strength, "strength"))
    panels = np.empty((len(DOSE_QUANTITIES), 2), dtype=object)
    for row, column in enumerate(DOSE_QUANTITIES):
        for col, (frame, x) in enumerate(dials):
            share = {"sharex": panels[0, col]} if row else {}
            if col:
                share["sharey"] = panels[row, 0]
            ax = panels[row, col] = fig.add_subplot(grid[row, col], **share)
            _dose_panel(ax, frame.sort_values(x), x, column)
            if col == 0:
                ax.set_ylabel(DOSE_QUANTITIES[column][0])
            else:
                ax.tick_params(labelleft=False)
            if row < len(DOSE_QUANTITIES) - 1:
                ax.tick_params(labelbottom=False)
    top_k, top_s = panels[0]
    top_k.set_xscale("log")
    ks = sorted(int(k) for k in by_k["k"])
    top_k.set_xticks(ks, [f"{k:,}" for k in ks])
    top_k.xaxis.set_minor_locator(plt.NullLocator())
    top_k.set_title("more experts (strength 1)", fontsize=10)
    top_s.set_title(f"stronger intervention (k = {k_main})", fontsize=10)
    panels[-1, 0].set_xlabel("number of experts k (log scale)")
    panels[-1, 1].set_xlabel("strength s")
    ax = fig.add_subplot(grid[-1, :])
    labels: dict[str, tuple[float, float]] = {}
    for frame, name in ((by_k, "k"), (by_strength, "s")):
        ax.plot(
            frame["dlogppl"], 100 * frame["gain"], label=f"varying {name}", **_DIAL_STYLES[name]
        )
        for _, row in frame.iterrows():
            same = int(row["k"]) == k_main and float(row["strength"]) == 1.0
            text = (
                f"k={k_main}, s=1"
                if same
                else (f"k={int(row['k'])}" if name == "k" else f"s={row['strength']:g}")
            )
            labels[text] = (float(row["dlogppl"]), 100 * float(row["gain"]))
    place_labels(ax, labels)
    ax.axhline(0, color="black", lw=0.6)
    ax.set_xlabel("Δ log-perplexity (nats/token)")
    ax.set_ylabel("retrieval gain (pp)")
    ax.set_title("the trade-off", fontsize=10)
    ax.xaxis.set_major_locator(MaxNLocator(5))
    ax.legend(fontsize=8, loc="upper left", bbox_to_anchor=(1.01, 1.0))
    fig.suptitle(title, fontsize=11)
    return fig

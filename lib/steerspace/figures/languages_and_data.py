"""Figures of the languages-and-data chapter (paper App. A; the paper has no figure of
its data, so these are ours): how long the same verses are in every language, in
characters and in the model's tokens."""

from __future__ import annotations

import matplotlib.pyplot as plt
import numpy as np
import pandas as pd

from steerspace.figures.style import PAGE_WIDTH, language_color, language_marker, place_labels


def tokens_per_sentence_figure(stats: pd.DataFrame, *, title: str) -> plt.Figure:
    """Mean tokens per sentence of each language (``stats`` from
    :func:`steerspace.data.statistics.corpus_statistics`, index = code), one row per language
    sorted by the value, each language's colour and marker; the dotted line is the
    median over languages. A dot plot: the axis spans the languages' spread (where
    they differ), not 0 to the largest value, and no marker is clipped at its ends."""
    order = stats.sort_values("tokens per sentence").index
    values = stats.loc[order, "tokens per sentence"].to_numpy(dtype=float)
    fig, ax = plt.subplots(
        figsize=(PAGE_WIDTH * 0.85, 0.26 * len(order) + 1.2), layout="constrained"
    )
    y = np.arange(len(order))
    low, high = float(values.min()), float(values.max())
    pad = 0.08 * max(high - low, 0.05 * high, 1e-9)
    ax.set_xlim(low - pad, high + pad)
    ax.hlines(y, low - pad, values, color="#D9D9D9", lw=1.0)
    for i, code in enumerate(order):
        ax.plot(values[i], i, linestyle="none", marker=language_marker(code), ms=7,
                color=language_color(code), clip_on=False)  # fmt: skip
    ax.axvline(float(np.median(values)), color="#6E6E6E", lw=0.8, ls=":", label="median")
    names = [f"{stats.loc[c, 'language']} ({c})" for c in order]
    ax.set_yticks(y, names)
    ax.set_ylim(-0.6, len(order) - 0.4)
    ax.set_xlabel("tokens per sentence (mean over the same verses; axis from the smallest)")
    ax.legend(loc="lower right", fontsize=8)
    ax.grid(axis="y", visible=False)
    ax.set_title(title)
    return fig


def length_figure(stats: pd.DataFrame, *, title: str) -> plt.Figure:
    """Characters against tokens per sentence, one point per language (its colour and
    marker, labelled by code): languages to the upper left need more tokens for fewer
    characters (scripts with many characters per word, or a tokenizer that splits them
    finely)."""
    fig, ax = plt.subplots(figsize=(PAGE_WIDTH * 0.85, 4.6), layout="constrained")
    points = {}
    for code, row in stats.iterrows():
        x, y = float(row["characters per sentence"]), float(row["tokens per sentence"])
        ax.plot(x, y, linestyle="none", marker=language_marker(code), ms=6,
                color=language_color(code), clip_on=False)  # fmt: skip
        points[code] = (x, y)
    x, y = stats["characters per sentence"], stats["tokens per sentence"]
    ax.set_xlim(0.9 * x.min(), 1.08 * x.max())  # the spread between languages, not from 0
    ax.set_ylim(0.95 * y.min(), 1.05 * y.max())
    place_labels(ax, points, ha="left", va="bottom")
    ax.set_xlabel("characters per sentence (mean)")
    ax.set_ylabel("tokens per sentence (mean)")
    ax.set_title(title)
    return fig

"""Figures of the "beyond the paper" chapter, on small made-up data."""

from __future__ import annotations

import matplotlib.pyplot as plt
import numpy as np
import pandas as pd
import pytest

from steerspace.analyses.beyond_the_paper.abx import abx_intervals
from steerspace.analyses.beyond_the_paper.layers import (
    distance_intervals_by_layer,
    retrieval_intervals_by_layer,
)
from steerspace.analyses.beyond_the_paper.similarity import relate
from steerspace.figures import beyond_the_paper as beyond
from steerspace.figures.style import language_color

TARGETS = ("en", "es")


@pytest.fixture(scope="module")
def layer_spaces():
    rng = np.random.default_rng(0)
    meaning = rng.normal(size=(20, 4, 8))
    pre = {
        lang: meaning + shift * rng.normal(size=(1, 4, 8)) + 0.3 * rng.normal(size=(20, 4, 8))
        for lang, shift in [("en", 1.0), ("es", 2.0), ("fr", 0.5), ("ja", 3.0)]
    }
    post = {t: {lang: 0.7 * x + 0.3 * meaning for lang, x in pre.items()} for t in TARGETS}
    return pre, post


def _ticks_are_integers(ax) -> bool:
    ax.figure.canvas.draw()
    ticks = [t for t in ax.get_xticks() if ax.get_xlim()[0] <= t <= ax.get_xlim()[1]]
    return bool(ticks) and all(float(t).is_integer() for t in ticks)


def test_layer_distance_figure_plots_distances_not_codes(layer_spaces):
    pre, post = layer_spaces
    frame = distance_intervals_by_layer(pre, post, n_boot=30)
    fig = beyond.layer_distance_figure(frame, title="t")
    top_right = fig.axes[1]
    # numeric y data (the old figure plotted language codes on a categorical axis)
    ydata = np.concatenate([line.get_ydata() for line in top_right.get_lines()])
    assert np.issubdtype(np.asarray(ydata).dtype, np.floating)
    assert top_right.get_yscale() == "log"
    # the dashed pre lines are drawn above the post lines, and there is a legend
    pre_lines = [ln for ln in top_right.get_lines() if ln.get_linestyle() == "--"]
    post_lines = [ln for ln in top_right.get_lines() if ln.get_linestyle() == "-"]
    assert pre_lines and min(ln.get_zorder() for ln in pre_lines) > max(
        ln.get_zorder() for ln in post_lines
    )
    labels = [t.get_text() for legend in fig.legends for t in legend.get_texts()]
    assert "post en" in labels and any(label.startswith("pre") for label in labels)
    assert all(_ticks_are_integers(ax) for ax in fig.axes[:4])
    plt.close(fig)


def test_layer_retrieval_figure_scales_to_data_with_chance(layer_spaces):
    pre, post = layer_spaces
    frame = retrieval_intervals_by_layer(pre, post, n_boot=30)
    fig = beyond.layer_retrieval_figure(frame, chance=1 / 20, title="t")
    top = fig.axes[0]
    assert top.get_ylim()[1] <= 1.0 and top.get_ylim()[1] >= frame["high"].max() * 0.99 - 1
    assert any(ln.get_ydata()[0] == pytest.approx(1 / 20) for ln in top.get_lines())  # chance
    colours = {ln.get_color() for ln in fig.axes[2].get_lines()}
    assert language_color("es") in colours  # the change band of each target in its colour
    plt.close(fig)


def test_abx_figure_has_one_shared_pre_line_per_task(layer_spaces):
    pre, post = layer_spaces
    frames = [
        abx_intervals({"pre": pre} | {f"post {t}": post[t] for t in TARGETS}, task, n_triplets=100,
                      n_boot=30).assign(task=task)
        for task in ("language", "meaning")
    ]  # fmt: skip
    fig = beyond.abx_figure(pd.concat(frames), title="t")
    for ax in fig.axes[:2]:
        dashed = [
            ln for ln in ax.get_lines() if ln.get_linestyle() == "--" and ln.get_color() == "black"
        ]
        assert len(dashed) == 1  # one original-model line, not one per target
        assert max(dashed[0].get_ydata()) <= 100
    plt.close(fig)


def test_similarity_figure_labels_marked_points_and_shows_the_clustered_interval():
    rng = np.random.default_rng(1)
    sim = pd.DataFrame(
        {
            "target": np.repeat(list(TARGETS) + ["fr"], 4),
            "candidate": ["de", "fr", "ja", "pt"] * 3,
            "typological_distance": np.tile([0.0, 0.25, 0.5, 0.75], 3),
            "delta_acc": rng.normal(0, 0.02, 12),
        }
    )
    fit = relate(sim, "typological_distance", "delta_acc", cluster="target", n_boot=50)
    fig = beyond.similarity_figure(
        sim, {"delta_acc": fit}, x="typological_distance", outcomes={"delta_acc": "Δ (pp)"},
        marked=[("es", "pt")], title="t",
    )  # fmt: skip
    ax = fig.axes[0]
    assert "es→pt" in [t.get_text() for t in ax.texts]
    assert "3 targets resampled" in ax.get_title()
    plt.close(fig)


def test_dose_figure_labels_the_shared_point_once_and_gives_each_quantity_its_own_panel():
    by_k = pd.DataFrame({"k": [100, 500, 1000], "strength": 1.0})
    by_s = pd.DataFrame({"k": 500, "strength": [0.5, 1.0]})
    for frame in (by_k, by_s):
        for column, base in (("gain", 0.02), ("share", 0.5), ("dlogppl", 0.3)):
            frame[column] = base * np.arange(1, len(frame) + 1)
            frame[f"{column}_low"] = frame[column] - 0.01
            frame[f"{column}_high"] = frame[column] + 0.01
    fig = beyond.dose_figure(by_k, by_s, k_main=500, title="t")
    tradeoff = next(ax for ax in fig.axes if ax.get_title() == "the trade-off")
    texts = [t.get_text() for t in tradeoff.texts]
    assert texts.count("k=500, s=1") == 1 and "k=500" not in texts and "s=1" not in texts
    panels = [ax for ax in fig.axes if ax is not tradeoff]
    assert len(panels) == 6  # three quantities × two dials, no twin axes
    for ax in panels:  # one series (its marker; "_" are the error bars' caps)
        assert len({ln.get_marker() for ln in ax.get_lines()} - {"_", "None", None, ""}) == 1
    units = [ax.get_ylabel() for ax in panels if ax.get_ylabel()]
    assert len(units) == 3 and any("log-perplexity" in u for u in units)  # one unit per row
    colours = {ln.get_color() for ax in fig.axes for ln in ax.get_lines()}
    assert language_color("es") not in colours  # quantities never wear a language colour
    plt.close(fig)


def test_per_state_figures_say_that_panels_have_their_own_scales(layer_spaces):
    pre, post = layer_spaces
    fig = beyond.layer_distance_figure(distance_intervals_by_layer(pre, post, n_boot=10), title="t")
    assert beyond.OWN_SCALES in fig._suptitle.get_text()
    plt.close(fig)

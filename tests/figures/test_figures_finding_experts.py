"""Figures of the finding-experts chapter, on small made-up expert tables."""

from __future__ import annotations

import matplotlib
import matplotlib.pyplot as plt
import numpy as np
import pandas as pd

from steerspace.analyses import finding_experts as expert_stats
from steerspace.figures import finding_experts as figs
from steerspace.figures import style

BLOCKS, PER_BLOCK = 6, 50


def expert_table(target: str, seed: int) -> pd.DataFrame:
    rng = np.random.default_rng(seed)
    layers = np.repeat(np.arange(BLOCKS), PER_BLOCK)
    table = pd.DataFrame(
        {
            "target": target,
            "module": [f"model.layers.{i}.mlp.down_proj" for i in layers],
            "layer": layers,
            "unit": np.tile(np.arange(PER_BLOCK), BLOCKS),
            "auroc": rng.uniform(0.3, 0.7, layers.size) + 0.05 * layers,
            "mean_pos": rng.normal(0, 0.05, layers.size),
            "mean_neg": rng.normal(0, 0.05, layers.size),
        }
    )
    table.loc[0, ["mean_pos", "mean_neg"]] = [25.0, 0.1]  # one far-out unit
    return table.sort_values("auroc", ascending=False, ignore_index=True)


TABLES = {t: expert_table(t, i) for i, t in enumerate(["es", "de", "en"])}


def test_auroc_per_layer_panels_by_code_with_chance_line_and_integer_blocks():
    fig = figs.auroc_per_layer_figure(TABLES, chance=0.8, title="t")
    axes = [ax for ax in fig.axes if ax.get_visible()]
    assert [ax.get_title() for ax in axes] == ["target de", "target en", "target es"]
    for ax in axes:
        assert any(np.allclose(line.get_ydata(), 0.8) for line in ax.get_lines())
        fig.canvas.draw()
        ticks = ax.get_xticks()
        assert np.allclose(ticks, np.round(ticks))
        shown = [
            (t, label.get_text()) for t, label in zip(ticks, ax.get_xticklabels(), strict=True)
        ]
        assert all(text == str(int(t)) for t, text in shown if -0.5 <= t <= BLOCKS - 0.5)
        assert ax.get_xlim() == (-0.5, BLOCKS - 0.5)
    assert {t.get_text() for t in fig.legends[0].get_texts()} >= {"best of all units by chance"}
    plt.close(fig)


def test_experts_per_layer_has_each_target_in_its_colour_and_the_random_band():
    shares = pd.DataFrame(
        {t: expert_stats.layer_shares(tab["layer"][:30], BLOCKS) for t, tab in TABLES.items()}
    )
    band = expert_stats.random_layer_band(np.repeat(np.arange(BLOCKS), PER_BLOCK), 30, seed=0)
    fig = figs.experts_per_layer_figure(shares, band, k=30, title="t")
    ax = fig.axes[0]
    colours = {matplotlib.colors.to_hex(line.get_color()) for line in ax.get_lines()}
    assert {style.language_color(t).lower() for t in TABLES} <= colours
    labels = [t.get_text() for t in ax.get_legend().get_texts()]
    assert labels[:2] == ["30 random units (95 % range)", "all units"]
    assert ax.get_legend().get_bbox_to_anchor().x0 > ax.get_window_extent().x1 - 1  # outside
    assert ax.get_xlabel() == figs.BLOCK_LABEL
    plt.close(fig)


def test_overlap_heatmap_is_sorted_by_code_and_written_in_cells():
    overlap = pd.DataFrame(np.eye(3), index=["es", "de", "en"], columns=["es", "de", "en"])
    fig = figs.overlap_figure(overlap, title="t")
    ax = fig.axes[0]
    assert [t.get_text() for t in ax.get_xticklabels()] == ["de", "en", "es"]
    assert sorted(t.get_text() for t in ax.texts) == ["0.00"] * 6 + ["1.00"] * 3
    plt.close(fig)


def test_expert_values_use_symlog_axes_so_one_outlier_does_not_squash_the_rest():
    experts = {t: tab.head(40) for t, tab in TABLES.items()}
    experts["es"] = pd.concat([experts["es"], TABLES["es"][TABLES["es"]["mean_pos"] == 25.0]])
    fig = figs.expert_values_figure(experts, title="t")
    ax = next(ax for ax in fig.axes if ax.get_title() == "target es")
    assert ax.get_xscale() == ax.get_yscale() == "symlog"
    assert ax.get_ylim()[1] >= 25  # the outlier is drawn
    linthresh = ax.yaxis.get_transform().linthresh
    assert linthresh < 1  # the bulk (a few hundredths) sits on the linear part
    assert figs.symlog_threshold(np.r_[np.full(90, 0.04), 30.0]) <= 0.05
    fig.canvas.draw()  # tick labels of the symmetric-log axes do not collide ("−10⁰0²⁻²")
    for axis in (ax.xaxis, ax.yaxis):
        boxes = [t.get_window_extent() for t in axis.get_ticklabels() if t.get_text()]
        assert len(boxes) >= 3
        assert not any(a.overlaps(b) for i, a in enumerate(boxes) for b in boxes[i + 1 :])
    plt.close(fig)


def test_symlog_ticks_keep_at_least_a_decade_apart():
    ticks = figs.symlog_ticks(0.05, 30.0)
    assert ticks == [-10.0, -1.0, -0.05, 0.0, 0.05, 1.0, 10.0]
    many = figs.symlog_ticks(0.001, 1e6)  # nine decades a side: every third power
    assert many[many.index(0.0) :] == [0.0, 0.001, 1.0, 1e3, 1e6]


def test_pooling_figure_draws_conditions_in_greys_with_intervals():
    rows = []
    for target in ("es", "de"):
        for quantity in ("all_languages", "target"):
            for condition, value in (("pre", 0.5), ("mean", 0.3), ("max", 0.35)):
                rows.append({"target": target, "quantity": quantity, "condition": condition,
                             "value": value, "low": value - 0.02, "high": value + 0.02})  # fmt: skip
    fig = figs.pooling_table1_figure(pd.DataFrame(rows), title="t")
    ax = fig.axes[0]
    faces = {matplotlib.colors.to_hex(p.get_facecolor()) for p in ax.patches}
    assert not faces & {c.lower() for c in style.LANGUAGE_COLOURS.values()}
    assert len(faces) == 3
    assert [t.get_text() for t in ax.get_xticklabels()] == ["de", "es"]
    assert len([c for c in ax.collections if c.get_segments()]) == 3  # one error bar set each
    assert {t.get_text() for t in fig.legends[0].get_texts()} == set(figs.POOLING_LABELS.values())
    plt.close(fig)

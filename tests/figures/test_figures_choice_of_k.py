"""The choice-of-k figure (paper Fig. 2) on a made-up sweep."""

from __future__ import annotations

import matplotlib
import matplotlib.pyplot as plt
import numpy as np
import pandas as pd

from steerspace.figures import style
from steerspace.figures.choice_of_k import k_sweep_figure

GRID = [0, 100, 500, 2000, 5000]


def sweep_table() -> pd.DataFrame:
    rows = []
    for i, target in enumerate(["es", "en"]):
        for j, k in enumerate(GRID):
            share = [0.02, 0.3, 0.5, 0.1, 0.0][j] if target == "es" else 0.4
            rows.append({"target": target, "k": k, "share": share, "share_low": max(0, share - 0.1),
                         "share_high": min(1, share + 0.1), "dlog_ppl": 0.3 * j + 0.1 * i,
                         "dlog_low": 0.3 * j - 0.05, "dlog_high": 0.3 * j + 0.15})  # fmt: skip
    return pd.DataFrame(rows)


def test_k_axis_puts_k_zero_at_zero_with_a_tick_for_every_grid_point():
    fig = k_sweep_figure(sweep_table(), label_target="es", title="t")
    top, mid, bottom = fig.axes[:3]
    for ax in (top, mid):
        assert ax.get_xscale() == "symlog"
        assert [t.get_text() for t in ax.get_xticklabels()] == [str(k) for k in GRID]
        assert list(ax.get_xticks()) == GRID
        assert ax.get_xlim()[0] < 0 < ax.get_xlim()[1]
        assert ax.get_xlim()[0] >= -0.2 * 100  # no empty negative half at the left
    plt.close(fig)


def test_every_panel_has_a_legend_outside_the_data_and_intervals_are_drawn():
    fig = k_sweep_figure(sweep_table(), label_target="es", title="t")
    for ax in fig.axes[:3]:
        legend = ax.get_legend()
        assert [t.get_text() for t in legend.get_texts()] == ["en", "es"]
        assert legend.get_bbox_to_anchor().x0 >= ax.get_window_extent().x1 - 1  # right of the axes
    top, mid, _ = fig.axes[:3]
    for ax in (top, mid):
        bars = [c for c in ax.collections if c.get_segments()]
        assert len(bars) == 2 and all(len(b.get_segments()) == len(GRID) for b in bars)
    colours = {matplotlib.colors.to_hex(line.get_color()) for line in top.get_lines()}
    assert style.language_color("es").lower() in colours
    assert top.get_ylim()[1] < 1.0  # scaled to the data (highest interval end 0.6)
    assert top.get_ylim()[0] < 0  # markers at a share of 0 are drawn whole
    plt.close(fig)


def test_tradeoff_panel_labels_the_k_of_one_target():
    fig = k_sweep_figure(sweep_table(), label_target="es", title="t")
    bottom = fig.axes[2]
    labels = sorted(t.get_text() for t in bottom.texts)
    assert labels == sorted(f"k={k}" for k in GRID)
    assert np.isclose(bottom.get_lines()[0].get_xdata()[0], 0.1)  # en path starts at its Δ(k=0)
    plt.close(fig)

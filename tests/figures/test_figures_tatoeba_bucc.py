"""Figures of Tatoeba/BUCC retrieval, on small made-up tables."""

from __future__ import annotations

import matplotlib
import matplotlib.pyplot as plt
import numpy as np
import pandas as pd
import pytest

from steerspace.figures import style
from steerspace.figures import tatoeba_bucc as figs


def _frame() -> pd.DataFrame:
    rows = []
    for score, base in (("inner product", 0.003), ("cosine", 0.2)):
        for target in ("es", "de"):
            for direction in ("xx→en", "en→xx"):
                for k in (0, 100, 500):
                    v = base * (1 + k / 500)
                    rows.append({"target": target, "direction": direction, "score": score,
                                 "k": k, "value": v, "low": v * 0.8, "high": v * 1.2,
                                 "pairs": 1000, "chance": 0.001})  # fmt: skip
    return pd.DataFrame(rows)


def test_gains_figure_does_not_inflate_hits_near_chance():
    fig = figs.gains_figure(_frame(), k=500, title="Tatoeba")
    ip, cos = fig.axes[:2]
    # 1-9 hits out of 1000 stay small: the axis reaches at least 4 × chance, not 0.012
    assert ip.get_ylim()[1] >= 4 * 0.001 and ip.get_ylim()[1] <= 0.01
    assert cos.get_ylim()[1] == pytest.approx(0.6)  # above the largest interval, not 1
    chance = [line for line in ip.get_lines() if np.allclose(line.get_ydata(), 0.001)]
    assert chance and "chance (1/1,000)" in {t.get_text() for t in fig.legends[0].get_texts()}
    assert len(ip.patches) == 8  # 4 units × (pre, post)
    assert [t.get_text() for t in ip.get_xticklabels()][0] == "de\nxx→en"
    assert "BUCC" not in fig._suptitle.get_text()
    plt.close(fig)
    # each panel is scaled to the bars it shows, not to the k it does not show (500 here)
    fig = figs.gains_figure(_frame(), k=100, title="Tatoeba")
    assert fig.axes[1].get_ylim()[1] == pytest.approx(0.4)  # highest shown: 0.288, not 0.48
    plt.close(fig)


def test_k_grid_figure_has_a_categorical_k_axis_and_language_styles():
    fig = figs.k_grid_figure(_frame(), title="t")
    assert len(fig.axes) == 4
    bottom = fig.axes[2]
    assert [t.get_text() for t in bottom.get_xticklabels()] == ["pre", "100", "500"]
    lines = [line for line in fig.axes[0].get_lines() if line.get_marker() not in (None, "None")]
    colours = {matplotlib.colors.to_hex(line.get_color()) for line in lines}
    assert colours == {style.language_color("de").lower(), style.language_color("es").lower()}
    plt.close(fig)

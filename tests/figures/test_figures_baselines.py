"""Figures of the baselines chapter, on small made-up data."""

from __future__ import annotations

import matplotlib
import matplotlib.pyplot as plt
import numpy as np
import pandas as pd

from steerspace.figures import baselines as figs
from steerspace.figures.style import CHANCE_STYLE

TARGETS = ["en", "es"]


def _accuracies(columns: dict, scale: dict) -> pd.DataFrame:
    rows = []
    for target in TARGETS:
        for view in figs.VIEWS:
            for score in ("dot", "cosine"):
                for key, values in columns.items():
                    for value in values:
                        v = value * scale[score]
                        rows.append({"target": target, "view": view, "score": score, **key(value),
                                     "value": v, "low": 0.8 * v, "high": 1.2 * v})  # fmt: skip
    return pd.DataFrame(rows)


def _chance_lines(ax) -> list:
    return [ln for ln in ax.get_lines() if ln.get_color() == CHANCE_STYLE["color"]]


def test_similarity_figure_scales_each_panel_to_its_data_and_draws_chance():
    acc = _accuracies({lambda v: {"space": "pre" if v < 0.5 else "post"}: [0.1, 1.0]},
                      {"dot": 0.01, "cosine": 0.3})  # fmt: skip
    fig = figs.similarity_figure(acc, chance=0.005, title="t")
    dot, cosine = fig.axes[0], fig.axes[2]
    assert dot.get_ylim()[1] < 0.05 < cosine.get_ylim()[1] < 1.0
    assert all(_chance_lines(ax) for ax in fig.axes[:4])
    plt.close(fig)


def test_methods_figure_uses_the_given_styles():
    methods = ["original", "baseline", "intervention"]
    acc = _accuracies(
        {lambda v: {"method": methods[int(v)]}: [0, 1, 2]}, {"dot": 0.01, "cosine": 0.1}
    )
    acc.loc[acc["value"] == 0, ["value", "low", "high"]] = 0.002
    fig = figs.methods_figure(acc, methods=methods, chance=0.005, title="t",
                              styles={"original": {"color": "#D9D9D9", "hatch": "", "edgecolor": "k"}})  # fmt: skip
    faces = {matplotlib.colors.to_hex(p.get_facecolor()) for p in fig.axes[0].patches}
    assert "#d9d9d9" in faces
    plt.close(fig)


def test_pair_delta_figure_gives_each_family_its_own_scale():
    langs = ["fr", "de", "en"]
    big = pd.DataFrame(np.full((3, 3), 0.5), index=langs, columns=langs)
    small = pd.DataFrame(np.full((3, 3), 0.02), index=langs, columns=langs)
    fig = figs.pair_delta_figure(
        [("baseline", "b", big), ("intervention", "i en", small), ("intervention", "i es", -small)],
        title="t",
    )
    images = [ax.images[0] for ax in fig.axes if ax.images]
    assert images[0].get_clim() == (-0.5, 0.5)
    assert images[1].get_clim() == images[2].get_clim() == (-0.02, 0.02)
    # axes sorted by the code they show
    assert [t.get_text() for t in fig.axes[0].get_yticklabels()] == ["de", "en", "fr"]
    assert len([ax for ax in fig.axes if ax.get_label() == "<colorbar>"]) == 2
    plt.close(fig)


def test_sweep_and_combination_figures():
    sweep = pd.DataFrame({"components": [1, 2, 6, 12] * 2, "score": ["dot"] * 4 + ["cosine"] * 4,
                          "value": [0.01, 0.05, 0.1, 0.2, 0.02, 0.1, 0.2, 0.3]})  # fmt: skip
    sweep["low"], sweep["high"] = sweep["value"] - 0.01, sweep["value"] + 0.01
    fig = figs.sweep_figure(sweep, rule=6, chance=0.005, title="t")
    assert fig.axes[0].get_ylim()[1] < 1.0 and _chance_lines(fig.axes[0])
    plt.close(fig)
    rows = [{"baseline": b, "target": t, "part": p, "value": v, "low": v - 0.01, "high": v + 0.01}
            for b in ("centering", "standardise") for t in TARGETS
            for p, v in (("intervention", 0.01), ("baseline alone", 0.2), ("both", 0.25), ("sum", 0.21))]  # fmt: skip
    fig = figs.combination_figure(
        pd.DataFrame(rows), baselines=["centering", "standardise"], title="t"
    )
    assert fig.axes[0].get_ylim()[1] > 25  # in percentage points
    labels = [t.get_text() for t in fig.legends[0].get_texts()]
    assert labels == ["intervention", "baseline alone", "both", "sum of the two"]
    plt.close(fig)

"""Figures of the random-unit control, on small made-up tables."""

from __future__ import annotations

import matplotlib
import matplotlib.pyplot as plt
import numpy as np
import pandas as pd
import pytest

from steerspace.figures import random_control as figs
from steerspace.figures import style

CONDITIONS = ["pre", "experts", "experts' values", "own means"]
SEEDS = {"pre": 1, "experts": 1, "experts' values": 3, "own means": 1}


def _bar_colours(ax) -> set[str]:
    return {matplotlib.colors.to_hex(p.get_facecolor()) for p in ax.patches}


def _chance_lines(ax, chance: float) -> list:
    return [
        line for line in ax.get_lines()
        if np.allclose(line.get_ydata(), chance)
        and matplotlib.colors.to_hex(line.get_color()) == style.CHANCE_STYLE["color"].lower()
    ]  # fmt: skip


def test_retrieval_figure_scales_to_the_data_and_shows_chance_and_seed_spread():
    rows = []
    for score in ("inner product", "cosine"):
        for condition in CONDITIONS:
            for candidate in ("ru", "de", "fr"):
                value = 0.01 if score == "inner product" else 0.3
                spread = 0.02 if SEEDS[condition] > 1 else 0.0
                rows.append({"score": score, "target": "es", "condition": condition,
                             "candidate": candidate, "value": value, "seeds": SEEDS[condition],
                             "seed_min": value - spread / 2, "seed_max": value + spread})  # fmt: skip
    fig = figs.control_retrieval_figure(pd.DataFrame(rows), targets=["es"], chance=0.02, title="t")
    top, bottom = fig.axes[:2]
    assert top.get_ylim()[1] <= 0.1 and 0.3 < bottom.get_ylim()[1] < 1.0  # data-driven
    assert _chance_lines(top, 0.02) and _chance_lines(bottom, 0.02)
    assert [t.get_text() for t in top.get_xticklabels()] == ["de", "fr", "ru"]  # by code
    assert not _bar_colours(top) & {c.lower() for c in style.LANGUAGE_COLOURS.values()}
    spread = [c for c in top.collections if c.get_segments()]  # error bars: random seeds only
    assert len(spread) == 1 and len(spread[0].get_segments()) == 3
    assert top.get_title() == "query es, inner product"
    labels = fig.legends[0].get_texts()
    assert {t.get_text() for t in labels} >= {"k experts", "k random units, experts' values"}
    plt.close(fig)


def test_distance_figure_has_four_panels_intervals_and_seed_dots():
    rows = []
    for quantity in ("all_languages", "medoid_target", "medoid_non_target", "target"):
        for condition in CONDITIONS:
            for target in ("fr", "en"):
                seeds = (
                    (0.4, 0.5, 0.45) if condition in ("experts' values", "own means") else (0.3,)
                )
                v = float(np.mean(seeds))
                rows.append({"target": target, "quantity": quantity, "condition": condition,
                             "value": v, "low": v - 0.05, "high": v + 0.05, "seeds": len(seeds),
                             "seed_values": seeds, "seed_min": min(seeds),
                             "seed_max": max(seeds)})  # fmt: skip
    fig = figs.control_distance_figure(pd.DataFrame(rows), title="t")
    axes = [ax for ax in fig.axes if ax.get_visible()]
    assert len(axes) == 4
    dots = [line for line in axes[0].get_lines() if line.get_marker() == "."]
    assert len(dots) == 4 and all(len(d.get_ydata()) == 3 for d in dots)  # 2 controls × 2 targets
    assert [t.get_text() for t in axes[2].get_xticklabels()] == ["en", "fr"]
    labels = [t.get_text() for t in fig.legends[0].get_texts()]
    assert labels.count("single seeds") == 1  # two controls with seeds, one entry
    plt.close(fig)


def test_paraphrase_figure_draws_pre_and_every_condition_with_chance():
    rows = []
    for score in ("inner product", "cosine"):
        for condition in ("experts", "experts' values", "own means"):
            rows.append({"score": score, "target": "es", "condition": condition, "pre": 0.5,
                         "post": 0.4, "mixed": 0.1, "post_seed_min": 0.35, "post_seed_max": 0.45,
                         "seeds": SEEDS[condition], "pairs": 50})  # fmt: skip
    fig = figs.control_paraphrase_figure(pd.DataFrame(rows), title="t")
    ax = fig.axes[0]
    assert len(ax.patches) == 4  # pre, experts, two controls for one target
    assert _chance_lines(ax, 1 / 50)
    assert ax.get_ylim()[1] == pytest.approx(0.6)
    plt.close(fig)


def test_seed_range_bars_survive_a_mean_a_rounding_error_below_the_minimum():
    from steerspace.figures.random_control import _seed_range

    third = 0.1 + 0.2  # 0.30000000000000004: the mean of three equal seeds can round below
    rows = pd.DataFrame(
        {"value": [0.3, 0.5], "seed_min": [third, 0.4], "seed_max": [third, 0.7], "seeds": [3, 3]}
    )
    err = _seed_range(rows)
    assert (err >= 0).all()
    np.testing.assert_allclose(err[:, 1], [0.1, 0.2])

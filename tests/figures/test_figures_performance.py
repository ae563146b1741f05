"""Figures of the performance appendix, on small made-up benchmark results."""

from __future__ import annotations

import matplotlib
import matplotlib.pyplot as plt
import pytest
from helpers.bench_results import AUROC, BATCHING, BOOK, FORWARD, PROFILE, VARIANTS, prediction

from steerspace.figures import performance as figs
from steerspace.figures import style


def test_auroc_figure_draws_three_bars_on_a_log_axis_with_their_seconds():
    fig = figs.auroc_figure(AUROC)
    (ax,) = fig.axes
    assert len(ax.patches) == 3 and ax.get_xscale() == "log"
    assert sorted(p.get_width() for p in ax.patches) == [0.1, 2.0, 20.0]
    assert [t.get_text() for t in ax.texts] == ["20.00 s", "0.10 s", "2.00 s"]
    assert "1,000 units" in ax.get_title()
    assert not {matplotlib.colors.to_hex(p.get_facecolor()) for p in ax.patches} & {
        c.lower() for c in style.LANGUAGE_COLOURS.values()
    }
    plt.close(fig)


def test_forward_figure_one_bar_per_condition_labelled_with_its_change():
    fig = figs.forward_figure(FORWARD)
    (ax,) = fig.axes
    assert [t.get_text() for t in ax.get_xticklabels()] == list(figs.FORWARD_CONDITIONS)
    assert [p.get_height() for p in ax.patches] == [1000.0, 950.0, 800.0]
    texts = [t.get_text() for t in ax.texts]
    assert texts[0] == "50.0 % of peak" and "−20.0 % tokens/s vs plain" in texts[2]
    plt.close(fig)


def test_batching_figure_two_panels_two_orders_and_the_config_line():
    fig = figs.batching_figure(BATCHING)
    left, right = fig.axes
    assert [line.get_label() for line in left.get_lines()[:2]] == ["sorted by length", "shuffled"]
    assert list(right.get_lines()[0].get_ydata()) == [0.0, 10.0, 20.0]  # percent
    assert left.get_ylabel() == "real tokens per second"
    assert [t.get_text() for t in left.get_xticklabels()] == ["1", "4", "8"]
    assert any(list(line.get_xdata()) == [4, 4] for line in left.get_lines())  # config batch
    plt.close(fig)


def test_book_figure_bars_for_every_chapter_and_the_build_cold_and_warm():
    fig = figs.book_figure(BOOK)
    (ax,) = fig.axes
    assert [t.get_text() for t in ax.get_yticklabels()] == ["a", "b", "jupyter-book build"]
    assert len(ax.patches) == 2 * 3
    assert [t.get_text() for t in ax.get_legend().get_texts()] == [
        "cold: 10.0 min in all",
        "warm (chapters restored): 1.0 min in all",
    ]
    plt.close(fig)


def test_cost_model_figure_a_bar_per_model_and_variant_and_the_paper_as_stars():
    fig = figs.cost_model_figure(prediction())
    (ax,) = fig.axes
    assert len(ax.patches) == 2 * len(VARIANTS) and ax.get_yscale() == "log"
    assert [t.get_text() for t in ax.get_xticklabels()] == ["m1", "m2"]
    (stars,) = ax.collections[-1:]
    assert list(stars.get_offsets()[:, 1]) == pytest.approx([100 * 312 / 989] * 2)
    assert "MFU 35.0 %" in ax.get_title()
    assert "whiskers: MFU 20.0 %–50.0 %" in ax.get_title()  # the range in increasing order
    plt.close(fig)


def test_profile_figure_says_where_the_pass_spends_its_time():
    fig = figs.profile_figure(PROFILE)
    (ax,) = fig.axes
    assert [t.get_text() for t in ax.get_yticklabels()][0] == "matmul (linear layers)"
    assert [t.get_text() for t in ax.texts] == ["50.0 %", "25.0 %", "25.0 %"]
    plt.close(fig)


def test_book_figure_draws_every_run_it_finds():
    rerun = {"wall_s": 300.0, "chapters_s": {"a": 100.0, "b": 150.0}, "build_s": 10.0}
    fig = figs.book_figure({**BOOK, "runs": {**BOOK["runs"], "warm_rerun": rerun}})
    assert len(fig.axes[0].patches) == 3 * 3  # three runs × (two chapters + the build)
    plt.close(fig)

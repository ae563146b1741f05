"""Figures of cross-lingual and paraphrase retrieval, on small made-up tables."""

from __future__ import annotations

import matplotlib
import matplotlib.pyplot as plt
import numpy as np
import pandas as pd

from steerspace.figures import style
from steerspace.figures.crosslingual_retrieval import (
    change_summary_figure,
    delta_heatmap_figure,
    table2_figure,
    target_query_figure,
)
from steerspace.figures.paraphrase_retrieval import paraphrase_figure

CANDIDATES = ["ru", "de", "fr"]
LANGUAGE_HEX = {c.lower() for c in style.LANGUAGE_COLOURS.values()}


def _chance_lines(ax, chance: float) -> list:
    red = style.CHANCE_STYLE["color"].lower()
    lines = [ln for ln in ax.get_lines() if np.allclose(ln.get_ydata(), chance)
             and matplotlib.colors.to_hex(ln.get_color()) == red]  # fmt: skip
    segments = [c for c in ax.collections if isinstance(c, matplotlib.collections.LineCollection)
                and c.get_segments() and np.allclose([s[0][1] for s in c.get_segments()], chance)
                and matplotlib.colors.to_hex(c.get_color()[0]) == red]  # fmt: skip
    return lines + segments


def test_target_query_figure_scales_each_score_to_its_data_with_chance():
    rows = []
    for score, level in (("inner product", 0.01), ("cosine", 0.4)):
        for condition in ("pre", "post", "post − pre"):
            for candidate in CANDIDATES:
                v = level * (2 if condition == "post" else 1)
                rows.append({"score": score, "target": "es", "candidate": candidate,
                             "condition": condition, "value": v, "low": v * 0.8,
                             "high": v * 1.2})  # fmt: skip
    seen = {"ru": False, "de": True, "fr": None}
    fig = target_query_figure(pd.DataFrame(rows), target="es", chance=0.005, seen=seen, title="t")
    top, bottom = fig.axes[:2]
    assert top.get_ylim()[1] <= 0.05 and 0.9 <= bottom.get_ylim()[1] <= 1.0
    assert _chance_lines(top, 0.005) and _chance_lines(bottom, 0.005)
    labels = top.get_xticklabels()
    assert [t.get_text() for t in labels] == ["de", "fr", "ru"]  # sorted by code
    assert matplotlib.colors.to_hex(labels[2].get_color()) == "#d00000"  # ru unseen: red
    faces = {matplotlib.colors.to_hex(p.get_facecolor()) for p in top.patches}
    assert len(faces) == 2 and not faces & LANGUAGE_HEX
    # no white halo around error bars: it cut every bar in two
    assert not any(a.get_path_effects() for a in [*top.lines, *top.collections])
    plt.close(fig)


def _marks(value: float, target: str = "es") -> pd.DataFrame:
    langs = ["fr", "es", "de"]
    rows = [{"query": q, "candidate": c, "value": value if q == target else 0.0,
             "low": 0.0, "high": 0.0, "excludes_zero": q == target and c == "de"}
            for q in langs for c in langs if q != c]  # fmt: skip
    return pd.DataFrame(rows)


def test_delta_heatmaps_use_the_shared_scale_sorted_axes_and_mark_intervals():
    marks = {"inner product": _marks(0.01), "cosine": _marks(0.2)}
    limits = {"inner product": 0.05, "cosine": 0.3}
    fig = delta_heatmap_figure(marks, limits=limits, target="es", chance=0.005, title="t")
    panels = [ax for ax in fig.axes if ax.images]
    assert [ax.images[0].get_clim() for ax in panels] == [(-0.05, 0.05), (-0.3, 0.3)]
    assert [t.get_text() for t in panels[0].get_xticklabels()] == ["de", "es", "fr"]
    assert [t.get_text() for t in panels[0].get_yticklabels()] == ["de", "es", "fr"]
    dots = panels[0].collections[0].get_offsets()
    assert len(dots) == 1 and tuple(dots[0]) == (0, 1)  # es (row 1) → de (column 0)
    assert "1/200" in panels[0].get_title()
    plt.close(fig)


def test_change_summary_greys_untestable_targets():
    rows = []
    for part in ("target as query", "other queries"):
        for score in ("inner product", "cosine"):
            for target, ok in (("es", True), ("de", False)):
                rows.append({"part": part, "score": score, "target": target, "change_value": 0.02,
                             "change_low": 0.01, "change_high": 0.03, "testable": ok})  # fmt: skip
    fig = change_summary_figure(pd.DataFrame(rows), title="t")
    ax = fig.axes[0]
    colours = {
        matplotlib.colors.to_hex(ln.get_color()) for ln in ax.get_lines() if len(ln.get_xdata())
    }
    assert style.language_color("es").lower() in colours
    assert "#bbbbbb" in colours and style.language_color("de").lower() not in colours
    assert ax.get_ylabel().endswith("(percentage points)")
    plt.close(fig)


def test_table2_figure_draws_ours_and_the_papers_values():
    rows = []
    for score in ("inner product", "cosine"):
        for name in ("r(acc_pre,d_pre)", "r(d_post,d_pre)"):
            for target in ("es", "de"):
                rows.append({"score": score, "correlation": name, "query_language": target,
                             "r": -0.5, "ci_low": -0.8, "ci_high": -0.2,
                             "testable": name == "r(d_post,d_pre)" or score == "cosine"})  # fmt: skip
    paper = pd.DataFrame(
        [{"query_language_iso": "es", "correlation": "r(acc_pre,d_pre)", "r": -0.9}]
    )
    fig = table2_figure(pd.DataFrame(rows), paper, title="t")
    first = fig.axes[0]
    assert first.get_xlim() == (-1.05, 1.05)
    assert [t.get_text() for t in first.get_yticklabels()] == ["de", "es"]
    paper_ticks = [ln for ln in first.get_lines() if ln.get_marker() == "|" and len(ln.get_xdata())
                   and matplotlib.colors.to_hex(ln.get_color()) == "#555555"]  # fmt: skip
    assert [list(t.get_xdata()) for t in paper_ticks if len(t.get_xdata())] == [[-0.9]]
    greys = [
        ln
        for ln in first.get_lines()
        if ln.get_marker() not in ("|", "_", "")
        and matplotlib.colors.to_hex(ln.get_color()) == "#bbbbbb"
        and len(ln.get_xdata())
    ]
    assert len(greys) == 2  # inner product, r(acc_pre, d_pre): at chance for both targets
    plt.close(fig)


def test_paraphrase_figure_has_three_conditions_chance_and_a_data_scaled_axis():
    rows = []
    for score, level in (("inner product", 0.02), ("cosine", 0.3)):
        for language in ("es", "en"):
            for condition in ("pre", "post", "mixed", "post − pre"):
                rows.append({"score": score, "language": language, "condition": condition,
                             "value": level, "low": level * 0.5, "high": level * 1.5,
                             "chance": 0.005, "pairs": 200})  # fmt: skip
    fig = paraphrase_figure(pd.DataFrame(rows), title="t")
    left, right = fig.axes[:2]
    assert left.get_ylim()[1] <= 0.05 and right.get_ylim()[1] < 1.0
    assert _chance_lines(left, 0.005)
    assert [t.get_text() for t in left.get_xticklabels()] == ["en", "es"]
    hatches = {p.get_hatch() for p in left.patches}
    assert "///" in hatches  # mixed
    assert len(left.patches) == 3 * 2
    plt.close(fig)


def test_paraphrase_figure_draws_one_chance_per_pool_when_pools_differ():
    rows = []
    for language, pairs in (("es", 200), ("en", 100)):
        for condition in ("pre", "post", "mixed"):
            rows.append({"score": "cosine", "language": language, "condition": condition,
                         "value": 0.3, "low": 0.2, "high": 0.4, "chance": 1 / pairs,
                         "pairs": pairs})  # fmt: skip
    fig = paraphrase_figure(pd.DataFrame(rows), title="t")
    ax = fig.axes[0]
    segments = [c for c in ax.collections if isinstance(c, matplotlib.collections.LineCollection)
                and c.get_label() == "chance (1/pool size)"]  # fmt: skip
    assert len(segments) == 1 and len(segments[0].get_segments()) == 2
    plt.close(fig)

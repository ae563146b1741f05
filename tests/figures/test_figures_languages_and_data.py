"""Figures of the languages-and-data chapter, on a made-up statistics table."""

from __future__ import annotations

import matplotlib
import matplotlib.pyplot as plt
import pandas as pd

from steerspace.figures import style
from steerspace.figures.languages_and_data import length_figure, tokens_per_sentence_figure

STATS = pd.DataFrame(
    {
        "language": ["German", "English", "Japanese", "Korean"],
        "characters per sentence": [130.0, 125.0, 56.0, 55.0],
        "tokens per sentence": [34.4, 30.1, 34.9, 33.8],
    },
    index=pd.Index(["de", "en", "ja", "ko"], name="code"),
)


def test_tokens_figure_sorts_languages_and_names_them():
    fig = tokens_per_sentence_figure(STATS, title="t")
    ax = fig.axes[0]
    assert [t.get_text() for t in ax.get_yticklabels()] == [
        "English (en)", "Korean (ko)", "German (de)", "Japanese (ja)"
    ]  # fmt: skip
    points = [line for line in ax.get_lines() if line.get_marker() not in ("None", None, "")]
    assert [line.get_marker() for line in points] == [
        style.language_marker(c) for c in ["en", "ko", "de", "ja"]
    ]
    # a dot plot over the languages' spread (not from 0: that left most of it empty),
    # every marker whole at the ends of the axis
    assert 0 < ax.get_xlim()[0] < 30.1 and 34.9 < ax.get_xlim()[1] < 40
    assert not any(line.get_clip_on() for line in points)
    plt.close(fig)


def test_length_figure_labels_every_language_in_its_colour_within_the_data_range():
    fig = length_figure(STATS, title="t")
    ax = fig.axes[0]
    assert sorted(t.get_text() for t in ax.texts) == ["de", "en", "ja", "ko"]
    colours = {matplotlib.colors.to_hex(line.get_color()) for line in ax.get_lines()}
    assert colours == {style.language_color(c).lower() for c in STATS.index}
    assert 0 < ax.get_xlim()[0] < 55 and ax.get_xlim()[1] > 130  # the spread, not from 0
    plt.close(fig)

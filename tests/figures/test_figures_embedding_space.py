"""The figure vocabulary (style) and the embedding-space figures, on small made-up data
(``conftest.py`` checks that every figure built here fits the page)."""

from __future__ import annotations

import matplotlib
import matplotlib.pyplot as plt
import numpy as np
import pandas as pd
import pytest
from helpers.figures import page_faults
from matplotlib.figure import Figure
from matplotlib.text import Text

from steerspace.data.languages import LANGUAGES
from steerspace.figures import style
from steerspace.figures.embedding_space import distance_change_figure, umap_figure


def test_a_figure_too_wide_or_with_small_text_is_caught():
    fig = Figure(figsize=(style.PAGE_WIDTH + 0.1, 3), layout="constrained")
    ax = fig.add_subplot()
    ax.set_title("tiny", fontsize=7)
    assert page_faults(fig) == [
        f"{style.PAGE_WIDTH + 0.1:.2f} in wide (the page: {style.PAGE_WIDTH} in)",
        "text 'tiny' at 7 pt",
    ]
    fig.set_size_inches(style.PAGE_WIDTH, 3)
    ax.set_title("readable", fontsize=8)
    assert page_faults(fig) == []
    note = ax.text(0.9, 0.5, "a note that runs out of the figure", transform=ax.transAxes)
    assert page_faults(fig)[0].endswith("as shown (contents run out of the figure)")
    note.remove()


def test_every_language_has_its_own_colour_and_marker_pair():
    colours = [style.language_color(c) for c in LANGUAGES]
    assert len(set(colours)) == len(LANGUAGES) == 23
    pairs = {(style.language_color(c), style.language_marker(c)) for c in LANGUAGES}
    assert len(pairs) == 23
    assert [style.language_color(t) for t in style.TARGETS] == style._COLOURS[:5]
    with pytest.raises(ValueError, match="unknown language"):
        style.language_color("xx")


def cielab(colours) -> np.ndarray:
    """CIELAB (D65) coordinates of sRGB colours."""
    rgb = np.array([matplotlib.colors.to_rgb(c) for c in colours])
    linear = np.where(rgb <= 0.04045, rgb / 12.92, ((rgb + 0.055) / 1.055) ** 2.4)
    to_xyz = np.array(
        [[0.4124, 0.3576, 0.1805], [0.2126, 0.7152, 0.0722], [0.0193, 0.1192, 0.9505]]
    )
    xyz = linear @ to_xyz.T / np.array([0.95047, 1.0, 1.08883])
    f = np.where(xyz > 216 / 24389, np.cbrt(xyz), (24389 / 27 * xyz + 16) / 116)
    return np.stack([116 * f[:, 1] - 16, 500 * (f[:, 0] - f[:, 1]), 200 * (f[:, 1] - f[:, 2])], 1)


def test_no_two_language_colours_are_near_duplicates():
    lab = cielab(style.LANGUAGE_COLOURS.values())
    distance = np.linalg.norm(lab[:, None] - lab[None], axis=2)
    np.fill_diagonal(distance, np.inf)
    assert distance.min() >= 25  # ΔE76; the former palette had a pair at 6.9
    chroma = np.hypot(lab[:, 1], lab[:, 2])
    assert chroma.min() > 30 and lab[:, 0].max() < 85  # no greys, none too light


def test_conditions_never_use_a_language_colour_and_differ_in_greyscale():
    language = set(style.LANGUAGE_COLOURS.values())
    for s in style.CONDITIONS.values():
        assert s["color"] not in language
    grey = {
        (round(np.mean(matplotlib.colors.to_rgb(s["color"])), 2), s["hatch"])
        for s in style.CONDITIONS.values()
    }
    assert len(grey) == len(style.CONDITIONS)
    pre = np.mean(matplotlib.colors.to_rgb(style.CONDITIONS["pre"]["color"]))
    post = np.mean(matplotlib.colors.to_rgb(style.CONDITIONS["post"]["color"]))
    assert pre - post > 0.5


@pytest.mark.parametrize(
    ("values", "chance", "upper"),
    [([0.003, 0.006], 0.005, 0.02), ([0.3, 0.62], 0.005, 0.8), ([0.9, 0.99], 0.001, 1.0)],
)
def test_accuracy_axis_follows_the_data_and_keeps_chance_small(values, chance, upper):
    fig, ax = plt.subplots()
    assert style.accuracy_axis(ax, values, chance) == pytest.approx(upper)
    assert ax.get_ylim() == pytest.approx((0, upper))
    plt.close(fig)


def test_symmetric_limit_and_layer_axis():
    assert style.symmetric_limit([np.array([[0.1, -0.3]]), np.array([[0.2, np.nan]])]) == 0.3
    fig, ax = plt.subplots()
    ax.plot(range(19), range(19))
    style.layer_axis(ax, 19)
    fig.canvas.draw()
    ticks = ax.get_xticks()
    assert np.allclose(ticks, np.round(ticks))
    plt.close(fig)


def test_language_order_is_by_code():
    assert style.language_order(["fa", "es", "de"]) == ["de", "es", "fa"]


def test_place_labels_moves_overlapping_labels_apart():
    fig, ax = plt.subplots()
    ax.set_xlim(0, 1)
    ax.set_ylim(0, 1)
    texts = style.place_labels(ax, {"ru*": (0.5, 0.5), "uk*": (0.5, 0.5), "es": (0.51, 0.5)})
    fig.canvas.draw()
    boxes = [t.get_window_extent() for t in texts]
    overlaps = sum(a.overlaps(b) for i, a in enumerate(boxes) for b in boxes[i + 1 :])
    assert overlaps == 0
    plt.close(fig)


def test_umap_figure_draws_every_language_pre_and_post():
    rng = np.random.default_rng(0)
    coords = {c: (rng.normal(size=(5, 2)), rng.normal(size=(5, 2)) + 3) for c in ["de", "es", "fr"]}
    fig = umap_figure(coords, target="es", title="t")
    ax = fig.axes[0]
    labels = {t.get_text() for t in ax.texts}
    assert {"de", "de*", "es", "es*", "fr", "fr*"} <= labels
    assert [t for t in ax.texts if t.get_text() == "es*"][0].get_fontweight() == "bold"
    plt.close(fig)


def test_umap_labels_of_crowded_centroids_do_not_pile_up():
    rng = np.random.default_rng(1)
    codes = ["de", "en", "es", "fr", "it", "ja", "ko", "pt", "ru", "tr", "uk", "vi"]
    coords = {c: (rng.normal(size=(20, 2)) + rng.uniform(-10, 10, 2), rng.normal(size=(20, 2)))
              for c in codes}  # fmt: skip
    fig = umap_figure(coords, target="es", title="t")
    ax = fig.axes[0]
    fig.canvas.draw()
    labels = [t for t in ax.texts if t.get_text().rstrip("*") in codes]
    assert len(labels) == 2 * len(codes)
    boxes = [Text.get_window_extent(t) for t in labels]  # the text, not its leader line
    assert not [(a, b) for i, a in enumerate(boxes) for b in boxes[i + 1 :] if a.overlaps(b)]
    assert all(ax.get_window_extent().contains(b.x0, b.y0) for b in boxes)
    plt.close(fig)


def test_distance_change_figure_one_panel_per_quantity():
    rows = [
        {"target": t, "quantity": q, "space": s, "value": v, "low": v - 0.01, "high": v + 0.01}
        for t in ("es", "de")
        for q in ("all_languages", "target")
        for s, v in (("pre", 0.7), ("post", 0.5))
    ]
    fig = distance_change_figure(pd.DataFrame(rows), title="t")
    assert len(fig.axes) == 2
    assert fig.axes[0].get_ylabel().startswith("cosine distance")
    plt.close(fig)


def test_headline_figure_three_panels_with_chance():
    from steerspace.figures.intro import headline_figure

    distances = pd.DataFrame(
        [
            {"source": s, "quantity": q, "pre": 0.7, "post": p}
            for s, p in (("ours", 0.5), ("Aya-8B", 0.2))
            for q in ("between\nlanguages", "to the\ntarget")
        ]
    )
    retrieval = pd.DataFrame(
        [
            {"score": s, "target": t, "pre": 0.01, "post": 0.05}
            for s in ("inner product", "cosine")
            for t in ("es", "de")
        ]
    )
    baselines = pd.DataFrame(
        [
            {"method": m, "score": s, "value": v, "low": v - 0.01, "high": v + 0.01}
            for m, v in (("original", 0.01), ("intervention", 0.02), ("centering", 0.2))
            for s in ("inner product", "cosine")
        ]
    )
    fig = headline_figure(distances, retrieval, baselines, chance=0.005, title="t")
    left, middle, right = fig.axes
    assert [t.get_text() for t in left.get_xticklabels()] == [
        "between\nlanguages",
        "to the\ntarget",
    ]
    for ax in (middle, right):
        assert any(line.get_linestyle() == "--" for line in ax.get_lines())  # chance line
        assert ax.get_ylim()[1] < 1.0  # scaled to the data
    fig.canvas.draw()
    for ax in (left, middle, right):  # legends beside the panels, not on the arrows or bars
        assert ax.get_legend().get_window_extent().x0 >= ax.get_window_extent().x1 - 1
    plt.close(fig)


def test_a_gallery_figure_gets_its_own_name_caption_and_alt_text():
    from steerspace.figures.style import gallery_markdown

    text = gallery_markdown("fig-umap-de", "UMAP, intervention on **de**.", "UMAP for de.")
    lines = text.splitlines()
    assert lines[0] == "```{glue:figure} fig-umap-de"
    assert ":name: fig-umap-de" in lines and ":alt: UMAP for de." in lines
    assert lines[-2:] == ["UMAP, intervention on **de**.", "```"]


def test_missing_headline_inputs_name_the_chapters_to_run(tmp_path):
    from steerspace.figures.intro import HEADLINE_INPUTS, missing_headline_inputs

    assert missing_headline_inputs(tmp_path) == sorted(set(HEADLINE_INPUTS.values()))
    for name in HEADLINE_INPUTS:
        (tmp_path / name).write_text("x\n")
    assert missing_headline_inputs(tmp_path) == []

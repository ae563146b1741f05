"""No hand-typed numbers in the book's prose: every number about the run is glued from
code; the paper's numbers are marked ``{paper}``, facts quoted from another named source
``{source}``."""

from __future__ import annotations

from pathlib import Path

import pytest
from helpers.prose import hand_typed_numbers, markdown_sources

ROOT = Path(__file__).resolve().parents[2]
SOURCES = sorted((ROOT / "notebooks").glob("*.py")) + sorted((ROOT / "book").glob("*.md"))


@pytest.mark.parametrize("path", SOURCES, ids=lambda p: f"{p.parent.name}/{p.name}")
def test_no_hand_typed_numbers(path):
    found = [n for source in markdown_sources(path) for n in hand_typed_numbers(source)]
    assert not found, f"{path.name}: numbers typed by hand (glue them or mark {{paper}}): {found}"


PLANTED = """\
# %% [markdown]
# The intervention shrinks the distance from {glue:md}`d_pre` to {glue:md}`d_post`
# (the paper: {paper}`0.72 → 0.19`; see Table 1 and Figs. 6–20 for Gemma-3-270M).
# It falls from 0.75 to 0.56.
"""


def test_a_planted_number_in_a_caption_is_found(tmp_path):
    chapter = tmp_path / "caption.py"
    meta = '{"figure": {"caption": "CAPTION", "name": "fig-x"}, "image": {"alt": "ALT"}}'
    source = '# %% tags=["hide-input"] mystnb=' + meta + "\nx = 1\n"
    chapter.write_text(
        source.replace("CAPTION", "Distances fall by 0.31.").replace("ALT", "A bar chart.")
    )
    found = [n for s in markdown_sources(chapter) for n in hand_typed_numbers(s)]
    assert len(found) == 1 and "0.31" in found[0]
    chapter.write_text(
        source.replace("CAPTION", "Distances, pre and post.").replace("ALT", "12 bars.")
    )
    found = [n for s in markdown_sources(chapter) for n in hand_typed_numbers(s)]
    assert len(found) == 1 and "12" in found[0]


def test_a_planted_number_is_found(tmp_path):
    chapter = tmp_path / "planted.py"
    chapter.write_text(PLANTED, encoding="utf-8")
    found = [n for source in markdown_sources(chapter) for n in hand_typed_numbers(source)]
    assert len(found) == 2 and "0.75" in found[0] and "0.56" in found[1]
    clean = PLANTED.replace("It falls from 0.75 to 0.56.", "It falls.")
    chapter.write_text(clean, encoding="utf-8")
    assert not [n for s in markdown_sources(chapter) for n in hand_typed_numbers(s)]


@pytest.mark.parametrize(
    "text",
    [
        "k = 500 experts",
        "about 8 minutes on 2 cores",
        "median +32%",
        "(0.12)",
        "1,000 pairs",
    ],
)
def test_numbers_in_any_form_are_found(text):
    assert hand_typed_numbers(text)


@pytest.mark.parametrize(
    "text",
    [
        "§5, Table 2, Tables 3 and 5, Figs. 21–23, App. H, Exercise 4.2",
        "Gemma-3-270M in float32 and bfloat16, top-1, ISO 639-1, Q4_K_M, AVX512-BF16",
        "the 95 % interval",
        "{glue:md}`x` and {paper}`0.72` and `code 12` and {numref}`fig-1`",
        "{source}`King James Version 1611`",
        "1. a numbered list item",
    ],
)
def test_references_names_and_marked_numbers_are_allowed(text):
    assert not hand_typed_numbers(text)


def test_the_allowed_confidence_level_is_the_one_used():
    from steerspace.metrics.inference import CI_LEVEL

    assert CI_LEVEL == 0.95

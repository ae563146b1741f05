"""Every chapter has numbered exercises with a difficulty and a solution that runs code."""

from __future__ import annotations

from pathlib import Path

import pytest

from steerspace.book.exercises import chapter_exercises, index_markdown
from steerspace.book.structure import PAGES, chapters

ROOT = Path(__file__).resolve().parents[2]


@pytest.mark.parametrize("name", [n for n in chapters(ROOT) if n not in PAGES])
def test_each_chapter_has_exercises_with_running_solutions(name):
    exercises = chapter_exercises(ROOT / "notebooks" / f"{name}.py")
    assert len(exercises) >= 2, f"{name}: fewer than two exercises"
    assert all(ex.solution_cells >= 1 for ex in exercises)
    assert all(ex.label.startswith("ex-") for ex in exercises)


def test_labels_are_unique_across_the_book():
    labels = [
        ex.label
        for n in chapters(ROOT)
        if n not in PAGES
        for ex in chapter_exercises(ROOT / "notebooks" / f"{n}.py")
    ]
    assert len(labels) == len(set(labels))


SOURCE = """\
# %% [markdown]
# :::{exercise}
# :label: ex-x-one
# (easy) Add two numbers. Then more.
# :::
#
# ```{solution-start} ex-x-one
# :class: dropdown
# ```

# %%
print(1 + 1)

# %% [markdown]
# ```{solution-end}
# ```
"""


def test_parser_reads_difficulty_and_solution_and_refuses_gaps(tmp_path):
    chapter = tmp_path / "x.py"
    chapter.write_text(SOURCE, encoding="utf-8")
    (ex,) = chapter_exercises(chapter)
    assert (ex.label, ex.difficulty, ex.summary, ex.solution_cells) == (
        "ex-x-one",
        "easy",
        "Add two numbers.",
        1,
    )
    assert "{numref}`ex-x-one`" in index_markdown([ex], {"x": "X"})
    chapter.write_text(SOURCE.replace("(easy) ", ""), encoding="utf-8")
    with pytest.raises(ValueError, match="must start with one of"):
        chapter_exercises(chapter)
    no_code = SOURCE.replace("# %%\nprint(1 + 1)\n\n", "")
    chapter.write_text(no_code, encoding="utf-8")
    with pytest.raises(ValueError, match="without a solution that runs code"):
        chapter_exercises(chapter)

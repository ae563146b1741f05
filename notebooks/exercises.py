# ---
# jupyter:
#   jupytext:
#     text_representation:
#       extension: .py
#       format_name: percent
#   kernelspec:
#     display_name: Python 3
#     language: python
#     name: python3
# ---

# %% [markdown]
# (exercises-index)=
# # All exercises
#
# Every exercise of the book, numbered by chapter (Exercise 4.2 is the second exercise
# of Chapter 4), with its difficulty and a link to its chapter.
# {glue:md}`exercises_count`

# %% [markdown] tags=["teacher"]
# In this edition the solution follows each exercise in its chapter, folded. Every
# solution is code that runs with its chapter, so a solution that breaks fails the
# book's tests.

# %% tags=["remove-cell"]
# Colab, or anywhere the book's library is missing: install it, with what a chapter
# needs (the `book` extra), from the repository (`repository.url` in _config.yml) at
# the release this book was executed with (tests/test_publishing.py keeps them equal).
# Elsewhere this does nothing. On 2 CPU cores, set config = "classroom" below
# for a small run (a few minutes per chapter from an empty cache; the course guide
# lists the memory each chapter needs).
import importlib.util
import subprocess
import sys

package = "steerspace[book] @ git+https://github.com/steerspace/steerspace@v0.2.0"
if importlib.util.find_spec("steerspace") is None:
    subprocess.run(
        [sys.executable, "-m", "pip", "install", "-q", package], check=True
    )

# %% tags=["parameters", "remove-cell"]
config = "gemma-3-270m"  # a shipped config name or a YAML path
overrides = {}  # any config key

# %% tags=["remove-input"]
from pathlib import Path

import jupytext
from IPython.display import Markdown, display

from steerspace.book.exercises import chapter_exercises, index_markdown
from steerspace.book.structure import PAGES, chapters
from steerspace.text.format import glue_all

root = Path.cwd()
names = [n for n in chapters(root) if n not in PAGES]
exercises = [
    ex for n in names for ex in chapter_exercises(root / "notebooks" / f"{n}.py")
]
titles = {}
for name in names:
    first = jupytext.read(root / "notebooks" / f"{name}.py").cells[0].source
    heading = next(line for line in first.splitlines() if line.startswith("# "))
    titles[name] = f"{{doc}}`{heading[2:]} <{name}>`"
by_level = {
    d: sum(ex.difficulty == d for ex in exercises)
    for d in ("easy", "medium", "hard")
}
glue_all(
    {
        "exercises_count": f"{len(exercises)} exercises: "
        + ", ".join(f"{n} {d}" for d, n in by_level.items() if n)
        + "."
    }
)
display(Markdown(index_markdown(exercises, titles)))

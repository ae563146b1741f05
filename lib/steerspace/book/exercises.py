"""The exercises of the book, read from the chapter sources (for the index page and
its tests).

An exercise is a sphinx-exercise ``:::{exercise}`` block in a Markdown cell of a
chapter, with a ``:label:`` and a difficulty as the first words of its text
("(easy)", "(medium)" or "(hard)"); its solution is a gated ``solution-start`` /
``solution-end`` block that holds at least one code cell, so papermill runs it with
the chapter.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import Path

DIFFICULTIES = ("easy", "medium", "hard")
_EXERCISE = re.compile(r":::\{exercise\}\s*\n:label:\s*(\S+)\s*\n(.*?)\n:::", re.S)
_SOLUTION = re.compile(r"```\{solution-start\}\s*(\S+)")


@dataclass(frozen=True)
class Exercise:
    """One exercise: its chapter, label, difficulty, first sentence, and how many code
    cells its solution runs."""

    chapter: str
    label: str
    difficulty: str
    summary: str
    solution_cells: int


def _cells(path: Path) -> list:
    import jupytext

    return jupytext.read(path).cells


def chapter_exercises(path: str | Path) -> list[Exercise]:
    """The exercises of one chapter source (jupytext percent ``.py``), in order.

    Raises ``ValueError`` for an exercise without a difficulty or without a solution
    that runs code.
    """
    path = Path(path)
    cells = _cells(path)
    found: list[tuple[str, str, str]] = []
    solution_cells: dict[str, int] = {}
    open_solution: str | None = None
    for cell in cells:
        if cell.cell_type == "markdown":
            for label, text in _EXERCISE.findall(cell.source):
                text = " ".join(text.split())
                match = re.match(r"\((\w+)\)\s*(.*)", text)
                if match is None or match.group(1) not in DIFFICULTIES:
                    raise ValueError(
                        f"{path.name}: exercise {label} must start with one of "
                        f"{[f'({d})' for d in DIFFICULTIES]}"
                    )
                summary = re.split(r"(?<=[.?!])\s", match.group(2), maxsplit=1)[0]
                found.append((label, match.group(1), summary))
            starts = _SOLUTION.findall(cell.source)
            if starts:
                open_solution = starts[-1]
                solution_cells.setdefault(open_solution, 0)
            if "{solution-end}" in cell.source and not starts:
                open_solution = None
        elif cell.cell_type == "code" and open_solution is not None:
            solution_cells[open_solution] += 1
    missing = [label for label, _, _ in found if solution_cells.get(label, 0) == 0]
    if missing:
        raise ValueError(f"{path.name}: exercises without a solution that runs code: {missing}")
    return [
        Exercise(path.stem, label, difficulty, summary, solution_cells[label])
        for label, difficulty, summary in found
    ]


def index_markdown(exercises: list[Exercise], titles: dict[str, str]) -> str:
    """A MyST table of all exercises: number (a link), chapter, difficulty, the task."""
    rows = ["| exercise | chapter | difficulty | the task |", "|---|---|---|---|"]
    for ex in exercises:
        chapter = titles.get(ex.chapter, ex.chapter)
        rows.append(f"| {{numref}}`{ex.label}` | {chapter} | {ex.difficulty} | {ex.summary} |")
    return "\n".join(rows)

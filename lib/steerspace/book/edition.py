"""Two editions of the book from one source: the teacher's (everything) and the
student's (no solutions, no teacher's notes).

The student edition is made from the *executed* notebooks, so it needs no run of its
own: every sphinx-exercise solution (the Markdown between ``{solution-start}`` and
``{solution-end}``, and the code cells and outputs in between) and every cell tagged
``teacher`` is removed, and the copy is built with ``jupyter-book`` into
``_build/student/html``. The exercises keep their numbers, so "Exercise 4.2" is the
same exercise in both editions.
"""

from __future__ import annotations

import re
import shutil
from pathlib import Path
from typing import TYPE_CHECKING, Any

from steerspace.book.structure import build_book, copy_book_pages

if TYPE_CHECKING:
    import nbformat

EDITIONS = ("teacher", "student")
TEACHER_TAG = "teacher"
_START = re.compile(r"```\{solution-start\}.*?```[ \t]*\n?", re.S)
_END = re.compile(r"```\{solution-end\}.*?```[ \t]*\n?", re.S)


def _strip_text(text: str, inside: bool) -> tuple[str, bool]:
    """Remove the solution parts of one Markdown cell; ``inside`` says whether the cell
    starts inside a solution. Returns the kept text and whether it ends inside one."""
    kept, pos = [], 0
    while True:
        if inside:
            end = _END.search(text, pos)
            if end is None:
                return "".join(kept), True
            pos, inside = end.end(), False
        else:
            start = _START.search(text, pos)
            if start is None:
                kept.append(text[pos:])
                return "".join(kept), False
            kept.append(text[pos : start.start()])
            pos, inside = start.end(), True


def _nbformat() -> Any:
    """``nbformat``, imported on first use, so the command line (``steerspace cache``,
    ``--version``) starts without the ``book`` extra (ImportError in one line naming it)."""
    try:
        import nbformat
    except ImportError as err:
        raise ImportError(
            "the book's editions need nbformat, of the extra 'book' of steerspace: "
            "pip install 'steerspace[book]'"
        ) from err
    return nbformat


def student_notebook(notebook: nbformat.NotebookNode) -> nbformat.NotebookNode:
    """A copy of an executed notebook without solutions and teacher's notes.

    Raises ``ValueError`` when a solution is never closed (the rest of the chapter
    would silently disappear).
    """
    out = _nbformat().from_dict(notebook)
    cells, inside = [], False
    for cell in out.cells:
        if TEACHER_TAG in cell.get("metadata", {}).get("tags", []):
            continue
        if cell.cell_type == "markdown":
            text, inside = _strip_text(cell.source, inside)
            if text.strip():
                cell.source = text.rstrip() + "\n"
                cells.append(cell)
        elif not inside:
            cells.append(cell)
    if inside:
        raise ValueError("a {solution-start} block has no {solution-end}")
    out.cells = cells
    return out


def write_student_sources(out: Path, tree: Path) -> Path:
    """Copy the book in ``out`` (configuration, pages, executed notebooks) to ``tree``,
    with every notebook made a student notebook; returns ``tree``."""
    if tree.exists():
        shutil.rmtree(tree)
    copy_book_pages(out, tree)
    _without_launch_buttons(tree / "_config.yml")
    nbformat = _nbformat()
    for path in sorted((out / "book").glob("*.ipynb")):
        if path.name.endswith(".failed.ipynb"):
            continue
        notebook = nbformat.read(path, as_version=4)
        try:
            nbformat.write(student_notebook(notebook), tree / "book" / path.name)
        except ValueError as err:
            raise ValueError(f"{path.name}: {err}") from None
    return tree


def _without_launch_buttons(config: Path) -> None:
    """Drop the launch buttons from the student edition's ``_config.yml``: they open the
    repository's notebooks, which hold the solutions (a student downloads the page's own
    notebook, without them, from the download button)."""
    import yaml

    settings = yaml.safe_load(config.read_text(encoding="utf-8"))
    settings.pop("launch_buttons", None)
    config.write_text(yaml.safe_dump(settings, sort_keys=False), encoding="utf-8")


def build_student_edition(out: Path, *, toc: dict[str, Any] | None = None) -> Path:
    """Build the student edition of the executed book in ``out`` into
    ``out/_build/student/html`` (with ``toc`` instead of the book's table of contents,
    if given: :func:`steerspace.book.structure.partial_toc`); returns its ``index.html``."""
    tree = write_student_sources(out, out / "_build" / "student-src")
    index = build_book(tree, toc=toc)
    target = out / "_build" / "student" / "html"
    if target.exists():
        shutil.rmtree(target)
    target.parent.mkdir(parents=True, exist_ok=True)
    shutil.move(str(index.parent), str(target))
    shutil.rmtree(tree)
    return target / "index.html"

"""The student edition: solutions and teacher's notes removed, exercises kept."""

from __future__ import annotations

from pathlib import Path

import nbformat
import pytest

from steerspace.book.edition import student_notebook

V4 = nbformat.v4


def chapter() -> nbformat.NotebookNode:
    return V4.new_notebook(
        cells=[
            V4.new_markdown_cell("# Chapter\n\nText."),
            V4.new_markdown_cell(
                "## Exercises\n\n:::{exercise}\n:label: ex-a\n(easy) Do A.\n:::\n\n"
                "```{solution-start} ex-a\n:class: dropdown\n```"
            ),
            V4.new_code_cell("answer_a = 1"),
            V4.new_markdown_cell(
                "A is 1.\n\n```{solution-end}\n```\n\n:::{exercise}\n:label: ex-b\n"
                "(hard) Do B.\n:::\n\n```{solution-start} ex-b\n```\nB is said in words.\n\n"
                "```{solution-end}\n```\n\nClosing words."
            ),
            V4.new_markdown_cell("For the teacher only.", metadata={"tags": ["teacher"]}),
            V4.new_code_cell("after = 2"),
        ]
    )


def test_solutions_and_teacher_cells_go_exercises_stay():
    student = student_notebook(chapter())
    text = "\n".join(c.source for c in student.cells)
    assert text.count("{exercise}") == 2 and "Closing words." in text and "Text." in text
    for gone in ("solution", "answer_a", "A is 1.", "B is said", "For the teacher"):
        assert gone not in text
    assert [c.source for c in student.cells if c.cell_type == "code"] == ["after = 2"]
    assert len(chapter().cells) == 6  # the source is not modified


def test_an_unclosed_solution_is_an_error():
    nb = V4.new_notebook(cells=[V4.new_markdown_cell("```{solution-start} ex-a\n```")])
    with pytest.raises(ValueError, match="no \\{solution-end\\}"):
        student_notebook(nb)


def test_the_student_edition_has_no_launch_button_to_the_teachers_notebooks(tmp_path):
    import yaml

    from steerspace.book.edition import write_student_sources

    root = Path(__file__).resolve().parents[2]
    out = tmp_path / "out"
    (out / "book").mkdir(parents=True)
    for name in ("_config.yml", "_toc.yml"):
        (out / name).write_text((root / name).read_text(encoding="utf-8"), encoding="utf-8")
    nbformat.write(chapter(), out / "book" / "chapter.ipynb")
    tree = write_student_sources(out, tmp_path / "tree")
    settings = yaml.safe_load((tree / "_config.yml").read_text(encoding="utf-8"))
    assert "launch_buttons" not in settings
    assert "launch_buttons" in yaml.safe_load((root / "_config.yml").read_text(encoding="utf-8"))
    assert "solution" not in (tree / "book" / "chapter.ipynb").read_text(encoding="utf-8")

"""Smoke test: every chapter executes with papermill on a tiny model, and the book builds
(the ``built_book`` fixture is in conftest.py, shared with the browser test)."""

from __future__ import annotations

import json
import re
import shutil
from pathlib import Path

import pytest

from steerspace.book.cli import main, parse_sets
from steerspace.book.run import run_book
from steerspace.book.structure import chapters, has_figures

ROOT = Path(__file__).resolve().parents[2]


@pytest.mark.slow
def test_every_chapter_executes_without_errors(built_book):
    root, timings = built_book
    names = chapters(ROOT)
    assert names and set(names) <= set(timings)
    for name in names:
        nb = json.loads((root / "book" / f"{name}.ipynb").read_text())
        outputs = [
            o for cell in nb["cells"] if cell["cell_type"] == "code" for o in cell["outputs"]
        ]
        assert not [o for o in outputs if o["output_type"] == "error"], name
        if has_figures(name):
            assert any("image/png" in o.get("data", {}) for o in outputs), f"{name} has no figure"
        params = [c for c in nb["cells"] if "injected-parameters" in c["metadata"].get("tags", [])]
        assert params, f"{name}: papermill did not inject parameters"


@pytest.mark.slow
def test_book_html_has_every_chapter_and_results(built_book):
    root, _ = built_book
    html = root / "_build" / "html"
    assert (html / "index.html").is_file()
    for name in chapters(ROOT):
        page = (html / "book" / f"{name}.html").read_text()
        assert "Traceback" not in page, name
        if has_figures(name):
            assert "<img" in page, name
    assert (root / "results" / "tiny" / "expert_counts.csv").is_file()


#: a glued name in a chapter's Markdown: {glue:md}`name`, {glue:md}`name:myst`,
#: {glue}`name`, {glue:figure}`name` and the ```{glue:md} name``` directive
GLUE_USE = re.compile(r"\{glue(?::\w+)?\}`([^`:]+)|^```\{glue(?::\w+)?\}\s+(\S+)", re.M)


def glued_names(notebook: dict) -> set[str]:
    """The names a chapter's executed notebook glued (myst-nb's ``scrapbook`` outputs)."""
    return {
        output["metadata"]["scrapbook"]["name"]
        for cell in notebook["cells"]
        for output in cell.get("outputs", [])
        if "scrapbook" in output.get("metadata", {})
    }


@pytest.mark.slow
def test_every_glued_name_in_the_prose_is_glued_by_its_chapter(built_book):
    root, _ = built_book
    for name in chapters(ROOT):
        path = root / "book" / f"{name}.ipynb"
        if not path.is_file():
            continue
        nb = json.loads(path.read_text())
        prose = "\n".join("".join(c["source"]) for c in nb["cells"] if c["cell_type"] == "markdown")
        used = {a or b for a, b in GLUE_USE.findall(prose)}
        assert not used - glued_names(nb), f"{name}: glued names that no cell glues"


@pytest.mark.slow
def test_student_edition_builds_without_solutions(built_book):
    root, _ = built_book
    timings = run_book(
        str(root / "tiny.yaml"), root=root, out=root, execute=False, edition="student"
    )
    assert set(timings) == {"jupyter-book build"}
    for name in ("embedding_space", "finding_experts"):
        teacher = (root / "_build" / "html" / "book" / f"{name}.html").read_text()
        student = (root / "_build" / "student" / "html" / "book" / f"{name}.html").read_text()
        assert 'class="solution' in teacher and 'class="solution' not in student, name
        count = 'class="exercise'
        assert student.count(count) == teacher.count(count) >= 2, name


@pytest.mark.slow
def test_a_broken_solution_fails_its_chapter(built_book, tmp_path):
    from helpers.books import copy_book_sources

    from steerspace.book.run import ChapterFailed, execute_chapter

    root, _ = built_book
    copy_book_sources(tmp_path)
    source = tmp_path / "notebooks" / "embedding_space.py"
    text = source.read_text()
    solution = text.index("{solution-start}")
    cell = text.index("# %%\n", solution) + len("# %%\n")
    source.write_text(text[:cell] + "raise RuntimeError('a broken solution')\n" + text[cell:])
    parameters = {"config": str(root / "tiny.yaml"), "overrides": {}}
    with pytest.raises(ChapterFailed, match="a broken solution"):
        execute_chapter(tmp_path, "embedding_space", parameters, out=tmp_path / "out")


def test_bad_config_fails_before_any_chapter(tmp_path, capsys):
    shutil.copy(ROOT / "_toc.yml", tmp_path / "_toc.yml")
    assert main(["book", "--root", str(tmp_path), "--set", "k=0"]) == 2
    assert "'k' must be a positive integer" in capsys.readouterr().err
    assert not (tmp_path / "book").exists()


def test_parse_sets_and_unknown_chapter(tmp_path):
    assert parse_sets(["k=200", "targets=[es, fr]"]) == {"k": 200, "targets": ["es", "fr"]}
    with pytest.raises(ValueError, match="KEY=VALUE"):
        parse_sets(["k"])
    with pytest.raises(ValueError, match="unknown chapter"):
        run_book(root=ROOT, only=["nope"], build=False)


def test_readme_test_command_is_what_ci_runs():
    ci_line = [ln for ln in (ROOT / ".ci" / "run").read_text().splitlines() if "pytest" in ln][0]
    assert ci_line.strip() in (ROOT / "README.md").read_text()

"""The book's structure: its chapters and pages (from ``_toc.yml``), and its rendering.

The chapter sources are jupytext percent files in ``notebooks/``; every ``book/<name>``
entry of ``_toc.yml`` with a ``notebooks/<name>.py`` source is a chapter that the
runner (:mod:`steerspace.book.run`) executes into ``book/<name>.ipynb``;
``jupyter-book build`` then renders the executed notebooks as they are.
"""

from __future__ import annotations

import re
import shutil
import subprocess
import sys
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import yaml

from steerspace.infra.cache import key_hash

#: The config whose run, without overrides, is the committed book.
DEFAULT_CONFIG = "gemma-3-270m"

def toc_files(root: Path) -> list[str]:
    """All ``file:`` entries of ``root/_toc.yml`` in order (root first)."""
    toc = yaml.safe_load((root / "_toc.yml").read_text(encoding="utf-8"))
    files = [toc["root"]]

    def walk(node: Any) -> None:
        if isinstance(node, dict):
            if "file" in node:
                files.append(node["file"])
            for value in node.values():
                walk(value)
        elif isinstance(node, list):
            for item in node:
                walk(item)

    walk({k: v for k, v in toc.items() if k != "root"})
    return files

# Pages that summarise the other chapters' results: executed after all of them.
SUMMARY_PAGES = ("scorecard", "intro")

# Pages that are not chapters of the paper: no Result box, no exercises, no figure of
# their own (the intro draws one: it is a page all the same).
PAGES = ("intro", "scorecard", "exercises", "course_guide")

def has_figures(name: str) -> bool:
    """Whether chapter or page ``name`` draws figures: every chapter, and the intro."""
    return name not in PAGES or name == "intro"

def chapters(root: Path) -> list[str]:
    """Names of the chapters that are notebooks, in execution order: book order, with
    the summary pages (:data:`SUMMARY_PAGES`) last."""
    names = [Path(f).name for f in toc_files(root)]
    names = [n for n in names if (root / "notebooks" / f"{n}.py").is_file()]
    return [n for n in names if n not in SUMMARY_PAGES] + [n for n in SUMMARY_PAGES if n in names]

def copy_book_pages(root: Path, out: Path) -> None:
    """Copy the book's configuration, table of contents, pages and BibTeX from ``root``
    to ``out``, so ``out`` builds as a book of its own executed notebooks."""
    (out / "book").mkdir(parents=True, exist_ok=True)
    for name in ("_config.yml", "_toc.yml"):
        shutil.copy(root / name, out / name)
    for pattern in ("*.md", "*.bib"):
        for page in (root / "book").glob(pattern):
            shutil.copy(page, out / "book" / page.name)

#: Warnings of a partial book (:func:`partial_toc`) that only say a link points to a
#: chapter left out: such a link is shown as plain text.
PARTIAL_BOOK_WARNINGS = ("ref.ref", "ref.numref", "ref.doc", "ref.any", "myst.xref_missing")


def partial_toc(book: Path, root: Path, present: list[str]) -> dict[str, Any] | None:
    """``book/_toc.yml`` with only the chapters in ``present`` (executed) and the pages
    that need no execution (no ``root/notebooks/<name>.py``), for a book built after
    ``--only`` in a folder without the other chapters; ``None`` when none is left out.

    Raises ``FileNotFoundError`` when the book's root page is itself left out.
    """
    toc = yaml.safe_load((book / "_toc.yml").read_text(encoding="utf-8"))
    left_out = {n for n in chapters(root) if n not in present}
    if not left_out:
        return None
    if Path(toc["root"]).name in left_out:
        raise FileNotFoundError(
            f"the book's first page {toc['root']} was not executed in {book}; "
            "run it (it runs with any --only unless --no-build)"
        )

    def keep(node: Any) -> Any:
        if isinstance(node, list):
            kept = [keep(item) for item in node]
            return [item for item in kept if item is not None]
        if not isinstance(node, dict):
            return node
        if "file" in node and Path(node["file"]).name in left_out:
            return None
        kept = {key: keep(value) for key, value in node.items()}
        for key in ("chapters", "sections", "parts"):
            if key in node and not kept[key]:  # a part whose chapters all went
                if "file" not in node:
                    return None
                del kept[key]
        return kept

    return {key: (value if key == "root" else keep(value)) for key, value in toc.items()}


def _partial_sources(root: Path, toc: dict[str, Any]) -> list[str]:
    """Write ``toc`` and a ``_config.yml`` that does not fail on links to the chapters
    left out under ``root/_build/partial/``; the ``jupyter-book build`` options that
    use them."""
    where = root / "_build" / "partial"
    where.mkdir(parents=True, exist_ok=True)
    config = yaml.safe_load((root / "_config.yml").read_text(encoding="utf-8")) or {}
    sphinx = config.setdefault("sphinx", {}).setdefault("config", {})
    sphinx["suppress_warnings"] = [*sphinx.get("suppress_warnings", []), *PARTIAL_BOOK_WARNINGS]
    (where / "_toc.yml").write_text(yaml.safe_dump(toc, sort_keys=False), encoding="utf-8")
    (where / "_config.yml").write_text(yaml.safe_dump(config, sort_keys=False), encoding="utf-8")
    return ["--toc", str(where / "_toc.yml"), "--config", str(where / "_config.yml")]


def build_book(root: Path, *, toc: dict[str, Any] | None = None) -> Path:
    """Run ``jupyter-book build`` on ``root``; return the path of ``index.html``.
    ``toc``: a table of contents to build instead of ``root/_toc.yml``
    (:func:`partial_toc`)."""
    executable = Path(sys.executable).parent / "jupyter-book"
    if not executable.is_file():
        raise FileNotFoundError(
            f"jupyter-book not found next to {sys.executable}; run: pip install -e '.[book]'"
        )
    options = _partial_sources(root, toc) if toc is not None else []
    subprocess.run(
        [str(executable), "build", str(root), *options, "--warningiserror", "--quiet"], check=True
    )
    index = root / "_build" / "html" / "index.html"
    if not index.is_file():
        raise FileNotFoundError(f"jupyter-book build finished but wrote no {index}")
    return index


def run_name(name: str, overrides: Mapping[str, Any]) -> str:
    """The folder name of a run: the config's ``name`` and its overrides, e.g.
    ``gemma-3-270m_k=200_targets=es+fr``; characters unsafe in a path become ``-``,
    and then (or beyond 80 characters) a hash of the overrides keeps names apart."""
    parts = [name]
    for key in sorted(overrides):
        value = overrides[key]
        if value is not None:
            text = "+".join(map(str, value)) if isinstance(value, list | tuple) else str(value)
            parts.append(f"{key}={text}")
    raw = "_".join(parts)
    safe = re.sub(r"[^A-Za-z0-9._=+-]+", "-", raw)
    if safe != raw or len(safe) > 80:
        safe = f"{safe[:70]}-{key_hash(dict(overrides))[:8]}"
    return safe


def default_out(root: Path, config: str, overrides: Mapping[str, Any], name: str) -> Path:
    """Where a run writes: ``root`` (the committed book) for :data:`DEFAULT_CONFIG`
    without overrides, else ``root/runs/<run name>``. The one place that decides it:
    the runner, papermill and a notebook opened by hand all come here
    (:func:`steerspace.book.chapter.setup_chapter`), so no run with other parameters
    writes over the committed results."""
    if config == DEFAULT_CONFIG and all(v is None for v in overrides.values()):
        return root
    return root / "runs" / run_name(name, overrides)

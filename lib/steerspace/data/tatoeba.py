"""Tatoeba test pairs in the LASER/XTREME layout (paper App. H, Table 7).

Each pair is two line-aligned files, ``tatoeba.{xxx}-eng.{xxx}`` and
``tatoeba.{xxx}-eng.eng``, where ``xxx`` is :attr:`Language.tatoeba` (``cmn`` for
Chinese, ``pes`` for Persian). The English side differs from pair to pair, so every
language gets its own two-language :class:`Corpus`. The LASER test files of all 22
paper languages ship inside the package (``steerspace/data/files/tatoeba``, 1.8 MB, CC BY
2.0 FR, with their README and ``SHA256SUMS``): :func:`default_tatoeba_dir`. A
``data_dir`` of ``hf:mteb/tatoeba-bitext-mining`` (or ``hf:<local copy>``) reads the
same pairs through ``datasets`` (:mod:`steerspace.data.hf`).
"""

from __future__ import annotations

import os
from collections.abc import Iterable
from pathlib import Path

from steerspace.data.corpus import Corpus, existing_dir
from steerspace.data.hf import columns, is_hf_source, open_split
from steerspace.data.languages import LANGUAGES, get_language, validate_languages

#: Environment variable that points :func:`default_tatoeba_dir` elsewhere.
ENV_VAR = "STEERSPACE_TATOEBA_DIR"
_DOWNLOAD = "copy data/tatoeba/v1 of https://github.com/facebookresearch/LASER there"


#: The LASER Tatoeba test files shipped with the package (see its README.md).
PACKAGED_DIR = Path(__file__).resolve().parent / "files" / "tatoeba"


def default_tatoeba_dir() -> Path:
    """Where the Tatoeba files are: ``$STEERSPACE_TATOEBA_DIR`` if set, else the copy
    shipped with the package (:data:`PACKAGED_DIR`).

    Used by the Tatoeba & BUCC chapter when the config's ``tatoeba_dir`` is None. A set
    environment variable is returned as is, so that a wrong path fails loudly in
    :func:`load_tatoeba`.
    """
    env = os.environ.get(ENV_VAR)
    return Path(env).expanduser() if env else PACKAGED_DIR


def _pair_files(root: Path, code: str) -> tuple[Path, Path]:
    return root / f"tatoeba.{code}-eng.{code}", root / f"tatoeba.{code}-eng.eng"


def _read_lines(path: Path) -> tuple[str, ...]:
    text = path.read_text(encoding="utf-8")
    return tuple(line.rstrip("\r").strip() for line in text.rstrip("\n").split("\n"))


def load_tatoeba(data_dir: str | Path, languages: Iterable[str]) -> dict[str, Corpus]:
    """One two-language corpus ``{lang, "en"}`` per requested language (App. H).

    Everything is checked before any file is read.

    Parameters
    ----------
    data_dir
        Folder with the ``tatoeba.{xxx}-eng.*`` files, e.g. :func:`default_tatoeba_dir`,
        or ``"hf:<hub id or local copy>"`` (:mod:`steerspace.data.hf`).
    languages
        ISO 639-1 codes other than ``"en"`` (English is the pivot of every pair).

    Returns
    -------
    dict[str, Corpus]
        Language → corpus named ``"tatoeba/{xxx}-eng"`` with ids ``"1"``, ``"2"``, …

    Raises
    ------
    FileNotFoundError
        ``data_dir`` does not exist.
    ValueError
        Unknown language, ``"en"``, a language without a Tatoeba pair or whose files are
        missing, or files of different lengths.
    """
    langs = validate_languages(languages)
    if "en" in langs:
        raise ValueError(
            "languages must not contain 'en': English is the pivot of every Tatoeba pair; "
            f"got {langs}"
        )
    no_code = [lang for lang in langs if get_language(lang).tatoeba is None]
    if no_code:
        have = [c for c, lg in LANGUAGES.items() if lg.tatoeba]
        raise ValueError(f"Tatoeba has no pair for languages {no_code}; choose from {have}")
    if is_hf_source(data_dir):
        out = {}
        for lang in langs:
            code = get_language(lang).tatoeba or ""
            what = f"Tatoeba {code}-eng"
            table = open_split(str(data_dir), subset=f"{code}-eng", split="test", what=what)
            rows = columns(table, ("sentence1", "sentence2"), what)
            src = tuple(str(s).strip() for s in rows["sentence1"])
            eng = tuple(str(s).strip() for s in rows["sentence2"])
            where = f"{data_dir} {code}-eng"
            out[lang] = _pair_corpus(lang, code, src, eng, sources=(where, where))
        return out
    root = existing_dir(data_dir, "Tatoeba", f"{_DOWNLOAD} and pass data_dir=...")
    missing = [
        f"{lang} ({path.name})"
        for lang in langs
        for path in _pair_files(root, get_language(lang).tatoeba or "")
        if not path.is_file()
    ]
    if missing:
        raise ValueError(f"Tatoeba directory {str(root)!r} lacks files for {missing}")
    out: dict[str, Corpus] = {}
    for lang in langs:
        code = get_language(lang).tatoeba or ""
        src_path, eng_path = _pair_files(root, code)
        src, eng = _read_lines(src_path), _read_lines(eng_path)
        out[lang] = _pair_corpus(lang, code, src, eng, sources=(str(src_path), str(eng_path)))
    return out


def _pair_corpus(
    lang: str, code: str, src: tuple[str, ...], eng: tuple[str, ...], *, sources: tuple[str, str]
) -> Corpus:
    """The two-language corpus of one aligned pair; ValueError if the sides differ in
    length."""
    if len(src) != len(eng):
        raise ValueError(
            f"Tatoeba pair {code}-eng is not aligned: {Path(sources[0]).name} has {len(src)} "
            f"lines, {Path(sources[1]).name} has {len(eng)}"
        )
    return Corpus(
        name=f"tatoeba/{code}-eng",
        ids=tuple(str(i) for i in range(1, len(src) + 1)),
        texts={lang: src, "en": eng},
        sources={lang: sources[0], "en": sources[1]},
    )

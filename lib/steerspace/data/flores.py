"""Flores-200 and Flores+ (the paper's corpus for finding experts, §3).

The paper finds language experts on Flores-200 (NLLB Team 2022). The files are gated
or need a download, so steerspace reads them from a directory the user provides and
falls back to the Bible otherwise. Four layouts are recognised, per split
(``dev`` or ``devtest``):

========================  =============================================================
Flores-200 (tarball)      ``flores200_dataset/{split}/{code}.{split}``, e.g.
                          ``devtest/spa_Latn.devtest``
Flores+ (GitHub release)  ``floresp-v2.x/{split}/{split}.{code}``, e.g. ``dev/dev.spa_Latn``
Flores+ (plain files)     ``{split}/{code}``, e.g. ``devtest/spa_Latn``
Flores+ (Hugging Face)    ``{split}/{code}.parquet`` with a ``text`` column
                          (``sentence`` in ``facebook/flores``), ordered by ``id``
========================  =============================================================

``data_dir`` may be the dataset root or the folder that contains
``flores200_dataset`` or ``floresp-*``. Flores+ renamed Chinese ``zho_Hans`` to
``cmn_Hans``; both names are tried. A ``data_dir`` of ``hf:openlanguagedata/flores_plus``
(or ``hf:<local copy>``) reads Flores+ through ``datasets`` (:mod:`steerspace.data.hf`).
"""

from __future__ import annotations

from collections.abc import Iterable
from pathlib import Path

import pandas as pd

from steerspace.data.corpus import Corpus, existing_dir
from steerspace.data.hf import flores_plus_sentences, is_hf_source
from steerspace.data.languages import get_language, validate_languages

SPLITS: tuple[str, ...] = ("dev", "devtest")
_DOWNLOAD = (
    "download Flores-200 (https://tinyurl.com/flores200dataset) or Flores+ "
    "(https://huggingface.co/datasets/openlanguagedata/flores_plus)"
)
# Flores-200 code → other names the same language has in Flores+
_ALIASES: dict[str, tuple[str, ...]] = {"zho_Hans": ("cmn_Hans",)}


def _split_dir(root: Path, split: str) -> Path | None:
    """The folder holding ``split`` files under any recognised root, or None."""
    candidates = [root, root / "flores200_dataset", *sorted(root.glob("floresp*"), reverse=True)]
    for base in candidates:
        if (base / split).is_dir():
            return base / split
    return None


def _find_file(split_dir: Path, code: str, split: str) -> tuple[Path, str] | None:
    """The file of one Flores code and the layout it belongs to, or None."""
    for name in (code, *_ALIASES.get(code, ())):
        for filename, layout in (
            (f"{name}.{split}", "flores200"),
            (f"{split}.{name}", "flores+"),
            (name, "flores+"),
            (f"{name}.parquet", "flores+"),
        ):
            path = split_dir / filename
            if path.is_file():
                return path, layout
    return None


def _read_sentences(path: Path) -> list[str]:
    """One sentence per line (text files) or the ``text`` column (parquet)."""
    if path.suffix == ".parquet":
        frame = pd.read_parquet(path)
        if "id" in frame.columns:
            frame = frame.sort_values("id", kind="stable")
        column = next((c for c in ("text", "sentence") if c in frame.columns), None)
        if column is None:
            raise ValueError(
                f"Flores parquet {str(path)!r} needs a 'text' or 'sentence' column; "
                f"it has {list(frame.columns)}"
            )
        return [str(s).strip() for s in frame[column]]
    text = path.read_text(encoding="utf-8")
    return [line.rstrip("\r").strip() for line in text.rstrip("\n").split("\n")]


def load_flores(
    data_dir: str | Path, languages: Iterable[str], *, split: str = "devtest"
) -> Corpus:
    """Sentence-aligned Flores text for the expert-finding chapter (paper §3).

    Parameters
    ----------
    data_dir
        A Flores-200 or Flores+ directory (see the module docstring for layouts), or
        ``"hf:<hub id or local copy>"`` of Flores+ (:mod:`steerspace.data.hf`).
    languages
        ISO 639-1 codes (see :mod:`steerspace.data.languages`); each is mapped to its
        Flores code, e.g. ``"es"`` → ``spa_Latn``.
    split
        ``"dev"`` (997 sentences) or ``"devtest"`` (1012).

    Returns
    -------
    Corpus
        Named ``"flores200/{split}"`` or ``"flores+/{split}"``; ids ``"{split}.{line}"``
        with 1-based line numbers.

    Raises
    ------
    FileNotFoundError
        ``data_dir`` does not exist or has no ``split`` folder.
    ValueError
        Unknown split or language, language files missing, or files of different lengths.
    """
    if split not in SPLITS:
        raise ValueError(f"split must be one of {list(SPLITS)}; got {split!r}")
    langs = validate_languages(languages)
    if not langs:
        raise ValueError("languages must name at least one language; got []")
    if is_hf_source(data_dir):
        texts, sources = {}, {}
        for lang in langs:
            code = get_language(lang).flores
            code = _ALIASES.get(code, (code,))[0]  # the name Flores+ uses
            texts[lang] = tuple(flores_plus_sentences(str(data_dir), code, split))
            sources[lang] = f"{data_dir} {code}"
        return _aligned_corpus(texts, sources, name=f"flores+/{split}", split=split)
    root = existing_dir(data_dir, "Flores", f"{_DOWNLOAD} and pass data_dir=...")
    split_dir = _split_dir(root, split)
    if split_dir is None:
        raise FileNotFoundError(
            f"Flores directory {str(root)!r} has no {split!r} folder (looked in it, in "
            f"flores200_dataset/ and floresp*/); {_DOWNLOAD} and pass its root as data_dir"
        )
    found: dict[str, tuple[Path, str]] = {}
    missing: list[str] = []
    for lang in langs:
        hit = _find_file(split_dir, get_language(lang).flores, split)
        if hit is None:
            missing.append(f"{lang} ({get_language(lang).flores})")
        else:
            found[lang] = hit
    if missing:
        raise ValueError(
            f"Flores {split} in {str(split_dir)!r} has no file for languages {missing}; "
            "drop them from languages or use the Bible"
        )
    texts = {lang: tuple(_read_sentences(path)) for lang, (path, _) in found.items()}
    layout = next(iter(found.values()))[1]
    sources = {lang: str(path) for lang, (path, _) in found.items()}
    return _aligned_corpus(texts, sources, name=f"{layout}/{split}", split=split)


def _aligned_corpus(
    texts: dict[str, tuple[str, ...]], sources: dict[str, str], *, name: str, split: str
) -> Corpus:
    """The corpus of line-aligned ``texts``; ValueError if their lengths differ."""
    lengths = {lang: len(sents) for lang, sents in texts.items()}
    if len(set(lengths.values())) > 1:
        raise ValueError(
            f"Flores {split} is not aligned: sentences per language {lengths} (from "
            f"{sorted(set(sources.values()))}); every language must have the same sentences"
        )
    n = next(iter(lengths.values()))
    return Corpus(
        name=name,
        ids=tuple(f"{split}.{i}" for i in range(1, n + 1)),
        texts=texts,
        sources=sources,
    )

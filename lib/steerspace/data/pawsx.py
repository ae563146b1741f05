"""PAWS-X paraphrase pairs (paper §6, Tables 3 and 5).

PAWS-X ships one folder per language under ``x-final/`` with tab-separated files
(``id``, ``sentence1``, ``sentence2``, ``label``): ``test_2k.tsv``, ``dev_2k.tsv`` and
``translated_train.tsv`` (English: ``train.tsv``). The paraphrase-retrieval chapter
uses the label-1 pairs: ``sentence1`` is the query, ``sentence2`` the right candidate.
A ``data_dir`` of ``hf:google-research-datasets/paws-x`` (or ``hf:<local copy>``) reads
the same pairs through ``datasets`` (:mod:`steerspace.data.hf`).
"""

from __future__ import annotations

import csv
from collections.abc import Iterable
from pathlib import Path

from steerspace.data.corpus import ParaphrasePairs, existing_dir
from steerspace.data.hf import columns, is_hf_source, open_split
from steerspace.data.languages import LANGUAGES, get_language

#: split → file name inside ``x-final/{lang}/`` (English's train file is ``train.tsv``).
SPLIT_FILES: dict[str, str] = {
    "test": "test_2k.tsv",
    "dev": "dev_2k.tsv",
    "train": "translated_train.tsv",
}
_DOWNLOAD = (
    "download https://storage.googleapis.com/paws/pawsx/x-final.tar.gz, unpack it "
    "and pass the folder that holds x-final/"
)


def _lang_root(root: Path) -> Path:
    """``root/x-final`` if it exists, else ``root`` (already the x-final folder)."""
    return root / "x-final" if (root / "x-final").is_dir() else root


def load_pawsx(data_dir: str | Path, language: str, *, split: str = "test") -> ParaphrasePairs:
    """Label-1 PAWS-X pairs of one language for paraphrase retrieval (paper §6).

    Rows with a wrong number of fields or an empty sentence are skipped. A pair is
    also skipped when its ``sentence1`` or its ``sentence2`` already occurred in an
    earlier kept pair, so every query has exactly one right candidate.

    Parameters
    ----------
    data_dir
        The folder holding ``x-final/``, or ``x-final`` itself, or
        ``"hf:<hub id or local copy>"`` (:mod:`steerspace.data.hf`).
    language
        One of en, de, es, fr, ja, ko, zh.
    split
        ``"test"`` (test_2k.tsv), ``"dev"`` (dev_2k.tsv) or ``"train"``.

    Raises
    ------
    FileNotFoundError
        ``data_dir`` does not exist.
    ValueError
        Unknown split or language, a language PAWS-X lacks, its file missing, a file
        without the expected header, or no label-1 pairs left.
    """
    if split not in SPLIT_FILES:
        raise ValueError(f"split must be one of {list(SPLIT_FILES)}; got {split!r}")
    lang = get_language(language)
    if lang.pawsx is None:
        have = [c for c, lg in LANGUAGES.items() if lg.pawsx]
        raise ValueError(f"PAWS-X has no language {language!r}; choose from {have}")
    if is_hf_source(data_dir):
        what = f"PAWS-X {lang.pawsx} {split}"
        split_name = "validation" if split == "dev" else split
        table = open_split(str(data_dir), subset=lang.pawsx, split=split_name, what=what)
        rows = columns(table, ("id", "sentence1", "sentence2", "label"), what)
        return _label1_pairs(
            zip(*rows.values(), strict=True), language, source=f"{data_dir} {lang.pawsx}"
        )
    root = existing_dir(data_dir, "PAWS-X", f"{_DOWNLOAD} as data_dir")
    filename = "train.tsv" if (split == "train" and lang.pawsx == "en") else SPLIT_FILES[split]
    path = _lang_root(root) / lang.pawsx / filename
    if not path.is_file():
        found = sorted(p.name for p in _lang_root(root).iterdir() if p.is_dir())
        raise ValueError(
            f"PAWS-X file {str(path)!r} for language {language!r} does not exist; "
            f"language folders found: {found}"
        )
    with path.open(encoding="utf-8", newline="") as handle:
        reader = csv.reader(handle, delimiter="\t", quoting=csv.QUOTE_NONE)
        header = next(reader, [])
        if header[:4] != ["id", "sentence1", "sentence2", "label"]:
            raise ValueError(
                f"PAWS-X file {str(path)!r} must start with the header "
                f"id, sentence1, sentence2, label; got {header}"
            )
        rows = [row for row in reader if len(row) == 4]
    return _label1_pairs(rows, language, source=f"pawsx/{lang.pawsx}/{filename}")


def _label1_pairs(rows: Iterable, language: str, *, source: str) -> ParaphrasePairs:
    """The label-1 ``(id, sentence1, sentence2, label)`` rows with two non-empty
    sentences, each sentence1 and each sentence2 kept once (its first pair)."""
    ids: list[str] = []
    queries: list[str] = []
    candidates: list[str] = []
    seen1: set[str] = set()
    seen2: set[str] = set()
    for pair_id, sentence1, sentence2, label in rows:
        if str(label).strip() != "1":
            continue
        s1, s2 = str(sentence1 or "").strip(), str(sentence2 or "").strip()
        if not s1 or not s2 or s1 in seen1 or s2 in seen2:
            continue
        seen1.add(s1)
        seen2.add(s2)
        ids.append(str(pair_id).strip())
        queries.append(s1)
        candidates.append(s2)
    return ParaphrasePairs(
        language=language,
        ids=tuple(ids),
        queries=tuple(queries),
        candidates=tuple(candidates),
        source=source,
    )

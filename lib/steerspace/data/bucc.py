"""BUCC 2018 parallel-sentence mining data (paper App. H, Table 7).

The shared task's layout: ``{xx}-en.{split}.{xx}`` and ``{xx}-en.{split}.en`` hold one
``id<TAB>sentence`` per line, and ``{xx}-en.{split}.gold`` the gold pairs as
``xx-id<TAB>en-id``. The paper reports top-1 retrieval; we read the gold pairs as an
aligned two-language corpus (query = the ``xx`` sentence, candidates = the English
sides of all gold pairs), which is the retrieval reading of the mining task.
"""

from __future__ import annotations

from pathlib import Path

from steerspace.data.corpus import Corpus, existing_dir
from steerspace.data.languages import get_language

BUCC_LANGUAGES = ("de", "fr", "ru", "zh")
SPLITS = ("sample", "training", "test")
_DOWNLOAD = "download BUCC 2018 from https://comparable.limsi.fr/bucc2018/ and pass its folder"


def _read_tsv(path: Path) -> dict[str, str]:
    out = {}
    for line in path.read_text(encoding="utf-8").splitlines():
        parts = line.split("\t")
        if len(parts) == 2 and parts[1].strip():
            out[parts[0].strip()] = parts[1].strip()
    return out


def load_bucc(data_dir: str | Path, language: str, *, split: str = "training") -> Corpus:
    """Gold BUCC pairs of ``language`` and English as an aligned :class:`Corpus`.

    Used by the Tatoeba & BUCC chapter. Looks for the files in ``data_dir`` and in
    ``data_dir/{xx}-en`` (the release's per-pair folders).

    Raises
    ------
    ValueError
        A language BUCC lacks, an unknown split, a missing file, or no gold pair whose
        sentences are both present.
    FileNotFoundError
        ``data_dir`` does not exist.
    """
    get_language(language)
    if language not in BUCC_LANGUAGES:
        raise ValueError(
            f"BUCC 2018 has no language {language!r}; choose from {list(BUCC_LANGUAGES)}"
        )
    if split not in SPLITS:
        raise ValueError(f"split must be one of {list(SPLITS)}; got {split!r}")
    root = existing_dir(data_dir, "BUCC", _DOWNLOAD)
    stem = f"{language}-en.{split}"
    base = next(
        (d for d in (root, root / f"{language}-en") if (d / f"{stem}.gold").is_file()), None
    )
    if base is None:
        raise ValueError(
            f"BUCC file {stem}.gold not found in {str(root)!r} or {str(root / f'{language}-en')!r}"
        )
    src, eng = _read_tsv(base / f"{stem}.{language}"), _read_tsv(base / f"{stem}.en")
    gold = [
        tuple(line.split("\t")[:2])
        for line in (base / f"{stem}.gold").read_text("utf-8").splitlines()
        if "\t" in line
    ]
    pairs = [(a.strip(), b.strip()) for a, b in gold if a.strip() in src and b.strip() in eng]
    return Corpus(
        name=f"bucc2018/{stem}",
        ids=tuple(a for a, _ in pairs),
        texts={language: tuple(src[a] for a, _ in pairs), "en": tuple(eng[b] for _, b in pairs)},
        sources={language: f"{stem}.{language}", "en": f"{stem}.en"},
    )

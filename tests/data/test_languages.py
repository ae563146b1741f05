"""The language table: codes, order, flags, look-ups and their errors."""

from __future__ import annotations

import csv
import dataclasses

import pytest

from steerspace.data.languages import (
    LANGUAGES,
    MODELS,
    PRETRAINING_NOTES,
    get_language,
    languages_table,
    paper_languages,
    seen_in_pretraining,
    validate_languages,
)
from steerspace.data.paper import PAPER_DIR
from steerspace.data.tatoeba import PACKAGED_DIR

PAPER_CSV = PAPER_DIR / "appendixA_languages.csv"

PAPER_ORDER = "th cs de el en fr he hi id it ja ko nl fa pl pt ro ru es tr uk vi".split()


def test_table_has_22_paper_languages_in_table4_order_then_chinese():
    assert list(LANGUAGES) == [*PAPER_ORDER, "zh"]
    assert paper_languages() == PAPER_ORDER
    assert not LANGUAGES["zh"].in_paper
    assert all(LANGUAGES[c].in_paper for c in PAPER_ORDER)


def test_codes_per_source():
    fa, zh, es, en = (get_language(c) for c in ("fa", "zh", "es", "en"))
    assert (fa.iso639_3, fa.flores, fa.tatoeba, fa.script) == ("pes", "pes_Arab", "pes", "Arab")
    assert (zh.iso639_3, zh.flores, zh.tatoeba, zh.pawsx) == ("cmn", "zho_Hans", "cmn", "zh")
    assert (es.flores, es.bible[0], es.family) == ("spa_Latn", "9", "Indo-European/Romance")
    assert en.tatoeba is None and en.bible[0] == "4"
    assert {c for c, lg in LANGUAGES.items() if lg.pawsx} == {
        "en",
        "de",
        "es",
        "fr",
        "ja",
        "ko",
        "zh",
    }
    assert {c for c, lg in LANGUAGES.items() if not lg.bible} == {"th", "cs", "el", "he", "nl"}
    for lang in LANGUAGES.values():
        assert lang.flores.endswith("_" + lang.script)


def test_codes_and_flags_match_the_paper_csv():
    with PAPER_CSV.open(encoding="utf-8") as handle:
        rows = list(csv.DictReader(handle))
    assert [r["iso639_1"] for r in rows] == PAPER_ORDER
    columns = {"bloom-7b1": "bloom7b", "aya-23-8b": "aya8b", "polylm-13b": "polylm13b"}
    for row in rows:
        lang = get_language(row["iso639_1"])
        assert lang.name == row["language"]
        assert lang.iso639_3 == row["iso639_3"]
        for model, prefix in columns.items():
            assert lang.seen_in_pretraining[model] == (
                row[f"{prefix}_in_pretrain_modelcard"] == "yes"
            )
            paper = row[f"{prefix}_in_pretrain_paper"]
            if paper:  # the paper's own statements (Bloom: no German, no Japanese)
                assert lang.seen_in_pretraining[model] == (paper == "yes")


def test_tatoeba_codes_name_existing_files():
    for lang in LANGUAGES.values():
        if lang.tatoeba is not None:
            assert (PACKAGED_DIR / f"tatoeba.{lang.tatoeba}-eng.{lang.tatoeba}").is_file()


def test_seen_in_pretraining_matches_models_by_substring():
    assert seen_in_pretraining("es", "bigscience/bloom-7b1") is True
    assert seen_in_pretraining("de", "bloom-7b1") is False
    assert seen_in_pretraining("ja", "BLOOM") is False
    assert seen_in_pretraining("th", "CohereForAI/aya-23-8B") is False
    assert seen_in_pretraining("cs", "aya-23-8b") is True
    assert seen_in_pretraining("uk", "DAMO-NLP-MT/polylm-13b") is False
    assert seen_in_pretraining("zh", "polylm-13b") is True
    assert seen_in_pretraining("en", "google/gemma-3-270m") is None
    assert seen_in_pretraining("en", "gpt2") is None
    with pytest.raises(ValueError, match="unknown language 'xx'"):
        seen_in_pretraining("xx", "bloom")


def test_pretraining_notes_cover_every_model_and_gemma_is_unknown():
    assert set(PRETRAINING_NOTES) == set(MODELS)
    assert all(note.endswith(".") for note in PRETRAINING_NOTES.values())
    assert all(lg.seen_in_pretraining["gemma-3-270m"] is None for lg in LANGUAGES.values())
    assert all(set(lg.seen_in_pretraining) == set(MODELS) for lg in LANGUAGES.values())


def test_get_language_error_names_the_value_and_the_choices():
    assert get_language("fa").name == "Persian"
    with pytest.raises(ValueError) as err:
        get_language("xx")
    assert "unknown language 'xx'" in str(err.value)
    assert "'th'" in str(err.value) and "'zh'" in str(err.value)


def test_validate_languages():
    assert validate_languages(("en", "zh")) == ["en", "zh"]
    assert validate_languages([]) == []
    with pytest.raises(ValueError, match="unknown language 'eng'"):
        validate_languages(["en", "eng"])
    with pytest.raises(ValueError, match=r"repeat.*\['en'\]"):
        validate_languages(["en", "fr", "en"])
    with pytest.raises(ValueError, match="string 'en'"):
        validate_languages("en")


def test_language_is_frozen():
    with pytest.raises(dataclasses.FrozenInstanceError):
        LANGUAGES["en"].name = "Anglais"  # type: ignore[misc]
    with pytest.raises(TypeError):
        LANGUAGES["en"].seen_in_pretraining["bloom-7b1"] = False  # type: ignore[index]


def test_languages_table():
    table = languages_table()
    assert len(table) == 23
    assert list(table["code"]) == list(LANGUAGES)
    assert table.loc[table["code"] == "en", "bible"].item() == "4,2,k,3"
    assert table.loc[table["code"] == "th", "bible"].item() == ""
    assert str(table["seen_bloom-7b1"].dtype) == "boolean"
    assert table["seen_gemma-3-270m"].isna().all()
    assert int(table["seen_aya-23-8b"].sum()) == 22  # all but Thai
    assert {"iso639_3", "flores", "tatoeba", "pawsx", "script", "family", "in_paper"} <= set(
        table.columns
    )

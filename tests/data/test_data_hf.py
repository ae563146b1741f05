"""Flores+, PAWS-X and Tatoeba through Hugging Face `datasets` (``hf:`` sources), on
small datasets built here; the hub is never reached (offline, and a stand-in loader)."""

from __future__ import annotations

import datasets
import pytest

from steerspace.config import load_config
from steerspace.data import load_flores, load_pawsx, load_tatoeba
from steerspace.data.hf import HUB_IDS, is_hf_source


@pytest.fixture(autouse=True)
def offline(monkeypatch, tmp_path_factory):
    """No hub, and the datasets cache in a temporary folder (datasets reads these
    settings when it is imported, so they are set on its config)."""
    import huggingface_hub.constants

    monkeypatch.setattr(huggingface_hub.constants, "HF_HUB_OFFLINE", True)
    monkeypatch.setattr(datasets.config, "HF_HUB_OFFLINE", True)
    cache = tmp_path_factory.mktemp("hf-datasets-cache")
    monkeypatch.setattr(datasets.config, "HF_DATASETS_CACHE", cache)


def flores_rows(split: str) -> dict[str, list]:
    """Three languages in one table, ids shuffled, as the hub's all-language subset."""
    rows = {"id": [], "iso_639_3": [], "iso_15924": [], "text": []}
    sentences = {
        ("spa", "Latn"): ["Uno.", "Dos.", "Tres."],
        ("eng", "Latn"): ["One.", "Two.", "Three."],
        ("cmn", "Hans"): ["一。", "二。", "三。"],
    }
    for (lang, script), texts in sentences.items():
        for i in (3, 1, 2):
            rows["id"].append(i)
            rows["iso_639_3"].append(lang)
            rows["iso_15924"].append(script)
            rows["text"].append(f" {texts[i - 1]} " if split == "dev" else texts[i - 1] + "!")
    return rows


def one_language(rows: dict[str, list], code: str) -> datasets.Dataset:
    """The rows of one Flores+ language (``spa_Latn``), as its own hub subset."""
    pair = tuple(code.split("_"))
    keep = [
        i
        for i, ab in enumerate(zip(rows["iso_639_3"], rows["iso_15924"], strict=True))
        if ab == pair
    ]
    return datasets.Dataset.from_dict({k: [v[i] for i in keep] for k, v in rows.items()})


def test_hf_sources_are_marked_by_their_prefix():
    assert is_hf_source("hf:openlanguagedata/flores_plus")
    assert not is_hf_source("/data/flores") and not is_hf_source(None)


def test_flores_plus_from_a_saved_copy_of_all_languages(tmp_path):
    splits = {s: datasets.Dataset.from_dict(flores_rows(s)) for s in ("dev", "devtest")}
    datasets.DatasetDict(splits).save_to_disk(str(tmp_path / "flores_plus"))
    corpus = load_flores(f"hf:{tmp_path / 'flores_plus'}", ["es", "en", "zh"], split="dev")
    assert corpus.name == "flores+/dev" and corpus.ids == ("dev.1", "dev.2", "dev.3")
    assert corpus.sentences("es") == ["Uno.", "Dos.", "Tres."]  # ordered by id, stripped
    assert corpus.sentences("zh") == ["一。", "二。", "三。"]  # zho_Hans is cmn_Hans in Flores+
    devtest = load_flores(f"hf:{tmp_path / 'flores_plus'}", ["en"], split="devtest")
    assert devtest.sentences("en") == ["One.!", "Two.!", "Three.!"]
    with pytest.raises(ValueError, match="no dev sentences of fra_Latn"):
        load_flores(f"hf:{tmp_path / 'flores_plus'}", ["fr"], split="dev")


def test_flores_plus_from_parquet_files_per_language(tmp_path):
    for code in ("spa_Latn", "eng_Latn"):
        part = one_language(flores_rows("dev"), code)
        (tmp_path / code / "dev").mkdir(parents=True)
        part.to_parquet(str(tmp_path / code / "dev" / "data.parquet"))
    corpus = load_flores(f"hf:{tmp_path}", ["en", "es"], split="dev")
    assert corpus.sentences("en") == ["One.", "Two.", "Three."]


def test_flores_plus_from_the_hub_asks_for_each_language_subset(monkeypatch):
    asked = []

    def fake_load_dataset(path, name=None, *, split):
        asked.append((path, name, split))
        return one_language(flores_rows(split), name)

    monkeypatch.setattr(datasets, "load_dataset", fake_load_dataset)
    corpus = load_flores(f"hf:{HUB_IDS['flores']}", ["es", "zh"], split="devtest")
    assert asked == [
        ("openlanguagedata/flores_plus", "spa_Latn", "devtest"),
        ("openlanguagedata/flores_plus", "cmn_Hans", "devtest"),
    ]
    assert corpus.sentences("es")[0] == "Uno.!"


def test_a_hub_failure_is_one_line_naming_what_to_check(monkeypatch):
    def unreachable(path, name=None, *, split):
        raise ConnectionError("Couldn't reach 'openlanguagedata/flores_plus' on the Hub\n(details)")

    monkeypatch.setattr(datasets, "load_dataset", unreachable)
    with pytest.raises(ValueError) as err:
        load_flores("hf:openlanguagedata/flores_plus", ["es"], split="dev")
    message = str(err.value)
    assert "\n" not in message and "HF_TOKEN" in message and "spa_Latn" in message
    with pytest.raises(FileNotFoundError, match="no such folder, and not a hub id"):
        load_flores("hf:/no/such/copy", ["es"], split="dev")


def test_pawsx_from_a_saved_copy_keeps_label1_pairs_once(tmp_path):
    test = datasets.Dataset.from_dict(
        {
            "id": [1, 2, 3, 4, 5],
            "sentence1": ["Der Hund bellt.", "Der Hund bellt.", "Katzen schlafen.", "", "Sonne."],
            "sentence2": ["Es bellt der Hund.", "Laut.", "Hunde schlafen.", "Leer.", "Sonnig."],
            "label": [1, 1, 0, 1, 1],
        }
    )
    datasets.DatasetDict({"test": test}).save_to_disk(str(tmp_path / "pawsx" / "de"))
    pairs = load_pawsx(f"hf:{tmp_path / 'pawsx'}", "de")
    assert pairs.ids == ("1", "5")
    assert pairs.queries == ("Der Hund bellt.", "Sonne.")
    assert pairs.candidates == ("Es bellt der Hund.", "Sonnig.")
    with pytest.raises(ValueError, match=r"has splits \['test'\], not 'validation'"):
        load_pawsx(f"hf:{tmp_path / 'pawsx'}", "de", split="dev")
    with pytest.raises(FileNotFoundError, match="neither a save_to_disk folder"):
        load_pawsx(f"hf:{tmp_path}", "fr")


def test_tatoeba_from_a_saved_copy_and_missing_columns(tmp_path):
    pair = datasets.Dataset.from_dict(
        {"sentence1": ["Ich bin müde.", "Es regnet."], "sentence2": ["I am tired.", "It rains."]}
    )
    datasets.DatasetDict({"test": pair}).save_to_disk(str(tmp_path / "tatoeba" / "deu-eng"))
    corpus = load_tatoeba(f"hf:{tmp_path / 'tatoeba'}", ["de"])["de"]
    assert corpus.name == "tatoeba/deu-eng" and corpus.languages == ["de", "en"]
    assert corpus.sentences("de") == ["Ich bin müde.", "Es regnet."]
    assert corpus.sentences("en") == ["I am tired.", "It rains."]
    bad = datasets.Dataset.from_dict({"source": ["x"], "target": ["y"]})
    bad.save_to_disk(str(tmp_path / "bad" / "fra-eng"))
    with pytest.raises(ValueError, match=r"Tatoeba fra-eng has no column\(s\) \['sentence1'"):
        load_tatoeba(f"hf:{tmp_path / 'bad'}", ["fr"])


def test_one_config_key_selects_the_hub_data(tiny_model_dir, tmp_path, monkeypatch):
    """The pipeline reads ``pawsx_dir: hf:...`` through the same loader."""
    from steerspace.pipeline import Pipeline

    test = datasets.Dataset.from_dict(
        {
            "id": [7, 8],
            "sentence1": ["Uno.", "Dos."],
            "sentence2": ["Un.", "Deux."],
            "label": [1, 1],
        }
    )
    datasets.DatasetDict({"test": test}).save_to_disk(str(tmp_path / "pawsx" / "es"))
    cfg = load_config(
        "gemma-3-270m",
        model=str(tiny_model_dir),
        dtype="float32",
        pawsx_dir=f"hf:{tmp_path / 'pawsx'}",
        cache_dir=str(tmp_path / "cache"),
    )
    pairs = Pipeline(cfg, progress=False).paraphrase_pairs("es")
    assert pairs.ids == ("7", "8") and pairs.candidates == ("Un.", "Deux.")

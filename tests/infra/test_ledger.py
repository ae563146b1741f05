"""The ledger of model work counts every token run, and exactly the repeated ones."""

from __future__ import annotations

import pytest
import torch

from steerspace.core.forward import embed, encode, record_activations
from steerspace.core.generation import generate_free
from steerspace.core.hooks import Intervention, find_modules
from steerspace.infra import ledger

REGEX = r"model\.layers\.\d+\.mlp\.down_proj"


def tokens_of(tokenizer, sentences):
    return sum(len(ids) for ids in encode(tokenizer, sentences, max_length=128))


def test_nothing_is_written_without_the_variable(
    model, tokenizer, sentences, tmp_path, monkeypatch
):
    monkeypatch.delenv(ledger.ENV_VAR, raising=False)
    monkeypatch.chdir(tmp_path)
    embed(model, tokenizer, sentences)
    assert list(tmp_path.iterdir()) == []


def test_repeated_work_is_the_same_sentences_under_the_same_condition(
    model, tokenizer, sentences, tmp_path, monkeypatch
):
    monkeypatch.setenv(ledger.ENV_VAR, str(tmp_path))
    first, overlap = sentences[:4], sentences[2:4]
    embed(model, tokenizer, first)
    # the same sentences again, pooled differently (a second pass over them: repeated)
    record_activations(model, tokenizer, overlap, find_modules(model, REGEX))
    # under an intervention the same sentences are new work
    iv = Intervention(
        units={"model.layers.0.mlp.down_proj": torch.tensor([0, 1])},
        values={"model.layers.0.mlp.down_proj": torch.tensor([1.0, 2.0])},
        label="t",
    )
    embed(model, tokenizer, overlap, intervention=iv)
    calls = ledger.read(tmp_path)
    assert list(calls["kind"]) == ["forward"] * 3
    assert list(calls["repeated_tokens"]) == [0, tokens_of(tokenizer, overlap), 0]
    assert calls["condition"].iloc[0] == "pre" != calls["condition"].iloc[2]
    total = ledger.summary(tmp_path)
    assert total["tokens"] == tokens_of(tokenizer, first) + 2 * tokens_of(tokenizer, overlap)
    assert total["minimum_tokens"] == total["tokens"] - tokens_of(tokenizer, overlap)
    assert total["repeated_share"] == pytest.approx(tokens_of(tokenizer, overlap) / total["tokens"])


def test_generation_is_recorded_per_sample(model, tokenizer, tmp_path, monkeypatch):
    monkeypatch.setenv(ledger.ENV_VAR, str(tmp_path))
    generate_free(model, tokenizer, n=3, max_new_tokens=4, seed=1, batch_size=2)
    generate_free(model, tokenizer, n=3, max_new_tokens=4, seed=1, batch_size=2)
    summary = ledger.summary(tmp_path)
    assert summary["by_kind"]["generate"]["tokens"] == 24
    assert summary["repeated_tokens"] == 12


def test_work_is_summed_per_chapter_with_squared_lengths(
    model, tokenizer, sentences, tmp_path, monkeypatch
):
    monkeypatch.setenv(ledger.ENV_VAR, str(tmp_path))
    monkeypatch.setenv(ledger.CHAPTER_VAR, "finding_experts")
    embed(model, tokenizer, sentences[:3])
    monkeypatch.setenv(ledger.CHAPTER_VAR, "choice_of_k")
    embed(model, tokenizer, sentences[3:4])
    monkeypatch.delenv(ledger.CHAPTER_VAR)
    embed(model, tokenizer, sentences[4:5])
    lengths = [len(ids) for ids in encode(tokenizer, sentences[:5], max_length=128)]
    by_chapter = ledger.summary(tmp_path)["by_chapter"]
    assert set(by_chapter) == {"finding_experts", "choice_of_k", ""}
    experts = by_chapter["finding_experts"]["forward"]
    assert experts["tokens"] == sum(lengths[:3])
    assert experts["tokens_squared"] == sum(n * n for n in lengths[:3])
    assert by_chapter["choice_of_k"]["forward"]["tokens"] == lengths[3]
    assert by_chapter[""]["forward"]["calls"] == 1
    # the same calls grouped any other way: per chapter and label
    per_label = ledger.totals(ledger.read(tmp_path), ["chapter", "label"])
    assert per_label["calls"].sum() == 3 and per_label["tokens"].sum() == sum(lengths)
    assert list(per_label.columns) == [*ledger.SUMS, "calls"]

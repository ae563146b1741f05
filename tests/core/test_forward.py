"""Batched embeddings equal one-at-a-time embeddings; BOS handling; intervention."""

from __future__ import annotations

import numpy as np
import pytest
import torch

from steerspace.core.forward import (
    embed,
    embed_layers,
    forward_pooled,
    pooling_mask,
    record_activations,
)
from steerspace.core.hooks import Intervention, find_modules

REGEX = r"model\.layers\.\d+\.mlp\.down_proj"


def test_batched_equals_single_sentence(model, tokenizer, sentences):
    batched = embed(model, tokenizer, sentences, batch_size=3)
    single = np.stack([embed(model, tokenizer, [s], batch_size=1)[0] for s in sentences])
    assert batched.shape == (len(sentences), 32)
    np.testing.assert_allclose(batched, single, atol=1e-5)


def test_mean_pooling_excludes_bos_and_padding(model, tokenizer):
    text = "abc"
    enc = tokenizer([text], return_tensors="pt")
    with torch.no_grad():
        hidden = model.base_model(**enc).last_hidden_state[0]
    expected = hidden[1:].mean(0).numpy()  # position 0 is BOS
    got = embed(model, tokenizer, [text, "a much longer sentence here"], batch_size=2)[0]
    np.testing.assert_allclose(got, expected, atol=1e-5)
    with_bos = embed(model, tokenizer, [text], include_bos=True)[0]
    np.testing.assert_allclose(with_bos, hidden.mean(0).numpy(), atol=1e-5)


def test_pooling_mask():
    ids = torch.tensor([[2, 5, 6, 0]])
    att = torch.tensor([[1, 1, 1, 0]])
    assert pooling_mask(ids, att, 2, False).tolist() == [[False, True, True, False]]
    assert pooling_mask(ids, att, 2, True).tolist() == [[True, True, True, False]]


def test_record_activations_shapes_and_order(model, tokenizer, sentences):
    mods = find_modules(model, REGEX)
    acts = record_activations(model, tokenizer, sentences, mods, batch_size=2)
    assert set(acts) == set(mods)
    assert all(a.shape == (len(sentences), 64) and a.dtype == np.float32 for a in acts.values())
    one = record_activations(model, tokenizer, sentences[3:4], mods, batch_size=1)
    for name in mods:
        np.testing.assert_allclose(acts[name][3], one[name][0], atol=1e-5)


def test_embedding_under_intervention_differs_and_model_is_restored(model, tokenizer, sentences):
    name = next(iter(find_modules(model, REGEX)))
    iv = Intervention({name: torch.tensor([1, 2])}, {name: torch.tensor([5.0, 5.0])}, label="x")
    pre = embed(model, tokenizer, sentences)
    post = embed(model, tokenizer, sentences, intervention=iv)
    again = embed(model, tokenizer, sentences)
    assert np.abs(pre - post).max() > 1e-3
    np.testing.assert_allclose(pre, again)


def test_empty_input_is_an_error(model, tokenizer):
    with pytest.raises(ValueError, match="no sentences"):
        forward_pooled(model, tokenizer, [])


def test_layer_embeddings_pool_every_layer(model, tokenizer, sentences):
    layers = embed_layers(model, tokenizer, sentences, batch_size=2)
    n_layers = model.config.num_hidden_layers
    assert layers.shape == (len(sentences), n_layers + 1, 32)
    # the last layer is the sentence embedding, batched or not
    np.testing.assert_allclose(layers[:, -1], embed(model, tokenizer, sentences), atol=1e-5)
    single = np.stack([embed_layers(model, tokenizer, [s])[0] for s in sentences])
    np.testing.assert_allclose(layers, single, atol=1e-5)
    # layer 0 is the embedding output, mean-pooled without BOS
    enc = tokenizer([sentences[0]], return_tensors="pt")
    with torch.no_grad():
        states = model.base_model(**enc, output_hidden_states=True).hidden_states
    np.testing.assert_allclose(layers[0, 0], states[0][0, 1:].mean(0).numpy(), atol=1e-5)
    np.testing.assert_allclose(layers[0, 1], states[1][0, 1:].mean(0).numpy(), atol=1e-5)
    assert not np.allclose(layers[:, 0], layers[:, 1])


def test_a_sentence_given_twice_runs_once_and_gets_its_row_back(
    model, tokenizer, sentences, tmp_path, monkeypatch
):
    from steerspace.infra import ledger

    monkeypatch.setenv(ledger.ENV_VAR, str(tmp_path))
    twice = [sentences[0], sentences[1], sentences[0]]
    out = forward_pooled(model, tokenizer, twice, layers=True, batch_size=2)
    alone = forward_pooled(model, tokenizer, sentences[:2], layers=True, batch_size=2)
    np.testing.assert_array_equal(out["hidden"][2], out["hidden"][0])
    np.testing.assert_allclose(out["layers"][:2], alone["layers"], atol=1e-6)
    assert list(ledger.read(tmp_path)["sentences"]) == [2, 2]  # each call ran two sentences

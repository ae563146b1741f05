"""A model sharded with accelerate (``device_map``) gives the same activations,
embeddings, interventions and generations as the model in one piece.

On a CPU-only machine the parts are CPU memory and disk: one block's weights are
offloaded to a folder and loaded by accelerate's hooks at every forward pass, which is
the machinery a multi-GPU ``device_map="auto"`` run uses to move activations between
parts.
"""

from __future__ import annotations

import numpy as np
import pytest
import torch
from helpers.tiny import save_tiny_model

from steerspace.config import load_config
from steerspace.core.forward import embed_layers, record_activations
from steerspace.core.generation import generate_free, perplexity
from steerspace.core.hooks import Intervention, find_modules
from steerspace.core.models import input_device, load_model

REGEX = r"model\.layers\.\d+\.mlp\.down_proj"
SHARDS = {
    "model.embed_tokens": "cpu",
    "model.rotary_emb": "cpu",
    "model.layers.0": "cpu",
    "model.layers.1": "disk",
    "model.layers.2": "cpu",
    "model.norm": "cpu",
    "lm_head": "cpu",
}


@pytest.fixture(scope="module")
def three_layer_dir(tmp_path_factory):
    return save_tiny_model(tmp_path_factory.mktemp("three-layers"), layers=3)


@pytest.fixture(scope="module")
def whole_and_sharded(three_layer_dir, tmp_path_factory):
    whole, tokenizer = load_model(str(three_layer_dir), dtype="float32")
    sharded, _ = load_model(
        str(three_layer_dir),
        dtype="float32",
        device_map=SHARDS,
        offload_folder=tmp_path_factory.mktemp("offload"),
    )
    return whole, sharded, tokenizer


def intervention() -> Intervention:
    units = {f"model.layers.{i}.mlp.down_proj": torch.tensor([1, 5, 7]) for i in range(3)}
    values = {name: torch.tensor([2.0, -1.0, 0.5]) for name in units}
    return Intervention(units=units, values=values, label="three-layers")


def test_the_model_is_really_in_parts(whole_and_sharded):
    _, sharded, _ = whole_and_sharded
    assert set(sharded.hf_device_map.values()) == {"cpu", "disk"}
    offloaded = sharded.model.layers[1].mlp.down_proj.weight
    assert offloaded.device.type == "meta"  # its weights live on disk between passes
    assert input_device(sharded) == torch.device("cpu")


def test_embeddings_and_interventions_match(whole_and_sharded, sentences):
    whole, sharded, tokenizer = whole_and_sharded
    for iv in (None, intervention()):
        a = embed_layers(whole, tokenizer, sentences, intervention=iv, batch_size=2)
        b = embed_layers(sharded, tokenizer, sentences, intervention=iv, batch_size=2)
        np.testing.assert_allclose(a, b, atol=1e-5)
    pre = embed_layers(sharded, tokenizer, sentences)
    post = embed_layers(sharded, tokenizer, sentences, intervention=intervention())
    assert np.abs(pre[:, -1] - post[:, -1]).max() > 1e-3  # the intervention acts


def test_recording_hooks_see_the_offloaded_block(whole_and_sharded, sentences):
    whole, sharded, tokenizer = whole_and_sharded
    a = record_activations(whole, tokenizer, sentences, find_modules(whole, REGEX))
    b = record_activations(sharded, tokenizer, sentences, find_modules(sharded, REGEX))
    assert set(a) == set(b) == {f"model.layers.{i}.mlp.down_proj" for i in range(3)}
    for name in a:
        np.testing.assert_allclose(a[name], b[name], atol=1e-5)


def test_generation_and_perplexity_match(whole_and_sharded, sentences):
    whole, sharded, tokenizer = whole_and_sharded
    iv = intervention()
    kwargs = {"n": 3, "max_new_tokens": 6, "seed": 4, "batch_size": 3, "intervention": iv}
    assert generate_free(whole, tokenizer, **kwargs) == generate_free(sharded, tokenizer, **kwargs)
    a = perplexity(whole, tokenizer, sentences, intervention=iv, window=16, stride=8)
    b = perplexity(sharded, tokenizer, sentences, intervention=iv, window=16, stride=8)
    assert a["log_ppl"] == pytest.approx(b["log_ppl"], abs=1e-5)


def test_config_takes_a_placement_and_refuses_others():
    assert load_config("aya-23-8b", device_map="auto").device_map == "auto"
    with pytest.raises(ValueError, match="device_map"):
        load_config("gemma-3-270m", device_map="everywhere")

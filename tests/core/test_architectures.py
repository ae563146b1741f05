"""Every stage that touches the model, on tiny random-weight models of the paper's
architectures: Bloom (Bloom-7B1), Cohere (Aya-23-8B) and GPT-2 (PolyLM-13B's
architecture), each with the module regex of its shipped config, and Llama, Qwen2,
Mistral and GPT-NeoX with the regex of their MLP's down projection.

Each model (hidden size 32, 2 layers, the character-level tokenizer of
``helpers.tiny``) is saved to a folder and loaded through the library as a user's model
would be: load, count the candidate units from the config alone, record pooled
activations, find experts and build the intervention, embed under it (batched equals
one at a time: right padding is exact), generate (greedy equals ``model.generate``: the
key-value cache is passed on correctly) and measure perplexity (one window equals the
model's own loss). A wrong regex fails in one line that names the real modules.
"""

from __future__ import annotations

import math
import re
from collections.abc import Callable
from pathlib import Path

import numpy as np
import pytest
import torch
from helpers.tiny import tiny_tokenizer
from transformers import (
    AutoModelForCausalLM,
    BloomConfig,
    CohereConfig,
    GPT2Config,
    GPTNeoXConfig,
    LlamaConfig,
    MistralConfig,
    PretrainedConfig,
    Qwen2Config,
)

from steerspace.config import load_config
from steerspace.core.experts import expert_table, make_intervention, top_k
from steerspace.core.forward import embed, record_activations
from steerspace.core.generation import generate_free, perplexity
from steerspace.core.hooks import find_modules, intervening
from steerspace.core.models import count_units, load_model, model_config

HIDDEN, LAYERS, MLP = 32, 2, 64
IDS = {"pad_token_id": 0, "eos_token_id": 1, "bos_token_id": 2}
DOWN_PROJ = r"model\.layers\.\d+\.mlp\.down_proj"
LLAMA_LIKE = {
    "hidden_size": HIDDEN,
    "intermediate_size": MLP,
    "num_hidden_layers": LAYERS,
    "num_attention_heads": 2,
    "num_key_value_heads": 1,
    "max_position_embeddings": 256,
}


def _shipped(name: str) -> str:
    """The module regex of a shipped config."""
    return load_config(name).modules


#: architecture -> (its config for a vocabulary size, module regex, units per module)
ARCHITECTURES: dict[str, tuple[Callable[[int], PretrainedConfig], str, int]] = {
    "bloom": (
        lambda v: BloomConfig(vocab_size=v, hidden_size=HIDDEN, n_layer=LAYERS, n_head=2, **IDS),
        _shipped("bloom-7b1"),
        4 * HIDDEN,  # Bloom's MLP is 4 x hidden
    ),
    "cohere": (
        lambda v: CohereConfig(vocab_size=v, **LLAMA_LIKE, **IDS),
        _shipped("aya-23-8b"),
        MLP,
    ),
    "gpt2-polylm": (
        lambda v: GPT2Config(
            vocab_size=v,
            n_embd=HIDDEN,
            n_layer=LAYERS,
            n_head=2,
            n_inner=MLP,
            n_positions=256,
            **IDS,
        ),  # fmt: skip
        _shipped("polylm-13b"),
        MLP,
    ),
    "llama": (lambda v: LlamaConfig(vocab_size=v, **LLAMA_LIKE, **IDS), DOWN_PROJ, MLP),
    "qwen2": (lambda v: Qwen2Config(vocab_size=v, **LLAMA_LIKE, **IDS), DOWN_PROJ, MLP),
    "mistral": (
        lambda v: MistralConfig(vocab_size=v, sliding_window=64, **LLAMA_LIKE, **IDS),
        DOWN_PROJ,
        MLP,
    ),
    "gpt-neox": (
        lambda v: GPTNeoXConfig(
            vocab_size=v,
            hidden_size=HIDDEN,
            intermediate_size=MLP,
            num_hidden_layers=LAYERS,
            num_attention_heads=2,
            max_position_embeddings=256,
            **IDS,
        ),  # fmt: skip
        r"gpt_neox\.layers\.\d+\.mlp\.dense_4h_to_h",
        MLP,
    ),
}

POSITIVE = [
    "In the beginning was the word.",
    "And the word was with God.",
    "The light shines in the darkness.",
    "ok",
]
NEGATIVE = [
    "Au commencement était la parole.",
    "Im Anfang war das Wort.",
    "En el principio era el verbo, y el verbo era con Dios.",
    "Et la lumière luit dans les ténèbres.",
]
TEXT = "In the beginning was the word, and the word was with God, and the word was God."


def test_the_paper_configs_use_the_regexes_tested_here():
    # the tiny models stand for the shipped configs only while the regexes agree
    assert _shipped("bloom-7b1") == r"transformer\.h\.\d+\.mlp\.dense_4h_to_h"
    assert _shipped("aya-23-8b") == DOWN_PROJ
    assert _shipped("polylm-13b") == r"transformer\.h\.\d+\.mlp\.c_proj"


@pytest.fixture(scope="module", params=sorted(ARCHITECTURES))
def arch(request, tmp_path_factory) -> tuple[str, Path]:
    """``(name, folder)``: a tiny random model of the architecture, saved with the
    character-level tokenizer."""
    name = request.param
    tokenizer = tiny_tokenizer()
    torch.manual_seed(0)
    model = AutoModelForCausalLM.from_config(ARCHITECTURES[name][0](len(tokenizer)))
    folder = tmp_path_factory.mktemp(f"tiny-{name}")
    model.save_pretrained(folder)
    tokenizer.save_pretrained(folder)
    return name, folder


@pytest.fixture(scope="module")
def loaded(arch):
    """The saved model loaded through the library, its regex and the modules it finds."""
    name, folder = arch
    model, tokenizer = load_model(str(folder), dtype="float32")
    regex = ARCHITECTURES[name][1]
    return model, tokenizer, regex, find_modules(model, regex)


@pytest.fixture(scope="module")
def intervention(loaded):
    """Top-5 experts of the positive sentences against the negatives, set to a large
    value (the tiny random models barely react to their experts' own means)."""
    model, tokenizer, _, modules = loaded
    pos = record_activations(model, tokenizer, POSITIVE, modules, batch_size=3)
    neg = record_activations(model, tokenizer, NEGATIVE, modules, batch_size=3)
    experts = top_k(expert_table(pos, neg, target="en"), 5)
    return make_intervention(experts, label="en-top5", values=[25.0] * len(experts))


def test_load_and_count_units_from_the_config(arch, loaded):
    name, folder = arch
    model, tokenizer, regex, modules = loaded
    assert not model.training and model.dtype == torch.float32
    assert tokenizer.pad_token_id == 0
    per_module = ARCHITECTURES[name][2]
    assert list(modules) == [re.sub(r"\\\.", ".", regex).replace(r"\d+", str(i)) for i in range(2)]
    # the preflight's k check: units counted on the meta device, from the config alone
    assert count_units(model_config(str(folder)), regex, "input") == LAYERS * per_module


def test_activations_and_experts(arch, loaded, intervention):
    name, _ = arch
    model, tokenizer, _, modules = loaded
    per_module = ARCHITECTURES[name][2]
    acts = record_activations(
        model, tokenizer, POSITIVE, modules, pooling=("mean", "max"), batch_size=2
    )
    assert len(acts) == 2 * len(modules)
    assert all(a.shape == (len(POSITIVE), per_module) for a in acts.values())
    one = record_activations(model, tokenizer, POSITIVE[2:3], modules, batch_size=1)
    for module in modules:  # batched with padding equals alone
        np.testing.assert_allclose(acts[f"mean:{module}"][2], one[module][0], atol=1e-5)
    pos = record_activations(model, tokenizer, POSITIVE, modules)
    neg = record_activations(model, tokenizer, NEGATIVE, modules)
    table = expert_table(pos, neg, target="en")
    assert len(table) == LAYERS * per_module and set(table["module"]) == set(modules)
    assert intervention.size == 5 and set(intervention.units) <= set(modules)


def test_intervene_and_embed(loaded, intervention):
    model, tokenizer, _, _ = loaded
    sentences = POSITIVE + NEGATIVE
    pre = embed(model, tokenizer, sentences, batch_size=3)
    assert pre.shape == (len(sentences), HIDDEN) and np.isfinite(pre).all()
    single = np.stack([embed(model, tokenizer, [s], batch_size=1)[0] for s in sentences])
    np.testing.assert_allclose(pre, single, atol=1e-5)
    post = embed(model, tokenizer, sentences, intervention=intervention, batch_size=3)
    assert not np.allclose(pre, post, atol=1e-4)
    with intervening(model, intervention):
        inside = embed(model, tokenizer, sentences, batch_size=3)
    np.testing.assert_allclose(inside, post, atol=1e-5)
    np.testing.assert_allclose(embed(model, tokenizer, sentences, batch_size=3), pre, atol=1e-6)


def test_generate(loaded, intervention):
    model, tokenizer, _, _ = loaded
    kw = {"n": 3, "max_new_tokens": 6, "batch_size": 2, "seed": 1}
    texts = generate_free(model, tokenizer, **kw)
    assert len(texts) == 3 and all(isinstance(t, str) for t in texts)
    assert generate_free(model, tokenizer, **kw) == texts
    steered = generate_free(model, tokenizer, intervention=intervention, **kw)
    assert len(steered) == 3 and generate_free(model, tokenizer, **kw) == texts
    # greedy (top-1) through the library's key-value-cache loop equals model.generate
    greedy = generate_free(model, tokenizer, n=2, max_new_tokens=6, top_k=1, batch_size=2)
    start = torch.full((2, 1), tokenizer.bos_token_id)
    with torch.no_grad():
        ids = model.generate(
            start, attention_mask=torch.ones_like(start), do_sample=False, max_new_tokens=6,
            pad_token_id=tokenizer.pad_token_id,
        )  # fmt: skip
    reference = [t.strip() for t in tokenizer.batch_decode(ids[:, 1:], skip_special_tokens=True)]
    assert greedy == reference


def test_perplexity(loaded, intervention):
    model, tokenizer, _, _ = loaded
    ids = tokenizer(TEXT, return_tensors="pt")["input_ids"]
    with torch.no_grad():
        expected = float(model(ids, labels=ids).loss)
    result = perplexity(model, tokenizer, [TEXT], window=128, stride=64)
    assert result["n_tokens"] == ids.shape[1] - 1
    assert result["log_ppl"] == pytest.approx(expected, rel=1e-5)
    strided = perplexity(model, tokenizer, [TEXT, TEXT], window=32, stride=16, batch_size=2)
    joined = tokenizer(f"{TEXT}\n{TEXT}")["input_ids"]  # every token after the first, once
    assert math.isfinite(strided["log_ppl"]) and strided["n_tokens"] == len(joined) - 1
    steered = perplexity(model, tokenizer, [TEXT], window=128, stride=64, intervention=intervention)
    assert steered["log_ppl"] != pytest.approx(result["log_ppl"], rel=1e-4)


def test_perplexity_rebuilds_every_architectures_head_to_the_last_bit(loaded, monkeypatch):
    # perplexity runs the LM head a block of positions at a time (the logits of a 262k
    # vocabulary would not fit 2 GB otherwise): for every architecture the head is
    # rebuilt exactly, and the NLLs are those of the model's whole logits
    from steerspace.core import generation

    model, tokenizer, _, _ = loaded
    ids = tokenizer(TEXT, return_tensors="pt")["input_ids"]
    assert generation.logits_head(model, ids[:, :8]) is not None
    blocked = perplexity(model, tokenizer, [TEXT, TEXT], window=48, stride=24, batch_size=2)
    monkeypatch.setattr(generation, "logits_head", lambda model, probe: None)
    whole = perplexity(model, tokenizer, [TEXT, TEXT], window=48, stride=24, batch_size=2)
    assert blocked["n_tokens"] == whole["n_tokens"]
    np.testing.assert_allclose(blocked["token_nll"], whole["token_nll"], rtol=0, atol=2e-5)


def test_a_wrong_regex_fails_in_one_line_naming_real_modules(arch, loaded):
    _, folder = arch
    model = loaded[0]
    real = [n for n, _ in model.named_modules() if n][:3]
    for find in (
        lambda regex: find_modules(model, regex),
        lambda regex: count_units(model_config(str(folder)), regex, "input"),
    ):
        with pytest.raises(ValueError) as err:
            find(r"layers\.\d+\.mlp\.no_such_proj")
        message = str(err.value)
        assert "\n" not in message and "matches no module" in message
        assert all(repr(name) in message for name in real), message

"""Free generation, language ID and strided perplexity (the choice of k, App. B)."""

from __future__ import annotations

import math

import langid
import numpy as np
import pytest
import torch

from steerspace.core.generation import (
    generate_free,
    langid_accuracy,
    language_ids,
    perplexity,
    sample_next,
)
from steerspace.core.hooks import Intervention, find_modules

REGEX = r"model\.layers\.\d+\.mlp\.down_proj"

SENTENCES = {
    "en": "The quick brown fox jumps over the lazy dog and runs away into the forest.",
    "fr": "Le renard brun rapide saute par-dessus le chien paresseux et s'enfuit dans la forêt.",
    "de": "Der schnelle braune Fuchs springt über den faulen Hund und läuft in den Wald.",
    "es": "El rápido zorro marrón salta sobre el perro perezoso y se escapa hacia el bosque.",
    "ja": "今日はとても良い天気なので、私たちは公園へ散歩に行きました。",
}


def _strong(model) -> Intervention:
    """Set every MLP unit of both layers to a large value: changes the model a lot."""
    mods = find_modules(model, REGEX)
    return Intervention(
        units={name: torch.arange(64) for name in mods},
        values={name: torch.full((64,), 8.0) for name in mods},
        label="strong",
    )


def _hooks(model) -> dict[str, tuple]:
    """Every module's hook ids. transformers may keep its own output-capturing hooks
    on a model (after an ``output_hidden_states`` call), so tests compare hook sets
    before and after instead of expecting none."""
    return {
        name: (tuple(m._forward_pre_hooks), tuple(m._forward_hooks))
        for name, m in model.named_modules()
    }


# --- generate_free ---------------------------------------------------------------------


def test_generate_free_is_seeded_and_batched(model, tokenizer):
    state = torch.get_rng_state()
    a = generate_free(model, tokenizer, n=5, max_new_tokens=8, batch_size=2, seed=3)
    assert torch.equal(state, torch.get_rng_state())  # the global RNG is left alone
    assert len(a) == 5 and all(isinstance(t, str) for t in a)
    assert a == generate_free(model, tokenizer, n=5, max_new_tokens=8, batch_size=2, seed=3)
    assert a != generate_free(model, tokenizer, n=5, max_new_tokens=8, batch_size=2, seed=4)
    assert "<bos>" not in "".join(a) and all(t == t.strip() for t in a)


def test_generate_free_under_intervention(model, tokenizer):
    kw = {"n": 4, "max_new_tokens": 8, "seed": 0}
    plain = generate_free(model, tokenizer, **kw)
    before = _hooks(model)
    steered = generate_free(model, tokenizer, intervention=_strong(model), **kw)
    assert steered != plain
    assert _hooks(model) == before
    assert generate_free(model, tokenizer, **kw) == plain


@pytest.mark.parametrize(
    ("temperature", "top_k", "top_p"), [(1.0, 50, 0.9), (0.7, 8, 0.5), (1.3, 5, 1.0)]
)
def test_sampler_draws_from_hugging_faces_distribution(temperature, top_k, top_p):
    from transformers.generation.logits_process import (
        TemperatureLogitsWarper,
        TopKLogitsWarper,
        TopPLogitsWarper,
    )

    logits = torch.randn(3, 300, generator=torch.Generator().manual_seed(0)) * 3
    warped = TemperatureLogitsWarper(temperature)(None, logits.clone())
    warped = TopKLogitsWarper(top_k)(None, warped)
    if top_p < 1.0:
        warped = TopPLogitsWarper(top_p)(None, warped)
    expected = warped.softmax(dim=-1)
    counts = torch.zeros_like(expected)
    generator = torch.Generator().manual_seed(1)
    draws = 20_000
    for _ in range(draws // 500):
        batch = logits.repeat_interleave(500, dim=0)
        ids = sample_next(
            batch, temperature=temperature, top_k=top_k, top_p=top_p, generator=generator
        )
        counts.index_put_(
            (torch.arange(3).repeat_interleave(500), ids), torch.ones(1500), accumulate=True
        )
    observed = counts / draws
    # the same support, and frequencies within sampling noise of the probabilities
    assert not (observed[expected == 0] > 0).any()
    assert (observed - expected).abs().max() < 0.015


def test_generation_stops_a_sample_at_eos(model, tokenizer, monkeypatch):
    import steerspace.core.generation as generation

    eos = tokenizer.eos_token_id
    calls = {"n": 0}

    def always_eos_after_two(logits, **kw):
        calls["n"] += 1
        ids = torch.full((logits.shape[0],), 40, dtype=torch.long)
        return ids if calls["n"] <= 2 else torch.full_like(ids, eos)

    monkeypatch.setattr(generation, "sample_next", always_eos_after_two)
    texts = generate_free(model, tokenizer, n=2, max_new_tokens=10, batch_size=2)
    assert calls["n"] == 3  # the batch stopped at its end of sequence
    assert texts == [tokenizer.decode([40, 40])] * 2


@pytest.mark.parametrize(
    ("kw", "match"),
    [
        ({"n": 0}, "n must be"),
        ({"n": 2, "top_k": 0}, "top_k must be"),
        ({"n": 2, "top_p": 0.0}, "top_p must be in"),
        ({"n": 2, "top_p": 1.5}, "top_p must be in"),
        ({"n": 2, "temperature": 0.0}, "temperature must be > 0"),
    ],
)
def test_generate_free_errors(model, tokenizer, kw, match):
    with pytest.raises(ValueError, match=match):
        generate_free(model, tokenizer, **kw)


# --- language ID --------------------------------------------------------------------------


def test_language_ids_on_known_sentences():
    codes = list(SENTENCES)
    assert language_ids(list(SENTENCES.values())) == codes
    assert language_ids(["", "   "]) == ["", ""]
    texts = [SENTENCES["es"], SENTENCES["es"], SENTENCES["fr"], ""]
    assert langid_accuracy(texts, "es") == 0.5


def test_language_ids_restricted_set_leaves_langid_alone():
    before = langid.classify("Buongiorno a tutti, come state oggi?")
    assert before[0] == "it"
    # restricted to es/fr, an Italian sentence must fall into one of them
    assert language_ids(["Buongiorno a tutti, come state oggi?"], languages=["es", "fr"])[0] in {
        "es",
        "fr",
    }
    assert language_ids([SENTENCES["de"]], languages=["de", "en"]) == ["de"]
    assert langid.classify("Buongiorno a tutti, come state oggi?") == before  # global untouched
    assert language_ids(["Buongiorno a tutti, come state oggi?"]) == ["it"]
    with pytest.raises(ValueError, match="languages must be"):
        language_ids(["x"], languages=["xx"])
    with pytest.raises(ValueError, match="target must be one of"):
        langid_accuracy([SENTENCES["en"]], "ja", languages=["en", "fr"])
    with pytest.raises(ValueError, match="texts must be"):
        langid_accuracy([], "en")


# --- perplexity -------------------------------------------------------------------------------


TEXTS = [
    "In the beginning God created the heaven and the earth.",
    "And the earth was without form, and void.",
    "And God said, Let there be light: and there was light.",
]


def _reference(model, ids: torch.Tensor, window: int, stride: int) -> tuple[float, int]:
    """The Hugging Face strided loop, one window at a time with ``labels``."""
    nll, count, prev_end = 0.0, 0, 0
    for begin in range(0, len(ids), stride):
        end = min(begin + window, len(ids))
        trg_len = end - prev_end
        input_ids = ids[begin:end][None]
        target = input_ids.clone()
        target[:, :-trg_len] = -100
        with torch.no_grad():
            loss = model(input_ids, labels=target).loss
        n = int((target[:, 1:] != -100).sum())
        nll += float(loss) * n
        count += n
        prev_end = end
        if end == len(ids):
            break
    return nll / count, count


def test_perplexity_one_window_equals_plain_loss(model, tokenizer):
    text = TEXTS[0]
    ids = tokenizer(text, return_tensors="pt")["input_ids"]
    with torch.no_grad():
        expected = float(model(ids, labels=ids).loss)
    result = perplexity(model, tokenizer, [text], window=128, stride=64)
    assert result["n_tokens"] == ids.shape[1] - 1
    assert result["log_ppl"] == pytest.approx(expected, rel=1e-5)
    assert result["ppl"] == pytest.approx(math.exp(result["log_ppl"]))
    # the per-token NLLs are the plain per-token losses, in text order
    with torch.no_grad():
        logits = model(ids).logits[0, :-1]
    per_token = torch.nn.functional.cross_entropy(logits.float(), ids[0, 1:], reduction="none")
    np.testing.assert_allclose(result["token_nll"], per_token.numpy(), atol=1e-4)


@pytest.mark.parametrize(("window", "stride", "batch_size"), [(16, 8, 3), (20, 7, 8), (12, 12, 2)])
def test_perplexity_strided_equals_loop(model, tokenizer, window, stride, batch_size):
    ids = tokenizer("\n".join(TEXTS), return_tensors="pt")["input_ids"][0]
    expected, count = _reference(model, ids, window, stride)
    result = perplexity(
        model, tokenizer, TEXTS, window=window, stride=stride, batch_size=batch_size
    )
    assert result["n_tokens"] == count
    n_windows = math.ceil((len(ids) - window) / stride) + 1
    assert count == len(ids) - 1 - (n_windows - 1 if stride == window else 0)
    assert result["log_ppl"] == pytest.approx(expected, rel=1e-5)


def test_token_nll_in_row_chunks_equals_one_call():
    # perplexity's cross-entropy goes NLL_ROWS positions at a time, to keep the
    # log-softmax copy of a 262k vocabulary small: the same values, in the same order
    from steerspace.core.generation import NLL_ROWS, _token_nll

    generator = torch.Generator().manual_seed(0)
    logits = torch.randn(2, 2 * NLL_ROWS + 5, 50, generator=generator) * 3
    targets = torch.randint(0, 50, logits.shape[:2], generator=generator)
    whole = torch.nn.functional.cross_entropy(
        logits.reshape(-1, 50), targets.reshape(-1), reduction="none"
    )
    assert torch.equal(_token_nll(logits, targets), whole)
    assert torch.equal(
        _token_nll(logits.bfloat16(), targets),
        torch.nn.functional.cross_entropy(
            logits.bfloat16().float().reshape(-1, 50), targets.reshape(-1), reduction="none"
        ),
    )


@pytest.mark.parametrize(
    ("n", "blocks"), [(1, [(0, 1)]), (64, [(0, 64)]), (130, [(0, 64), (64, 130)])]
)
def test_row_blocks_cover_every_row_once_without_a_short_last_block(n, blocks):
    from steerspace.core.generation import row_blocks

    assert [(b.start, b.stop) for b in row_blocks(n)] == blocks


def test_a_head_that_cannot_be_rebuilt_falls_back_to_the_models_logits(
    model, tokenizer, monkeypatch
):
    from steerspace.core.generation import logits_head

    ids = tokenizer(TEXTS[0], return_tensors="pt")["input_ids"][:, :8]
    assert logits_head(model, ids) is not None
    # Cohere's scaling, which the rebuilt head applies but Gemma-3's forward does not
    monkeypatch.setattr(model.config, "logit_scale", 2.0, raising=False)
    assert logits_head(model, ids) is None
    whole = perplexity(model, tokenizer, TEXTS, window=32, stride=16)
    monkeypatch.undo()
    assert perplexity(model, tokenizer, TEXTS, window=32, stride=16) == whole


def test_perplexity_under_intervention(model, tokenizer):
    plain = perplexity(model, tokenizer, TEXTS, window=32, stride=16)
    before = _hooks(model)
    steered = perplexity(model, tokenizer, TEXTS, window=32, stride=16, intervention=_strong(model))
    assert steered["log_ppl"] != pytest.approx(plain["log_ppl"])
    assert steered["ppl"] == pytest.approx(math.exp(steered["log_ppl"]))
    assert _hooks(model) == before


def test_perplexity_errors(model, tokenizer):
    with pytest.raises(ValueError, match="texts must be"):
        perplexity(model, tokenizer, [], window=32, stride=16)
    with pytest.raises(ValueError, match="stride must be in"):
        perplexity(model, tokenizer, TEXTS, window=16, stride=32)
    with pytest.raises(ValueError, match="window must be <= max_position_embeddings"):
        perplexity(model, tokenizer, TEXTS, window=512, stride=256)

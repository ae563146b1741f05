"""The tied embedding kept as Q8_0 blocks (steerspace.core.q8_embedding): the same input
embeddings and hidden states as the float model, bit for bit, and logits within float32
rounding, with no float copy of the vocabulary matrix left in the model."""

from __future__ import annotations

import pytest
import torch
from transformers import AutoModelForCausalLM

from steerspace.core import q8_embedding
from steerspace.core.q8_embedding import Q8Embedding, Q8Head, q8_blocks, store_embedding_q8
from tests.helpers.tiny import tiny_model, tiny_tokenizer

#: Logits of the Q8_0 head against the float head: the same products, summed by the BLAS
#: in blocks of vocabulary rows instead of all at once (AVX2 MKL: up to 1.5e-5 at the
#: embedded model's logits of size 10-30; the pipeline's batching tolerance is 2e-4).
LOGIT_TOLERANCE = 1e-5


def q8_weights(shape: tuple[int, int], seed: int = 0) -> torch.Tensor:
    """Float32 weights that are Q8_0 blocks, as a GGUF's: float16 scales times int8 codes,
    each block's largest code ±127 (what the quantiser gives its largest weight)."""
    g = torch.Generator().manual_seed(seed)
    codes = torch.randint(-126, 127, shape, generator=g).view(shape[0], -1, 32)
    codes[..., 0] = 127 * torch.where(torch.rand(codes.shape[:2], generator=g) < 0.5, -1, 1)
    scales = (torch.rand(codes.shape[:2], generator=g) * 0.01 + 1e-4).half().float()
    return (codes.float() * scales[..., None]).reshape(shape)


@pytest.fixture
def saved_model(tmp_path):
    """A tiny Gemma-3 whose tied embedding is Q8_0 blocks, saved as safetensors."""
    tokenizer = tiny_tokenizer()
    model = tiny_model(len(tokenizer), layers=2)
    with torch.no_grad():
        model.get_input_embeddings().weight.copy_(
            q8_weights(tuple(model.get_input_embeddings().weight.shape))
        )
    model.save_pretrained(tmp_path)
    return tmp_path, tokenizer


def loaded(folder, dtype=torch.float32):
    return AutoModelForCausalLM.from_pretrained(folder, dtype=dtype).eval()


def test_q8_blocks_give_back_every_weight_and_refuse_other_weights():
    weights = q8_weights((64, 96), seed=3)
    codes, scales = q8_blocks(weights)
    assert codes.dtype == torch.int8 and scales.shape == (64, 3)
    assert torch.equal((codes.view(64, 3, 32).float() * scales[..., None]).view(64, 96), weights)
    with pytest.raises(ValueError, match="not Q8_0 blocks"):
        q8_blocks(torch.randn(64, 96))
    with pytest.raises(ValueError, match="multiple of 32"):
        q8_blocks(torch.zeros(4, 40))


def test_the_q8_model_embeds_and_runs_its_backbone_bit_for_bit(saved_model, monkeypatch):
    folder, tokenizer = saved_model
    monkeypatch.setattr(q8_embedding, "HEAD_ROWS", 16)  # several head blocks, the last partial
    reference, model = loaded(folder), loaded(folder)
    store_embedding_q8(model, folder / "model.safetensors", rows_per_read=20)
    assert isinstance(model.get_input_embeddings(), Q8Embedding)
    assert isinstance(model.get_output_embeddings(), Q8Head)
    vocab = len(tokenizer)
    assert model.get_output_embeddings().out_features == vocab
    # no float copy of the vocabulary matrix is left: the int8 codes stand for it
    assert all(p.shape[0] != vocab for p in model.parameters())
    batch = tokenizer(
        ["hola mundo", "the quick brown fox jumps"], return_tensors="pt", padding=True
    )
    with torch.no_grad():
        ids = batch["input_ids"]
        assert torch.equal(model.get_input_embeddings()(ids), reference.get_input_embeddings()(ids))
        ours, theirs = model(**batch), reference(**batch)
        hidden = model.base_model(**batch).last_hidden_state
        assert torch.equal(hidden, reference.base_model(**batch).last_hidden_state)
    assert ours.logits.shape == theirs.logits.shape == (*ids.shape, vocab)
    torch.testing.assert_close(ours.logits, theirs.logits, rtol=0, atol=LOGIT_TOLERANCE)
    assert not torch.equal(ours.logits, torch.zeros_like(ours.logits))


def test_in_bfloat16_the_rows_are_the_float_rows_rounded_once(saved_model):
    folder, tokenizer = saved_model
    reference, model = loaded(folder, torch.bfloat16), loaded(folder, torch.bfloat16)
    store_embedding_q8(model, folder / "model.safetensors")
    ids = tokenizer(["bonjour"], return_tensors="pt")["input_ids"]
    embedded = model.get_input_embeddings()(ids)
    assert embedded.dtype == torch.bfloat16
    assert torch.equal(embedded, reference.get_input_embeddings()(ids))


def test_an_untied_head_or_a_float_embedding_is_refused(saved_model, tmp_path):
    folder, _ = saved_model
    model = loaded(folder)
    model.lm_head.weight = torch.nn.Parameter(model.lm_head.weight.detach().clone())
    with pytest.raises(ValueError, match="tied"):
        store_embedding_q8(model, folder / "model.safetensors")
    other = tiny_model(len(tiny_tokenizer()), seed=1)  # random float embedding
    other.save_pretrained(tmp_path / "float")
    with pytest.raises(ValueError, match="not Q8_0 blocks"):
        store_embedding_q8(loaded(tmp_path / "float"), tmp_path / "float" / "model.safetensors")


def test_q8_storage_is_for_the_embedded_model_only(saved_model):
    from steerspace.config import Config, _validate
    from steerspace.core.models import load_model

    folder, _ = saved_model
    with pytest.raises(ValueError, match="embedded model only"):
        _validate(Config(model=str(folder), embedding_storage="q8_0"))
    with pytest.raises(ValueError, match="must be one of"):
        _validate(Config(embedding_storage="int4"))
    with pytest.raises(ValueError, match="only"):  # before any loading
        load_model(str(folder), embedding_storage="q8_0")

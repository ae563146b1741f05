"""Tiny random-weight models and tokenizers built in code, for tests and smoke runs.

Nothing here downloads anything: the tokenizer is a character-level ``tokenizers``
model and the model a Gemma-3-style config with 2 layers, so a forward pass takes
milliseconds. ``steerspace book --config tiny`` uses it to smoke-test every chapter.
"""

from __future__ import annotations

from pathlib import Path

import torch
from tokenizers import Tokenizer, models, pre_tokenizers, processors
from transformers import Gemma3ForCausalLM, Gemma3TextConfig, PreTrainedTokenizerFast

SPECIALS = ["<pad>", "<eos>", "<bos>", "<unk>"]  # ids 0..3, as in Gemma


def tiny_tokenizer(alphabet: str | None = None) -> PreTrainedTokenizerFast:
    """A character-level tokenizer that prepends BOS (id 2) and pads with id 0."""
    chars = alphabet or (
        "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789 .,;:!?'\"-()"
        "àâçéèêëîïôûùüÿñáíóúäößœ"
    )
    vocab = {tok: i for i, tok in enumerate(SPECIALS)}
    for ch in dict.fromkeys(chars):
        vocab.setdefault(ch, len(vocab))
    tok = Tokenizer(models.WordLevel(vocab=vocab, unk_token="<unk>"))
    tok.pre_tokenizer = pre_tokenizers.Split("", behavior="isolated")
    tok.post_processor = processors.TemplateProcessing(
        single="<bos> $A", pair="<bos> $A $B", special_tokens=[("<bos>", 2)]
    )
    return PreTrainedTokenizerFast(
        tokenizer_object=tok,
        pad_token="<pad>",
        eos_token="<eos>",
        bos_token="<bos>",
        unk_token="<unk>",
    )


def tiny_model(vocab_size: int, *, seed: int = 0, layers: int = 2) -> Gemma3ForCausalLM:
    """A Gemma-3-style causal LM with random weights: hidden 32, MLP 64, ``layers`` layers."""
    torch.manual_seed(seed)
    config = Gemma3TextConfig(
        vocab_size=vocab_size,
        hidden_size=32,
        intermediate_size=64,
        num_hidden_layers=layers,
        num_attention_heads=2,
        num_key_value_heads=1,
        head_dim=16,
        max_position_embeddings=256,
        sliding_window=64,
        pad_token_id=0,
        eos_token_id=1,
        bos_token_id=2,
        layer_types=["sliding_attention"] * (layers - 1) + ["full_attention"],
    )
    return Gemma3ForCausalLM(config).eval()


def save_tiny_model(directory: str | Path, *, seed: int = 0, layers: int = 2) -> Path:
    """Write a tiny model + tokenizer to ``directory`` (a local HF model dir)."""
    directory = Path(directory)
    tokenizer = tiny_tokenizer()
    model = tiny_model(len(tokenizer), seed=seed, layers=layers)
    model.save_pretrained(directory)
    tokenizer.save_pretrained(directory)
    return directory

"""Model loading from a local directory; device and dtype checks fail early."""

from __future__ import annotations

import pytest
import torch

from steerspace.core.models import check_device, load_model


def test_load_local_dir(tiny_model_dir):
    model, tokenizer = load_model(str(tiny_model_dir))
    assert not model.training and model.dtype == torch.float32
    assert tokenizer.pad_token_id == 0 and tokenizer("ab")["input_ids"][0] == 2


def test_load_bfloat16(tiny_model_dir):
    model, _ = load_model(str(tiny_model_dir), dtype="bfloat16")
    assert model.dtype == torch.bfloat16


@pytest.mark.skipif(torch.cuda.is_available(), reason="this machine has a GPU")
def test_cuda_without_gpu_is_a_clear_error(tiny_model_dir):
    with pytest.raises(ValueError, match="no CUDA GPU is available; use device='cpu'"):
        load_model(str(tiny_model_dir), device="cuda")


def test_bad_device_and_dtype():
    with pytest.raises(ValueError, match="not a torch device"):
        check_device("gpu0")
    with pytest.raises(ValueError, match="dtype must be one of"):
        load_model("whatever", dtype="int4")


def test_loading_a_model_fixes_the_heap_threshold_so_freed_activations_are_returned(
    tiny_model_dir, libc
):
    from steerspace.core import memory

    load_model(str(tiny_model_dir))
    assert libc.calls == [("mallopt", -3, memory.MMAP_THRESHOLD_BYTES)]  # M_MMAP_THRESHOLD


def test_the_tokenizers_build_copies_are_dropped_and_encoding_is_unchanged():
    from transformers import GemmaTokenizer

    from steerspace.core.models import BUILD_COPIES, drop_build_copies

    specials = ["<pad>", "<eos>", "<bos>", "<unk>", "<mask>"]
    chars = list("abcdefghijklmnopqrstuvwxyz▁")
    vocab = {t: i for i, t in enumerate(specials + chars + ["ab", "abc", "▁a"])}
    tokenizer = GemmaTokenizer(vocab=vocab, merges=[("a", "b"), ("ab", "c"), ("▁", "a")])
    assert all(name in vars(tokenizer) for name in BUILD_COPIES)  # what transformers keeps
    texts = ["abc cab", "a bc", "zzz"]
    before = tokenizer(texts)["input_ids"]
    assert drop_build_copies(tokenizer) is tokenizer
    assert not any(name in vars(tokenizer) for name in BUILD_COPIES)
    assert tokenizer(texts)["input_ids"] == before
    assert tokenizer.batch_decode(before) == [tokenizer.decode(ids) for ids in before]
    assert len(tokenizer) == len(vocab) and tokenizer.get_vocab() == vocab

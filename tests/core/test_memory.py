"""The heap policy: glibc is told to return freed memory; every pass trims the heap
before and after; elsewhere than glibc nothing happens and nothing is raised."""

from __future__ import annotations

import ctypes

import pytest

from steerspace.core import memory
from steerspace.core.forward import embed
from steerspace.core.generation import generate_free, perplexity


def test_the_threshold_and_the_trim_are_the_glibc_calls(libc):
    memory.fix_heap_threshold()
    memory.trim_heap()
    memory.release_memory()
    assert libc.calls == [
        ("mallopt", -3, memory.MMAP_THRESHOLD_BYTES),  # M_MMAP_THRESHOLD
        ("malloc_trim", 0),
        ("malloc_trim", 0),
    ]


def test_every_pass_trims_the_heap_before_and_after(model, tokenizer, sentences, libc):
    embed(model, tokenizer, sentences[:2], batch_size=1)
    assert libc.calls == [("malloc_trim", 0)] * 2  # before the pass and after
    perplexity(model, tokenizer, sentences[:4], window=8, stride=4)
    generate_free(model, tokenizer, n=2, max_new_tokens=3)
    assert libc.calls == [("malloc_trim", 0)] * 6


def test_a_failing_pass_still_trims_the_heap(model, tokenizer, libc):
    with pytest.raises(ValueError, match="no sentences"):
        embed(model, tokenizer, [])
    assert libc.calls == [("malloc_trim", 0)] * 2


def test_elsewhere_than_glibc_nothing_happens(monkeypatch):
    def no_glibc(name):
        raise OSError(name)

    monkeypatch.setattr(ctypes, "CDLL", no_glibc)
    memory.fix_heap_threshold()
    memory.trim_heap()
    memory.release_memory()

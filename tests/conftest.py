"""Shared fixtures: a tiny random Gemma-3-style model and tokenizer built in code."""

from __future__ import annotations

import pytest

from steerspace.testing import save_tiny_model, tiny_model, tiny_tokenizer


@pytest.fixture(scope="session")
def tokenizer():
    return tiny_tokenizer()


@pytest.fixture(scope="session")
def model(tokenizer):
    return tiny_model(len(tokenizer), seed=0)


@pytest.fixture(scope="session")
def tiny_model_dir(tmp_path_factory):
    return save_tiny_model(tmp_path_factory.mktemp("tiny-model"))


@pytest.fixture
def sentences():
    return [
        "In the beginning was the word.",
        "Au commencement était la parole.",
        "Im Anfang war das Wort.",
        "En el principio era el verbo, y el verbo era con Dios.",
        "ok",
    ]

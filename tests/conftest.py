"""Shared fixtures: a tiny random Gemma-3-style model and tokenizer built in code, and
the whole book executed and built on that model (the smoke test and the browser test)."""

from __future__ import annotations

from pathlib import Path

import matplotlib
import pytest
import yaml
from helpers.books import copy_book_sources
from helpers.tiny import save_tiny_model, tiny_model, tiny_tokenizer

ROOT = Path(__file__).resolve().parents[1]

# One plotting backend for every test in this process (no display); the chapters' kernels
# keep their own (inline), so MPLBACKEND must not be set for them.
matplotlib.use("Agg")

# The smoke config: every chapter runs in a few seconds on the tiny random model.
TINY_BOOK_CONFIG = {
    "name": "tiny",
    "corpus": "bible",
    "n_expert_sentences": 12,
    "n_eval_sentences": 8,
    "n_heldout_sentences": 4,
    "k": 5,
    "k_grid": [0, 5, 20],
    "dose_k_grid": [5, 20],
    "n_generations": 4,
    "max_new_tokens": 8,
    "random_seeds": [1, 2],
    "n_control_sentences": 6,
    "benchmark_pairs": 40,
    "umap_sentences": 8,
    "batch_size": 8,
    "max_length": 64,
}


def pytest_collection_modifyitems(config, items):
    """The browser tests run only where ``-m`` names them (``-m browser``): a ``-m`` on
    the command line (the fast loop's ``-m "not slow"``) replaces the ``-m 'not browser'``
    of the settings' addopts, which would otherwise let them in."""
    if "browser" in (config.getoption("markexpr") or ""):
        return
    browser = [item for item in items if item.get_closest_marker("browser") is not None]
    if browser:
        config.hook.pytest_deselected(items=browser)
        items[:] = [item for item in items if item.get_closest_marker("browser") is None]


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


@pytest.fixture(scope="session")
def built_book(tmp_path_factory, tiny_model_dir):
    """Every chapter executed with papermill on the tiny model, and the book built, in a
    copy of the repository: ``(root, timings)``."""
    from steerspace.book.run import run_book

    root = tmp_path_factory.mktemp("book-root")
    copy_book_sources(root)
    config = {**TINY_BOOK_CONFIG, "model": str(tiny_model_dir), "cache_dir": str(root / ".cache")}
    (root / "tiny.yaml").write_text(yaml.safe_dump(config))
    timings = run_book(str(root / "tiny.yaml"), root=root, out=root)
    return root, timings

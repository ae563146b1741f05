"""Tatoeba/BUCC retrieval (paper App. H): directions, units, chance and intervals, on
made-up embeddings and a stub pipeline."""

from __future__ import annotations

import hashlib

import numpy as np
import pytest

from steerspace.analyses import tatoeba_bucc as benchmarks
from steerspace.data import Corpus
from steerspace.text.format import fmt


def test_inner_product_retrieval_is_not_symmetric_and_cosine_fixes_it():
    rng = np.random.default_rng(0)
    xx = 3.0 + rng.normal(size=(50, 16))  # a common direction, as mean-pooled states have
    xx /= np.linalg.norm(xx, axis=1, keepdims=True)  # the xx side: all of one norm
    en = xx + rng.normal(size=(50, 16)) * 0.01
    en[0] *= 10  # one English sentence with a large norm: a hub for the inner product
    to_en = benchmarks.pair_hits(xx, en, "xx→en", score="dot")
    to_xx = benchmarks.pair_hits(xx, en, "en→xx", score="dot")
    assert to_en.mean() < 0.2  # most queries retrieve the hub
    assert to_xx.mean() == 1.0  # a query's norm does not change its ranking
    assert benchmarks.pair_hits(xx, en, "xx→en", score="cosine").mean() == 1.0
    with pytest.raises(ValueError, match="direction must be one of"):
        benchmarks.pair_hits(xx, en, "xx→xx", score="dot")


def test_english_reads_every_file_and_chance_is_per_query():
    assert benchmarks.unit_files("en", ["de", "es"]) == ["de", "es"]
    assert benchmarks.unit_files("es", ["de", "es"]) == ["es"]
    with pytest.raises(ValueError, match="no pair file"):
        benchmarks.unit_files("ja", ["de", "es"])
    chance = benchmarks.chance_level({"de": np.zeros(1000, bool), "es": np.zeros(500, bool)})
    assert chance == pytest.approx(2 / 1500)


class StubPipe:
    """Embeddings from a hash of each sentence's meaning (its id after ':'), shifted by
    the intervention: translations coincide, an intervention adds noise."""

    def __init__(self) -> None:
        self.calls: list[tuple[str, object, int]] = []

    def intervention(self, target: str, *, k: int) -> str:
        return f"{target}-top{k}"

    def embed_sentences(self, sentences, intervention=None, *, label: str) -> np.ndarray:
        self.calls.append((label, intervention, len(sentences)))
        rows = []
        for s in sentences:
            seed = int(hashlib.sha256(s.split(":")[1].encode()).hexdigest()[:8], 16)
            rows.append(np.random.default_rng(seed).normal(size=8))
        out = np.array(rows)
        if intervention is not None:
            noise = np.random.default_rng(len(intervention)).normal(size=out.shape)
            out = out + noise * (0.5 if label.endswith("-en") else 0.0)
        return out

    def embed_groups(self, groups, intervention=None) -> dict[str, np.ndarray]:
        return {
            label: self.embed_sentences(sentences, intervention, label=label)
            for label, (sentences, _) in groups.items()
        }


def _corpus(lang: str, n: int) -> Corpus:
    ids = tuple(str(i) for i in range(n))
    return Corpus(
        name=f"fake/{lang}",
        ids=ids,
        texts={lang: tuple(f"{lang}:{i}" for i in ids), "en": tuple(f"en:{i}" for i in ids)},
        sources={lang: "", "en": ""},
    )


def test_benchmark_hits_cover_units_scores_and_k():
    pipe = StubPipe()
    corpora = {"de": _corpus("de", 30), "es": _corpus("es", 20)}
    hits = benchmarks.benchmark_hits(pipe, corpora, targets=["en", "es", "ja"], ks=[5],
                                     scores=["dot", "cosine"], dataset="Fake")  # fmt: skip
    assert {key[0] for key in hits} == {"en", "es"}  # ja has no file
    assert set(hits["en", "xx→en", "dot", 5]) == {"de", "es"}
    assert set(hits["es", "en→xx", "cosine", 0]) == {"es"}
    assert hits["es", "xx→en", "cosine", 0]["es"].all()  # translations coincide before
    table = benchmarks.accuracy_table(hits, n_boot=300)
    assert len(table) == 2 * 2 * 2 * 2
    row = table.set_index(["target", "direction", "score", "k"]).loc[("en", "xx→en", "cosine", 0)]
    assert row["pairs"] == 50 and row["chance"] == pytest.approx(2 / 50)
    ev = benchmarks.gain_evidence(hits, "es", "xx→en", "cosine", 5, n_boot=300)
    assert ev.unit == "es xx→en" and ev.estimate.value <= 0 and ev.testable
    assert ("Fake-es-en", "es-top5", 20) in pipe.calls


def test_mean_change_pairs_units_that_share_a_file():
    n = 200
    miss, hit = np.zeros(n, bool), np.ones(n, bool)
    half = np.arange(n) < n // 2
    pairs = {
        "es xx→en": ({"es": miss}, {"es": half}),  # +0.5
        "en en→xx": ({"es": miss, "de": miss}, {"es": half, "de": hit}),  # +0.75
    }
    est = benchmarks.mean_change(pairs, seed=1, n_boot=300)
    assert est.value == pytest.approx(0.625)
    assert est.low < est.value < est.high and est.n == 2 * n
    same = benchmarks.mean_change({"u": ({"es": half}, {"es": half})}, n_boot=300)
    assert (same.low, same.high) == (0.0, 0.0)
    with pytest.raises(ValueError, match="different lengths"):
        benchmarks.mean_change({"u": ({"es": miss}, {"es": miss[:5]})}, n_boot=300)
    assert fmt(est.value, "pp", sign=True) == "+62.5 pp"


def test_n_embeddings_counts_pre_once_and_english_over_every_file():
    corpora = {"de": _corpus("de", 30), "es": _corpus("es", 20)}
    # pre: 2 × 50; per k: es 2 × 20, en 2 × 50 (ja has no file)
    assert benchmarks.n_embeddings(corpora, ["en", "es", "ja"], [0, 5, 10]) == 100 + 2 * 140
    pipe = StubPipe()
    benchmarks.benchmark_hits(pipe, corpora, targets=["en", "es", "ja"], ks=[5, 10],
                              scores=["dot"], dataset="Fake")  # fmt: skip
    # what a cache computes: each (file side, intervention) once
    assert sum(n for _, _, n in set(pipe.calls)) == 380


def test_benchmark_pairs_must_be_positive_or_none():
    from steerspace.config import load_config

    assert load_config("gemma-3-270m").benchmark_pairs is None  # all pairs, as the paper
    assert load_config("gemma-3-270m", benchmark_pairs=40).benchmark_pairs == 40
    with pytest.raises(ValueError, match="benchmark_pairs"):
        load_config("gemma-3-270m", benchmark_pairs=0)
    assert len(_corpus("es", 30).select(stop=None)) == 30


def test_fragility_table_flags_moves_beyond_the_reference_interval():
    from steerspace.analyses.tatoeba_bucc import fragility_table

    def est(value):
        return {"value": value, "low": value - 0.02, "high": value + 0.02, "n": 200}

    result = {
        "rows": [
            {
                "k": 500,
                "condition": "reference",
                "top_k_overlap": 1.0,
                "retrieval cosine": est(0.10),
            },
            {
                "k": 500,
                "condition": "first half",
                "top_k_overlap": 0.8,
                "retrieval cosine": est(0.11),
            },
            {
                "k": 500,
                "condition": "bfloat16",
                "top_k_overlap": 0.9,
                "retrieval cosine": est(0.05),
            },
        ]
    }
    table = fragility_table(result).set_index("condition")
    assert not table.loc["reference", "fragile"] and table.loc["reference", "move"] == 0
    assert not table.loc["first half", "fragile"]  # moved 0.01 < half-width 0.02
    assert table.loc["bfloat16", "fragile"]  # moved 0.05 > 0.02
    assert table.loc["bfloat16", "move_in_half_widths"] == pytest.approx(2.5)

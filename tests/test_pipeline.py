"""The cached pipeline on a tiny model and a small slice of the real Bible."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

import steerspace.pipeline as pipeline_module
from steerspace.config import load_config
from steerspace.pipeline import Pipeline, split_indices


@pytest.fixture
def cfg(tiny_model_dir, tmp_path):
    return load_config(
        "gemma-3-270m",
        model=str(tiny_model_dir),
        dtype="float32",
        languages=["en", "de", "fr", "es", "ja", "ru"],
        n_expert_sentences=10,
        n_eval_sentences=6,
        n_heldout_sentences=3,
        k=4,
        batch_size=4,
        cache_dir=str(tmp_path / "cache"),
        results_dir=str(tmp_path / "results"),
    )


def test_split_indices_disjoint_and_seeded():
    a = split_indices(100, [10, 20, 5], seed=1)
    assert [len(x) for x in a] == [10, 20, 5]
    assert len(set(np.concatenate(a))) == 35
    assert all(
        np.array_equal(x, y)
        for x, y in zip(a, split_indices(100, [10, 20, 5], seed=1), strict=True)
    )
    with pytest.raises(ValueError, match="aligned sentences"):
        split_indices(10, [8, 8], seed=0)


def test_splits_are_disjoint_and_aligned(cfg):
    pipe = Pipeline(cfg, progress=False)
    expert_ids, eval_ids = set(pipe.expert_corpus.ids), set(pipe.eval_corpus.ids)
    assert len(expert_ids) == 10 and len(eval_ids) == 6 and not expert_ids & eval_ids
    assert pipe.expert_corpus.languages == ["en", "de", "fr", "es", "ja", "zh"]
    assert pipe.eval_corpus.languages == ["en", "de", "fr", "es", "ja", "ru"]


def test_experts_and_embeddings_are_cached_across_pipelines(cfg, monkeypatch):
    pipe = Pipeline(cfg, progress=False)
    table = pipe.experts("es")
    assert len(table) == pipe.n_units == 2 * 64
    iv = pipe.intervention("es")
    assert iv.size == 4 and iv.label == "es-top4"
    pre, post = pipe.embeddings("fr"), pipe.embeddings("fr", iv)
    assert pre.shape == (6, 32) and np.abs(pre - post).max() > 0
    # a new pipeline on the same cache must not need the model at all
    fresh = Pipeline(cfg, progress=False)
    monkeypatch.setattr(pipeline_module, "load_model", lambda *a, **k: pytest.fail("model loaded"))
    np.testing.assert_array_equal(fresh.embeddings("fr", fresh.intervention("es")), post)
    assert fresh.experts("es").equals(table)
    path = fresh.write_table(table.head(3), "experts_es")
    assert path.read_text().startswith("target,module,layer,unit,auroc")


def test_corpus_statistics_are_cached_so_a_warm_run_needs_no_tokenizer(cfg, monkeypatch):
    stats = Pipeline(cfg, progress=False).corpus_statistics(Pipeline(cfg).eval_corpus)
    assert list(stats.index) == list(cfg.languages)
    assert stats["tokens per sentence"].gt(0).all()
    fresh = Pipeline(cfg, progress=False)
    monkeypatch.setattr(pipeline_module, "load_model", lambda *a, **k: pytest.fail("model loaded"))
    pd.testing.assert_frame_equal(fresh.corpus_statistics(fresh.eval_corpus), stats)


def test_random_intervention_is_seeded_and_differs_from_experts(cfg):
    pipe = Pipeline(cfg, progress=False)
    a, b = pipe.intervention("de", random_seed=1), pipe.intervention("de", random_seed=1)
    assert a.key() == b.key() and a.key() != pipe.intervention("de").key()


def test_random_control_takes_the_experts_values_or_its_own_means(cfg):
    pipe = Pipeline(cfg, progress=False)
    experts = pipe.intervention("de")
    paper = pipe.intervention("de", random_seed=1)  # the paper's §7: the experts' values
    own = pipe.intervention("de", random_seed=1, values="own")
    assert paper.units.keys() == own.units.keys()
    assert all(np.array_equal(paper.units[m], own.units[m]) for m in paper.units)
    values = lambda iv: sorted(float(v) for vals in iv.values.values() for v in vals)  # noqa: E731
    assert values(paper) == pytest.approx(values(experts))
    assert values(own) != pytest.approx(values(experts))
    table = pipe.experts("de").set_index(["module", "unit"])["mean_pos"]
    own_expected = [table[m, int(u)] for m in own.units for u in own.units[m]]
    assert sorted(own_expected) == pytest.approx(values(own))
    with pytest.raises(ValueError, match="values must be one of"):
        pipe.intervention("de", random_seed=1, values="zeros")


def test_paraphrase_hits_pre_post_mixed(cfg):
    pipe = Pipeline(cfg, progress=False)
    iv = pipe.intervention("es")
    hits = pipe.paraphrase_hits("es", iv)
    assert set(hits) == {"pre", "post", "mixed"}
    assert all(h.dtype == bool and h.shape == (cfg.n_eval_sentences,) for h in hits.values())
    cos = pipe.paraphrase_hits("es", iv, score="cosine", n=4)
    assert cos["pre"].shape == (4,)


def test_k_too_large_fails_before_any_forward_pass(cfg, monkeypatch):
    pipe = Pipeline(cfg.replace(k=10_000), progress=False)
    monkeypatch.setattr(pipeline_module, "record_activations", lambda *a, **k: pytest.fail("ran"))
    with pytest.raises(ValueError, match="k=10000 is larger than the 128 units"):
        pipe.intervention("es")


def test_unknown_target_and_unavailable_language(cfg):
    pipe = Pipeline(cfg, progress=False)
    with pytest.raises(ValueError, match="not in the config's targets"):
        pipe.experts("ru")
    with pytest.raises(ValueError, match="th"):
        _ = Pipeline(cfg.replace(languages=("th",)), progress=False).eval_corpus


def test_paraphrase_pairs_avoid_expert_verses_and_are_seeded(cfg):
    pipe = Pipeline(cfg, progress=False)
    pairs = pipe.paraphrase_pairs("es")
    assert len(pairs) == cfg.n_eval_sentences
    assert not set(pairs.ids) & set(pipe.expert_corpus.ids)
    assert pairs.queries != pairs.candidates and pairs.source.startswith("bible:")
    assert Pipeline(cfg, progress=False).paraphrase_pairs("es").ids == pairs.ids
    with pytest.raises(ValueError):
        pipe.paraphrase_pairs("ja")  # one Japanese translation only


def test_generations_and_perplexity_are_cached_and_react_to_the_intervention(cfg, monkeypatch):
    small = cfg.replace(n_generations=3, max_new_tokens=5)
    pipe = Pipeline(small, progress=False)
    iv = pipe.intervention("fr")
    texts = pipe.generations(iv)
    pre, post = pipe.heldout_perplexity("fr"), pipe.heldout_perplexity("fr", iv)
    assert len(texts) == 3 and all(isinstance(t, str) for t in texts)
    assert np.isfinite(pre["log_ppl"]) and pre["log_ppl"] != post["log_ppl"]
    fresh = Pipeline(small, progress=False)
    monkeypatch.setattr(pipeline_module, "load_model", lambda *a, **k: pytest.fail("model loaded"))
    assert fresh.generations(fresh.intervention("fr")) == texts
    assert fresh.heldout_perplexity("fr") == pre


def test_space_of_the_first_n_sentences_is_a_prefix(cfg):
    pipe = Pipeline(cfg, progress=False)
    full, head = pipe.space(), pipe.space(n=3)
    assert set(head) == set(full)
    np.testing.assert_allclose(head["de"], full["de"][:3], atol=1e-5)


def test_layer_space_and_umap_are_cached(cfg, monkeypatch):
    pipe = Pipeline(cfg, progress=False)
    layers = pipe.layer_space(n=4)
    assert set(layers) == set(pipe.eval_languages)
    assert layers["fr"].shape == (4, 3, 32)  # embedding output + 2 blocks
    np.testing.assert_array_equal(layers["fr"][:, -1], pipe.embeddings("fr", n=4))
    pre, post = pipe.space(n=4), pipe.space(pipe.intervention("es"), n=4)
    coords = pipe.umap(pre, post)
    assert coords["fr"][0].shape == (4, 2) and coords["fr"][1].shape == (4, 2)
    fresh = Pipeline(cfg, progress=False)
    monkeypatch.setattr(pipeline_module, "umap_pre_post", lambda *a, **k: pytest.fail("recomputed"))
    again = fresh.umap(fresh.space(n=4), fresh.space(fresh.intervention("es"), n=4))
    np.testing.assert_array_equal(again["fr"][1], coords["fr"][1])


def test_one_pass_gives_both_poolings(cfg, monkeypatch, tmp_path):
    from steerspace.core.forward import record_activations
    from steerspace.core.hooks import find_modules
    from steerspace.infra import ledger

    monkeypatch.setenv(ledger.ENV_VAR, str(tmp_path / "ledger"))
    mean_pipe = Pipeline(cfg, progress=False)
    mean = mean_pipe.activations("es")
    # the max-pooled pipeline finds its activations cached by the mean pass
    max_pipe = Pipeline(cfg.replace(pooling="max"), progress=False)
    monkeypatch.setattr(pipeline_module, "load_model", lambda *a, **k: pytest.fail("model loaded"))
    maxed = max_pipe.activations("es")
    assert len(ledger.read(tmp_path / "ledger")) == 1  # one forward pass for both
    model, tokenizer = mean_pipe.model, mean_pipe.tokenizer
    sentences = mean_pipe.expert_corpus.sentences("es")
    modules = find_modules(model, cfg.modules)
    for how, got in (("mean", mean), ("max", maxed)):
        alone = record_activations(model, tokenizer, sentences, modules, pooling=how, batch_size=4)
        assert set(got) == set(alone)
        for name in alone:
            np.testing.assert_array_equal(got[name], alone[name])


def test_a_space_runs_its_uncached_languages_in_one_pass(cfg, monkeypatch, tmp_path):
    from steerspace.infra import ledger

    monkeypatch.setenv(ledger.ENV_VAR, str(tmp_path / "ledger"))
    pipe = Pipeline(cfg, progress=False)
    alone = pipe.layer_embeddings("fr")  # one language first, on its own
    space = pipe.layer_space()
    calls = ledger.read(tmp_path / "ledger")
    assert list(calls["sentences"]) == [6, 6 * (len(pipe.eval_languages) - 1)]
    np.testing.assert_array_equal(space["fr"], alone)
    # each language is its own cache entry: a new pipeline reads them without the model
    fresh = Pipeline(cfg, progress=False)
    monkeypatch.setattr(pipeline_module, "load_model", lambda *a, **k: pytest.fail("model loaded"))
    again = fresh.space()
    for lang in pipe.eval_languages:
        np.testing.assert_allclose(again[lang], space[lang][:, -1], atol=1e-6)
    np.testing.assert_allclose(fresh.embeddings("de"), space["de"][:, -1], atol=1e-6)


def test_paraphrase_subsets_read_the_whole_pools_entries(cfg, monkeypatch, tmp_path):
    from steerspace.infra import ledger

    pipe = Pipeline(cfg, progress=False)
    iv = pipe.intervention("es")
    whole = pipe.paraphrase_hits("fr", iv)
    monkeypatch.setenv(ledger.ENV_VAR, str(tmp_path / "ledger"))
    part = pipe.paraphrase_hits("fr", iv, n=3)
    assert not (tmp_path / "ledger").exists()  # no forward pass: sliced from the cache
    assert len(part["pre"]) == 3 and len(whole["pre"]) == len(pipe.paraphrase_pairs("fr").ids)


def test_a_variant_shares_the_loaded_model(cfg):
    pipe = Pipeline(cfg, progress=False)
    other = pipe.variant(pooling="max")
    assert other.cfg.pooling == "max" and other.model is pipe.model
    late = Pipeline(cfg, progress=False).variant(pooling="max")
    assert late.model is not None
    with pytest.raises(ValueError, match="cannot change"):
        pipe.variant(dtype="float32")


#: How far one group's embeddings computed alone may lie from the same group's computed
#: in one pass with other groups (other batches, so other float32 sums): max |Δ| over the
#: mean |x| of the array. Measured on this tiny model: 5e-7 (a few float32 ulps); the
#: documented bound for the embedded model (stages.py, README) is 2e-4.
COMPANY_TOLERANCE = 1e-5


def company_deviation(alone: np.ndarray, together: np.ndarray) -> float:
    """max |alone - together| over mean |together|."""
    return float(np.abs(alone - together).max() / np.abs(together).mean())


def top1_choices(space: dict[str, np.ndarray], score: str) -> dict[tuple[str, str], np.ndarray]:
    """For every ordered pair of languages, each query's top-1 candidate."""
    from steerspace.metrics.retrieval import similarity

    return {
        (q, c): similarity(space[q], space[c], score=score).argmax(axis=1)
        for q in space
        for c in space
        if q != c
    }


@pytest.mark.parametrize("kind", ["layer_embeddings", "embeddings"])
def test_a_groups_embeddings_alone_and_in_company_agree_within_the_tolerance(cfg, tmp_path, kind):
    """The cache keys an embedding entry by its own sentences, not by the groups computed
    in the same pass, whose batches change the float32 sums: each language computed
    alone (in a cache of its own) agrees with the one-pass space (every layer) within
    COMPANY_TOLERANCE, and every top-1 retrieval choice is the same."""
    from steerspace.infra.cache import Cache

    cfg = cfg.replace(n_eval_sentences=20, batch_size=8)
    pipe = Pipeline(cfg, progress=False)
    languages = list(pipe.eval_languages)
    groups = {lang: (list(pipe.eval_corpus.sentences(lang)), None) for lang in languages}
    if kind == "layer_embeddings":
        together = pipe.layer_space()
    else:
        together = pipe.embed_groups(groups)
    alone = {}
    for lang in languages:
        own = Pipeline(cfg, progress=False, cache=Cache(tmp_path / f"alone-{lang}"))
        if kind == "layer_embeddings":
            alone[lang] = own.layer_embeddings(lang)
        else:
            alone[lang] = own.embed_groups({lang: groups[lang]})[lang]
        assert company_deviation(alone[lang], together[lang]) <= COMPANY_TOLERANCE, lang

    def last(space: dict[str, np.ndarray]) -> dict[str, np.ndarray]:
        return {lang: np.ascontiguousarray(value[:, -1]) if value.ndim == 3 else value
                for lang, value in space.items()}  # fmt: skip

    for score in ("dot", "cosine"):
        expected = top1_choices(last(together), score)
        for lang in languages:
            got = top1_choices(last({**together, lang: alone[lang]}), score)
            for pair, choices in expected.items():
                np.testing.assert_array_equal(got[pair], choices, err_msg=f"{pair} {score}")

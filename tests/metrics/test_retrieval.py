"""Retrieval and its statistics (paper §5, §6, Table 2): hand-checked cases and scipy."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from scipy.stats import pearsonr

from steerspace.metrics.inference import fisher_pearson
from steerspace.metrics.retrieval import (
    retrieval_matrix,
    similarity,
    summarise_gains,
    top1_accuracy,
    top1_hits,
)

# --------------------------------------------------------------------------- retrieval


def test_similarity_dot_and_cosine_hand_checked():
    q = np.array([[1.0, 0.0], [0.0, 2.0]])
    c = np.array([[3.0, 4.0], [0.0, 0.0]])
    np.testing.assert_allclose(similarity(q, c), [[3.0, 0.0], [8.0, 0.0]])
    np.testing.assert_allclose(similarity(q, c, score="cosine"), [[0.6, 0.0], [0.8, 0.0]])


def test_top1_two_of_three():
    q = np.array([[1.0, 0.0], [0.0, 1.0], [1.0, 0.1]])
    c = np.array([[1.0, 0.0], [0.0, 1.0], [0.0, 1.0]])
    # query 2 scores 1.0 with candidate 0 and 0.1 with candidate 2: a miss
    np.testing.assert_array_equal(top1_hits(q, c), [True, True, False])
    assert top1_accuracy(q, c) == pytest.approx(2 / 3)
    assert top1_accuracy(q, c, score="cosine") == pytest.approx(2 / 3)


def test_dot_and_cosine_disagree_with_a_huge_norm_candidate():
    q = np.array([[1.0, 0.0], [0.0, 1.0]])
    c = np.array([[1.0, 0.0], [100.0, 1.0]])  # candidate 1 is long and points along x
    # dot: both queries pick the long candidate 1 (scores 100 and 1 vs 1 and 0)
    np.testing.assert_array_equal(top1_hits(q, c, score="dot"), [False, True])
    # cosine: query 0 picks candidate 0 (cos 1), query 1 picks candidate 1 (cos ~0.01 > 0)
    np.testing.assert_array_equal(top1_hits(q, c, score="cosine"), [True, True])
    assert top1_accuracy(q, c) == 0.5 and top1_accuracy(q, c, score="cosine") == 1.0


def test_ties_go_to_the_first_candidate():
    q = np.array([[1.0, 0.0], [1.0, 0.0]])
    c = np.array([[1.0, 0.0], [1.0, 0.0]])
    np.testing.assert_array_equal(top1_hits(q, c), [True, False])


def test_top1_chunking_does_not_change_the_result():
    rng = np.random.default_rng(0)
    c = rng.normal(size=(50, 8))
    q = c + rng.normal(scale=1.5, size=c.shape)
    full = top1_hits(q, c)
    np.testing.assert_array_equal(top1_hits(q, c, chunk=7), full)
    slow = np.array([np.argmax([qi @ cj for cj in c]) == i for i, qi in enumerate(q)])
    np.testing.assert_array_equal(full, slow)
    assert 0 < full.mean() < 1


def test_retrieval_errors():
    q = np.ones((3, 2))
    with pytest.raises(ValueError, match=r"score must be one of \('dot', 'cosine'\), got 'l2'"):
        similarity(q, q, score="l2")
    with pytest.raises(ValueError, match=r"same shape.*\(3, 2\) and \(4, 2\)"):
        top1_accuracy(q, np.ones((4, 2)))
    with pytest.raises(ValueError, match="same dimension"):
        similarity(q, np.ones((3, 5)))
    with pytest.raises(ValueError, match="queries must be finite"):
        top1_hits(np.full((3, 2), np.nan), q)


def test_retrieval_matrix():
    e = np.eye(3)
    space = {
        "en": e,
        "es": e * 2,  # same directions: perfect retrieval both ways
        "fr": np.array([[1.0, 0.0, 0.0], [0.0, 1.0, 0.0], [0.0, 1.0, 0.0]]),
    }
    m = retrieval_matrix(space)
    assert m.index.name == "query" and m.columns.name == "candidate"
    assert np.isnan(np.diag(m.to_numpy())).all()
    assert m.loc["en", "es"] == 1.0 and m.loc["es", "en"] == 1.0
    # fr candidates: query en2 = (0,0,1) scores 0 with all -> argmax 0 -> miss
    assert m.loc["en", "fr"] == pytest.approx(2 / 3)
    assert m.loc["fr", "en"] == pytest.approx(top1_accuracy(space["fr"], space["en"]))
    sub = retrieval_matrix(space, queries=["es"], candidates=["fr", "en"], score="cosine")
    assert sub.shape == (1, 2) and list(sub.columns) == ["fr", "en"]
    with pytest.raises(ValueError, match=r"queries must be languages among .*unknown \['de'\]"):
        retrieval_matrix(space, queries=["de"])
    with pytest.raises(ValueError, match="one shape"):
        retrieval_matrix({"en": e, "es": np.ones((2, 3))})


# --------------------------------------------------------------------------- statistics


def correlated(n: int = 20, seed: int = 0) -> tuple[np.ndarray, np.ndarray]:
    rng = np.random.default_rng(seed)
    x = rng.normal(size=n)
    return x, 0.8 * x + rng.normal(scale=0.5, size=n)


def test_fisher_pearson_matches_scipy_and_the_textbook_interval():
    x, y = correlated()
    out = fisher_pearson(x, y)
    ref = pearsonr(x, y)
    assert out["r"] == pytest.approx(ref.statistic) and out["n"] == 20
    z, se = np.arctanh(out["r"]), 1 / np.sqrt(17)
    assert out["ci_low"] == pytest.approx(np.tanh(z - 1.959964 * se))
    assert out["ci_high"] == pytest.approx(np.tanh(z + 1.959964 * se))
    assert -1 <= out["ci_low"] < out["r"] < out["ci_high"] <= 1


def test_fisher_interval_and_p_value_always_agree():
    # the paper's bootstrap intervals and p-values disagree in some cells; these cannot
    rng = np.random.default_rng(0)
    for _ in range(300):
        n = int(rng.integers(5, 25))
        x = rng.normal(size=n)
        y = rng.normal(scale=0.2, size=n) * rng.uniform(0.5, 5) + x * rng.uniform(-0.6, 0.6)
        out = fisher_pearson(x, y)
        excludes = out["ci_low"] > 0 or out["ci_high"] < 0
        assert excludes == (out["p_value"] < 0.05)


def test_fisher_pearson_degenerate_inputs_are_nan():
    # the paper's "NA": Bloom-7B pre-intervention Japanese distances are all equal
    out = fisher_pearson(np.full(5, 0.9), np.arange(5.0))
    assert np.isnan([out["r"], out["ci_low"], out["ci_high"], out["p_value"]]).all()
    assert np.isnan(fisher_pearson([1.0, 2.0, 3.0], [1.0, 3.0, 2.0])["ci_low"])  # n < 4
    x, y = correlated(10)
    y[3] = np.nan
    assert fisher_pearson(x, y)["n"] == 9  # the pair with NaN is dropped
    with pytest.raises(ValueError, match="same length"):
        fisher_pearson(x, y[:9])
    with pytest.raises(ValueError, match="ci must be"):
        fisher_pearson(x, y, ci=95)


def test_summarise_gains():
    pre = pd.Series({"en": 0.1, "fr": 0.2, "de": 0.5, "es": np.nan})
    post = pd.Series({"fr": 0.5, "en": 0.4, "de": 0.4, "es": np.nan})  # other order
    out = summarise_gains(pre, post)
    # gains en 0.3, fr 0.3, de -0.1; es (the query itself) skipped
    assert out["median"] == pytest.approx(0.3)
    assert out["max"] == pytest.approx(0.3)
    assert out["mean"] == pytest.approx(0.5 / 3)
    assert out["min"] == pytest.approx(-0.1) and out["n"] == 3
    with pytest.raises(ValueError, match=r"only in pre \['es'\] and only in post \[\]"):
        summarise_gains(pre, post.drop("es"))


def test_target_query_frame_and_table2():
    from steerspace.metrics.retrieval import table2, target_query_frame

    rng = np.random.default_rng(0)
    base = rng.normal(size=(20, 8))
    # language i is the shared content plus noise of growing size: farther and harder
    pre = {f"l{i}": base + rng.normal(scale=0.3 * i, size=base.shape) for i in range(6)}
    post = {k: base + 0.5 * (v - base) for k, v in pre.items()}  # noise halved
    frame = target_query_frame(pre, post, "l0")
    assert list(frame.index) == ["l1", "l2", "l3", "l4", "l5"]
    assert frame.loc["l1", "acc_pre"] == top1_accuracy(pre["l0"], pre["l1"])
    np.testing.assert_allclose(frame["delta_acc"], frame["acc_post"] - frame["acc_pre"])
    assert (frame["d_post"] < frame["d_pre"]).all()  # less noise, closer languages
    corr = table2({"l0": frame})
    assert list(corr["correlation"]) == [
        "r(acc_post,d_post)",
        "r(acc_pre,d_pre)",
        "r(d_post,d_pre)",
        "r(delta_acc,d_pre-d_post)",
    ]
    row = corr.set_index("correlation").loc["r(d_post,d_pre)"]
    assert row["r"] > 0.9 and row["ci_low"] <= row["r"] <= row["ci_high"]
    with pytest.raises(ValueError, match="target"):
        target_query_frame(pre, post, "xx")


# --------------------------------------------------------------------------- hits tables


def test_hits_table_keeps_the_queries_and_averages_to_the_retrieval_matrix():
    from steerspace.metrics.retrieval import hits_table, matrix_from_hits

    rng = np.random.default_rng(3)
    meaning = rng.normal(size=(30, 6))
    space = {lang: meaning + rng.normal(scale=s, size=meaning.shape)
             for lang, s in (("en", 0.5), ("de", 1.0), ("fr", 3.0))}  # fmt: skip
    for score in ("dot", "cosine"):
        hits = hits_table(space, score=score)
        assert hits.shape == (30, 6) and hits.dtypes.eq(bool).all()
        assert ("en", "en") not in hits.columns
        np.testing.assert_array_equal(
            hits["de", "fr"], top1_hits(space["de"], space["fr"], score=score)
        )
        pd.testing.assert_frame_equal(matrix_from_hits(hits), retrieval_matrix(space, score=score))


def test_hits_table_rejects_unknown_languages_and_unequal_shapes():
    from steerspace.metrics.retrieval import hits_table

    space = {"en": np.eye(3), "de": np.eye(3)}
    with pytest.raises(ValueError, match="queries must be languages"):
        hits_table(space, queries=["xx"])
    with pytest.raises(ValueError, match="one shape"):
        hits_table({"en": np.eye(3), "de": np.eye(4)[:3]})
    with pytest.raises(ValueError, match="different candidate"):
        hits_table(space, queries=["en"], candidates=["en"])

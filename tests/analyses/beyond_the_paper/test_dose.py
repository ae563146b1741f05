"""Dose–response rows: each quantity with the interval of its own unit."""

from __future__ import annotations

import numpy as np
import pytest

from steerspace.analyses.beyond_the_paper.dose import (
    DOSE_COLUMNS,
    along_dial,
    dose_summary,
    dose_table,
    target_query_hits,
)
from steerspace.metrics.retrieval import target_query_frame


def _spaces(noise_post: float):
    rng = np.random.default_rng(0)
    meaning = rng.normal(size=(40, 6))
    pre = {lang: meaning + 3.0 * rng.normal(size=(40, 6)) for lang in ("es", "fr", "de")}
    post = {lang: meaning + noise_post * rng.normal(size=(40, 6)) for lang in pre}
    return pre, post


def test_target_query_hits_match_the_retrieval_chapter():
    pre, _ = _spaces(0.1)
    hits = target_query_hits(pre, "es", score="cosine")
    ref = target_query_frame(pre, pre, "es", score="cosine")["acc_pre"]
    np.testing.assert_allclose(hits.mean(axis=0), ref.to_numpy())
    with pytest.raises(ValueError, match="target must be one of"):
        target_query_hits(pre, "ja")


def test_dose_summary_intervals_follow_their_units():
    pre, post = _spaces(0.1)
    rng = np.random.default_rng(1)
    nll = rng.exponential(2.0, size=2000)
    row = dose_summary(pre, post, "es", identified=["es"] * 30 + ["en"] * 10, nll_pre=nll,
                       nll_post=nll + 0.5, n_boot=200)  # fmt: skip
    for column in DOSE_COLUMNS:
        assert row[f"{column}_low"] <= row[column] <= row[f"{column}_high"]
    assert row["gain"] == pytest.approx(row["acc_post"] - row["acc_pre"]) and row["gain_low"] > 0
    assert row["share"] == 0.75 and 0.5 < row["share_low"] < 0.75 < row["share_high"] < 0.9
    assert row["dlogppl"] == pytest.approx(0.5) and row["dlogppl_high"] - row["dlogppl_low"] < 1e-9
    with pytest.raises(ValueError, match="at least one generation"):
        dose_summary(pre, post, "es", identified=[], nll_pre=nll, nll_post=nll, n_boot=300)


class _Intervention:
    def __init__(self, k, strength):
        self.k, self.strength = k, strength

    def key(self):
        return (self.k, self.strength)


class _FakePipe:
    """What dose_table asks of a pipeline, on made-up spaces (no model)."""

    n_units = 300

    def __init__(self, pre, post):
        self.pre, self.post, self.embedded = pre, post, []

    def intervention(self, target, *, k=100, strength=1.0):
        return _Intervention(k, strength)

    def space(self, iv, *, n):
        self.embedded.append(iv.key())
        return {lang: x[:n] for lang, x in self.post.items()}

    def generations(self, iv=None):
        return ["el principio era el verbo"] * 3 + ["in the beginning was the word"]

    def heldout_perplexity(self, target, iv=None):
        return {"token_nll": [1.0] * 128 if iv is None else [1.0 + 0.1 * iv.strength] * 128}


def test_dose_table_runs_both_dials_and_reuses_the_cached_space():
    pre, post = _spaces(0.1)
    pipe = _FakePipe(pre, post)
    table = dose_table(pipe, "es", pre=pre, cached=post, n_sentences=20, k_grid=[50, 100, 500],
                       strengths=[0.5, 1.0], k=100, n_boot=50)  # fmt: skip
    assert table[["dial", "k", "strength"]].values.tolist() == [
        ["k", 50, 1.0],
        ["k", 100, 1.0],
        ["strength", 100, 0.5],
        ["strength", 100, 1.0],
    ]  # k = 500 is above the 300 units; (100, 1.0) comes from the cache, twice
    assert pipe.embedded == [(50, 1.0), (100, 0.5)]
    assert table["share"].tolist() == [0.75] * 4
    assert table["dlogppl"].tolist() == pytest.approx([0.1, 0.1, 0.05, 0.1])
    text = along_dial(table[table.dial == "strength"], "dlogppl", "nats")
    assert text.startswith("s = 0.50: +0.05 [") and "s = 1.00: +0.10" in text

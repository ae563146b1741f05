"""Intervals and chance tests on data whose answer is known."""

from __future__ import annotations

import numpy as np
import pytest

from steerspace.metrics.inference import (
    Estimate,
    above_chance,
    block_bootstrap_delta,
    bootstrap_hits,
    bootstrap_share_delta,
    cluster_bootstrap_pearson,
    leave_one_out_pearson,
    paired_hits_delta,
    resample_counts,
    share_interval,
)


def test_resample_counts_are_multiplicities():
    counts = resample_counts(7, n_boot=50, seed=3)
    assert counts.shape == (50, 7)
    assert np.all(counts.sum(axis=1) == 7)
    assert np.array_equal(counts, resample_counts(7, n_boot=50, seed=3))


def test_bootstrap_hits_matches_the_binomial_standard_error():
    rng = np.random.default_rng(0)
    hits = rng.random(400) < 0.3
    est = bootstrap_hits(hits, n_boot=4000, seed=1)
    p = hits.mean()
    se = np.sqrt(p * (1 - p) / hits.size)
    assert est.value == pytest.approx(p)
    assert est.low == pytest.approx(p - 1.96 * se, abs=0.01)
    assert est.high == pytest.approx(p + 1.96 * se, abs=0.01)
    assert est.n == 400


def test_paired_delta_resamples_queries_jointly():
    rng = np.random.default_rng(0)
    before = rng.random((300, 4)) < 0.2
    after = before.copy()
    after[:60, :] = True  # 60 queries gain everywhere
    est = paired_hits_delta(before, after, seed=2, n_boot=1000)
    assert est.value == pytest.approx(after.mean() - before.mean())
    assert est.low > 0
    same = paired_hits_delta(before, before, n_boot=1000)
    assert same.value == same.low == same.high == 0.0
    with pytest.raises(ValueError, match="same shape"):
        paired_hits_delta(before, after[:, :3], n_boot=1000)


def test_above_chance_binomial_and_bootstrap():
    hits = np.zeros(200, dtype=bool)
    hits[:2] = True  # 1 % at chance 0.5 %: not significant
    assert not above_chance(hits, 0.005, n_boot=1000)
    hits[:8] = True  # 4 %: significant
    assert above_chance(hits, 0.005, n_boot=1000)
    many = np.zeros((200, 5), dtype=bool)
    many[:20] = True
    assert above_chance(many, 0.005, n_boot=1000)
    assert not above_chance(np.zeros((200, 5), dtype=bool), 0.005, n_boot=1000)
    with pytest.raises(ValueError, match="chance"):
        above_chance(hits, 1.5, n_boot=1000)


def test_share_interval_is_wilson():
    low, high = share_interval(10, 64)
    assert (low, high) == pytest.approx((0.0870, 0.2640), abs=5e-4)  # Wilson, 95 %
    assert share_interval(0, 64)[0] == 0.0
    with pytest.raises(ValueError):
        share_interval(5, 4)


def test_share_delta():
    before = np.zeros(64, dtype=bool)
    after = np.ones(64, dtype=bool)
    after[:8] = False
    est = bootstrap_share_delta(before, after, n_boot=1000)
    assert est.value == pytest.approx(56 / 64)
    assert est.low > 0.7


def test_block_bootstrap_detects_a_shift_and_not_noise():
    rng = np.random.default_rng(0)
    base = rng.normal(3.0, 1.0, 5000)
    shifted = base + 0.2 + rng.normal(0, 0.1, 5000)
    est = block_bootstrap_delta(base, shifted, block=50, n_boot=1000)
    assert est.value == pytest.approx(0.2, abs=0.01) and est.low > 0.15
    assert est.n == 100
    noise = block_bootstrap_delta(base, base + rng.normal(0, 0.5, 5000), block=50, n_boot=1000)
    assert noise.low < 0 < noise.high


def test_cluster_bootstrap_is_wider_than_pointwise_when_clusters_drive_r():
    # 5 clusters whose means line up; within a cluster x and y are unrelated
    rng = np.random.default_rng(0)
    x, y, labels = [], [], []
    for c in range(5):
        x += list(c + rng.normal(0, 0.3, 16))
        y += list(c + rng.normal(0, 3.0, 16))
        labels += [f"t{c}"] * 16
    est = cluster_bootstrap_pearson(x, y, labels, seed=0, n_boot=1000)
    assert est.n == 5
    assert est.low < est.value < est.high
    with pytest.raises(ValueError, match="2 clusters"):
        cluster_bootstrap_pearson([1, 2, 3], [1, 2, 3], ["a", "a", "a"], n_boot=1000)


def test_leave_one_out_finds_the_point_a_correlation_rests_on():
    x = np.array([0.0, 0.1, 0.2, 0.3, 0.4, 5.0])
    y = np.array([0.3, 0.1, 0.4, 0.0, 0.2, 5.0])
    loo = leave_one_out_pearson(x, y, ["a", "b", "c", "d", "e", "outlier"])
    assert loo.iloc[0]["left_out"] == "outlier"
    assert loo.iloc[0]["r"] < 0.5


def test_leave_one_out_on_a_constant_input_is_undefined_without_a_warning():
    import warnings

    with warnings.catch_warnings():
        warnings.simplefilter("error")
        loo = leave_one_out_pearson([1.0, 1.0, 1.0, 1.0], [0.1, 0.4, 0.2, 0.3], list("abcd"))
    assert loo["r"].isna().all() and loo["change"].isna().all()


def test_estimate_excludes():
    assert Estimate(0.2, 0.1, 0.3, 5).excludes(0)
    assert not Estimate(0.0, -0.1, 0.3, 5).excludes(0)


def test_bootstrap_columns_pairs_the_columns():
    from steerspace.metrics.inference import bootstrap_columns

    rng = np.random.default_rng(0)
    base = rng.normal(size=(300, 1))
    values = np.hstack([base, base + 1.0, rng.normal(size=(300, 1))])
    est = bootstrap_columns(values, n_boot=400, seed=1)
    assert [e.value for e in est] == pytest.approx(values.mean(axis=0).tolist())
    assert all(e.n == 300 and e.low < e.value < e.high for e in est)
    # the same draws for every column: the shifted copy's interval is shifted exactly
    assert est[1].low - est[0].low == pytest.approx(1.0) and est[1].high - est[
        0
    ].high == pytest.approx(1.0)
    # about ±1.96 standard errors
    assert est[2].high - est[2].low == pytest.approx(2 * 1.96 / np.sqrt(300), rel=0.2)
    with pytest.raises(ValueError, match="finite"):
        bootstrap_columns(np.array([[np.nan]]), n_boot=1000)

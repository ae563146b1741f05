"""AUROC against scikit-learn and a slow pairwise reference; selection; intervention."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
import torch
from sklearn.metrics import roc_auc_score

from steerspace.core.experts import (
    auroc,
    count_above,
    expert_table,
    make_intervention,
    overlap_matrix,
    random_k,
    top_k,
)


def pairwise_auroc(scores: np.ndarray, labels: np.ndarray) -> float:
    """P(score_pos > score_neg) + 0.5 P(tie), by brute force over all pairs."""
    pos, neg = scores[labels], scores[~labels]
    diff = pos[:, None] - neg[None, :]
    return float(((diff > 0) + 0.5 * (diff == 0)).mean())


def test_auroc_hand_checked_cases():
    labels = np.array([1, 1, 0, 0], bool)
    scores = np.array(
        [
            [4.0, 1.0, 1.0],  # perfect, perfectly inverted, ties with one tie pair
            [3.0, 2.0, 2.0],
            [2.0, 3.0, 1.0],
            [1.0, 4.0, 2.0],
        ]
    )
    # column 2: pos {1,2} vs neg {1,2}: pairs (1>1 tie .5, 1<2 0, 2>1 1, 2=2 .5) -> 2/4
    np.testing.assert_allclose(auroc(scores, labels), [1.0, 0.0, 0.5])


@pytest.mark.parametrize("seed", [0, 1, 2])
def test_auroc_matches_sklearn_and_pairwise_with_ties(seed):
    rng = np.random.default_rng(seed)
    n, units = 60, 50
    labels = rng.random(n) < 0.4
    scores = rng.normal(size=(n, units)) + labels[:, None] * rng.normal(size=units)
    scores[:, :10] = np.round(scores[:, :10])  # many ties
    ours = auroc(scores.astype(np.float32), labels, chunk=7)
    ref = np.array([roc_auc_score(labels, scores.astype(np.float32)[:, j]) for j in range(units)])
    np.testing.assert_allclose(ours, ref, atol=1e-9, rtol=0)
    slow = np.array([pairwise_auroc(scores.astype(np.float32)[:, j], labels) for j in range(units)])
    np.testing.assert_allclose(ours, slow, atol=1e-9, rtol=0)


def test_auroc_float32_sort_path_equals_ranking_path():
    rng = np.random.default_rng(3)
    labels = rng.random(301) < 0.3
    scores = rng.normal(size=(301, 700)).astype(np.float32)
    scores[:, :200] = np.round(scores[:, :200] * 2) / 2  # ties, incl. -0.0 and +0.0
    scores[:5, 300] = -0.0
    scores[:, 400] = np.float32(1e30) * np.sign(scores[:, 400])  # extremes and signs
    fast = auroc(scores, labels)  # float32: sort-based path, blocks on threads
    ranked = auroc(scores.astype(np.float64), labels)  # rankdata path
    np.testing.assert_allclose(fast, ranked, atol=1e-12, rtol=0)
    np.testing.assert_allclose(auroc(scores[:, :1], labels), ranked[:1], atol=1e-12)


@pytest.mark.parametrize("n", [5792, 5793])  # the rank sums leave float32's exact integers
def test_auroc_float32_sort_path_is_exact_on_either_side_of_float32_positions(n):
    rng = np.random.default_rng(n)
    labels = rng.random(n) < 0.8  # most positives: the largest rank sums
    scores = np.round(rng.normal(size=(n, 5)) * 8).astype(np.float32)  # ties
    ranked = auroc(scores.astype(np.float64), labels)
    np.testing.assert_array_equal(auroc(scores, labels), ranked)


def test_auroc_constant_unit_is_nan_with_warning():
    labels = np.array([1, 0, 1, 0], bool)
    scores = np.c_[np.ones(4), np.arange(4.0)]
    with pytest.warns(RuntimeWarning, match="constant"):
        out = auroc(scores, labels)
    # pos {0, 2} vs neg {1, 3}: only 2 > 1 of four pairs
    assert np.isnan(out[0]) and out[1] == pytest.approx(0.25)


def test_auroc_needs_both_classes():
    with pytest.raises(ValueError, match="both classes"):
        auroc(np.ones((3, 2)), np.ones(3, bool))


def _table():
    rng = np.random.default_rng(0)
    pos = {
        "model.layers.0.mlp.down_proj": rng.normal(1, 1, (20, 8)),
        "model.layers.1.mlp.down_proj": rng.normal(0, 1, (20, 8)),
    }
    neg = {m: rng.normal(0, 1, (30, 8)) for m in pos}
    return expert_table(pos, neg, target="es"), pos


def test_expert_table_columns_order_and_means():
    table, pos = _table()
    assert list(table.columns) == [
        "target",
        "module",
        "layer",
        "unit",
        "auroc",
        "mean_pos",
        "mean_neg",
        "rank",
    ]
    assert len(table) == 16 and table["auroc"].is_monotonic_decreasing
    row = table.iloc[0]
    np.testing.assert_allclose(row["mean_pos"], pos[row["module"]][:, row["unit"]].mean())
    # layer 0 was shifted up for the positive set, so it should dominate the top
    assert (top_k(table, 5)["layer"] == 0).sum() >= 4


def test_top_k_and_random_k_and_errors():
    table, _ = _table()
    best = top_k(table, 3)
    assert best["auroc"].tolist() == sorted(table["auroc"], reverse=True)[:3]
    r1, r2 = random_k(table, 5, seed=1), random_k(table, 5, seed=1)
    pd.testing.assert_frame_equal(r1, r2)
    assert not random_k(table, 5, seed=2).equals(r1)
    assert len(random_k(table, 5, seed=1)[["module", "unit"]].drop_duplicates()) == 5
    with pytest.raises(ValueError, match="larger than the 16 units"):
        top_k(table, 17)
    with pytest.raises(ValueError, match="positive integer"):
        top_k(table, 0)


def test_make_intervention_groups_units_by_module():
    table, _ = _table()
    chosen = top_k(table, 6)
    iv = make_intervention(chosen, label="es-top6")
    assert iv.size == 6
    for name, units in iv.units.items():
        rows = chosen[chosen["module"] == name]
        assert units.tolist() == rows["unit"].tolist()
        torch.testing.assert_close(
            iv.values[name], torch.tensor(rows["mean_pos"].to_numpy(), dtype=torch.float32)
        )


def test_count_above_and_overlap():
    table, _ = _table()
    counts = count_above(table, [0.5, 0.9, 1.0])
    assert counts[0.5] >= counts[0.9] >= counts[1.0] == 0
    a, b = top_k(table, 4), top_k(table, 8)
    m = overlap_matrix({"a": a, "b": b})
    assert m.loc["a", "a"] == 1.0 and m.loc["a", "b"] == pytest.approx(4 / 8)

"""Post-hoc baselines (chapter "Is steering more than re-centering?"): hand-made cases."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from steerspace.baselines import (
    BASELINES,
    Directions,
    all_but_the_top,
    all_pairs_top1,
    apply_baseline,
    center_languages,
    default_n_components,
    dimension_shares,
    principal_components,
    removed_directions,
    shift_alignment,
    space_statistics,
    standardise,
    top_dimensions,
    translation_share,
)
from steerspace.retrieval import retrieval_matrix


def random_space(seed: int = 0, langs: str = "abc", n: int = 10, d: int = 6) -> dict:
    rng = np.random.default_rng(seed)
    return {
        lang: rng.normal(size=(n, d)) * np.arange(1, d + 1) + 3 * i for i, lang in enumerate(langs)
    }


def pooled(space: dict) -> np.ndarray:
    return np.concatenate(list(space.values()))


# --------------------------------------------------------------------------- baselines


def test_center_languages_zero_means_and_same_within_geometry():
    space = random_space()
    out = center_languages(space)
    assert list(out) == list(space)
    for lang, x in out.items():
        np.testing.assert_allclose(x.mean(axis=0), 0.0, atol=1e-12)
        np.testing.assert_allclose(x - x[0], space[lang] - space[lang][0], atol=1e-12)


def test_center_languages_hand_checked():
    space = {"a": np.array([[1.0, 2.0], [3.0, 4.0]]), "b": np.array([[0.0, 0.0], [0.0, 2.0]])}
    out = center_languages(space)
    np.testing.assert_array_equal(out["a"], [[-1.0, -1.0], [1.0, 1.0]])
    np.testing.assert_array_equal(out["b"], [[0.0, -1.0], [0.0, 1.0]])


@pytest.mark.parametrize("k", [1, 2, 4])
def test_all_but_the_top_reduces_rank_by_k_and_is_orthogonal(k):
    space = random_space(n=10, d=6)  # 30 pooled rows: centered rank 6
    rows = pooled(space)
    centered = rows - rows.mean(axis=0)
    assert np.linalg.matrix_rank(centered) == 6
    out = pooled(all_but_the_top(space, k))
    assert np.linalg.matrix_rank(out, tol=1e-8) == 6 - k
    np.testing.assert_allclose(out.mean(axis=0), 0.0, atol=1e-10)
    _, components, explained = principal_components(space, k)
    np.testing.assert_allclose(out @ components.T, 0.0, atol=1e-10)
    np.testing.assert_allclose(components @ components.T, np.eye(k), atol=1e-10)
    assert np.all(np.diff(explained) <= 1e-12) and 0 < explained.sum() < 1


def test_principal_components_match_svd():
    space = random_space(seed=3)
    rows = pooled(space)
    _, _, vt = np.linalg.svd(rows - rows.mean(axis=0), full_matrices=False)
    _, components, _ = principal_components(space, 3)
    np.testing.assert_allclose(np.abs(components @ vt[:3].T), np.eye(3), atol=1e-8)
    biggest = np.argmax(np.abs(components), axis=1)
    assert np.all(components[np.arange(3), biggest] > 0)


def test_all_but_the_top_removes_a_planted_direction():
    rng = np.random.default_rng(1)
    spike = np.zeros(5)
    spike[2] = 1.0
    space = {
        lang: rng.normal(size=(20, 5)) * 0.1 + rng.normal(size=(20, 1)) * 50 * spike
        for lang in "xy"
    }
    out = pooled(all_but_the_top(space, 1))
    assert np.abs(out[:, 2]).max() < 0.5  # the huge dimension is gone
    assert default_n_components(640) == 6 and default_n_components(4096) == 41
    assert default_n_components(20) == 1


def test_standardise_zero_mean_unit_variance_and_constant_dimension():
    space = random_space()
    space = {lang: np.column_stack([x, np.full(len(x), 7.0)]) for lang, x in space.items()}
    rows = pooled(standardise(space))
    np.testing.assert_allclose(rows.mean(axis=0), 0.0, atol=1e-12)
    np.testing.assert_allclose(rows[:, :-1].std(axis=0), 1.0, atol=1e-12)
    np.testing.assert_array_equal(rows[:, -1], 0.0)


def test_apply_baseline_dispatches():
    space = random_space()
    assert set(BASELINES) == {"language_centering", "all_but_the_top", "standardise"}
    for name, fn in BASELINES.items():
        got, want = apply_baseline(name, space), fn(space)
        for lang in space:
            np.testing.assert_array_equal(got[lang], want[lang])
    got = apply_baseline("all_but_the_top", space, n_components=2)
    np.testing.assert_array_equal(got["a"], all_but_the_top(space, 2)["a"])


def test_errors_are_one_line_value_errors():
    space = random_space(d=4)
    cases = [
        (lambda: center_languages({}), "at least one language"),
        (lambda: standardise({"a": np.ones((3, 2)), "b": np.ones((4, 2))}), "aligned"),
        (lambda: all_but_the_top(space, 4), r"n_components must be an integer in 1\.\.3"),
        (lambda: all_but_the_top(space, 0), "n_components"),
        (lambda: all_but_the_top({"a": np.ones((2, 5))}, 2), "below the 2 pooled rows"),
        (lambda: apply_baseline("whiten", space), "baseline must be one of"),
        (lambda: standardise({"a": np.array([[np.nan, 1.0]])}), "finite"),
        (lambda: top_dimensions(space, 9), "n must be in"),
        (lambda: removed_directions("standardise", space, n_dimensions=4), "n_dimensions"),
        (
            lambda: shift_alignment(
                space, {"a": space["a"]}, Directions("x", np.eye(4)[:1], ("e0",))
            ),
            "same languages",
        ),
    ]
    for call, message in cases:
        with pytest.raises(ValueError, match=message) as info:
            call()
        assert "\n" not in str(info.value)


# --------------------------------------------------------------------------- statistics


def test_dimension_shares_and_top_dimensions_hand_checked():
    space = {"a": np.array([[3.0, 1.0, 0.0], [3.0, -1.0, 0.0]])}
    shares = dimension_shares(space)
    np.testing.assert_allclose(shares["norm_share"], [0.9, 0.1, 0.0])
    np.testing.assert_allclose(shares["variance_share"], [0.0, 1.0, 0.0])
    top = top_dimensions(space, 2)
    assert top["dimension"].tolist() == [0, 1]
    np.testing.assert_allclose(top["cumulative"], [0.9, 1.0])
    assert top_dimensions(space, 1, by="variance_share")["dimension"].tolist() == [1]


def test_space_statistics_isotropic_vs_one_direction():
    one = {"a": np.outer(np.arange(1.0, 6.0), [0.0, 2.0, 0.0])}
    stats = space_statistics(one, n_top=2)
    assert stats["top1_norm_share"] == pytest.approx(1.0)
    assert stats["mean_cosine"] == pytest.approx(1.0)
    assert stats["effective_dim"] == pytest.approx(1.0)
    iso = {"a": np.vstack([np.eye(3), -np.eye(3)])}
    stats = space_statistics(iso, n_top=2)
    assert stats["effective_dim"] == pytest.approx(3.0)
    assert stats["mean_cosine"] == pytest.approx(0.0, abs=1e-12)
    assert stats["top2_norm_share"] == pytest.approx(2 / 3)
    assert stats["median_norm"] == pytest.approx(1.0)


# --------------------------------------------------------------------------- alignment


def test_shift_alignment_along_and_orthogonal():
    rng = np.random.default_rng(0)
    pre = {lang: rng.normal(size=(8, 4)) for lang in "ab"}
    e0, e1 = np.eye(4)[0], np.eye(4)[1]
    directions = Directions("test", np.array([e0]), ("e0",))
    along = shift_alignment(pre, {lang: x + 2.5 * e0 for lang, x in pre.items()}, directions)
    np.testing.assert_allclose(along["cosine"], 1.0)
    np.testing.assert_allclose(along["span_fraction"], 1.0)
    np.testing.assert_allclose(along["shift_norm"], 2.5)
    np.testing.assert_allclose(along["chance"], 0.5)
    against = shift_alignment(pre, {lang: x - e0 for lang, x in pre.items()}, directions)
    np.testing.assert_allclose(against["cosine"], -1.0)
    ortho = shift_alignment(pre, {lang: x + 3 * e1 for lang, x in pre.items()}, directions)
    np.testing.assert_allclose(ortho["cosine"], 0.0, atol=1e-12)
    np.testing.assert_allclose(ortho["span_fraction"], 0.0, atol=1e-12)
    assert list(ortho.index) == ["a", "b", "pooled"]


def test_shift_alignment_with_language_means():
    pre = {
        "a": np.array([[2.0, 0.0, 1.0], [2.0, 0.0, -1.0]]),
        "b": np.array([[0.0, 4.0, 1.0], [0.0, 4.0, -1.0]]),
    }
    directions = removed_directions("language_centering", pre)
    np.testing.assert_allclose(directions.own["a"], [2.0, 0.0, 0.0])
    np.testing.assert_allclose(directions.shared, [[1.0, 2.0, 0.0]])
    # the intervention halves each language's mean: a shift straight against it
    post = {lang: x - 0.5 * directions.own[lang] for lang, x in pre.items()}
    got = shift_alignment(pre, post, directions)
    np.testing.assert_allclose(got["cosine"], -1.0)
    np.testing.assert_allclose(got["span_fraction"], 1.0)
    # each language's own translation explains it all; one shared translation half of it
    assert translation_share(pre, post).tolist() == pytest.approx([1.0, 1.0, 1.0, 0.5])


def test_removed_directions_span_the_removed_part():
    space = random_space(d=8)
    abtt = removed_directions("all_but_the_top", space, n_components=3)
    assert abtt.labels == ("pc1", "pc2", "pc3") and abtt.shared.shape == (3, 8)
    out = pooled(all_but_the_top(space, 3))
    np.testing.assert_allclose(out @ abtt.shared.T, 0.0, atol=1e-10)
    std = removed_directions("standardise", space, n_dimensions=2)
    assert std.labels == ("dim 7", "dim 6")  # the random_space scale grows with the index
    np.testing.assert_array_equal(std.shared, np.eye(8)[[7, 6]])


def test_translation_share_pure_translation_and_pure_rotation():
    rng = np.random.default_rng(2)
    pre = {"a": rng.normal(size=(50, 3))}
    moved = {"a": pre["a"] + np.array([1.0, -2.0, 0.5])}
    assert translation_share(pre, moved)["a"] == pytest.approx(1.0)
    flipped = {"a": pre["a"] - 2 * (pre["a"] - pre["a"].mean(axis=0))}  # mirror about the mean
    assert translation_share(pre, flipped)["a"] == pytest.approx(0.0, abs=1e-12)


# --------------------------------------------------------------------------- retrieval


@pytest.mark.parametrize("score", ["dot", "cosine"])
def test_all_pairs_top1_equals_retrieval_matrix(score):
    rng = np.random.default_rng(4)
    shared = rng.normal(size=(12, 6))
    space = {lang: shared + rng.normal(size=(12, 6)) * (1 + i) for i, lang in enumerate("abcd")}
    space["c"][3] *= 10  # a hub: a huge-norm candidate wins many inner products
    got = all_pairs_top1(space, score=score)
    pd.testing.assert_frame_equal(got, retrieval_matrix(space, score=score))
    fast = all_pairs_top1(space, score=score, dtype=np.float32)
    np.testing.assert_allclose(fast.to_numpy(), got.to_numpy(), atol=1 / 12 + 1e-9)
    assert np.isnan(np.diag(got.to_numpy())).all()


def test_all_pairs_top1_perfect_and_errors():
    space = {"a": np.eye(3), "b": 2 * np.eye(3)}
    np.testing.assert_array_equal(all_pairs_top1(space).to_numpy(), [[np.nan, 1.0], [1.0, np.nan]])
    with pytest.raises(ValueError, match="score must be one of"):
        all_pairs_top1(space, score="l2")

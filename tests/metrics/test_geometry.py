"""Embedding-space geometry (paper §4, Table 1): hand-checked cases, scipy/sklearn."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from scipy.spatial.distance import cdist
from sklearn.metrics.pairwise import cosine_distances as sk_cosine_distances

from steerspace.metrics.geometry import (
    cosine_distances,
    distance_matrix,
    distances_to_medoid,
    language_distance,
    mean_sem,
    medoid,
    space_medoid,
    table1_row,
    umap_projection,
)


def random_space(seed: int = 0, langs: str = "abcd", n: int = 7, d: int = 5) -> dict:
    rng = np.random.default_rng(seed)
    return {lang: rng.normal(size=(n, d)) + i for i, lang in enumerate(langs)}


# --------------------------------------------------------------------------- cosine


def test_cosine_distances_hand_checked():
    a = np.array([[1.0, 0.0], [0.0, 2.0], [3.0, 3.0]])
    b = np.array([[5.0, 0.0], [-1.0, 0.0]])
    expected = np.array(
        [
            [0.0, 2.0],  # identical direction, opposite direction
            [1.0, 1.0],  # orthogonal
            [1 - 1 / np.sqrt(2), 1 + 1 / np.sqrt(2)],  # 45° and 135°
        ]
    )
    got = cosine_distances(a, b)
    assert got.dtype == np.float64 and got.shape == (3, 2)
    np.testing.assert_allclose(got, expected, atol=1e-12)


def test_cosine_distances_match_scipy_and_sklearn():
    rng = np.random.default_rng(1)
    a = rng.normal(size=(6, 4)).astype(np.float32)
    b = rng.normal(size=(9, 4))
    got = cosine_distances(a, b)
    np.testing.assert_allclose(got, cdist(a.astype(np.float64), b, "cosine"), atol=1e-12)
    np.testing.assert_allclose(got, sk_cosine_distances(a.astype(np.float64), b), atol=1e-12)


def test_cosine_distances_zero_vector_is_distance_one():
    a = np.array([[0.0, 0.0], [1.0, 0.0]])
    got = cosine_distances(a, a)
    np.testing.assert_array_equal(got, [[1.0, 1.0], [1.0, 0.0]])
    assert np.isfinite(got).all()


def test_cosine_distances_errors():
    with pytest.raises(ValueError, match=r"same dimension.*\(2, 3\).*\(2, 4\)"):
        cosine_distances(np.ones((2, 3)), np.ones((2, 4)))
    with pytest.raises(ValueError, match=r"a must be a non-empty 2-D array.*\(3,\)"):
        cosine_distances(np.ones(3), np.ones((2, 3)))
    with pytest.raises(ValueError, match="b must be finite"):
        cosine_distances(np.ones((2, 3)), np.array([[1.0, np.nan, 0.0]]))


# --------------------------------------------------------------------------- languages


def test_language_distance_all_pairs_equals_mean_of_cdist():
    space = random_space()
    a, b = space["a"], space["c"]
    assert language_distance(a, b) == pytest.approx(cdist(a, b, "cosine").mean(), abs=1e-12)
    assert language_distance(a, b) == pytest.approx(language_distance(b, a), abs=1e-12)


def test_language_distance_within_excludes_diagonal():
    a = random_space()["b"]
    full = cdist(a, a, "cosine")
    n = len(a)
    expected = full[~np.eye(n, dtype=bool)].mean()
    assert language_distance(a, a) == pytest.approx(expected, abs=1e-12)
    # an equal copy is recognised as the same set
    assert language_distance(a, a.copy()) == pytest.approx(expected, abs=1e-12)
    # and it is larger than the mean with zeros on the diagonal
    assert language_distance(a, a) > full.mean()


def test_language_distance_aligned_hand_checked():
    a = np.array([[1.0, 0.0], [0.0, 1.0]])
    b = np.array([[1.0, 0.0], [1.0, 0.0]])
    # pair 0 identical (0), pair 1 orthogonal (1) -> 0.5; all four pairs -> (0+0+1+1)/4
    assert language_distance(a, b, pairs="aligned") == pytest.approx(0.5)
    assert language_distance(a, b, pairs="all") == pytest.approx(0.5)
    c = np.array([[0.0, 1.0], [1.0, 0.0]])
    assert language_distance(a, c, pairs="aligned") == pytest.approx(1.0)
    assert language_distance(a, c, pairs="all") == pytest.approx(0.5)


def test_language_distance_errors_and_single_sentence():
    a = np.ones((3, 2))
    with pytest.raises(ValueError, match=r"pairs must be one of \('all', 'aligned'\), got 'some'"):
        language_distance(a, a, pairs="some")
    with pytest.raises(ValueError, match="same number of sentences, got 3 and 2"):
        language_distance(a, np.ones((2, 2)), pairs="aligned")
    one = np.array([[1.0, 2.0]])
    with pytest.warns(RuntimeWarning, match="at least 2 sentences"):
        assert np.isnan(language_distance(one, one))


@pytest.mark.parametrize("pairs", ["all", "aligned"])
def test_distance_matrix_matches_language_distance(pairs):
    space = random_space(2)
    dist = distance_matrix(space, pairs=pairs)
    assert list(dist.index) == list(dist.columns) == list(space)
    np.testing.assert_allclose(dist.to_numpy(), dist.to_numpy().T, atol=1e-12)
    for x in space:
        for y in space:
            if x == y:
                ref = language_distance(space[x], space[x])  # within, all pairs
            else:
                ref = language_distance(space[x], space[y], pairs=pairs)
            assert dist.loc[x, y] == pytest.approx(ref, abs=1e-12)


def test_distance_matrix_errors():
    with pytest.raises(ValueError, match="one hidden size"):
        distance_matrix({"a": np.ones((2, 3)), "b": np.ones((2, 4))})
    with pytest.raises(ValueError, match="same number of sentences per language"):
        distance_matrix({"a": np.ones((2, 3)), "b": np.ones((3, 3))}, pairs="aligned")
    with pytest.raises(ValueError, match="at least one language"):
        distance_matrix({})


# --------------------------------------------------------------------------- medoid


def test_medoid_three_points_by_hand():
    # angles 0°, 60°, 90°: summed distances 0°: 0.5+1=1.5, 60°: 0.5+(1-cos30°)=0.634, 90°: 1.634
    pts = np.array([[1.0, 0.0], [0.5, np.sqrt(3) / 2], [0.0, 3.0]])
    assert medoid(pts) == 1


def test_medoid_matches_brute_force_and_ignores_scale():
    rng = np.random.default_rng(3)
    pts = rng.normal(size=(200, 6)) + 0.3
    brute = int(np.argmin(cdist(pts, pts, "cosine").sum(axis=1)))
    assert medoid(pts) == brute
    scaled = pts * rng.uniform(0.1, 10.0, size=(200, 1))
    assert medoid(scaled) == brute


def test_medoid_with_zero_vector():
    # a and -a are at distance 2; the zero vector is at 1 from each: it is the medoid
    pts = np.array([[1.0, 0.0], [-1.0, 0.0], [0.0, 0.0]])
    assert medoid(pts) == 2


def test_space_medoid_and_distances_to_medoid():
    space = {
        "x": np.array([[1.0, 0.0], [1.0, 0.1]]),
        "y": np.array([[0.7, 0.7], [0.0, 1.0]]),
        "z": np.array([[0.0, 1.0], [-0.1, 1.0]]),
    }
    pooled = np.concatenate(list(space.values()))
    k = int(np.argmin(cdist(pooled, pooled, "cosine").sum(axis=1)))
    assert k == 2  # the 45° sentence sits between the two clusters
    lang, index, point = space_medoid(space)
    assert (lang, index) == ("y", 0)
    np.testing.assert_array_equal(point, [0.7, 0.7])
    dist = distances_to_medoid(space)
    assert list(dist.index) == ["x", "y", "z"]
    assert dist.attrs == {"medoid_language": "y", "medoid_index": 0}
    means = np.stack([v.mean(axis=0) for v in space.values()])
    np.testing.assert_allclose(dist.to_numpy(), cdist(means, point[None], "cosine")[:, 0])
    # y's mean (0.35, 0.85) is closer to 45° than x's and z's means
    assert dist["y"] < dist["x"] and dist["y"] < dist["z"]


# --------------------------------------------------------------------------- Table 1


def test_table1_row_definitions():
    space = random_space(4, langs="abcde")
    row = table1_row(space, "c")
    dist = distance_matrix(space)
    others = ["a", "b", "d", "e"]
    pairs = [(x, y) for i, x in enumerate(others) for y in others[i + 1 :]]
    assert row["all_languages"] == pytest.approx(np.mean([dist.loc[x, y] for x, y in pairs]))
    langs = list(space)
    pairs_all = [(x, y) for i, x in enumerate(langs) for y in langs[i + 1 :]]
    assert row["all_languages_incl_target"] == pytest.approx(
        np.mean([dist.loc[x, y] for x, y in pairs_all])
    )
    med = distances_to_medoid(space)
    assert row["medoid_target"] == pytest.approx(med["c"])
    assert row["medoid_non_target"] == pytest.approx(med[others].mean())
    assert row["target"] == pytest.approx(np.mean([dist.loc["c", y] for y in others]))


def test_table1_row_shrinking_space_reduces_every_distance():
    # "post" = every sentence pulled halfway to a common point: all Table 1 distances drop
    pre = random_space(5, langs="abcd", n=20, d=8)
    centre = np.full(8, 3.0)
    post = {k: 0.2 * v + 0.8 * centre for k, v in pre.items()}
    before, after = table1_row(pre, "a"), table1_row(post, "a")
    assert set(before) == {
        "all_languages",
        "all_languages_incl_target",
        "medoid_target",
        "medoid_non_target",
        "target",
    }
    for key in before:
        assert after[key] < before[key], key


def test_table1_row_errors():
    space = random_space()
    with pytest.raises(ValueError, match=r"target must be one of \['a', 'b', 'c', 'd'\], got 'q'"):
        table1_row(space, "q")
    with pytest.raises(ValueError, match="at least 3 languages"):
        table1_row({"a": space["a"], "b": space["b"]}, "a")


def test_mean_sem():
    mean, sem = mean_sem([1.0, 2.0, 3.0, 6.0])
    assert mean == pytest.approx(3.0)
    assert sem == pytest.approx(np.sqrt(14 / 3) / 2)  # sd (ddof=1) / sqrt(4)
    assert mean_sem(pd.Series([0.5, 0.5]))[1] == 0.0
    m, s = mean_sem([0.7])
    assert m == 0.7 and np.isnan(s)
    with pytest.raises(ValueError, match="at least one number"):
        mean_sem([])


# --------------------------------------------------------------------------- UMAP


def test_umap_projection_reproducible_and_guarded():
    rng = np.random.default_rng(0)
    pts = np.concatenate([rng.normal(size=(15, 6)) + 4, rng.normal(size=(15, 6)) - 4])
    first = umap_projection(pts, seed=7, n_neighbors=5)
    second = umap_projection(pts, seed=7, n_neighbors=5)
    assert first.shape == (30, 2) and first.dtype == np.float64
    assert np.isfinite(first).all()
    np.testing.assert_array_equal(first, second)
    with pytest.warns(UserWarning, match="n_neighbors=50 is not below the 30 points; using 29"):
        guarded = umap_projection(pts, seed=7, n_neighbors=50)
    assert guarded.shape == (30, 2)
    with pytest.raises(ValueError, match="at least 3 rows"):
        umap_projection(pts[:2], seed=0)
    with pytest.raises(ValueError, match="n_neighbors must be at least 2, got 1"):
        umap_projection(pts, seed=0, n_neighbors=1)


def test_table1_summary_is_mean_and_sem_over_targets():
    from steerspace.metrics.geometry import table1, table1_row

    rng = np.random.default_rng(3)
    pre = {lang: rng.normal(size=(6, 4)) for lang in ("a", "b", "c", "d")}
    # post: every language collapses toward one shared direction
    post = {t: {lang: x * 0.1 + 5.0 for lang, x in pre.items()} for t in ("a", "b")}
    per_target, summary = table1(pre, post)
    assert len(per_target) == 4 and set(per_target["space"]) == {"pre", "post"}
    rows = [table1_row(post[t], t)["target"] for t in ("a", "b")]
    got = summary.set_index(["language", "distance_type"]).loc[("Non-Target", "target")]
    assert got["post"] == pytest.approx(np.mean(rows))
    assert got["post_sem"] == pytest.approx(np.std(rows, ddof=1) / np.sqrt(2))
    # collapsing onto one direction shrinks every distance
    assert (summary["post"] < summary["pre"]).all()


def test_umap_pre_post_shapes_and_seed():
    from steerspace.metrics.geometry import umap_pre_post

    rng = np.random.default_rng(0)
    pre = {lang: rng.normal(size=(12, 5)) for lang in ("a", "b", "c")}
    post = {lang: x + 3.0 for lang, x in pre.items()}
    coords = umap_pre_post(pre, post, n=10, seed=0)
    assert set(coords) == {"a", "b", "c"}
    assert all(p.shape == (10, 2) and q.shape == (10, 2) for p, q in coords.values())
    again = umap_pre_post(pre, post, n=10, seed=0)
    np.testing.assert_allclose(coords["b"][1], again["b"][1])


def test_table1_resampled_point_is_table1_and_intervals_are_paired():
    from steerspace.metrics.geometry import TABLE1_QUANTITIES, table1_resampled

    rng = np.random.default_rng(0)
    langs = ["en", "de", "fr", "es"]
    pre = {lang: rng.normal(size=(30, 8)) + rng.normal(size=8) * 3 for lang in langs}
    post = {lang: 0.5 * x + rng.normal(size=8) for lang, x in pre.items()}
    out = table1_resampled({"pre": pre, "es": post}, ["es", "de"], n_boot=200, seed=1)
    for label, space in (("pre", pre), ("es", post)):
        for target in ("es", "de"):
            row = table1_row(space, target)
            for q in TABLE1_QUANTITIES:
                values = out[label, target, q]
                assert values.shape == (201,)
                assert values[0] == pytest.approx(row[q])
                assert np.percentile(values[1:], 1) <= values[0] <= np.percentile(values[1:], 99)
    # the reference space has no shift relative to itself: its new-space contrast is 0
    assert np.allclose(out["pre", "es", "new_space"], 0.0)
    # "target" is the mean of the per-language distances to the target
    per_language = [out["es", "es", f"to_target:{x}"] for x in ("en", "de", "fr")]
    assert np.allclose(np.mean(per_language, axis=0), out["es", "es", "target"])
    # the medoid's stability is a share of resamples; the centre's distance is smooth
    assert set(np.unique(out["es", "es", "medoid_same"])) <= {0.0, 1.0}
    assert out["es", "es", "medoid_same"][0] == 1.0
    # pairing: the same resample of a space twice gives identical changes
    twice = table1_resampled({"pre": pre, "copy": pre}, ["es"], n_boot=50, seed=2)
    assert np.array_equal(twice["pre", "es", "target"], twice["copy", "es", "target"])
    with pytest.raises(ValueError, match="same languages"):
        table1_resampled({"pre": pre, "es": {"en": post["en"]}}, ["es"], n_boot=10)


def test_the_new_space_contrast_ignores_a_contraction_and_sees_a_move_to_the_target():
    from steerspace.metrics.geometry import table1_resampled

    rng = np.random.default_rng(4)
    langs = ["en", "de", "fr", "es", "ja"]
    centres = {lang: rng.normal(size=16) * 3 for lang in langs}
    pre = {lang: centres[lang] + rng.normal(size=(40, 16)) for lang in langs}
    # every language pulled halfway to a point unrelated to all of them (orthogonal to
    # every centre): a new space
    basis, _ = np.linalg.qr(np.stack(list(centres.values()), axis=1))
    away = rng.normal(size=16)
    away = 6 * (away - basis @ (basis.T @ away))
    new = {lang: 0.5 * x + 0.5 * away for lang, x in pre.items()}
    # every language pulled halfway to the target's original centre
    old = {lang: 0.5 * x + 0.5 * centres["es"] for lang, x in pre.items()}
    out = table1_resampled({"pre": pre, "new": new, "old": old}, ["es"], n_boot=200, seed=0)
    assert out["old", "es", "new_space"][0] < -0.05  # moves to the target's old place
    assert abs(out["new", "es", "new_space"][0]) < abs(out["old", "es", "new_space"][0]) / 3


def test_nearest_original_names_where_each_language_lands():
    from steerspace.metrics.geometry import nearest_original

    rng = np.random.default_rng(5)
    centres = {lang: rng.normal(size=16) * 4 for lang in ("en", "de", "es")}
    pre = {lang: c + rng.normal(size=(30, 16)) for lang, c in centres.items()}
    post = {"en": pre["es"] + 0.01, "de": pre["de"] + 0.01, "es": pre["es"]}
    table = nearest_original(pre, post)
    assert table.loc["en", "nearest"] == "es" and table.loc["de", "nearest"] == "de"
    assert table.loc["de", "own"] == pytest.approx(table.loc["de", "distance"])

"""Post-hoc baselines (chapter "Is steering more than re-centering?"): hand-made cases."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from steerspace.analyses.baselines import (
    BASELINES,
    VIEWS,
    Directions,
    accuracy_intervals,
    alignment_table,
    all_but_the_top,
    all_pairs_hits,
    all_pairs_top1,
    anisotropy_values,
    apply_baseline,
    baseline_labels,
    best_baseline,
    center_languages,
    combination_intervals,
    combination_values,
    default_n_components,
    dimension_shares,
    distance_cells,
    distance_intervals,
    distance_values,
    method_table,
    pair_deltas,
    paired_change,
    principal_components,
    removed_directions,
    score_conditions,
    shift_alignment,
    shift_values,
    sign_values,
    similarity_values,
    space_statistics,
    standardise,
    statistics_table,
    sweep_intervals,
    sweep_values,
    target_changes,
    top_dimensions,
    translation_share,
    translation_share_intervals,
    versus_values,
    view_hits,
)
from steerspace.metrics.inference import Estimate
from steerspace.metrics.retrieval import retrieval_matrix
from steerspace.text.format import fmt, fmt_ci


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


def test_all_pairs_hits_are_per_query_and_keep_the_queries_as_rows():
    space = {"a": np.eye(4), "b": 2 * np.eye(4), "c": np.eye(4)[[1, 0, 2, 3]]}
    hits = all_pairs_hits(space)
    assert hits.shape == (3, 3, 4) and not hits[[0, 1, 2], [0, 1, 2]].any()
    np.testing.assert_array_equal(hits[0, 1], [True] * 4)
    np.testing.assert_array_equal(hits[0, 2], [False, False, True, True])  # c swaps rows 0, 1
    langs = list(space)
    query = view_hits(hits, langs, "a", "target as query")
    assert query.shape == (4, 2) and query.mean() == pytest.approx(0.75)
    pairs = view_hits(hits, langs, "a", "all pairs")
    assert pairs.shape == (4, 6) and pairs.mean() == pytest.approx(
        np.nanmean(all_pairs_top1(space))
    )
    with pytest.raises(ValueError, match="view must be one of"):
        view_hits(hits, langs, "a", "diagonal")


def test_score_conditions_and_intervals_compare_the_same_queries():
    rng = np.random.default_rng(5)
    meaning = rng.normal(size=(30, 8))
    pre = {lang: meaning + rng.normal(size=(30, 8)) + 20 * rng.normal(size=8) for lang in "abcd"}
    post = {
        "a": {lang: x - x.mean(axis=0) for lang, x in pre.items()}
    }  # the "intervention" centres
    hits = score_conditions(pre, post, n_components=1)
    assert len(hits) == 2 * (1 + len(BASELINES)) * 2
    table = accuracy_intervals(hits, list(pre), ["a"], n_boot=100)
    assert set(table["space"]) == {"pre", "post"} and (table["n"] == 30).all()
    # the intervention here *is* language centering: no change between the two
    same = paired_change(
        hits,
        list(pre),
        "a",
        "all pairs",
        "dot",
        ("pre", "language_centering"),
        ("a", "none"),
        n_boot=300,
    )
    assert same.value == 0.0 and same.low == 0.0 and same.high == 0.0
    gain = paired_change(
        hits, list(pre), "a", "all pairs", "dot", ("pre", "none"), ("a", "none"), n_boot=300
    )
    assert gain.value > 0 and gain.low > 0


def test_distance_intervals_leave_out_medoids_after_centering():
    space = random_space(langs="abcd", n=12)
    post = {"a": {lang: 0.5 * x for lang, x in space.items()}}  # a rescaling changes no cosine
    table = distance_intervals(space, post, n_components=1, n_boot=50)
    centred = table[
        (table.baseline == "language_centering") & table.quantity.str.startswith("medoid")
    ]
    assert len(centred) and centred["value"].isna().all()
    post_none = table[(table.space == "post") & (table.baseline == "none")]
    assert np.allclose(post_none["change"], 0.0, atol=1e-12)
    assert np.allclose(post_none[["change_low", "change_high"]], 0.0, atol=1e-12)


def test_translation_share_intervals_match_the_point_values():
    rng = np.random.default_rng(3)
    pre = {lang: rng.normal(size=(40, 5)) for lang in "ab"}
    post = {
        lang: x + rng.normal(size=5) + 0.3 * rng.normal(size=x.shape) for lang, x in pre.items()
    }
    table = translation_share_intervals(pre, post, n_boot=200)
    np.testing.assert_allclose(table["value"], translation_share(pre, post).to_numpy())
    assert (table["low"] <= table["value"]).all() and (table["value"] <= table["high"]).all()


def _toy_conditions():
    rng = np.random.default_rng(7)
    meaning = rng.normal(size=(30, 8))
    pre = {lang: meaning + rng.normal(size=(30, 8)) + 20 * rng.normal(size=8) for lang in "abcd"}
    post = {"a": {lang: x - 0.5 * x.mean(axis=0) for lang, x in pre.items()}}
    return pre, post, score_conditions(pre, post, n_components=1)


def test_method_table_pair_deltas_and_combination():
    pre, post, hits = _toy_conditions()
    langs = list(pre)
    acc = accuracy_intervals(hits, langs, ["a"], n_boot=50)
    labels = baseline_labels(1)
    methods = method_table(acc, labels)
    assert set(methods["method"]) == {*labels.values(), "intervention"}
    deltas = pair_deltas(hits, langs, {"centred": ("pre", "language_centering", "dot")})
    expected = hits["pre", "language_centering", "dot"].mean(axis=2) - hits[
        "pre", "none", "dot"
    ].mean(axis=2)
    np.fill_diagonal(expected, np.nan)
    np.testing.assert_allclose(deltas["centred"].to_numpy(), expected)
    comb = combination_intervals(hits, langs, ["a"], n_boot=50).set_index(["baseline", "part"])
    for b in BASELINES:
        both, alone = comb.loc[(b, "both"), "value"], comb.loc[(b, "baseline alone"), "value"]
        assert comb.loc[(b, "added"), "value"] == pytest.approx(both - alone)
        total = comb.loc[(b, "intervention"), "value"] + alone
        assert comb.loc[(b, "sum"), "value"] == pytest.approx(total)


def test_sweep_and_alignment_tables():
    pre, post, _ = _toy_conditions()
    sweep = sweep_intervals(pre, [1, 2], n_boot=50)
    assert sweep[["components", "score"]].values.tolist() == [
        [1, "dot"],
        [1, "cosine"],
        [2, "dot"],
        [2, "cosine"],
    ]
    ref = np.nanmean(all_pairs_top1(all_but_the_top(pre, 2), score="cosine"))
    assert sweep.iloc[3]["value"] == pytest.approx(ref, abs=1 / 30)
    table = alignment_table(pre, post, n_components=1)
    # the toy intervention halves each language's mean: straight against it
    assert table.loc[("language_centering", "a"), "mean cosine (languages)"] == pytest.approx(-1.0)


def test_values_of_the_baselines_chapter():
    from steerspace.metrics.inference import Estimate

    up, zero, down = (
        Estimate(0.02, 0.01, 0.03, 9),
        Estimate(-0.001, -0.01, 0.01, 9),
        Estimate(-0.02, -0.03, -0.01, 9),
    )
    none = {"sign_differ": "none", "sign_contradict": "none"}
    assert sign_values({"a": up, "b": up}, {"a": up, "b": up}) == none
    text = sign_values({"a": up, "b": up}, {"a": zero, "b": down})
    assert text == {"sign_differ": "a, b", "sign_contradict": "b"}
    assert sign_values({"a": up}, {"a": zero}) == {"sign_differ": "a", "sign_contradict": "none"}
    pre, post, _ = _toy_conditions()
    dist = distance_intervals(pre, post, n_components=1, n_boot=30)
    out = distance_values(dist, baseline_labels(1))
    assert out["d_all"].startswith("original ") and "the intervention" in out["d_all"]
    moves = {"a": translation_share_intervals(pre, post["a"], n_boot=30)}
    shift = shift_values(
        moves,
        alignment_table(pre, post, n_components=1).rename(
            index=baseline_labels(1), level="baseline"
        ),
        "language centering",
    )
    assert shift["own"] == "a −1.00" and shift["translation"].startswith("**a** 100.0")


def test_anisotropy_values_name_the_dominant_dimension():
    rng = np.random.default_rng(0)
    pre = {lang: rng.normal(size=(20, 4)) * [1.0, 1.0, 10.0, 1.0] for lang in "ab"}
    stats = pd.DataFrame({"pre": space_statistics(pre), "post a": space_statistics(pre)}).T
    text = anisotropy_values(pre, stats)
    assert text["top_dim"] == "2" and text["top_norm"].startswith("9") and text["iso"] == "25.0 %"
    assert text["cos_pre"] == f"{stats.loc['pre', 'mean_cosine']:.2f}"
    assert text["cos_post"] == f"a {stats.loc['post a', 'mean_cosine']:.2f}"


def test_target_changes_stand_post_for_each_targets_own_space():
    pre, post, hits = _toy_conditions()
    hits |= {("b", *key[1:]): h for key, h in hits.items() if key[0] == "a"}
    langs, standardised = list(pre), ("pre", "standardise")
    changes = target_changes(hits, langs, ["a", "b"], ("post", "none"), standardised, n_boot=30)
    assert list(changes) == ["a", "b"]
    for t in ("a", "b"):
        own = (t, "none")
        expected = paired_change(hits, langs, t, VIEWS[0], "dot", own, standardised, n_boot=30)
        assert changes[t] == expected
    cosine = target_changes(
        hits, langs, ["a"], ("pre", "none"), ("post", "none"), score="cosine", n_boot=300
    )
    assert cosine["a"] == paired_change(
        hits, langs, "a", "target as query", "cosine", ("pre", "none"), ("a", "none"), n_boot=300
    )


def test_statistics_table_has_a_row_per_space():
    pre, post, _ = _toy_conditions()
    stats = statistics_table(pre, post, ["a"], 2)
    assert list(stats.index) == ["pre", "post a"]
    assert stats.loc["post a"].to_dict() == pytest.approx(space_statistics(post["a"], 2))


def test_similarity_versus_and_best_baseline_values():
    up, flat = Estimate(0.05, 0.02, 0.08, 30), Estimate(-0.01, -0.03, 0.01, 30)
    rows = [
        {
            "space": "pre",
            "view": "all pairs",
            "score": sc,
            "value": v,
            "low": v - 0.1,
            "high": v + 0.1,
            "n": 30,
        }
        for sc, v in (("dot", 0.2), ("cosine", 0.5))
    ]
    plain = pd.DataFrame(rows)
    text = similarity_values(plain, {"dot": {"a": up}, "cosine": {"a": flat}}, 1 / 30)
    assert text["pairs_dot"] == "0.200 [0.100, 0.300]"
    assert text["pairs_cosine"] == "0.500 [0.400, 0.600]" and text["chance"] == "0.033"
    assert text["gain_dot"] == (
        "**a** +5.0 [+2.0, +8.0] pp (1 of 1 above zero (a), 0 below, 0 not distinguishable from zero)"
    )
    assert text["gain_cosine"].startswith("**a** −1.0 [−3.0, +1.0] pp (0 of 1 above zero")
    assert text["sign_differ"] == sign_values({"a": up}, {"a": flat})["sign_differ"] == "a"
    versus = versus_values("language centering", {"a": up}, {"a": flat})
    assert versus == {
        "best": "language centering",
        "best_cap": "Language centering",
        "versus_range": "−1.0 pp (0 of 1 above zero, 0 below, 1 not distinguishable from zero)",
        "best_gain": "**a** +5.0 [+2.0, +8.0] pp",
        "versus": "**a** −1.0 [−3.0, +1.0] pp (0 of 1 above zero, 0 below, 1 not "
        "distinguishable from zero)",
    }
    pre, _, hits = _toy_conditions()
    acc = accuracy_intervals(hits, list(pre), ["a"], n_boot=30)
    table = method_table(acc, baseline_labels(1))
    dot = table[(table.space == "pre") & (table.view == "all pairs") & (table.score == "dot")]
    best = best_baseline(table)
    assert best in BASELINES
    assert (
        dot.set_index("baseline").loc[best, "value"] == dot[dot.baseline != "none"]["value"].max()
    )


def test_distance_cells_sweep_and_combination_values():
    pre, post, hits = _toy_conditions()
    dist = distance_intervals(pre, post, n_components=1, n_boot=20)
    cells = distance_cells(dist)
    assert cells.index.names == ["space", "baseline", "target"]
    row = dist[
        (dist.space == "pre") & (dist.baseline == "none") & (dist.quantity == "all_languages")
    ]
    expected = fmt_ci(Estimate(*row[["value", "low", "high"]].iloc[0], 0), "dist")
    assert cells.loc[("pre", "none", "a"), "all_languages"] == expected
    sweep = pd.DataFrame(
        {
            "components": [1, 1, 2, 2],
            "score": ["dot", "cosine", "dot", "cosine"],
            "value": [0.3, 0.4, 0.5, 0.1],
            "low": [0.2, 0.3, 0.4, 0.0],
            "high": [0.4, 0.5, 0.6, 0.2],
            "n": 30,
        }
    )
    assert sweep_values(sweep, 1) == {
        "sweep_best": "2",
        "sweep_best_acc": "0.500 [0.400, 0.600]",
        "sweep_rule": "1",
        "sweep_rule_acc": "0.300 [0.200, 0.400]",
    }
    comb = combination_intervals(hits, list(pre), ["a"], n_boot=20)
    comb["baseline"] = comb["baseline"].map(baseline_labels(1))
    text = combination_values(comb)
    lines = text["added"].split("\n")
    assert [line.split("**")[1] for line in lines] == list(baseline_labels(1).values())[1:]
    added = comb[(comb.part == "added") & (comb.baseline == "standardise")].iloc[0]
    value = fmt(added["value"], "pp", sign=True, unit=False)
    assert lines[2].startswith(f"- after **standardise**: **a** {value} [")
    assert text["added_range"].split("; ")[2].startswith(f"standardise {value} pp (")

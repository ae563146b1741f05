"""Cross-lingual retrieval tables and evidence (paper §5), on made-up spaces."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from steerspace.analyses import crosslingual_retrieval as xl
from steerspace.claims import Rule
from steerspace.metrics.retrieval import VARIANT_SCORES, target_query_frame

LANGS = ("de", "en", "es", "fr", "it", "pt")
N = 80
CHANCE = 1 / N


def spaces(seed: int = 0, *, post_noise: float = 0.3):
    """pre: each language is mostly its own offset (retrieval near chance by cosine);
    post under "es": the shared meaning dominates (retrieval far above chance)."""
    rng = np.random.default_rng(seed)
    meaning = rng.normal(size=(N, 16))
    pre, post = {}, {}
    for lang in LANGS:
        offset = rng.normal(size=16) * 20
        pre[lang] = offset + rng.normal(scale=4.0, size=(N, 16)) + 0.05 * meaning
        post[lang] = meaning + rng.normal(scale=post_noise, size=(N, 16))
    return pre, {"es": post}


def all_hits(score="cosine", **kw):
    pre, post = spaces(**kw)
    return xl.space_hits(pre, post, score=score)


def test_blocks_pick_the_right_pairs_sorted_by_code():
    hits = all_hits()
    assert list(xl.target_block(hits["pre"], "es").columns) == ["de", "en", "fr", "it", "pt"]
    other = xl.other_block(hits["pre"], "es")
    assert other.shape[1] == 5 * 4 and not any("es" in pair for pair in other.columns)


def test_change_evidence_supports_a_real_gain_and_refuses_chance():
    hits = all_hits()
    units, summary = xl.change_evidence(hits, ["es"], CHANCE, part="target", n_boot=300)
    assert units[0].testable and Rule("above").outcome(units[0]) == "support"
    assert summary.low > 0
    same = {"pre": hits["pre"], "es": hits["pre"]}  # no intervention: pre at chance twice
    flat, _ = xl.change_evidence(same, ["es"], CHANCE, part="other", n_boot=300)
    assert not flat[0].testable and "not above chance" in flat[0].why_not
    with pytest.raises(ValueError, match="part"):
        xl.change_evidence(hits, ["es"], CHANCE, part="all", n_boot=300)


def test_summary_and_accuracy_tables_carry_chance_and_intervals():
    hits = all_hits()
    summary = xl.summary_table(hits, ["es"], CHANCE, n_boot=300)
    row = summary.loc["es"]
    assert row["post_value"] > row["pre_value"] and row["post_above_chance"]
    assert row["change_low"] <= row["change_value"] <= row["change_high"]
    table = xl.accuracy_table(hits, ["es"], CHANCE, n_boot=300)
    assert set(table["condition"]) == {"pre", "post", "post − pre"}
    assert (table["chance"] == CHANCE).all() and len(table) == 3 * 5
    gains = xl.gains(table)
    assert gains.loc["es", "max"] >= gains.loc["es", "median"] >= gains.loc["es", "min"]


def test_ratios_are_per_target_and_the_best_pair_is_only_described():
    hits = all_hits()
    units, _ = xl.ratio_evidence(hits, ["es"], CHANCE, n_boot=300)
    assert not units[0].testable  # pre is at chance: a ratio means nothing
    assert xl.best_pair(hits, ["es"], CHANCE, n_boot=300) is None
    pre, post = spaces(1, post_noise=0.3)
    pre_ok = {lang: post["es"][lang] + np.random.default_rng(2).normal(scale=1.2, size=(N, 16))
              for lang in LANGS}  # fmt: skip
    hits = xl.space_hits(pre_ok, post, score="cosine")
    (unit,), overall = xl.ratio_evidence(hits, ["es"], CHANCE, n_boot=300)
    block = xl.target_block
    expected = (
        block(hits["es"], "es").to_numpy().mean() / block(hits["pre"], "es").to_numpy().mean()
    )
    assert unit.testable and unit.reference == 2.0
    assert unit.estimate.value == pytest.approx(expected) and overall.value == pytest.approx(
        expected
    )
    best = xl.best_pair(hits, ["es"], CHANCE, n_boot=300)
    assert best["pair"].startswith("es→") and best["ratio"] >= unit.estimate.value


def test_majority_counts_the_candidates_that_gain():
    hits = all_hits()
    (unit,), overall = xl.majority_evidence(hits, ["es"], CHANCE, n_boot=300)
    gains = (
        xl.target_block(hits["es"], "es").astype(float) - xl.target_block(hits["pre"], "es")
    ).mean()
    assert unit.estimate.value == pytest.approx((gains > 0).mean()) and unit.reference == 0.5
    assert Rule("above").outcome(unit) == "support"


def test_seen_gap_is_untestable_without_flags_and_measured_with_them():
    hits = all_hits()
    assert xl.seen_gap_evidence(hits, ["es"], CHANCE, dict.fromkeys(LANGS), n_boot=300) is None
    flags = {"de": True, "en": True, "es": True, "fr": False, "it": False, "pt": True}
    (ev,), summary = xl.seen_gap_evidence(hits, ["es"], CHANCE, flags, n_boot=300)
    block = xl.target_block(hits["es"], "es").astype(float) - xl.target_block(hits["pre"], "es")
    expected = (
        block[["de", "en", "pt"]].mean(axis=1).mean() - block[["fr", "it"]].mean(axis=1).mean()
    )
    assert ev.estimate.value == pytest.approx(expected) and ev.testable
    assert summary.value == pytest.approx(expected)  # one target: the mean is its gap
    (none,), _ = xl.seen_gap_evidence(hits, ["es"], CHANCE, dict.fromkeys(LANGS, True), n_boot=300)
    assert not none.testable


def test_table2_marks_correlations_on_chance_accuracies_untestable():
    pre, post = spaces(post_noise=3.0)  # post accuracies vary across candidates
    frames = {"es": target_query_frame(pre, post["es"], "es", score="cosine")}
    flags = pd.DataFrame({"pre": [False], "post": [True]}, index=pd.Index(["es"], name="target"))
    table = xl.table2_checked(frames, flags, CHANCE).set_index("correlation")
    assert not table.loc["r(acc_pre,d_pre)", "testable"]
    assert "pre not above chance" in table.loc["r(acc_pre,d_pre)", "why_not"]
    assert table.loc["r(acc_post,d_post)", "testable"]
    assert table.loc["r(d_post,d_pre)", "testable"]
    assert table.loc["r(delta_acc,d_pre-d_post)", "testable"]  # post is above chance
    row = table.loc["r(d_post,d_pre)"]
    assert row["loo_min"] <= row["loo_max"] and row["loo_most"] in LANGS
    units = xl.table2_evidence(table.reset_index(), ["r(acc_post,d_post)", "r(acc_pre,d_pre)"])
    assert [u.unit for u in units] == ["es (post)", "es (pre)"]
    assert [u.testable for u in units] == [True, False]


def test_mean_correlation_is_the_mean_of_the_units_with_an_interval():
    rng = np.random.default_rng(0)
    index = pd.Index(list("abcdefghij"), name="candidate")
    frames = {}
    for target, sign in (("x", 1.0), ("y", -1.0)):
        d = rng.uniform(size=10)
        frames[target] = pd.DataFrame({"d_pre": d, "d_post": sign * d + rng.normal(scale=0.1, size=10)},
                                      index=index)  # fmt: skip
    units = [("x", "r(d_post,d_pre)"), ("y", "r(d_post,d_pre)")]
    est = xl.mean_correlation(frames, units, n_boot=300)
    r = [np.corrcoef(frames[t]["d_pre"], frames[t]["d_post"])[0, 1] for t in ("x", "y")]
    assert est.value == pytest.approx(np.mean(r)) and est.low <= est.value <= est.high
    single = xl.mean_correlation(frames, units[:1], n_boot=300)
    assert single.low > 0.8
    with pytest.raises(ValueError, match="at least one"):
        xl.mean_correlation(frames, [], n_boot=10)


def test_delta_marks_flags_pairs_whose_interval_excludes_zero():
    hits = all_hits()
    marks = xl.delta_marks(hits, "es", n_boot=300)
    assert len(marks) == 6 * 5
    assert marks["excludes_zero"].any()
    assert ((marks["low"] > 0) | (marks["high"] < 0)).eq(marks["excludes_zero"]).all()


def test_formatted_cells_use_the_books_number_format():
    hits = all_hits()
    summary = xl.summary_table(hits, ["es"], CHANCE, n_boot=300).assign(
        score="cosine", part="target"
    )
    cells = xl.summary_cells(summary)
    row = cells.loc["target", "cosine", "es"]
    assert row["pre"].endswith("(at chance)") and row["post − pre"].endswith(" pp")
    assert row["chance"] == "0.013"
    pre, post = spaces(post_noise=3.0)
    frames = {"es": target_query_frame(pre, post["es"], "es", score="cosine")}
    flags = pd.DataFrame({"pre": [False], "post": [True]}, index=pd.Index(["es"], name="target"))
    table = xl.table2_checked(frames, flags, CHANCE).assign(score="cosine")
    wide = xl.table2_cells(table, "ours")
    assert list(wide.columns)[0] == "r(acc_post,d_post)"
    assert wide.loc[("ours, cosine", "es"), "r(acc_pre,d_pre)"].endswith("†")


# ------------------------------------------------------------------ the chapter
def both_scores():
    """The spaces, and their hits by each score (keyed as the claims' variants)."""
    pre, post = spaces()
    return pre, post, {v: xl.space_hits(pre, post, score=s) for v, s in VARIANT_SCORES.items()}


def test_space_values_name_the_largest_dimension():
    pre = {"de": np.array([[3.0, 1.0], [3.0, 1.0]]), "en": np.array([[1.0, 0.0], [1.0, 0.0]])}
    # mean squares per dimension: (9 + 1) / 2 = 5 and 0.5: the largest holds 5 / 5.5
    assert xl.space_values(pre, 2, 0.5) == {"n": "2", "chance": "0.500", "top_share": "90.9 %"}


def test_per_score_tables_and_the_chapters_claims():
    pre, post, hits = both_scores()
    summary = xl.summary_by_part(hits, ["es"], CHANCE, n_boot=300)
    assert summary[["score", "part"]].values.tolist() == [
        ["inner product", "target as query"],
        ["cosine", "target as query"],
        ["inner product", "other queries"],
        ["cosine", "other queries"],
    ]
    assert summary.iloc[1]["pairs"] == len(LANGS) - 1
    assessments = xl.assessments(pre, post, dict.fromkeys(LANGS), model="tiny", n_boot=300)
    keys = [a.key for a in assessments]
    for claim in ("target_query", "majority", "two_x", "seen_larger", "other_queries"):
        for score in ("inner product", "cosine"):
            assert f"retrieval.{claim} [{score}]" in keys
    assert "table2.positive" in keys and "table2.gain_vs_shrink [cosine]" in keys
    assert "retrieval.alignment_correlation [inner product]" in keys
    unknown = next(a for a in assessments if a.key == "retrieval.seen_larger [cosine]")
    assert unknown.reason == "which languages tiny saw in pre-training is unknown"
    # the high-and-significant claim compares with a medium correlation, not with zero
    high = next(a for a in assessments if a.key == "retrieval.alignment_correlation [cosine]")
    assert {e.reference for e in high.evidence} == {-0.3}
    assert sorted(e.unit for e in high.evidence) == ["es (post)", "es (pre)"]


def test_table2_per_score_and_its_values():
    pre, post, hits = both_scores()
    seen = {lang: lang != "it" for lang in LANGS}
    kept = {v: xl.table2_frames(pre, post, seen, score=s) for v, s in VARIANT_SCORES.items()}
    flags = {v: xl.above_chance_flags(hits[v], ["es"], CHANCE, n_boot=300) for v in kept}
    table = xl.table2_per_score(kept, flags, CHANCE)
    assert list(dict.fromkeys(table["score"])) == ["inner product", "cosine"]
    assert len(table) == 2 * len(xl.TABLE2_REQUIRES)
    assert ((table["ci_low"] > 0) | (table["ci_high"] < 0)).eq(table["p_value"] < 0.05).all()
    assert xl.table2_values(kept["cosine"], seen) == {
        "n_candidates": "4",  # es's candidates without the unseen it
        "seen_flags": "known",
        "seen_kept": "the seen ones",
    }
    unknown = dict.fromkeys(LANGS)
    assert xl.table2_values(kept["cosine"], unknown)["seen_kept"] == "all"
    assert xl.seen_unknown(unknown) and not xl.seen_unknown(seen)

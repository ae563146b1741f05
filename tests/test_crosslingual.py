"""Cross-lingual retrieval tables and evidence (paper §5), on made-up spaces."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from steerspace import crosslingual as xl
from steerspace.claims import Rule
from steerspace.retrieval import target_query_frame

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
    units, summary = xl.change_evidence(hits, ["es"], CHANCE, part="target")
    assert units[0].testable and Rule("above").outcome(units[0]) == "support"
    assert summary.low > 0
    same = {"pre": hits["pre"], "es": hits["pre"]}  # no intervention: pre at chance twice
    flat, _ = xl.change_evidence(same, ["es"], CHANCE, part="other")
    assert not flat[0].testable and "not above chance" in flat[0].why_not
    with pytest.raises(ValueError, match="part"):
        xl.change_evidence(hits, ["es"], CHANCE, part="all")


def test_summary_and_accuracy_tables_carry_chance_and_intervals():
    hits = all_hits()
    summary = xl.summary_table(hits, ["es"], CHANCE)
    row = summary.loc["es"]
    assert row["post_value"] > row["pre_value"] and row["post_above_chance"]
    assert row["change_low"] <= row["change_value"] <= row["change_high"]
    table = xl.accuracy_table(hits, ["es"], CHANCE)
    assert set(table["condition"]) == {"pre", "post", "post − pre"}
    assert (table["chance"] == CHANCE).all() and len(table) == 3 * 5
    gains = xl.gains(table)
    assert gains.loc["es", "max"] >= gains.loc["es", "median"] >= gains.loc["es", "min"]


def test_best_ratio_needs_a_pre_accuracy_above_chance():
    hits = all_hits()
    assert xl.best_ratio_evidence(hits, ["es"], CHANCE) is None  # pre is at chance
    pre, post = spaces(1, post_noise=0.3)
    better = {k: v + 0 for k, v in post["es"].items()}
    pre_ok = {lang: post["es"][lang] + np.random.default_rng(2).normal(scale=1.2, size=(N, 16))
              for lang in LANGS}  # fmt: skip
    hits = xl.space_hits(pre_ok, {"es": better}, score="cosine")
    ev = xl.best_ratio_evidence(hits, ["es"], CHANCE)
    assert ev is not None and ev.unit.startswith("es→") and ev.reference == 2.0
    assert ev.estimate.value >= 1.0


def test_seen_gap_is_untestable_without_flags_and_measured_with_them():
    hits = all_hits()
    assert xl.seen_gap_evidence(hits, ["es"], CHANCE, {lang: None for lang in LANGS}) is None
    flags = {"de": True, "en": True, "es": True, "fr": False, "it": False, "pt": True}
    (ev,), summary = xl.seen_gap_evidence(hits, ["es"], CHANCE, flags)
    block = xl.target_block(hits["es"], "es").astype(float) - xl.target_block(hits["pre"], "es")
    expected = block[["de", "en", "pt"]].mean(axis=1).mean() - block[["fr", "it"]].mean(axis=1).mean()
    assert ev.estimate.value == pytest.approx(expected) and ev.testable
    assert summary.value == pytest.approx(expected)  # one target: the mean is its gap
    (none,), _ = xl.seen_gap_evidence(hits, ["es"], CHANCE, dict.fromkeys(LANGS, True))
    assert not none.testable


def test_table2_marks_correlations_on_chance_accuracies_untestable():
    pre, post = spaces(post_noise=3.0)  # post accuracies vary across candidates
    frames = {"es": target_query_frame(pre, post["es"], "es", score="cosine")}
    flags = pd.DataFrame({"pre": [False], "post": [True]}, index=pd.Index(["es"], name="target"))
    table = xl.table2_checked(frames, flags, CHANCE, n_boot=200).set_index("correlation")
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
        xl.mean_correlation(frames, [])


def test_delta_marks_flags_pairs_whose_interval_excludes_zero():
    hits = all_hits()
    marks = xl.delta_marks(hits, "es")
    assert len(marks) == 6 * 5
    assert marks["excludes_zero"].any()
    assert ((marks["low"] > 0) | (marks["high"] < 0)).eq(marks["excludes_zero"]).all()


def test_formatted_cells_use_the_books_number_format():
    hits = all_hits()
    summary = xl.summary_table(hits, ["es"], CHANCE).assign(score="cosine", part="target")
    cells = xl.summary_cells(summary)
    row = cells.loc["target", "cosine", "es"]
    assert row["pre"].endswith("(at chance)") and row["post − pre"].endswith(" pp")
    assert row["chance"] == "0.013"
    pre, post = spaces(post_noise=3.0)
    frames = {"es": target_query_frame(pre, post["es"], "es", score="cosine")}
    flags = pd.DataFrame({"pre": [False], "post": [True]}, index=pd.Index(["es"], name="target"))
    table = xl.table2_checked(frames, flags, CHANCE, n_boot=100).assign(score="cosine")
    wide = xl.table2_cells(table, "ours")
    assert list(wide.columns)[0] == "r(acc_post,d_post)"
    assert wide.loc[("ours, cosine", "es"), "r(acc_pre,d_pre)"].endswith("†")

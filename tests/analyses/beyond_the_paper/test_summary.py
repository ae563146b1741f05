"""The beyond-the-paper analyses read the right rows of the per-state tables."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from steerspace.analyses.beyond_the_paper import summary as beyond
from steerspace.analyses.beyond_the_paper.abx import abx_intervals
from steerspace.analyses.beyond_the_paper.layers import (
    at_layer,
    distance_intervals_by_layer,
    retrieval_intervals_by_layer,
)

TARGETS = ("en", "es")


@pytest.fixture(scope="module")
def spaces():
    rng = np.random.default_rng(0)
    meaning = rng.normal(size=(24, 4, 8))
    pre = {
        lang: meaning + shift * rng.normal(size=(1, 4, 8)) + 0.8 * rng.normal(size=(24, 4, 8))
        for lang, shift in [("en", 1.0), ("es", 2.0), ("fr", 0.5), ("pt", 3.0)]
    }
    # the "intervention" changes only the last two states, pulling towards the meaning
    post = {}
    for t in TARGETS:
        post[t] = {lang: x.copy() for lang, x in pre.items()}
        for x in post[t].values():
            x[:, 2:] = 0.3 * x[:, 2:] + 0.7 * meaning[:, 2:]
    return pre, post


def test_distance_summary_and_values(spaces):
    pre, post = spaces
    frame = distance_intervals_by_layer(pre, post, n_boot=40)
    summary = beyond.distance_summary(frame)
    assert set(summary["change_last"]) == set(TARGETS)
    # the peak before the final state is at state 2 (states 0, 1 are unchanged)
    assert list(summary["relative_peak"]) == ["en (state 2)", "es (state 2)"]
    rows = frame[
        (frame.quantity == "all_languages") & (frame.condition == "change") & (frame.layer == 3)
    ]
    assert summary["change_last"]["en"].value == pytest.approx(
        rows[rows.target == "en"]["value"].iloc[0]
    )
    text = beyond.distance_values(frame)
    assert set(text) == {
        "pre_inner",
        "pre_final",
        "change_last",
        "rel_last",
        "rel_peak",
        "rel_peak_decided",
        "rel_ratio",
    }
    assert "×" in text["rel_ratio"] and "below" in text["rel_peak_decided"]


def test_best_state_retrieval_and_abx_values(spaces):
    pre, post = spaces
    retrieval = retrieval_intervals_by_layer(pre, post, n_boot=40)
    best = beyond.best_state(retrieval)
    pre_cos = retrieval[(retrieval.score == "cosine") & (retrieval.condition == "pre")]
    assert best == int(pre_cos.groupby("layer")["value"].mean().idxmax())
    unchanged = beyond.at_state(retrieval[retrieval.score == "cosine"], 0, condition="change")
    assert all(e.value == 0 and e.low == 0 and e.high == 0 for e in unchanged.values())
    text = beyond.retrieval_values(retrieval, 0)
    assert "5 not" not in text["gain_best"] and "2 not distinguishable" in text["gain_best"]
    abx = pd.concat(
        [abx_intervals({"pre": pre} | {f"post {t}": post[t] for t in TARGETS}, task, n_triplets=200,
                       n_boot=40).assign(task=task) for task in ("language", "meaning")]
    )  # fmt: skip
    assert set(beyond.abx_at_state(abx, 3, "meaning")) == set(TARGETS)
    values = beyond.abx_values(abx, 0)
    assert values["middle_moved"] == "0" and values["middle_targets"] == "2"  # state 0 is untouched
    assert beyond.abx_values(abx, 3)["middle_moved"] != "0"
    assert values["pre_last_language"].endswith(" %") and values["pre_best"].endswith(" %")


def test_similarity_frame_relations_and_leave_one_out(spaces):
    pre, post = spaces
    last = at_layer(pre, -1)
    sim = beyond.similarity_frame(last, {t: at_layer(post[t], -1) for t in TARGETS})
    assert len(sim) == 2 * 3 and set(sim["pair"]) >= {"en→es", "es→pt"}
    fits, table = beyond.relate_all(
        sim, ["typological_distance"], ["delta_acc", "delta_d"], n_boot=30
    )
    assert list(table["outcome"]) == ["delta_acc", "delta_d"] and (table["r_n"] == 2).all()
    loo = beyond.leave_one_out(sim, "typological_distance", "delta_acc")
    assert set(loo["target"]["left_out"]) == set(TARGETS) and len(loo["pair"]) == 6
    text = beyond.similarity_values(fits, loo)
    assert text["sim_pairs"] == "6" and text["sim_clusters"] == "2"
    assert text["sim_interval"] == (
        "excludes" if fits["typological_distance", "delta_acc"].r.excludes(0.0) else "includes"
    )
    assert "`delta_d`" in text["sim_others"]


def test_tables_at_states_and_abx_by_task(spaces):
    pre, post = spaces
    distances = distance_intervals_by_layer(pre, post, n_boot=20)
    last = beyond.at_states_table(distances, [3], ["quantity", "target"])
    assert list(last.columns) == ["change", "post", "pre", "relative_change"]
    rows = distances[(distances.layer == 3) & (distances.condition == "pre")]
    row = rows[(rows.quantity == "all_languages") & (rows.target == "es")]
    assert last.loc[("all_languages", "es"), "pre"] == round(row["value"].item(), 3)
    both = {"pre": pre} | {f"post {t}": post[t] for t in TARGETS}
    abx = beyond.abx_by_task(both, n_triplets=100, seed=1, n_boot=20)
    assert list(dict.fromkeys(abx["task"])) == ["language", "meaning"]
    assert set(abx["space"]) == {"pre", "post en", "post es"}
    wide = beyond.at_states_table(abx[abx.condition == "error"], [0, 3], ["task", "layer"], "space")
    assert list(wide.index) == [("language", 0), ("language", 3), ("meaning", 0), ("meaning", 3)]
    # state 0 is untouched by the "intervention": the same error in every space
    assert wide.loc[("meaning", 0)].nunique() == 1


def test_state_values_and_experts_per_block():
    blocks = {"es": pd.Series([4, 5, 5, 17]), "fr": pd.Series([0, 2, 2])}
    text = beyond.state_values(19, blocks)
    assert (text["n_states"], text["n_blocks"], text["last_state"]) == ("19", "18", "18")
    assert text["median_block"] == "**es** block 5 (state 6); **fr** block 2 (state 3)"
    counts = beyond.experts_per_block(blocks)
    assert list(counts.index) == ["es", "fr"] and counts.columns.name == "block"
    assert counts.loc["es", 5] == 2 and counts.loc["fr", 5] == 0 and counts.loc["fr", 2] == 2
    assert counts.to_numpy().sum() == 7


def test_wals_list_and_dose_values():
    wals = beyond.wals_list().split("\n")
    assert wals[0] == "- `81A` *Order of Subject, Object and Verb*: SVO, SOV, none"
    assert len(wals) == 4 and all(line.startswith("- `") for line in wals)
    dose = pd.DataFrame(
        {
            "dial": ["k", "k", "strength"],
            "k": [100, 1000, 100],
            "strength": [1.0, 1.0, 0.5],
            "gain": [0.1, 0.2, 0.05],
            "gain_low": [0.0, 0.1, -0.05],
            "gain_high": [0.2, 0.3, 0.15],
            "share": [0.5, 0.9, 0.3],
            "share_low": [0.4, 0.8, 0.2],
            "share_high": [0.6, 1.0, 0.4],
            "dlogppl": [0.1, 1.5, 0.02],
            "dlogppl_low": [0.0, 1.4, -0.01],
            "dlogppl_high": [0.2, 1.6, 0.05],
        }
    )
    text = beyond.dose_values(dose[dose.dial == "k"], dose[dose.dial == "strength"])
    assert text["dose_k"] == "100, 1,000" and text["dose_s"] == "0.50"
    assert (
        text["dose_k_gain"] == "k = 100: +10.0 [+0.0, +20.0] pp; k = 1,000: +20.0 [+10.0, +30.0] pp"
    )
    assert text["dose_k_share"] == "k = 100: 50.0 [40.0, 60.0] %; k = 1,000: 90.0 [80.0, 100.0] %"
    assert text["dose_s_dlogppl"] == "s = 0.50: +0.02 [−0.01, +0.05] nats"
    assert len(text) == 2 + 2 * 3

"""The beyond-the-paper analyses read the right rows of the per-state tables."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from steerspace import beyond
from steerspace.abx import abx_intervals
from steerspace.layers import at_layer, distance_intervals_by_layer, retrieval_intervals_by_layer

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


def test_distance_summary_and_statements(spaces):
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
    text = beyond.distance_statements(frame)
    assert set(text) == {"pre_inner", "pre_final", "change_last", "rel_last", "rel_peak", "rel_peak_decided", "rel_ratio"}
    assert "×" in text["rel_ratio"] and "below" in text["rel_peak_decided"]


def test_best_state_retrieval_and_abx_statements(spaces):
    pre, post = spaces
    retrieval = retrieval_intervals_by_layer(pre, post, n_boot=40)
    best = beyond.best_state(retrieval)
    pre_cos = retrieval[(retrieval.score == "cosine") & (retrieval.condition == "pre")]
    assert best == int(pre_cos.groupby("layer")["value"].mean().idxmax())
    unchanged = beyond.at_state(retrieval[retrieval.score == "cosine"], 0, condition="change")
    assert all(e.value == 0 and e.low == 0 and e.high == 0 for e in unchanged.values())
    text = beyond.retrieval_statements(retrieval, 0)
    assert "5 not" not in text["gain_best"] and "2 not distinguishable" in text["gain_best"]
    abx = pd.concat(
        [abx_intervals({"pre": pre} | {f"post {t}": post[t] for t in TARGETS}, task, n_triplets=200,
                       n_boot=40).assign(task=task) for task in ("language", "meaning")]
    )  # fmt: skip
    assert set(beyond.abx_at_state(abx, 3, "meaning")) == set(TARGETS)
    statements = beyond.abx_statements(abx, 0)
    assert statements["middle"].startswith("so at this state no change")  # state 0 is untouched
    assert beyond.abx_statements(abx, 3)["middle"].startswith("so the intervention does change")


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
    text = beyond.similarity_statements(fits, loo)
    assert text["sim_main"].endswith("over 6 pairs from 2 targets")
    assert "`delta_d`" in text["sim_others"]

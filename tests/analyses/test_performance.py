"""The FLOP floor counts each kind of model work by its formula and sets each chapter's
measured time against it."""

from __future__ import annotations

import pytest

from steerspace.analyses.performance import chapters_of, floor_table, work_flops

FACTS = {"non_embedding_params": 100, "lm_head_params": 1000, "n_layers": 2, "d_attn": 8}


def test_each_kind_of_work_has_its_own_flops():
    # forward: 2·N·T + 2·layers·d_attn·ΣL² = 2·100·10 + 2·2·8·52
    assert work_flops("forward", {"tokens": 10, "tokens_squared": 52}, FACTS) == 2000 + 1664
    # generation adds the LM head on every generated token
    assert work_flops("generate", {"tokens": 10, "tokens_squared": 52}, FACTS) == (
        2000 + 20000 + 1664
    )
    # perplexity: the head on every scored token, attention over 384 tokens of context
    assert work_flops("perplexity", {"tokens": 10}, FACTS) == 2000 + 20000 + 2 * 2 * 8 * 768 * 10
    with pytest.raises(ValueError, match="unknown kind"):
        work_flops("embed", {"tokens": 1}, FACTS)


def test_chapters_are_read_from_either_benchmark_and_not_from_an_old_one():
    work = {"forward": {"tokens": 10.0, "tokens_squared": 52.0, "seconds": 0.5}}
    classroom = {
        "chapters": {"b": {"seconds": 1.0}, "a": {"seconds": 3.0, "model_work": work}},
        "chapters_planned": ["a", "b"],
    }
    assert list(chapters_of(classroom)) == ["a", "b"]  # the book's order, not the run's
    assert chapters_of(classroom) == {
        "a": {"seconds": 3.0, "work": work},
        "b": {"seconds": 1.0, "work": {}},
    }
    book = {"runs": {"cold": {"chapters_s": {"a": 3.0, "b": 1.0},
                              "model_work": {"by_chapter": {"a": work}}}}}  # fmt: skip
    assert chapters_of(book) == chapters_of(classroom)
    assert chapters_of({"chapters": {"a": {"seconds": 3.0}}}) is None
    assert chapters_of({"runs": {"cold": {"chapters_s": {"a": 3.0}, "model_work": {}}}}) is None
    assert chapters_of(None) is None


def test_the_floor_is_the_flops_at_the_matmul_rate_and_idle_chapters_count_in_the_total():
    chapters = {
        "finding_experts": {"seconds": 30.0, "work": {"forward": {"tokens": 1e6, "tokens_squared": 0,
                                                          "seconds": 20.0}}},
        "intro": {"seconds": 6.0, "work": {}},
    }  # fmt: skip
    table = floor_table(chapters, FACTS, flops_per_s=1e7)
    assert list(table.index) == ["finding experts", "all chapters"]
    experts = table.loc["finding experts"]
    assert experts["TFLOP"] == 0.0  # 2e8 FLOPs, rounded to 0.1 TFLOP
    assert experts["floor (s)"] == 20.0
    assert experts["model (s)"] == 20.0
    assert experts["wall / floor"] == 1.5
    total = table.loc["all chapters"]
    assert total["wall (s)"] == 36.0
    assert total["wall / floor"] == 1.8
    assert total["forward (k)"] == 1000.0

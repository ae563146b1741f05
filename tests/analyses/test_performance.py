"""The FLOP floor counts each kind of model work by its formula and sets each chapter's
measured time against it; the budget sums the book's work per chapter and stage."""

from __future__ import annotations

import pytest

from steerspace.analyses.performance.budget import (
    BUDGET_KEYS,
    budget_floor,
    budget_table,
    budget_values,
    stage_of,
)
from steerspace.analyses.performance.floor import chapters_of, floor_table, work_flops

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


def test_every_ledger_label_has_one_stage_and_says_at_which_k():
    def stage(label: str) -> str:
        return stage_of(label, k=500, rule_k=100)

    assert stage("activations es") == "activations (AUROC)"
    assert stage("generate pre") == stage("generate es-top100") == "generations"
    assert stage("perplexity") == "perplexity"
    assert stage("embed 17 groups pre") == "original model"
    assert stage("embed 2 groups es-top500") == "experts"
    assert stage("embed 2 groups es-top100") == "experts, rule's k"
    assert stage("embed 2 groups es-top2000") == "experts, other k"
    assert stage("embed 17 groups es-random500-experts-s3") == ("random units, experts' values")
    assert stage("embed 17 groups es-random100-experts-s3") == (
        "random units, experts' values, rule's k"
    )
    assert stage("embed 17 groups es-random500-own-s1") == "random units, own means"
    # where the rule picks the config's k, nothing is marked
    assert stage_of("embed 2 groups es-top500", k=500, rule_k=500) == "experts"
    with pytest.raises(ValueError, match="no stage"):
        stage("embed 17 groups es-shift")


def call(chapter: str, label: str, *, kind: str = "forward", sentences: int = 10, **extra):
    """One ledger row of the token-budget benchmark: sentences of 10 tokens each."""
    tokens = 10 * sentences
    return {"chapter": chapter, "kind": kind, "label": label, "calls": 1,
            "sentences": sentences, "tokens": tokens, "tokens_squared": 10 * tokens, **extra}  # fmt: skip


def test_the_budget_sums_stages_per_chapter_in_the_books_order_with_shares_of_flops():
    rows = [
        call("random_control", "embed 17 groups es-random5-experts-s1"),
        call("random_control", "embed 17 groups es-random5-experts-s2"),
        call("finding_experts", "generate pre", kind="generate", sentences=4),
    ]
    table = budget_table(rows, ["finding_experts", "random_control"], FACTS, k=5, rule_k=1)
    assert list(table.index) == [
        ("finding experts", "generations"),
        ("random control", "random units, experts' values"),
        ("the book", "all stages"),
    ]
    control = table.loc[("random control", "random units, experts' values")]
    assert control["calls"] == 2 and control["tokens (k)"] == 0.2
    # forward: 2·100·200 + 2·2·8·2000 = 104,000 FLOPs; generation: 2·100·40 + 2·1000·40
    # + 2·2·8·400 = 100,800; the control's share is 104,000 / 204,800
    assert control["share (%)"] == round(100 * 104_000 / 204_800, 1)
    assert table.loc[("the book", "all stages"), "share (%)"] == 100.0


def test_the_budgets_prose_numbers_set_the_stand_in_beside_the_measured_run():
    rows = [
        call("random_control", "embed 17 groups es-random5-own-s1"),
        call("embedding_space", "embed 17 groups pre"),
        call("beyond_the_paper", "embed 17 groups es-top1", repeated_tokens=1200),
    ]
    order = ["embedding_space", "random_control", "beyond_the_paper"]
    table = budget_table(rows, order, FACTS, k=5, rule_k=1)
    run = {
        "config": {"k": 5, "random_seeds": [1, 2, 3]},
        "stand_in": {"num_hidden_layers": 4, "hidden_size": 64},
        "rule_k": 1,
        "seconds": 780.0,
        "by_label": rows,
        "by_kind": {
            "forward": {"tokens": 4.2e6, "repeated_tokens": 0.0},
            "generate": {"tokens": 39936, "repeated_tokens": 0.0},
        },
    }
    book = {"runs": {"cold": {"model_work": {"by_kind": {"forward": {"tokens": 3.11e6}}}}}}
    values = budget_values(table, run, book)
    assert (values["k"], values["rule_k"], values["repeated"]) == ("5", "1", "0.0 %")
    assert values["repeat_most"] == (
        "the *experts, rule's k* stage of beyond the paper (1,200 tokens)"
    )
    assert values["stand_in"] == "4 layers, hidden 64" and values["draws"] == "3"
    assert values["minutes"] == "13.0 min"
    assert (values["forward"], values["book_forward"]) == ("4.20 M", "3.11 M")
    assert values["generated"] == "39.94 k" and values["book_generated"] == "n/a"
    assert values["scored"] == "n/a"
    assert (values["own"], values["control"], values["rule"]) == ("33.3 %", "0.0 %", "33.3 %")
    assert budget_values(table, run, None)["book_forward"] == "n/a"
    assert set(values) == set(BUDGET_KEYS)
    assert budget_values(None, None, book) == dict.fromkeys(BUDGET_KEYS, "n/a")


def test_the_books_flops_set_a_floor_at_a_measured_rate():
    rows = [call("embedding_space", "embed 17 groups pre", sentences=10**9)]
    table = budget_table(rows, ["embedding_space"], FACTS, k=5, rule_k=1)
    # 2·100·1e10 + 2·2·8·1e11 = 5.2 TFLOP at 1 GFLOP/s: 5,200 s
    assert budget_floor(table, 1e9) == {"tflop": "5", "floor_hours": "1.4 h", "rate": "1 GFLOP/s"}
    assert budget_floor(table, None)["floor_hours"] == "n/a"
    assert budget_floor(None, 1e9) == {"tflop": "n/a", "floor_hours": "n/a", "rate": "n/a"}

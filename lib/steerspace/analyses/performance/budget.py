"""The performance appendix's budget: what each stage of the default book puts through
the model, counted by ``bench/token_budget.py`` and weighed in useful FLOPs."""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from typing import Any

import pandas as pd

from steerspace.analyses.performance.floor import work_flops
from steerspace.text.format import fmt

#: the benchmark that counts the book's model work per stage
BUDGET_COMMAND = "python bench/token_budget.py"


#: the stages whose FLOP shares the prose carries, as :func:`stage_of` names them
SHARED_STAGES = {
    "control": "random units, experts' values",
    "own": "random units, own means",
}
#: what :func:`stage_of` adds to an embedding stage at another k than the config's
AT_RULE_K = ", rule's k"
AT_OTHER_K = ", other k"


#: a ledger label's stage: the first pattern that matches the label names it. Labels are
#: ``activations <language>``, ``generate <condition>``, ``perplexity`` and ``embed <n>
#: groups <condition>``, the condition ``pre`` or the intervention's label; the stages
#: of ``embed`` labels are named for the model that embeds: the original, the experts'
#: intervention, or one of the random-unit controls
STAGES = (
    (r"^activations ", "activations (AUROC)"),
    (r"^generate ", "generations"),
    (r"^perplexity$", "perplexity"),
    (r"-random\d+-own-s\d+$", "random units, own means"),
    (r"-random\d+-experts-s\d+$", "random units, experts' values"),
    (r"-top\d+$", "experts"),
    (r" pre$", "original model"),
)


#: the budget table's columns: model calls (one per condition and pass), thousands of
#: sentences and of tokens, useful TFLOP (:func:`work_flops`) and their share of the book's
BUDGET_COLUMNS = ("calls", "sentences (k)", "tokens (k)", "TFLOP", "share (%)")


def stage_of(label: str, *, k: int, rule_k: int) -> str:
    """The stage of the book a ledger label belongs to (:data:`STAGES`); an embedding
    pass under an intervention of another k than the config's ``k`` is marked as at the
    choice-of-k rule's k (``rule_k``, where every claim is scored again) or at another
    k (the sweeps of the Tatoeba and last chapters)."""
    stage = next((name for pattern, name in STAGES if re.search(pattern, label)), None)
    if stage is None:
        raise ValueError(f"no stage for the ledger label {label!r}")
    at = re.search(r"-(?:top|random)(\d+)", label)
    if not label.startswith("embed ") or at is None or int(at.group(1)) == k:
        return stage
    return stage + (AT_RULE_K if int(at.group(1)) == rule_k else AT_OTHER_K)


def budget_table(
    rows: Sequence[Mapping[str, Any]],
    order: Sequence[str],
    facts: Mapping[str, Any],
    *,
    k: int,
    rule_k: int,
) -> pd.DataFrame:
    """The book's model work per chapter and stage (:func:`stage_of`, with the config's
    ``k`` and the rule's ``rule_k``), from ``bench/token_budget.py``'s ``by_label`` rows
    (chapter, kind, label, calls, sentences, tokens, tokens_squared), chapters in the
    book's ``order``, and a row for the whole book. A stage counts under
    the chapter that first needed it (the cache serves it to the chapters after);
    ``share (%)`` is of the book's useful FLOPs, so that a generated token (with the LM
    head) and a forwarded one weigh what they cost."""
    calls = pd.DataFrame(rows)
    calls["stage"] = [stage_of(label, k=k, rule_k=rule_k) for label in calls["label"]]
    calls["flops"] = [work_flops(row.kind, row._asdict(), facts) for row in calls.itertuples()]
    rank = {name: i for i, name in enumerate(order)}
    calls["rank"] = calls["chapter"].map(lambda c: rank.get(c, len(rank)))
    keys = ["rank", "chapter", "stage"]
    table = calls.groupby(keys)[["calls", "sentences", "tokens", "flops"]].sum().reset_index()
    table.loc[len(table)] = table[["calls", "sentences", "tokens", "flops"]].sum()
    table.loc[table.index[-1], ["chapter", "stage"]] = ["the book", "all stages"]
    table["sentences (k)"] = table["sentences"] / 1e3
    table["tokens (k)"] = table["tokens"] / 1e3
    table["TFLOP"] = table["flops"] / 1e12
    table["share (%)"] = 100 * table["flops"] / table["flops"].iloc[-1]
    table["chapter"] = table["chapter"].str.replace("_", " ")
    out = table.set_index(["chapter", "stage"])[list(BUDGET_COLUMNS)]
    return out.astype({"calls": int}).round(1)


#: the budget's numbers in the appendix's prose (:func:`budget_values`)
BUDGET_KEYS = ("stand_in", "minutes", "k", "draws", "rule_k", "repeated", "forward", "generated", "scored",
               "book_forward", "book_generated", "book_scored", "control", "own", "rule", "repeat_most")  # fmt: skip


def budget_values(
    budget: pd.DataFrame | None, run: Mapping[str, Any] | None, book: Mapping[str, Any] | None
) -> dict[str, str]:
    """The budget's numbers that the appendix's prose carries: the stand-in's shape and
    the run's minutes; the config's k and random draws, and the rule's k the stand-in
    was pinned to; its tokens forwarded, generated and scored, and the share of them
    that repeated a pass already run; the same counts of the measured cold run
    (``book``, ``bench/book.py``; "n/a" without it); the FLOP shares of the two
    random-unit controls at the config's k and of all embedding passes at the rule's k;
    the stage with the most repeated tokens. All "n/a" where the budget was not
    measured."""
    if budget is None or run is None:
        return dict.fromkeys(BUDGET_KEYS, "n/a")
    kinds = run["by_kind"]
    measured = ((book or {}).get("runs", {}).get("cold", {}).get("model_work") or {}).get(
        "by_kind", {}
    )

    def tokens(by_kind: Mapping[str, Any], kind: str) -> str:
        value = by_kind.get(kind, {}).get("tokens")
        scale, unit = (1e6, "M") if kind == "forward" else (1e3, "k")
        return "n/a" if value is None else f"{value / scale:,.2f} {unit}"

    stages = budget.groupby(level="stage")["share (%)"].sum()
    out = {
        "stand_in": (
            f"{run['stand_in']['num_hidden_layers']} layers, "
            f"hidden {run['stand_in']['hidden_size']}"
        ),
        "minutes": fmt(run["seconds"], "min"),
        "k": fmt(run["config"]["k"], "int"),
        "draws": fmt(len(run["config"]["random_seeds"]), "int"),
        "rule_k": fmt(run["rule_k"], "int"),
        "repeated": fmt(
            sum(k.get("repeated_tokens", 0.0) for k in kinds.values())
            / sum(k["tokens"] for k in kinds.values()),
            "pct",
        ),
        "forward": tokens(kinds, "forward"),
        "generated": tokens(kinds, "generate"),
        "scored": tokens(kinds, "perplexity"),
        "book_forward": tokens(measured, "forward"),
        "book_generated": tokens(measured, "generate"),
        "book_scored": tokens(measured, "perplexity"),
    }
    for key, stage in SHARED_STAGES.items():
        out[key] = fmt(stages.get(stage, 0.0) / 100, "pct")
    at_rule = stages[stages.index.str.endswith(AT_RULE_K)].sum()
    out["rule"] = fmt(at_rule / 100, "pct")
    most = max(run["by_label"], key=lambda row: row.get("repeated_tokens", 0))
    stage = stage_of(most["label"], k=run["config"]["k"], rule_k=run["rule_k"])
    out["repeat_most"] = (
        f"the *{stage}* stage of {most['chapter'].replace('_', ' ')} "
        f"({fmt(most['repeated_tokens'], 'int')} tokens)"
    )
    return out


def budget_floor(budget: pd.DataFrame | None, flops_per_s: float | None) -> dict[str, str]:
    """The whole book's useful TFLOP and the floor they set at a measured matmul rate
    (``flops_per_s``, e.g. the classroom run's): the least time the default book's
    model work can take on that machine. "n/a" for what is not measured."""
    if budget is None:
        return {"tflop": "n/a", "floor_hours": "n/a", "rate": "n/a"}
    tflop = float(budget.loc[("the book", "all stages"), "TFLOP"])
    if not flops_per_s:
        return {"tflop": fmt(tflop, "int"), "floor_hours": "n/a", "rate": "n/a"}
    return {
        "tflop": fmt(tflop, "int"),
        "floor_hours": f"{tflop * 1e12 / flops_per_s / 3600:.1f} h",
        "rate": f"{fmt(flops_per_s / 1e9, 'int')} GFLOP/s",
    }

"""The performance appendix's FLOP floor: each chapter's model work in FLOPs, and the
least time it could take at the machine's measured matmul rate.

A benchmark run records, per chapter, the tokens the model forwarded, generated and
scored (:mod:`steerspace.infra.ledger`) and the matmul FLOP/s of the run's dtype under
the run's instruction set (``bench.common.matmul_flops_under``). A token's useful FLOPs
are a multiply–add (2 FLOPs) per non-embedding parameter, plus the LM head's where the
chapter needs the next-token distribution (generation, perplexity), plus causal
attention over the tokens before it. At the matmul rate those FLOPs give the chapter's
*floor*; the measured wall time over the floor is the book's performance figure. The
floor leaves out everything that is not model FLOPs (kernel start, imports, the model's
load, UMAP, bootstraps), so a chapter that does little model work sits far above it.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import numpy as np
import pandas as pd

from steerspace.analyses.performance.results import COMMANDS, Result, instruction_set
from steerspace.text.format import fmt

#: FLOPs of one multiply–add
MULTIPLY_ADD = 2.0


#: perplexity's sliding window (``Pipeline.perplexity``: 512 tokens, half-window stride)
PERPLEXITY_WINDOW = 512


#: the table's columns, in order: thousands of tokens forwarded, generated and scored,
#: useful TFLOP, the floor, the seconds in the model, the chapter's wall time, and their ratio
FLOOR_COLUMNS = (
    "forward (k)",
    "generate (k)",
    "score (k)",
    "TFLOP",
    "floor (s)",
    "model (s)",
    "wall (s)",
    "wall / floor",
)


def work_flops(kind: str, work: Mapping[str, float], facts: Mapping[str, Any]) -> float:
    """Useful FLOPs of one kind of model work (a ledger's per-kind totals).

    ``forward`` (a sentence of L tokens): 2·N·L + 2·n_layers·d_attn·L² (causal
    attention: QKᵀ and AV over L/2 earlier tokens on average). ``generate`` adds the LM
    head, 2·V·d per generated token. ``perplexity`` adds the head for every scored token,
    and its attention sees 256 to 512 tokens of context (the sliding window): 384 on
    average, i.e. 4·384·d_attn per layer and token. ``facts`` holds ``non_embedding_params``
    (N), ``lm_head_params`` (V·d), ``n_layers`` and ``d_attn`` (``bench/forward.py``).
    """
    tokens = float(work.get("tokens", 0.0))
    body = MULTIPLY_ADD * facts["non_embedding_params"] * tokens
    head = MULTIPLY_ADD * facts["lm_head_params"] * tokens
    per_layer = MULTIPLY_ADD * facts["n_layers"] * facts["d_attn"]
    if kind == "forward":
        return body + per_layer * float(work.get("tokens_squared", 0.0))
    if kind == "generate":
        return body + head + per_layer * float(work.get("tokens_squared", 0.0))
    if kind == "perplexity":
        return body + head + per_layer * 2 * (0.75 * PERPLEXITY_WINDOW) * tokens
    raise ValueError(f"unknown kind of model work {kind!r}: forward, generate or perplexity")


def chapters_of(result: Mapping[str, Any] | None) -> dict[str, dict[str, Any]] | None:
    """Each chapter's measured seconds and model work (per kind) from a benchmark's JSON:
    the classroom benchmark (``chapters``) or the book benchmark's cold run
    (``runs.cold``), in the book's order. ``None`` where the result records no
    per-chapter work (run before the ledger recorded chapters)."""
    if not result:
        return None
    if "chapters" in result:
        chapters = result["chapters"]
        if not any("model_work" in c for c in chapters.values()):
            return None
        order = [n for n in result.get("chapters_planned", []) if n in chapters]
        return {
            name: {
                "seconds": chapters[name]["seconds"],
                "work": chapters[name].get("model_work", {}),
            }
            for name in order + [n for n in chapters if n not in order]
        }
    cold = result.get("runs", {}).get("cold", {})
    by_chapter = (cold.get("model_work") or {}).get("by_chapter")
    if not by_chapter:
        return None
    return {
        name: {"seconds": seconds, "work": by_chapter.get(name, {})}
        for name, seconds in cold.get("chapters_s", {}).items()
    }


def model_seconds(work: Mapping[str, Mapping[str, float]]) -> float:
    """The seconds a chapter spent in the model: forward passes, generation and
    perplexity together (its ledger work per kind, as :func:`chapters_of` gives it)."""
    return sum(kind.get("seconds", 0.0) for kind in work.values())


def floor_table(
    chapters: Mapping[str, Mapping[str, Any]], facts: Mapping[str, Any], flops_per_s: float
) -> pd.DataFrame:
    """One row per chapter that ran the model (in the order given), and a row for all
    chapters: thousands of tokens forwarded, generated and scored, useful TFLOP, the
    floor at ``flops_per_s``, the seconds spent in the model (the ledger) and the
    chapter's measured wall time, and wall time over floor (the performance figure).
    Chapters that ran no model count only in the last row (their floor is zero)."""
    rows = {}
    for name, chapter in chapters.items():
        work = chapter["work"]
        flops = sum(work_flops(kind, totals, facts) for kind, totals in work.items())
        rows[name] = {
            "forward (k)": work.get("forward", {}).get("tokens", 0.0) / 1e3,
            "generate (k)": work.get("generate", {}).get("tokens", 0.0) / 1e3,
            "score (k)": work.get("perplexity", {}).get("tokens", 0.0) / 1e3,
            "TFLOP": flops / 1e12,
            "floor (s)": flops / flops_per_s,
            "model (s)": model_seconds(work),
            "wall (s)": float(chapter["seconds"]),
        }
    table = pd.DataFrame.from_dict(rows, orient="index", columns=list(FLOOR_COLUMNS[:-1]))
    table.loc["all chapters"] = table.sum()
    table["wall / floor"] = table["wall (s)"] / table["floor (s)"].replace(0, np.nan)
    shown = table[(table["TFLOP"] > 0) | (table.index == "all chapters")]
    # chapter names with spaces, so that a narrow page can wrap them
    return shown.rename(index=lambda name: name.replace("_", " ")).round(1)


#: the runs the appendix sets against the FLOP floor → the commands that measure them
FLOOR_COMMANDS = {
    "avx2": "python bench/classroom.py --no-bf16",
    "book": COMMANDS["book"],
}


def floor_machine(name: str, run: Result | None, table: pd.DataFrame | None) -> str:
    """Where a per-chapter FLOP floor (``table``, from
    :func:`floor_table`) of benchmark run ``name`` was
    measured (CPU, instruction set, cores, dtype and matmul rate) or, without a table,
    the command that measures it."""
    if run is None or table is None:
        return f"not measured per chapter yet (run `{FLOOR_COMMANDS[name]}`)"
    machine, peak = run["machine"], run["matmul_peak"]
    hidden = run.get("environment")  # the instruction-set limits the run was under
    isa = "AVX2 only (wider instructions hidden)" if hidden else instruction_set(machine)
    return (
        f"measured on {machine['cpu']}, {isa}, {machine['usable_cpus']} cores, {peak['dtype']} matmul at "
        f"{fmt(peak['gflops_per_s'], 'int')} GFLOP/s (square matrices of {peak['n']})"
    )


def floor_ratio(table: pd.DataFrame | None) -> str:
    """A whole run's measured time over its FLOP floor (the table's last row), in words:
    ``3.0× its floor``, or that the run has no per-chapter floor yet."""
    if table is None:
        return "not measured against its floor yet"
    return f"{table.loc['all chapters', 'wall / floor']:.1f}× its floor"


def same_model(run: Result, forward: Result | None) -> bool:
    """Whether a benchmark ``run`` used the model whose facts (parameters, layers) the
    forward benchmark recorded: the floor needs them."""
    model = run.get("model") or (run.get("config") or {}).get("model")
    return forward is not None and model == forward.get("model")

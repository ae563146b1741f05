"""How fragile are the large-k results? Retrieval and Tatoeba at k = 500 and 2000 under
small changes of the expert set: the other dtype, and two disjoint halves of the
expert sentences.

The book's numbers come from one dtype (``dtype: auto``, this machine's choice) and all
expert sentences. Past the first few hundred experts the AUROC ranking is flat (the
units ranked 500–5000 differ by little), so which units enter the top k can turn on
rounding or on which sentences found them. For the config's main target this runs,
at each k of ``--ks``:

- the reference: the book's own experts (this dtype, every expert sentence);
- the other dtype: every stage (activations, experts, embeddings) recomputed in
  ``--other-dtype``;
- two halves: experts found on the first and on the second half of the expert
  sentences (the same dtype), so the two sets share no sentence;

and reports, per condition, the top-k overlap with the reference experts and the change
(post − pre) of top-1 retrieval with the target as query (mean over candidates) and of
Tatoeba (the target's file, both directions), by inner product and cosine, each with
its 95 % interval over queries. The Tatoeba chapter shows the table and calls a result
fragile where a condition moves it by more than the half-width of its interval.

    python bench/fragility.py                  # main target, k 500 and 2000 (~1 h on 2 cores)
    python bench/fragility.py --quick          # k 500, 50 evaluation sentences
"""

from __future__ import annotations

import sys
import time
from pathlib import Path

if __package__ in (None, ""):
    sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

import numpy as np  # noqa: E402

from bench.common import base_parser, load_cfg, write_result  # noqa: E402

SCORES = {"inner product": "dot", "cosine": "cosine"}


def half_experts(pipe, target: str, half: int):
    """The expert table of ``target`` from one half (0: first, 1: second) of every
    language's expert sentences (the cached activations, sliced)."""
    from steerspace.core.experts import expert_table

    def rows(acts: dict) -> dict:
        n = len(next(iter(acts.values())))
        cut = slice(0, n // 2) if half == 0 else slice(n // 2, n)
        return {m: a[cut] for m, a in acts.items()}

    positive = rows(pipe.activations(target))
    negatives = [rows(pipe.activations(lang)) for lang in pipe.expert_languages if lang != target]
    negative = {m: np.concatenate([acts[m] for acts in negatives]) for m in positive}
    return expert_table(positive, negative, target=target)


def intervention(pipe, table, k: int, label: str):
    from steerspace.core.experts import make_intervention, top_k

    return make_intervention(top_k(table, k), label=label, capture=pipe.cfg.capture)


def measures(pipe, target: str, iv, tatoeba, *, n_boot: int, seed: int) -> dict:
    """Retrieval (target as query) and Tatoeba (the target's file) pre and post ``iv``:
    per score, the change with its interval."""
    from steerspace.analyses.crosslingual_retrieval import space_hits, target_block
    from steerspace.analyses.tatoeba_bucc import pair_hits
    from steerspace.metrics.inference import paired_hits_delta

    out = {}
    pre, post = pipe.space(), pipe.space(iv)
    sides = {}
    for label, use in (("pre", None), ("post", iv)):
        groups = {
            "tatoeba-xx": (list(tatoeba.sentences(target)), None),
            "tatoeba-en": (list(tatoeba.sentences("en")), None),
        }
        embedded = pipe.embed_groups(groups, use)
        sides[label] = (embedded["tatoeba-xx"], embedded["tatoeba-en"])
    for name, score in SCORES.items():
        hits = space_hits(pre, {target: post}, score=score)
        before, after = target_block(hits["pre"], target), target_block(hits[target], target)
        est = paired_hits_delta(before.to_numpy(), after.to_numpy(), n_boot=n_boot, seed=seed)
        out[f"retrieval {name}"] = est.as_dict()
        for direction in ("xx→en", "en→xx"):
            b = pair_hits(*sides["pre"], direction, score=score)
            a = pair_hits(*sides["post"], direction, score=score)
            est = paired_hits_delta(b, a, n_boot=n_boot, seed=seed)
            out[f"tatoeba {direction} {name}"] = est.as_dict()
    return out


def overlap(a, b, k: int) -> float:
    from steerspace.core.experts import top_k

    units = lambda t: set(zip(t["module"], t["unit"], strict=True))  # noqa: E731
    return len(units(top_k(a, k)) & units(top_k(b, k))) / k


def main() -> None:
    parser = base_parser(__doc__.splitlines()[0])
    parser.add_argument("--ks", default="500,2000", help="numbers of experts (comma-separated)")
    parser.add_argument(
        "--other-dtype", default=None, help="default: the dtype this run does not use"
    )
    args = parser.parse_args()
    from steerspace.data import default_tatoeba_dir, load_tatoeba
    from steerspace.pipeline import Pipeline

    extra = {"n_eval_sentences": 50} if args.quick else {}
    cfg = load_cfg(args, **extra)
    ks = [500] if args.quick else [int(k) for k in args.ks.split(",")]
    other = args.other_dtype or ("bfloat16" if cfg.dtype == "float32" else "float32")
    target = cfg.main_target
    tatoeba = load_tatoeba(cfg.tatoeba_dir or default_tatoeba_dir(), [target])[target]
    started = time.perf_counter()
    ref = Pipeline(cfg, progress=True)
    alt = Pipeline(cfg.replace(dtype=other), progress=True)
    tables = {
        "reference": ref.experts(target),
        f"{other}": alt.experts(target),
        "first half": half_experts(ref, target, 0),
        "second half": half_experts(ref, target, 1),
    }
    rows = []
    for k in ks:
        for condition, table in tables.items():
            pipe = alt if condition == other else ref
            iv = intervention(pipe, table, k, f"{target}-top{k}-{condition}")
            rows.append(
                {
                    "k": k,
                    "condition": condition,
                    "dtype": pipe.cfg.dtype,
                    "top_k_overlap": overlap(tables["reference"], table, k),
                    **measures(pipe, target, iv, tatoeba, n_boot=cfg.n_boot, seed=cfg.seed),
                }
            )
    seconds = time.perf_counter() - started
    worst = max(
        abs(r[m]["value"] - ref_row[m]["value"])
        / max(1e-9, (ref_row[m]["high"] - ref_row[m]["low"]) / 2)
        for ref_row in rows
        if ref_row["condition"] == "reference"
        for r in rows
        if r["k"] == ref_row["k"]
        for m in r
        if isinstance(r[m], dict)
    )
    write_result(
        "fragility",
        {
            "config": cfg.name,
            "target": target,
            "dtype": cfg.dtype,
            "other_dtype": other,
            "ks": ks,
            "n_eval_sentences": cfg.n_eval_sentences,
            "tatoeba_pairs": len(tatoeba),
            "rows": rows,
            "seconds": seconds,
            "summary": f"{target}, k {ks}: the largest move is {worst:.1f}× the reference's "
            f"interval half-width ({seconds / 60:.0f} min)",
        },
    )


if __name__ == "__main__":
    main()

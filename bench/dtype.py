"""float32 against bfloat16 on the default run: how much do the results differ?

``dtype: auto`` computes in bfloat16 where the CPU has bfloat16 matmuls and in float32
elsewhere, so two readers of the book can get either. This runs the default config's
expert finding (all targets, all expert sentences) and a subset of its evaluation
(``--eval-sentences`` per language, every target's intervention) in both dtypes, and
compares:

- expert tables: top-k overlap per target, largest AUROC difference over all units;
- embeddings: per-sentence cosine between the float32 and bfloat16 embedding of the
  same sentence, pre and post (every target);
- Table 1 (distances pre and post, mean over targets) and target-as-query top-1
  retrieval (mean over languages and targets), in both dtypes;
- the wall time of each dtype (forward passes and AUROC).

    python bench/dtype.py                      # default config, 50 evaluation sentences
    python bench/dtype.py --quick              # 100 expert, 10 evaluation sentences, 2 targets
"""

from __future__ import annotations

import sys
import time
from pathlib import Path

if __package__ in (None, ""):
    sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

import numpy as np  # noqa: E402

from bench.common import base_parser, load_cfg, write_result  # noqa: E402

DTYPES = ("float32", "bfloat16")


def cosines(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    """Row-wise cosine similarity of two equally shaped arrays."""
    a, b = np.asarray(a, np.float64), np.asarray(b, np.float64)
    return (a * b).sum(1) / np.linalg.norm(a, axis=1) / np.linalg.norm(b, axis=1)


def run_dtype(cfg, dtype: str) -> dict:
    """Experts, pre and post spaces, Table 1 and retrieval of ``cfg`` in ``dtype``."""
    from steerspace.metrics.geometry import table1
    from steerspace.metrics.retrieval import top1_accuracy
    from steerspace.pipeline import Pipeline

    pipe = Pipeline(cfg.replace(dtype=dtype), progress=True)
    start = time.perf_counter()
    experts = {t: pipe.experts(t) for t in cfg.targets}
    experts_s = time.perf_counter() - start
    start = time.perf_counter()
    pre, post = pipe.space(), pipe.post_spaces()
    spaces_s = time.perf_counter() - start
    _, summary = table1(pre, post)
    retrieval = {
        t: {
            space: float(
                np.mean(
                    [top1_accuracy(emb[t], emb[lang]) for lang in pre if lang != t and t in emb]
                )
            )
            for space, emb in (("pre", pre), ("post", post[t]))
        }
        for t in cfg.targets
        if t in pre
    }
    return {
        "experts": experts,
        "pre": pre,
        "post": post,
        "table1": summary,
        "retrieval": retrieval,
        "seconds": {"experts": experts_s, "spaces": spaces_s},
    }


def compare(cfg, runs: dict[str, dict]) -> dict:
    """The differences between the float32 and bfloat16 runs."""
    from steerspace.core.experts import top_k

    f32, b16 = runs["float32"], runs["bfloat16"]
    experts = {}
    for t in cfg.targets:
        a, b = f32["experts"][t], b16["experts"][t]
        units = lambda table: set(zip(table["module"], table["unit"], strict=True))  # noqa: E731
        overlap = len(units(top_k(a, cfg.k)) & units(top_k(b, cfg.k))) / cfg.k
        joined = a.merge(b, on=["module", "unit"], suffixes=("_f32", "_b16"))
        experts[t] = {
            "top_k_overlap": overlap,
            "max_abs_auroc_diff": float((joined["auroc_f32"] - joined["auroc_b16"]).abs().max()),
        }
    pre_cos = np.concatenate([cosines(f32["pre"][lang], b16["pre"][lang]) for lang in f32["pre"]])
    post_cos = np.concatenate(
        [
            cosines(f32["post"][t][lang], b16["post"][t][lang])
            for t in f32["post"]
            for lang in f32["post"][t]
        ]
    )
    t1 = f32["table1"].merge(
        b16["table1"], on=["language", "distance_type"], suffixes=("_f32", "_b16")
    )
    table1_rows = [
        {
            "language": r["language"],
            "distance_type": r["distance_type"],
            **{
                f"{s}_{d}": round(float(r[f"{s}_{d}"]), 4)
                for s in ("pre", "post")
                for d in ("f32", "b16")
            },
            "max_abs_diff": round(
                max(abs(r[f"{s}_f32"] - r[f"{s}_b16"]) for s in ("pre", "post")), 4
            ),
        }
        for _, r in t1.iterrows()
    ]
    retrieval = {
        t: {space: {d: runs[d]["retrieval"][t][space] for d in DTYPES} for space in ("pre", "post")}
        for t in f32["retrieval"]
    }
    return {
        "experts": experts,
        "embedding_cosine": {
            "pre": {"mean": float(pre_cos.mean()), "min": float(pre_cos.min())},
            "post": {"mean": float(post_cos.mean()), "min": float(post_cos.min())},
        },
        "table1": table1_rows,
        "table1_max_abs_diff": max(r["max_abs_diff"] for r in table1_rows),
        "retrieval_top1": retrieval,
        "retrieval_max_abs_diff": max(
            abs(v["float32"] - v["bfloat16"]) for t in retrieval.values() for v in t.values()
        ),
    }


def main(argv: list[str] | None = None) -> int:
    parser = base_parser(__doc__.splitlines()[0])
    parser.add_argument(
        "--eval-sentences", type=int, default=50, help="evaluation sentences per language"
    )
    args = parser.parse_args(argv)
    extra = {"n_eval_sentences": args.eval_sentences}
    if args.quick:
        extra = {"n_eval_sentences": 10, "n_expert_sentences": 100, "targets": ["es", "en"]}
    cfg = load_cfg(args, **extra)
    runs = {dtype: run_dtype(cfg, dtype) for dtype in DTYPES}
    diff = compare(cfg, runs)
    overlaps = [e["top_k_overlap"] for e in diff["experts"].values()]
    summary = (
        f"top-{cfg.k} expert overlap {min(overlaps):.1%}–{max(overlaps):.1%}, embedding cosine "
        f"pre {diff['embedding_cosine']['pre']['mean']:.5f} (min "
        f"{diff['embedding_cosine']['pre']['min']:.4f}), Table 1 max |diff| "
        f"{diff['table1_max_abs_diff']:.4f}, top-1 retrieval max |diff| "
        f"{diff['retrieval_max_abs_diff']:.3f}"
    )
    write_result(
        "dtype",
        {
            "summary": summary,
            "config": cfg.name,
            "model": cfg.model,
            "targets": list(cfg.targets),
            "k": cfg.k,
            "n_expert_sentences": cfg.n_expert_sentences,
            "n_eval_sentences": cfg.n_eval_sentences,
            "seconds": {d: runs[d]["seconds"] for d in DTYPES},
            **diff,
        },
        directory=args.out,
    )
    return 0


if __name__ == "__main__":
    raise SystemExit(main())

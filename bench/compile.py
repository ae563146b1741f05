"""Compiled-kernel benchmark: the embedding pass (``forward_pooled``, plain) eager and with
the backbone under ``torch.compile`` (inductor, dynamic shapes), on the default model and
the forward benchmark's sentences: tokens/s of each, the compile's cost in a fresh
process with an empty inductor cache (``cold``) and again with the cache the first
process left (``warm``: what a persistent, per-machine cache would pay in every later
kernel), and the largest difference of the pooled embeddings against eager, over their
mean magnitude (the pipeline's own tolerance for the same sentences batched otherwise is
2e-4, :mod:`steerspace.infra.stages`).

Each measurement runs in its own process (``--child``), so the cold and warm compiles
see only the inductor cache directory this benchmark gives them.

    python bench/compile.py            # 256 sentences, 3 repeats
    python bench/compile.py --quick    # 32 sentences, 1 repeat
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

if __package__ in (None, ""):
    sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from bench.common import base_parser, load_cfg, write_result  # noqa: E402

#: the pipeline's tolerance for the same sentences pooled in other batches (max |Δ| over
#: mean |x|), from the stage note of ``steerspace.infra.stages``
BATCHING_TOLERANCE = 2e-4


def measure(args) -> dict:
    """In this process: the eager pass ``args.repeats`` times, then the compiled one (its
    first call pays the compile), and their difference."""
    import numpy as np
    import torch

    from bench.forward import bench_sentences, token_counts
    from steerspace.core.forward import forward_pooled
    from steerspace.pipeline import Pipeline

    cfg = load_cfg(args)
    pipe = Pipeline(cfg, progress=False)
    model, tokenizer = pipe.model, pipe.tokenizer
    sentences = bench_sentences(pipe, args.sentences)
    tokens = int(
        token_counts(tokenizer, sentences, batch_size=cfg.batch_size, max_length=cfg.max_length)[
            "lengths"
        ].sum()
    )
    common = dict(
        pooling=cfg.embedding_pooling,
        include_bos=cfg.include_bos,
        batch_size=cfg.batch_size,
        max_length=cfg.max_length,
    )

    def run() -> tuple[float, np.ndarray]:
        start = time.perf_counter()
        out = forward_pooled(model, tokenizer, sentences, **common)["hidden"]
        return time.perf_counter() - start, out

    run()  # warm-up
    eager = [run() for _ in range(args.repeats)]
    reference = eager[0][1]
    setattr(model, model.base_model_prefix, torch.compile(model.base_model, dynamic=True))
    first_s, compiled_out = run()
    compiled = [run() for _ in range(args.repeats)]
    best_compiled = min(t for t, _ in compiled)
    return {
        "dtype": str(next(model.parameters()).dtype).removeprefix("torch."),
        "sentences": len(sentences),
        "tokens": tokens,
        "batch_size": cfg.batch_size,
        "eager_s": min(t for t, _ in eager),
        "compiled_s": best_compiled,
        "first_compiled_call_s": first_s,
        "compile_s": first_s - best_compiled,
        "max_abs_diff_over_mean_abs": float(
            np.abs(compiled_out - reference).max() / np.abs(reference).mean()
        ),
    }


def main(argv: list[str] | None = None) -> int:
    parser = base_parser(__doc__.splitlines()[0])
    parser.add_argument("--sentences", type=int, default=256)
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--child", action="store_true", help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    if args.quick:
        args.sentences, args.repeats = min(args.sentences, 32), 1
    if args.child:
        print(json.dumps(measure(args)))
        return 0
    runs = {}
    with tempfile.TemporaryDirectory(prefix="steerspace-inductor-") as cache:
        env = dict(os.environ, TORCHINDUCTOR_CACHE_DIR=cache)
        for name in ("cold", "warm"):
            child = [sys.executable, __file__, "--child", *(argv or sys.argv[1:])]
            done = subprocess.run(child, env=env, capture_output=True, text=True, check=True)
            runs[name] = json.loads(done.stdout.strip().splitlines()[-1])
    cold, warm = runs["cold"], runs["warm"]
    speedup = min(r["eager_s"] for r in runs.values()) / min(r["compiled_s"] for r in runs.values())
    diff = max(r["max_abs_diff_over_mean_abs"] for r in runs.values())
    write_result(
        "compile",
        {
            "summary": (
                f"{cold['dtype']}: compiled {speedup:.2f}x eager; compile {cold['compile_s']:.0f} s "
                f"cold, {warm['compile_s']:.0f} s with the inductor cache; max |diff| "
                f"{diff:.1e} of mean |x| (tolerance {BATCHING_TOLERANCE:.0e})"
            ),
            "config": load_cfg(args).name,
            "speedup": speedup,
            "max_abs_diff_over_mean_abs": diff,
            "tolerance": BATCHING_TOLERANCE,
            "within_tolerance": bool(diff <= BATCHING_TOLERANCE),
            "runs": runs,
        },
        directory=args.out,
    )
    return 0


if __name__ == "__main__":
    raise SystemExit(main())

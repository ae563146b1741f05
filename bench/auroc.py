"""AUROC benchmark: the library's vectorised AUROC (``steerspace.core.experts.auroc``, as
``expert_table`` calls it, one module at a time) against a Python loop of
``sklearn.metrics.roc_auc_score`` per unit, on the default model's real pooled
activations for one target (positive: its expert sentences; negative: the other
expert languages'), in the same run.

The sklearn loop is timed on a random sample of units (``--units-sample``) and
extrapolated linearly to all units (each unit is an independent call of the same
size, so the per-unit cost does not depend on which units are drawn); the maximum
absolute difference is taken on that sample.

The library has two exact paths: float32 scores (the pooled activations, as the book
stores them) take one integer sort of packed value+label keys per unit; other dtypes
are ranked with ``scipy.stats.rankdata`` in float64. Both are timed on the same
activations (the second on a float64 copy) and checked against each other.

    python bench/auroc.py                 # default model, all units, 500 sklearn units
    python bench/auroc.py --quick         # 50 sklearn units, 2 repeats
"""

from __future__ import annotations

import sys
import time
from pathlib import Path

if __package__ in (None, ""):
    sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

import numpy as np  # noqa: E402

from bench.common import base_parser, load_cfg, timed, write_result  # noqa: E402


def load_activations(cfg, target: str) -> tuple[dict[str, np.ndarray], dict[str, np.ndarray]]:
    """(positive, negative): module → (sentences, units) pooled activations, from the
    pipeline's cache (computed and cached if missing, as the book would)."""
    from steerspace.pipeline import Pipeline

    pipe = Pipeline(cfg, progress=True)
    positive = pipe.activations(target)
    negatives = [lang for lang in pipe.expert_languages if lang != target]
    neg = [pipe.activations(lang) for lang in negatives]
    negative = {m: np.concatenate([a[m] for a in neg]) for m in positive}
    return positive, negative


def main(argv: list[str] | None = None) -> int:
    parser = base_parser(__doc__.splitlines()[0])
    parser.add_argument("--target", default=None, help="positive language (default: es or first)")
    parser.add_argument(
        "--units-sample", type=int, default=500, help="units timed with the sklearn loop"
    )
    parser.add_argument(
        "--expert-sentences",
        type=int,
        default=1000,
        help="sentences per language if that run's activations are cached, else the config's",
    )
    args = parser.parse_args(argv)
    from sklearn.metrics import roc_auc_score

    from steerspace.core.experts import auroc

    cfg = load_cfg(args)
    # ~6,000 sentences (the issue) need n_expert_sentences=1000: used only if already cached.
    note = ""
    if args.expert_sentences and args.expert_sentences != cfg.n_expert_sentences:
        bigger = cfg.replace(n_expert_sentences=args.expert_sentences)
        if _activations_cached(bigger):
            cfg = bigger
        else:
            note = (
                f"activations for n_expert_sentences={args.expert_sentences} are not cached, "
                f"so the config's {cfg.n_expert_sentences} per language are used"
            )
    target = args.target or cfg.main_target
    start = time.perf_counter()
    positive, negative = load_activations(cfg, target)
    load_s = time.perf_counter() - start
    modules = list(positive)
    n_pos = len(next(iter(positive.values())))
    n_neg = len(next(iter(negative.values())))
    labels = np.r_[np.ones(n_pos, bool), np.zeros(n_neg, bool)]
    scores = {m: np.concatenate([positive[m], negative[m]]) for m in modules}
    n_units = sum(s.shape[1] for s in scores.values())
    repeats = 2 if args.quick else 3

    scores64 = {m: x.astype(np.float64) for m, x in scores.items()}

    def library() -> list[np.ndarray]:
        return [auroc(scores[m], labels) for m in modules]

    def ranking() -> list[np.ndarray]:
        return [auroc(scores64[m], labels) for m in modules]

    t_lib = timed(library, repeats=repeats, warmup=1)
    t_rank = timed(ranking, repeats=repeats, warmup=1)
    lib_all = np.concatenate(library())
    rank_all = np.concatenate(ranking())

    # sklearn, one call per unit, on a random sample of units
    rng = np.random.default_rng(0)
    n_sample = min(args.units_sample if not args.quick else 50, n_units)
    flat = rng.choice(n_units, size=n_sample, replace=False)
    offsets = np.cumsum([0, *[scores[m].shape[1] for m in modules]])
    picks = [(modules[np.searchsorted(offsets, u, side="right") - 1], u) for u in flat]
    columns = [scores[m][:, u - offsets[modules.index(m)]] for m, u in picks]
    defined = np.array([np.ptp(c) > 0 for c in columns])

    def sk_loop() -> list[float]:
        return [roc_auc_score(labels, c) for c in columns]

    t_sk = timed(sk_loop, repeats=1, warmup=0)
    sk = np.array(sk_loop())
    per_unit = t_sk["best_s"] / n_sample
    sk_all_s = per_unit * n_units
    diff_lib = float(np.nanmax(np.abs(lib_all[flat][defined] - sk[defined])))
    diff_rank_lib = float(np.nanmax(np.abs(rank_all - lib_all)))
    speedup = sk_all_s / t_lib["best_s"]
    speedup_rank = sk_all_s / t_rank["best_s"]
    result = {
        "config": cfg.name,
        "model": cfg.model,
        "target": target,
        "modules": len(modules),
        "units": n_units,
        "sentences": int(len(labels)),
        "positive": n_pos,
        "negative": n_neg,
        "n_expert_sentences": cfg.n_expert_sentences,
        "note": note,
        "activations_load_s": load_s,
        "library_auroc": {
            **t_lib,
            "function": "steerspace.core.experts.auroc on float32 (sort path), per module",
        },
        "ranking_auroc": {
            **t_rank,
            "function": "steerspace.core.experts.auroc on float64 (rankdata path), per module",
        },
        "sklearn_loop": {
            "function": "sklearn.metrics.roc_auc_score, one call per unit",
            "units_timed": n_sample,
            "timed_s": t_sk["best_s"],
            "per_unit_s": per_unit,
            "extrapolated_all_units_s": sk_all_s,
            "extrapolation": f"per-unit time over {n_sample} random units x {n_units} units",
        },
        "speedup_library_vs_sklearn": speedup,
        "speedup_ranking_vs_sklearn": speedup_rank,
        "max_abs_diff_library_vs_sklearn": diff_lib,
        "max_abs_diff_ranking_vs_library_all_units": diff_rank_lib,
        "undefined_units_in_sample": int((~defined).sum()),
        "target_speedup": 100,
        "target_max_abs_diff": 1e-9,
        "pass_speedup": bool(speedup >= 100),
        "pass_diff": bool(diff_lib < 1e-9),
        "summary": (
            f"{n_units:,} units x {len(labels):,} sentences: library {t_lib['best_s']:.2f} s, "
            f"sklearn loop {sk_all_s:.0f} s (extrapolated from {n_sample}) -> {speedup:.0f}x "
            f"(target >= 100x), max |diff| {diff_lib:.1e}; rankdata path "
            f"{t_rank['best_s']:.2f} s -> {speedup_rank:.0f}x"
        ),
    }
    write_result("auroc", result, directory=args.out)
    return 0


def _activations_cached(cfg) -> bool:
    """Whether every expert language's activations of ``cfg`` are in its cache already
    (looked up without loading the model)."""
    from steerspace.pipeline import Pipeline

    pipe = Pipeline(cfg, progress=False)
    try:
        for lang in pipe.expert_languages:
            key = pipe._key(
                data=pipe.expert_corpus.select([lang]).fingerprint(),
                modules=cfg.modules,
                capture=cfg.capture,
            )
            path = pipe.cache.path("activations", key, label=f"{cfg.name}-{lang}", ext="npz")
            if not path.exists():
                return False
    except (ValueError, AttributeError):
        return False
    return True


if __name__ == "__main__":
    raise SystemExit(main())

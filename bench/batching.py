"""Batching benchmark: tokens/s of the embedding pass against batch size, with
sentences sorted by length before batching (what ``steerspace.core.forward`` does: longest
first, by token count) and in a shuffled order, counting real and padded tokens.

Both orders run through the same loop (tokenise a batch with right padding, one
backbone forward, mask-aware mean pooling of the last hidden state: the library's
embedding pass), on the same sentences, in the same run. As in the pipeline, which
embeds one language per call, the sentences are batched one language at a time: half
from the main target (Latin script), half from Chinese (Han script), if the config has
it. The padding of a third order, sorted by characters, is reported too (no timing).

The recommended batch size is the smallest whose sorted throughput is within 5% of the
best; the config's batch size is "supported" if it is within 5% of the best.

    python bench/batching.py                  # 256 sentences, 1 4 8 16 32 64, 2 repeats
    python bench/batching.py --quick
"""

from __future__ import annotations

import sys
import time
from pathlib import Path

if __package__ in (None, ""):
    sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

import numpy as np  # noqa: E402

from bench.common import base_parser, load_cfg, write_result  # noqa: E402


def orders(tokenizer, sentences: list[str], *, seed: int = 0) -> dict[str, np.ndarray]:
    """Index orders: library (longest first by tokens), shuffled, by characters."""
    from steerspace.core.forward import length_order

    chars = np.array([len(s) for s in sentences])
    return {
        "sorted": length_order(tokenizer(sentences)["input_ids"]),
        "shuffled": np.random.default_rng(seed).permutation(len(sentences)),
        "sorted_by_chars": np.argsort(chars, kind="stable")[::-1],
    }


def padding(tokenizer, sentences, order, *, batch_size: int, max_length: int) -> dict:
    """Real and padded token counts of batching ``sentences`` in ``order``."""
    real = padded = 0
    for start in range(0, len(order), batch_size):
        batch = [sentences[i] for i in order[start : start + batch_size]]
        enc = tokenizer(batch, padding=True, truncation=True, max_length=max_length)
        lengths = [sum(m) for m in enc["attention_mask"]]
        real += sum(lengths)
        padded += max(lengths) * len(lengths)
    return {"real_tokens": real, "padded_tokens": padded, "padding_fraction": 1 - real / padded}


def embed_in_order(model, tokenizer, sentences, order, *, batch_size, max_length, include_bos):
    """The library's embedding pass, batched in the given order (no re-sorting)."""
    from steerspace.core.forward import forward_pooled

    return forward_pooled(
        model,
        tokenizer,
        sentences,
        order=order,
        include_bos=include_bos,
        batch_size=batch_size,
        max_length=max_length,
    )["hidden"]


def main(argv: list[str] | None = None) -> int:
    parser = base_parser(__doc__.splitlines()[0])
    parser.add_argument("--sentences", type=int, default=256)
    parser.add_argument("--batch-sizes", type=int, nargs="+", default=[1, 4, 8, 16, 32, 64])
    parser.add_argument("--repeats", type=int, default=2)
    args = parser.parse_args(argv)
    if args.quick:
        args.sentences, args.repeats = min(args.sentences, 32), 1
        args.batch_sizes = [b for b in args.batch_sizes if b <= 16] or [1]

    from steerspace.pipeline import Pipeline

    cfg = load_cfg(args)
    pipe = Pipeline(cfg, progress=False)
    model, tokenizer = pipe.model, pipe.tokenizer
    langs = [cfg.main_target] + [
        lang for lang in ("zh", "ja") if lang in pipe.expert_languages and lang != cfg.main_target
    ][:1]
    per_lang = max(1, args.sentences // len(langs))
    groups = {lang: pipe.expert_corpus.sentences(lang)[:per_lang] for lang in langs}
    kinds = {lang: orders(tokenizer, sents, seed=cfg.seed) for lang, sents in groups.items()}
    kw = dict(max_length=cfg.max_length, include_bos=cfg.include_bos)

    def run(kind: str, bs: int) -> None:
        for lang, sents in groups.items():
            embed_in_order(model, tokenizer, sents, kinds[lang][kind], batch_size=bs, **kw)

    def pads(kind: str, bs: int) -> dict:
        per = [
            padding(tokenizer, sents, kinds[lang][kind], batch_size=bs, max_length=cfg.max_length)
            for lang, sents in groups.items()
        ]
        real = sum(p["real_tokens"] for p in per)
        padded = sum(p["padded_tokens"] for p in per)
        return {"real_tokens": real, "padded_tokens": padded, "padding_fraction": 1 - real / padded}

    run("sorted", cfg.batch_size)  # warm-up: one pass at the config's batch size
    rows = []
    for bs in args.batch_sizes:
        for kind in ("sorted", "shuffled"):
            pad = pads(kind, bs)
            times = []
            for _ in range(args.repeats):
                start = time.perf_counter()
                run(kind, bs)
                times.append(time.perf_counter() - start)
            rows.append(
                {
                    "batch_size": bs,
                    "order": kind,
                    **pad,
                    "best_s": min(times),
                    "all_s": times,
                    "tokens_per_s": pad["real_tokens"] / min(times),
                    "padded_tokens_per_s": pad["padded_tokens"] / min(times),
                }
            )
            print(
                f"  batch {bs:>3} {kind:<8} {rows[-1]['tokens_per_s']:>9,.0f} tokens/s, "
                f"padding {pad['padding_fraction']:.1%}",
                flush=True,
            )
        rows.append({"batch_size": bs, "order": "sorted_by_chars", **pads("sorted_by_chars", bs)})
    timed_sorted = {r["batch_size"]: r["tokens_per_s"] for r in rows if r["order"] == "sorted"}
    best_bs = max(timed_sorted, key=timed_sorted.get)
    best = timed_sorted[best_bs]
    recommended = min(b for b, v in timed_sorted.items() if v >= 0.95 * best)
    cfg_tps = timed_sorted.get(cfg.batch_size)
    supported = cfg_tps is not None and cfg_tps >= 0.95 * best
    shuffled = {r["batch_size"]: r["tokens_per_s"] for r in rows if r["order"] == "shuffled"}
    gain = timed_sorted[cfg.batch_size] / shuffled[cfg.batch_size] if cfg_tps else None
    verdict = (
        "not measured"
        if cfg_tps is None
        else ("supported" if supported else f"not supported ({cfg_tps / best:.0%} of the best)")
    )
    result = {
        "config": cfg.name,
        "model": cfg.model,
        "dtype": cfg.dtype,
        "device": cfg.device,
        "sentences": sum(len(v) for v in groups.values()),
        "languages": langs,
        "batched": "one language at a time, as the pipeline embeds",
        "max_length": cfg.max_length,
        "repeats": args.repeats,
        "rows": rows,
        "best_batch_size": best_bs,
        "best_tokens_per_s": best,
        "recommended_batch_size": recommended,
        "config_batch_size": cfg.batch_size,
        "config_batch_size_supported": bool(supported),
        "sorted_over_shuffled_at_config_batch": gain,
        "rule": "smallest batch size within 5% of the best sorted tokens/s",
        "summary": (
            f"best {best:,.0f} tokens/s at batch {best_bs}; recommended batch {recommended}; "
            f"config's {cfg.batch_size}: {verdict}"
            + (f"; sorting x{gain:.2f} vs shuffled at batch {cfg.batch_size}" if gain else "")
        ),
    }
    write_result("batching", result, directory=args.out)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())

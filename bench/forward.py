"""Forward-throughput benchmark: tokens/s of the embedding pass
(``steerspace.core.forward.forward_pooled``) on the default model, in the same run and on the
same sentences, for

- ``plain``: the embedding pass alone (mean-pooled last hidden state);
- ``record``: plus the recording hooks on every candidate-expert module
  (``find_modules(model, cfg.modules)``, the MLP ``down_proj`` inputs), as expert
  finding runs it;
- ``intervention``: plus the top-k expert intervention of the main target
  (``pipe.intervention("es")``, k from the config), as every post-intervention
  embedding runs it.

One untimed warm-up of each, then ``--repeats`` rounds that time the three
conditions in turn (so drift hits them alike); best and median are reported.
Throughput counts real (non-padding) tokens. The useful FLOPs are

    FLOPs per sentence = 2 · N · L + 2 · n_layers · L² · d_attn

(N = non-embedding parameters of the backbone, the LM head is skipped by the embedding
pass; L = the sentence's tokens; d_attn = heads × head_dim; the second term is the
causal attention scores and weighted sum, QKᵀ and AV, each 2·(L/2)·d_attn FLOPs per
token per layer on average), and the achieved FLOP/s is reported as a fraction of the
measured matmul FLOP/s in the model's dtype (``bench.common.matmul_flops``), and of
the rate the backbone's own linear layers reach alone at the shapes the pass gives them
(:func:`model_shape_matmul_rate`). A profile of one plain pass says where the rest of
the time goes (:func:`profile_breakdown`: matmuls, attention, dtype conversions, GELU,
norms and other elementwise operators, tokenisation, Python and dispatch).

    python bench/forward.py            # 256 sentences, 3 repeats
    python bench/forward.py --quick    # 32 sentences, 1 repeat
"""

from __future__ import annotations

import statistics
import sys
import time
from pathlib import Path

if __package__ in (None, ""):
    sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

import numpy as np  # noqa: E402

from bench.common import base_parser, load_cfg, matmul_flops, timed, write_result  # noqa: E402


def model_facts(model) -> dict:
    """Layers, attention width and non-embedding parameters of the backbone (what an
    embedding pass computes with; embeddings are a lookup and the LM head is skipped)."""
    conf = model.config
    conf = getattr(conf, "text_config", None) or conf
    heads = int(conf.num_attention_heads)
    head_dim = int(getattr(conf, "head_dim", None) or conf.hidden_size // heads)
    backbone = model.base_model
    total = sum(p.numel() for p in backbone.parameters())
    embedding = sum(
        p.numel() for name, p in backbone.named_parameters() if "embed" in name or "wte" in name
    )
    lm_head = model.get_output_embeddings()
    return {
        "n_layers": int(conf.num_hidden_layers),
        "hidden_size": int(conf.hidden_size),
        "intermediate_size": int(getattr(conf, "intermediate_size", 0) or 0),
        "heads": heads,
        "head_dim": head_dim,
        "d_attn": heads * head_dim,
        "vocab_size": int(conf.vocab_size),
        "backbone_params": int(total),
        "embedding_params": int(embedding),
        "non_embedding_params": int(total - embedding),
        "lm_head_params": lm_head.in_features * lm_head.out_features if lm_head is not None else 0,
    }


def sentence_flops(lengths: np.ndarray, facts: dict) -> float:
    """Useful forward FLOPs of an embedding pass over sentences of ``lengths`` tokens."""
    from steerspace.analyses.performance.floor import work_flops

    lengths = np.asarray(lengths, dtype=np.float64)
    return work_flops(
        "forward", {"tokens": lengths.sum(), "tokens_squared": (lengths**2).sum()}, facts
    )


def token_counts(tokenizer, sentences, *, batch_size: int, max_length: int) -> dict:
    """Real and padded tokens of the library's length-sorted batching, and the real
    length of every sentence."""
    from steerspace.core.forward import _batches, encode

    real = padded = 0
    lengths = np.zeros(len(sentences), dtype=np.int64)
    token_ids = encode(tokenizer, sentences, max_length=max_length)
    for idx, enc in _batches(tokenizer, token_ids, batch_size=batch_size):
        mask = enc["attention_mask"]
        lengths[idx] = mask.sum(dim=1).numpy()
        real += int(mask.sum())
        padded += int(mask.numel())
    return {"real_tokens": real, "padded_tokens": padded, "lengths": lengths}


#: How the profile's operators group into the parts of a forward pass.
CATEGORIES = {
    "matmul (linear layers)": ("aten::mm", "aten::addmm", "aten::bmm", "aten::_mm"),
    "attention (SDPA)": ("scaled_dot_product",),
    "dtype conversions": ("aten::copy_", "aten::_to_copy"),
    "GELU": ("aten::gelu",),
    "norms, rotary and other elementwise": (
        "aten::mul", "aten::add", "aten::pow", "aten::rsqrt", "aten::mean", "aten::div",
        "aten::neg", "aten::cat", "aten::where", "aten::sum", "aten::sub", "aten::masked_fill",
    ),
}  # fmt: skip


def profile_breakdown(run, *, wall_s: float, tokenize_s: float) -> dict[str, float]:
    """Seconds of one embedding pass (``run``) by part: the profiler's own time of the
    operators in each of :data:`CATEGORIES`, the other operators, tokenisation, and the
    rest of the wall time (Python, dispatch, hooks' bookkeeping, batching)."""
    from torch.profiler import ProfilerActivity, profile

    with profile(activities=[ProfilerActivity.CPU]) as prof:
        run()
    parts = dict.fromkeys([*CATEGORIES, "other operators"], 0.0)
    for event in prof.key_averages():
        seconds = event.self_cpu_time_total / 1e6
        name = next(
            (c for c, keys in CATEGORIES.items() if any(k in event.key for k in keys)), None
        )
        parts[name or "other operators"] += seconds
    parts["tokenisation"] = tokenize_s
    parts["Python, dispatch and the rest"] = max(0.0, wall_s - sum(parts.values()))
    return parts


def model_shape_matmul_rate(model, lengths: np.ndarray, *, batch_size: int) -> dict:
    """FLOP/s of the backbone's linear layers run alone at the shapes an embedding pass
    gives them (rows = the padded tokens of a batch): the matmul rate this model can
    reach, as opposed to a large square matmul's."""
    import torch

    rows = int(np.mean(np.sort(lengths)[::-1][:batch_size]) * batch_size)
    linears = [m for m in model.base_model.modules() if isinstance(m, torch.nn.Linear)]
    dtype, device = linears[0].weight.dtype, linears[0].weight.device
    inputs = {
        m.in_features: torch.randn(rows, m.in_features, dtype=dtype, device=device) for m in linears
    }
    flops = sum(2 * rows * m.in_features * m.out_features for m in linears)

    def run() -> None:
        with torch.inference_mode():
            for m in linears:
                torch.nn.functional.linear(inputs[m.in_features], m.weight)

    t = timed(run, repeats=5, warmup=1)
    return {
        "rows": rows,
        "flops_per_s": flops / t["best_s"],
        "gflops_per_s": round(flops / t["best_s"] / 1e9, 1),
    }


def bench_sentences(pipe, n: int) -> list[str]:
    """``n`` expert-set sentences, round-robin over the expert languages (the mix the
    expert pass and the 22-language embedding pass see)."""
    corpus = pipe.expert_corpus
    per_lang = [corpus.sentences(lang) for lang in pipe.expert_languages]
    out: list[str] = []
    for i in range(max(len(s) for s in per_lang)):
        for sents in per_lang:
            if i < len(sents):
                out.append(sents[i])
    return out[:n]


def main(argv: list[str] | None = None) -> int:
    parser = base_parser(__doc__.splitlines()[0])
    parser.add_argument("--sentences", type=int, default=256)
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--target", default=None, help="intervention target (default es)")
    args = parser.parse_args(argv)
    if args.quick:
        args.sentences, args.repeats = min(args.sentences, 32), 1
    import torch

    from steerspace.core.forward import encode, forward_pooled
    from steerspace.core.hooks import find_modules
    from steerspace.pipeline import Pipeline

    cfg = load_cfg(args)
    pipe = Pipeline(cfg, progress=False)
    target = args.target or cfg.main_target
    t0 = time.perf_counter()
    model, tokenizer = pipe.model, pipe.tokenizer
    load_s = time.perf_counter() - t0
    intervention = pipe.intervention(target)  # expert table from the cache (or computed)
    sentences = bench_sentences(pipe, args.sentences)
    counts = token_counts(
        tokenizer, sentences, batch_size=cfg.batch_size, max_length=cfg.max_length
    )
    facts = model_facts(model)
    flops = sentence_flops(counts["lengths"], facts)
    modules = find_modules(model, cfg.modules)
    common = dict(
        pooling=cfg.pooling,
        include_bos=cfg.include_bos,
        batch_size=cfg.batch_size,
        max_length=cfg.max_length,
    )
    conditions = {
        "plain": dict(common),
        "record": dict(common, modules=modules, capture=cfg.capture),
        "intervention": dict(common, intervention=intervention),
    }

    def run(name: str) -> float:
        start = time.perf_counter()
        forward_pooled(model, tokenizer, sentences, **conditions[name])
        if cfg.device.startswith("cuda"):
            torch.cuda.synchronize()
        return time.perf_counter() - start

    for name in conditions:  # warm-up (allocator, oneDNN kernels, page cache)
        run(name)
    times: dict[str, list[float]] = {name: [] for name in conditions}
    for _ in range(args.repeats):
        for name in conditions:
            times[name].append(run(name))

    peak = matmul_flops(cfg.dtype if cfg.dtype != "float16" else "bfloat16", device=cfg.device)
    shaped = model_shape_matmul_rate(model, counts["lengths"], batch_size=cfg.batch_size)
    tokenize = timed(lambda: encode(tokenizer, sentences, max_length=cfg.max_length), repeats=3)
    breakdown = profile_breakdown(
        lambda: run("plain"), wall_s=min(times["plain"]), tokenize_s=tokenize["best_s"]
    )
    out: dict[str, dict] = {}
    for name, ts in times.items():
        best, median = min(ts), statistics.median(ts)
        out[name] = {
            "best_s": best,
            "median_s": median,
            "all_s": ts,
            "tokens_per_s_best": counts["real_tokens"] / best,
            "tokens_per_s_median": counts["real_tokens"] / median,
            "flops_per_s_best": flops / best,
            "fraction_of_matmul_peak": flops / best / peak["flops_per_s"],
            "fraction_of_model_shape_matmul": flops / best / shaped["flops_per_s"],
        }
    plain = out["plain"]["tokens_per_s_best"]
    for name in out:
        out[name]["overhead_vs_plain"] = 1.0 - out[name]["tokens_per_s_best"] / plain
        out[name]["overhead_vs_plain_median"] = (
            1.0 - out[name]["tokens_per_s_median"] / out["plain"]["tokens_per_s_median"]
        )
    rec, iv = out["record"]["overhead_vs_plain"], out["intervention"]["overhead_vs_plain"]
    result = {
        "config": cfg.name,
        "model": cfg.model,
        "dtype": cfg.dtype,
        "device": cfg.device,
        "sentences": len(sentences),
        "batch_size": cfg.batch_size,
        "max_length": cfg.max_length,
        "repeats": args.repeats,
        "real_tokens": counts["real_tokens"],
        "padded_tokens": counts["padded_tokens"],
        "mean_tokens_per_sentence": counts["real_tokens"] / len(sentences),
        "model_load_s": load_s,
        "model_facts": facts,
        "recorded_modules": len(modules),
        "intervention": {"label": intervention.label, "units": intervention.size},
        "flops_formula": "2*N_nonemb*L + 2*n_layers*d_attn*L^2 per sentence of L real tokens",
        "useful_flops": flops,
        "flops_per_token": flops / counts["real_tokens"],
        "matmul_peak": peak,
        "model_shape_matmul": shaped,
        "profile_s": breakdown,
        "conditions": out,
        "target_hook_overhead": 0.10,
        "pass_record": bool(rec <= 0.10),
        "pass_intervention": bool(iv <= 0.10),
        "summary": (
            f"{plain:,.0f} tokens/s plain ({out['plain']['fraction_of_matmul_peak']:.1%} of the "
            f"{peak['gflops_per_s']:.0f} GFLOP/s {peak['dtype']} matmul, "
            f"{out['plain']['fraction_of_model_shape_matmul']:.1%} of the "
            f"{shaped['gflops_per_s']:.0f} GFLOP/s its own linear layers reach alone), recording hooks "
            f"{rec:+.1%}, intervention {iv:+.1%} (target <= 10%)"
        ),
    }
    write_result("forward", result, directory=args.out)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())

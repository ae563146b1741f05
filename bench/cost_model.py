"""Cost model: FLOPs and predicted H100 GPU-hours of the paper's protocol for
Bloom-7B1, Aya-23-8B and PolyLM-13B, against the paper's 90–120 A100 GPU-hours, and
of our pipeline running the shipped paper-scale configs.

Every stage of the protocol is a number of forward tokens (counted below from the
paper's text and from our configs) times a per-token cost from the architecture:

    FLOPs/token = 2·N + 2·n_layers·C·d_attn  (+ 2·d·V where logits are computed)

with N the non-embedding parameters, C the attention context (the sequence length for
a sentence, the window for perplexity; causal attention's QKᵀ and AV average C/2
positions, 2 FLOPs per multiply-add), d the hidden size, V the vocabulary. Time on a
GPU = FLOPs / (MFU × peak bf16 FLOP/s) for prefill-like passes; token-by-token
generation is also bounded below by reading all weights once per step (HBM
bandwidth). GPU-hours are given for an assumed MFU range (see ``MFU``).

Sentence lengths come from our data: the mean tokens per sentence of the Bible
evaluation verses under the default model's tokenizer (Gemma 3, a 262k-entry
multilingual SentencePiece vocabulary; Bloom 250k, Aya 256k and PolyLM 256k are of
the same kind), used for Flores and PAWS-X sentences of every model. The default
model's measured CPU throughput (``forward.json``) anchors the per-token model: it
predicts the default book's forward work on this CPU.

    python bench/cost_model.py            # measures tokens/sentence if the model is cached
    python bench/cost_model.py --quick    # assumed 40 tokens/sentence
"""

from __future__ import annotations

import math
import sys
from dataclasses import asdict, dataclass
from pathlib import Path

if __package__ in (None, ""):
    sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from bench.common import base_parser, read_result, write_result  # noqa: E402


@dataclass(frozen=True)
class Arch:
    """The published shape of a model (its Hugging Face ``config.json``)."""

    name: str
    hf_id: str
    hidden: int
    layers: int
    heads: int
    kv_heads: int
    intermediate: int
    mlp_matrices: int  # 2 for GELU MLPs, 3 for gated (SwiGLU/GeGLU) MLPs
    vocab: int
    max_context: int  # "the model's maximum input size" (paper App. B)
    head_dim: int | None = None
    source: str = ""
    counted_non_embedding: int | None = None  # parameters counted on a loaded model

    @property
    def d_attn(self) -> int:
        return self.heads * (self.head_dim or self.hidden // self.heads)

    @property
    def non_embedding_params(self) -> int:
        """Attention (q, o: d×d_attn; k, v: d×kv·head_dim) + MLP matrices per layer
        (biases and norms, < 0.1%, are left out)."""
        if self.counted_non_embedding:
            return self.counted_non_embedding
        hd = self.head_dim or self.hidden // self.heads
        attn = 2 * self.hidden * self.d_attn + 2 * self.hidden * self.kv_heads * hd
        mlp = self.mlp_matrices * self.hidden * self.intermediate
        return self.layers * (attn + mlp)

    @property
    def embedding_params(self) -> int:
        return self.vocab * self.hidden

    @property
    def total_params(self) -> int:
        return self.non_embedding_params + self.embedding_params  # tied LM head

    @property
    def units(self) -> int:
        """Candidate expert units: MLP intermediate activations of every layer."""
        return self.layers * self.intermediate


ARCHS: dict[str, Arch] = {
    # https://huggingface.co/bigscience/bloom-7b1/blob/main/config.json: hidden_size 4096,
    # n_layer 30, n_head 32, vocab_size 250880, MLP 4·hidden (BloomMLP: dense_h_to_4h,
    # dense_4h_to_h), ALiBi; trained with sequence length 2048 (model card).
    "bloom-7b1": Arch(
        "bloom-7b1",
        "bigscience/bloom-7b1",
        4096,
        30,
        32,
        32,
        16384,
        2,
        250880,
        2048,
        source="huggingface.co/bigscience/bloom-7b1 config.json + model card (seq 2048)",
    ),
    # https://huggingface.co/CohereForAI/aya-23-8B/blob/main/config.json: hidden_size 4096,
    # num_hidden_layers 32, num_attention_heads 32, num_key_value_heads 8,
    # intermediate_size 14336 (SwiGLU: gate, up, down), vocab_size 256000,
    # max_position_embeddings 8192, tied embeddings.
    "aya-23-8b": Arch(
        "aya-23-8b",
        "CohereForAI/aya-23-8B",
        4096,
        32,
        32,
        8,
        14336,
        3,
        256000,
        8192,
        source="huggingface.co/CohereForAI/aya-23-8B config.json",
    ),
    # https://huggingface.co/DAMO-NLP-MT/polylm-13b/blob/main/config.json (model_type gpt2):
    # n_embd 5120, n_layer 40, n_head 40, n_inner 20480, vocab_size 256000, n_positions 2048.
    "polylm-13b": Arch(
        "polylm-13b",
        "DAMO-NLP-MT/polylm-13b",
        5120,
        40,
        40,
        40,
        20480,
        2,
        256000,
        2048,
        source="huggingface.co/DAMO-NLP-MT/polylm-13b config.json",
    ),
    # The default (for the CPU anchor): Gemma-3-270M, hidden 640, 18 layers, 4 heads of 256,
    # 1 KV head, intermediate 2048 (GeGLU), vocab 262144, 32k context (its config.json).
    "gemma-3-270m": Arch(
        "gemma-3-270m",
        "google/gemma-3-270m",
        640,
        18,
        4,
        1,
        2048,
        3,
        262144,
        32768,
        head_dim=256,
        source="google/gemma-3-270m config.json",
    ),
}

#: The paper's compute (App. I: "8 A100 (80GB) GPUs ... 90 GPU/hours Aya-8B, 120 for
#: PolyLM-13B, and 110 for Bloom-7B").
PAPER_A100_HOURS = {"bloom-7b1": 110, "aya-23-8b": 90, "polylm-13b": 120}
PAPER_K = {"bloom-7b1": 100, "aya-23-8b": 2000, "polylm-13b": 2000}

#: Dense bf16 tensor-core peaks (no sparsity) and HBM bandwidth, from NVIDIA's data sheets.
GPUS = {
    "H100 SXM": {"peak_flops": 989e12, "hbm_bytes_per_s": 3.35e12},
    "A100 SXM 80GB": {"peak_flops": 312e12, "hbm_bytes_per_s": 2.04e12},
}

#: Model-FLOPs utilisation assumed for prefill-like passes (whole sentences or windows
#: through the model, no backward). Low end 20%: Hugging Face eager/SDPA inference with
#: ~40-token sentences in batches of 32 (about 1,300 rows per GEMM: enough to fill an
#: H100 only partly, plus per-layer hook and launch overhead); high end 50%: long
#: perplexity windows (2–8k tokens), where the GEMMs are large and compute-bound, as in
#: well-tuned training (~40–55% MFU) minus the backward pass's better reuse. The CPU
#: anchor (forward.json) reports the same quantity for the default model on this machine.
MFU = {"low": 0.20, "mid": 0.35, "high": 0.50}
#: Fraction of HBM bandwidth reached when generation is memory-bound.
HBM_EFFICIENCY = 0.7

#: A smaller perplexity sample that keeps the paper's windows: the standard error of a
#: mean per-token NLL (sd about 3 nats) over 0.5M tokens is about 0.004 nats, or about
#: 0.013 nats allowing a 10x design effect for correlated tokens.
SMALL_PERPLEXITY_TOKENS = 500_000

#: The paper's protocol, as the text states it (section / appendix in the comment).
PAPER_PROTOCOL = {
    "targets": 5,  # §3.3: en de fr es ja
    "expert_languages": 6,  # §3.2: 5 targets + Chinese as negatives
    "flores_dev_sentences": 997,  # §3.2: Flores-200 dev per language
    "eval_languages": 22,  # §4: 22 languages
    "flores_devtest_sentences": 1012,  # §4: devtest, 1012 per language
    # App. B: "we sweep over expert set sizes ranging from 100 to 5000" (the grid is not
    # listed; assumed 6 sizes) + k = 0 (original model) once per target for perplexity.
    "k_sweep": [100, 200, 500, 1000, 2000, 5000],
    "generations_per_k": 2048,  # App. B: 256 sentences x 8 seeds
    "generation_batch": 256,  # assumed: one seed's 256 samples per generate() call
    # App. B footnote 4: other generation settings are transformers 4.41 defaults,
    # i.e. max_length = 20 tokens including the BOS prompt -> 19 new tokens.
    "generation_new_tokens": 19,
    "perplexity_tokens_per_target": 10_000_000,  # App. B: "a corpus of 10 million tokens"
    "perplexity_stride": 512,  # App. B; window = the model's maximum input size
    # §6: PAWS-X test (2,000 pairs per language), paraphrase pairs only (about 45%).
    "pawsx_pairs": 900,
    "random_draws": 1,  # §7: one random set of k units per target (assumed)
    # App. H: Tatoeba (es fr de ja, ~1,000 pairs each, query + English side, pre + post).
    "tatoeba_languages": 4,
    "tatoeba_pairs": 1000,
    # BUCC-18 (App. H) is left out: the paper gives no sizes.
}


def flops_per_token(arch: Arch, context: float, *, logits: bool) -> float:
    """Forward FLOPs per token with attention over ``context`` tokens (sequence length)."""
    f = 2.0 * arch.non_embedding_params + 2.0 * arch.layers * context * arch.d_attn
    if logits:
        f += 2.0 * arch.hidden * arch.vocab
    return f


@dataclass
class Stage:
    """One stage of the protocol: how many tokens go through the model, and how."""

    stage: str
    tokens: float  # tokens through the backbone
    context: float  # attention length for these tokens
    logit_tokens: float = 0.0  # tokens whose logits (LM head) are computed
    decode_steps: float = 0.0  # generate(): sequential steps (memory-bound floor)
    note: str = ""

    def flops(self, arch: Arch) -> float:
        return (
            self.tokens * flops_per_token(arch, self.context, logits=False)
            + self.logit_tokens * 2.0 * arch.hidden * arch.vocab
        )


def _sentences(stage: str, n: float, tps: float, *, logits: bool, note: str = "") -> Stage:
    return Stage(stage, n * tps, tps, n * tps if logits else 0.0, note=note)


def _perplexity(
    stage: str, runs: int, text_tokens: float, window: int, stride: int, *, all_logits: bool
) -> Stage:
    """Strided windows over ``text_tokens``: each window is ``window`` tokens and
    scores ``stride`` new ones; ``all_logits`` computes the LM head at every position
    (``model(ids, labels=...)``), else only at the scored ones (``logits_to_keep``)."""
    windows = max(1.0, math.ceil(max(text_tokens - window, 0) / stride) + 1)
    tokens = runs * windows * min(window, text_tokens)
    logit_tokens = tokens if all_logits else runs * text_tokens
    return Stage(
        stage,
        tokens,
        min(window, text_tokens),
        logit_tokens,
        note=f"{runs} runs x {windows:.0f} windows of {min(window, text_tokens):.0f} tokens",
    )


def paper_stages(
    arch: Arch, tps: float, *, ours: bool = False, perplexity_tokens: float | None = None
) -> list[Stage]:
    """The paper's protocol, stage by stage, every stage computed once.

    ``ours=False``: as a plain Hugging Face ``AutoModelForCausalLM`` forward runs it,
    with logits at every position of every pass; ``ours=True``: through our pipeline,
    which skips the LM head where no logits are needed (activations, embeddings) and
    computes perplexity logits only at the scored positions. ``perplexity_tokens``
    replaces the paper's 10M Wikipedia tokens per (target, k)."""
    p = PAPER_PROTOCOL
    full = not ours
    T = p["targets"]
    n_k = len(p["k_sweep"])
    langs, dev, test = p["eval_languages"], p["flores_dev_sentences"], p["flores_devtest_sentences"]
    stages = [
        _sentences(
            "expert finding (Flores dev activations)",
            p["expert_languages"] * dev,
            tps,
            logits=full,
            note=f"{p['expert_languages']} languages x {dev}",
        ),
        _sentences(
            "embeddings pre + post (22 langs, Flores devtest)",
            langs * test * (1 + T),
            tps,
            logits=full,
            note=f"{langs} x {test} x (1 pre + {T} post)",
        ),
        _sentences(
            "random-neuron control (§7)",
            p["random_draws"] * T * (langs * test + 2 * p["pawsx_pairs"]),
            tps,
            logits=full,
            note="22-language space + PAWS-X per target",
        ),
        _sentences(
            "paraphrase retrieval (PAWS-X, §6)",
            T * 2 * p["pawsx_pairs"] * 2,
            tps,
            logits=full,
            note=f"{T} targets x {p['pawsx_pairs']} pairs x 2 sides x (pre + post)",
        ),
        _sentences(
            "Tatoeba (App. H)",
            p["tatoeba_languages"] * p["tatoeba_pairs"] * 2 * 2,
            tps,
            logits=full,
            note="4 languages x 1000 pairs x 2 sides x (pre + post)",
        ),
    ]
    gens = T * n_k * p["generations_per_k"] + p["generations_per_k"]  # + original model once
    new = p["generation_new_tokens"]
    stages.append(
        Stage(
            "generations for the k sweep (App. B)",
            gens * new,
            new / 2,
            gens * new,
            decode_steps=gens / p["generation_batch"] * new,
            note=f"({T} targets x {n_k} k + original) x {p['generations_per_k']} x {new} tokens",
        )
    )
    stages.append(
        _perplexity(
            "Wikipedia perplexity for the k sweep (App. B)",
            T * (n_k + 1),
            perplexity_tokens or p["perplexity_tokens_per_target"],
            arch.max_context,
            p["perplexity_stride"],
            all_logits=full,
        )
    )
    return stages


def config_stages(cfg, arch: Arch, tps: float) -> list[Stage]:
    """Our pipeline running ``cfg`` (a paper-scale config) end to end, as the chapters
    call it: every cached stage once."""
    from steerspace.pipeline import Pipeline

    T = len(cfg.targets)
    langs = len(Pipeline(cfg.replace(device="cpu"), progress=False).eval_languages)
    experts = len(dict.fromkeys([*cfg.targets, *cfg.extra_negatives]))
    ks = [k for k in cfg.k_grid if k > 0]
    pairs = min(cfg.n_eval_sentences, PAPER_PROTOCOL["pawsx_pairs"])
    seeds = len(cfg.random_seeds)
    window = min(512, arch.max_context)
    gen_batch = min(cfg.n_generations, cfg.batch_size)
    gens = cfg.n_generations * (T * len(ks) + 1)
    return [
        _sentences("expert finding", experts * cfg.n_expert_sentences, tps, logits=False),
        _sentences(
            "embeddings pre + post", langs * cfg.n_eval_sentences * (1 + T), tps, logits=False
        ),
        _sentences(
            "random-neuron control",
            seeds * T * (langs * cfg.n_control_sentences + 2 * pairs),
            tps,
            logits=False,
        ),
        _sentences("paraphrase retrieval", T * 2 * pairs * 2, tps, logits=False),
        _sentences(
            "Tatoeba",
            PAPER_PROTOCOL["tatoeba_languages"] * PAPER_PROTOCOL["tatoeba_pairs"] * 2 * 2,
            tps,
            logits=False,
        ),
        Stage(
            "generations for the k sweep",
            gens * cfg.max_new_tokens,
            cfg.max_new_tokens / 2,
            gens * cfg.max_new_tokens,
            decode_steps=gens / gen_batch * cfg.max_new_tokens,
            note=f"({T} x {len(ks)} k + original) x {cfg.n_generations} x {cfg.max_new_tokens}",
        ),
        _perplexity(
            "held-out perplexity for the k sweep",
            T * (len(ks) + 1),
            cfg.n_heldout_sentences * tps,
            window,
            window // 2,
            all_logits=False,
        ),
    ]


def gpu_hours(stages: list[Stage], arch: Arch, gpu: str, mfu: float) -> float:
    """Hours on one ``gpu`` at model-FLOPs utilisation ``mfu`` (decode: at least one
    read of all bf16 weights per step)."""
    spec = GPUS[gpu]
    seconds = 0.0
    for s in stages:
        compute = s.flops(arch) / (mfu * spec["peak_flops"])
        memory = s.decode_steps * 2 * arch.total_params / (HBM_EFFICIENCY * spec["hbm_bytes_per_s"])
        seconds += max(compute, memory)
    return seconds / 3600


def summarize(stages: list[Stage], arch: Arch) -> list[dict]:
    total = sum(s.flops(arch) for s in stages)
    return [
        {
            **asdict(s),
            "flops": s.flops(arch),
            "share": s.flops(arch) / total,
            "h100_hours_mid": gpu_hours([s], arch, "H100 SXM", MFU["mid"]),
        }
        for s in stages
    ]


def predict(tokens_per_sentence: float = 40.0, *, configs: bool = True) -> dict:
    """Predictions for the three paper models (a pure function of the constants above
    and ``tokens_per_sentence``; used by the performance chapter)."""
    from steerspace.config import load_config

    models = {}
    for name in ("bloom-7b1", "aya-23-8b", "polylm-13b"):
        arch = ARCHS[name]
        variants = {
            "paper protocol, plain HF implementation": paper_stages(arch, tokens_per_sentence),
            "paper protocol, our pipeline": paper_stages(arch, tokens_per_sentence, ours=True),
            "paper protocol, our pipeline, 0.5M perplexity tokens": paper_stages(
                arch, tokens_per_sentence, ours=True, perplexity_tokens=SMALL_PERPLEXITY_TOKENS
            ),
        }
        if configs:
            variants["our paper-scale config"] = config_stages(
                load_config(name), arch, tokens_per_sentence
            )
        out = {
            "arch": {
                **asdict(arch),
                "non_embedding_params": arch.non_embedding_params,
                "total_params": arch.total_params,
                "units": arch.units,
                "flops_per_token_sentence": flops_per_token(
                    arch, tokens_per_sentence, logits=False
                ),
            },
            "paper_k": PAPER_K[name],
            "paper_a100_hours": PAPER_A100_HOURS[name],
            "variants": {},
        }
        for label, stages in variants.items():
            total = sum(s.flops(arch) for s in stages)
            out["variants"][label] = {
                "flops": total,
                "forward_tokens": sum(s.tokens for s in stages),
                "h100_hours": {k: gpu_hours(stages, arch, "H100 SXM", v) for k, v in MFU.items()},
                "a100_hours": {
                    k: gpu_hours(stages, arch, "A100 SXM 80GB", v) for k, v in MFU.items()
                },
                "stages": summarize(stages, arch),
            }
        base = out["variants"]["paper protocol, plain HF implementation"]["flops"]
        for v in out["variants"].values():
            v["fraction_of_paper_flops"] = v["flops"] / base
        models[name] = out
    return {
        "tokens_per_sentence": tokens_per_sentence,
        "mfu": MFU,
        "gpus": GPUS,
        "hbm_efficiency": HBM_EFFICIENCY,
        "paper_protocol": PAPER_PROTOCOL,
        "formula": "FLOPs/token = 2N + 2*n_layers*C*d_attn (+ 2*d*V where logits are computed)",
        "models": models,
    }


def measured_tokens_per_sentence(cfg) -> tuple[float | None, str]:
    """Mean tokens per evaluation sentence (BOS excluded) over the config's evaluation
    languages, with its tokenizer; None if the tokenizer is not available offline."""
    from transformers import AutoTokenizer

    from steerspace.core.models import EMBEDDED_MODEL
    from steerspace.pipeline import Pipeline

    pipe = Pipeline(cfg, progress=False)
    if cfg.model == EMBEDDED_MODEL:
        root = pipe.cache.root / "models" / "gemma-3-270m-q4_k_m-f32"
        if not (root / "config.json").is_file():
            return None, "the default model is not converted yet (run the book once)"
        source = str(root)
    else:
        source = cfg.model
    try:
        tok = AutoTokenizer.from_pretrained(source)
    except (OSError, ValueError) as err:
        return None, f"tokenizer unavailable: {err}"
    counts, n = 0, 0
    for lang in pipe.eval_languages:
        sents = pipe.eval_corpus.sentences(lang)
        ids = tok(sents, add_special_tokens=False)["input_ids"]
        counts += sum(len(x) for x in ids)
        n += len(ids)
    return counts / n, f"{n:,} Bible verses in {len(pipe.eval_languages)} languages, {source}"


def cpu_anchor(forward: dict | None, cfg, tps: float) -> dict | None:
    """The default model's measured CPU throughput against its FLOPs, and the forward
    time it predicts for the default book (our config's stages on this CPU)."""
    if not forward:
        return None
    mf = forward["model_facts"]
    arch = Arch(
        forward["config"],
        forward["model"],
        mf["hidden_size"],
        mf["n_layers"],
        mf["heads"],
        mf["heads"],
        mf["intermediate_size"],
        3,
        mf["vocab_size"],
        max(512, forward["max_length"]),
        head_dim=mf["head_dim"],
        source="forward.json (the loaded model)",
        counted_non_embedding=mf["non_embedding_params"],
    )
    plain = forward["conditions"]["plain"]
    flops_s = plain["flops_per_s_best"]
    stages = config_stages(cfg, arch, tps)
    seconds = sum(s.flops(arch) for s in stages) / flops_s
    return {
        "config": cfg.name,
        "measured_tokens_per_s": plain["tokens_per_s_best"],
        "measured_flops_per_s": flops_s,
        "fraction_of_matmul_peak": plain["fraction_of_matmul_peak"],
        "matmul_peak_gflops": forward["matmul_peak"]["gflops_per_s"],
        "flops_per_token_measured_run": forward["flops_per_token"],
        "flops_per_token_model": flops_per_token(
            arch, forward["mean_tokens_per_sentence"], logits=False
        ),
        "predicted_default_book_forward_s": seconds,
        "stages": summarize(stages, arch),
        "note": (
            "all stages at the embedding pass's measured FLOP/s; generation is slower "
            "per FLOP on a CPU too (token by token), so this is a lower bound"
        ),
    }


def main(argv: list[str] | None = None) -> int:
    parser = base_parser(__doc__.splitlines()[0])
    parser.add_argument(
        "--tokens-per-sentence", type=float, default=None, help="skip the measurement"
    )
    args = parser.parse_args(argv)
    from bench.common import load_cfg

    cfg = load_cfg(args)
    if args.tokens_per_sentence:
        tps, how = args.tokens_per_sentence, "given on the command line"
    elif args.quick:
        tps, how = 40.0, "assumed (--quick)"
    else:
        measured, how = measured_tokens_per_sentence(cfg)
        tps, how = (measured, how) if measured else (40.0, f"assumed 40: {how}")
    result = predict(tps)
    result["tokens_per_sentence_source"] = how
    result["cpu_anchor"] = cpu_anchor(read_result("forward", directory=args.out), cfg, tps)
    parts = []
    for name, m in result["models"].items():
        paper = m["variants"]["paper protocol, plain HF implementation"]["h100_hours"]
        ours = m["variants"]["our paper-scale config"]["h100_hours"]
        parts.append(
            f"{name} {paper['high']:.0f}-{paper['low']:.0f} h (ours {ours['high']:.1f}-"
            f"{ours['low']:.1f} h)"
        )
    result["summary"] = (
        "H100 hours at MFU 50-20%, paper protocol: "
        + "; ".join(parts)
        + f" [{tps:.1f} tokens/sentence]; paper: 90-120 A100 h"
    )
    write_result("cost_model", result, directory=args.out)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())

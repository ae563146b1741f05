"""The paper's protocol at scale: the cost model's tables and the numbers of its prose
(``bench/cost_model.py`` predicts FLOPs and one-GPU hours per model)."""

from __future__ import annotations

import sys
from pathlib import Path
from types import ModuleType

import pandas as pd

from steerspace.analyses.performance.results import Result, without_paths
from steerspace.text.format import fmt

#: the cost model's variant that the paper's hours are compared with
PLAIN = "paper protocol, plain HF implementation"


def cost_model_module(repo: Path | None) -> ModuleType | None:
    """``bench.cost_model`` of ``repo`` (``None`` without a repository)."""
    if repo is None:
        return None
    if str(repo) not in sys.path:
        sys.path.insert(0, str(repo))
    try:
        from bench import cost_model
    except ImportError:
        return None
    return cost_model


def times_cheaper(prediction: Result, model: str, variant: str) -> float:
    """How many times fewer FLOPs ``variant`` needs than the plain paper protocol."""
    return 1 / prediction["models"][model]["variants"][variant]["fraction_of_paper_flops"]


def stage_share(prediction: Result, model: str, prefix: str, variant: str = PLAIN) -> float:
    """The share of ``variant``'s FLOPs in the stage whose name starts with ``prefix``."""
    stages = prediction["models"][model]["variants"][variant]["stages"]
    return next(s["share"] for s in stages if s["stage"].startswith(prefix))


def cost_table(prediction: Result) -> pd.DataFrame:
    """One row per (model, variant): PFLOP, H100 hours at the ends of the MFU range, the
    A100 range, how many times cheaper than the plain protocol, the paper's A100 hours."""
    mfu = prediction["mfu"]
    high, low = (f"H100 h (MFU {fmt(mfu[e], 'pct')})" for e in ("high", "low"))
    a100 = f"A100 h (MFU {fmt(mfu['high'], 'pct')}–{fmt(mfu['low'], 'pct')})"
    rows = [
        {
            "model": name,
            "variant": variant,
            "PFLOP": v["flops"] / 1e15,
            high: v["h100_hours"]["high"],
            low: v["h100_hours"]["low"],
            a100: f"{fmt(v['a100_hours']['high'], 'plain')}–{fmt(v['a100_hours']['low'], 'plain')}",
            "× cheaper than paper protocol": 1 / v["fraction_of_paper_flops"],
            "paper: A100 h": m["paper_a100_hours"],
        }
        for name, m in prediction["models"].items()
        for variant, v in m["variants"].items()
    ]
    return pd.DataFrame(rows)


#: the glue names (without ``perf_``) of :func:`cost_values`
COST_KEYS = (
    "protocol_languages", "protocol_sentences", "protocol_ppl", "protocol_stride", "h100_peak", "mfu_range", "ppl_share",
    "ppl_share_min", "ppl_repeats", "saved", "small_tokens", "small_cheaper", "config_window",
    "config_cheaper", "a100", "a100_inside", "a100_above", "a100_below", "rest_hours", "k_grid",
    "gen_tokens", "random_draws", "vocabs", "tps", "tps_source",
)  # fmt: skip


def cost_values(prediction: Result | None, *, small_tokens: float = 0, source: str = "",
                unavailable: str = "not available") -> dict[str, str]:  # fmt: skip
    """The cost model's numbers for the chapter's prose, keyed by :data:`COST_KEYS`.

    ``prediction`` is ``bench.cost_model.predict()`` (its four variants in order: plain
    protocol, our pipeline, our pipeline with ``small_tokens`` perplexity tokens, our
    paper-scale config); ``source`` says where the tokens per sentence come from. Without
    a prediction every value is ``unavailable``. The models whose reported A100 hours
    lie inside, below or above the predicted range are ``a100_inside``, ``a100_above``
    (predicted above the reported time) and ``a100_below`` ("none" where none).
    """
    if prediction is None:
        return dict.fromkeys(COST_KEYS, unavailable)
    p, mfu, models = prediction["paper_protocol"], prediction["mfu"], list(prediction["models"])
    _, ours, small, config = prediction["models"][models[0]]["variants"]
    plain = {m: prediction["models"][m]["variants"][PLAIN] for m in models}
    arch = {m: prediction["models"][m]["arch"] for m in models}
    a100 = {m: plain[m]["a100_hours"] for m in models}
    paper = {m: prediction["models"][m]["paper_a100_hours"] for m in models}
    share = {m: stage_share(prediction, m, "Wikipedia perplexity") for m in models}
    saved = [1 - 1 / times_cheaper(prediction, m, ours) for m in models]
    cheaper = [times_cheaper(prediction, m, small) for m in models]
    rest = max(sum(s["h100_hours_mid"] for s in plain[m]["stages"]
                   if not s["stage"].startswith("Wikipedia")) for m in models)  # fmt: skip
    inside = [m for m in models if a100[m]["high"] <= paper[m] <= a100[m]["low"]]
    above = [m for m in models if paper[m] < a100[m]["high"]]
    below = [m for m in models if paper[m] > a100[m]["low"]]
    stride = p["perplexity_stride"]
    window = prediction["models"][models[0]]["variants"][config]["stages"][-1]["context"]
    return {
        "protocol_languages": fmt(p["eval_languages"], "int"),
        "protocol_sentences": fmt(p["flores_devtest_sentences"], "int"),
        "protocol_ppl": fmt(p["perplexity_tokens_per_target"], "int"),
        "protocol_stride": fmt(stride, "int"),
        "h100_peak": f"{fmt(prediction['gpus']['H100 SXM']['peak_flops'] / 1e12, 'int')} TFLOP/s",
        "mfu_range": f"{fmt(mfu['low'], 'pct')}–{fmt(mfu['high'], 'pct')}",
        "ppl_share": ", ".join(f"{fmt(share[m], 'pct')} ({m})" for m in models),
        "ppl_share_min": fmt(min(share.values()), "pct"),
        "ppl_repeats": ", ".join(
            f"{fmt(arch[m]['max_context'] / stride, 'int')}× with {m}'s "
            f"{fmt(arch[m]['max_context'], 'int')}-token window" for m in models),
        "saved": f"{fmt(min(saved), 'pct')}–{fmt(max(saved), 'pct')}",
        "small_tokens": fmt(small_tokens, "int"),
        "small_cheaper": f"{fmt(min(cheaper), 'int')}–{fmt(max(cheaper), 'int')}×",
        "config_window": fmt(window, "int"),
        "config_cheaper": ", ".join(
            f"{fmt(times_cheaper(prediction, m, config), 'int')}× ({m})" for m in models),
        "a100": ", ".join(f"{fmt(a100[m]['high'], 'int')}–{fmt(a100[m]['low'], 'int')} h ({m}; "
                          f"paper {fmt(paper[m], 'int')} h)" for m in models),
        "a100_inside": ", ".join(inside) or "none",
        "a100_above": ", ".join(above) or "none",
        "a100_below": ", ".join(below) or "none",
        "rest_hours": f"{fmt(rest, 'plain')} h",
        "k_grid": ", ".join(fmt(k, "int") for k in p["k_sweep"]),
        "gen_tokens": fmt(p["generation_new_tokens"], "int"),
        "random_draws": fmt(p["random_draws"], "int"),
        "vocabs": ", ".join(f"{fmt(arch[m]['vocab'], 'int')} ({m})" for m in models),
        "tps": fmt(prediction["tokens_per_sentence"], "plain"),
        "tps_source": without_paths(source),
    }  # fmt: skip


#: the glue names (without ``perf_ex_window_``) of :func:`short_window`'s values
WINDOW_KEYS = ("short", "full", "drop", "hours", "verdict")


def short_window(cost_model: ModuleType, prediction: Result) -> tuple[pd.Series, dict[str, str]]:
    """Aya-23-8B's paper protocol with the shorter perplexity window of Bloom-7B1: its
    A100 hours over the MFU range, and the values that compare them with the paper's
    reported hours (:data:`WINDOW_KEYS`: the two windows, how many times smaller the
    prediction is, its hours, and whether it ``brackets`` or ``still misses`` them)."""
    import dataclasses

    aya, a100 = cost_model.ARCHS["aya-23-8b"], "A100 SXM 80GB"
    short = dataclasses.replace(aya, max_context=cost_model.ARCHS["bloom-7b1"].max_context)
    stages = cost_model.paper_stages(short, prediction["tokens_per_sentence"])
    hours = {e: cost_model.gpu_hours(stages, short, a100, u) for e, u in cost_model.MFU.items()}
    full = prediction["models"]["aya-23-8b"]["variants"][PLAIN]["a100_hours"]
    fits = hours["high"] <= cost_model.PAPER_A100_HOURS["aya-23-8b"] <= hours["low"]
    values = {
        "short": fmt(short.max_context, "int"),
        "full": fmt(aya.max_context, "int"),
        "drop": fmt(full["mid"] / hours["mid"], "ratio"),
        "hours": f"{fmt(hours['high'], 'int')}–{fmt(hours['low'], 'int')} A100-hours",
        "verdict": "brackets" if fits else "still misses",
    }
    return pd.Series(hours, name="A100 hours, Aya-23-8B, short window"), values


def largest_stages(prediction: Result) -> tuple[pd.DataFrame, str]:
    """Each stage's share of the FLOPs of the protocol with the smaller perplexity
    sample (the third variant), per model, and the two largest stages in words."""
    small = list(next(iter(prediction["models"].values()))["variants"])[2]
    stages = {m: v["variants"][small]["stages"] for m, v in prediction["models"].items()}
    by_stage = pd.DataFrame({m: {s["stage"]: s["share"] for s in st} for m, st in stages.items()})
    ranked = {m: by_stage[m].sort_values(ascending=False).head(2) for m in by_stage}
    text = "; ".join(
        f"{m}: " + ", then ".join(f"{s} {fmt(v, 'pct')}" for s, v in r.items())
        for m, r in ranked.items()
    )
    return by_stage, text

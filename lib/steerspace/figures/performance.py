"""Figures of the performance appendix, and the benchmark results they draw.

The paper's App. I states its compute and has no figure, so every figure here is ours.
The scripts in ``bench/`` write ``bench/results/<name>.json``; :func:`load_results`
reads them (``None`` for a benchmark that has not been run), :func:`targets_table`
sets each of the book's performance targets, as the benchmarks record them, beside
what was measured, :func:`benchmark_values` and :func:`cost_values` format the numbers
of the chapter's prose (the chapter glues them into its own sentences), and one
function per benchmark draws its figure. Benchmarks compare methods and conditions, not languages: bars and lines
use the book's method styles (greys and hatches, see :mod:`.style`).
"""

from __future__ import annotations

import re
import sys
from collections.abc import Mapping
from pathlib import Path
from types import ModuleType
from typing import Any

import matplotlib.pyplot as plt
import numpy as np
import pandas as pd

from steerspace.core.precision import AVX2_ONLY_ENV
from steerspace.figures.style import METHOD_COLOURS, PAGE_WIDTH, method_style
from steerspace.infra.bench_results import load_benchmark
from steerspace.text.format import fmt

#: each benchmark → the command that writes its result
COMMANDS = {
    "auroc": "python bench/auroc.py",
    "forward": "python bench/forward.py",
    "batching": "python bench/batching.py",
    "book": "python bench/book.py",
    "cost_model": "python bench/cost_model.py",
}
#: the cost model's variant that the paper's hours are compared with
PLAIN = "paper protocol, plain HF implementation"
FORWARD_CONDITIONS = ("plain", "record", "intervention")
#: the forward benchmark as on a CPU without bfloat16 instructions (AVX2 only, float32)
AVX2_FORWARD_COMMAND = (
    " ".join(f"{k}={v}" for k, v in AVX2_ONLY_ENV.items())
    + " python bench/forward.py --set dtype=float32 --out bench/results/avx2"
)
#: the runs of the book benchmark, as figures and tables name them
BOOK_RUNS = {
    "cold": "cold",
    "warm": "warm (chapters restored)",
    "warm_rerun": "warm, chapters re-executed",
}
_ORDERS = {"sorted": ("sorted by length", "o", "-"), "shuffled": ("shuffled", "s", "--")}

Result = Mapping[str, Any]
#: share of the measured matmul FLOP/s the embedding pass should reach (issue 17)
MATMUL_FRACTION_TARGET = 0.70
#: tokens run twice that still count as "no repeated work": sentences that occur twice
#: in the data itself (a verse repeated in a translation)
REPEATED_WORK_TOLERANCE = 0.01


# --- reading the results -----------------------------------------------------------


def load_results(directory: Path | None) -> dict[str, dict | None]:
    """Every benchmark's JSON result in ``directory``, ``None`` where there is none,
    and ``forward_avx2``: the forward benchmark as on a CPU without bfloat16
    instructions (``directory/avx2``, :data:`AVX2_FORWARD_COMMAND`)."""
    results = {name: load_benchmark(directory, f"{name}.json") for name in COMMANDS}
    avx2 = directory / "avx2" if directory is not None else None
    return results | {"forward_avx2": load_benchmark(avx2, "forward.json")}


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


def without_paths(text: str) -> str:
    """``text`` with every absolute path reduced to its last part (a path of the machine
    that ran a benchmark says nothing to a reader)."""
    return re.sub(r"(?<![\w.])/[^\s,;()]+", lambda m: Path(m.group()).name, text)


def not_measured(name: str) -> str:
    """What the book writes for a benchmark that has not been run."""
    return f"not measured: run `{COMMANDS[name]}`"


# --- the targets -------------------------------------------------------------------


def goals(results: Mapping[str, Result | None]) -> dict[str, str]:
    """The book's performance targets, as each benchmark records them in its JSON,
    written for prose; a benchmark not run says where its target is recorded."""
    a, f, bk, b = (results.get(n) for n in ("auroc", "forward", "book", "batching"))
    unknown = {n: f"recorded by `{COMMANDS[n]}`" for n in COMMANDS}
    out = {
        "speedup": f"{fmt(a['target_speedup'], 'int')}×" if a else unknown["auroc"],
        "diff": f"{a['target_max_abs_diff']:.0e}" if a else unknown["auroc"],
        "hooks": fmt(f["target_hook_overhead"], "pct") if f else unknown["forward"],
        "batch": f"chosen from the curve ({b['rule']})" if b else unknown["batching"],
    }
    targets = bk["targets"] if bk else {}
    out["cold"] = fmt(targets["cold_s"], "min") if bk else unknown["book"]
    out["warm"] = fmt(targets["warm_s"], "s") if bk else unknown["book"]
    out["rss"] = fmt(targets["peak_rss_bytes"], "gb") if bk else unknown["book"]
    return out


def _verdict(ok: bool) -> str:
    return "pass" if ok else "fail"


def _speedup(a: Result) -> tuple[str, str]:
    loop = a["sklearn_loop"]["extrapolated_all_units_s"]
    return (
        f"{fmt(a['speedup_library_vs_sklearn'], 'ratio')} "
        f"({fmt(a['library_auroc']['best_s'], 'plain')} s vs {fmt(loop, 's')}, "
        f"{fmt(a['units'], 'int')} units × {fmt(a['sentences'], 'int')} sentences)",
        _verdict(a["pass_speedup"]),
    )


def _throughput(f: Result) -> tuple[str, str]:
    plain, peak = f["conditions"]["plain"], f["matmul_peak"]
    text = (
        f"{fmt(plain['tokens_per_s_best'], 'int')} tokens/s = "
        f"{fmt(plain['fraction_of_matmul_peak'], 'pct')} of "
        f"{fmt(peak['gflops_per_s'], 'int')} GFLOP/s ({peak['dtype']} matmul)"
    )
    if "fraction_of_model_shape_matmul" in plain:
        own = f["model_shape_matmul"]
        text += (
            f"; {fmt(plain['fraction_of_model_shape_matmul'], 'pct')} of the "
            f"{fmt(own['gflops_per_s'], 'int')} GFLOP/s its own linear layers reach alone"
        )
    return text, _verdict(plain["fraction_of_matmul_peak"] >= MATMUL_FRACTION_TARGET)


def _book_run(bk: Result, kind: str) -> tuple[str, str]:
    if kind not in bk["runs"]:
        return "not measured: run `python bench/book.py`", "—"
    cores = bk.get("machine", {}).get("usable_cpus")
    on = f" on {fmt(cores, 'int')} cores" if cores and kind == "cold" else ""
    seconds = bk["runs"][kind]["wall_s"]
    shown = fmt(seconds, "min") if seconds >= 120 else fmt(seconds, "s")
    verdict = _verdict(bk[f"pass_{kind}"]) if f"pass_{kind}" in bk else "reported"
    return shown + on, verdict


def _repeated_work(bk: Result) -> tuple[str, str]:
    work = bk.get("runs", {}).get("cold", {}).get("model_work")
    if not work:
        return "not measured: run `python bench/book.py` (it counts the model's work)", "—"
    return (
        f"{fmt(work['repeated_share'], 'pct')} of {fmt(work['tokens'], 'int')} forward, "
        f"generated and scored tokens ran twice (the same sentence under the same condition)",
        _verdict(work["repeated_share"] <= REPEATED_WORK_TOLERANCE),
    )


def _batch(b: Result) -> tuple[str, str]:
    within = "within" if b["config_batch_size_supported"] else "not within"
    return (
        f"best at batch {b['best_batch_size']}; recommended {b['recommended_batch_size']}; "
        f"config's {b['config_batch_size']} {within} the rule",
        _verdict(b["config_batch_size_supported"]),
    )


def targets_table(results: Mapping[str, Result | None]) -> pd.DataFrame:
    """One row per target (index: a short key): the target, its goal (:func:`goals`),
    what was measured and the verdict ("pass", "fail", or "—" where it was not
    measured or is only reported)."""
    g = goals(results)

    def row(target: str, goal: str, name: str, measure) -> tuple[str, ...]:
        result = results.get(name)
        return (target, goal, *(measure(result) if result else (not_measured(name), "—")))

    def hook(key: str):
        return lambda f: (
            fmt(f["conditions"][key]["overhead_vs_plain"], "pct", sign=True),
            _verdict(f[f"pass_{key}"]),
        )

    hooks = f"≤ {g['hooks']} of tokens/s"
    rows = {
        "speedup": row("AUROC: vectorised vs per-unit sklearn loop", f"≥ {g['speedup']} faster",
                       "auroc", _speedup),
        "diff": row("AUROC: max |difference| to sklearn", f"< {g['diff']}", "auroc",
                    lambda a: (f"{a['max_abs_diff_library_vs_sklearn']:.1e}",
                               _verdict(a["pass_diff"]))),
        "record": row("Forward: recording hooks cost", hooks, "forward", hook("record")),
        "intervention": row("Forward: intervention cost", hooks, "forward", hook("intervention")),
        "throughput": row("Forward: FLOP/s against the measured matmul rate",
                          f"≥ {fmt(MATMUL_FRACTION_TARGET, 'pct')}", "forward", _throughput),
        "cold": row("Book: cold (empty cache, model conversion included)", f"≤ {g['cold']}", "book",
                    lambda bk: _book_run(bk, "cold")),
        "warm": row("Book: warm (everything cached, unchanged chapters restored)",
                    f"≤ {g['warm']}", "book", lambda bk: _book_run(bk, "warm")),
        "warm_rerun": row("Book: warm, every chapter executed again", "report", "book",
                          lambda bk: _book_run(bk, "warm_rerun")),
        "repeated": row("Book: model work run twice", "none (one pass per sentence and condition)",
                        "book", _repeated_work),
        "rss": row("Book: peak memory (RSS, process tree)", f"≤ {g['rss']}", "book",
                   lambda bk: (fmt(bk["peak_tree_rss_bytes"], "gb"), _verdict(bk["pass_rss"]))),
        "batch": row("Batching: default batch size from the curve", g["batch"], "batching",
                     _batch),
    }  # fmt: skip
    table = pd.DataFrame.from_dict(
        rows, orient="index", columns=["target", "goal", "measured", "verdict"]
    )
    return table.rename_axis("key")


# --- the cost model ----------------------------------------------------------------


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


# --- prose: the values of the chapter's text, formatted for glue -------------------

#: what the chapter writes for a number it does not have (as :func:`fmt` writes NaN)
NA = "n/a"


def _filled(keys: tuple[str, ...], values: Mapping[str, str] | None) -> dict[str, str]:
    """``values``, or every key :data:`NA` where there are none (a benchmark not run)."""
    return dict(values) if values else dict.fromkeys(keys, NA)


def results_values(
    results: Mapping[str, Result | None], directory: Path | None, repo: Path | None
) -> dict[str, str]:
    """Where the results come from (``results_dir``), the benchmarks not run yet with
    the commands that run them (``not_run``, "none" if every one has run) and the CPUs
    they ran on (``machines``)."""
    if directory is None:
        return {
            "results_dir": "nowhere: no `bench/` directory beside this book",
            "not_run": "every benchmark",
            "machines": NA,
        }
    shown = directory.relative_to(repo) if repo and directory.is_relative_to(repo) else directory
    commands = COMMANDS | {"forward_avx2": AVX2_FORWARD_COMMAND}
    missing = [n for n in commands if results.get(n) is None]
    machines = sorted({r["machine"]["cpu"] for r in results.values() if r and "machine" in r})
    return {
        "results_dir": f"`{without_paths(str(shown))}`",
        "not_run": "; ".join(f"**{n}** (`{commands[n]}`)" for n in missing) or "none",
        "machines": ", ".join(machines) or NA,
    }


AUROC_KEYS = ("auroc_units", "auroc_all_units", "auroc_speedup", "auroc_diff", "auroc_timed",
              "auroc_ranking_speedup", "auroc_ranking_diff", "auroc_note")  # fmt: skip
FORWARD_KEYS = ("fwd_real", "fwd_padded", "fwd_mflop", "fwd_params", "fwd_layers",
                "fwd_modules", "fwd_record", "fwd_units", "fwd_intervention", "fwd_peak_share",
                "fwd_gflops", "fwd_dtype", "noise_plain", "noise_record",
                "noise_intervention")  # fmt: skip
BATCHING_KEYS = ("bat_best_tps", "bat_best", "bat_rule", "bat_recommended", "bat_config",
                 "bat_supported", "bat_sorting")  # fmt: skip
BOOK_KEYS = ("book_rss", "book_rss_single", "book_cold_cache")
PROFILE_KEYS = ("prof_linear", "prof_linear_rate", "prof_gflops", "prof_rest", "prof_peak")
OTHER_CPU_KEYS = ("cpu_dtype", "cpu_tps", "cpu_slower", "cpu_here_tps", "cpu_here_dtype",
                  "cpu_model", "cpu_cold", "cpu_projected", "cpu_target", "cpu_met")  # fmt: skip
WORK_KEYS = ("work_tokens", "work_repeated", "work_share")
ANCHOR_KEYS = ("anchor_tps", "anchor_gflops", "anchor_share", "anchor_peak", "anchor_forward",
               "anchor_cold")  # fmt: skip
#: the target time of the cold book on a CPU without bfloat16 instructions (seconds)
OTHER_CPU_TARGET_S = 1800


def _auroc_values(a: Result | None) -> dict[str, str] | None:
    if not a:
        return None
    return {
        "auroc_units": f"{fmt(a['modules'], 'int')} modules, {fmt(a['units'], 'int')} units",
        "auroc_all_units": fmt(a["units"], "int"),
        "auroc_speedup": fmt(a["speedup_library_vs_sklearn"], "ratio"),
        "auroc_diff": f"{a['max_abs_diff_library_vs_sklearn']:.1e}",
        "auroc_timed": fmt(a["sklearn_loop"]["units_timed"], "int"),
        "auroc_ranking_speedup": fmt(a["speedup_ranking_vs_sklearn"], "ratio"),
        "auroc_ranking_diff": f"{a['max_abs_diff_ranking_vs_library_all_units']:.1e}",
        "auroc_note": a.get("note") or "none",
    }


def _forward_values(f: Result | None) -> dict[str, str] | None:
    if not f:
        return None
    c, facts, peak = f["conditions"], f["model_facts"], f["matmul_peak"]
    return {
        "fwd_real": fmt(f["real_tokens"], "int"),
        "fwd_padded": fmt(f["padded_tokens"], "int"),
        "fwd_mflop": fmt(f["flops_per_token"] / 1e6, "int"),
        "fwd_params": f"{fmt(facts['non_embedding_params'] / 1e6, 'int')}M",
        "fwd_layers": fmt(facts["n_layers"], "int"),
        "fwd_modules": fmt(f["recorded_modules"], "int"),
        "fwd_record": fmt(c["record"]["overhead_vs_plain"], "pct", sign=True),
        "fwd_units": fmt(f["intervention"]["units"], "int"),
        "fwd_intervention": fmt(c["intervention"]["overhead_vs_plain"], "pct", sign=True),
        "fwd_peak_share": fmt(c["plain"]["fraction_of_matmul_peak"], "pct"),
        "fwd_gflops": fmt(peak["gflops_per_s"], "int"),
        "fwd_dtype": peak["dtype"],
        "noise_plain": fmt(1 - c["plain"]["best_s"] / c["plain"]["median_s"], "pct"),
        "noise_record": fmt(c["record"]["overhead_vs_plain_median"], "pct", sign=True),
        "noise_intervention": fmt(c["intervention"]["overhead_vs_plain_median"], "pct", sign=True),
    }


def _batching_values(b: Result | None) -> dict[str, str] | None:
    if not b:
        return None
    gain = b.get("sorted_over_shuffled_at_config_batch")
    return {
        "bat_best_tps": fmt(b["best_tokens_per_s"], "int"),
        "bat_best": fmt(b["best_batch_size"], "int"),
        "bat_rule": b["rule"],
        "bat_recommended": fmt(b["recommended_batch_size"], "int"),
        "bat_config": fmt(b["config_batch_size"], "int"),
        "bat_supported": "supported by the curve"
        if b["config_batch_size_supported"]
        else "not supported",
        "bat_sorting": fmt(gain, "ratio") if gain else NA,
    }


def _book_values(bk: Result | None) -> dict[str, str] | None:
    if not bk:
        return None
    return {
        "book_rss": fmt(bk["peak_tree_rss_bytes"], "gb"),
        "book_rss_single": fmt(bk["max_single_process_rss_bytes"], "gb"),
        "book_cold_cache": bk.get("cold_cache", "not run"),
    }


def profile_values(f: Result | None) -> dict[str, str]:
    """The numbers under :func:`profile_figure`: the linear layers' share of the pass
    (``prof_linear``), their rate there against alone on the same shapes
    (``prof_linear_rate``, ``prof_gflops``), the rest's share (``prof_rest``) and the
    whole pass's share of a large matmul's rate (``prof_peak``); :data:`NA` if not
    measured."""
    if not f or "profile_s" not in f:
        return dict.fromkeys(PROFILE_KEYS, NA)
    parts, plain = f["profile_s"], f["conditions"]["plain"]
    total = sum(parts.values())
    matmul = parts["matmul (linear layers)"]
    own = f["model_shape_matmul"]["flops_per_s"]
    linear_flops = 2.0 * f["model_facts"]["non_embedding_params"] * f["real_tokens"]
    return {
        "prof_linear": fmt(matmul / total, "pct"),
        "prof_linear_rate": fmt(linear_flops / matmul / own, "pct"),
        "prof_gflops": fmt(own / 1e9, "int"),
        "prof_rest": fmt(1 - matmul / total, "pct"),
        "prof_peak": fmt(plain["fraction_of_matmul_peak"], "pct"),
    }


def _work_values(bk: Result | None) -> dict[str, str] | None:
    work = (bk or {}).get("runs", {}).get("cold", {}).get("model_work")
    if not work:
        return None
    return {
        "work_tokens": fmt(work["tokens"], "int"),
        "work_repeated": fmt(work["repeated_tokens"], "int"),
        "work_share": fmt(work["repeated_share"], "pct"),
    }


def _anchor_values(cm: Result | None, bk: Result | None) -> dict[str, str] | None:
    anchor = cm.get("cpu_anchor") if cm else None
    if not anchor:
        return None
    cold = (bk or {}).get("runs", {}).get("cold", {}).get("wall_s")
    return {
        "anchor_tps": fmt(anchor["measured_tokens_per_s"], "int"),
        "anchor_gflops": fmt(anchor["measured_flops_per_s"] / 1e9, "int"),
        "anchor_share": fmt(anchor["fraction_of_matmul_peak"], "pct"),
        "anchor_peak": fmt(anchor["matmul_peak_gflops"], "int"),
        "anchor_forward": fmt(anchor["predicted_default_book_forward_s"], "min"),
        "anchor_cold": fmt(cold, "min") if cold else NA,
    }


def benchmark_values(results: Mapping[str, Result | None]) -> dict[str, str]:
    """The numbers of the chapter's prose about each benchmark (every one formatted by
    :func:`~steerspace.text.format.fmt`), keyed by the chapter's glue names without
    their ``perf_`` prefix (:data:`AUROC_KEYS`, :data:`FORWARD_KEYS`, …); :data:`NA`
    for those of a benchmark not run (:func:`results_values` names it)."""
    a, f, b, bk, cm = (results.get(n) for n in COMMANDS)
    parts = [
        (AUROC_KEYS, _auroc_values(a)),
        (FORWARD_KEYS, _forward_values(f)),
        (BATCHING_KEYS, _batching_values(b)),
        (BOOK_KEYS, _book_values(bk)),
        (WORK_KEYS, _work_values(bk)),
        (ANCHOR_KEYS, _anchor_values(cm, bk)),
    ]
    out = {}
    for keys, values in parts:
        out |= _filled(keys, values)
    return out | profile_values(f) | other_cpu_values(bk, f, results.get("forward_avx2"))


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


# --- figures -----------------------------------------------------------------------


def auroc_figure(a: Result) -> plt.Figure:
    """Seconds to score every unit of one target: the per-unit sklearn loop
    (extrapolated), the library on float32 (sort path) and on float64 (rankdata path);
    log scale, each bar labelled with its seconds."""
    labels = [
        "sklearn loop\n(extrapolated)",
        "library, float32\n(sort keys)",
        "library, float64\n(rankdata)",
    ]
    secs = [
        a["sklearn_loop"]["extrapolated_all_units_s"],
        a["library_auroc"]["best_s"],
        a["ranking_auroc"]["best_s"],
    ]
    fig, ax = plt.subplots(figsize=(6, 2.6), layout="constrained")
    for i, (label, s) in enumerate(zip(labels, secs, strict=True)):
        ax.barh(label, s, linewidth=0.6, **method_style(i))
        ax.text(s * 1.1, i, f"{fmt(s, 'plain')} s", va="center")
    ax.set_xscale("log")
    ax.invert_yaxis()
    ax.set_xlim(min(secs) / 2, max(secs) * 8)
    ax.set_xlabel("seconds for all units of one target (log scale)")
    ax.set_title(
        f"AUROC of {fmt(a['units'], 'int')} units on {fmt(a['sentences'], 'int')} "
        f"sentences ({a['config']})"
    )
    return fig


def forward_figure(f: Result) -> plt.Figure:
    """Tokens per second of the plain embedding pass, with recording hooks and with the
    intervention; each bar labelled with its share of the matmul rate and its change
    against the plain pass."""
    c = f["conditions"]
    tps = [c[n]["tokens_per_s_best"] for n in FORWARD_CONDITIONS]
    fig, ax = plt.subplots(figsize=(6, 3), layout="constrained")
    for i, (name, value) in enumerate(zip(FORWARD_CONDITIONS, tps, strict=True)):
        ax.bar(name, value, linewidth=0.6, **method_style(i))
        text = f"{fmt(c[name]['fraction_of_matmul_peak'], 'pct')} of peak"
        if name != "plain":
            text += f"\n{fmt(-c[name]['overhead_vs_plain'], 'pct', sign=True)} tokens/s vs plain"
        ax.text(i, value, text, ha="center", va="bottom")
    ax.set_ylim(0, max(tps) * 1.3)
    ax.set_ylabel("real tokens per second")
    ax.set_title(
        f"Embedding pass ({f['config']}): {f['sentences']} sentences,\n"
        f"batch {f['batch_size']}, {f['dtype']}"
    )
    return fig


def batching_figure(b: Result) -> plt.Figure:
    """Throughput (left) and padding (right) against batch size, sentences sorted by
    length and shuffled; a dotted line at the config's batch size."""
    timed = pd.DataFrame(b["rows"]).dropna(subset=["tokens_per_s"])
    timed = timed[timed["order"].isin(list(_ORDERS))]
    sizes = sorted(timed["batch_size"].unique())
    fig, (left, right) = plt.subplots(1, 2, figsize=(PAGE_WIDTH, 3.4), layout="constrained")
    for i, (order, (label, marker, line)) in enumerate(_ORDERS.items()):
        g = timed[timed["order"] == order]
        style = {"marker": marker, "ls": line, "color": METHOD_COLOURS[i], "label": label}
        left.plot(g["batch_size"], g["tokens_per_s"], **style)
        right.plot(g["batch_size"], 100 * g["padding_fraction"], **style)
    left.axvline(b["config_batch_size"], color="grey", ls=":", lw=1)
    left.text(b["config_batch_size"], left.get_ylim()[0], " config", color="grey", va="bottom")
    for ax in (left, right):
        ax.set_xscale("log", base=2)
        ax.set_xticks(sizes, [str(s) for s in sizes])
        ax.set_xlabel("batch size (sentences)")
    left.set(ylabel="real tokens per second", title="Throughput")
    right.set(ylabel="padding (% of tokens computed)", title="Padding")
    left.legend(fontsize=8)
    fig.suptitle(
        f"Embedding pass against batch size ({b['config']}, {b['sentences']} sentences)",
        fontsize=11,
    )
    return fig


def book_figure(bk: Result) -> plt.Figure:
    """Wall time of every chapter and of the book build (minutes) in each run of the
    book benchmark (:data:`BOOK_RUNS`)."""
    runs = bk["runs"]
    chapters = list(next(iter(runs.values()))["chapters_s"])
    fig, ax = plt.subplots(figsize=(7, 0.4 * len(chapters) + 1.5), layout="constrained")
    y = np.arange(len(chapters) + 1)
    kinds = [k for k in BOOK_RUNS if k in runs]
    width = 0.8 / len(kinds)
    for i, kind in enumerate(kinds):
        run = runs[kind]
        minutes = [run["chapters_s"].get(ch, 0) / 60 for ch in chapters] + [
            (run["build_s"] or 0) / 60
        ]
        ax.barh(
            y + (i - (len(kinds) - 1) / 2) * width,
            minutes,
            height=width,
            linewidth=0.6,
            label=f"{BOOK_RUNS[kind]}: {fmt(run['wall_s'], 'min')} in all",
            **method_style(i),
        )
    ax.set_yticks(y, [*chapters, "jupyter-book build"])
    ax.invert_yaxis()
    ax.set_xlabel("wall time (minutes)")
    ax.set_title(f"Book build per chapter ({bk['config']})")
    ax.legend()
    return fig


def mfu_range(mfu: Mapping[str, float]) -> str:
    """The ends of the assumed MFU range in increasing order, e.g. ``20.0 %–50.0 %``
    (the ``high`` end is the fast one: fewer hours)."""
    low, high = sorted((mfu["low"], mfu["high"]))
    return f"{fmt(low, 'pct')}–{fmt(high, 'pct')}"


def cost_model_figure(prediction: Result) -> plt.Figure:
    """Predicted hours on one H100 of every variant for each model (bars at the middle
    of the MFU range, whiskers at its ends: the lower end of a whisker is the higher
    MFU, log scale), and the paper's A100 hours converted to H100 hours at equal
    utilisation (stars)."""
    models = list(prediction["models"])
    variants = list(next(iter(prediction["models"].values()))["variants"])
    mfu, gpus = prediction["mfu"], prediction["gpus"]
    fig, ax = plt.subplots(figsize=(PAGE_WIDTH, 4.4), layout="constrained")
    width = 0.8 / len(variants)
    x = np.arange(len(models))
    for i, variant in enumerate(variants):
        h = [prediction["models"][m]["variants"][variant]["h100_hours"] for m in models]
        mid, fast, slow = (np.array([v[e] for v in h]) for e in ("mid", "high", "low"))
        ax.bar(
            x + (i - (len(variants) - 1) / 2) * width,
            mid,
            width,
            linewidth=0.6,
            yerr=[mid - fast, slow - mid],
            capsize=2,
            label=variant,
            **method_style(i),
        )
    a100, h100 = gpus["A100 SXM 80GB"]["peak_flops"], gpus["H100 SXM"]["peak_flops"]
    paper = [prediction["models"][m]["paper_a100_hours"] * a100 / h100 for m in models]
    ax.scatter(
        x - 0.4 + width / 2,
        paper,
        marker="*",
        s=140,
        color="black",
        edgecolor="white",
        zorder=3,
        label=f"paper's A100 hours, in H100 hours at equal MFU "
        f"(× {a100 / 1e12:.0f}/{h100 / 1e12:.0f})",
    )
    ax.set_yscale("log")
    ax.set_xticks(x, models)
    ax.set_ylabel("one H100, hours (log scale)")
    ax.set_title(
        f"Predicted GPU-hours of the protocol\n(bars: MFU {fmt(mfu['mid'], 'pct')}, "
        f"whiskers: MFU {mfu_range(mfu)})",
        fontsize=11,
    )
    fig.legend(*ax.get_legend_handles_labels(), fontsize=8, loc="outside lower center", ncols=1)
    return fig


# --- where the time goes -----------------------------------------------------------


def profile_figure(f: Result) -> plt.Figure:
    """Seconds of one plain embedding pass by part (``profile_s`` of the forward
    benchmark: the profiler's own time of each group of operators, tokenisation, and
    the rest of the wall time), largest first, each labelled with its share."""
    parts = pd.Series(f["profile_s"]).sort_values(ascending=False)
    total = parts.sum()
    fig, ax = plt.subplots(figsize=(7, 0.4 * len(parts) + 1.2), layout="constrained")
    for i, (name, seconds) in enumerate(parts.items()):
        ax.barh(name, seconds, linewidth=0.6, **method_style(0 if i == 0 else 2))
        ax.text(seconds + total * 0.01, i, fmt(seconds / total, "pct"), va="center", fontsize=8)
    ax.invert_yaxis()
    ax.set_xlim(0, parts.max() * 1.2)
    ax.set_xlabel("seconds of one pass over the benchmark's sentences")
    ax.set_title(f"Where an embedding pass spends its time ({f['dtype']}, batch {f['batch_size']})")
    return fig


def work_table(bk: Result | None) -> pd.DataFrame | None:
    """The model's work in the cold book run by kind (forward passes, generation,
    perplexity): calls, sentences, tokens, tokens run twice and seconds (from the
    run's ledger, :mod:`steerspace.infra.ledger`); ``None`` if not measured."""
    work = (bk or {}).get("runs", {}).get("cold", {}).get("model_work")
    if not work:
        return None
    table = pd.DataFrame(work["by_kind"]).T[
        ["calls", "sentences", "tokens", "repeated_tokens", "seconds"]
    ]
    table.loc["all"] = table.sum()
    return table.astype({c: int for c in ("calls", "sentences", "tokens", "repeated_tokens")})


def other_cpu_values(
    bk: Result | None, here: Result | None, other: Result | None
) -> dict[str, str]:
    """The cold book on another kind of CPU, projected: the model's seconds in the
    measured cold run (its ledger) scaled by how much slower the embedding pass runs
    there (``other``: the forward benchmark run with that CPU's instruction set and
    dtype), the rest of the run unchanged. Keys :data:`OTHER_CPU_KEYS` and ``cpu_env``
    (the settings that restrict the CPU); :data:`NA` where a benchmark is missing."""
    target = OTHER_CPU_TARGET_S
    known = {
        "cpu_env": ", ".join(f"`{k}={v}`" for k, v in AVX2_ONLY_ENV.items()),
        "cpu_target": fmt(target, "min"),
    }
    work = (bk or {}).get("runs", {}).get("cold", {}).get("model_work")
    if not (work and here and other):
        return dict.fromkeys(OTHER_CPU_KEYS, NA) | known
    cold = bk["runs"]["cold"]["wall_s"]
    model = sum(kind["seconds"] for kind in work["by_kind"].values())
    slow_tps = other["conditions"]["plain"]["tokens_per_s_best"]
    here_tps = here["conditions"]["plain"]["tokens_per_s_best"]
    slower = here_tps / slow_tps
    projected = cold - model + model * slower
    return {
        "cpu_dtype": other["dtype"],
        "cpu_tps": fmt(slow_tps, "int"),
        "cpu_slower": fmt(slower, "ratio"),
        "cpu_here_tps": fmt(here_tps, "int"),
        "cpu_here_dtype": here["dtype"],
        "cpu_model": fmt(model, "min"),
        "cpu_cold": fmt(cold, "min"),
        "cpu_projected": fmt(projected, "min"),
        "cpu_met": "met" if projected <= target else "missed",
    } | known


# --- the appendix's summary and its exercises' computations --------------------------


def summary_values(targets: pd.DataFrame) -> dict[str, str]:
    """How many of the measured targets (``judged``: those with a verdict) are met
    (``passed``), and the missed ones (``missed``, "none" if none)."""
    judged = targets[targets["verdict"].isin(["pass", "fail"])]
    missed = list(judged.loc[judged["verdict"] == "fail", "target"])
    return {
        "passed": fmt(len(judged) - len(missed), "int"),
        "judged": fmt(len(judged), "int"),
        "missed": "; ".join(missed) or "none",
    }


#: the glue names (without ``perf_ex_``) of :func:`sorting_gain`'s values
SORTING_KEYS = ("sorting_batch", "sorting_gain", "sorting_pad_sorted", "sorting_pad_shuffled")


def sorting_gain(b: Result) -> tuple[pd.DataFrame, dict[str, str]]:
    """Tokens/s and padding per batch size, sorted and shuffled, with the gain of
    sorting; and the batch size where sorting gains most, that gain, and the share of
    the computed tokens that is padding there, sorted and shuffled (:data:`SORTING_KEYS`)."""
    rows = pd.DataFrame(b["rows"]).dropna(subset=["tokens_per_s"])
    curve = rows.pivot(
        index="batch_size", columns="order", values=["tokens_per_s", "padding_fraction"]
    )
    curve[("gain", "")] = curve["tokens_per_s", "sorted"] / curve["tokens_per_s", "shuffled"]
    n = curve["gain"].idxmax()
    gain, pad = curve.loc[n, "gain"].item(), curve.loc[n, "padding_fraction"]
    values = {
        "sorting_batch": fmt(n, "int"),
        "sorting_gain": fmt(gain, "ratio"),
        "sorting_pad_sorted": fmt(pad["sorted"], "pct"),
        "sorting_pad_shuffled": fmt(pad["shuffled"], "pct"),
    }
    return curve, values


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


def floor_machine(name: str, run: Result | None, table: pd.DataFrame | None) -> str:
    """Where a per-chapter FLOP floor (``table``, from
    :func:`steerspace.analyses.performance.floor_table`) of benchmark run ``name`` was
    measured (CPU, instruction set, cores, dtype and matmul rate) or, without a table,
    the command that measures it."""
    if run is None or table is None:
        return f"not measured per chapter yet (run `{FLOOR_COMMANDS[name]}`)"
    machine, peak = run["machine"], run["matmul_peak"]
    hidden = run.get("environment")  # the instruction-set limits the run was under
    isa = "AVX2 only (wider instructions hidden)" if hidden else _instruction_set(machine)
    return (
        f"measured on {machine['cpu']}, {isa}, {machine['usable_cpus']} cores, {peak['dtype']} matmul at "
        f"{fmt(peak['gflops_per_s'], 'int')} GFLOP/s (square matrices of {peak['n']})"
    )


def floor_ratio(table: pd.DataFrame | None) -> str:
    """A whole run's measured time over its FLOP floor (the table's last row), or
    :data:`NA`."""
    if table is None:
        return NA
    return f"{table.loc['all chapters', 'wall / floor']:.1f}×"


def _instruction_set(machine: Result) -> str:
    """The widest matmul instructions among a machine's CPU flags, in words."""
    flags = set(machine.get("cpu_flags", []))
    if "amx_bf16" in flags:
        return "AMX and AVX512-BF16"
    if "avx512_bf16" in flags:
        return "AVX512-BF16 without AMX"
    return "AVX512" if "avx512f" in flags else "AVX2"


#: the runs the appendix sets against the FLOP floor → the commands that measure them
FLOOR_COMMANDS = {
    "avx2": "python bench/classroom.py --no-bf16",
    "book": COMMANDS["book"],
}


def same_model(run: Result, forward: Result | None) -> bool:
    """Whether a benchmark ``run`` used the model whose facts (parameters, layers) the
    forward benchmark recorded: the floor needs them."""
    model = run.get("model") or (run.get("config") or {}).get("model")
    return forward is not None and model == forward.get("model")

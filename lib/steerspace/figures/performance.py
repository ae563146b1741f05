"""Figures of the performance appendix, and the benchmark results they draw.

The paper's App. I states its compute and has no figure, so every figure here is ours.
The scripts in ``bench/`` write ``bench/results/<name>.json``; :func:`load_results`
reads them (``None`` for a benchmark that has not been run), :func:`targets_table`
sets each of the book's performance targets, as the benchmarks record them, beside
what was measured, :func:`benchmark_texts` and :func:`cost_texts` format the numbers
of the chapter's prose (the chapter glues them), and one function per benchmark draws
its figure. Benchmarks compare methods and conditions, not languages: bars and lines
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


def results_note(
    results: Mapping[str, Result | None], directory: Path | None, repo: Path | None
) -> str:
    """One Markdown line: where the results come from, what is missing, which machine."""
    if directory is None:
        return "No `bench/` directory found beside this book: no benchmark results."
    shown = directory.relative_to(repo) if repo and directory.is_relative_to(repo) else directory
    missing = [n for n in COMMANDS if results.get(n) is None]
    machines = sorted({r["machine"]["cpu"] for r in results.values() if r and "machine" in r})
    return (
        f"Results from `{without_paths(str(shown))}`. "
        + (
            "Not run yet: " + "; ".join(f"**{n}** (`{COMMANDS[n]}`)" for n in missing) + ". "
            if missing
            else "All benchmarks have results. "
        )
        + (f"Measured on: {', '.join(machines)}." if machines else "")
    )


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


# --- prose: the numbers of the chapter's text, formatted for glue ------------------


def benchmark_texts(results: Mapping[str, Result | None]) -> dict[str, str]:
    """The sentences under each benchmark's figure (Markdown, every number formatted by
    :func:`~steerspace.text.format.fmt`), keyed by the chapter's glue names without their
    ``perf_`` prefix; a benchmark not run is named with its command."""
    a, f, b, bk, cm = (results.get(n) for n in COMMANDS)
    out = {name: not_measured(key) + "." for name, key in (
        ("auroc_units", "auroc"), ("auroc", "auroc"), ("forward", "forward"),
        ("batching", "batching"), ("book", "book"), ("noise", "forward"))}  # fmt: skip
    if a:
        out["auroc_units"] = f"{fmt(a['modules'], 'int')} modules, {fmt(a['units'], 'int')} units"
        out["auroc"] = (
            f"The library is **{fmt(a['speedup_library_vs_sklearn'], 'ratio')}** faster than the "
            f"per-unit loop and agrees with it to {a['max_abs_diff_library_vs_sklearn']:.1e} on "
            f"{fmt(a['sklearn_loop']['units_timed'], 'int')} random units (the loop's time is "
            f"their per-unit time × {fmt(a['units'], 'int')}). The float64 rankdata path is "
            f"**{fmt(a['speedup_ranking_vs_sklearn'], 'ratio')}** faster than the loop and equal "
            f"to the sort path to {a['max_abs_diff_ranking_vs_library_all_units']:.1e} on all "
            "units." + (f" Note: {a['note']}." if a.get("note") else "")
        )
    if f:
        c, facts, peak = f["conditions"], f["model_facts"], f["matmul_peak"]
        out["forward"] = (
            f"{fmt(f['real_tokens'], 'int')} real tokens ({fmt(f['padded_tokens'], 'int')} with "
            f"padding), {fmt(f['flops_per_token'] / 1e6, 'int')} MFLOP per token (N = "
            f"{fmt(facts['non_embedding_params'] / 1e6, 'int')}M non-embedding parameters, "
            f"{facts['n_layers']} layers). Recording {f['recorded_modules']} modules costs "
            f"{fmt(c['record']['overhead_vs_plain'], 'pct', sign=True)} of throughput, the "
            f"{f['intervention']['units']}-unit intervention "
            f"{fmt(c['intervention']['overhead_vs_plain'], 'pct', sign=True)} (negative = "
            "faster, i.e. within noise). The plain pass reaches "
            f"{fmt(c['plain']['fraction_of_matmul_peak'], 'pct')} of the measured "
            f"{fmt(peak['gflops_per_s'], 'int')} GFLOP/s {peak['dtype']} matmul rate."
        )
        out["noise"] = (
            "For the plain embedding pass they differ by "
            f"{fmt(1 - c['plain']['best_s'] / c['plain']['median_s'], 'pct')}; by the median, "
            f"the recording hooks cost {fmt(c['record']['overhead_vs_plain_median'], 'pct', sign=True)} "
            f"and the intervention {fmt(c['intervention']['overhead_vs_plain_median'], 'pct', sign=True)}: "
            "hook costs of that size are within the noise."
        )
    if b:
        gain = b.get("sorted_over_shuffled_at_config_batch")
        out["batching"] = (
            f"Best: {fmt(b['best_tokens_per_s'], 'int')} tokens/s at batch {b['best_batch_size']}; "
            f"by the rule ({b['rule']}) the batch size is **{b['recommended_batch_size']}**. The "
            f"config's batch size {b['config_batch_size']} is "
            + ("supported by the curve" if b["config_batch_size_supported"] else "not supported")
            + (f"; at that size, sorting gives {fmt(gain, 'ratio')} the shuffled throughput."
               if gain else ".")
        )  # fmt: skip
    if bk:
        out["book"] = (
            f"Peak memory of the whole process tree: {fmt(bk['peak_tree_rss_bytes'], 'gb')} "
            f"(largest single process {fmt(bk['max_single_process_rss_bytes'], 'gb')}). Cold "
            f"cache: {bk.get('cold_cache', 'not run')}."
        )
    out["profile"] = profile_text(f)
    out["other_cpu"] = other_cpu_projection(bk, f, results.get("forward_avx2"))
    work = (bk or {}).get("runs", {}).get("cold", {}).get("model_work")
    out["work"] = (
        f"The cold run put {fmt(work['tokens'], 'int')} tokens through the model; "
        f"{fmt(work['repeated_tokens'], 'int')} of them ({fmt(work['repeated_share'], 'pct')}) "
        "were a sentence already run under the same condition (the ledger compares "
        "sentences by content; a sentence that occurs twice in one pass's data runs once)."
        if work
        else not_measured("book") + "."
    )
    anchor = cm.get("cpu_anchor") if cm else None
    cold = (bk or {}).get("runs", {}).get("cold", {}).get("wall_s")
    out["anchor"] = (
        f"Measured embedding pass: {fmt(anchor['measured_tokens_per_s'], 'int')} tokens/s = "
        f"{fmt(anchor['measured_flops_per_s'] / 1e9, 'int')} GFLOP/s "
        f"({fmt(anchor['fraction_of_matmul_peak'], 'pct')} of the "
        f"{fmt(anchor['matmul_peak_gflops'], 'int')} GFLOP/s matmul rate). At that rate the "
        f"default book's forward work is **{fmt(anchor['predicted_default_book_forward_s'], 'min')}**"
        + (f", against {fmt(cold, 'min')} measured for the whole cold book (which adds model "
           "loading, kernel start-up, UMAP, token-by-token generation and the book build)."
           if cold else " (the cold book time is not measured yet: `python bench/book.py`).")
    ) if anchor else "Not measured: run `python bench/forward.py`, then `python bench/cost_model.py`."  # fmt: skip
    return out


#: the glue names (without ``perf_``) of :func:`cost_texts`
COST_TEXT_KEYS = (
    "protocol_eval", "protocol_ppl", "protocol_stride", "h100_peak", "mfu_range", "ppl_share",
    "ppl_share_min", "ppl_repeats", "saved", "small_tokens", "small_cheaper", "config_window",
    "config_cheaper", "a100", "a100_verdict", "rest_hours", "k_grid", "gen_tokens",
    "random_draws", "vocabs", "tps",
)  # fmt: skip


def cost_texts(prediction: Result | None, *, small_tokens: float = 0, source: str = "",
               unavailable: str = "not available") -> dict[str, str]:  # fmt: skip
    """The cost model's numbers for the chapter's prose, keyed by :data:`COST_TEXT_KEYS`.

    ``prediction`` is ``bench.cost_model.predict()`` (its four variants in order: plain
    protocol, our pipeline, our pipeline with ``small_tokens`` perplexity tokens, our
    paper-scale config); ``source`` says where the tokens per sentence come from. Without
    a prediction every text is ``unavailable``.
    """
    if prediction is None:
        return dict.fromkeys(COST_TEXT_KEYS, unavailable)
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
        "protocol_eval": f"{fmt(p['eval_languages'], 'int')} languages × "
        f"{fmt(p['flores_devtest_sentences'], 'int')}",
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
        "a100_verdict": " ".join(filter(None, [
            f"Within the range: {', '.join(inside)}." if inside else "",
            f"Predicted above the reported time: {', '.join(above)}, which suggests a shorter "
            "perplexity window or fewer tokens than the text states." if above else "",
            f"Predicted below the reported time: {', '.join(below)} (lower MFU, or work the "
            "text does not list)." if below else ""])),
        "rest_hours": f"{fmt(rest, 'plain')} h",
        "k_grid": ", ".join(fmt(k, "int") for k in p["k_sweep"]),
        "gen_tokens": fmt(p["generation_new_tokens"], "int"),
        "random_draws": fmt(p["random_draws"], "int"),
        "vocabs": ", ".join(f"{fmt(arch[m]['vocab'], 'int')} ({m})" for m in models),
        "tps": f"{fmt(prediction['tokens_per_sentence'], 'plain')} tokens per sentence, "
        f"{without_paths(source)}",
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


def profile_text(f: Result | None) -> str:
    """The sentence under :func:`profile_figure`: the linear layers' share of the pass
    and how fast they run there, against alone."""
    if not f or "profile_s" not in f:
        return not_measured("forward") + "."
    parts, plain = f["profile_s"], f["conditions"]["plain"]
    total = sum(parts.values())
    matmul = parts["matmul (linear layers)"]
    own = f["model_shape_matmul"]["flops_per_s"]
    linear_flops = 2.0 * f["model_facts"]["non_embedding_params"] * f["real_tokens"]
    return (
        f"The linear layers take {fmt(matmul / total, 'pct')} of the pass and run there at "
        f"{fmt(linear_flops / matmul / own, 'pct')} of the rate they reach alone on the same "
        f"shapes ({fmt(own / 1e9, 'int')} GFLOP/s); the other "
        f"{fmt(1 - matmul / total, 'pct')} goes to operators that move memory more than they "
        "compute: the norms (each upcast to float32 and back), rotary embeddings, GELU and "
        "attention, plus the Python around them. The pass as a whole reaches "
        f"{fmt(plain['fraction_of_matmul_peak'], 'pct')} of a large matmul's rate."
    )


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


def other_cpu_projection(bk: Result | None, here: Result | None, other: Result | None) -> str:
    """The cold book on another kind of CPU, projected: the model's seconds in the
    measured cold run (its ledger) scaled by how much slower the embedding pass runs
    there (``other``: the forward benchmark run with that CPU's instruction set and
    dtype), the rest of the run unchanged. Says what it is: a projection."""
    work = (bk or {}).get("runs", {}).get("cold", {}).get("model_work")
    if not (work and here and other):
        return (
            "Not measured: run `python bench/book.py`, `python bench/forward.py` and the "
            "forward benchmark as on a CPU without bfloat16 instructions ("
            f"`{AVX2_FORWARD_COMMAND}`)."
        )
    cold = bk["runs"]["cold"]["wall_s"]
    model = sum(kind["seconds"] for kind in work["by_kind"].values())
    slower = (
        here["conditions"]["plain"]["tokens_per_s_best"]
        / other["conditions"]["plain"]["tokens_per_s_best"]
    )
    projected = cold - model + model * slower
    target = 1800
    return (
        f"Restricted to AVX2 and {other['dtype']} ("
        + ", ".join(f"`{k}={v}`" for k, v in AVX2_ONLY_ENV.items())
        + "; float32 is what `dtype: auto` chooses where bfloat16 is emulated), "
        f"the embedding pass runs at {fmt(other['conditions']['plain']['tokens_per_s_best'], 'int')} "
        f"tokens/s, {fmt(slower, 'ratio')} slower than the "
        f"{fmt(here['conditions']['plain']['tokens_per_s_best'], 'int')} tokens/s measured here in "
        f"{here['dtype']}. The cold run spent {fmt(model, 'min')} of its "
        f"{fmt(cold, 'min')} in the model; at the slower rate the same book would take about "
        f"**{fmt(projected, 'min')}** (a projection from two measurements, not a run; the "
        f"target for such a CPU is {fmt(target, 'min')}, "
        + ("met" if projected <= target else "missed")
        + "). A real AVX2 machine has its own memory bandwidth and clock; this one only "
        "lacks the instructions."
    )


# --- the appendix's summary and its exercises' computations --------------------------


def summary_texts(targets: pd.DataFrame, cost: Mapping[str, str] | None) -> dict[str, str]:
    """``passed`` (how many measured targets are met, naming the missed ones) and
    ``result`` (the Result box: that, and the cost model's headline when there is one;
    ``cost`` is :func:`cost_texts`)."""
    judged = targets[targets["verdict"].isin(["pass", "fail"])]
    missed = list(judged.loc[judged["verdict"] == "fail", "target"])
    passed = f"{fmt(len(judged) - len(missed), 'int')} of {fmt(len(judged), 'int')} measured targets are met"
    passed += f" (missed: {'; '.join(missed)})" if missed else ""
    headline = (
        f" The cost model predicts the paper's protocol at {cost['a100']} on one A100 (MFU "
        f"{cost['mfu_range']}); the Wikipedia perplexity of the k sweep is "
        f"{cost['ppl_share_min']} or more of it."
        if cost
        else ""
    )
    return {"passed": passed, "result": passed + "." + headline}


def sorting_gain(b: Result) -> tuple[pd.DataFrame, str]:
    """Tokens/s and padding per batch size, sorted and shuffled, with the gain of
    sorting; and where sorting gains most, in words."""
    rows = pd.DataFrame(b["rows"]).dropna(subset=["tokens_per_s"])
    curve = rows.pivot(
        index="batch_size", columns="order", values=["tokens_per_s", "padding_fraction"]
    )
    curve[("gain", "")] = curve["tokens_per_s", "sorted"] / curve["tokens_per_s", "shuffled"]
    n = curve["gain"].idxmax()
    gain, pad = curve.loc[n, "gain"].item(), curve.loc[n, "padding_fraction"]
    text = (
        f"batch {fmt(n, 'int')}: sorted batches give {fmt(gain, 'ratio')} the shuffled tokens/s, "
        f"with {fmt(pad['sorted'], 'pct')} of the computed tokens padding against "
        f"{fmt(pad['shuffled'], 'pct')}"
    )
    return curve, text


def short_window(cost_model: ModuleType, prediction: Result) -> tuple[pd.Series, dict[str, str]]:
    """Aya-23-8B's paper protocol with the shorter perplexity window of Bloom-7B1: its
    A100 hours over the MFU range, and the sentences that compare them with the paper's
    reported hours."""
    import dataclasses

    aya, a100 = cost_model.ARCHS["aya-23-8b"], "A100 SXM 80GB"
    short = dataclasses.replace(aya, max_context=cost_model.ARCHS["bloom-7b1"].max_context)
    stages = cost_model.paper_stages(short, prediction["tokens_per_sentence"])
    hours = {e: cost_model.gpu_hours(stages, short, a100, u) for e, u in cost_model.MFU.items()}
    full = prediction["models"]["aya-23-8b"]["variants"][PLAIN]["a100_hours"]
    fits = hours["high"] <= cost_model.PAPER_A100_HOURS["aya-23-8b"] <= hours["low"]
    text = {
        "window": f"{fmt(short.max_context, 'int')}-token window, not {fmt(aya.max_context, 'int')}",
        "drop": fmt(full["mid"] / hours["mid"], "ratio"),
        "hours": f"{fmt(hours['high'], 'int')}–{fmt(hours['low'], 'int')} A100-hours",
        "verdict": "brackets the reported time: the paper's window may have been the shorter one"
        if fits
        else "still misses the reported time",
    }
    return pd.Series(hours, name="A100 hours, Aya-23-8B, short window"), text


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

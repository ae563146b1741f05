"""The benchmark results the performance appendix reads, and their numbers.

The scripts in ``bench/`` write ``bench/results/<name>.json``; :func:`load_results`
reads them (``None`` for a benchmark that has not been run), :func:`targets_table` sets
each of the book's performance targets, as the benchmarks record them, beside what was
measured, and :func:`benchmark_values` formats the numbers of the chapter's prose (the
chapter glues them into its own sentences).
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import pandas as pd

from steerspace.core.precision import AVX2_ONLY_ENV
from steerspace.infra.bench_results import load_benchmark
from steerspace.text.format import fmt

Result = Mapping[str, Any]

#: each benchmark → the command that writes its result
COMMANDS = {
    "auroc": "python bench/auroc.py",
    "forward": "python bench/forward.py",
    "batching": "python bench/batching.py",
    "book": "python bench/book.py",
    "cost_model": "python bench/cost_model.py",
}


#: the forward benchmark as on a CPU without bfloat16 instructions (AVX2 only, float32)
AVX2_FORWARD_COMMAND = (
    " ".join(f"{k}={v}" for k, v in AVX2_ONLY_ENV.items())
    + " python bench/forward.py --set dtype=float32 --out bench/results/avx2"
)


#: share of the measured matmul FLOP/s the embedding pass should reach (issue 17)
MATMUL_FRACTION_TARGET = 0.70


#: tokens run twice that still count as "no repeated work": sentences that occur twice
#: in the data itself (a verse repeated in a translation)
REPEATED_WORK_TOLERANCE = 0.01


def load_results(directory: Path | None) -> dict[str, dict | None]:
    """Every benchmark's JSON result in ``directory``, ``None`` where there is none,
    and ``forward_avx2``: the forward benchmark as on a CPU without bfloat16
    instructions (``directory/avx2``, :data:`AVX2_FORWARD_COMMAND`)."""
    results = {name: load_benchmark(directory, f"{name}.json") for name in COMMANDS}
    avx2 = directory / "avx2" if directory is not None else None
    return results | {"forward_avx2": load_benchmark(avx2, "forward.json")}


def without_paths(text: str) -> str:
    """``text`` with every absolute path reduced to its last part (a path of the machine
    that ran a benchmark says nothing to a reader)."""
    return re.sub(r"(?<![\w.])/[^\s,;()]+", lambda m: Path(m.group()).name, text)


def not_measured(name: str) -> str:
    """What the book writes for a benchmark that has not been run."""
    return f"not measured: run `{COMMANDS[name]}`"


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


def instruction_set(machine: Result) -> str:
    """The widest matmul instructions among a machine's CPU flags, in words."""
    flags = set(machine.get("cpu_flags", []))
    if "amx_bf16" in flags:
        return "AMX and AVX512-BF16"
    if "avx512_bf16" in flags:
        return "AVX512-BF16 without AMX"
    return "AVX512" if "avx512f" in flags else "AVX2"


#: the compiled-kernel benchmark's numbers in the prose (:func:`compile_values`)
COMPILE_KEYS = ("compile_speedup", "compile_cold", "compile_warm", "compile_diff",
                "compile_tol", "compile_within", "compile_tokens", "compile_dtype",
                "compile_breakeven", "compile_machine", "compile_past", "compile_net")  # fmt: skip


def compile_values(
    result: Result | None, model_seconds: Mapping[str, float] | None = None
) -> dict[str, str]:
    """The numbers of ``bench/compile.py`` that the prose carries: the compiled pass's
    speed over eager, the compile's seconds in a fresh process (``cold``) and with the
    inductor cache on disk (``warm``), the largest difference over mean magnitude
    against the pipeline's tolerance, the machine, and the break-even: the eager forward seconds a
    kernel must spend before a warm compile has paid for itself (warm / (1 − 1 /
    speedup)). With each chapter's seconds in the model (``model_seconds``, chapters
    that ran none left out): how many of them pass the break-even, and what compiling
    would save them in all if all their model work sped up as the plain pass does (an
    upper bound: each pays the warm compile). :data:`NA` for each without a result."""
    if result is None:
        return dict.fromkeys(COMPILE_KEYS, NA)
    cold, warm = result["runs"]["cold"], result["runs"]["warm"]
    saved = 1.0 - 1.0 / result["speedup"]
    busy = [s for s in (model_seconds or {}).values() if s > 0]
    net = sum(s * saved - warm["compile_s"] for s in busy)
    return {
        "compile_past": (
            f"{sum(s * saved > warm['compile_s'] for s in busy)} of {len(busy)}" if busy else NA
        ),
        "compile_net": (
            NA
            if not busy
            else f"save at most {fmt(net, 's')}"
            if net >= 0
            else f"cost at least {fmt(-net, 's')} more"
        ),
        "compile_speedup": fmt(result["speedup"], "ratio"),
        "compile_cold": fmt(cold["compile_s"], "s"),
        "compile_warm": fmt(warm["compile_s"], "s"),
        "compile_diff": f"{result['max_abs_diff_over_mean_abs']:.1e}",
        "compile_tol": f"{result['tolerance']:.0e}",
        "compile_within": "inside" if result["within_tolerance"] else "outside",
        "compile_tokens": fmt(cold["tokens"], "int"),
        "compile_dtype": cold["dtype"],
        "compile_breakeven": fmt(warm["compile_s"] / saved, "s") if saved > 0 else "never",
        "compile_machine": (
            f"{result['machine']['cpu']}, {instruction_set(result['machine'])}, "
            f"{result['machine']['usable_cpus']} cores"
        ),
    }

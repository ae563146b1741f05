"""Figures of the performance appendix, one per benchmark (the numbers and tables are in
:mod:`steerspace.analyses.performance`).

The paper's App. I states its compute and has no figure, so every figure here is ours.
Benchmarks compare methods and conditions, not languages: bars and lines use the book's
method styles (greys and hatches, see :mod:`.style`).
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import matplotlib.pyplot as plt
import numpy as np
import pandas as pd

from steerspace.figures.style import METHOD_COLOURS, PAGE_WIDTH, method_style
from steerspace.text.format import fmt

FORWARD_CONDITIONS = ("plain", "record", "intervention")


#: the runs of the book benchmark, as figures and tables name them
BOOK_RUNS = {
    "cold": "cold",
    "warm": "warm (chapters restored)",
    "warm_rerun": "warm, chapters re-executed",
}


_ORDERS = {"sorted": ("sorted by length", "o", "-"), "shuffled": ("shuffled", "s", "--")}


Result = Mapping[str, Any]


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

"""Choosing k (paper §3.3, App. B, Fig. 2): steering and perplexity over a grid of k.

:func:`run_sweep` asks the pipeline for the cached free generations and held-out
per-token losses of every (target, k); :func:`sweep_table` turns them into one row per
point with intervals that resample the independent unit: a share of generations in
the target language gets its Wilson interval (:func:`steerspace.metrics.inference.share_interval`),
a change of log-perplexity a block bootstrap over tokens
(:func:`steerspace.metrics.inference.block_bootstrap_delta`). The ``*_evidence`` functions build
the scorecard's evidence for the claims ``k.steering``, ``k.perplexity`` and
``k.tradeoff``.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd

from steerspace.claims import Assessment, Evidence
from steerspace.core.generation import language_ids
from steerspace.metrics.inference import (
    CI_LEVEL,
    Estimate,
    block_bootstrap_delta,
    bootstrap_share_delta,
    percentile_interval,
    resample_counts,
    share_interval,
)
from steerspace.text.format import fmt, fmt_ci

Point = tuple[str, int]  # (target, k)
BLOCK = 64  # tokens per block of the perplexity bootstrap
RULE_FRACTION = 0.9  # the book's rule: the smallest k reaching this share of the best
EMPTY = "(empty)"  # the language of a generation with no text: langid.py cannot tell


@dataclass(frozen=True)
class Sweep:
    """The k sweep of one run: ``table`` (one row per (target, k), see
    :func:`sweep_table`), and per (target, k) the generations' ``texts``, their
    langid.py ``ids`` and the held-out per-token negative log-likelihoods
    ``token_nll``. k = 0 is the original model (its generations are shared by all
    targets)."""

    table: pd.DataFrame
    texts: Mapping[Point, list[str]]
    ids: Mapping[Point, list[str]]
    token_nll: Mapping[Point, np.ndarray]

    @property
    def targets(self) -> list[str]:
        return list(dict.fromkeys(self.table["target"]))

    @property
    def k_grid(self) -> list[int]:
        return sorted(set(int(k) for k in self.table["k"]))

    def hits(self, target: str, k: int) -> np.ndarray:
        """Per generation: is it in ``target``'s language (booleans)?"""
        return np.asarray([i == target for i in self.ids[target, k]], dtype=bool)


def run_sweep(pipe, k_grid: Sequence[int], *, n_boot: int, seed: int) -> Sweep:
    """Generate, identify and score every (target, k) of ``k_grid`` for the pipeline's
    targets (each stage cached by the pipeline); k = 0 must be in the grid."""
    grid = sorted(set(int(k) for k in k_grid))
    if 0 not in grid:
        raise ValueError(f"k_grid must contain 0 (the original model), got {list(k_grid)}")
    for k in grid:
        if k:
            pipe.check_k(k)
    texts, ids, nll = {}, {}, {}
    pre_texts = pipe.generations(None)
    pre_ids = language_ids(pre_texts)
    for target in pipe.cfg.targets:
        for k in grid:
            iv = None if k == 0 else pipe.intervention(target, k=k)
            texts[target, k] = pre_texts if k == 0 else pipe.generations(iv)
            ids[target, k] = pre_ids if k == 0 else language_ids(texts[target, k])
            nll[target, k] = np.asarray(pipe.heldout_perplexity(target, iv)["token_nll"])
    table = sweep_table(ids, nll, n_boot=n_boot, seed=seed)
    return Sweep(table, texts, ids, nll)


def sweep_table(
    ids: Mapping[Point, Sequence[str]],
    token_nll: Mapping[Point, np.ndarray],
    *,
    n_boot: int,
    seed: int = 0,
) -> pd.DataFrame:
    """One row per (target, k): ``generations``, ``in_target`` (how many langid.py
    assigns to the target), ``share`` with its Wilson interval (``share_low``,
    ``share_high``), the most frequent language (``top_language``, ``top_share``),
    ``log_ppl`` (nats per token), and ``dlog_ppl`` (change against k = 0 on the same
    tokens) with its block-bootstrap interval (``dlog_low``, ``dlog_high``)."""
    rows = []
    for (target, k), found in ids.items():
        n, hits = len(found), sum(i == target for i in found)
        low, high = share_interval(hits, n)
        counts = pd.Series([i or EMPTY for i in found], dtype=object).value_counts()
        nll = np.asarray(token_nll[target, k], dtype=np.float64)
        delta = block_bootstrap_delta(
            token_nll[target, 0], nll, block=BLOCK, n_boot=n_boot, seed=seed
        )
        rows.append(
            {
                "target": target,
                "k": int(k),
                "generations": n,
                "in_target": hits,
                "share": hits / n,
                "share_low": low,
                "share_high": high,
                "top_language": counts.index[0],
                "top_share": counts.iloc[0] / n,
                "log_ppl": float(nll.mean()),
                "dlog_ppl": delta.value,
                "dlog_low": delta.low,
                "dlog_high": delta.high,
            }
        )
    return pd.DataFrame(rows).sort_values(["target", "k"], kind="stable", ignore_index=True)


def steering_change(
    sweep: Sweep, target: str, k: int, *, base: int = 0, n_boot: int, seed: int = 0
) -> Estimate:
    """Share of generations in ``target``'s language at ``k`` minus at ``base``, with an
    interval that resamples the generations of each point on its own."""
    return bootstrap_share_delta(
        sweep.hits(target, base), sweep.hits(target, k), n_boot=n_boot, seed=seed
    )


def perplexity_change(sweep: Sweep, target: str, k: int, *, n_boot: int, seed: int = 0) -> Estimate:
    """Log-perplexity of the held-out ``target`` text at ``k`` minus at k = 0, with a
    block bootstrap over its tokens."""
    return block_bootstrap_delta(
        sweep.token_nll[target, 0],
        sweep.token_nll[target, k],
        block=BLOCK,
        n_boot=n_boot,
        seed=seed,
    )


def best_k(sweep: Sweep, target: str) -> int:
    """The k > 0 of the grid with the largest share in ``target``'s language (the
    smallest such k on ties)."""
    rows = sweep.table[(sweep.table["target"] == target) & (sweep.table["k"] > 0)]
    if rows.empty:
        raise ValueError(f"the sweep has no k > 0 for target {target!r}")
    return int(rows.sort_values(["share", "k"], ascending=[False, True])["k"].iloc[0])


def choose_k(table: pd.DataFrame, *, fraction: float = RULE_FRACTION) -> int:
    """The book's explicit rule for k: the smallest k > 0 whose share in the target
    language, averaged over targets, reaches ``fraction`` of its best value on the
    grid (k = 0, the original model, is the baseline, never a choice: where no k
    steers, every share is at the baseline and the rule takes the smallest k)."""
    if not 0.0 < fraction <= 1.0:
        raise ValueError(f"fraction must be in (0, 1], got {fraction!r}")
    mean = table[table["k"] > 0].groupby("k")["share"].mean()
    if mean.empty:
        raise ValueError("the sweep has no k > 0 to choose from; add one to k_grid")
    return int(mean[mean >= fraction * mean.max()].index.min())


def rule_k(pipe) -> int:
    """The k that the book's rule (:func:`choose_k`) picks on this run: from the sweep
    over the config's ``k_grid`` (cached stages, so free once the choice-of-k chapter
    has run; computed here otherwise)."""
    grid = sorted(k for k in pipe.cfg.k_grid if k <= pipe.n_units)
    sweep = run_sweep(pipe, grid, n_boot=pipe.cfg.n_boot, seed=pipe.cfg.seed)
    return choose_k(sweep.table)


def mean_steering_change(
    sweep: Sweep, k: int, *, n_boot: int, seed: int = 0, ci: float = CI_LEVEL
) -> Estimate:
    """The share in the target language at ``k`` minus at k = 0, averaged over targets.

    The original model's generations are one sample shared by all targets, so each
    resample draws them once for all targets; each target's generations at ``k`` are
    resampled on their own. ``n`` is the number of generations per point.
    """
    pre = np.stack([sweep.hits(t, 0) for t in sweep.targets], axis=1).astype(float)  # (n0, T)
    pre_counts = resample_counts(pre.shape[0], n_boot=n_boot, seed=seed)
    samples, point = np.zeros(n_boot), 0.0
    for i, target in enumerate(sweep.targets):
        after = sweep.hits(target, k).astype(float)
        counts = resample_counts(after.size, n_boot=n_boot, seed=seed + 1 + i)
        samples += counts @ after / after.size - pre_counts @ pre[:, i] / pre.shape[0]
        point += after.mean() - pre[:, i].mean()
    targets = len(sweep.targets)
    low, high = percentile_interval(samples / targets, ci)
    return Estimate(point / targets, low, high, pre.shape[0])


def pooled_perplexity_change(sweep: Sweep, k: int, *, n_boot: int, seed: int = 0) -> Estimate:
    """Log-perplexity at ``k`` minus at k = 0 over the held-out tokens of all targets
    together (each target's text in turn), block bootstrap over tokens."""
    before = np.concatenate([sweep.token_nll[t, 0] for t in sweep.targets])
    after = np.concatenate([sweep.token_nll[t, k] for t in sweep.targets])
    return block_bootstrap_delta(before, after, block=BLOCK, n_boot=n_boot, seed=seed)


def steering_evidence(sweep: Sweep, k: int, *, n_boot: int, seed: int = 0) -> list[Evidence]:
    """Claim ``k.steering``: per target, the share at ``k`` minus at k = 0."""
    return [
        Evidence(t, steering_change(sweep, t, k, n_boot=n_boot, seed=seed)) for t in sweep.targets
    ]


def perplexity_evidence(sweep: Sweep, k: int, *, n_boot: int, seed: int = 0) -> list[Evidence]:
    """Claim ``k.perplexity``: per target, the log-perplexity at ``k`` minus at k = 0."""
    return [
        Evidence(t, perplexity_change(sweep, t, k, n_boot=n_boot, seed=seed)) for t in sweep.targets
    ]


def tradeoff_evidence(sweep: Sweep, *, n_boot: int, seed: int = 0) -> list[Evidence]:
    """Claim ``k.tradeoff``: per target, the log-perplexity cost at the k that steers
    best; untestable where the steering there is not significant (nothing was bought)."""
    out = []
    for target in sweep.targets:
        k = best_k(sweep, target)
        steer = steering_change(sweep, target, k, n_boot=n_boot, seed=seed)
        cost = perplexity_change(sweep, target, k, n_boot=n_boot, seed=seed)
        testable = steer.low > 0
        why = "" if testable else f"no significant steering at its best k = {k}"
        out.append(Evidence(f"{target} (k = {k})", cost, 0.0, testable, why))
    return out


def language_mix(ids: Sequence[str], *, top: int = 3) -> str:
    """The most frequent languages of a set of generations, e.g. ``en 40, es 12, la 5``
    (counts; ``?`` for empty generations)."""
    counts = pd.Series([i or EMPTY for i in ids], dtype=object).value_counts().head(top)
    return ", ".join(f"{lang} {int(n)}" for lang, n in counts.items())


# --- the choice-of-k chapter's tables and the values its prose glues ----------------


def sweep_values(
    k_grid: Sequence[int],
    n_heldout: int,
    n_tokens: Mapping[str, int],
    *,
    n_generations: int,
    max_new_tokens: int,
) -> dict[str, str]:
    """The sizes of the sweep: the grid, the generations per point, the held-out text
    (``n_heldout`` verses per target, ``n_tokens`` per target) and the bootstrap's
    block of tokens (glue keys without the chapter's ``k_`` prefix)."""
    return {
        "grid": ", ".join(fmt(k, "int") for k in k_grid),
        "n_generations": fmt(n_generations, "int"),
        "new_tokens": fmt(max_new_tokens, "int"),
        "n_heldout": fmt(n_heldout, "int"),
        "heldout_tokens": ", ".join(f"{t} {fmt(n, 'int')} tokens" for t, n in n_tokens.items()),
        "block": fmt(BLOCK, "int"),
    }


def sweep_cells(table: pd.DataFrame) -> pd.DataFrame:
    """:func:`sweep_table` as the chapter shows it: per k (rows) and target, the share in
    the target language and the change of log-perplexity, each with its interval."""
    share = [
        fmt_ci(Estimate(r.share, r.share_low, r.share_high, r.generations), "acc")
        for r in table.itertuples()
    ]
    dlog = [
        fmt_ci(Estimate(r.dlog_ppl, r.dlog_low, r.dlog_high, 0), "nats", sign=True)
        for r in table.itertuples()
    ]
    wide = table.assign(share=share, dlog=dlog).pivot(
        index="k", columns="target", values=["share", "dlog"]
    )
    return wide.rename(
        columns={
            "share": "share in the target language",
            "dlog": "Δ log-perplexity vs k = 0 (nats)",
        }
    )


def claim_values(name: str, assessment: Assessment, kind: str) -> dict[str, str]:
    """``{name}_values``: each unit's signed estimate with its interval (noting an
    untestable unit and why; the assessment's reason when it has no evidence), and
    ``{name}_verdict``."""
    values = "; ".join(
        f"**{e.unit}** {fmt_ci(e.estimate, kind, sign=True)}"
        + ("" if e.testable else f" (not testable: {e.why_not})")
        for e in assessment.evidence
    )
    return {f"{name}_values": values or assessment.reason, f"{name}_verdict": assessment.verdict}


def fallen(decline: Mapping[str, Estimate]) -> list[str]:
    """The targets whose share falls significantly (interval below zero), from
    :func:`steering_change` per target."""
    return [t for t, est in decline.items() if est.high < 0]


def decline_values(decline: Mapping[str, Estimate], best: Mapping[str, int]) -> dict[str, str]:
    """The change of the share from each target's ``best`` k (``decline``:
    :func:`steering_change` per target, each with its best k), how many targets it
    falls for significantly (``fell``: ``3 of 5``) and which (``fell_names``, "none"
    if none)."""
    fell = fallen(decline)
    return {
        "decline": "; ".join(
            f"**{t}** {fmt_ci(est, 'pp', sign=True)} (best k = {fmt(best[t], 'int')})"
            for t, est in decline.items()
        ),
        "fell": f"{fmt(len(fell), 'int')} of {fmt(len(decline), 'int')}",
        "fell_names": ", ".join(fell) or "none",
    }


def dips(table: pd.DataFrame) -> list[dict[str, Any]]:
    """Targets whose share is not monotone in k: the lowest share over the grid's k > 0
    lies below the share at a larger k, with disjoint Wilson intervals (``share_high``
    at the dip under ``share_low`` after it). Each dip as
    ``{"target", "k", "in_target", "generations", "share", "share_low", "share_high",
    "k_after", "share_after"}``, where ``k_after`` is the larger k with the highest share."""
    found = []
    for target, rows in table[table["k"] > 0].groupby("target", sort=True):
        rows = rows.sort_values("k")
        low = rows.loc[rows["share"].idxmin()]
        after = rows[rows["k"] > low["k"]]
        if after.empty:
            continue
        best_after = after.loc[after["share"].idxmax()]
        if best_after["share_low"] > low["share_high"]:
            found.append(
                {
                    "target": target,
                    **{key: low[key] for key in ("k", "in_target", "generations", "share")},
                    **{key: low[key] for key in ("share_low", "share_high")},
                    "k_after": int(best_after["k"]),
                    "share_after": float(best_after["share"]),
                }
            )
    return found


def dips_values(table: pd.DataFrame) -> dict[str, str]:
    """:func:`dips` for the prose: whether the share changes monotonically in k within
    the intervals (``dips_answer``: "yes, within the intervals" where no target dips,
    else "no") and each dip (``dips``: the target, its lowest share and where, and the
    higher share at a larger k; "none" if none)."""
    found = dips(table)
    listed = "; ".join(
        f"**{d['target']}** {fmt(d['in_target'], 'int')} of {fmt(d['generations'], 'int')} "
        f"generations at k = {fmt(d['k'], 'int')} (share {fmt(d['share'], 'acc')} "
        f"[{fmt(d['share_low'], 'acc')}, {fmt(d['share_high'], 'acc')}]), then "
        f"{fmt(d['share_after'], 'acc')} at k = {fmt(d['k_after'], 'int')}"
        for d in found
    )
    return {
        "dips_answer": "no" if found else "yes, within the intervals",
        "dips": listed or "none",
    }


def drift_values(sweep: Sweep, targets: Sequence[str], k: int) -> dict[str, str]:
    """``drift``: the most frequent languages (:func:`language_mix`, langid.py codes
    and counts) of each target's generations at ``k``."""
    return {"drift": "; ".join(f"{t}: {language_mix(sweep.ids[t, k])}" for t in targets)}


def best_k_table(
    table: pd.DataFrame, best: Mapping[str, int], decline: Mapping[str, Estimate], k_max: int
) -> pd.DataFrame:
    """Per target: its ``best`` k and the share there, the share at ``k_max``, the change
    between the two (``decline``) and the most frequent language at ``k_max``."""

    def share_at(target: str, k: int) -> float:
        return float(table[(table["target"] == target) & (table["k"] == k)]["share"].iloc[0])

    at_max = table[table["k"] == k_max].set_index("target")
    return pd.DataFrame(
        {
            "best k": best,
            "share at best k": {t: fmt(share_at(t, k), "acc") for t, k in best.items()},
            f"share at k = {k_max}": at_max["share"].map(lambda v: fmt(v, "acc")),
            f"change, best k → {k_max}": {
                t: fmt_ci(e, "pp", sign=True) for t, e in decline.items()
            },
            f"top language at k = {k_max}": at_max["top_language"],
        }
    ).rename_axis("target")

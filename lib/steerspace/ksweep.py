"""Choosing k (paper §3.3, App. B, Fig. 2): steering and perplexity over a grid of k.

:func:`run_sweep` asks the pipeline for the cached free generations and held-out
per-token losses of every (target, k); :func:`sweep_table` turns them into one row per
point with intervals that resample the independent unit: a share of generations in
the target language gets its Wilson interval (:func:`steerspace.inference.share_interval`),
a change of log-perplexity a block bootstrap over tokens
(:func:`steerspace.inference.block_bootstrap_delta`). The ``*_evidence`` functions build
the scorecard's evidence for the claims ``k.steering``, ``k.perplexity`` and
``k.tradeoff``.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass

import numpy as np
import pandas as pd

from steerspace.claims import Evidence
from steerspace.generation import language_ids
from steerspace.inference import (
    CI_LEVEL,
    Estimate,
    block_bootstrap_delta,
    bootstrap_share_delta,
    percentile_interval,
    resample_counts,
    share_interval,
)

Point = tuple[str, int]  # (target, k)
BLOCK = 64  # tokens per block of the perplexity bootstrap
RULE_FRACTION = 0.9  # the book's rule: the smallest k reaching this share of the best


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
    n_boot: int = 1000,
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
        counts = pd.Series(list(found), dtype=object).value_counts()
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
    sweep: Sweep, target: str, k: int, *, base: int = 0, n_boot: int = 1000, seed: int = 0
) -> Estimate:
    """Share of generations in ``target``'s language at ``k`` minus at ``base``, with an
    interval that resamples the generations of each point on its own."""
    return bootstrap_share_delta(
        sweep.hits(target, base), sweep.hits(target, k), n_boot=n_boot, seed=seed
    )


def perplexity_change(
    sweep: Sweep, target: str, k: int, *, n_boot: int = 1000, seed: int = 0
) -> Estimate:
    """Log-perplexity of the held-out ``target`` text at ``k`` minus at k = 0, with a
    block bootstrap over its tokens."""
    return block_bootstrap_delta(
        sweep.token_nll[target, 0], sweep.token_nll[target, k], block=BLOCK, n_boot=n_boot,
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
    """The book's explicit rule for k: the smallest k whose share in the target
    language, averaged over targets, reaches ``fraction`` of its best value on the
    grid."""
    if not 0.0 < fraction <= 1.0:
        raise ValueError(f"fraction must be in (0, 1], got {fraction!r}")
    mean = table.groupby("k")["share"].mean()
    return int(mean[mean >= fraction * mean.max()].index.min())


def mean_steering_change(
    sweep: Sweep, k: int, *, n_boot: int = 1000, seed: int = 0, ci: float = CI_LEVEL
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


def pooled_perplexity_change(
    sweep: Sweep, k: int, *, n_boot: int = 1000, seed: int = 0
) -> Estimate:
    """Log-perplexity at ``k`` minus at k = 0 over the held-out tokens of all targets
    together (each target's text in turn), block bootstrap over tokens."""
    before = np.concatenate([sweep.token_nll[t, 0] for t in sweep.targets])
    after = np.concatenate([sweep.token_nll[t, k] for t in sweep.targets])
    return block_bootstrap_delta(before, after, block=BLOCK, n_boot=n_boot, seed=seed)


def steering_evidence(
    sweep: Sweep, k: int, *, n_boot: int = 1000, seed: int = 0
) -> list[Evidence]:
    """Claim ``k.steering``: per target, the share at ``k`` minus at k = 0."""
    return [
        Evidence(t, steering_change(sweep, t, k, n_boot=n_boot, seed=seed)) for t in sweep.targets
    ]


def perplexity_evidence(
    sweep: Sweep, k: int, *, n_boot: int = 1000, seed: int = 0
) -> list[Evidence]:
    """Claim ``k.perplexity``: per target, the log-perplexity at ``k`` minus at k = 0."""
    return [
        Evidence(t, perplexity_change(sweep, t, k, n_boot=n_boot, seed=seed))
        for t in sweep.targets
    ]


def tradeoff_evidence(sweep: Sweep, *, n_boot: int = 1000, seed: int = 0) -> list[Evidence]:
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
    counts = pd.Series([i or "?" for i in ids], dtype=object).value_counts().head(top)
    return ", ".join(f"{lang} {int(n)}" for lang, n in counts.items())

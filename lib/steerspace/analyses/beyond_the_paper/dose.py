"""Dose–response of an intervention (beyond the paper): what one setting of the
number of experts k and of the strength s does to retrieval, steering and perplexity,
each with a 95 % interval over its own independent unit.

:func:`dose_summary` turns the measurements of one setting into one row: the
retrieval gain (target as query, paired bootstrap over the queries), the share of
free generations that langid.py identifies as the target (Wilson interval over the
generations) and the change of the held-out log-perplexity (bootstrap over blocks of
tokens).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence

import numpy as np
import pandas as pd

from steerspace.core.generation import language_ids
from steerspace.metrics.inference import (
    Estimate,
    block_bootstrap_delta,
    paired_hits_delta,
    share_interval,
)
from steerspace.metrics.retrieval import top1_hits
from steerspace.text.format import fmt, fmt_ci

#: the quantities of a dose row, each with ``_low`` and ``_high`` columns
DOSE_COLUMNS = ("gain", "share", "dlogppl")


def target_query_hits(
    space: Mapping[str, np.ndarray], target: str, *, score: str = "cosine"
) -> np.ndarray:
    """(queries, candidate languages) top-1 hits with ``target``'s sentences as queries
    against every other language of ``space`` (paper §5)."""
    if target not in space:
        raise ValueError(f"target must be one of {sorted(space)}, got {target!r}")
    return np.stack(
        [top1_hits(space[target], space[c], score=score) for c in space if c != target], axis=1
    )


def dose_summary(
    pre: Mapping[str, np.ndarray],
    post: Mapping[str, np.ndarray],
    target: str,
    *,
    identified: Sequence[str],
    nll_pre: Sequence[float],
    nll_post: Sequence[float],
    score: str = "cosine",
    block: int = 64,
    n_boot: int,
    seed: int = 0,
) -> dict[str, float]:
    """One dose–response row.

    Parameters
    ----------
    pre, post : the original and the intervened space (language → (n, d), aligned).
    target : the intervention's target language.
    identified : the language langid.py assigns to each free generation under the
        intervention.
    nll_pre, nll_post : per-token negative log-likelihoods of the same held-out target
        text, without and with the intervention.
    score : retrieval score, ``"cosine"`` or ``"dot"``.
    block : tokens per block of the perplexity bootstrap.

    Returns
    -------
    dict with ``acc_pre``, ``acc_post`` and, for each of :data:`DOSE_COLUMNS`, the value
    and its ``_low``/``_high``: ``gain`` (acc_post − acc_pre, fraction), ``share``
    (fraction of generations in the target language) and ``dlogppl`` (nats/token).
    """
    if len(identified) == 0:
        raise ValueError("identified must hold the language of at least one generation")
    before = target_query_hits(pre, target, score=score)
    after = target_query_hits(post, target, score=score)
    gain = paired_hits_delta(before, after, n_boot=n_boot, seed=seed)
    k = sum(code == target for code in identified)
    low, high = share_interval(k, len(identified))
    ppl = block_bootstrap_delta(
        np.asarray(nll_pre), np.asarray(nll_post), block=block, n_boot=n_boot, seed=seed
    )
    return {
        "acc_pre": float(before.mean()),
        "acc_post": float(after.mean()),
        "gain": gain.value,
        "gain_low": gain.low,
        "gain_high": gain.high,
        "share": k / len(identified),
        "share_low": low,
        "share_high": high,
        "dlogppl": ppl.value,
        "dlogppl_low": ppl.low,
        "dlogppl_high": ppl.high,
    }


def dose_table(
    pipe,
    target: str,
    *,
    pre: Mapping[str, np.ndarray],
    cached: Mapping[str, np.ndarray],
    n_sentences: int,
    k_grid: Sequence[int],
    strengths: Sequence[float],
    k: int,
    n_boot: int,
    seed: int = 0,
) -> pd.DataFrame:
    """:func:`dose_summary` for every k of ``k_grid`` (at most the pipeline's number of
    units; strength 1) and every strength at ``k``, one row each with ``dial`` (``"k"``
    or ``"strength"``), ``k`` and ``strength``.

    ``pipe`` is a :class:`steerspace.pipeline.Pipeline`; ``pre`` the original space and
    ``cached`` the main intervention's (k, strength 1) space, both cut to their first
    ``n_sentences`` rows here; any other setting embeds the first ``n_sentences``
    sentences afresh (cached by the pipeline).
    """
    main_key = pipe.intervention(target).key()
    nll_pre = pipe.heldout_perplexity(target)["token_nll"]
    first = {lang: x[:n_sentences] for lang, x in pre.items()}
    settings = [("k", kk, 1.0) for kk in k_grid if kk <= pipe.n_units] + [
        ("strength", k, s) for s in strengths
    ]
    rows = []
    for dial, kk, strength in settings:
        iv = pipe.intervention(target, k=kk, strength=strength)
        post = (
            {lang: x[:n_sentences] for lang, x in cached.items()}
            if iv.key() == main_key
            else pipe.space(iv, n=n_sentences)
        )
        row = dose_summary(
            first,
            post,
            target,
            identified=language_ids(pipe.generations(iv)),
            nll_pre=nll_pre,
            nll_post=pipe.heldout_perplexity(target, iv)["token_nll"],
            n_boot=n_boot,
            seed=seed,
        )
        rows.append({"dial": dial, "k": kk, "strength": strength, **row})
    return pd.DataFrame(rows)


def along_dial(frame: pd.DataFrame, column: str, kind: str) -> str:
    """``k = 100: +0.8 [−0.2, +1.9] pp; k = 250: …`` for the rows of one dial of
    :func:`dose_table` (``kind`` as :func:`steerspace.text.format.fmt` takes it; shares
    unsigned, changes signed)."""
    parts = []
    for _, row in frame.iterrows():
        name, value = ("k", fmt(row["k"], "int")) if row["dial"] == "k" else (
            "s", fmt(row["strength"], "plain")
        )  # fmt: skip
        est = Estimate(row[column], row[f"{column}_low"], row[f"{column}_high"], 0)
        parts.append(f"{name} = {value}: {fmt_ci(est, kind, sign=column != 'share')}")
    return "; ".join(parts)

"""Paraphrase retrieval (paper §6, Tables 3 and 5): tables and evidence.

In each language's pool, query i's match is candidate i, its paraphrase. Three
pairings of spaces (:meth:`steerspace.pipeline.Pipeline.paraphrase_hits`): ``pre``
(both from the original model), ``post`` (both intervened) and ``mixed`` (queries
original, candidates intervened). Every interval resamples the pool's queries, paired
across the three conditions; chance is 1 / pool size.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import TYPE_CHECKING

import numpy as np
import pandas as pd

from steerspace import claims
from steerspace.claims import Assessment, Evidence
from steerspace.claims.evidence import hits_change, hits_equivalent
from steerspace.metrics.inference import Estimate, above_chance, bootstrap_hits, paired_hits_delta
from steerspace.text.format import fmt, fmt_ci

if TYPE_CHECKING:
    from steerspace.core.hooks import Intervention
    from steerspace.pipeline import Pipeline

CONDITIONS = ("pre", "post", "mixed")
CHANGES = {"post − pre": "post", "mixed − pre": "mixed"}
Hits = Mapping[str, Mapping[str, np.ndarray]]  # language → condition → per-query hits


def chance_of(hits: Mapping[str, np.ndarray]) -> float:
    """Chance top-1 accuracy of one pool: 1 / its number of candidates."""
    return 1.0 / len(hits["pre"])


def paraphrase_table(hits: Hits, *, score: str, n_boot: int, seed: int = 0) -> pd.DataFrame:
    """Tables 3 and 5 with intervals: per language, top-1 accuracy pre, post and mixed
    and the changes post − pre and mixed − pre (paired over queries), each as ``value,
    low, high, n``, with the pool's ``pairs``, ``chance`` and whether the accuracy is
    significantly above chance (``above_chance``; NaN for changes). ``score`` labels
    the rows (e.g. "inner product")."""
    rows = []
    for language, by_condition in hits.items():
        missing = [c for c in CONDITIONS if c not in by_condition]
        if missing:
            raise ValueError(f"hits[{language!r}] lacks conditions {missing}; need {CONDITIONS}")
        chance = chance_of(by_condition)
        common = {"language": language, "score": score, "pairs": len(by_condition["pre"]),
                  "chance": chance}  # fmt: skip
        for condition in CONDITIONS:
            h = np.asarray(by_condition[condition], dtype=bool)
            rows.append({**common, "condition": condition,
                         **bootstrap_hits(h, n_boot=n_boot, seed=seed).as_dict(),
                         "above_chance": above_chance(h, chance, n_boot=n_boot)})  # fmt: skip
        for name, condition in CHANGES.items():
            est = paired_hits_delta(
                by_condition["pre"], by_condition[condition], n_boot=n_boot, seed=seed
            )
            rows.append({**common, "condition": name, **est.as_dict(), "above_chance": np.nan})
    return pd.DataFrame(rows)


def _pooled_change(
    hits: Hits, languages: Sequence[str], condition: str, *, n_boot: int, seed: int
) -> Estimate:
    """Mean change over the languages' queries (pools of different sentences: their
    queries are independent and resampled together)."""
    before = np.concatenate([np.asarray(hits[lang]["pre"], bool) for lang in languages])
    after = np.concatenate([np.asarray(hits[lang][condition], bool) for lang in languages])
    return paired_hits_delta(before, after, n_boot=n_boot, seed=seed)


def preserved_evidence(
    hits: Hits, languages: Sequence[str], *, n_boot: int, seed: int = 0
) -> tuple[list[Evidence], Estimate]:
    """Claim ``paraphrase.preserved``: per language, post − pre with the equivalence
    margin of :func:`steerspace.claims.evidence.hits_equivalent` (testable only where
    pre is above chance); and the mean change over the languages' queries."""
    units = [
        hits_equivalent(
            lang,
            hits[lang]["pre"],
            hits[lang]["post"],
            chance_of(hits[lang]),
            n_boot=n_boot,
            seed=seed,
        )  # fmt: skip
        for lang in languages
    ]
    return units, _pooled_change(hits, languages, "post", n_boot=n_boot, seed=seed)


def mixed_evidence(
    hits: Hits, languages: Sequence[str], *, n_boot: int, seed: int = 0
) -> tuple[list[Evidence], Estimate]:
    """Claim ``paraphrase.mixed_drops``: per language, mixed − pre (paired over queries;
    a drop needs pre above chance); and the mean change over the languages' queries."""
    units = [
        hits_change(
            lang,
            hits[lang]["pre"],
            hits[lang]["mixed"],
            chance_of(hits[lang]),
            n_boot=n_boot,
            require="before",
            seed=seed,
        )  # fmt: skip
        for lang in languages
    ]
    return units, _pooled_change(hits, languages, "mixed", n_boot=n_boot, seed=seed)


def assessments(hits: Mapping[str, Hits], *, n_boot: int, seed: int = 0) -> list[Assessment]:
    """Claims ``paraphrase.preserved`` and ``paraphrase.mixed_drops`` for every score
    variant (``hits[variant]``: language → condition → hits)."""
    out = []
    for variant, by_language in hits.items():
        languages = list(by_language)
        units, overall = preserved_evidence(by_language, languages, n_boot=n_boot, seed=seed)
        out.append(claims.assess("paraphrase.preserved", units, variant=variant, summary=overall))
        units, overall = mixed_evidence(by_language, languages, n_boot=n_boot, seed=seed)
        out.append(claims.assess("paraphrase.mixed_drops", units, variant=variant, summary=overall))
    return out


def paraphrase_cells(table: pd.DataFrame) -> pd.DataFrame:
    """:func:`paraphrase_table` (one or more scores) as the book writes numbers: one row
    per (score, language), accuracies with their intervals ("(at chance)" where not
    significantly above chance), changes in points, chance and pool size."""
    rows = {}
    for row in table.itertuples(index=False):
        est = Estimate(row.value, row.low, row.high, int(row.n))
        if row.condition in CONDITIONS:
            text = fmt_ci(est, "acc") + ("" if row.above_chance else " (at chance)")
        else:
            text = fmt_ci(est, "pp", sign=True)
        cells = rows.setdefault((row.score, row.language), {})
        cells[row.condition] = text
        cells["chance"], cells["pairs"] = fmt(row.chance, "acc"), fmt(row.pairs, "int")
    frame = pd.DataFrame.from_dict(rows, orient="index")
    frame.index = pd.MultiIndex.from_tuples(frame.index, names=["score", "language"])
    return frame[[*CONDITIONS, *CHANGES, "chance", "pairs"]]


def pool_embeddings(
    pipe: Pipeline, language: str, intervention: Intervention
) -> dict[str, np.ndarray]:
    """The cached embeddings behind :meth:`Pipeline.paraphrase_hits` for one pool:
    ``queries``/``candidates`` × ``pre``/``post`` (e.g. ``"queries post"``)."""
    out = {}
    for condition, iv in (("pre", None), ("post", intervention)):
        queries, candidates = pipe.paraphrase_embeddings(language, iv)
        out[f"queries {condition}"], out[f"candidates {condition}"] = queries, candidates
    return out

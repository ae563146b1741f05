"""Retrieval on independent benchmarks (paper App. H, Table 7): Tatoeba and BUCC-18.

Each benchmark gives, per language ``xx``, aligned pairs (xx sentence, English
sentence). A *unit* of the analysis is a target and a direction: ``xx→en`` (the
non-English side is the query, the English sides are the candidates) or ``en→xx``.
A non-English target reads its own pair file under its own intervention; English, the
pivot of every pair, reads every pair file under the English intervention (its
``en→xx`` direction has English queries, the target language, as its other targets'
``xx→en`` do).

Scores are the paper's inner product and cosine; ``k = 0`` is the original model.
Hits are kept per file, so that intervals resample the sentence pairs
(:func:`mean_change` resamples the pairs of all files jointly).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import TYPE_CHECKING

import numpy as np
import pandas as pd

from steerspace import claims
from steerspace.claims import Assessment, Evidence
from steerspace.claims.evidence import hits_change
from steerspace.data import Corpus
from steerspace.data.paper import paper_table
from steerspace.metrics.inference import Estimate, bootstrap_hits, bootstrap_rows
from steerspace.metrics.retrieval import top1_hits

if TYPE_CHECKING:
    from steerspace.pipeline import Pipeline

DIRECTIONS = ("xx→en", "en→xx")
# (target, direction, score, k) → file language → per-pair hits
HitKey = tuple[str, str, str, int]


def check_direction(direction: str) -> str:
    """``direction`` if it is one of :data:`DIRECTIONS`, else ``ValueError``."""
    if direction not in DIRECTIONS:
        raise ValueError(f"direction must be one of {list(DIRECTIONS)}, got {direction!r}")
    return direction


def unit_files(target: str, files: Sequence[str]) -> list[str]:
    """The pair files a target's units read: its own, or every file for English."""
    if target == "en":
        return list(files)
    if target not in files:
        raise ValueError(f"target {target!r} has no pair file; files are {list(files)}")
    return [target]


def pair_hits(xx: np.ndarray, en: np.ndarray, direction: str, *, score: str) -> np.ndarray:
    """Per pair, whether its query retrieves its own translation in ``direction``."""
    check_direction(direction)
    queries, candidates = (xx, en) if direction == "xx→en" else (en, xx)
    return top1_hits(queries, candidates, score=score)


def embed_pairs(
    pipe: Pipeline,
    corpora: Mapping[str, Corpus],
    languages: Sequence[str],
    k: int,
    *,
    target: str,
    dataset: str,
) -> dict[str, tuple[np.ndarray, np.ndarray]]:
    """Embeddings of both sides (xx, en) of the pair files of ``languages``, with the
    original model (``k = 0``) or under ``target``'s top-``k`` experts; cached per
    side, the uncached sides of all files in one forward pass (an English sentence in
    several files runs once)."""
    iv = None if k == 0 else pipe.intervention(target, k=k)
    groups = {}
    for language in languages:
        corpus = corpora[language]
        groups[f"{dataset}-{language}"] = (list(corpus.sentences(language)), None)
        groups[f"{dataset}-{language}-en"] = (list(corpus.sentences("en")), None)
    out = pipe.embed_groups(groups, iv)
    return {lang: (out[f"{dataset}-{lang}"], out[f"{dataset}-{lang}-en"]) for lang in languages}


def benchmark_hits(
    pipe: Pipeline,
    corpora: Mapping[str, Corpus],
    *,
    targets: Sequence[str],
    ks: Sequence[int],
    scores: Sequence[str],
    dataset: str,
) -> dict[HitKey, dict[str, np.ndarray]]:
    """Hits of every unit (target × direction), score and k (0 = original model, the
    same for every target), file by file. Targets without a pair file (and English
    when no file exists) are left out."""
    files = list(corpora)
    out: dict[HitKey, dict[str, np.ndarray]] = {}
    for target in targets:
        if not files or (target != "en" and target not in files):
            continue
        for k in dict.fromkeys([0, *ks]):
            spaces = embed_pairs(
                pipe, corpora, unit_files(target, files), k, target=target, dataset=dataset
            )
            for direction in DIRECTIONS:
                for score in scores:
                    out[target, direction, score, k] = {
                        f: pair_hits(xx, en, direction, score=score)
                        for f, (xx, en) in spaces.items()
                    }
    return out


def pooled(by_file: Mapping[str, np.ndarray]) -> np.ndarray:
    """The hits of all files of a unit, one after the other (in file order)."""
    return np.concatenate([np.asarray(h, dtype=bool) for h in by_file.values()])


def chance_level(by_file: Mapping[str, np.ndarray]) -> float:
    """Chance top-1 accuracy of a unit: the mean over its queries of 1 / (candidates in
    the query's file)."""
    sizes = np.array([len(h) for h in by_file.values()], dtype=np.float64)
    return float((sizes * (1.0 / sizes)).sum() / sizes.sum())


def accuracy_table(
    hits: Mapping[HitKey, Mapping[str, np.ndarray]], *, n_boot: int, seed: int = 0
) -> pd.DataFrame:
    """One row per (target, direction, score, k): top-1 accuracy with its 95 % interval
    over sentence pairs, ``pairs`` and ``chance``."""
    rows = []
    for (target, direction, score, k), by_file in hits.items():
        est = bootstrap_hits(pooled(by_file), n_boot=n_boot, seed=seed)
        rows.append(
            {
                "target": target,
                "direction": direction,
                "score": score,
                "k": k,
                **est.as_dict(),
                "pairs": est.n,
                "chance": chance_level(by_file),
            }
        )
    return pd.DataFrame(rows).drop(columns="n")


def gain_evidence(
    hits: Mapping[HitKey, Mapping[str, np.ndarray]],
    target: str,
    direction: str,
    score: str,
    k: int,
    *,
    n_boot: int,
    seed: int = 0,
) -> Evidence:
    """Evidence for a gains claim: post − pre top-1 accuracy of one unit at ``k``, paired
    bootstrap over its sentence pairs; testable when pre or post is above chance."""
    before, after = hits[target, direction, score, 0], hits[target, direction, score, k]
    unit = f"{target} {direction}"
    return hits_change(
        unit, pooled(before), pooled(after), chance_level(before), n_boot=n_boot, seed=seed
    )


def mean_change(
    pairs: Mapping[str, tuple[Mapping[str, np.ndarray], Mapping[str, np.ndarray]]],
    *,
    n_boot: int,
    seed: int = 0,
) -> Estimate:
    """The mean over units of their accuracy change (after − before), with a 95 %
    interval that resamples the sentence pairs of all files jointly: units that read
    the same file (its two directions; English and the file's own target) stay paired.

    ``pairs`` maps a unit to its (before, after) hits by file.
    """
    if not pairs:
        raise ValueError("need at least one unit")
    sizes: dict[str, int] = {}
    for before, after in pairs.values():
        for f in before:
            if len(before[f]) != len(after[f]) or sizes.setdefault(f, len(before[f])) != len(
                before[f]
            ):
                raise ValueError(f"file {f!r} has hits of different lengths")
    offsets = dict(zip(sizes, np.cumsum([0, *sizes.values()])[:-1], strict=True))
    n_rows = sum(sizes.values())
    diff = np.zeros((n_rows, len(pairs)))
    used = np.zeros((n_rows, len(pairs)))
    for j, (before, after) in enumerate(pairs.values()):
        for f in before:
            rows = slice(offsets[f], offsets[f] + sizes[f])
            diff[rows, j] = np.asarray(after[f], float) - np.asarray(before[f], float)
            used[rows, j] = 1.0

    def stat(counts: np.ndarray) -> np.ndarray:
        with np.errstate(invalid="ignore", divide="ignore"):
            return np.mean((counts @ diff) / (counts @ used), axis=1)

    point = float(np.mean(diff.sum(axis=0) / used.sum(axis=0)))
    return bootstrap_rows(stat, n_rows, point=point, n_boot=n_boot, seed=seed)


def n_embeddings(corpora: Mapping[str, Corpus], targets: Sequence[str], ks: Sequence[int]) -> int:
    """How many sentence embeddings :func:`benchmark_hits` needs: both sides of every
    file with the original model, and of each target's files for every k."""
    files = list(corpora)
    sides = {f: 2 * len(corpora[f]) for f in files}
    post = sum(
        sides[f]
        for t in targets
        if files and (t == "en" or t in files)
        for f in unit_files(t, files)
    )
    return sum(sides.values()) + len(set(ks) - {0}) * post


#: claim id → the benchmark its units come from
CLAIM_DATASETS = {"tatoeba.gains": "Tatoeba", "bucc.gains": "BUCC-18"}


def paper_targets(dataset: str) -> list[str]:
    """The targets the paper's Table 7 reports for ``dataset`` (no English: English is
    the pivot of every pair, so the book shows it beside, never scores it)."""
    table = paper_table("table7_tatoeba_bucc")
    return list(dict.fromkeys(table.loc[table["dataset"] == dataset, "language_iso"]))


def assessments(
    hits: Mapping[str, Mapping[HitKey, Mapping[str, np.ndarray]]],
    k: int,
    *,
    scores: Mapping[str, str],
    missing: Mapping[str, str],
    n_boot: int,
    seed: int = 0,
) -> list[Assessment]:
    """Claims ``tatoeba.gains`` and ``bucc.gains`` at ``k``, for every score variant
    (``scores``: variant → score name of the hits): one unit per target of the paper's
    Table 7 and direction, the summary the mean over those units. A dataset absent from
    ``hits`` is not testable, for the reason ``missing[dataset]``."""
    out = []
    for claim_id, dataset in CLAIM_DATASETS.items():
        if dataset not in hits:
            out += [claims.not_testable(claim_id, missing[dataset], variant=v) for v in scores]
            continue
        h, wanted = hits[dataset], paper_targets(dataset)
        for variant, name in scores.items():
            evidence, pairs = [], {}
            for target, direction, s, at in h:
                if s == name and at == k and target in wanted:
                    ev = gain_evidence(h, target, direction, name, k, n_boot=n_boot, seed=seed)
                    evidence.append(ev)
                    pairs[ev.unit] = (h[target, direction, name, 0], h[target, direction, name, k])
            if not evidence:
                why = f"no pair file for the paper's targets {wanted}"
                out.append(claims.not_testable(claim_id, why, variant=variant))
                continue
            summary = mean_change(pairs, n_boot=n_boot, seed=seed)
            out.append(claims.assess(claim_id, evidence, variant=variant, summary=summary))
    return out


def fragility_table(result: Mapping) -> pd.DataFrame:
    """The fragility benchmark (``bench/fragility.py``'s JSON) as one row per (k,
    measure, condition): the change (post − pre) with its interval, how far it moved
    from the reference (the book's own experts), that move in units of the reference
    interval's half-width, and ``fragile``: whether it moved by more than that
    half-width."""
    rows = []
    reference = {r["k"]: r for r in result["rows"] if r["condition"] == "reference"}
    for row in result["rows"]:
        ref = reference[row["k"]]
        for measure, est in row.items():
            if not isinstance(est, dict):
                continue
            base = ref[measure]
            half = (base["high"] - base["low"]) / 2
            move = est["value"] - base["value"]
            rows.append({"k": row["k"], "measure": measure, "condition": row["condition"],
                         "top_k_overlap": row["top_k_overlap"], "value": est["value"],
                         "low": est["low"], "high": est["high"], "move": move,
                         "move_in_half_widths": abs(move) / half if half > 0 else np.nan,
                         "fragile": bool(abs(move) > half)})  # fmt: skip
    return pd.DataFrame(rows)

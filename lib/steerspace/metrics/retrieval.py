"""Sentence retrieval and its statistics (paper §5, §6, Table 2, Table 3, App. H).

A retrieval set is aligned: query i's correct match is candidate i (a translation for
cross-lingual retrieval, a paraphrase for paraphrase retrieval). The paper scores a
query against every candidate with the inner product of mean-pooled last-layer states
and takes the candidate with the highest score (§5: "We select the candidate with the
highest inner product as the match, and then measure top-1 accuracy").
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence

import numpy as np
import pandas as pd

from steerspace.metrics.geometry import as_matrix, language_distance, unit_rows
from steerspace.metrics.inference import fisher_pearson

SCORES = ("dot", "cosine")

#: claim variant (:data:`steerspace.claims.SCORES`) → ``score`` of this module
VARIANT_SCORES = {"inner product": "dot", "cosine": "cosine"}

__all__ = [
    "hits_table",
    "matrix_from_hits",
    "retrieval_matrix",
    "similarity",
    "summarise_gains",
    "top1_accuracy",
    "top1_hits",
]


def _check_score(score: str) -> None:
    if score not in SCORES:
        raise ValueError(f"score must be one of {SCORES}, got {score!r}")


def similarity(queries: np.ndarray, candidates: np.ndarray, *, score: str = "dot") -> np.ndarray:
    """Score of every query against every candidate.

    Used by the retrieval chapters (paper §5 cross-lingual, §6 paraphrase, App. H).

    Parameters
    ----------
    queries : (n_q, d) array.
    candidates : (n_c, d) array.
    score : ``"dot"`` (default), the inner product, the paper's choice; or
        ``"cosine"``, the inner product of unit vectors (a zero vector scores 0).

    Returns
    -------
    (n_q, n_c) float64 array.

    Raises
    ------
    ValueError
        Unknown ``score``, or inputs that are not finite 2-D arrays of one dimension.
    """
    _check_score(score)
    q = as_matrix(queries, "queries")
    c = as_matrix(candidates, "candidates")
    if q.shape[1] != c.shape[1]:
        raise ValueError(
            f"queries and candidates must have the same dimension, got {q.shape} and {c.shape}"
        )
    if score == "cosine":
        q, c = unit_rows(q), unit_rows(c)
    return q @ c.T


def top1_hits(
    queries: np.ndarray,
    candidates: np.ndarray,
    *,
    score: str = "dot",
    chunk: int = 4096,
) -> np.ndarray:
    """Per query, whether its highest-scoring candidate is its own match (candidate i).

    Used by the retrieval chapters (paper §5, §6, App. H); the per-query booleans let a
    caller bootstrap the accuracy. Ties go to the first candidate (``np.argmax``), so a
    tie between the match and an earlier candidate counts as a miss.

    Parameters
    ----------
    queries : (n, d) array; row i is the query of pair i.
    candidates : (n, d) array; row i is the match of query i, all rows the pool.
    score : ``"dot"`` (default) or ``"cosine"``, see :func:`similarity`.
    chunk : queries scored at a time (bounds memory to chunk × n scores).

    Returns
    -------
    (n,) bool array.

    Raises
    ------
    ValueError
        Unknown ``score``, or ``queries`` and ``candidates`` of different shapes.
    """
    _check_score(score)
    q = as_matrix(queries, "queries")
    c = as_matrix(candidates, "candidates")
    if q.shape != c.shape:
        raise ValueError(
            "queries and candidates must be aligned sets of the same shape (n, dim), "
            f"got {q.shape} and {c.shape}"
        )
    if chunk < 1:
        raise ValueError(f"chunk must be a positive integer, got {chunk}")
    if score == "cosine":
        q, c = unit_rows(q), unit_rows(c)
    return _hits(q, c, chunk)


def _hits(q: np.ndarray, c: np.ndarray, chunk: int = 4096) -> np.ndarray:
    """top1_hits on validated, already scored-space (unit rows for cosine) arrays."""
    n = q.shape[0]
    best = np.empty(n, dtype=np.int64)
    for start in range(0, n, chunk):
        best[start : start + chunk] = np.argmax(q[start : start + chunk] @ c.T, axis=1)
    return best == np.arange(n)


def top1_accuracy(queries: np.ndarray, candidates: np.ndarray, *, score: str = "dot") -> float:
    """Fraction of queries whose highest-scoring candidate is their own match.

    Used by the retrieval chapters (paper §5 Fig. 4–5, §6 Table 3, App. H Table 7).
    The mean of :func:`top1_hits`; see there for the parameters and tie rule.

    Examples
    --------
    Row i of the queries (say, English sentences) should retrieve row i of the
    candidates (their translations):

    >>> import numpy as np
    >>> from steerspace import top1_accuracy
    >>> queries = np.array([[1.0, 0.0], [0.0, 1.0], [2.0, 2.0]])
    >>> candidates = np.array([[3.0, 0.0], [0.0, 1.0], [0.6, 0.6]])
    >>> top1_accuracy(queries, candidates)  # the long first row wins the third query
    0.6666666666666666
    >>> top1_accuracy(queries, candidates, score="cosine")
    1.0
    """
    return float(top1_hits(queries, candidates, score=score).mean())


def _check_languages(requested: Sequence[str] | None, known: list[str], name: str) -> list[str]:
    if requested is None:
        return list(known)
    requested = list(requested)
    unknown = [lang for lang in requested if lang not in known]
    if unknown:
        raise ValueError(f"{name} must be languages among {known}, got unknown {unknown}")
    return requested


def retrieval_matrix(
    embeddings: Mapping[str, np.ndarray],
    *,
    queries: Sequence[str] | None = None,
    candidates: Sequence[str] | None = None,
    score: str = "dot",
) -> pd.DataFrame:
    """Top-1 accuracy for every query language × candidate language of one space.

    Used by the cross-lingual retrieval chapter (paper §5: Fig. 4 is the target's row,
    Fig. 5 the post − pre difference of the whole matrix). Sentence i of every language
    is a translation of sentence i of every other language.

    Parameters
    ----------
    embeddings : language code → (n, d) sentence embeddings, the same n and d for all.
    queries : query languages (rows); default all, in mapping order.
    candidates : candidate languages (columns); default all, in mapping order.
    score : ``"dot"`` (default) or ``"cosine"``.

    Returns
    -------
    DataFrame, index ``query``, columns ``candidate``; NaN where query == candidate.

    Raises
    ------
    ValueError
        Unknown ``score`` or language, or arrays of different shapes.
    """
    _check_score(score)
    known = list(embeddings)
    rows = _check_languages(queries, known, "queries")
    cols = _check_languages(candidates, known, "candidates")
    out = pd.DataFrame(
        np.nan,
        index=pd.Index(rows, name="query"),
        columns=pd.Index(cols, name="candidate"),
        dtype=np.float64,
    )
    used = {
        lang: as_matrix(embeddings[lang], f"embeddings[{lang!r}]")
        for lang in dict.fromkeys(rows + cols)
    }
    shapes = {lang: x.shape for lang, x in used.items()}
    if len(set(shapes.values())) != 1:
        raise ValueError(f"embeddings must all have one shape (n, dim), got {shapes}")
    if score == "cosine":
        used = {lang: unit_rows(x) for lang, x in used.items()}
    for q in rows:
        for c in cols:
            if q != c:
                out.loc[q, c] = float(_hits(used[q], used[c]).mean())
    return out


def hits_table(
    embeddings: Mapping[str, np.ndarray],
    *,
    queries: Sequence[str] | None = None,
    candidates: Sequence[str] | None = None,
    score: str = "dot",
) -> pd.DataFrame:
    """Per-query top-1 hits for every query language × candidate language of one space.

    Used by the cross-lingual retrieval chapter (paper §5, Fig. 4, Fig. 5): the hits
    keep the queries, so an interval can resample them (the aligned sentences: row i
    of every language is the same sentence). The column means are
    :func:`retrieval_matrix` (see :func:`matrix_from_hits`).

    Parameters
    ----------
    embeddings, queries, candidates, score : as in :func:`retrieval_matrix`.

    Returns
    -------
    DataFrame of bools, one row per sentence, columns a MultiIndex (``query``,
    ``candidate``) over every pair with query ≠ candidate, queries in the given order.
    """
    _check_score(score)
    known = list(embeddings)
    rows = _check_languages(queries, known, "queries")
    cols = _check_languages(candidates, known, "candidates")
    used = {
        lang: as_matrix(embeddings[lang], f"embeddings[{lang!r}]")
        for lang in dict.fromkeys(rows + cols)
    }
    shapes = {lang: x.shape for lang, x in used.items()}
    if len(set(shapes.values())) != 1:
        raise ValueError(f"embeddings must all have one shape (n, dim), got {shapes}")
    if score == "cosine":
        used = {lang: unit_rows(x) for lang, x in used.items()}
    pairs = [(q, c) for q in rows for c in cols if q != c]
    if not pairs:
        raise ValueError(f"need a query and a different candidate language, got {rows} × {cols}")
    data = {pair: _hits(used[pair[0]], used[pair[1]]) for pair in pairs}
    frame = pd.DataFrame(data)
    frame.columns = pd.MultiIndex.from_tuples(pairs, names=["query", "candidate"])
    return frame


def matrix_from_hits(hits: pd.DataFrame) -> pd.DataFrame:
    """Top-1 accuracy per query × candidate language from :func:`hits_table` (NaN on
    the diagonal and for pairs it does not hold), as :func:`retrieval_matrix` returns it."""
    means = hits.mean(axis=0)
    queries = list(dict.fromkeys(hits.columns.get_level_values("query")))
    languages = list(dict.fromkeys(queries + list(hits.columns.get_level_values("candidate"))))
    candidates = [c for c in languages if c in set(hits.columns.get_level_values("candidate"))]
    out = pd.DataFrame(
        np.nan,
        index=pd.Index(queries, name="query"),
        columns=pd.Index(candidates, name="candidate"),
        dtype=np.float64,
    )
    for (q, c), value in means.items():
        out.loc[q, c] = float(value)
    return out


def summarise_gains(pre: pd.Series, post: pd.Series) -> dict[str, float | int]:
    """Median, maximum and mean of the gains ``post − pre`` (fractions, not %).

    Used by the cross-lingual retrieval chapter (paper §5: "consistent improvements in
    top-1 accuracy for the majority of candidate languages (median=32%; max=74%)").
    The two series are aligned on their index; NaN gains (e.g. the query language's own
    cell) are skipped.

    Parameters
    ----------
    pre : accuracy per language (or any key) before the intervention.
    post : the same keys after the intervention.

    Returns
    -------
    dict with ``median``, ``max``, ``mean`` and, for context, ``min`` and ``n`` (the
    number of non-NaN gains); the statistics are NaN when there is none.

    Raises
    ------
    ValueError
        ``pre`` and ``post`` do not have the same index labels.
    """
    pre = pd.Series(pre, dtype=np.float64)
    post = pd.Series(post, dtype=np.float64)
    if not pre.index.is_unique or not post.index.is_unique:
        raise ValueError("pre and post must have unique index labels")
    if set(pre.index) != set(post.index):
        only_pre = sorted(map(str, set(pre.index) - set(post.index)))
        only_post = sorted(map(str, set(post.index) - set(pre.index)))
        raise ValueError(
            f"pre and post must have the same index, got only in pre {only_pre} "
            f"and only in post {only_post}"
        )
    gains = (post - pre.reindex(post.index)).dropna()
    if gains.empty:
        nan = float("nan")
        return {"median": nan, "max": nan, "mean": nan, "min": nan, "n": 0}
    return {
        "median": float(gains.median()),
        "max": float(gains.max()),
        "mean": float(gains.mean()),
        "min": float(gains.min()),
        "n": int(gains.size),
    }


TABLE2_CORRELATIONS = {
    "r(acc_post,d_post)": ("acc_post", "d_post"),
    "r(acc_pre,d_pre)": ("acc_pre", "d_pre"),
    "r(d_post,d_pre)": ("d_post", "d_pre"),
    "r(delta_acc,d_pre-d_post)": ("delta_acc", "delta_d"),
}


def target_query_frame(
    pre: Mapping[str, np.ndarray],
    post: Mapping[str, np.ndarray],
    target: str,
    *,
    score: str = "dot",
) -> pd.DataFrame:
    """Retrieval with the target as query against every other language, pre and post.

    Used by the cross-lingual retrieval chapter (paper Fig. 4, Table 2). One row per
    candidate language: ``acc_pre``, ``acc_post`` (top-1), ``d_pre``, ``d_post`` (mean
    pairwise cosine distance between query and candidate language in that space),
    ``delta_acc = acc_post - acc_pre`` and ``delta_d = d_pre - d_post``.
    """
    if target not in pre or target not in post:
        raise ValueError(f"target must be a language of both spaces, got {target!r}")
    rows = {}
    for cand in pre:
        if cand == target:
            continue
        rows[cand] = {
            "acc_pre": top1_accuracy(pre[target], pre[cand], score=score),
            "acc_post": top1_accuracy(post[target], post[cand], score=score),
            "d_pre": language_distance(pre[target], pre[cand]),
            "d_post": language_distance(post[target], post[cand]),
        }
    frame = pd.DataFrame.from_dict(rows, orient="index").rename_axis("candidate")
    frame["delta_acc"] = frame["acc_post"] - frame["acc_pre"]
    frame["delta_d"] = frame["d_pre"] - frame["d_post"]
    return frame


def table2(frames: Mapping[str, pd.DataFrame]) -> pd.DataFrame:
    """The paper's Table 2: for each query (= target) language, the four Pearson
    correlations over candidate languages with Fisher-z 95 % intervals and the p-values
    of the same transform (:func:`steerspace.metrics.inference.fisher_pearson`; the
    paper bootstraps, which can disagree with its own p-values).

    ``frames[target]`` is :func:`target_query_frame` restricted to the candidates that
    should count (the paper keeps languages seen in pre-training). Returns one row per
    (query_language, correlation) with ``r, ci_low, ci_high, p_value, n, significant``
    (p < 0.05, exactly when the interval excludes 0).
    """
    rows = []
    for target, frame in frames.items():
        for name, (x, y) in TABLE2_CORRELATIONS.items():
            res = fisher_pearson(frame[x].to_numpy(), frame[y].to_numpy())
            rows.append({"query_language": target, "correlation": name, **res})
    out = pd.DataFrame(rows)
    out["significant"] = out["p_value"] < 0.05
    return out

"""Geometry of the sentence-embedding space (paper §4, Table 1 and Fig. 3).

Pure numpy on sentence embeddings, arrays of shape (n_sentences, hidden) in float32 or
float64; every result is float64. One language's embeddings are one array, and a space
(the original model's, or the intervened model's) is a mapping language code → array.

The cosine distance is ``1 - cos(u, v)``. A zero vector has no direction: its cosine
similarity with anything, itself included, is taken as 0, so its distance is 1.

Two identities keep everything O(n · hidden) instead of O(n²):

* the mean cosine similarity over *all* pairs of two sets is the inner product of their
  mean unit vectors, ``mean_ij <â_i, b̂_j> = <mean_i â_i, mean_j b̂_j>``;
* the summed cosine distance of point i to all points is ``n - <x̂_i, Σ_j x̂_j>``, so the
  medoid is the point whose unit vector has the largest inner product with the sum of
  all unit vectors.

Both are checked against ``scipy.spatial.distance.cdist(..., "cosine")`` in
``tests/metrics/test_geometry.py``.
"""

from __future__ import annotations

import warnings
from collections.abc import Mapping, Sequence

import numpy as np
import pandas as pd

PAIRS = ("all", "aligned")
#: a space: language code → (sentences, hidden) embeddings, row i of every language the
#: same sentence (validated by ``_check_space``)
Space = Mapping[str, np.ndarray]

__all__ = [
    "cosine_distances",
    "distance_matrix",
    "distances_to_medoid",
    "language_distance",
    "mean_sem",
    "medoid",
    "space_medoid",
    "table1_row",
    "umap_projection",
]


# --------------------------------------------------------------------------- helpers


def as_matrix(x: np.ndarray, name: str) -> np.ndarray:
    """``x`` as a float64 (n, d) array with n ≥ 1 and finite values, else ValueError."""
    arr = np.asarray(x, dtype=np.float64)
    if arr.ndim != 2 or arr.shape[0] == 0 or arr.shape[1] == 0:
        raise ValueError(f"{name} must be a non-empty 2-D array (n, dim), got shape {arr.shape}")
    if not np.isfinite(arr).all():
        raise ValueError(f"{name} must be finite, got {int((~np.isfinite(arr)).sum())} NaN/inf")
    return arr


def unit_rows(x: np.ndarray) -> np.ndarray:
    """Rows scaled to unit length; zero rows stay zero (similarity 0 with anything)."""
    norms = np.sqrt(np.einsum("ij,ij->i", x, x))[:, None]
    return np.divide(x, norms, out=np.zeros_like(x), where=norms > 0)


def _check_pairs(pairs: str) -> None:
    if pairs not in PAIRS:
        raise ValueError(f"pairs must be one of {PAIRS}, got {pairs!r}")


def _check_space(embeddings: Mapping[str, np.ndarray]) -> dict[str, np.ndarray]:
    """Validated copy of a space: ≥ 1 language, each (n, d) with one common d."""
    if len(embeddings) == 0:
        raise ValueError("embeddings must hold at least one language, got an empty mapping")
    space = {lang: as_matrix(x, f"embeddings[{lang!r}]") for lang, x in embeddings.items()}
    dims = {lang: x.shape[1] for lang, x in space.items()}
    if len(set(dims.values())) != 1:
        raise ValueError(f"embeddings must share one hidden size, got {dims}")
    return space


def _within_distance(unit: np.ndarray) -> float:
    """Mean cosine distance over the n(n-1) ordered pairs i ≠ j of one set of unit rows."""
    n = unit.shape[0]
    if n < 2:
        warnings.warn(
            "within-language distance needs at least 2 sentences, got 1; returning NaN",
            RuntimeWarning,
            stacklevel=3,
        )
        return float("nan")
    total = unit.sum(axis=0)
    # Σ_{i≠j} <u_i, u_j> = |Σ u|² − Σ |u_i|²  (|u_i|² is 1, or 0 for a zero vector)
    off_diagonal = float(total @ total - np.einsum("ij,ij->", unit, unit))
    return 1.0 - off_diagonal / (n * (n - 1))


# --------------------------------------------------------------------------- distances


def cosine_distances(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    """Cosine distance ``1 - cos`` between every row of ``a`` and every row of ``b``.

    Used by the embedding-space chapter (paper §4) and by the other functions here.
    Equal to ``scipy.spatial.distance.cdist(a, b, "cosine")`` where that is defined;
    a zero vector is at distance 1 from everything (itself included) instead of NaN.

    Parameters
    ----------
    a : (n_a, d) array.
    b : (n_b, d) array.

    Returns
    -------
    (n_a, n_b) float64 array with values in [0, 2].

    Raises
    ------
    ValueError
        An input is not a finite non-empty 2-D array, or the dimensions differ.
    """
    a = as_matrix(a, "a")
    b = as_matrix(b, "b")
    if a.shape[1] != b.shape[1]:
        raise ValueError(f"a and b must have the same dimension, got a {a.shape} and b {b.shape}")
    sim = unit_rows(a) @ unit_rows(b).T
    return np.clip(1.0 - sim, 0.0, 2.0)


def language_distance(a: np.ndarray, b: np.ndarray, *, pairs: str = "all") -> float:
    """Mean cosine distance between two languages' sentence embeddings.

    Used by the embedding-space chapter (paper §4, Table 1) and the cross-lingual
    retrieval chapter (§5, Table 2: "mean pairwise cosine distance" d).

    Parameters
    ----------
    a : (n_a, d) embeddings of one language.
    b : (n_b, d) embeddings of the other.
    pairs : ``"all"`` (default) averages over all n_a × n_b sentence pairs, the paper's
        mean pairwise cosine distance. If ``a`` and ``b`` are the same set (the same
        object or equal arrays) the n self-pairs are left out, giving the
        within-language mean over n(n-1) pairs. ``"aligned"`` averages over translation
        pairs i ↔ i only and needs n_a == n_b.

    Returns
    -------
    float; NaN (with a RuntimeWarning) for a within-language distance of one sentence.

    Raises
    ------
    ValueError
        Unknown ``pairs``, bad shapes, or unequal n with ``pairs="aligned"``.
    """
    _check_pairs(pairs)
    a2 = as_matrix(a, "a")
    b2 = as_matrix(b, "b")
    if a2.shape[1] != b2.shape[1]:
        raise ValueError(f"a and b must have the same dimension, got a {a2.shape} and b {b2.shape}")
    ua, ub = unit_rows(a2), unit_rows(b2)
    if pairs == "aligned":
        if a2.shape[0] != b2.shape[0]:
            raise ValueError(
                f"pairs='aligned' needs a and b with the same number of sentences, "
                f"got {a2.shape[0]} and {b2.shape[0]}"
            )
        return float(np.mean(1.0 - np.einsum("ij,ij->i", ua, ub)))
    if a is b or (a2.shape == b2.shape and np.array_equal(a2, b2)):
        return _within_distance(ua)
    return float(1.0 - ua.mean(axis=0) @ ub.mean(axis=0))


def distance_matrix(embeddings: Mapping[str, np.ndarray], *, pairs: str = "all") -> pd.DataFrame:
    """Language × language mean cosine distances of one space.

    Used by the embedding-space chapter (paper §4, Table 1) and, row by row, as the
    query–candidate distance d of the retrieval chapter (§5, Table 2).

    Parameters
    ----------
    embeddings : language code → (n, d) sentence embeddings.
    pairs : ``"all"`` or ``"aligned"``, as in :func:`language_distance`, for the
        off-diagonal cells. The diagonal is always the within-language mean distance
        over all pairs of distinct sentences (self-pairs excluded), for either value.

    Returns
    -------
    Symmetric DataFrame, index and columns the language codes in mapping order
    (axis names ``language``).
    """
    _check_pairs(pairs)
    space = _check_space(embeddings)
    langs = list(space)
    units = {lang: unit_rows(x) for lang, x in space.items()}
    out = np.empty((len(langs), len(langs)), dtype=np.float64)
    if pairs == "all":
        means = np.stack([units[lang].mean(axis=0) for lang in langs])
        out[:] = 1.0 - means @ means.T
    else:
        sizes = {lang: x.shape[0] for lang, x in space.items()}
        if len(set(sizes.values())) != 1:
            raise ValueError(
                f"pairs='aligned' needs the same number of sentences per language, got {sizes}"
            )
        for i, li in enumerate(langs):
            for j in range(i + 1, len(langs)):
                lj = langs[j]
                d = float(np.mean(1.0 - np.einsum("ij,ij->i", units[li], units[lj])))
                out[i, j] = out[j, i] = d
    for i, lang in enumerate(langs):
        out[i, i] = _within_distance(units[lang])
    index = pd.Index(langs, name="language")
    return pd.DataFrame(out, index=index, columns=index.copy())


# --------------------------------------------------------------------------- medoid


def _summed_distances(unit: np.ndarray) -> np.ndarray:
    """Σ_j d(i, j) over j ≠ i for unit rows (zero rows allowed), exact and O(n·d)."""
    n = unit.shape[0]
    total = unit.sum(axis=0)
    self_sim = np.einsum("ij,ij->i", unit, unit)  # 1, or 0 for a zero vector
    # Σ_{j≠i} (1 - <u_i,u_j>) = (n - 1) - (<u_i, Σu> - <u_i,u_i>)
    return (n - 1) - (unit @ total - self_sim)


def medoid(points: np.ndarray) -> int:
    """Index of the point with the smallest summed cosine distance to all the others.

    Used by the embedding-space chapter (paper §4, Table 1 "distance to medoid").
    Vectorised through ``Σ_j (1 - <x̂_i, x̂_j>) = n - 1 - <x̂_i, Σ_j x̂_j> + |x̂_i|²``,
    which needs O(n · d) time and memory, no n × n matrix: 22 × 1012 Flores sentences
    take milliseconds. Ties go to the lowest index.

    Parameters
    ----------
    points : (n, d) array.

    Returns
    -------
    int, a row index of ``points``.
    """
    unit = unit_rows(as_matrix(points, "points"))
    return int(np.argmin(_summed_distances(unit)))


def space_medoid(embeddings: Mapping[str, np.ndarray]) -> tuple[str, int, np.ndarray]:
    """The medoid of a whole space: all sentences of all languages pooled.

    Used by the embedding-space chapter (paper §4: "the medoid of each space (pre- and
    post-intervention)").

    Parameters
    ----------
    embeddings : language code → (n, d) sentence embeddings.

    Returns
    -------
    (language, index, vector): the language the medoid sentence belongs to, its row in
    that language's array, and the medoid embedding itself (float64, shape (d,)).
    """
    space = _check_space(embeddings)
    langs = list(space)
    pooled = np.concatenate([space[lang] for lang in langs])
    k = medoid(pooled)
    offsets = np.cumsum([0] + [space[lang].shape[0] for lang in langs])
    which = int(np.searchsorted(offsets, k, side="right") - 1)
    return langs[which], int(k - offsets[which]), pooled[k].copy()


def distances_to_medoid(embeddings: Mapping[str, np.ndarray]) -> pd.Series:
    """Per language, the cosine distance from its mean embedding to the space's medoid.

    Used by the embedding-space chapter (paper §4, Table 1 "Distance to Medoid": "the
    cosine distance between the mean of the embedding for each of the 22 languages and
    the medoid of each space"). The medoid is taken over all sentences of all languages
    pooled (:func:`space_medoid`); the language mean is the plain mean of the raw
    sentence embeddings.

    Parameters
    ----------
    embeddings : language code → (n, d) sentence embeddings.

    Returns
    -------
    Series indexed by language (name ``distance_to_medoid``). ``attrs`` holds
    ``medoid_language`` and ``medoid_index`` (the medoid sentence's language and row).
    """
    space = _check_space(embeddings)
    lang, index, point = space_medoid(space)
    means = np.stack([x.mean(axis=0) for x in space.values()])
    dist = cosine_distances(means, point[None, :])[:, 0]
    out = pd.Series(dist, index=pd.Index(list(space), name="language"), name="distance_to_medoid")
    out.attrs.update(medoid_language=lang, medoid_index=index)
    return out


# --------------------------------------------------------------------------- Table 1


def table1_row(
    embeddings: Mapping[str, np.ndarray], target: str, *, pairs: str = "all"
) -> dict[str, float]:
    """The paper's Table 1 quantities for one space and one intervention target.

    Used by the embedding-space chapter (paper §4, Table 1). Call it once per space
    (pre, post) and target; average the five targets with :func:`mean_sem`.

    Definitions (D = :func:`distance_matrix` with ``pairs``; m = :func:`distances_to_medoid`;
    "others" = every language except ``target``):

    ``all_languages``
        Mean of the off-diagonal D[i, j], i < j, over the others only. Table 1 prints
        this column on the "Non-Target" row and a dash on the "Target" row, so the
        target is left out.
    ``all_languages_incl_target``
        The same over all languages, target included: the caption's reading ("pairwise
        cosine distance between the embeddings of 22 languages"). Both agree with the
        printed pre-intervention SEM of 0.00 (the pre space does not depend on the
        target, so this one is identical across targets and the first nearly so).
    ``medoid_target``
        m[target]: "the cosine distance between the mean of the embedding for each of
        the 22 languages and the medoid of each space", Target row.
    ``medoid_non_target``
        Mean of m over the others (Non-Target row).
    ``target``
        Mean of D[target, other] over the others: "distance to target refers to the
        distance between the intervention target and the remaining 21 languages".

    Parameters
    ----------
    embeddings : language code → (n, d) sentence embeddings of one space.
    target : the intervention target; must be a key of ``embeddings``.
    pairs : ``"all"`` (default; the paper's mean pairwise distance) or ``"aligned"``.

    Returns
    -------
    dict with the five keys above, floats.

    Raises
    ------
    ValueError
        ``target`` is not a language of ``embeddings``, or fewer than 3 languages (the
        others need at least one pair).
    """
    if target not in embeddings:
        raise ValueError(f"target must be one of {sorted(embeddings)}, got {target!r}")
    if len(embeddings) < 3:
        raise ValueError(
            f"embeddings must hold at least 3 languages for table1_row, got {len(embeddings)}"
        )
    space = _check_space(embeddings)  # float64 once; the calls below reuse it without copying
    dist = distance_matrix(space, pairs=pairs)
    others = [lang for lang in dist.index if lang != target]
    values = dist.to_numpy()
    upper_all = values[np.triu_indices(len(dist), k=1)]
    sub = dist.loc[others, others].to_numpy()
    upper_others = sub[np.triu_indices(len(others), k=1)]
    to_medoid = distances_to_medoid(space)
    return {
        "all_languages": float(upper_others.mean()),
        "all_languages_incl_target": float(upper_all.mean()),
        "medoid_target": float(to_medoid[target]),
        "medoid_non_target": float(to_medoid[others].mean()),
        "target": float(dist.loc[target, others].mean()),
    }


def mean_sem(values: Sequence[float] | np.ndarray) -> tuple[float, float]:
    """Mean and standard error of the mean (ddof=1), as Table 1's "mean ± SEM".

    Used by the embedding-space chapter (paper §4, Table 1: "means and standard errors
    of the mean over the five intervention targets").

    Parameters
    ----------
    values : one or more finite numbers.

    Returns
    -------
    (mean, sem); sem is NaN for a single value.

    Raises
    ------
    ValueError
        ``values`` is empty or not finite.
    """
    arr = np.asarray(values, dtype=np.float64).ravel()
    if arr.size == 0:
        raise ValueError("values must hold at least one number, got none")
    if not np.isfinite(arr).all():
        raise ValueError(f"values must be finite, got {arr.tolist()}")
    if arr.size == 1:
        return float(arr[0]), float("nan")
    return float(arr.mean()), float(arr.std(ddof=1) / np.sqrt(arr.size))


# --------------------------------------------------------------------------- UMAP


def umap_projection(
    points: np.ndarray,
    *,
    seed: int,
    n_neighbors: int = 15,
    min_dist: float = 0.1,
    metric: str = "cosine",
) -> np.ndarray:
    """Two-dimensional UMAP projection of ``points``, reproducible for a fixed seed.

    Used by the embedding-space chapter (paper §4, Fig. 3 and App. C). Fit on exactly
    the points given: stack the pre- and post-intervention embeddings together so both
    live in one projection. ``random_state=seed`` makes umap-learn single-threaded and
    deterministic.

    Parameters
    ----------
    points : (n, d) array, n ≥ 3.
    seed : random state for UMAP.
    n_neighbors : UMAP neighbourhood size; lowered to n - 1 (with a warning) when n is
        not larger than it.
    min_dist, metric : passed to ``umap.UMAP``.

    Returns
    -------
    (n, 2) float64 array.

    Raises
    ------
    ValueError
        Fewer than 3 points, or ``n_neighbors`` < 2.
    """
    x = as_matrix(points, "points")
    n = x.shape[0]
    if n < 3:
        raise ValueError(f"points must hold at least 3 rows for UMAP, got {n}")
    if n_neighbors < 2:
        raise ValueError(f"n_neighbors must be at least 2, got {n_neighbors}")
    if n_neighbors >= n:
        warnings.warn(
            f"n_neighbors={n_neighbors} is not below the {n} points; using {n - 1}",
            UserWarning,
            stacklevel=2,
        )
        n_neighbors = n - 1
    import umap  # slow import (numba); only the projection needs it

    reducer = umap.UMAP(
        n_components=2,
        n_neighbors=n_neighbors,
        min_dist=min_dist,
        metric=metric,
        random_state=seed,
        n_jobs=1,
    )
    return np.asarray(reducer.fit_transform(x), dtype=np.float64)


TABLE1_COLUMNS = {
    "all_languages": ("Non-Target", "all_languages"),
    "medoid_target": ("Target", "medoid"),
    "medoid_non_target": ("Non-Target", "medoid"),
    "target": ("Non-Target", "target"),
}


def table1(
    pre: Mapping[str, np.ndarray],
    post: Mapping[str, Mapping[str, np.ndarray]],
    *,
    pairs: str = "all",
) -> tuple[pd.DataFrame, pd.DataFrame]:
    """The paper's Table 1 for several targets: per-target values and mean ± SEM.

    Used by the embedding-space chapter. ``pre`` is the original model's space,
    ``post[target]`` the space under that target's intervention.

    Returns
    -------
    per_target : one row per (intervention_target, space) with the :func:`table1_row`
        quantities (its ``target`` column is the distance to the target).
    summary : rows (language, distance_type) as in the paper's CSV (``Target`` /
        ``Non-Target`` × ``all_languages`` / ``medoid`` / ``target``) with columns
        ``pre``, ``pre_sem``, ``post``, ``post_sem``: means and SEMs over targets.
    """
    rows = []
    for target, post_space in post.items():
        for name, space in (("pre", pre), ("post", post_space)):
            row = table1_row(space, target, pairs=pairs)
            rows.append({"intervention_target": target, "space": name, **row})
    per_target = pd.DataFrame(rows)
    summary = []
    for key, (language, distance_type) in TABLE1_COLUMNS.items():
        row = {"language": language, "distance_type": distance_type}
        for name in ("pre", "post"):
            mean, sem = mean_sem(per_target.loc[per_target["space"] == name, key].to_numpy())
            row[name], row[f"{name}_sem"] = mean, sem
        summary.append(row)
    return per_target, pd.DataFrame(summary)


UMAP_LAYOUT = {"n_neighbors": 30, "min_dist": 0.8}


def umap_pre_post(
    pre: Mapping[str, np.ndarray],
    post: Mapping[str, np.ndarray],
    *,
    n: int,
    seed: int,
) -> dict[str, tuple[np.ndarray, np.ndarray]]:
    """One UMAP of the pre and post spaces together: language → (pre_xy, post_xy).

    Used by the embedding-space and random-control chapters (paper Fig. 3, Figs. 6–20,
    27–29). The first ``n`` sentences of every language from both spaces are projected
    jointly, so the two spaces share axes. :data:`UMAP_LAYOUT` spreads each cluster
    (a large ``min_dist``): with the defaults every language collapses to a dot, since
    languages are far apart in these spaces.
    """
    langs = list(pre)
    n = min(n, *(len(pre[lang]) for lang in langs), *(len(post[lang]) for lang in langs))
    points = np.concatenate([pre[lang][:n] for lang in langs] + [post[lang][:n] for lang in langs])
    neighbours = min(UMAP_LAYOUT["n_neighbors"], len(points) - 1)  # tiny test spaces
    xy = umap_projection(points, seed=seed, **{**UMAP_LAYOUT, "n_neighbors": neighbours})
    half = len(langs) * n
    return {
        lang: (xy[i * n : (i + 1) * n], xy[half + i * n : half + (i + 1) * n])
        for i, lang in enumerate(langs)
    }


# --------------------------------------------------------------------------- intervals

TABLE1_QUANTITIES = ("all_languages", "medoid_target", "medoid_non_target", "target")
#: the space's centre (the normalised sum of all sentences' unit vectors, which the
#: medoid sentence estimates; a smooth statistic where the medoid jumps between sentences)
CENTRE_QUANTITIES = ("centre_target", "centre_non_target")


def _resampled_means(space: dict[str, np.ndarray], weights: np.ndarray) -> tuple[dict, dict]:
    """Per language, the weighted mean unit vector and the weighted mean embedding under
    each row of ``weights`` ((B, n) row multiplicities, rows summing to n): (B, d) each."""
    n = weights.shape[1]
    unit_means, raw_means = {}, {}
    for lang, x in space.items():
        unit_means[lang] = weights @ unit_rows(x) / n
        raw_means[lang] = weights @ x / n
    return unit_means, raw_means


def _resampled_medoid(space: dict[str, np.ndarray], unit_means: dict, weights: np.ndarray):
    """The medoid of the pooled space under each resample: the sentence (among those
    drawn) whose unit vector is most similar to the sum of all drawn unit vectors (see
    :func:`medoid`). Returns its embedding, (B, d), and its identity, (B,) integers
    (the row in the pooled space)."""
    total = sum(unit_means.values())  # (B, d): Σ_languages weighted mean unit vector
    best_score = np.full(weights.shape[0], -np.inf)
    best = np.zeros((weights.shape[0], total.shape[1]))
    which = np.zeros(weights.shape[0], dtype=np.int64)
    offset = 0
    for x in space.values():
        scores = unit_rows(x) @ total.T  # (n, B)
        scores[(weights == 0).T] = -np.inf
        row = np.argmax(scores, axis=0)
        value = scores[row, np.arange(weights.shape[0])]
        better = value > best_score
        best_score[better] = value[better]
        best[better] = x[row[better]]
        which[better] = offset + row[better]
        offset += x.shape[0]
    return best, which


def _cosine_rows(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    """Row-wise cosine similarity of two (B, d) arrays."""
    return np.einsum("bd,bd->b", unit_rows(a), unit_rows(b))


def table1_resampled(
    spaces: Mapping[str, Mapping[str, np.ndarray]],
    targets: Sequence[str],
    *,
    reference: str = "pre",
    n_boot: int,
    seed: int = 0,
) -> dict[tuple[str, str, str], np.ndarray]:
    """Table 1's quantities in several spaces, on the data and on bootstrap resamples of
    the aligned sentences: the independent unit of a distance between languages.

    Used by the embedding-space and random-control chapters (paper §4 and §7) for the
    intervals of Table 1 and of its changes. Every space must hold the same languages
    with the same aligned rows (row i of every language is the same sentence); one
    resample draws rows with replacement and applies them to every language and every
    space, so changes between spaces are paired. The medoid is recomputed on each
    resample.

    Parameters
    ----------
    spaces : label → space (language → (n, d) embeddings), e.g. ``{"pre": ..., "es":
        ...}``; ``reference`` must be one of the labels.
    targets : the intervention targets the quantities are computed for.
    reference : the label of the original space, for ``new_space``.
    n_boot, seed : resamples and the seed that draws them.

    Returns
    -------
    dict (label, target, quantity) → (1 + n_boot,) float64 array: index 0 is the value
    on the data (equal to :func:`table1_row`), the rest the resamples. Quantities are
    :data:`TABLE1_QUANTITIES` and :data:`CENTRE_QUANTITIES`, plus

    - ``to_target:<X>``: the distance of language X to the target (one per other
      language: "all languages are closer to the target" is a claim about each);
    - ``new_space``: for each other language X, how much more its distance to the
      *reference* space's target changed than its distance to the reference space's
      other languages, ``Δd(X, T) − mean_{Y ≠ T, X} Δd(X, Y)`` with
      ``Δd(X, Y) = d(X here, Y in reference) − d(X in reference, Y in reference)``,
      averaged over X: negative where the languages approach the target's *original*
      place more than any other language's (the paper's "rather than moving them closer
      to the embeddings of the target language in the unintervened space"); zero where
      the space merely contracts alike towards every original language;
    - ``medoid_same``: 1 where the resample's medoid is the same sentence as on the
      data, else 0 (the medoid is an argmax: how stable it is).
    """
    from steerspace.metrics.inference import resample_counts

    if reference not in spaces:
        raise ValueError(f"reference {reference!r} must be one of the spaces {list(spaces)}")
    checked = {label: _check_space(space) for label, space in spaces.items()}
    langs = list(checked[reference])
    sizes = {x.shape[0] for space in checked.values() for x in space.values()}
    if len(sizes) != 1 or any(list(space) != langs for space in checked.values()):
        raise ValueError("every space must hold the same languages with the same number of rows")
    missing = [t for t in targets if t not in langs]
    if missing:
        raise ValueError(f"targets {missing} are not languages of the spaces {langs}")
    n = sizes.pop()
    weights = np.vstack([np.ones((1, n)), resample_counts(n, n_boot=n_boot, seed=seed)])
    ref_units, _ = _resampled_means(checked[reference], weights)

    def dist(a: np.ndarray, b: np.ndarray) -> np.ndarray:
        return 1.0 - np.einsum("bd,bd->b", a, b)

    ref_dist = {(x, y): dist(ref_units[x], ref_units[y]) for x in langs for y in langs}
    out: dict[tuple[str, str, str], np.ndarray] = {}
    for label, space in checked.items():
        units, raws = _resampled_means(space, weights)
        medoid_point, medoid_id = _resampled_medoid(space, units, weights)
        to_medoid = {lang: 1.0 - _cosine_rows(raws[lang], medoid_point) for lang in langs}
        centre = sum(units.values())
        to_centre = {lang: 1.0 - _cosine_rows(raws[lang], centre) for lang in langs}
        shift = {
            (x, y): dist(units[x], ref_units[y]) - ref_dist[x, y] for x in langs for y in langs
        }
        for target in targets:
            others = [lang for lang in langs if lang != target]
            pair_dist = [
                dist(units[a], units[b]) for i, a in enumerate(others) for b in others[i + 1 :]
            ]
            to_target = {o: dist(units[o], units[target]) for o in others}
            contrast = [
                shift[x, target] - np.mean([shift[x, y] for y in others if y != x], axis=0)
                for x in others
            ]
            out[label, target, "all_languages"] = np.mean(pair_dist, axis=0)
            out[label, target, "medoid_target"] = to_medoid[target]
            out[label, target, "medoid_non_target"] = np.mean(
                [to_medoid[o] for o in others], axis=0
            )
            out[label, target, "target"] = np.mean(list(to_target.values()), axis=0)
            out[label, target, "centre_target"] = to_centre[target]
            out[label, target, "centre_non_target"] = np.mean(
                [to_centre[o] for o in others], axis=0
            )
            out[label, target, "new_space"] = np.mean(contrast, axis=0)
            out[label, target, "medoid_same"] = (medoid_id == medoid_id[0]).astype(np.float64)
            for other, values in to_target.items():
                out[label, target, f"to_target:{other}"] = values
        # one space's resampled means alive at a time: (1 + n_boot, d) per language, each
        # way (0.1 GB for 8 languages at 1000 resamples), not two while the next is made
        del units, raws, medoid_point, to_medoid, centre, to_centre, shift
    return out


def nearest_original(pre: Mapping[str, np.ndarray], post: Mapping[str, np.ndarray]) -> pd.DataFrame:
    """Where each language lands after an intervention: the language of the original
    space (``pre``) nearest to it (all-pairs mean cosine distance between the post
    language's sentences and the pre language's).

    Used by the embedding-space chapter (paper §4: "into a new space, rather than moving
    them closer to the embeddings of the target language in the unintervened space").
    One row per language of ``post``: ``nearest`` (a language of ``pre``), ``distance``
    (to it), ``own`` (the distance to the same language in ``pre``).
    """
    pre_space, post_space = _check_space(pre), _check_space(post)
    pre_langs = list(pre_space)
    pre_means = np.stack([unit_rows(x).mean(axis=0) for x in pre_space.values()])
    rows = []
    for lang, x in post_space.items():
        d = 1.0 - pre_means @ unit_rows(x).mean(axis=0)
        best = int(np.argmin(d))
        own = float(d[pre_langs.index(lang)]) if lang in pre_space else float("nan")
        rows.append(
            {"language": lang, "nearest": pre_langs[best], "distance": float(d[best]), "own": own}
        )
    return pd.DataFrame(rows).set_index("language")

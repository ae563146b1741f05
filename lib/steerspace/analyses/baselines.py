"""Training-free baselines for the intervention: cheap post-hoc transforms of a space.

Used by the chapter "Is steering more than re-centering?". A reviewer's question: do
simple transformations of the *original* embeddings do what the paper credits the
intervention with (languages pulled together, better cross-lingual retrieval)? Three
classic ones are implemented here, each fitted on the space it transforms (all its
languages' rows together):

``language_centering``
    subtract each language's mean embedding from that language's rows (removes every
    language-specific offset, the common mean included);
``all_but_the_top``
    subtract the global mean and project out the top principal components (Mu &
    Viswanath, 2018, "All-but-the-Top"), fitted on the union of all languages' rows;
``standardise``
    z-score every dimension over the union of all rows (zero mean, unit variance), which
    shrinks the few huge dimensions of mean-pooled base-LM states.

A *space* is a mapping language → (n_sentences, d) array whose rows are aligned: row i
is the same sentence (verse) in every language. Everything is vectorised numpy over
the stacked (n_languages, n, d) array; results are float64.

The second half describes *what* each baseline removes (:func:`removed_directions`) and
how the intervention's mean shift relates to it (:func:`shift_alignment`,
:func:`translation_share`), and summarises the per-dimension energy of a space
(:func:`dimension_shares`, :func:`top_dimensions`, :func:`space_statistics`).
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass, field

import numpy as np
import pandas as pd
from scipy.linalg import eigh

from steerspace.metrics.geometry import Space, as_matrix, unit_rows
from steerspace.metrics.inference import (
    Estimate,
    bootstrap_hits,
    paired_hits_delta,
    resample_counts,
)
from steerspace.metrics.retrieval import SCORES
from steerspace.text.format import fmt, fmt_ci
from steerspace.text.statements import as_estimate, decided, per_unit, value_range

__all__ = [
    "BASELINES",
    "Directions",
    "VIEWS",
    "accuracy_intervals",
    "alignment_table",
    "baseline_labels",
    "best_baseline",
    "combination_intervals",
    "combination_values",
    "all_but_the_top",
    "all_pairs_hits",
    "all_pairs_top1",
    "anisotropy_values",
    "apply_baseline",
    "center_languages",
    "check_space",
    "default_n_components",
    "distance_cells",
    "distance_intervals",
    "distance_values",
    "dimension_shares",
    "method_table",
    "pair_deltas",
    "paired_change",
    "principal_components",
    "removed_directions",
    "score_conditions",
    "shift_alignment",
    "shift_values",
    "sign_values",
    "similarity_values",
    "space_statistics",
    "statistics_table",
    "standardise",
    "sweep_intervals",
    "sweep_values",
    "target_changes",
    "top_dimensions",
    "transform",
    "translation_share",
    "translation_share_intervals",
    "versus_values",
    "view_hits",
]


# --------------------------------------------------------------------------- input


def check_space(space: Space, name: str = "space") -> dict[str, np.ndarray]:
    """A validated float64 copy of ``space``: ≥ 1 language, all of one shape (n, d).

    Raises ``ValueError`` (one line) for an empty mapping, a non-2-D, empty or
    non-finite array, or languages with different row counts or dimensions (rows must
    be aligned across languages).
    """
    if not isinstance(space, Mapping) or len(space) == 0:
        raise ValueError(f"{name} must map at least one language to an array, got {space!r}")
    out = {lang: as_matrix(x, f"{name}[{lang!r}]") for lang, x in space.items()}
    shapes = {lang: x.shape for lang, x in out.items()}
    if len(set(shapes.values())) != 1:
        raise ValueError(
            f"{name} must hold aligned languages of one shape (n_sentences, dim), got {shapes}"
        )
    return out


def _stack(space: Space, name: str = "space") -> tuple[list[str], np.ndarray]:
    """Languages and the (n_languages, n, d) stack of a validated space."""
    checked = check_space(space, name)
    langs = list(checked)
    return langs, np.stack([checked[lang] for lang in langs])


def _unstack(langs: list[str], stack: np.ndarray) -> dict[str, np.ndarray]:
    return {lang: stack[i] for i, lang in enumerate(langs)}


def _check_pair(pre: Space, post: Space) -> tuple[list[str], np.ndarray, np.ndarray]:
    langs, a = _stack(pre, "pre")
    langs_post, b = _stack(post, "post")
    if langs != langs_post or a.shape != b.shape:
        raise ValueError(
            f"pre and post must hold the same languages in the same order and shape, got "
            f"{langs} {a.shape[1:]} and {langs_post} {b.shape[1:]}"
        )
    return langs, a, b


# --------------------------------------------------------------------------- baselines


def default_n_components(dim: int) -> int:
    """All-but-the-top's rule of thumb: about d/100 components, at least 1 (6 for
    Gemma-3-270M's 640 dimensions, 41 for a 4096-dimensional 7–8B model)."""
    if dim < 2:
        raise ValueError(f"dim must be at least 2 to remove a component, got {dim}")
    return max(1, round(dim / 100))


def principal_components(
    space: Space, n_components: int
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Global mean and top principal components of all languages' rows pooled.

    The components are the leading eigenvectors of the pooled covariance (only the top
    ``n_components`` are computed, so a 4096-dimensional space costs one d × d product
    and a partial eigendecomposition). Signs are fixed so that each component's
    largest-magnitude coordinate is positive.

    Returns
    -------
    (mean, components, explained): the (d,) mean, a (n_components, d) array with
    orthonormal rows in decreasing order of variance, and each component's share of the
    total variance.

    Raises
    ------
    ValueError
        ``n_components`` not in 1 … d − 1, or not below the number of pooled rows.
    """
    _, stack = _stack(space)
    rows = stack.reshape(-1, stack.shape[-1])
    n_rows, dim = rows.shape
    if not isinstance(n_components, int | np.integer) or not 1 <= n_components < dim:
        raise ValueError(
            f"n_components must be an integer in 1..{dim - 1} (d={dim}), got {n_components!r}"
        )
    if n_components >= n_rows:
        raise ValueError(f"n_components must be below the {n_rows} pooled rows, got {n_components}")
    mean = rows.mean(axis=0)
    centered = rows - mean
    cov = centered.T @ centered / n_rows
    total = float(np.trace(cov))
    values, vectors = eigh(cov, subset_by_index=[dim - n_components, dim - 1])
    order = np.argsort(values)[::-1]
    components = vectors[:, order].T
    biggest = np.argmax(np.abs(components), axis=1)
    components *= np.sign(components[np.arange(n_components), biggest])[:, None]
    explained = values[order] / total if total > 0 else np.zeros(n_components)
    return mean, components, np.clip(explained, 0.0, None)


def center_languages(space: Space) -> dict[str, np.ndarray]:
    """Subtract each language's mean embedding from its rows (language centering).

    Afterwards every language's mean is the zero vector; the within-language geometry
    is untouched. Raises ``ValueError`` on a bad space (see :func:`check_space`).
    """
    langs, stack = _stack(space)
    return _unstack(langs, stack - stack.mean(axis=1, keepdims=True))


def all_but_the_top(space: Space, n_components: int | None = None) -> dict[str, np.ndarray]:
    """Subtract the global mean and project out the top ``n_components`` principal
    components, fitted on the union of all languages' rows (Mu & Viswanath, 2018).

    ``n_components=None`` uses :func:`default_n_components` (≈ d/100). The pooled
    result has zero mean, is orthogonal to the removed components, and its rank is the
    centered matrix's rank minus ``n_components``.

    Raises ``ValueError`` on a bad space or ``n_components`` (see
    :func:`principal_components`).
    """
    langs, stack = _stack(space)
    if n_components is None:
        n_components = default_n_components(stack.shape[-1])
    mean, components, _ = principal_components(_unstack(langs, stack), n_components)
    centered = stack - mean
    out = centered - (centered @ components.T) @ components
    return _unstack(langs, out)


def standardise(space: Space) -> dict[str, np.ndarray]:
    """Z-score every dimension over all languages' rows pooled: zero mean and unit
    variance (population, ddof=0) per dimension. A constant dimension becomes 0.

    Raises ``ValueError`` on a bad space (see :func:`check_space`).
    """
    langs, stack = _stack(space)
    rows = stack.reshape(-1, stack.shape[-1])
    mean, sd = rows.mean(axis=0), rows.std(axis=0)
    out = np.divide(stack - mean, sd, out=np.zeros_like(stack), where=sd > 0)
    return _unstack(langs, out)


BASELINES: dict[str, Callable[..., dict[str, np.ndarray]]] = {
    "language_centering": center_languages,
    "all_but_the_top": all_but_the_top,
    "standardise": standardise,
}


def apply_baseline(name: str, space: Space, **kwargs) -> dict[str, np.ndarray]:
    """Apply the baseline called ``name`` (a key of :data:`BASELINES`) to ``space``;
    ``kwargs`` go to its function (``n_components`` for ``all_but_the_top``)."""
    if name not in BASELINES:
        raise ValueError(f"baseline must be one of {list(BASELINES)}, got {name!r}")
    return BASELINES[name](space, **kwargs)


# --------------------------------------------------------------------------- retrieval


def all_pairs_hits(space: Space, *, score: str = "dot", dtype: type = np.float64) -> np.ndarray:
    """Per-query top-1 hits for every query × candidate language pair of one aligned
    space: ``hits[i, j, r]`` says whether sentence r of language i, as a query, finds
    its translation among language j's sentences (the candidate i of
    :func:`steerspace.metrics.retrieval.top1_hits`; ties go to the first candidate). The
    diagonal i == j is False (not a pair).

    Computed with one (n × L·n) product per query language instead of L² small ones.

    Parameters
    ----------
    space : language → (n, d) array, rows aligned across languages.
    score : ``"dot"`` (inner product, the paper's) or ``"cosine"``.
    dtype : precision of the products: ``np.float64`` (default, as ``retrieval_matrix``)
        or ``np.float32`` (about twice as fast; can break a near-tie differently).

    Returns
    -------
    (L, L, n) bool array, languages in the space's order.
    """
    if score not in SCORES:
        raise ValueError(f"score must be one of {SCORES}, got {score!r}")
    _, stack = _stack(space)
    n_langs, n, dim = stack.shape
    if score == "cosine":
        stack = unit_rows(stack.reshape(-1, dim)).reshape(n_langs, n, dim)
    stack = stack.astype(dtype, copy=False)
    candidates = stack.reshape(-1, dim).T  # (d, L·n)
    out = np.empty((n_langs, n_langs, n), dtype=bool)
    rows = np.arange(n)[:, None]
    for i in range(n_langs):  # one query language at a time bounds memory to n × L·n
        best = (stack[i] @ candidates).reshape(n, n_langs, n).argmax(axis=2)
        out[i] = (best == rows).T
        out[i, i] = False
    return out


def all_pairs_top1(space: Space, *, score: str = "dot", dtype: type = np.float64) -> pd.DataFrame:
    """Top-1 accuracy for every query × candidate language pair of one aligned space.

    The numbers of :func:`steerspace.metrics.retrieval.retrieval_matrix` with all languages as
    queries and candidates (NaN where query == candidate): the mean of
    :func:`all_pairs_hits` (see there for the parameters).

    Returns
    -------
    DataFrame, index ``query``, columns ``candidate`` (the space's languages in order).
    """
    langs = list(check_space(space))
    out = all_pairs_hits(space, score=score, dtype=dtype).mean(axis=2)
    np.fill_diagonal(out, np.nan)
    return pd.DataFrame(
        out,
        index=pd.Index(langs, name="query"),
        columns=pd.Index(langs, name="candidate"),
    )


VIEWS = ("target as query", "all pairs")


def view_hits(hits: np.ndarray, languages: list[str], target: str, view: str) -> np.ndarray:
    """The (queries, pairs) hits one summary of :func:`all_pairs_hits` averages:
    ``"target as query"`` (the target's row, the paper's §5 setting) or ``"all pairs"``
    (every ordered pair of distinct languages). Rows are the aligned sentences, the
    unit an interval resamples."""
    if view not in VIEWS:
        raise ValueError(f"view must be one of {VIEWS}, got {view!r}")
    if target not in languages:
        raise ValueError(f"target must be one of {languages}, got {target!r}")
    if view == "target as query":
        i = languages.index(target)
        return hits[i, [j for j in range(len(languages)) if j != i]].T
    off = ~np.eye(len(languages), dtype=bool)
    return hits[off].T


def transform(name: str, space: Space, *, n_components: int) -> dict[str, np.ndarray]:
    """``space`` under baseline ``name`` (``"none"``: unchanged), as float32; all-but-the-top
    removes ``n_components`` components."""
    if name == "none":
        return dict(space)
    kwargs = {"n_components": n_components} if name == "all_but_the_top" else {}
    return {lang: x.astype(np.float32) for lang, x in apply_baseline(name, space, **kwargs).items()}


def score_conditions(
    pre: Space,
    post: Mapping[str, Space],
    *,
    n_components: int,
    scores: tuple[str, ...] = SCORES,
) -> dict[tuple[str, str, str], np.ndarray]:
    """:func:`all_pairs_hits` of every condition the baselines chapter compares.

    Keys are (space, baseline, score): space ``"pre"`` (the original model) or a target
    (the space under that target's intervention), baseline ``"none"`` or a key of
    :data:`BASELINES` fitted on that space.
    """
    out = {}
    for label, source in {"pre": pre, **post}.items():
        for name in ["none", *BASELINES]:
            space = transform(name, source, n_components=n_components)
            for score in scores:
                out[label, name, score] = all_pairs_hits(space, score=score)
    return out


def accuracy_intervals(
    hits: Mapping[tuple[str, str, str], np.ndarray],
    languages: list[str],
    targets: list[str],
    *,
    n_boot: int,
    seed: int = 0,
) -> pd.DataFrame:
    """Top-1 accuracy of every condition of :func:`score_conditions`, per target and
    view, with its 95 % interval over the queries (aligned sentences).

    Returns a long DataFrame: ``target``, ``view``, ``score``, ``space`` (``pre`` or
    ``post``: the target's intervention), ``baseline``, ``value``, ``low``, ``high``,
    ``n`` (queries).
    """
    rows = []
    for (label, name, score), matrix in hits.items():
        for target in targets if label == "pre" else [label]:
            for view in VIEWS:
                est = bootstrap_hits(
                    view_hits(matrix, languages, target, view), n_boot=n_boot, seed=seed
                )
                rows.append(
                    {
                        "target": target,
                        "view": view,
                        "score": score,
                        "space": "pre" if label == "pre" else "post",
                        "baseline": name,
                        **est.as_dict(),
                    }
                )
    return pd.DataFrame(rows)


def paired_change(
    hits: Mapping[tuple[str, str, str], np.ndarray],
    languages: list[str],
    target: str,
    view: str,
    score: str,
    before: tuple[str, str],
    after: tuple[str, str],
    *,
    n_boot: int,
    seed: int = 0,
) -> Estimate:
    """Change of top-1 accuracy from condition ``before`` to ``after`` (each a (space,
    baseline) key of :func:`score_conditions`) on the same queries, with a paired
    bootstrap over the queries (:func:`steerspace.metrics.inference.paired_hits_delta`)."""
    a = view_hits(hits[(*before, score)], languages, target, view)
    b = view_hits(hits[(*after, score)], languages, target, view)
    return paired_hits_delta(a, b, n_boot=n_boot, seed=seed)


def distance_intervals(
    pre: Space,
    post: Mapping[str, Space],
    *,
    n_components: int,
    n_boot: int,
    seed: int = 0,
) -> pd.DataFrame:
    """Table 1's distances of every condition (the original and each intervened space,
    each also under every baseline), per target, with 95 % intervals that resample the
    aligned sentences (:func:`steerspace.metrics.geometry.table1_resampled`), and each
    condition's change against the original space (paired).

    The distances *to the medoid* compare a language's mean embedding with the medoid;
    after language centering every language mean is the zero vector, whose cosine with
    anything is round-off noise, so they are NaN for the conditions with language
    centering.

    Returns a long DataFrame: ``target``, ``space`` (pre/post), ``baseline``,
    ``quantity`` (:data:`steerspace.metrics.geometry.TABLE1_QUANTITIES`), ``value``, ``low``,
    ``high``, ``change``, ``change_low``, ``change_high``.
    """
    from steerspace.metrics.geometry import TABLE1_QUANTITIES, table1_resampled
    from steerspace.metrics.inference import percentile_interval

    names = ["none", *BASELINES]
    spaces = {f"pre|{b}": transform(b, pre, n_components=n_components) for b in names}
    for target, space in post.items():
        spaces |= {f"{target}|{b}": transform(b, space, n_components=n_components) for b in names}
    # one call: each space's resampled means and medoid are computed once, for all targets
    samples = table1_resampled(spaces, list(post), reference="pre|none", n_boot=n_boot, seed=seed)
    rows = []
    for target in post:
        for which, label in [("pre", f"pre|{b}") for b in names] + [
            ("post", f"{target}|{b}") for b in names
        ]:
            name = label.split("|")[1]
            for quantity in TABLE1_QUANTITIES:
                if name == "language_centering" and quantity.startswith("medoid"):
                    values = np.full(n_boot + 1, np.nan)
                else:
                    values = samples[label, target, quantity]
                change = values - samples["pre|none", target, quantity]
                low, high = percentile_interval(values[1:])
                change_low, change_high = percentile_interval(change[1:])
                rows.append(
                    {
                        "target": target,
                        "space": which,
                        "baseline": name,
                        "quantity": quantity,
                        "value": values[0],
                        "low": low,
                        "high": high,
                        "change": change[0],
                        "change_low": change_low,
                        "change_high": change_high,
                    }
                )
    return pd.DataFrame(rows)


# --------------------------------------------------------------------------- statistics


def dimension_shares(space: Space) -> pd.DataFrame:
    """Per dimension, its share of the mean squared norm and of the total variance.

    ``norm_share[j] = mean_i x_ij² / Σ_j mean_i x_ij²`` over all rows pooled (a
    dimension with a huge constant offset dominates it); ``variance_share[j] =
    var_j / Σ_j var_j``. Both sum to 1 (0 everywhere for an all-zero space).

    Returns a DataFrame indexed by ``dimension`` (0 … d − 1).
    """
    _, stack = _stack(space)
    rows = stack.reshape(-1, stack.shape[-1])
    squares = np.einsum("ij,ij->j", rows, rows) / rows.shape[0]
    variances = rows.var(axis=0)

    def share(v: np.ndarray) -> np.ndarray:
        total = v.sum()
        return v / total if total > 0 else np.zeros_like(v)

    return pd.DataFrame(
        {"norm_share": share(squares), "variance_share": share(variances)},
        index=pd.Index(np.arange(rows.shape[1]), name="dimension"),
    )


def top_dimensions(space: Space, n: int = 5, *, by: str = "norm_share") -> pd.DataFrame:
    """The ``n`` dimensions with the largest share (``by``: ``"norm_share"`` or
    ``"variance_share"``), with both shares and the cumulative share of ``by``.

    Returns a DataFrame indexed by ``rank`` (1 … n) with columns ``dimension``,
    ``norm_share``, ``variance_share`` and ``cumulative``.
    """
    if by not in ("norm_share", "variance_share"):
        raise ValueError(f"by must be 'norm_share' or 'variance_share', got {by!r}")
    shares = dimension_shares(space)
    if not 1 <= n <= len(shares):
        raise ValueError(f"n must be in 1..{len(shares)}, got {n}")
    top = shares.sort_values(by, ascending=False, kind="stable").head(n).reset_index()
    top["cumulative"] = top[by].cumsum()
    top.index = pd.Index(np.arange(1, n + 1), name="rank")
    return top


def space_statistics(space: Space, n_top: int = 5) -> dict[str, float]:
    """One-line anisotropy summary of a space.

    Keys: ``mean_norm`` and ``median_norm`` (row L2 norms), ``top1_norm_share`` and
    ``top{n}_norm_share`` (share of the mean squared norm in the largest one / ``n_top``
    dimensions), the same for variance, ``mean_cosine`` (mean cosine similarity of two
    rows drawn from the pooled space, self-pairs included; ≈ 1 when one common
    direction dominates) and ``effective_dim`` (participation ratio of the covariance
    eigenvalues, (Σλ)²/Σλ²: 1 for one direction, d for isotropic).
    """
    _, stack = _stack(space)
    rows = stack.reshape(-1, stack.shape[-1])
    n_top = min(n_top, rows.shape[1])
    norms = np.sqrt(np.einsum("ij,ij->i", rows, rows))
    shares = dimension_shares(space)
    norm_sorted = np.sort(shares["norm_share"].to_numpy())[::-1]
    var_sorted = np.sort(shares["variance_share"].to_numpy())[::-1]
    units = np.divide(rows, norms[:, None], out=np.zeros_like(rows), where=norms[:, None] > 0)
    mean_unit = units.mean(axis=0)
    centered = rows - rows.mean(axis=0)
    # eigenvalues of the covariance via the smaller Gram side; only Σλ and Σλ² are needed
    gram = centered.T @ centered if rows.shape[0] >= rows.shape[1] else centered @ centered.T
    total, squared = float(np.trace(gram)), float(np.einsum("ij,ij->", gram, gram))
    return {
        "mean_norm": float(norms.mean()),
        "median_norm": float(np.median(norms)),
        "top1_norm_share": float(norm_sorted[0]),
        f"top{n_top}_norm_share": float(norm_sorted[:n_top].sum()),
        "top1_variance_share": float(var_sorted[0]),
        f"top{n_top}_variance_share": float(var_sorted[:n_top].sum()),
        "mean_cosine": float(mean_unit @ mean_unit),
        "effective_dim": total**2 / squared if squared > 0 else 0.0,
    }


# --------------------------------------------------------------------------- alignment


@dataclass(frozen=True)
class Directions:
    """What a baseline removes, as directions in the embedding space.

    Attributes
    ----------
    baseline : the baseline's name.
    shared : (m, d) array of directions removed from every row (rows need not be
        orthonormal; a span is taken).
    labels : one name per row of ``shared``.
    own : language → (d,) direction removed only from that language's rows (language
        centering's language means); empty for the other baselines.
    """

    baseline: str
    shared: np.ndarray
    labels: tuple[str, ...]
    own: dict[str, np.ndarray] = field(default_factory=dict)


def removed_directions(
    name: str,
    space: Space,
    *,
    n_components: int | None = None,
    n_dimensions: int | None = None,
) -> Directions:
    """The direction(s) the baseline ``name`` removes when fitted on ``space``.

    - ``language_centering``: each language's mean vector (``own``), and, shared, the
      global mean (the mean of the language means);
    - ``all_but_the_top``: the top ``n_components`` principal components (default
      :func:`default_n_components`), ``pc1`` first; the global mean it also subtracts is
      a translation, not a direction, and is left out;
    - ``standardise``: the unit axes of the ``n_dimensions`` highest-variance dimensions
      (default as ``n_components``), the ones z-scoring shrinks most.
    """
    if name not in BASELINES:
        raise ValueError(f"baseline must be one of {list(BASELINES)}, got {name!r}")
    langs, stack = _stack(space)
    dim = stack.shape[-1]
    if name == "language_centering":
        means = stack.mean(axis=1)
        return Directions(
            name, means.mean(axis=0)[None, :], ("global mean",), _unstack(langs, means)
        )
    k = default_n_components(dim) if n_components is None else n_components
    if name == "all_but_the_top":
        _, components, _ = principal_components(_unstack(langs, stack), k)
        return Directions(name, components, tuple(f"pc{i + 1}" for i in range(k)))
    k = k if n_dimensions is None else n_dimensions
    if not 1 <= k < dim:
        raise ValueError(f"n_dimensions must be an integer in 1..{dim - 1} (d={dim}), got {k!r}")
    variances = stack.reshape(-1, dim).var(axis=0)
    top = np.argsort(variances, kind="stable")[::-1][:k]
    return Directions(name, np.eye(dim)[top], tuple(f"dim {j}" for j in top))


def _span_fraction(vectors: np.ndarray, basis: np.ndarray) -> tuple[np.ndarray, int]:
    """Norm fraction of each row of ``vectors`` inside the span of ``basis``'s rows, and
    the span's dimension."""
    u, s, _ = np.linalg.svd(basis.T, full_matrices=False)
    rank = int((s > s.max() * 1e-10).sum()) if s.size and s.max() > 0 else 0
    q = u[:, :rank]
    inside = np.linalg.norm(vectors @ q, axis=1)
    norms = np.linalg.norm(vectors, axis=1)
    return np.divide(inside, norms, out=np.full_like(norms, np.nan), where=norms > 0), rank


def _cosine(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    """Row-wise cosine of two (m, d) arrays; NaN where a row is zero."""
    num = np.einsum("ij,ij->i", a, b)
    den = np.linalg.norm(a, axis=1) * np.linalg.norm(b, axis=1)
    return np.divide(num, den, out=np.full_like(num, np.nan), where=den > 0)


def shift_alignment(pre: Space, post: Space, directions: Directions) -> pd.DataFrame:
    """How the intervention's mean shift lines up with what a baseline removes.

    The shift of language ℓ is ``δ_ℓ = mean(post_ℓ) − mean(pre_ℓ)``; the pooled shift is
    the mean of the δ_ℓ. For each row (every language, then ``pooled``):

    ``shift_norm``
        ‖δ‖.
    ``cosine``
        signed cosine between δ and the row's first direction: the language's own mean
        for language centering (its global mean for ``pooled``), ``pc1`` or the top
        dimension's axis otherwise (these have a fixed sign convention, so read
        ``abs``). −1: the intervention moves straight against that direction.
    ``span_fraction``
        ‖P δ‖ / ‖δ‖, the share of the shift's norm inside the span of the row's
        directions (own and shared): 1 when the shift lies in the removed span, 0 when
        orthogonal to it.
    ``chance``
        √(m / d) for a span of dimension m: about the span fraction of a random
        direction, for scale.

    Returns a DataFrame indexed by ``language``.
    """
    langs, a, b = _check_pair(pre, post)
    dim = a.shape[-1]
    shared = np.atleast_2d(np.asarray(directions.shared, dtype=np.float64))
    if shared.size and shared.shape[1] != dim:
        raise ValueError(f"directions must have dimension {dim}, got {shared.shape}")
    missing = [lang for lang in directions.own if lang not in langs]
    if missing:
        raise ValueError(f"directions.own has languages {missing} that the spaces do not have")
    shifts = b.mean(axis=1) - a.mean(axis=1)  # (L, d)
    pooled = shifts.mean(axis=0, keepdims=True)
    all_shifts = np.concatenate([shifts, pooled])
    labels = [*langs, "pooled"]
    if directions.own:
        own = np.stack([directions.own[lang] for lang in langs])
        first = np.concatenate([own, own.mean(axis=0, keepdims=True)])
    else:
        first = np.repeat(shared[:1], len(labels), axis=0)
    fractions, ranks = np.empty(len(labels)), np.empty(len(labels), dtype=int)
    for i, lang in enumerate(labels):  # one small SVD per language, not per sentence
        basis = [shared] if shared.size else []
        if directions.own and lang != "pooled":
            basis.append(directions.own[lang][None, :])
        elif directions.own:
            basis.append(first[-1][None, :])
        frac, rank = _span_fraction(all_shifts[i : i + 1], np.concatenate(basis))
        fractions[i], ranks[i] = frac[0], rank
    return pd.DataFrame(
        {
            "shift_norm": np.linalg.norm(all_shifts, axis=1),
            "cosine": _cosine(all_shifts, first),
            "span_fraction": fractions,
            "chance": np.sqrt(ranks / dim),
        },
        index=pd.Index(labels, name="language"),
    )


def translation_share(pre: Space, post: Space) -> pd.Series:
    """Share of the intervention's displacement that is a pure translation.

    Per language, ``‖δ_ℓ‖² / mean_i ‖post_ℓi − pre_ℓi‖²`` with δ_ℓ the language's mean
    shift: 1 when every sentence of the language moves by the same vector (language
    centering of the post space then undoes the intervention exactly), near 0 when its
    sentences move in different directions. ``pooled`` is the same over all languages
    (Σ_ℓ ‖δ_ℓ‖² / Σ_ℓ mean_i ‖…‖²: the part each language's own translation explains);
    ``common`` uses one translation shared by all rows (the part subtracting the global
    mean undoes). NaN when nothing moved.
    """
    langs, a, b = _check_pair(pre, post)
    moves = b - a
    mean_sq = np.einsum("lnd,lnd->l", moves, moves) / moves.shape[1]
    shifts = moves.mean(axis=1)
    shift_sq = np.einsum("ld,ld->l", shifts, shifts)
    common = shifts.mean(axis=0)
    num = np.append(shift_sq, [shift_sq.sum(), len(langs) * (common @ common)])
    den = np.append(mean_sq, [mean_sq.sum(), mean_sq.sum()])
    values = np.divide(num, den, out=np.full_like(num, np.nan), where=den > 0)
    return pd.Series(
        values,
        index=pd.Index([*langs, "pooled", "common"], name="language"),
        name="translation_share",
    )


def translation_share_intervals(
    pre: Space, post: Space, *, n_boot: int, seed: int = 0
) -> pd.DataFrame:
    """:func:`translation_share` with 95 % intervals that resample the aligned sentences
    (a resample draws the same rows in every language and in both spaces; basic
    bootstrap intervals, see the code).

    Returns a DataFrame indexed like :func:`translation_share` (languages, ``pooled``,
    ``common``) with columns ``value``, ``low``, ``high``.
    """
    from steerspace.metrics.inference import percentile_interval

    langs, a, b = _check_pair(pre, post)
    moves = b - a  # (L, n, d)
    n = moves.shape[1]
    weights = np.vstack([np.ones((1, n)), resample_counts(n, n_boot=n_boot, seed=seed)])
    squares = np.einsum("lnd,lnd->ln", moves, moves)  # (L, n)
    mean_sq = squares @ weights.T / n  # (L, B)
    shifts = np.einsum("bn,lnd->lbd", weights, moves) / n  # (L, B, d)
    shift_sq = np.einsum("lbd,lbd->lb", shifts, shifts)
    common = shifts.mean(axis=0)  # (B, d)
    num = np.vstack([shift_sq, shift_sq.sum(0), len(langs) * np.einsum("bd,bd->b", common, common)])
    den = np.vstack([mean_sq, mean_sq.sum(0), mean_sq.sum(0)])
    with np.errstate(divide="ignore", invalid="ignore"):
        values = np.where(den > 0, num / den, np.nan)
    # a squared mean is biased upwards under resampling (E‖x̄*‖² = ‖x̄‖² + var/n), so the
    # percentile interval would sit above the value: use the basic bootstrap interval
    # (2·value − upper, 2·value − lower), which removes that shift, clipped to [0, 1]
    intervals = [percentile_interval(row[1:]) for row in values]
    point = values[:, 0]
    return pd.DataFrame(
        {
            "value": point,
            "low": np.clip(2 * point - [hi for _, hi in intervals], 0.0, 1.0),
            "high": np.clip(2 * point - [lo for lo, _ in intervals], 0.0, 1.0),
        },
        index=pd.Index([*langs, "pooled", "common"], name="language"),
    )


# --------------------------------------------------------------------------- chapter tables


def baseline_labels(n_components: int) -> dict[str, str]:
    """Display names of ``"none"`` (the original space) and of each baseline."""
    return {
        "none": "original",
        "language_centering": "language centering",
        "all_but_the_top": f"all-but-the-top ({n_components} PCs)",
        "standardise": "standardise",
    }


def combination_intervals(
    hits: Mapping[tuple[str, str, str], np.ndarray],
    languages: list[str],
    targets: list[str],
    *,
    view: str = "target as query",
    score: str = "dot",
    n_boot: int,
    seed: int = 0,
) -> pd.DataFrame:
    """Gains in top-1 accuracy over the original space when a baseline follows the
    intervention, each with a paired interval over the queries.

    Per (baseline, target), ``part``: ``intervention`` (post − original),
    ``baseline alone`` (baseline on the original − original), ``both`` (baseline on the
    intervened space − original), ``sum`` (the two separate gains added; no interval)
    and ``added`` (both − baseline alone: what the intervention adds on top of the
    baseline). Values are fractions; columns ``baseline``, ``target``, ``part``,
    ``value``, ``low``, ``high``, ``n``.
    """
    rows = []

    def change(target, before, after):
        return paired_change(
            hits, languages, target, view, score, before, after, n_boot=n_boot, seed=seed
        )

    for name in BASELINES:
        for target in targets:
            parts = {
                "intervention": change(target, ("pre", "none"), (target, "none")),
                "baseline alone": change(target, ("pre", "none"), ("pre", name)),
                "both": change(target, ("pre", "none"), (target, name)),
                "added": change(target, ("pre", name), (target, name)),
            }
            total = parts["intervention"].value + parts["baseline alone"].value
            parts["sum"] = Estimate(total, float("nan"), float("nan"), parts["both"].n)
            rows += [
                {"baseline": name, "target": target, "part": part, **est.as_dict()}
                for part, est in parts.items()
            ]
    return pd.DataFrame(rows)


def sweep_intervals(
    space: Space,
    components: list[int],
    *,
    scores: tuple[str, ...] = SCORES,
    n_boot: int,
    seed: int = 0,
) -> pd.DataFrame:
    """All-pairs top-1 accuracy after all-but-the-top with each number of removed
    ``components``, with its interval over the queries (products in float32: a
    sensitivity check). Columns ``components``, ``score``, ``value``, ``low``,
    ``high``, ``n``."""
    langs = list(check_space(space))
    rows = []
    for c in components:
        out = all_but_the_top(space, c)
        for score in scores:
            hits = all_pairs_hits(out, score=score, dtype=np.float32)
            est = bootstrap_hits(
                view_hits(hits, langs, langs[0], "all pairs"), n_boot=n_boot, seed=seed
            )
            rows.append({"components": c, "score": score, **est.as_dict()})
    return pd.DataFrame(rows)


def alignment_table(pre: Space, post: Mapping[str, Space], *, n_components: int) -> pd.DataFrame:
    """:func:`shift_alignment` of each target's intervention with the directions each
    baseline removes from the original space, summarised per (baseline, target): the
    pooled shift's cosine and span fraction, the mean over languages of both, the
    chance span fraction and the pooled shift's norm."""
    rows = []
    for name in BASELINES:
        directions = removed_directions(name, pre, n_components=n_components)
        for target, space in post.items():
            frame = shift_alignment(pre, space, directions)
            languages = frame.drop(index="pooled")
            rows.append(
                {
                    "baseline": name,
                    "target": target,
                    "cosine (pooled)": frame.loc["pooled", "cosine"],
                    "mean cosine (languages)": languages["cosine"].mean(),
                    "span fraction (pooled)": frame.loc["pooled", "span_fraction"],
                    "span fraction (mean over languages)": languages["span_fraction"].mean(),
                    "chance": frame.loc["pooled", "chance"],
                    "shift norm (pooled)": frame.loc["pooled", "shift_norm"],
                }
            )
    return pd.DataFrame(rows).set_index(["baseline", "target"])


def method_table(acc: pd.DataFrame, labels: Mapping[str, str]) -> pd.DataFrame:
    """The rows of :func:`accuracy_intervals` the chapter compares as methods: the
    original space under each baseline (``method`` = its label) and the untransformed
    intervened space (``method`` = ``"intervention"``)."""
    pre = acc[acc["space"] == "pre"].assign(method=acc["baseline"].map(labels))
    post = acc[(acc["space"] == "post") & (acc["baseline"] == "none")].assign(method="intervention")
    return pd.concat([pre, post], ignore_index=True)


def pair_deltas(
    hits: Mapping[tuple[str, str, str], np.ndarray],
    languages: list[str],
    conditions: Mapping[str, tuple[str, str, str]],
) -> dict[str, pd.DataFrame]:
    """Per named condition ((space, baseline, score) key of :func:`score_conditions`),
    the query × candidate change of top-1 accuracy against the original space scored
    the same way (NaN on the diagonal)."""
    out = {}
    for name, key in conditions.items():
        delta = hits[key].mean(axis=2) - hits["pre", "none", key[2]].mean(axis=2)
        np.fill_diagonal(delta, np.nan)
        out[name] = pd.DataFrame(delta, index=languages, columns=languages)
    return out


def target_changes(
    hits: Mapping[tuple[str, str, str], np.ndarray],
    languages: list[str],
    targets: list[str],
    before: tuple[str, str],
    after: tuple[str, str],
    *,
    view: str = "target as query",
    score: str = "dot",
    n_boot: int,
    seed: int = 0,
) -> dict[str, Estimate]:
    """Per target, :func:`paired_change` from condition ``before`` to ``after``: (space,
    baseline) keys of :func:`score_conditions`, where the space ``"post"`` stands for
    the target's own intervened space."""

    def condition(key: tuple[str, str], target: str) -> tuple[str, str]:
        space, baseline = key
        return (target if space == "post" else space, baseline)

    out = {}
    for t in targets:
        a, b = condition(before, t), condition(after, t)
        out[t] = paired_change(hits, languages, t, view, score, a, b, n_boot=n_boot, seed=seed)
    return out


def statistics_table(
    pre: Space, post: Mapping[str, Space], targets: list[str], n_top: int = 5
) -> pd.DataFrame:
    """:func:`space_statistics` of the original space (row ``pre``) and of each
    target's intervened space (rows ``post <target>``)."""
    spaces = {"pre": pre} | {f"post {t}": post[t] for t in targets}
    return pd.DataFrame({name: space_statistics(space, n_top) for name, space in spaces.items()}).T


def best_baseline(table: pd.DataFrame) -> str:
    """The baseline (of :data:`BASELINES`) with the largest all-pairs accuracy by inner
    product on the original space (``table``: :func:`method_table`)."""
    pairs_dot = table[
        (table["space"] == "pre") & (table["view"] == "all pairs") & (table["score"] == "dot")
    ]
    return max(BASELINES, key=lambda b: pairs_dot[pairs_dot["baseline"] == b]["value"].iloc[0])


def distance_cells(dist: pd.DataFrame) -> pd.DataFrame:
    """:func:`distance_intervals` as the chapter shows it: each distance with its
    interval, per (space, baseline, target) and quantity."""
    text = [fmt_ci(as_estimate(r), "dist") for _, r in dist.iterrows()]
    return dist.assign(text=text).pivot_table(
        index=["space", "baseline", "target"], columns="quantity", values="text", aggfunc="first"
    )


# --------------------------------------------------------------------------- prose values
# The values the chapter's sentences glue (see :mod:`steerspace.text.statements`).


def sign_values(first: Mapping[str, Estimate], second: Mapping[str, Estimate]) -> dict[str, str]:
    """Where two sets of gains per target (e.g. by inner product and by cosine) have
    opposite signs, compared unrounded (``sign_differ``), and, of those, the targets
    where both gains are distinguishable from zero, the only ones where they contradict
    each other (``sign_contradict``); each "none" where there are none."""
    differ = [t for t in first if np.sign(first[t].value) != np.sign(second[t].value)]
    both = [t for t in differ if first[t].excludes() and second[t].excludes()]
    return {
        "sign_differ": ", ".join(differ) or "none",
        "sign_contradict": ", ".join(both) or "none",
    }


def distance_values(dist: pd.DataFrame, labels: Mapping[str, str]) -> dict[str, str]:
    """From :func:`distance_intervals`: the all-languages distance of every condition
    (mean over targets) and the intervention's change of it per target."""
    rows = dist[dist["quantity"] == "all_languages"]
    mean = rows.groupby(["space", "baseline"])["value"].mean()
    post = rows[(rows["space"] == "post") & (rows["baseline"] == "none")]
    change = {
        r["target"]: Estimate(r["change"], r["change_low"], r["change_high"], 0)
        for _, r in post.iterrows()
    }
    return {
        "d_all": ", ".join(
            f"{labels[b]} {fmt(mean['pre', b], 'dist')}" for b in ["none", *BASELINES]
        )
        + f"; the intervention {fmt(mean['post', 'none'], 'dist')}",
        "d_change": f"{per_unit(change, 'dist')} ({decided(change)})",
    }


def shift_values(
    moves: Mapping[str, pd.DataFrame], alignment: pd.DataFrame, centering: str
) -> dict[str, str]:
    """The translation share per target (pooled, with its interval), the part one
    common shift explains, and the mean cosine of each language's shift with its own
    mean (from :func:`alignment_table`, baseline label ``centering``)."""
    own = alignment.xs(centering, level="baseline")["mean cosine (languages)"]
    pooled = {t: as_estimate(m.loc["pooled"]) for t, m in moves.items()}
    return {
        "translation": per_unit(pooled, "pct", sign=False),
        "common": ", ".join(
            f"{t} {fmt(m.loc['common', 'value'], 'pct')}" for t, m in moves.items()
        ),
        "own": ", ".join(f"{t} {fmt(v, 'plain', sign=True)}" for t, v in own.items()),
    }


def anisotropy_values(pre: Space, stats: pd.DataFrame) -> dict[str, str]:
    """The original space's largest dimension (``top_dim``) with its shares of the mean
    squared norm and of the variance (``top_norm``, ``top_var``), an isotropic
    dimension's share (``iso``), and the mean cosine between two sentences before
    (``cos_pre``) and after each intervention (``cos_post``; ``stats``:
    :func:`space_statistics` per space, rows ``pre`` and ``post <target>``)."""
    top = top_dimensions(pre, 1).iloc[0]
    dim = len(dimension_shares(pre))
    posts = [i for i in stats.index if i != "pre"]
    return {
        "top_dim": fmt(top["dimension"], "int"),
        "top_norm": fmt(top["norm_share"], "pct"),
        "top_var": fmt(top["variance_share"], "pct"),
        "iso": fmt(1 / dim, "pct"),
        "cos_pre": fmt(stats.loc["pre", "mean_cosine"], "plain"),
        "cos_post": ", ".join(
            f"{i.split()[-1]} {fmt(stats.loc[i, 'mean_cosine'], 'plain')}" for i in posts
        ),
    }


def similarity_values(
    plain: pd.DataFrame, gains: Mapping[str, Mapping[str, Estimate]], chance: float
) -> dict[str, str]:
    """Inner product against cosine: all-pairs accuracy of the original space by each
    score (``pairs_dot``, ``pairs_cosine``; ``plain``: :func:`accuracy_intervals`
    without a baseline) and chance, the intervention's gain per target by each score
    (``gain_dot``, ``gain_cosine``; ``gains``: score → target → change), and where the
    two gains differ in sign (:func:`sign_values`)."""
    pre = plain[(plain["space"] == "pre") & (plain["view"] == "all pairs")]
    pairs_pre = {sc: as_estimate(pre[pre["score"] == sc].iloc[0]) for sc in SCORES}
    return {
        **{f"pairs_{sc}": fmt_ci(e, "acc") for sc, e in pairs_pre.items()},
        "chance": fmt(chance, "acc"),
        **{f"gain_{sc}": per_unit(g, "pp") + f" ({decided(g)})" for sc, g in gains.items()},
        **sign_values(gains["dot"], gains["cosine"]),
    }


def versus_values(
    label: str, gain: Mapping[str, Estimate], versus: Mapping[str, Estimate]
) -> dict[str, str]:
    """The best baseline (named ``label``): its gain over the original space per target
    (``gain``) and how far it beats the intervention (``versus``: baseline − intervention
    per target)."""
    return {
        "best": label,
        "best_cap": label.capitalize(),
        "versus_range": f"{value_range(versus, 'pp')} ({decided(versus)})",
        "best_gain": per_unit(gain, "pp"),
        "versus": per_unit(versus, "pp") + f" ({decided(versus)})",
    }


def sweep_values(sweep: pd.DataFrame, rule: int) -> dict[str, str]:
    """The number of removed components that gives all-but-the-top its best all-pairs
    accuracy by inner product and that accuracy (``sweep_best``, ``sweep_best_acc``),
    against the ``rule``'s number and its accuracy (``sweep_rule``,
    ``sweep_rule_acc``; ``sweep``: :func:`sweep_intervals`)."""
    dot = sweep[sweep["score"] == "dot"].set_index("components")
    best = int(dot["value"].idxmax())
    return {
        "sweep_best": fmt(best, "int"),
        "sweep_best_acc": fmt_ci(as_estimate(dot.loc[best]), "acc"),
        "sweep_rule": fmt(rule, "int"),
        "sweep_rule_acc": fmt_ci(as_estimate(dot.loc[rule]), "acc"),
    }


def combination_values(comb: pd.DataFrame) -> dict[str, str]:
    """What the intervention adds on top of each baseline (``comb``:
    :func:`combination_intervals` with labelled baselines, part ``added``): the range
    over targets per baseline, and a Markdown list of the targets' estimates."""
    added = {
        b: {t: as_estimate(r) for t, r in g.set_index("target").iterrows()}
        for b, g in comb[comb["part"] == "added"].groupby("baseline", sort=False)
    }
    return {
        "added_range": "; ".join(
            f"{b} {value_range(e, 'pp')} ({decided(e)})" for b, e in added.items()
        ),
        "added": "\n".join(
            f"- after **{b}**: {per_unit(e, 'pp')} ({decided(e)})" for b, e in added.items()
        ),
    }

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

from steerspace.geometry import as_matrix, unit_rows
from steerspace.retrieval import SCORES

Space = Mapping[str, np.ndarray]

__all__ = [
    "BASELINES",
    "Directions",
    "all_but_the_top",
    "all_pairs_top1",
    "apply_baseline",
    "center_languages",
    "check_space",
    "default_n_components",
    "dimension_shares",
    "principal_components",
    "removed_directions",
    "shift_alignment",
    "space_statistics",
    "standardise",
    "top_dimensions",
    "translation_share",
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


def all_pairs_top1(space: Space, *, score: str = "dot", dtype: type = np.float64) -> pd.DataFrame:
    """Top-1 accuracy for every query × candidate language pair of one aligned space.

    The numbers of :func:`steerspace.retrieval.retrieval_matrix` with all languages as
    queries and candidates (query i's match is candidate i; ties go to the first
    candidate; NaN where query == candidate), computed with one (n × L·n) product per
    query language instead of L² small ones: several times faster, which matters for a
    chapter that scores dozens of transformed spaces.

    Parameters
    ----------
    space : language → (n, d) array, rows aligned across languages.
    score : ``"dot"`` (inner product, the paper's) or ``"cosine"``.
    dtype : precision of the products: ``np.float64`` (default, as ``retrieval_matrix``)
        or ``np.float32`` (about twice as fast; can break a near-tie differently).

    Returns
    -------
    DataFrame, index ``query``, columns ``candidate`` (the space's languages in order).
    """
    if score not in SCORES:
        raise ValueError(f"score must be one of {SCORES}, got {score!r}")
    langs, stack = _stack(space)
    n_langs, n, dim = stack.shape
    if score == "cosine":
        stack = unit_rows(stack.reshape(-1, dim)).reshape(n_langs, n, dim)
    stack = stack.astype(dtype, copy=False)
    candidates = stack.reshape(-1, dim).T  # (d, L·n)
    out = np.empty((n_langs, n_langs))
    rows = np.arange(n)[:, None]
    for i in range(n_langs):  # one query language at a time bounds memory to n × L·n
        best = (stack[i] @ candidates).reshape(n, n_langs, n).argmax(axis=2)
        out[i] = (best == rows).mean(axis=0)
    np.fill_diagonal(out, np.nan)
    return pd.DataFrame(
        out,
        index=pd.Index(langs, name="query"),
        columns=pd.Index(langs, name="candidate"),
    )


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

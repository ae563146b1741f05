"""Training-free ABX discrimination of language and meaning in an embedding space.

In the spirit of de Seyssel et al. (EMNLP 2025): instead of training a probe, ask of
many triplets (A, B, X) whether X lies closer to A than to B. A space is a mapping
language code → array whose first axis is aligned sentences: row i of every language is
the same verse (the same meaning). An array is either (n, d), one layer, or (n, L, d),
the pooled states of L layers.

Two tasks:

``"language"``
    A and X share a language, B is in another language, and A, B, X are three
    different meanings (three distinct rows). Correct when d(A, X) < d(B, X): the space
    groups sentences by language.
``"meaning"``
    A and X are translations of each other (the same row, different languages), B is a
    different sentence (another row) in X's language. Correct when d(A, X) < d(B, X):
    the space groups sentences by meaning across languages.

d is the cosine distance ``1 - cos`` (a zero vector has similarity 0 with everything,
as in :mod:`steerspace.metrics.geometry`); the comparison is made on the cosine similarities,
which is the same test. A tie counts 0.5. The error rate is 1 − mean correctness, so
0 is perfect discrimination and 0.5 is chance.

The same triplets are scored in every layer of an (n, L, d) space, so the per-layer
curves differ only by the layer. Triplets are scored in chunks: the A, B, X rows of a
chunk are gathered into (t, L, d) float64 arrays and their cosines computed with
``einsum``, which keeps memory bounded for large spaces.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence

import numpy as np
import pandas as pd

from steerspace.metrics.inference import bootstrap_columns

TASKS = ("language", "meaning")
TRIPLET_COLUMNS = ("a_lang", "a_row", "b_lang", "b_row", "x_lang", "x_row")
_MIN_ROWS = {"language": 3, "meaning": 2}
_CHUNK = 256

__all__ = [
    "TASKS",
    "TRIPLET_COLUMNS",
    "abx_by_language",
    "abx_correct",
    "abx_error",
    "abx_intervals",
    "sample_triplets",
]


# --------------------------------------------------------------------------- validation


def _check_task(task: str) -> None:
    if task not in TASKS:
        raise ValueError(f"task must be one of {TASKS}, got {task!r}")


def _check_sizes(n_languages: int, n_rows: int, task: str) -> None:
    if n_languages < 2:
        raise ValueError(
            f"ABX needs at least 2 languages, got {n_languages}; pass a space with more languages"
        )
    need = _MIN_ROWS[task]
    if n_rows < need:
        raise ValueError(
            f"the {task} task needs at least {need} aligned rows (sentences), got {n_rows}"
        )


def _check_count(n_triplets: int) -> None:
    if isinstance(n_triplets, bool) or not isinstance(n_triplets, (int, np.integer)):
        raise ValueError(f"n_triplets must be a positive integer, got {n_triplets!r}")
    if n_triplets < 1:
        raise ValueError(f"n_triplets must be a positive integer, got {n_triplets}")


def _check_space(space: Mapping[str, np.ndarray], task: str) -> tuple[list[str], list[np.ndarray]]:
    """Languages (mapping order) and arrays, each (n, L, d) with one common shape."""
    _check_task(task)
    if not isinstance(space, Mapping):
        raise ValueError(f"space must be a mapping language → array, got {type(space).__name__}")
    langs = list(space)
    arrays = []
    for lang in langs:
        arr = np.asarray(space[lang])
        if arr.ndim not in (2, 3) or 0 in arr.shape:
            raise ValueError(
                f"space[{lang!r}] must be a non-empty (n, d) or (n, layers, d) array, "
                f"got shape {arr.shape}"
            )
        if not np.issubdtype(arr.dtype, np.number) or np.issubdtype(arr.dtype, np.complexfloating):
            raise ValueError(f"space[{lang!r}] must hold real numbers, got dtype {arr.dtype}")
        arrays.append(arr if arr.ndim == 3 else arr[:, None, :])
    shapes = {lang: np.asarray(space[lang]).shape for lang in langs}
    if len(set(shapes.values())) > 1:
        raise ValueError(
            f"all languages must have arrays of one shape (aligned rows, same layers and dim), "
            f"got {shapes}"
        )
    _check_sizes(len(langs), arrays[0].shape[0] if arrays else 0, task)
    return langs, arrays


# --------------------------------------------------------------------------- triplets


def _other(rng: np.random.Generator, first: np.ndarray, size: int) -> np.ndarray:
    """A uniform draw from range(size) different from ``first`` (elementwise)."""
    return (first + rng.integers(1, size, size=first.shape)) % size


def _draw(
    x_lang: np.ndarray, n_languages: int, n_rows: int, task: str, rng: np.random.Generator
) -> dict[str, np.ndarray]:
    """Language and row indices of triplets whose X languages are ``x_lang``."""
    t = x_lang.shape[0]
    if task == "language":
        a_lang = x_lang
        b_lang = _other(rng, x_lang, n_languages)
        r0 = rng.integers(0, n_rows, size=t)
        r1 = _other(rng, r0, n_rows)
        lo, hi = np.minimum(r0, r1), np.maximum(r0, r1)
        r2 = rng.integers(0, n_rows - 2, size=t)
        r2 = r2 + (r2 >= lo)
        r2 = r2 + (r2 >= hi)
        a_row, b_row, x_row = r0, r1, r2
    else:
        a_lang = _other(rng, x_lang, n_languages)
        b_lang = x_lang
        x_row = rng.integers(0, n_rows, size=t)
        a_row = x_row
        b_row = _other(rng, x_row, n_rows)
    return {
        "a_lang": a_lang,
        "a_row": a_row,
        "b_lang": b_lang,
        "b_row": b_row,
        "x_lang": x_lang,
        "x_row": x_row,
    }


def _frame(idx: Mapping[str, np.ndarray], languages: Sequence[str]) -> pd.DataFrame:
    names = np.asarray(languages, dtype=object)
    cols = {}
    for role in "abx":
        cols[f"{role}_lang"] = names[idx[f"{role}_lang"]]
        cols[f"{role}_row"] = np.asarray(idx[f"{role}_row"], dtype=np.int64)
    return pd.DataFrame(cols, columns=list(TRIPLET_COLUMNS))


def sample_triplets(
    languages: Sequence[str],
    n_rows: int,
    task: str,
    *,
    n_triplets: int,
    seed: int,
) -> pd.DataFrame:
    """Draw random ABX triplets for the language or the meaning task.

    Used by :func:`abx_error` and :func:`abx_by_language`; call it directly to score
    several spaces (pre and post intervention) on the very same triplets. X's language
    is uniform over ``languages``; every other choice is uniform given the task's
    constraints (see the module docstring). Sampling is vectorised with one
    ``numpy.random.default_rng(seed)``.

    Parameters
    ----------
    languages : language codes (at least 2, no repeats).
    n_rows : number of aligned rows per language (≥ 3 for ``"language"``, ≥ 2 for
        ``"meaning"``).
    task : ``"language"`` or ``"meaning"``.
    n_triplets : number of triplets (≥ 1).
    seed : seed of the random generator.

    Returns
    -------
    DataFrame with columns ``a_lang, a_row, b_lang, b_row, x_lang, x_row`` (codes and
    int64 row indices), one row per triplet.

    Raises
    ------
    ValueError
        Unknown task, fewer than 2 (or repeated) languages, too few rows, or a
        non-positive ``n_triplets``.
    """
    _check_task(task)
    if isinstance(languages, str):
        raise ValueError(f"languages must be a list of codes, got the string {languages!r}")
    languages = list(languages)
    if len(set(languages)) != len(languages):
        raise ValueError(f"languages must not repeat, got {languages}")
    if isinstance(n_rows, bool) or not isinstance(n_rows, (int, np.integer)):
        raise ValueError(f"n_rows must be an integer, got {n_rows!r}")
    _check_sizes(len(languages), int(n_rows), task)
    _check_count(n_triplets)
    rng = np.random.default_rng(seed)
    x_lang = rng.integers(0, len(languages), size=int(n_triplets))
    return _frame(_draw(x_lang, len(languages), int(n_rows), task, rng), languages)


def _triplet_indices(
    triplets: pd.DataFrame, langs: list[str], n_rows: int, task: str
) -> dict[str, np.ndarray]:
    """Validated integer language and row indices of user-supplied triplets."""
    if not isinstance(triplets, pd.DataFrame):
        raise ValueError(f"triplets must be a DataFrame, got {type(triplets).__name__}")
    missing = [c for c in TRIPLET_COLUMNS if c not in triplets.columns]
    if missing:
        raise ValueError(f"triplets lack columns {missing}; use sample_triplets() to make them")
    if len(triplets) == 0:
        raise ValueError("triplets must hold at least one row, got an empty DataFrame")
    lookup = {lang: k for k, lang in enumerate(langs)}
    out = {}
    for role in "abx":
        codes = triplets[f"{role}_lang"]
        unknown = sorted(set(map(str, codes)) - set(lookup))
        if unknown:
            raise ValueError(f"triplets use languages {unknown} that the space lacks ({langs})")
        out[f"{role}_lang"] = codes.map(lookup).to_numpy(dtype=np.int64)
        rows = triplets[f"{role}_row"].to_numpy()
        if not np.issubdtype(rows.dtype, np.integer):
            raise ValueError(f"triplets[{role + '_row'!r}] must be integers, got {rows.dtype}")
        if rows.min() < 0 or rows.max() >= n_rows:
            raise ValueError(
                f"triplets[{role + '_row'!r}] must be in [0, {n_rows}), "
                f"got values from {rows.min()} to {rows.max()}"
            )
        out[f"{role}_row"] = rows.astype(np.int64)
    a_l, b_l, x_l = out["a_lang"], out["b_lang"], out["x_lang"]
    a_r, b_r, x_r = out["a_row"], out["b_row"], out["x_row"]
    if task == "language":
        ok = (a_l == x_l) & (b_l != x_l) & (a_r != b_r) & (a_r != x_r) & (b_r != x_r)
        rule = "A and X in one language, B in another, three distinct rows"
    else:
        ok = (a_r == x_r) & (a_l != x_l) & (b_l == x_l) & (b_r != x_r)
        rule = "A and X the same row in different languages, B another row in X's language"
    if not ok.all():
        raise ValueError(
            f"{int((~ok).sum())} triplet(s) break the {task} task ({rule}); "
            f"draw them with sample_triplets(..., task={task!r})"
        )
    return out


# --------------------------------------------------------------------------- scoring


def _gather(arrays: list[np.ndarray], lang: np.ndarray, row: np.ndarray) -> np.ndarray:
    """(t, L, d) float64 array of ``arrays[lang[i]][row[i]]``."""
    out = np.empty((lang.shape[0], *arrays[0].shape[1:]), dtype=np.float64)
    for k in np.unique(lang):
        mask = lang == k
        out[mask] = arrays[k][row[mask]]
    return out


def _cosine(u: np.ndarray, v: np.ndarray, uu: np.ndarray, vv: np.ndarray) -> np.ndarray:
    denom = np.sqrt(uu * vv)
    dot = np.einsum("tld,tld->tl", u, v)
    return np.divide(dot, denom, out=np.zeros_like(dot), where=denom > 0)


def _correctness(arrays: list[np.ndarray], idx: Mapping[str, np.ndarray]) -> np.ndarray:
    """(T, L) scores: 1 if cos(A, X) > cos(B, X), 0.5 on a tie, else 0."""
    total = idx["x_lang"].shape[0]
    out = np.empty((total, arrays[0].shape[1]), dtype=np.float64)
    for start in range(0, total, _CHUNK):
        sl = slice(start, start + _CHUNK)
        a = _gather(arrays, idx["a_lang"][sl], idx["a_row"][sl])
        b = _gather(arrays, idx["b_lang"][sl], idx["b_row"][sl])
        x = _gather(arrays, idx["x_lang"][sl], idx["x_row"][sl])
        if not (np.isfinite(a).all() and np.isfinite(b).all() and np.isfinite(x).all()):
            raise ValueError("space must be finite, but a sampled embedding holds NaN/inf")
        aa = np.einsum("tld,tld->tl", a, a)
        bb = np.einsum("tld,tld->tl", b, b)
        xx = np.einsum("tld,tld->tl", x, x)
        cos_ax = _cosine(a, x, aa, xx)
        cos_bx = _cosine(b, x, bb, xx)
        out[sl] = (cos_ax > cos_bx) + 0.5 * (cos_ax == cos_bx)
    return out


def abx_correct(
    space: Mapping[str, np.ndarray],
    task: str,
    *,
    n_triplets: int = 2000,
    seed: int = 0,
    triplets: pd.DataFrame | None = None,
) -> np.ndarray:
    """Per triplet and layer, whether X lies closer to A than to B (1, a tie 0.5, else
    0): the scores :func:`abx_error` averages, kept per triplet for intervals.

    Parameters as in :func:`abx_error`. Returns a (n_triplets, L) float64 array (L = 1
    for (n, d) arrays).
    """
    langs, arrays = _check_space(space, task)
    n_rows = arrays[0].shape[0]
    if triplets is None:
        triplets = sample_triplets(langs, n_rows, task, n_triplets=n_triplets, seed=seed)
    idx = _triplet_indices(triplets, langs, n_rows, task)
    return _correctness(arrays, idx)


def abx_error(
    space: Mapping[str, np.ndarray],
    task: str,
    *,
    n_triplets: int = 2000,
    seed: int = 0,
    triplets: pd.DataFrame | None = None,
) -> float | np.ndarray:
    """ABX error rate of a space for the language or the meaning task.

    Used by the ABX chapter (language vs. meaning discrimination per layer, before and
    after the intervention). Lower is better; 0.5 is chance.

    Parameters
    ----------
    space : language code → (n, d) or (n, L, d) array, the same shape for every
        language, row i aligned across languages.
    task : ``"language"`` or ``"meaning"`` (see the module docstring).
    n_triplets : number of triplets drawn by :func:`sample_triplets` (ignored when
        ``triplets`` is given).
    seed : seed for :func:`sample_triplets` (ignored when ``triplets`` is given).
    triplets : optional triplets from :func:`sample_triplets`, e.g. to score two spaces
        on the same triplets; they must satisfy the task's constraints.

    Returns
    -------
    float for (n, d) arrays; (L,) float64 array of per-layer error rates for (n, L, d)
    arrays, every layer scored on the same triplets.

    Raises
    ------
    ValueError
        Unknown task, fewer than 2 languages, arrays of different shapes or of the wrong
        rank, too few rows, non-finite sampled embeddings, or invalid ``triplets``.
    """
    correct = abx_correct(space, task, n_triplets=n_triplets, seed=seed, triplets=triplets)
    error = 1.0 - correct.mean(axis=0)
    if np.asarray(next(iter(space.values()))).ndim == 2:
        return float(error[0])
    return error


def abx_intervals(
    spaces: Mapping[str, Mapping[str, np.ndarray]],
    task: str,
    *,
    reference: str = "pre",
    n_triplets: int = 2000,
    seed: int = 0,
    n_boot: int,
) -> pd.DataFrame:
    """ABX error per layer of several spaces scored on the *same* triplets, and each
    space's change against ``reference``, with 95 % intervals that resample the
    triplets (paired: a resample draws the same triplets in every space and layer).

    Parameters
    ----------
    spaces : label → space (language → (n, L, d) or (n, d)); all with the same
        languages, rows and layers; ``reference`` must be one of the labels.
    task, n_triplets, seed : as in :func:`abx_error`.
    n_boot : bootstrap resamples.

    Returns
    -------
    Long DataFrame, one row per (``space``, ``layer``, ``condition`` ∈ ``error``,
    ``change``) with ``value``, ``low``, ``high``, ``n`` (triplets); ``change`` is the
    space's error minus the reference's (0 for the reference itself).
    """
    if reference not in spaces:
        raise ValueError(f"reference must be one of the spaces {list(spaces)}, got {reference!r}")
    langs, arrays = _check_space(spaces[reference], task)
    triplets = sample_triplets(langs, arrays[0].shape[0], task, n_triplets=n_triplets, seed=seed)
    correct = {name: abx_correct(space, task, triplets=triplets) for name, space in spaces.items()}
    rows = []
    for name, scores in correct.items():
        for condition, values in (
            ("error", 1.0 - scores),
            ("change", correct[reference] - scores),
        ):
            for layer, est in enumerate(bootstrap_columns(values, n_boot=n_boot, seed=seed)):
                rows.append(
                    {"space": name, "layer": layer, "condition": condition, **est.as_dict()}
                )
    return pd.DataFrame(rows)


def abx_by_language(
    space: Mapping[str, np.ndarray],
    task: str,
    *,
    n_triplets: int = 2000,
    seed: int = 0,
) -> pd.DataFrame:
    """ABX error rate broken down by X's language.

    Used by the ABX chapter to see which languages the space separates (language task)
    or aligns (meaning task). Every language gets exactly ``n_triplets`` triplets with X
    in it, drawn as in :func:`sample_triplets` from one ``default_rng(seed)``; all layers
    are scored on the same triplets.

    Parameters
    ----------
    space : language code → (n, d) or (n, L, d) array (see :func:`abx_error`).
    task : ``"language"`` or ``"meaning"``.
    n_triplets : triplets per X language (≥ 1).
    seed : seed of the random generator.

    Returns
    -------
    DataFrame indexed by ``x_lang`` (the space's languages, in mapping order): one
    column ``error`` for (n, d) arrays, or columns ``0 … L-1`` (named ``layer``) for
    (n, L, d) arrays.

    Raises
    ------
    ValueError
        As :func:`abx_error`, or a non-positive ``n_triplets``.
    """
    langs, arrays = _check_space(space, task)
    _check_count(n_triplets)
    rng = np.random.default_rng(seed)
    x_lang = np.repeat(np.arange(len(langs)), int(n_triplets))
    idx = _draw(x_lang, len(langs), arrays[0].shape[0], task, rng)
    correct = _correctness(arrays, idx)
    n_layers = correct.shape[1]
    error = 1.0 - correct.reshape(len(langs), int(n_triplets), n_layers).mean(axis=1)
    index = pd.Index(langs, name="x_lang")
    if np.asarray(space[langs[0]]).ndim == 2:
        return pd.DataFrame({"error": error[:, 0]}, index=index)
    return pd.DataFrame(error, index=index, columns=pd.RangeIndex(n_layers, name="layer"))

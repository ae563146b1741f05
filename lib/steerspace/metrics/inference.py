"""Confidence intervals and chance tests: how the book decides what a number shows.

Every interval in the book resamples the *independent unit* of the measurement:

* an accuracy resamples its **queries** (:func:`bootstrap_hits`, :func:`paired_hits_delta`);
* a distance between languages resamples the **aligned sentences** (the rows; see
  :func:`steerspace.metrics.geometry.table1_bootstrap`);
* a share of generations resamples the **generations** (:func:`bootstrap_share_delta`);
* a perplexity resamples **blocks of tokens** (:func:`block_bootstrap_delta`);
* a correlation over language pairs that come from a few targets resamples the
  **targets** (:func:`cluster_bootstrap_pearson`), and :func:`leave_one_out_pearson`
  shows whether it rests on one or two points.

* a change over random draws of units (the §7 control) resamples the **draws and the
  sentences together** (:func:`two_level_samples`);
* a Pearson correlation over languages has a **Fisher-z** interval, and its p-value
  comes from the same transform (:func:`fisher_pearson`), so the two always agree.

Bootstrap intervals are percentile intervals at :data:`CI_LEVEL`; every function that
resamples takes ``n_boot`` (the config's, one number for the whole book) and a
``seed`` for ``numpy.random.default_rng``, so they are reproducible.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Sequence
from dataclasses import dataclass

import numpy as np
import pandas as pd
from scipy.stats import binomtest, norm, pearsonr

CI_LEVEL = 0.95


@dataclass(frozen=True)
class Estimate:
    """A point estimate with its confidence interval and the number of independent
    units it rests on (queries, sentences, generations, targets).

    Examples
    --------
    >>> from steerspace import Estimate
    >>> gain = Estimate(value=3.5, low=0.5, high=6.5, n=200)  # points of top-1 accuracy
    >>> gain.excludes(0.0), gain.excludes(5.0)
    (True, False)
    """

    value: float
    low: float
    high: float
    n: int

    def excludes(self, x: float = 0.0) -> bool:
        """Whether the interval lies entirely above or entirely below ``x``."""
        return bool(self.low > x or self.high < x)

    def as_dict(self, prefix: str = "") -> dict[str, float]:
        """``{prefix}value, {prefix}low, {prefix}high, {prefix}n`` for a table row."""
        return {
            f"{prefix}value": self.value,
            f"{prefix}low": self.low,
            f"{prefix}high": self.high,
            f"{prefix}n": self.n,
        }


def _check_boot(n_boot: int, ci: float) -> None:
    if not isinstance(n_boot, int | np.integer) or n_boot < 1:
        raise ValueError(f"n_boot must be a positive integer, got {n_boot!r}")
    if not 0.0 < ci < 1.0:
        raise ValueError(f"ci must be in (0, 1), got {ci!r}")


def percentile_interval(samples: np.ndarray, ci: float = CI_LEVEL) -> tuple[float, float]:
    """The (1 − ci)/2 and (1 + ci)/2 percentiles of the finite bootstrap ``samples``
    (NaN, NaN when none is finite)."""
    finite = np.asarray(samples, dtype=np.float64)
    finite = finite[np.isfinite(finite)]
    if finite.size == 0:
        return float("nan"), float("nan")
    alpha = (1.0 - ci) / 2.0
    low, high = np.quantile(finite, [alpha, 1.0 - alpha])
    return float(low), float(high)


def resample_counts(n: int, *, n_boot: int, seed: int = 0) -> np.ndarray:
    """(n_boot, n) multiplicities of the n units in each bootstrap resample (rows sum to
    n): a resampled mean of per-unit values ``x`` is ``counts @ x / n``."""
    if n < 1:
        raise ValueError(f"need at least one unit to resample, got n={n}")
    _check_boot(n_boot, 0.5)
    rng = np.random.default_rng(seed)
    idx = rng.integers(0, n, size=(n_boot, n))
    counts = np.zeros((n_boot, n), dtype=np.float64)
    np.add.at(counts, (np.repeat(np.arange(n_boot), n), idx.ravel()), 1.0)
    return counts


def bootstrap_rows(
    stat: Callable[[np.ndarray], np.ndarray],
    n: int,
    *,
    point: float,
    n_boot: int,
    seed: int = 0,
    ci: float = CI_LEVEL,
) -> Estimate:
    """Interval of any statistic of n resampled units.

    ``stat(counts)`` receives the (n_boot, n) multiplicities of :func:`resample_counts`
    and returns the n_boot resampled values (vectorised: no Python loop over
    resamples); ``point`` is the statistic on the data as observed.
    """
    _check_boot(n_boot, ci)
    samples = np.asarray(stat(resample_counts(n, n_boot=n_boot, seed=seed)), dtype=np.float64)
    low, high = percentile_interval(samples, ci)
    return Estimate(float(point), low, high, int(n))


def bootstrap_columns(
    values: np.ndarray, *, n_boot: int, seed: int = 0, ci: float = CI_LEVEL
) -> list[Estimate]:
    """Mean of each column of (n, m) per-unit ``values`` with its interval, every column
    resampled with the *same* draws of the n units (rows): a column of per-unit
    differences gives a paired interval, and m columns (e.g. layers) cost one set of
    resamples. NaN values are not allowed."""
    arr = np.asarray(values, dtype=np.float64)
    if arr.ndim != 2 or arr.shape[0] == 0 or not np.isfinite(arr).all():
        raise ValueError(f"values must be a finite (units, columns) array, got shape {arr.shape}")
    _check_boot(n_boot, ci)
    n = arr.shape[0]
    samples = resample_counts(n, n_boot=n_boot, seed=seed) @ arr / n  # (n_boot, m)
    means = arr.mean(axis=0)
    return [
        Estimate(float(means[j]), *percentile_interval(samples[:, j], ci), n)
        for j in range(arr.shape[1])
    ]


def _as_hits(hits: np.ndarray | Sequence[bool], name: str) -> np.ndarray:
    arr = np.asarray(hits, dtype=np.float64)
    if arr.ndim == 1:
        arr = arr[:, None]
    if arr.ndim != 2 or arr.shape[0] == 0:
        raise ValueError(f"{name} must be (queries,) or (queries, pairs) booleans, got {arr.shape}")
    return arr


def bootstrap_hits(
    hits: np.ndarray | Sequence[bool], *, n_boot: int, seed: int = 0, ci: float = CI_LEVEL
) -> Estimate:
    """Top-1 accuracy and its interval from per-query hits, resampling the queries.

    ``hits`` is (queries,) or (queries, pairs): with several pairs (e.g. one column per
    candidate language, the same query rows in each), the statistic is the mean over
    pairs and the query rows are resampled jointly.
    """
    arr = _as_hits(hits, "hits")
    per_query = arr.mean(axis=1)
    n = per_query.size
    return bootstrap_rows(
        lambda counts: counts @ per_query / n,
        n,
        point=float(per_query.mean()),
        n_boot=n_boot,
        seed=seed,
        ci=ci,
    )


def paired_hits_delta(
    before: np.ndarray | Sequence[bool],
    after: np.ndarray | Sequence[bool],
    *,
    n_boot: int,
    seed: int = 0,
    ci: float = CI_LEVEL,
) -> Estimate:
    """Change of top-1 accuracy (after − before) on the same queries, resampling the
    queries jointly (a paired bootstrap). Shapes as in :func:`bootstrap_hits`."""
    a, b = _as_hits(before, "before"), _as_hits(after, "after")
    if a.shape != b.shape:
        raise ValueError(f"before and after must have the same shape, got {a.shape} and {b.shape}")
    return bootstrap_hits(b - a, n_boot=n_boot, seed=seed, ci=ci)


def above_chance(
    hits: np.ndarray | Sequence[bool],
    chance: float,
    *,
    n_boot: int,
    alpha: float = 0.05,
    seed: int = 0,
) -> bool:
    """Whether a top-1 accuracy is significantly above ``chance`` (one-sided, level
    ``alpha``).

    One query set, (queries,): a binomial test of the hits. Several pairs per query,
    (queries, pairs): the hits of one query are not independent across pairs, so the
    test resamples the queries instead (:func:`bootstrap_hits`, ``n_boot`` resamples)
    and asks that the lower end of the one-sided interval of the mean accuracy lies
    above chance.
    """
    if not 0.0 < chance < 1.0:
        raise ValueError(f"chance must be in (0, 1), got {chance!r}")
    arr = _as_hits(hits, "hits")
    if arr.shape[1] == 1:
        k, n = int(arr[:, 0].sum()), arr.shape[0]
        return bool(binomtest(k, n, chance, alternative="greater").pvalue < alpha)
    return bool(bootstrap_hits(arr, n_boot=n_boot, seed=seed, ci=1.0 - 2.0 * alpha).low > chance)


def share_interval(k: int, n: int, *, ci: float = CI_LEVEL) -> tuple[float, float]:
    """Wilson score interval of a proportion k / n (e.g. generations in the target
    language), as ``scipy.stats.binomtest(k, n).proportion_ci(method="wilson")``."""
    if n < 1 or not 0 <= k <= n:
        raise ValueError(f"need 0 <= k <= n and n >= 1, got k={k}, n={n}")
    interval = binomtest(k, n).proportion_ci(confidence_level=ci, method="wilson")
    return float(interval.low), float(interval.high)


def bootstrap_share_delta(
    before: np.ndarray | Sequence[bool],
    after: np.ndarray | Sequence[bool],
    *,
    n_boot: int,
    seed: int = 0,
    ci: float = CI_LEVEL,
) -> Estimate:
    """Change of a share between two independent samples (e.g. generations in the target
    language with and without the intervention), resampling each sample on its own."""
    a = np.asarray(before, dtype=np.float64).ravel()
    b = np.asarray(after, dtype=np.float64).ravel()
    if a.size == 0 or b.size == 0:
        raise ValueError("both samples need at least one item")
    _check_boot(n_boot, ci)
    ca = resample_counts(a.size, n_boot=n_boot, seed=seed)
    cb = resample_counts(b.size, n_boot=n_boot, seed=seed + 1)
    samples = cb @ b / b.size - ca @ a / a.size
    low, high = percentile_interval(samples, ci)
    return Estimate(float(b.mean() - a.mean()), low, high, int(min(a.size, b.size)))


def block_bootstrap_delta(
    before: np.ndarray,
    after: np.ndarray,
    *,
    block: int = 64,
    n_boot: int,
    seed: int = 0,
    ci: float = CI_LEVEL,
) -> Estimate:
    """Change of a per-token mean (e.g. negative log-likelihood: after − before) on the
    same tokens, resampling contiguous blocks of ``block`` tokens (neighbouring tokens
    are not independent). ``n`` of the result is the number of blocks."""
    a = np.asarray(before, dtype=np.float64).ravel()
    b = np.asarray(after, dtype=np.float64).ravel()
    if a.shape != b.shape or a.size == 0:
        raise ValueError(f"before and after must be equal, non-empty, got {a.shape}, {b.shape}")
    if block < 1:
        raise ValueError(f"block must be a positive integer, got {block!r}")
    diff = b - a
    n_blocks = max(1, diff.size // block)
    sums = np.array([chunk.sum() for chunk in np.array_split(diff, n_blocks)])
    sizes = np.array([chunk.size for chunk in np.array_split(diff, n_blocks)], dtype=np.float64)
    return bootstrap_rows(
        lambda counts: (counts @ sums) / (counts @ sizes),
        n_blocks,
        point=float(diff.mean()),
        n_boot=n_boot,
        seed=seed,
        ci=ci,
    )


def _pearson_rows(x: np.ndarray, y: np.ndarray) -> np.ndarray:
    """Pearson r of each row pair of (B, n) arrays; NaN where a row is constant."""
    xc = x - x.mean(axis=1, keepdims=True)
    yc = y - y.mean(axis=1, keepdims=True)
    den = np.sqrt(np.einsum("ij,ij->i", xc, xc) * np.einsum("ij,ij->i", yc, yc))
    with np.errstate(invalid="ignore", divide="ignore"):
        return np.clip(np.einsum("ij,ij->i", xc, yc) / den, -1.0, 1.0)


def cluster_bootstrap_pearson(
    x: Sequence[float] | np.ndarray,
    y: Sequence[float] | np.ndarray,
    clusters: Sequence[str] | np.ndarray,
    *,
    n_boot: int,
    seed: int = 0,
    ci: float = CI_LEVEL,
) -> Estimate:
    """Pearson r over points that come in clusters (e.g. language pairs of a few
    targets), with an interval that resamples whole **clusters** with replacement, not
    points: points of one cluster share its target and are not independent. ``n`` of
    the result is the number of clusters."""
    x = np.asarray(x, dtype=np.float64)
    y = np.asarray(y, dtype=np.float64)
    labels = np.asarray(clusters)
    if not (x.shape == y.shape == labels.shape) or x.ndim != 1:
        raise ValueError("x, y and clusters must be 1-d and of equal length")
    names = list(dict.fromkeys(labels.tolist()))
    if len(names) < 2:
        raise ValueError(f"need at least 2 clusters to resample, got {names}")
    _check_boot(n_boot, ci)
    point = _pearson_or_nan(x, y)
    members = [np.flatnonzero(labels == name) for name in names]
    rng = np.random.default_rng(seed)
    draws = rng.integers(0, len(names), size=(n_boot, len(names)))
    samples = np.empty(n_boot)
    for b, draw in enumerate(draws):  # clusters differ in size: one small loop per resample
        rows = np.concatenate([members[c] for c in draw])
        samples[b] = _pearson_rows(x[rows][None], y[rows][None])[0]
    low, high = percentile_interval(samples, ci)
    return Estimate(point, low, high, len(names))


def _pearson_or_nan(x: np.ndarray, y: np.ndarray) -> float:
    """Pearson r, or NaN where a constant input leaves it undefined."""
    if np.ptp(x) == 0 or np.ptp(y) == 0:
        return float("nan")
    return float(pearsonr(x, y).statistic)


def leave_one_out_pearson(
    x: Sequence[float] | np.ndarray,
    y: Sequence[float] | np.ndarray,
    labels: Sequence[str] | np.ndarray,
) -> pd.DataFrame:
    """Pearson r with each label's points left out in turn (a label is one point, or a
    cluster of points): does the correlation rest on one or two of them?

    Returns one row per label, sorted by the change: ``left_out``, ``r``,
    ``change`` (r without the label − r with all points)."""
    x = np.asarray(x, dtype=np.float64)
    y = np.asarray(y, dtype=np.float64)
    labels = np.asarray(labels)
    full = _pearson_or_nan(x, y)
    rows = []
    for name in dict.fromkeys(labels.tolist()):
        keep = labels != name
        r = _pearson_or_nan(x[keep], y[keep]) if keep.sum() > 2 else float("nan")
        rows.append({"left_out": name, "r": r, "change": r - full})
    return pd.DataFrame(rows).sort_values("change", key=np.abs, ascending=False, ignore_index=True)


def estimate_from_samples(samples: np.ndarray, n: int, *, ci: float = CI_LEVEL) -> Estimate:
    """An :class:`Estimate` from an array whose first entry is the value on the data and
    whose other entries are bootstrap resamples (as
    :func:`steerspace.metrics.geometry.table1_resampled` returns them)."""
    samples = np.asarray(samples, dtype=np.float64)
    if samples.ndim != 1 or samples.size < 2:
        raise ValueError(f"need the value and at least one resample, got shape {samples.shape}")
    low, high = percentile_interval(samples[1:], ci)
    return Estimate(float(samples[0]), low, high, int(n))


def fisher_pearson(
    x: Sequence[float] | np.ndarray, y: Sequence[float] | np.ndarray, *, ci: float = CI_LEVEL
) -> dict[str, float | int]:
    """Pearson r with its Fisher-z interval and the p-value of the same transform.

    ``z = atanh(r)`` is close to normal with standard error ``1 / sqrt(n − 3)``; the
    interval is ``tanh(z ± q / sqrt(n − 3))`` and the p-value ``2 (1 − Φ(|z| sqrt(n − 3)))``
    (two-sided, H0: r = 0), so the interval excludes 0 exactly when p < 1 − ``ci``. Used
    for the paper's Table 2 (cross-lingual retrieval chapter). NaN pairs are dropped; a
    constant input, or fewer than 4 pairs, gives NaN throughout.

    Returns a dict with ``r``, ``ci_low``, ``ci_high``, ``p_value`` and ``n``.
    """
    if not 0.0 < ci < 1.0:
        raise ValueError(f"ci must be in (0, 1), got {ci!r}")
    x = np.asarray(x, dtype=np.float64).ravel()
    y = np.asarray(y, dtype=np.float64).ravel()
    if x.shape != y.shape:
        raise ValueError(f"x and y must have the same length, got {x.size} and {y.size}")
    keep = np.isfinite(x) & np.isfinite(y)
    x, y = x[keep], y[keep]
    n = int(x.size)
    nan = float("nan")
    r = _pearson_or_nan(x, y) if n >= 2 else nan
    if n < 4 or not math.isfinite(r):
        return {"r": r, "ci_low": nan, "ci_high": nan, "p_value": nan, "n": n}
    z = math.atanh(min(max(r, -1.0 + 1e-15), 1.0 - 1e-15))
    se = 1.0 / math.sqrt(n - 3)
    q = float(norm.ppf(0.5 + ci / 2.0))
    return {
        "r": r,
        "ci_low": math.tanh(z - q * se),
        "ci_high": math.tanh(z + q * se),
        "p_value": float(2.0 * norm.sf(abs(z) / se)),
        "n": n,
    }


def two_level_samples(per_draw: np.ndarray, *, n_boot: int, seed: int = 0) -> np.ndarray:
    """Resamples of a mean over random draws whose values are themselves resampled.

    ``per_draw`` is (draws, 1 + n_boot): for each draw (e.g. one random choice of units
    in the §7 control), its value on the data and on ``n_boot`` resamples of the
    sentences or queries (the same rows for every draw). Returns (1 + n_boot,) values:
    index 0 is the mean over draws on the data; resample b draws the draws with
    replacement and averages their b-th row resample, so the interval from
    :func:`estimate_from_samples` covers both sources of variation: which units were
    drawn, and which sentences.
    """
    arr = np.asarray(per_draw, dtype=np.float64)
    if arr.ndim != 2 or arr.shape[1] != n_boot + 1 or arr.shape[0] < 1:
        raise ValueError(f"per_draw must be (draws, 1 + n_boot={n_boot + 1}), got {arr.shape}")
    draws = arr.shape[0]
    pick = np.random.default_rng(seed).integers(0, draws, size=(n_boot, draws))
    resampled = arr[pick, np.arange(1, n_boot + 1)[:, None]].mean(axis=1)
    return np.concatenate([[arr[:, 0].mean()], resampled])


def mean_samples(values: np.ndarray, *, n_boot: int, seed: int = 0) -> np.ndarray:
    """The mean of per-unit ``values`` on the data and on ``n_boot`` resamples of the
    units, as a (1 + n_boot,) array (the layout :func:`estimate_from_samples` reads).
    The same ``seed`` draws the same units, so arrays from several conditions or random
    draws over the same units are paired."""
    arr = np.asarray(values, dtype=np.float64).ravel()
    counts = resample_counts(arr.size, n_boot=n_boot, seed=seed)
    return np.concatenate([[arr.mean()], counts @ arr / arr.size])

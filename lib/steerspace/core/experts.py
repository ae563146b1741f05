"""Finding experts (paper §3.2, Suau et al.): AUROC of every unit at once, the expert
table, top-k and random selection, and the intervention that sets the chosen units to
their mean over the positive sentences.
"""

from __future__ import annotations

import os
import sys
import warnings
from collections.abc import Sequence
from concurrent.futures import ThreadPoolExecutor

import numpy as np
import pandas as pd
import torch
from scipy.stats import rankdata

from steerspace.core.checks import check_k
from steerspace.core.forward import record_activations
from steerspace.core.hooks import Intervention, find_modules, layer_of


def auroc(scores: np.ndarray, labels: np.ndarray, *, chunk: int = 4096) -> np.ndarray:
    """Area under the ROC curve of every column of ``scores`` against ``labels``.

    The Mann–Whitney statistic with average ranks for ties, in float64: equal to
    ``sklearn.metrics.roc_auc_score(labels, scores[:, j])`` for every column ``j``.
    A constant column has no ranking and gives NaN, with a warning. float32 scores (the
    pooled activations) take an exact sort-based path (:func:`_rank_sums_float32`,
    about 17× faster than ranking: ``bench/auroc.py``); other dtypes are ranked in
    float64 with ``scipy.stats.rankdata``.

    Parameters
    ----------
    scores : (n_sentences, n_units) array.
    labels : (n_sentences,) booleans, True for the positive set.
    chunk : columns ranked at a time (bounds memory).

    Raises
    ------
    ValueError
        Shapes disagree, or only one class is present.
    """
    scores = np.asarray(scores)
    labels = np.asarray(labels).astype(bool)
    if scores.ndim != 2 or labels.shape != (scores.shape[0],):
        raise ValueError(
            f"auroc needs scores (n, units) and labels (n,), got {scores.shape} and {labels.shape}"
        )
    n_pos = int(labels.sum())
    n_neg = len(labels) - n_pos
    if n_pos == 0 or n_neg == 0:
        raise ValueError(
            f"auroc needs both classes, got {n_pos} positive and {n_neg} negative sentences"
        )
    if scores.dtype == np.float32:
        rank_sum = _rank_sums_float32(scores, labels)
    else:
        rank_sum = np.empty(scores.shape[1], dtype=np.float64)
        for start in range(0, scores.shape[1], chunk):
            ranks = rankdata(scores[:, start : start + chunk].astype(np.float64), axis=0)
            rank_sum[start : start + chunk] = ranks[labels].sum(axis=0)
    out = (rank_sum - n_pos * (n_pos + 1) / 2) / (n_pos * n_neg)
    constant = np.ptp(scores, axis=0) == 0
    if constant.any():
        warnings.warn(
            f"{int(constant.sum())} unit(s) are constant over all sentences; their AUROC is NaN",
            RuntimeWarning,
            stacklevel=2,
        )
        out[constant] = np.nan
    return out


def _rank_sums_float32(scores: np.ndarray, labels: np.ndarray, *, chunk: int = 64) -> np.ndarray:
    """Positives' average-rank sum of every column of float32 ``scores``, exactly.

    Each value is mapped to an order-preserving unsigned 32-bit integer and written into
    the high word of a 64-bit key whose low word is its label, so one integer sort per
    unit orders the values and carries the labels along; the positives' rank sum is then
    one matrix-vector product of the sorted low words with the positions (in float32
    while every partial sum is an integer below 2**24, so exact, else float64). Within a
    tie group the sort puts negatives first; for units with ties a second sort with the
    label flipped puts positives first, and the average of the two rank sums is the
    average-rank sum (Mann–Whitney with half credit for ties). Blocks of ``chunk``
    units run on threads (numpy's sort releases the GIL), each transposing its own
    columns while it copies them, and writing the two 32-bit words of the keys directly
    (64-bit shifts and a global transpose each cost more than the sort).
    """
    n = len(labels)
    exact_float32 = n * (n + 1) // 2 < 2**24
    positions = np.arange(1, n + 1, dtype=np.float32 if exact_float32 else np.float64)
    label_word = labels.astype(np.uint32)
    high, low = (1, 0) if sys.byteorder == "little" else (0, 1)

    def block(start: int) -> np.ndarray:
        # (units, n): a transposed copy; adding +0.0 turns -0.0 into +0.0
        values = scores[:, start : start + chunk].T + np.float32(0.0)
        bits = values.view(np.int32)
        bits ^= (bits >> 31) | np.int32(-(2**31))  # order-preserving float32 → uint32
        keys = np.empty(values.shape, dtype=np.uint64)
        words = keys.view(np.uint32).reshape(*values.shape, 2)
        words[:, :, high] = bits.view(np.uint32)
        words[:, :, low] = label_word
        keys.sort(axis=1)
        sums = (words[:, :, low].astype(positions.dtype) @ positions).astype(np.float64)
        tied = (words[:, 1:, high] == words[:, :-1, high]).any(axis=1)
        if tied.any():
            flipped = keys[tied] ^ np.uint64(1)
            flipped.sort(axis=1)
            negatives = flipped.view(np.uint32).reshape(*flipped.shape, 2)[:, :, low]
            positives_first = (1 - negatives).astype(positions.dtype) @ positions
            sums[tied] = (sums[tied] + positives_first) / 2
        return sums

    starts = range(0, scores.shape[1], chunk)
    with ThreadPoolExecutor(max_workers=min(4, os.cpu_count() or 1)) as pool:
        parts = list(pool.map(block, starts))
    return np.concatenate(parts) if parts else np.empty(0)


def expert_table(
    positive: dict[str, np.ndarray],
    negative: dict[str, np.ndarray],
    *,
    target: str = "",
) -> pd.DataFrame:
    """One row per unit: ``module, layer, unit, auroc, mean_pos, mean_neg``, best first.

    ``positive`` and ``negative`` map module name → (sentences, units) pooled
    activations of the positive and negative sets. ``mean_pos`` is the value the
    intervention sets the unit to.
    """
    frames = []
    for name in positive:
        pos, neg = positive[name], negative[name]
        labels = np.r_[np.ones(len(pos), bool), np.zeros(len(neg), bool)]
        scores = np.concatenate([pos, neg])
        frames.append(
            pd.DataFrame(
                {
                    "module": name,
                    "layer": layer_of(name),
                    "unit": np.arange(pos.shape[1]),
                    "auroc": auroc(scores, labels),
                    "mean_pos": pos.mean(axis=0, dtype=np.float64),
                    "mean_neg": neg.mean(axis=0, dtype=np.float64),
                }
            )
        )
    table = pd.concat(frames, ignore_index=True)
    table.insert(0, "target", target)
    return rank_experts(table)


def find_experts(
    model: torch.nn.Module,
    tokenizer,
    positive: Sequence[str],
    negative: Sequence[str],
    *,
    modules: str,
    k: int,
    capture: str = "input",
    pooling: str = "mean",
    batch_size: int = 16,
    target: str = "",
) -> pd.DataFrame:
    r"""The ``k`` units that best tell ``positive`` sentences from ``negative`` ones.

    The paper's §3.2 (after Suau et al.): every unit of the modules matching
    ``modules`` is scored by the AUROC of its mean-pooled activation as a detector of
    the positive sentences (:func:`auroc`), and the ``k`` best are the experts. The
    chapters run the same steps through the cache (:class:`steerspace.pipeline.Pipeline`).

    Parameters
    ----------
    model, tokenizer
        A causal LM and its tokenizer, e.g. from :func:`steerspace.load_model`.
    positive, negative
        Sentences of the target language, and of the other languages.
    modules
        A regular expression on module names, e.g. ``r"model\.layers\.\d+\.mlp\.down_proj"``
        (Gemma, Llama); the shipped configs give one per architecture.
    k
        How many experts, at most the number of units with a defined AUROC.
    capture
        ``"input"`` (the module's input: the MLP's units, the paper's choice) or
        ``"output"``.
    pooling, batch_size
        How a sentence's tokens are pooled, and sentences per forward pass.
    target
        A label written in the table's ``target`` column.

    Returns
    -------
    pandas.DataFrame
        One row per expert, best first: ``target, module, layer, unit, auroc,
        mean_pos, mean_neg, rank``; ``mean_pos`` is the value
        :func:`make_intervention` sets the unit to.

    Examples
    --------
    >>> from steerspace import find_experts, load_model
    >>> model, tokenizer = load_model(model_dir)  # a hub id or a local folder
    >>> experts = find_experts(
    ...     model, tokenizer,
    ...     positive=["el perro come", "la casa es grande", "el sol brilla"],
    ...     negative=["the dog eats", "the house is big", "the sun shines"],
    ...     modules=r"model\.layers\.\d+\.mlp\.down_proj", k=5, target="es",
    ... )
    >>> len(experts), list(experts.columns[:5])
    (5, ['target', 'module', 'layer', 'unit', 'auroc'])
    >>> bool(experts["auroc"].is_monotonic_decreasing)
    True
    """
    found = find_modules(model, modules)
    options = dict(capture=capture, pooling=pooling, batch_size=batch_size)
    pos = record_activations(model, tokenizer, positive, found, **options)
    neg = record_activations(model, tokenizer, negative, found, **options)
    return top_k(expert_table(pos, neg, target=target), k)


def rank_experts(table: pd.DataFrame) -> pd.DataFrame:
    """Sort by AUROC (descending, NaN last), ties by layer then unit; add ``rank`` from 0."""
    out = table.sort_values(
        ["auroc", "layer", "unit"], ascending=[False, True, True], na_position="last"
    ).reset_index(drop=True)
    out["rank"] = np.arange(len(out))
    return out


def _check_k(k: int, table: pd.DataFrame) -> int:
    usable = int(table["auroc"].notna().sum())
    return check_k(k, usable, units="units with a defined AUROC")


def top_k(table: pd.DataFrame, k: int) -> pd.DataFrame:
    """The ``k`` units with the highest AUROC (the paper's experts)."""
    k = _check_k(k, table)
    return rank_experts(table).head(k).reset_index(drop=True)


def random_k(table: pd.DataFrame, k: int, *, seed: int) -> pd.DataFrame:
    """``k`` units drawn uniformly without replacement (the paper's §7 control), seeded,
    in the order drawn.

    Each row keeps its own ``mean_pos``; :meth:`steerspace.pipeline.Pipeline.intervention`
    either uses those (random units set to their own means) or, as the paper does,
    gives the i-th drawn unit the i-th expert's value (the draw order makes that
    pairing random).
    """
    k = _check_k(k, table)
    pool = table[table["auroc"].notna()]
    rng = np.random.default_rng(seed)
    rows = rng.choice(len(pool), size=k, replace=False)
    return pool.iloc[rows].reset_index(drop=True)


def make_intervention(
    experts: pd.DataFrame,
    *,
    label: str,
    capture: str = "input",
    strength: float = 1.0,
    values: Sequence[float] | None = None,
) -> Intervention:
    """The paper's intervention: each expert's unit fixed to its typical value.

    Parameters
    ----------
    experts
        Rows with ``module``, ``unit`` and ``mean_pos``, e.g. from :func:`find_experts`.
    label
        A name for caches and figures, e.g. ``"es-top500"``.
    capture
        ``"input"`` or ``"output"``: the side of the module the units are on (as when
        they were found).
    strength
        In [0, 1]: 1 sets the units (the paper), 0 leaves the model as it is.
    values
        One value per row instead of ``mean_pos``.

    Returns
    -------
    Intervention
        To use with :func:`~steerspace.core.hooks.intervening` or ``intervention=`` of
        :func:`~steerspace.core.forward.embed`.

    Examples
    --------
    >>> import pandas as pd
    >>> from steerspace import make_intervention
    >>> experts = pd.DataFrame({"module": ["model.layers.1.mlp.down_proj"] * 2,
    ...                         "unit": [3, 7], "mean_pos": [0.5, -1.25]})
    >>> intervention = make_intervention(experts, label="es-top2")
    >>> intervention.size, intervention.values["model.layers.1.mlp.down_proj"].tolist()
    (2, [0.5, -1.25])
    """
    vals = np.asarray(experts["mean_pos"] if values is None else values, dtype=np.float32)
    units: dict[str, torch.Tensor] = {}
    targets: dict[str, torch.Tensor] = {}
    modules = experts["module"].to_numpy()
    unit_idx = experts["unit"].to_numpy()
    for name in dict.fromkeys(modules):
        sel = modules == name
        units[name] = torch.as_tensor(unit_idx[sel], dtype=torch.long)
        targets[name] = torch.as_tensor(vals[sel])
    return Intervention(units, targets, label=label, capture=capture, strength=strength)


def count_above(table: pd.DataFrame, thresholds: Sequence[float]) -> pd.Series:
    """How many units have AUROC above each threshold."""
    return pd.Series({t: int((table["auroc"] > t).sum()) for t in thresholds}, name="units above")


def overlap_matrix(experts: dict[str, pd.DataFrame]) -> pd.DataFrame:
    """Jaccard overlap between the expert sets of several targets (rows = columns = targets)."""
    keys = {t: set(zip(df["module"], df["unit"], strict=True)) for t, df in experts.items()}
    names = list(keys)
    mat = [[len(keys[a] & keys[b]) / max(1, len(keys[a] | keys[b])) for b in names] for a in names]
    return pd.DataFrame(mat, index=names, columns=names)

"""The §4 distances and §5 retrieval, layer by layer.

A *layer space* maps language → (n_sentences, n_states, hidden_size): the pooled hidden
states of :meth:`steerspace.pipeline.Pipeline.layer_space`. They are numbered as
**hidden states**, not blocks: state 0 is the embedding output, state s (1 ≤ s < last)
the output of block s − 1 (``model.layers.{s-1}``, the numbering of the experts), and the
last state the final-norm output the paper embeds. An expert in block b changes states
b + 1 onwards (:func:`first_state_changed`).

Each function applies a last-layer analysis to every state; the ``*_intervals``
functions add 95 % intervals that resample the independent unit (aligned sentences for
distances, queries for retrieval), paired between the original and the intervened
model.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence

import numpy as np
import pandas as pd

from steerspace.metrics.geometry import as_matrix, distance_matrix, unit_rows
from steerspace.metrics.inference import bootstrap_columns, percentile_interval, resample_counts
from steerspace.metrics.retrieval import top1_hits

#: the per-state distances of :func:`distances_by_layer` (Table 1's names)
LAYER_DISTANCES = ("all_languages", "to_target")


def n_layers(layer_space: Mapping[str, np.ndarray]) -> int:
    """How many hidden states (entries of axis 1) a layer space has; checks it is one."""
    if not layer_space:
        raise ValueError("the layer space is empty; give at least one language")
    shapes = {lang: np.shape(x) for lang, x in layer_space.items()}
    if any(len(shape) != 3 for shape in shapes.values()):
        raise ValueError(
            f"a layer space holds (sentences, layers, hidden) arrays; got shapes {shapes}"
        )
    counts = {shape[1] for shape in shapes.values()}
    if len(counts) != 1:
        raise ValueError(f"languages have different numbers of layers: {shapes}")
    return counts.pop()


def first_state_changed(block: int) -> int:
    """The first hidden state an intervention in block ``block`` can change (block + 1)."""
    if block < 0:
        raise ValueError(f"block must be a non-negative block index, got {block}")
    return block + 1


def at_layer(layer_space: Mapping[str, np.ndarray], layer: int) -> dict[str, np.ndarray]:
    """The ordinary space (language → (n, hidden) float32) of one hidden state."""
    total = n_layers(layer_space)
    if not -total <= layer < total:
        raise ValueError(f"layer {layer} out of range; the space has layers 0..{total - 1}")
    return {lang: np.asarray(x[:, layer], dtype=np.float32) for lang, x in layer_space.items()}


def _check_target(layer_space: Mapping[str, np.ndarray], target: str) -> None:
    if target not in layer_space:
        raise ValueError(f"target must be one of {sorted(layer_space)}, got {target!r}")


def distances_by_layer(layer_space: Mapping[str, np.ndarray], target: str) -> pd.DataFrame:
    """Per state: ``all_languages`` (mean pairwise cosine distance between the languages
    other than ``target``) and ``to_target`` (mean distance of ``target`` to the others),
    as in Table 1 (:func:`steerspace.metrics.geometry.table1_row`, without the medoid columns)."""
    _check_target(layer_space, target)
    rows = []
    for layer in range(n_layers(layer_space)):
        dist = distance_matrix(at_layer(layer_space, layer))
        others = [lang for lang in dist.index if lang != target]
        sub = dist.loc[others, others].to_numpy()
        rows.append(
            {
                "layer": layer,
                "all_languages": float(sub[np.triu_indices(len(others), k=1)].mean()),
                "to_target": float(dist.loc[target, others].mean()),
            }
        )
    return pd.DataFrame(rows).set_index("layer")


def _estimate_row(samples: np.ndarray, n: int) -> dict[str, float]:
    low, high = percentile_interval(samples[1:])
    return {"value": float(samples[0]), "low": low, "high": high, "n": n}


def _resampled_similarity(
    space: Mapping[str, np.ndarray], langs: list[str], weights: np.ndarray
) -> np.ndarray:
    """(B, L, L) inner products of the languages' mean unit vectors under each row of
    ``weights`` ((B, n) multiplicities of the aligned sentences): the mean cosine over
    all sentence pairs of two languages (:func:`steerspace.metrics.geometry.language_distance`)."""
    n = weights.shape[1]
    means = np.stack([weights @ unit_rows(as_matrix(space[lang], lang)) / n for lang in langs])
    return np.einsum("lbd,mbd->blm", means, means)


def distance_intervals_by_layer(
    pre: Mapping[str, np.ndarray],
    post: Mapping[str, Mapping[str, np.ndarray]],
    *,
    n_boot: int,
    seed: int = 0,
) -> pd.DataFrame:
    """:func:`distances_by_layer` for the original space and each target's intervened
    one, with 95 % intervals that resample the aligned sentences (the same resamples
    for every state and space, so changes are paired).

    Parameters
    ----------
    pre : the original model's layer space.
    post : target → the layer space under that target's intervention.

    Returns
    -------
    Long DataFrame, one row per (``layer``, ``target``, ``quantity`` ∈
    :data:`LAYER_DISTANCES`, ``condition``) with ``value``, ``low``, ``high``. The
    conditions are ``pre``, ``post``, ``change`` (post − pre) and ``relative_change``
    ((post − pre) / pre: the change relative to the distance the state starts from);
    ``n`` is the number of sentences resampled.
    """
    targets = list(post)
    if not targets:
        raise ValueError("post must map at least one target to its layer space")
    for target in targets:
        _check_target(pre, target)
        if n_layers(post[target]) != n_layers(pre):
            raise ValueError(f"post[{target!r}] has another number of layers than pre")
    langs = list(pre)
    n_sentences = next(iter(pre.values())).shape[0]
    weights = np.vstack(
        [np.ones((1, n_sentences)), resample_counts(n_sentences, n_boot=n_boot, seed=seed)]
    )
    pairs = np.triu_indices(len(langs), k=1)
    values: dict[str, dict[str, np.ndarray]] = {}
    rows = []
    for layer in range(n_layers(pre)):
        similarity = {  # (1 + n_boot, L, L): cosine of the resampled mean unit vectors
            label: _resampled_similarity(at_layer(space, layer), langs, weights)
            for label, space in ({"pre": pre} | dict(post)).items()
        }
        for target in targets:
            i = langs.index(target)
            keep = (pairs[0] != i) & (pairs[1] != i)
            others = [j for j in range(len(langs)) if j != i]
            for label, condition in (("pre", "pre"), (target, "post")):
                sim = similarity[label]
                values[condition] = {
                    "all_languages": 1.0 - sim[:, pairs[0][keep], pairs[1][keep]].mean(axis=1),
                    "to_target": 1.0 - sim[:, i, others].mean(axis=1),
                }
            for quantity in LAYER_DISTANCES:
                before, after = values["pre"][quantity], values["post"][quantity]
                with np.errstate(divide="ignore", invalid="ignore"):
                    relative = (after - before) / before
                for condition, samples in (
                    ("pre", before),
                    ("post", after),
                    ("change", after - before),
                    ("relative_change", relative),
                ):
                    rows.append(
                        {
                            "layer": layer,
                            "target": target,
                            "quantity": quantity,
                            "condition": condition,
                            **_estimate_row(samples, n_sentences),
                        }
                    )
    return pd.DataFrame(rows)


def retrieval_hits_by_layer(
    layer_space: Mapping[str, np.ndarray], target: str, *, score: str = "dot"
) -> np.ndarray:
    """Per state, query and candidate language: whether the ``target`` query's top-1
    candidate is its translation (paper §5). (n_states, n_sentences, n_candidates) bool,
    candidates in the space's order without the target."""
    _check_target(layer_space, target)
    out = []
    for layer in range(n_layers(layer_space)):
        space = at_layer(layer_space, layer)
        out.append(
            np.stack(
                [top1_hits(space[target], space[c], score=score) for c in space if c != target],
                axis=1,
            )
        )
    return np.stack(out)


def retrieval_by_layer(
    layer_space: Mapping[str, np.ndarray], target: str, *, score: str = "dot"
) -> pd.DataFrame:
    """Per state, top-1 accuracy of ``target`` queries against each other language's
    candidates (paper §5): one column per candidate language plus ``mean``."""
    hits = retrieval_hits_by_layer(layer_space, target, score=score)
    frame = pd.DataFrame(
        hits.mean(axis=1), columns=[c for c in layer_space if c != target]
    ).rename_axis("layer")
    frame["mean"] = frame.mean(axis=1)
    return frame


def retrieval_intervals_by_layer(
    pre: Mapping[str, np.ndarray],
    post: Mapping[str, Mapping[str, np.ndarray]],
    *,
    scores: Sequence[str] = ("dot", "cosine"),
    n_boot: int,
    seed: int = 0,
) -> pd.DataFrame:
    """Top-1 accuracy with the target as query (mean over candidate languages) per
    state, pre and post each target's intervention, and its change, with 95 % intervals
    that resample the queries (jointly over candidates, paired between pre and post).

    Returns a long DataFrame, one row per (``layer``, ``target``, ``score``,
    ``condition`` ∈ pre, post, change) with ``value``, ``low``, ``high`` and ``n``
    (queries).
    """
    rows = []
    for target in post:
        for score in scores:
            before = retrieval_hits_by_layer(pre, target, score=score).mean(axis=2)  # (L, n)
            after = retrieval_hits_by_layer(post[target], target, score=score).mean(axis=2)
            for condition, values in (
                ("pre", before),
                ("post", after),
                ("change", after - before),
            ):
                estimates = bootstrap_columns(values.T, n_boot=n_boot, seed=seed)
                rows += [
                    {
                        "layer": layer,
                        "target": target,
                        "score": score,
                        "condition": condition,
                        **est.as_dict(),
                    }
                    for layer, est in enumerate(estimates)
                ]
    return pd.DataFrame(rows)

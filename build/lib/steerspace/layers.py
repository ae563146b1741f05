"""The §4 distances and §5 retrieval, layer by layer.

A *layer space* maps language → (n_sentences, n_layers + 1, hidden_size): the pooled
hidden state after the embedding layer (index 0) and after every block, the last index
being the final-norm output the paper embeds (:meth:`steerspace.pipeline.Pipeline.layer_space`).
Each function applies a last-layer analysis to every layer and returns one row per layer.
"""

from __future__ import annotations

from collections.abc import Mapping

import numpy as np
import pandas as pd

from steerspace.geometry import distance_matrix
from steerspace.retrieval import top1_accuracy


def n_layers(layer_space: Mapping[str, np.ndarray]) -> int:
    """How many layers (entries of axis 1) a layer space has; checks it is one."""
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


def at_layer(layer_space: Mapping[str, np.ndarray], layer: int) -> dict[str, np.ndarray]:
    """The ordinary space (language → (n, hidden) float32) of one layer."""
    total = n_layers(layer_space)
    if not -total <= layer < total:
        raise ValueError(f"layer {layer} out of range; the space has layers 0..{total - 1}")
    return {lang: np.asarray(x[:, layer], dtype=np.float32) for lang, x in layer_space.items()}


def distances_by_layer(layer_space: Mapping[str, np.ndarray], target: str) -> pd.DataFrame:
    """Per layer: ``all_languages`` (mean pairwise cosine distance between the languages
    other than ``target``) and ``target`` (mean distance of ``target`` to the others), as
    in Table 1 (:func:`steerspace.geometry.table1_row`, without the medoid columns)."""
    if target not in layer_space:
        raise ValueError(f"target must be one of {sorted(layer_space)}, got {target!r}")
    rows = []
    for layer in range(n_layers(layer_space)):
        dist = distance_matrix(at_layer(layer_space, layer))
        others = [lang for lang in dist.index if lang != target]
        sub = dist.loc[others, others].to_numpy()
        rows.append(
            {
                "layer": layer,
                "all_languages": float(sub[np.triu_indices(len(others), k=1)].mean()),
                "target": float(dist.loc[target, others].mean()),
            }
        )
    return pd.DataFrame(rows).set_index("layer")


def retrieval_by_layer(
    layer_space: Mapping[str, np.ndarray], target: str, *, score: str = "dot"
) -> pd.DataFrame:
    """Per layer, top-1 accuracy of ``target`` queries against each other language's
    candidates (paper §5): one column per candidate language plus ``mean``."""
    if target not in layer_space:
        raise ValueError(f"target must be one of {sorted(layer_space)}, got {target!r}")
    rows = []
    for layer in range(n_layers(layer_space)):
        space = at_layer(layer_space, layer)
        rows.append(
            {
                cand: top1_accuracy(space[target], space[cand], score=score)
                for cand in space
                if cand != target
            }
        )
    frame = pd.DataFrame(rows).rename_axis("layer")
    frame["mean"] = frame.mean(axis=1)
    return frame

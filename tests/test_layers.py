"""Layer-by-layer analyses equal the last-layer ones applied to each layer's slice."""

from __future__ import annotations

import numpy as np
import pytest

from steerspace.geometry import table1_row
from steerspace.layers import at_layer, distances_by_layer, n_layers, retrieval_by_layer
from steerspace.retrieval import target_query_frame


@pytest.fixture
def layer_space():
    rng = np.random.default_rng(0)
    meaning = rng.normal(size=(12, 3, 8))
    return {
        lang: meaning + shift * rng.normal(size=(1, 3, 8)) + 0.1 * rng.normal(size=(12, 3, 8))
        for lang, shift in [("en", 1.0), ("es", 2.0), ("fr", 0.5), ("ja", 3.0)]
    }


def test_at_layer_and_counts(layer_space):
    assert n_layers(layer_space) == 3
    np.testing.assert_allclose(at_layer(layer_space, -1)["es"], layer_space["es"][:, 2], rtol=1e-6)
    with pytest.raises(ValueError, match="out of range"):
        at_layer(layer_space, 3)
    with pytest.raises(ValueError, match="sentences, layers, hidden"):
        n_layers({"en": np.zeros((4, 8))})
    with pytest.raises(ValueError, match="different numbers of layers"):
        n_layers({"en": np.zeros((4, 2, 8)), "es": np.zeros((4, 3, 8))})


def test_distances_by_layer_match_table1(layer_space):
    frame = distances_by_layer(layer_space, "es")
    assert list(frame.index) == [0, 1, 2]
    for layer in range(3):
        row = table1_row(at_layer(layer_space, layer), "es")
        assert frame.loc[layer, "all_languages"] == pytest.approx(row["all_languages"])
        assert frame.loc[layer, "target"] == pytest.approx(row["target"])
    with pytest.raises(ValueError, match="target must be one of"):
        distances_by_layer(layer_space, "de")


@pytest.mark.parametrize("score", ["dot", "cosine"])
def test_retrieval_by_layer_matches_target_queries(layer_space, score):
    frame = retrieval_by_layer(layer_space, "es", score=score)
    assert list(frame.columns) == ["en", "fr", "ja", "mean"]
    for layer in range(3):
        space = at_layer(layer_space, layer)
        ref = target_query_frame(space, space, "es", score=score)["acc_pre"]
        np.testing.assert_allclose(frame.loc[layer, ref.index], ref.to_numpy())
        assert frame.loc[layer, "mean"] == pytest.approx(ref.mean())

"""Layer-by-layer analyses equal the last-layer ones applied to each layer's slice."""

from __future__ import annotations

import numpy as np
import pytest

from steerspace.analyses.beyond_the_paper.layers import (
    at_layer,
    distance_intervals_by_layer,
    distances_by_layer,
    first_state_changed,
    n_layers,
    retrieval_by_layer,
    retrieval_intervals_by_layer,
)
from steerspace.metrics.geometry import table1_row
from steerspace.metrics.retrieval import target_query_frame


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
        assert frame.loc[layer, "to_target"] == pytest.approx(row["target"])
    assert list(frame.columns) == ["all_languages", "to_target"]
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


def test_first_state_changed_is_the_block_plus_one():
    assert first_state_changed(0) == 1 and first_state_changed(16) == 17
    with pytest.raises(ValueError, match="non-negative"):
        first_state_changed(-1)


def test_distance_intervals_keep_the_distance_per_target_and_relative_change(layer_space):
    rng = np.random.default_rng(1)
    post = {
        t: {k: v + 0.5 * rng.normal(size=v.shape) for k, v in layer_space.items()}
        for t in ("es", "ja")
    }
    frame = distance_intervals_by_layer(layer_space, post, n_boot=50)
    assert set(frame["quantity"]) == {"all_languages", "to_target"}
    assert set(frame["target"]) == {"es", "ja"}  # the target column is a target, not a distance
    for target in ("es", "ja"):
        pre_ref = distances_by_layer(layer_space, target)
        post_ref = distances_by_layer(post[target], target)
        for layer in range(3):
            rows = frame[
                (frame.layer == layer) & (frame.target == target) & (frame.quantity == "to_target")
            ]
            values = rows.set_index("condition")["value"]
            assert values["pre"] == pytest.approx(pre_ref.loc[layer, "to_target"])
            assert values["post"] == pytest.approx(post_ref.loc[layer, "to_target"])
            assert values["change"] == pytest.approx(values["post"] - values["pre"])
            assert values["relative_change"] == pytest.approx(values["change"] / values["pre"])
    assert (frame["low"] <= frame["value"] + 1e-12).all() and (
        frame["value"] <= frame["high"] + 1e-12
    ).all()
    # the original space against itself: no change, a zero-width interval
    same = distance_intervals_by_layer(layer_space, {"es": layer_space}, n_boot=20)
    change = same[same.condition == "change"]
    assert np.allclose(change[["value", "low", "high"]].to_numpy(), 0.0)


def test_retrieval_intervals_are_the_target_query_means(layer_space):
    frame = retrieval_intervals_by_layer(
        layer_space, {"es": layer_space}, scores=("cosine",), n_boot=50
    )
    ref = retrieval_by_layer(layer_space, "es", score="cosine")["mean"]
    pre = frame[frame.condition == "pre"].set_index("layer")["value"]
    np.testing.assert_allclose(pre.to_numpy(), ref.to_numpy())
    change = frame[frame.condition == "change"]
    assert np.allclose(change[["value", "low", "high"]].to_numpy(), 0.0)
    assert (frame["n"] == 12).all()


def test_distance_intervals_equal_table1_resampled_state_by_state(layer_space):
    from steerspace.metrics.geometry import table1_resampled
    from steerspace.metrics.inference import percentile_interval

    post = {"es": {lang: 0.5 * x + 0.3 for lang, x in layer_space.items()}}
    frame = distance_intervals_by_layer(layer_space, post, n_boot=40, seed=3)
    for layer in range(3):
        ref = table1_resampled(
            {"pre": at_layer(layer_space, layer), "es": at_layer(post["es"], layer)},
            ["es"],
            n_boot=40,
            seed=3,
        )
        rows = frame[(frame.layer == layer)].set_index(["quantity", "condition"])
        for quantity, name, label, condition in [
            ("all_languages", "all_languages", "es", "post"),
            ("to_target", "target", "pre", "pre"),
        ]:
            samples = ref[label, "es", name]
            expected = [samples[0], *percentile_interval(samples[1:])]
            assert rows.loc[
                (quantity, condition), ["value", "low", "high"]
            ].tolist() == pytest.approx(expected)

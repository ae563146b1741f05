"""The two tests of paper §3.2 (experts exist; experts sit in particular layers): both
reach "support" and "against" on constructed expert tables."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from steerspace import expert_stats as es
from steerspace.claims import CLAIMS, assess

N_LAYERS, PER_LAYER = 6, 200


def table(auroc: np.ndarray) -> pd.DataFrame:
    """An expert table of N_LAYERS × PER_LAYER units with the given AUROCs (in unit
    order: layer-major)."""
    layers = np.repeat(np.arange(N_LAYERS), PER_LAYER)
    units = np.tile(np.arange(PER_LAYER), N_LAYERS)
    return pd.DataFrame(
        {
            "target": "es",
            "module": [f"model.layers.{i}.mlp.down_proj" for i in layers],
            "layer": layers,
            "unit": units,
            "auroc": auroc,
            "mean_pos": 1.0,
            "mean_neg": 0.0,
        }
    )


def test_hanley_mcneil_error_matches_simulated_aurocs_and_narrows_with_data():
    from steerspace.experts import auroc

    rng = np.random.default_rng(0)
    n_pos, n_neg, shift = 40, 60, 1.19  # binormal, AUROC = Phi(shift / sqrt 2) = 0.8
    scores = rng.normal(size=(n_pos + n_neg, 4000))
    scores[:n_pos] += shift
    aucs = auroc(scores, np.r_[np.ones(n_pos, bool), np.zeros(n_neg, bool)])
    low, high = es.hanley_mcneil_interval(float(aucs.mean()), n_pos, n_neg, ci=0.6827)
    assert (high - low) / 2 == pytest.approx(aucs.std(), rel=0.1)
    wide = es.hanley_mcneil_interval(0.7, 20, 20)
    narrow = es.hanley_mcneil_interval(0.7, 2000, 2000)
    assert narrow[1] - narrow[0] < (wide[1] - wide[0]) / 5
    assert es.hanley_mcneil_interval(1.0, 10, 10) == (1.0, 1.0)
    with pytest.raises(ValueError, match="auc must be in"):
        es.hanley_mcneil_interval(1.2, 10, 10)


def test_chance_auroc_controls_the_best_of_many_null_units():
    rng = np.random.default_rng(0)
    n_pos, n_neg, n_units = 30, 60, 400
    threshold = es.chance_auroc(n_pos, n_neg, n_units)
    assert es.chance_auroc(n_pos, n_neg, 1) < threshold < es.chance_auroc(n_pos, n_neg, 10**6)
    from steerspace.experts import auroc

    labels = np.r_[np.ones(n_pos, bool), np.zeros(n_neg, bool)]
    best = [auroc(rng.normal(size=(n_pos + n_neg, n_units)), labels).max() for _ in range(20)]
    assert np.mean(np.array(best) > threshold) <= 0.15  # at most about alpha of the draws
    with pytest.raises(ValueError, match="n_units"):
        es.chance_auroc(10, 10, 0)


def test_experts_exist_supported_when_the_kth_unit_is_strong_and_contradicted_at_chance():
    rng = np.random.default_rng(1)
    strong = rng.uniform(0.45, 0.505, N_LAYERS * PER_LAYER)
    strong[:20] = 0.95
    weak = strong.copy()
    weak[:20] = 0.51
    cases = ((strong, "support", "reproduced"), (weak, "against", "not reproduced"))
    for auc, outcome, verdict in cases:
        ev = es.exist_evidence("es", table(auc), 20, 500, 2500)
        assert ev.estimate.value == pytest.approx(auc[:20].min())
        assert ev.reference == pytest.approx(es.chance_auroc(500, 2500, N_LAYERS * PER_LAYER))
        assert CLAIMS["experts.exist"].rule.outcome(ev) == outcome
        assert assess("experts.exist", [ev]).verdict == verdict


def test_tv_distance_and_layer_shares():
    assert es.tv_distance([0.5, 0.5], [0.5, 0.5]) == 0
    assert es.tv_distance([1.0, 0.0], [0.0, 1.0]) == 1
    np.testing.assert_allclose(es.layer_shares([0, 0, 2], 3), [2 / 3, 0, 1 / 3])
    with pytest.raises(ValueError, match="block indices"):
        es.layer_shares([0, 5], 3)


def test_layers_supported_when_experts_crowd_one_layer_and_contradicted_when_spread():
    rng = np.random.default_rng(2)
    k = 120
    crowded = rng.uniform(0.4, 0.6, N_LAYERS * PER_LAYER)
    crowded[(N_LAYERS - 1) * PER_LAYER : (N_LAYERS - 1) * PER_LAYER + k] = 0.9  # last layer
    spread = rng.uniform(0.4, 0.6, N_LAYERS * PER_LAYER)
    spread[np.arange(N_LAYERS)[:, None] * PER_LAYER + np.arange(k // N_LAYERS)] = 0.9  # even
    outcomes = {}
    for name, auc in (("crowded", crowded), ("spread", spread)):
        ev = es.layers_evidence(name, table(auc), k, n_boot=500, seed=0)
        outcomes[name] = CLAIMS["experts.layers"].rule.outcome(ev)
        assert 0 < ev.reference < 0.3  # random units are never spread perfectly
    assert outcomes == {"crowded": "support", "spread": "against"}


def test_layer_concentration_bootstrap_and_null_are_seeded():
    units = np.repeat(np.arange(4), 50)
    experts = np.r_[np.zeros(15, int), np.ones(5, int)]
    a = es.layer_concentration(experts, units, n_boot=200, n_null=200, seed=3)
    b = es.layer_concentration(experts, units, n_boot=200, n_null=200, seed=3)
    assert a[0] == b[0] and a[1] == b[1]
    assert a[0].value == pytest.approx(0.5 * (abs(0.75 - 0.25) + abs(0.25 - 0.25) + 0.25 + 0.25))
    assert a[0].low <= a[0].value <= a[0].high


def test_random_layer_band_brackets_the_unit_share():
    band = es.random_layer_band(np.repeat(np.arange(5), 100), 50, n_draws=300, seed=0)
    assert list(band.index) == list(range(5))
    np.testing.assert_allclose(band["all_units"], 0.2)
    assert ((band["low"] <= 0.2) & (band["high"] >= 0.2)).all()


def test_top_k_changes_counts_replaced_units():
    auc = np.linspace(0, 1, N_LAYERS * PER_LAYER)
    a = table(auc)
    b = table(auc[::-1].copy())
    assert es.top_k_changes(a, a, 10) == 0
    assert es.top_k_changes(a, b, 10) == 10

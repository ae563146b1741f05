"""The two tests of paper §3.2 (experts exist; experts sit in particular layers): both
reach "support" and "against" on constructed expert tables."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from steerspace.analyses import finding_experts as es
from steerspace.claims import CLAIMS, assess
from steerspace.core.experts import top_k

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
    from steerspace.core.experts import auroc

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
    from steerspace.core.experts import auroc

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


# --- the finding-experts chapter's tables and computed sentences -------------------


def two_targets() -> dict[str, pd.DataFrame]:
    """es: four strong experts in the last layer and two weaker in the first; fr: the
    same units' AUROCs reversed (four in the first layer, two in the last)."""
    auc = np.full(N_LAYERS * PER_LAYER, 0.5)
    auc[-PER_LAYER : -PER_LAYER + 4] = 0.9
    auc[:2] = 0.8
    return {"es": table(auc), "fr": table(auc[::-1].copy()).assign(target="fr")}


def test_top_k_shares_and_the_table_of_top_experts():
    tables = two_targets()
    shares = es.top_k_shares(tables, 6, N_LAYERS)
    assert list(shares.columns) == ["es", "fr"] and list(shares.index) == list(range(N_LAYERS))
    assert shares.loc[N_LAYERS - 1, "es"] == pytest.approx(4 / 6)
    assert shares.loc[0, "es"] == pytest.approx(2 / 6)
    assert shares.loc[0, "fr"] == pytest.approx(4 / 6)
    assert shares.sum().tolist() == pytest.approx([1.0, 1.0])
    experts = {t: top_k(tab, 6) for t, tab in tables.items()}
    top = es.top_experts_table(experts, n=2)
    assert list(top.columns) == ["target", "rank", "block", "unit", "auroc", "mean_pos", "mean_neg"]
    assert top["target"].tolist() == ["es", "es", "fr", "fr"]
    assert top["block"].tolist() == [N_LAYERS - 1, N_LAYERS - 1, 0, 0]
    assert top["auroc"].tolist() == [0.9] * 4 and top["rank"].tolist() == [0, 1, 0, 1]


def test_size_values():
    sizes = es.size_values(1200, 6, 2, 50, 200, target="es", negatives=["de", "en", "zh"])
    assert sizes == {
        "n_units": "1,200",
        "n_blocks": "6",
        "units_per_block": "200",
        "n_targets": "2",
        "n_pos": "50",
        "n_neg": "200",
        "negatives": "de, en, zh",
        "target": "es",
        "block_range": "0 to 5",
        "state_range": "0 to 6",
    }


def test_exist_assessment_and_the_full_ranking():
    tables = two_targets()
    exist = es.exist_assessment(tables, 6, 500, 2500)
    assert [e.unit for e in exist.evidence] == list(tables)
    assert exist.summary.value == min(e.estimate.value for e in exist.evidence)
    ranking = es.auroc_ranking(tables)
    assert list(ranking.columns) == ["layer", "unit", *(f"auroc_{t}" for t in tables)]
    assert len(ranking) == len(next(iter(tables.values())))
    assert ranking[["layer", "unit"]].equals(
        ranking[["layer", "unit"]].sort_values(["layer", "unit"])
    )


def test_pooling_table1_values():
    diffs = pd.DataFrame(
        {
            "target": ["es", "fr"],
            "quantity": ["all_languages", "all_languages"],
            "low": [0.01, -0.02],
            "high": [0.03, 0.02],
            "text": ["+0.020 [+0.010, +0.030]", "+0.000 [−0.020, +0.020]"],
        }
    )
    labels = {"all_languages": "between\nlanguages"}
    out = es.pooling_table1_values(diffs, 1500, labels)
    assert out == {
        "pool_n": "1,500",
        "pool_decided": "1",
        "pool_pairs": "2",
        "pool_named": "es, between languages +0.020 [+0.010, +0.030]",
    }
    undecided = diffs.assign(low=-0.01)
    assert es.pooling_table1_values(undecided, 1500, labels)["pool_named"] == "none"


def test_expert_counts_and_exist_values():
    tables = two_targets()
    ev = [es.exist_evidence(t, tab, 6, 500, 2500) for t, tab in tables.items()]
    counts = es.expert_counts(tables, 0.6, ev, 6)
    assert list(counts.columns[:2]) == ["AUROC > 0.7", "AUROC > 0.8"]
    assert counts.columns[5] == "AUROC > chance (0.600)"
    assert counts.loc["es"].iloc[:6].tolist() == [6, 4, 0, 0, 0, 6]
    assert counts.loc["fr", "6-th best AUROC [95 % interval]"].startswith("0.800 [")
    text = es.exist_values(ev, counts, "reproduced", 0.6)
    assert text["alpha"] == "0.05" and text["chance"] == "0.600"
    assert text["exist_verdict"] == "reproduced" and text["above_chance"] == "es 6, fr 6"
    assert (
        text["exist_values"].startswith("**es** 0.800 [")
        and "; **fr** 0.800 [" in text["exist_values"]
    )


def test_last_quarter_and_layer_values():
    assert es.last_quarter(18) == (range(14, 18), "blocks 14–17")
    assert es.last_quarter(3) == (range(2, 3), "block 2")
    tables = two_targets()
    shares = es.top_k_shares(tables, 6, N_LAYERS)
    band = es.random_layer_band(np.repeat(np.arange(N_LAYERS), PER_LAYER), 6, n_draws=50)
    ev = [es.layers_evidence(t, tab, 6, n_boot=50) for t, tab in tables.items()]
    text = es.layer_values(ev, "reproduced", shares, band, n_boot=50)
    assert text["last_blocks"] == "block 5" and text["last_units"] == "16.7 %"
    assert text["last_share"] == "es 66.7 %, fr 33.3 %"
    assert text["null_q"] == "95th percentile" and text["n_boot"] == "50"
    assert (
        text["layers_values"].startswith("**es** ") and "(random units: " in text["layers_values"]
    )


def test_push_values_name_the_farthest_experts():
    experts = {t: top_k(tab, 6) for t, tab in two_targets().items()}
    experts["fr"].loc[0, "mean_pos"] = 5.0
    text = es.push_values(experts)
    assert text["push_median"] == "1.00"
    assert text["far"] == (
        "fr block 0 unit 196: 0.00 → 5.00; es block 5 unit 0: 0.00 → 1.00; "
        "es block 5 unit 1: 0.00 → 1.00"
    )


def test_pooling_comparison_counts_replaced_experts_and_last_shares():
    tables = two_targets()
    max_tables = {"es": tables["fr"].assign(target="es"), "fr": tables["fr"]}
    shares = es.top_k_shares(tables, 6, N_LAYERS)
    max_shares = es.top_k_shares(max_tables, 6, N_LAYERS)
    table, text = es.pooling_comparison(tables, max_tables, shares, max_shares, 6)
    assert table["experts replaced"].to_dict() == {"es": 6, "fr": 0}
    assert table["share in block 5 (mean)"].to_dict() == {"es": "66.7 %", "fr": "33.3 %"}
    assert table["share in block 5 (max)"].to_dict() == {"es": "33.3 %", "fr": "33.3 %"}
    assert text == {
        "pool_changes": "**es** 6 of 6, **fr** 0 of 6",
        "pool_last": "es 33.3 %, fr 33.3 %",
        "pool_range": "0–6",
    }

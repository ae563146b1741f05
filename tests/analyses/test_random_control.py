"""The random-unit control (paper §7): spaces, paired distance resamples, hits and
evidence, on made-up spaces and on a tiny model."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from steerspace.analyses import random_control as control
from steerspace.config import load_config
from steerspace.pipeline import Pipeline
from steerspace.text.format import fmt_ci

RNG = np.random.default_rng(0)
LANGS = ["de", "en", "es", "fr"]


def _space(n: int = 30, d: int = 8, shift: float = 0.0, seed: int = 0) -> dict[str, np.ndarray]:
    """Languages as clouds around their own direction; ``shift`` pulls them all towards
    one common direction (closer to each other)."""
    rng = np.random.default_rng(seed)
    common = np.ones(d)
    return {
        lang: rng.normal(size=(n, d)) * 0.3 + np.eye(d)[i] * 2 + shift * common
        for i, lang in enumerate(LANGS)
    }


def _spaces(random_shift: float) -> dict:
    pre, experts = _space(), _space(shift=4.0)
    random = {1: _space(shift=random_shift), 2: _space(shift=random_shift + 0.2)}
    return {
        ("es", "pre", 0): pre,
        ("es", "experts", 0): experts,
        **{("es", "experts' values", s): x for s, x in random.items()},
        ("es", "own means", 1): pre,
    }


def test_random_units_that_do_not_move_the_space_shrink_the_distance_less():
    samples = control.distance_samples(_spaces(random_shift=0.0), n_boot=200, seed=0)
    geometry, own = control.geometry_assessments(samples, ["es"], 30, n_boot=200)
    assert geometry.claim.id == "control.geometry" and own.claim.id == "control.geometry_own"
    (unit,) = geometry.evidence
    assert unit.estimate.low > 0  # random units shrink the distance less than experts
    assert geometry.verdict == "reproduced"
    assert geometry.summary.value == pytest.approx(unit.estimate.value)
    table = control.distance_table(samples, 30, n_boot=200)
    row = table[(table["quantity"] == "all_languages") & (table["condition"] == "experts' values")]
    assert row["seeds"].item() == 2
    assert row["seed_min"].item() < row["seed_max"].item()
    assert len(row["seed_values"].item()) == 2
    assert set(table["condition"]) == set(control.CONDITIONS)


def test_draws_are_a_unit_of_the_interval():
    # two draws that move the space very differently: the interval must cover both
    spaces = _spaces(random_shift=0.0)
    spaces["es", "experts' values", 2] = _space(shift=4.0)
    samples = control.distance_samples(spaces, n_boot=300, seed=1)
    (geometry, _) = control.geometry_assessments(samples, ["es"], 30, n_boot=300)
    draws = [samples["es", "experts' values", s, "all_languages"][0] for s in (1, 2)]
    experts = samples["es", "experts", 0, "all_languages"][0]
    unit = geometry.evidence[0].estimate
    assert unit.low <= min(draws) - experts + 1e-9 and unit.high >= max(draws) - experts - 1e-9


def test_distance_changes_put_random_minus_pre_beside_random_minus_experts():
    samples = control.distance_samples(_spaces(random_shift=0.0), n_boot=100, seed=0)
    changes = control.distance_changes(samples, 30, n_boot=100).set_index("comparison")
    assert {"experts − pre", "experts' values − pre", "experts' values − experts"} <= set(
        changes.index
    )
    total = changes.loc["experts' values − pre", "value"]
    assert total == pytest.approx(changes.loc["experts' values − experts", "value"]
                                  + changes.loc["experts − pre", "value"])  # fmt: skip


def test_target_query_hits_per_candidate_and_their_accuracy():
    space = {"es": RNG.normal(size=(20, 6))}
    space["de"] = space["es"] * 3.0  # perfect translations
    space["fr"] = RNG.normal(size=(20, 6))
    hits = control.target_query_hits(space, "es", score="cosine")
    assert list(hits.columns) == ["de", "fr"]
    assert hits["de"].all()
    frame = control.accuracy_by_candidate(
        {("es", "pre", 0): hits, ("es", "own means", 1): hits, ("es", "own means", 2): ~hits}
    )
    own = frame[(frame["condition"] == "own means") & (frame["candidate"] == "de")]
    assert own["value"].item() == 0.5 and own["seed_min"].item() == 0.0
    with pytest.raises(ValueError, match="not a language"):
        control.target_query_hits(space, "ja", score="dot")


def test_change_table_has_every_comparison_and_flags_chance():
    n = 50
    miss = pd.DataFrame({"de": np.zeros(n, bool)})
    hit = pd.DataFrame({"de": np.ones(n, bool)})
    hits = {
        ("es", "pre", 0): miss,
        ("es", "experts", 0): hit,
        ("es", "experts' values", 1): miss,
        ("es", "own means", 1): miss,
    }
    table = control.change_table(hits, 1 / n, n_boot=100).set_index("comparison")
    assert list(table.index) == [f"{a} − {b}" for a, b in control.COMPARISONS]
    assert table.loc["experts − pre", "value"] == pytest.approx(1.0)
    assert table.loc["experts' values − experts", "value"] == pytest.approx(-1.0)
    assert not table.loc["experts' values − pre", "testable"]  # 0 hits before and after


def test_retrieval_claims_use_the_margin_and_the_experts():
    n = 40
    before = np.zeros((n, 1), bool)
    before[:20] = True  # 0.5, well above chance
    hits = {
        ("es", "pre", 0): before,
        ("es", "experts", 0): np.ones((n, 1), bool),
        ("es", "experts' values", 1): before.copy(),
        ("es", "experts' values", 2): before.copy(),
    }
    improve, smaller = control.retrieval_assessments(hits, 1 / n, variant="cosine", n_boot=200)
    (unit,) = improve.evidence
    assert unit.reference == pytest.approx(0.25 * (0.5 - 1 / n))  # the margin
    assert unit.estimate.value == 0 and improve.verdict == "reproduced"  # no gain at all
    assert smaller.verdict == "reproduced" and smaller.summary.value == pytest.approx(-0.5)


def test_paraphrase_claims():
    n = 40
    pre = np.zeros(n, bool)
    pre[:20] = True
    worse = pre.copy()
    worse[:15] = False
    hits = {
        ("es", "experts", 0): {"pre": pre, "post": pre, "mixed": pre},
        ("es", "experts' values", 1): {"pre": pre, "post": worse, "mixed": pre},
        ("es", "experts' values", 2): {"pre": pre, "post": worse, "mixed": pre},
    }
    negative, small = control.paraphrase_assessments(hits, {}, variant="cosine", n_boot=200)
    assert negative.claim.id == "control.paraphrase" and negative.verdict == "reproduced"
    assert small.claim.id == "control.paraphrase_small" and small.verdict == "not reproduced"
    none = control.paraphrase_assessments(
        {}, {"ja": "one translation"}, variant="cosine", n_boot=10
    )
    assert all(a.verdict == "not testable here" for a in none)
    assert "ja: one translation" in none[0].reason


def test_paraphrase_post_and_table():
    pre, post, mixed = np.array([1, 1, 0, 0], bool), np.array([1, 0, 0, 0], bool), np.zeros(4, bool)
    hits = {
        ("es", "experts", 0): {"pre": pre, "post": pre, "mixed": mixed},
        ("es", "experts' values", 1): {"pre": pre, "post": post, "mixed": mixed},
        ("es", "experts' values", 2): {"pre": pre, "post": mixed, "mixed": mixed},
    }
    flat = control.paraphrase_post(hits)
    assert set(flat) == {("es", "pre", 0), ("es", "experts", 0), ("es", "experts' values", 1),
                         ("es", "experts' values", 2)}  # fmt: skip
    table = control.paraphrase_table(hits).set_index("condition")
    assert table.loc["experts' values", "post"] == pytest.approx(0.125)
    assert table.loc["experts' values", "post_seed_max"] == pytest.approx(0.25)
    assert table.loc["experts", "pairs"] == 4


@pytest.fixture
def pipe(tiny_model_dir, tmp_path):
    cfg = load_config(
        "gemma-3-270m",
        model=str(tiny_model_dir),
        dtype="float32",
        languages=["en", "de", "es", "ja"],
        targets=["es", "ja"],
        n_expert_sentences=8,
        n_eval_sentences=6,
        n_heldout_sentences=2,
        k=4,
        random_seeds=[1, 2],
        own_mean_seeds=[1],
        batch_size=4,
        cache_dir=str(tmp_path / "cache"),
        results_dir=str(tmp_path / "results"),
    )
    return Pipeline(cfg, progress=False)


def test_control_spaces_and_paraphrase_hits_on_a_tiny_model(pipe):
    spaces = control.control_spaces(pipe, 4, k=4)
    assert len(spaces) == 2 * (2 + 2 + 1)
    assert spaces["es", "pre", 0] is spaces["ja", "pre", 0]
    pre, experts = spaces["es", "pre", 0], spaces["es", "experts", 0]
    s1, s2 = spaces["es", "experts' values", 1], spaces["es", "experts' values", 2]
    assert pre["de"].shape == s1["de"].shape == (4, pre["de"].shape[1])
    assert not np.allclose(s1["de"], experts["de"]) and not np.allclose(s1["de"], s2["de"])
    np.testing.assert_allclose(pipe.space(pipe.intervention("es", random_seed=1), n=4)["de"],
                               s1["de"], atol=1e-5)  # fmt: skip
    hits, skipped = control.paraphrase_hits(pipe, 3, k=4, score="cosine")
    assert set(skipped) == {"ja"} and "translation" in skipped["ja"]
    assert {key[1] for key in hits} == {"experts", "experts' values", "own means"}
    assert all(len(v["post"]) == 3 for v in hits.values())
    fewer = control.control_spaces(pipe, 4, k=2)
    assert not np.allclose(fewer["es", "experts' values", 1]["de"], s1["de"])


def test_a_pipeline_draws_each_paraphrase_pool_once(pipe, monkeypatch):
    import steerspace.pipeline as pipeline_module

    calls = []
    real = pipeline_module.bible_paraphrases
    monkeypatch.setattr(
        pipeline_module, "bible_paraphrases", lambda lang: calls.append(lang) or real(lang)
    )
    first = pipe.paraphrase_pairs("es")
    assert pipe.paraphrase_pairs("es") is first and calls == ["es"]


def test_distance_and_change_cells():
    samples = control.distance_samples(_spaces(random_shift=0.0), n_boot=30, seed=0)
    distances = control.distance_table(samples, 30, n_boot=30)
    cells = control.distance_cells(distances)
    assert list(cells.columns) == list(control.CONDITIONS)
    row = distances[(distances["quantity"] == "all_languages") & (distances["condition"] == "pre")]
    assert cells.loc[("es", "all_languages"), "pre"] == fmt_ci(next(row.itertuples()), "dist")
    changes = pd.DataFrame(
        {
            "score": ["cosine", "cosine"],
            "target": ["es", "es"],
            "comparison": ["experts − pre", "experts' values − pre"],
            "value": [0.25, 0.0],
            "low": [0.1, -0.05],
            "high": [0.4, 0.05],
            "testable": [True, False],
        }
    )
    wide = control.change_cells(changes)
    assert wide.loc[("cosine", "es"), "experts − pre"] == "+25.0 [+10.0, +40.0] pp"
    assert wide.loc[("cosine", "es"), "experts' values − pre"] == "+0.0 [−5.0, +5.0] pp n.s."

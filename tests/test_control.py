"""The random-unit control (paper §7): spaces, paired distance resamples, hits and
evidence, on made-up spaces and on a tiny model."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from steerspace.analyses import random_control as control
from steerspace.config import load_config
from steerspace.metrics.inference import Estimate
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
    units, summary = control.geometry_evidence(samples, ["es"], "experts' values", 30)
    assert units[0].estimate.low > 0  # random units shrink the distance less than experts
    assert summary.value == pytest.approx(units[0].estimate.value)
    table = control.distance_table(samples, 30)
    row = table[(table["quantity"] == "all_languages") & (table["condition"] == "experts' values")]
    assert row["seeds"].item() == 2
    assert row["seed_min"].item() < row["seed_max"].item()
    assert len(row["seed_values"].item()) == 2
    assert set(table["condition"]) == set(control.CONDITIONS)


def test_the_change_is_paired_over_the_same_resampled_rows():
    spaces = _spaces(random_shift=4.0)
    spaces["es", "experts' values", 1] = spaces["es", "experts", 0]
    spaces["es", "experts' values", 2] = spaces["es", "experts", 0]
    samples = control.distance_samples(spaces, n_boot=100, seed=3)
    change = control.distance_change(samples, "es", "experts' values")
    assert change.shape == (101,)
    np.testing.assert_allclose(change, 0.0, atol=1e-12)  # same rows in every resample
    with pytest.raises(ValueError, match="control must be one of"):
        control.distance_change(samples, "es", "random")


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


def test_seeds_change_averages_the_seeds_on_paired_queries():
    n = 40
    before = np.zeros(n, bool)
    before[:8] = True  # 0.2, far above chance 1/40
    after = [np.ones(n, bool), before.copy()]
    ev = control.seeds_change("es", before, after, 1 / n)
    assert ev.estimate.value == pytest.approx(0.4)  # (0.8 + 0) / 2
    assert ev.testable and ev.estimate.low > 0
    pooled = control.pooled_change([(before, after), (before, [before])])
    assert pooled.value == pytest.approx(0.2)  # mean of the units' changes 0.4 and 0
    with pytest.raises(ValueError, match="shaped like"):
        control.seeds_change("es", before, [np.ones(n + 1, bool)], 1 / n)
    with pytest.raises(ValueError, match="same number of queries"):
        control.pooled_change([(before, after), (before[:10], [before[:10]])])


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
    table = control.change_table(hits, 1 / n).set_index("comparison")
    assert list(table.index) == [f"{a} − {b}" for a, b in control.COMPARISONS]
    assert table.loc["experts − pre", "value"] == pytest.approx(1.0)
    assert table.loc["experts' values − experts", "value"] == pytest.approx(-1.0)
    assert not table.loc["experts' values − pre", "testable"]  # 0 hits before and after


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
    spaces = control.control_spaces(pipe, 4)
    assert len(spaces) == 2 * (2 + 2 + 1)
    assert spaces["es", "pre", 0] is spaces["ja", "pre", 0]
    pre, experts = spaces["es", "pre", 0], spaces["es", "experts", 0]
    s1, s2 = spaces["es", "experts' values", 1], spaces["es", "experts' values", 2]
    assert pre["de"].shape == s1["de"].shape == (4, pre["de"].shape[1])
    assert not np.allclose(s1["de"], experts["de"]) and not np.allclose(s1["de"], s2["de"])
    np.testing.assert_allclose(pipe.space(pipe.intervention("es", random_seed=1), n=4)["de"],
                               s1["de"], atol=1e-5)  # fmt: skip
    hits, skipped = control.paraphrase_hits(pipe, 3, score="cosine")
    assert set(skipped) == {"ja"} and "translation" in skipped["ja"]
    assert {key[1] for key in hits} == {"experts", "experts' values", "own means"}
    assert all(len(v["post"]) == 3 for v in hits.values())


def test_a_pipeline_draws_each_paraphrase_pool_once(pipe, monkeypatch):
    import steerspace.pipeline as pipeline_module

    calls = []
    real = pipeline_module.bible_paraphrases
    monkeypatch.setattr(
        pipeline_module, "bible_paraphrases", lambda lang: calls.append(lang) or real(lang)
    )
    first = pipe.paraphrase_pairs("es")
    assert pipe.paraphrase_pairs("es") is first and calls == ["es"]


def test_assessments_and_their_text():
    n = 40
    before = np.zeros(n, bool)
    before[:20] = True  # 0.5, well above chance
    hits = {
        ("es", "pre", 0): before,
        ("es", "experts", 0): before,
        ("es", "experts' values", 1): np.ones(n, bool),
        ("es", "experts' values", 2): np.ones(n, bool),
    }
    pairs = control.retrieval_pairs(hits)
    assert len(pairs["es"][1]) == 2
    improved = control.hits_assessment("control.retrieval", "cosine", pairs, require="either")
    assert improved.verdict == "not reproduced"  # random units improve retrieval here
    worse = control.hits_assessment(
        "control.paraphrase", "cosine", control.retrieval_pairs(hits, before="experts"),
        require="before",
    )  # fmt: skip
    assert worse.verdict == "not reproduced" and worse.summary.value == pytest.approx(0.5)
    text = control.evidence_text([improved], "pp")
    assert text.startswith("cosine: **es** +50.0 [") and "(verdict: not reproduced)" in text
    samples = control.distance_samples(_spaces(random_shift=0.0), n_boot=50, seed=0)
    geometry = control.geometry_assessments(samples, ["es"], 30)
    assert [a.variant for a in geometry] == list(control.CONTROLS)
    assert geometry[0].verdict == "reproduced"
    changes = control.change_table(
        {k: pd.DataFrame({"de": v}) for k, v in hits.items() if k[1] != "experts"}
        | {("es", "experts", 0): pd.DataFrame({"de": before}),
           ("es", "own means", 1): pd.DataFrame({"de": before})},
        1 / n,
    ).assign(score="cosine")  # fmt: skip
    line = control.changes_text(changes, "experts' values − experts")
    assert line.startswith("cosine: **es** +50.0 [") and "n.s." not in line


# --------------------------------------------------------------------------- the chapter
def test_pass_and_deviation_statements():
    seeds = control.control_seeds([1, 2, 3], [7])
    text = control.pass_statements(100, 5, seeds, 6, 754.0)
    assert text == {
        "n": "100",
        "passes": "12,000 sentences (5 targets × 4 draws × 6 languages × 100 sentences), "
        "754 s on this run (less when they are cached)",
    }
    assert control.deviation_statements(seeds, "/models/gemma-3", "bfloat16", "bible", 200) == {
        "draws": "3 for the paper's control (seeds [1, 2, 3]) and 1 for the own-means control "
        "(seeds [7])",
        "deviation_data": "gemma-3 in bfloat16 on bible sentences and Bible paraphrases, "
        "k = 200, instead of the paper's three 7–13B models on Flores-200 and PAWS-X",
    }


def test_distance_and_change_cells():
    samples = control.distance_samples(_spaces(random_shift=0.0), n_boot=30, seed=0)
    distances = control.distance_table(samples, 30)
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


def test_pooled_changes_and_the_result_statement():
    n = 40
    before = np.zeros(n, bool)
    before[:10] = True
    hits = {
        ("es", "pre", 0): before,
        ("es", "experts", 0): np.ones(n, bool),
        ("es", "experts' values", 1): before,
        ("es", "experts' values", 2): before,
    }
    pooled = control.pooled_changes({"inner product": hits, "cosine": hits})
    assert list(pooled) == [
        ("inner product", "experts"),
        ("inner product", "experts' values"),
        ("cosine", "experts"),
        ("cosine", "experts' values"),
    ]
    assert pooled["cosine", "experts"].value == pytest.approx(0.75)
    assert pooled["cosine", "experts' values"].value == 0
    geometry = Estimate(0.12, 0.1, 0.14, 30)
    text = control.result_statement(200, 2, geometry, pooled, 1 / n)
    experts = fmt_ci(pooled["cosine", "experts"], "pp", sign=True)
    assert text == (
        "With 200 random units set to the experts' values (the paper's control, 2 draws), the "
        "distance between non-target languages ends +0.120 [+0.100, +0.140] away from where the "
        "experts put it (mean over targets, 95 % interval over sentences). Retrieval with the "
        "target as query changes by +0.0 [+0.0, +0.0] pp under random units against "
        f"{experts} under the experts (inner product) and +0.0 [+0.0, +0.0] pp under random "
        f"units against {experts} under the experts (cosine), chance being 0.025."
    )

"""ABX discrimination: spaces with a known answer, a brute-force reference, constraints."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from scipy.spatial.distance import cosine

from steerspace.analyses.beyond_the_paper.abx import (
    TRIPLET_COLUMNS,
    abx_by_language,
    abx_correct,
    abx_error,
    abx_intervals,
    sample_triplets,
)

LANGS = ["en", "de", "fr", "ja"]


def _space(kind: str, *, n: int = 40, d: int = 16, noise: float = 0.05, seed: int = 0):
    """Embeddings = language vector + noise, or meaning vector + noise."""
    rng = np.random.default_rng(seed)
    lang_vec = rng.normal(size=(len(LANGS), d))
    mean_vec = rng.normal(size=(n, d))
    space = {}
    for k, lang in enumerate(LANGS):
        base = np.broadcast_to(lang_vec[k], (n, d)) if kind == "language" else mean_vec
        space[lang] = base + noise * rng.normal(size=(n, d))
    return space


def _brute_force(space, triplets) -> float:
    scores = []
    for t in triplets.itertuples(index=False):
        a = space[t.a_lang][t.a_row]
        b = space[t.b_lang][t.b_row]
        x = space[t.x_lang][t.x_row]
        dax, dbx = cosine(a, x), cosine(b, x)
        scores.append(1.0 if dax < dbx else 0.5 if dax == dbx else 0.0)
    return 1.0 - float(np.mean(scores))


# --------------------------------------------------------------------------- known answers


def test_language_space_separates_languages_not_meanings():
    space = _space("language")
    assert abx_error(space, "language", n_triplets=500) == pytest.approx(0.0, abs=0.01)
    # B shares X's language, A is X's translation in another language: always wrong
    assert abx_error(space, "meaning", n_triplets=500) == pytest.approx(1.0, abs=0.01)


def test_meaning_space_aligns_meanings_and_ignores_language():
    space = _space("meaning")
    assert abx_error(space, "meaning", n_triplets=500) == pytest.approx(0.0, abs=0.01)
    assert abx_error(space, "language", n_triplets=2000) == pytest.approx(0.5, abs=0.05)


def test_ties_count_half():
    # every embedding identical: d(A, X) == d(B, X) in every triplet
    flat = {"en": np.ones((5, 3)), "de": np.ones((5, 3))}
    assert abx_error(flat, "language", n_triplets=50) == 0.5
    assert abx_error(flat, "meaning", n_triplets=50) == 0.5
    # identical translations, distinct sentences: meaning is perfect
    rows = np.random.default_rng(1).normal(size=(5, 3))
    assert abx_error({"en": rows, "de": rows.copy()}, "meaning", n_triplets=50) == 0.0


def test_zero_vectors_have_similarity_zero():
    space = {"en": np.zeros((4, 3)), "de": np.zeros((4, 3))}
    assert abx_error(space, "language", n_triplets=20) == 0.5


# --------------------------------------------------------------------------- references


@pytest.mark.parametrize("task", ["language", "meaning"])
def test_vectorised_equals_brute_force(task):
    rng = np.random.default_rng(2)
    space = {lang: rng.normal(size=(12, 6)) for lang in LANGS}
    # more triplets than one chunk (256), to exercise chunking
    triplets = sample_triplets(LANGS, 12, task, n_triplets=600, seed=3)
    assert abx_error(space, task, triplets=triplets) == _brute_force(space, triplets)
    assert abx_error(space, task, n_triplets=600, seed=3) == _brute_force(space, triplets)


@pytest.mark.parametrize("task", ["language", "meaning"])
def test_per_layer_equals_each_layer_alone(task):
    rng = np.random.default_rng(4)
    stacked = {lang: rng.normal(size=(15, 5, 7)).astype(np.float32) for lang in LANGS}
    errors = abx_error(stacked, task, n_triplets=300, seed=5)
    assert isinstance(errors, np.ndarray) and errors.shape == (5,)
    for layer in range(5):
        one = {lang: x[:, layer, :] for lang, x in stacked.items()}
        assert errors[layer] == abx_error(one, task, n_triplets=300, seed=5)


def test_abx_error_single_layer_returns_float():
    err = abx_error(_space("meaning"), "language", n_triplets=10)
    assert isinstance(err, float)


@pytest.mark.parametrize("task", ["language", "meaning"])
def test_by_language_single_and_per_layer(task):
    rng = np.random.default_rng(6)
    stacked = {lang: rng.normal(size=(10, 3, 4)) for lang in LANGS}
    per_layer = abx_by_language(stacked, task, n_triplets=50, seed=0)
    assert list(per_layer.index) == LANGS and per_layer.index.name == "x_lang"
    assert list(per_layer.columns) == [0, 1, 2] and per_layer.columns.name == "layer"
    single = abx_by_language({k: v[:, 1] for k, v in stacked.items()}, task, n_triplets=50)
    assert list(single.columns) == ["error"]
    np.testing.assert_array_equal(single["error"].to_numpy(), per_layer[1].to_numpy())
    assert ((per_layer >= 0) & (per_layer <= 1)).all().all()


def test_by_language_finds_the_odd_language():
    space = _space("meaning", noise=0.05)
    rng = np.random.default_rng(7)
    space["ja"] = rng.normal(size=space["ja"].shape)  # ja is unrelated to the others
    table = abx_by_language(space, "meaning", n_triplets=200, seed=0)
    assert table.loc["ja", "error"] > 0.3
    assert (table.drop("ja")["error"] < table.loc["ja", "error"]).all()


# --------------------------------------------------------------------------- triplets


def test_language_triplet_constraints():
    t = sample_triplets(LANGS, 5, "language", n_triplets=3000, seed=0)
    assert list(t.columns) == list(TRIPLET_COLUMNS) and len(t) == 3000
    assert (t.a_lang == t.x_lang).all() and (t.b_lang != t.x_lang).all()
    assert ((t.a_row != t.b_row) & (t.a_row != t.x_row) & (t.b_row != t.x_row)).all()
    assert t[["a_row", "b_row", "x_row"]].isin(range(5)).all().all()
    assert set(t.x_lang) == set(LANGS) and set(t.b_lang) == set(LANGS)
    # with 3 rows, every permutation of (0, 1, 2) should appear
    three = sample_triplets(LANGS, 3, "language", n_triplets=500, seed=1)
    perms = set(map(tuple, three[["a_row", "b_row", "x_row"]].to_numpy()))
    assert len(perms) == 6


def test_meaning_triplet_constraints():
    t = sample_triplets(LANGS, 2, "meaning", n_triplets=1000, seed=0)
    assert (t.a_row == t.x_row).all() and (t.a_lang != t.x_lang).all()
    assert (t.b_lang == t.x_lang).all() and (t.b_row != t.x_row).all()
    assert set(t.a_lang) == set(LANGS)


def test_sampling_is_seeded():
    a = sample_triplets(LANGS, 9, "meaning", n_triplets=100, seed=11)
    b = sample_triplets(LANGS, 9, "meaning", n_triplets=100, seed=11)
    c = sample_triplets(LANGS, 9, "meaning", n_triplets=100, seed=12)
    pd.testing.assert_frame_equal(a, b)
    assert not a.equals(c)


# --------------------------------------------------------------------------- bad input


def test_bad_input_raises():
    good = {"en": np.zeros((5, 3)), "de": np.ones((5, 3))}
    with pytest.raises(ValueError, match="task must be one of"):
        abx_error(good, "speaker")
    with pytest.raises(ValueError, match="at least 2 languages"):
        abx_error({"en": np.ones((5, 3))}, "language")
    with pytest.raises(ValueError, match="one shape"):
        abx_error({"en": np.ones((5, 3)), "de": np.ones((4, 3))}, "meaning")
    with pytest.raises(ValueError, match="at least 3 aligned rows"):
        abx_error({"en": np.ones((2, 3)), "de": np.ones((2, 3))}, "language")
    with pytest.raises(ValueError, match="at least 2 aligned rows"):
        abx_error({"en": np.ones((1, 3)), "de": np.ones((1, 3))}, "meaning")
    with pytest.raises(ValueError, match=r"\(n, d\) or \(n, layers, d\)"):
        abx_error({"en": np.ones(5), "de": np.ones(5)}, "meaning")
    with pytest.raises(ValueError, match="finite"):
        abx_error({"en": np.full((5, 3), np.nan), "de": np.ones((5, 3))}, "meaning")
    with pytest.raises(ValueError, match="n_triplets"):
        abx_error(good, "meaning", n_triplets=0)
    with pytest.raises(ValueError, match="task must be one of"):
        sample_triplets(["en", "de"], 5, "lang", n_triplets=3, seed=0)
    with pytest.raises(ValueError, match="at least 2 languages"):
        sample_triplets(["en"], 5, "meaning", n_triplets=3, seed=0)
    with pytest.raises(ValueError, match="must not repeat"):
        sample_triplets(["en", "en"], 5, "meaning", n_triplets=3, seed=0)


def test_bad_triplets_raise():
    space = {lang: np.ones((5, 3)) for lang in LANGS}
    meaning = sample_triplets(LANGS, 5, "meaning", n_triplets=10, seed=0)
    with pytest.raises(ValueError, match="break the language task"):
        abx_error(space, "language", triplets=meaning)
    with pytest.raises(ValueError, match="lack columns"):
        abx_error(space, "meaning", triplets=meaning.drop(columns="x_row"))
    with pytest.raises(ValueError, match="space lacks"):
        abx_error({k: space[k] for k in LANGS[:2]}, "meaning", triplets=meaning)
    with pytest.raises(ValueError, match=r"must be in \[0, 4\)"):
        abx_error({k: v[:4] for k, v in space.items()}, "meaning", triplets=meaning.assign(b_row=4))


# --------------------------------------------------------------------------- intervals


def test_abx_correct_is_what_abx_error_averages():
    space = _space("meaning", noise=0.8)
    correct = abx_correct(space, "meaning", n_triplets=300, seed=2)
    assert correct.shape == (300, 1) and set(np.unique(correct)) <= {0.0, 0.5, 1.0}
    assert 1.0 - correct.mean() == abx_error(space, "meaning", n_triplets=300, seed=2)


def test_abx_intervals_pair_the_spaces_on_the_same_triplets():
    language = _space("language")
    meaning = _space("meaning")
    table = abx_intervals({"pre": language, "post": meaning}, "meaning", n_triplets=400, n_boot=200)
    error = table[table.condition == "error"].set_index("space")
    assert error.loc["pre", "value"] == pytest.approx(1.0, abs=0.01)
    assert error.loc["post", "value"] == pytest.approx(0.0, abs=0.01)
    change = table[table.condition == "change"].set_index("space")
    assert change.loc["post", "value"] == pytest.approx(-1.0, abs=0.02)
    assert change.loc["post", "high"] < 0  # distinguishable from zero
    assert change.loc["pre", ["value", "low", "high"]].tolist() == [0.0, 0.0, 0.0]
    assert (table["n"] == 400).all()
    with pytest.raises(ValueError, match="reference must be one of"):
        abx_intervals({"post": meaning}, "meaning", n_boot=300)

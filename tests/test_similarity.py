"""Linguistic similarity to a target and the line through a relation."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from scipy.stats import ConstantInputWarning

from steerspace.languages import LANGUAGES
from steerspace.similarity import (
    DISTANCE_COLUMNS,
    WALS_FEATURES,
    WALS_VALUES,
    genetic_distance,
    relate,
    similarity_to_target,
    typological_distance,
    wals_table,
)

ALL = list(LANGUAGES)


def test_table_covers_every_language_with_allowed_values():
    assert set(WALS_VALUES) == set(LANGUAGES)
    allowed = [values for _, values in WALS_FEATURES.values()]
    for code, row in WALS_VALUES.items():
        assert len(row) == len(WALS_FEATURES), code
        for value, ok in zip(row, allowed, strict=True):
            assert value is None or value in ok, (code, value)
    table = wals_table()
    assert list(table.index) == ALL and list(table.columns)[0] == "order_svo (81A)"


def test_known_pairs():
    sims = similarity_to_target("es", ["pt", "en", "ja", "fr", "ru"])
    assert list(sims.index) == ["pt", "en", "ja", "fr", "ru"]
    assert sims.loc["pt", "same_script"] and sims.loc["pt", "same_family"]
    assert sims.loc["pt", "typological_distance"] == 0.0
    assert sims.loc["pt", "genetic_distance"] == 0.0
    assert not sims.loc["ja", "same_script"] and not sims.loc["ja", "same_family"]
    assert sims.loc["ja", "genetic_distance"] == 1.0
    assert sims.loc["en", "same_family"] and sims.loc["en", "genetic_distance"] == 0.5
    assert not sims.loc["ru", "same_script"] and sims.loc["ru", "same_family"]
    en = similarity_to_target("en", ["ja", "de", "vi"])
    assert not en.loc["ja", "same_script"] and not en.loc["ja", "same_family"]
    assert en.loc["vi", "same_script"] and not en.loc["vi", "same_family"]
    # Japanese: SOV, postpositions vs English SVO, prepositions
    assert en.loc["ja", "typological_distance"] == 0.5
    ru = similarity_to_target("ru", ["uk"])
    assert ru.loc["uk", "same_script"] and ru.loc["uk", "genetic_distance"] == 0.0


def test_columns_dtypes_and_target_excluded():
    sims = similarity_to_target("de", ALL)
    assert "de" not in sims.index and len(sims) == len(ALL) - 1
    assert sims.index.name == "language"
    assert list(sims.columns) == ["same_script", "same_family", *DISTANCE_COLUMNS]
    assert sims["same_script"].dtype == bool and sims["same_family"].dtype == bool
    for col in DISTANCE_COLUMNS:
        assert sims[col].dtype == np.float64
        assert sims[col].between(0, 1).all()


def test_distances_symmetric_and_zero_on_the_diagonal():
    for a in ALL:
        assert typological_distance(a, a) == 0.0
        assert genetic_distance(a, a) == 0.0
        for b in ALL:
            assert typological_distance(a, b) == typological_distance(b, a)
            assert genetic_distance(a, b) == genetic_distance(b, a)


def test_unknown_language_names_the_known_codes():
    with pytest.raises(ValueError, match="choose from .*'en'"):
        similarity_to_target("xx", ["en"])
    with pytest.raises(ValueError, match="unknown language 'yy'"):
        similarity_to_target("en", ["de", "yy"])
    with pytest.raises(ValueError, match="unknown language"):
        typological_distance("en", "klingon")


def test_relate_recovers_a_noiseless_line():
    x = pd.Series(np.arange(10.0), index=list("abcdefghij"))
    y = 3.0 - 2.0 * x
    out = relate(x, y, n_boot=200)
    assert out["slope"] == pytest.approx(-2.0, abs=1e-12)
    assert out["intercept"] == pytest.approx(3.0, abs=1e-12)
    assert out["r"] == pytest.approx(-1.0, abs=1e-12)
    assert out["ci_low"] == pytest.approx(-1.0) and out["ci_high"] == pytest.approx(-1.0)
    assert out["p_value"] < 1e-6 and out["n"] == 10
    assert set(out) == {"slope", "intercept", "r", "ci_low", "ci_high", "p_value", "n"}


def test_relate_drops_nan_pairs_and_aligns_on_index():
    x = pd.Series([0.0, 1.0, np.nan, 3.0, 4.0], index=list("abcde"))
    y = pd.Series({"a": 1.0, "b": 1.5, "c": 99.0, "d": 2.5, "e": np.nan, "z": 5.0})
    out = relate(x, y, n_boot=100)
    assert out["n"] == 3  # a, b, d (c has NaN x, e has NaN y, z only in y)
    assert out["slope"] == pytest.approx(0.5) and out["intercept"] == pytest.approx(1.0)
    assert out["r"] == pytest.approx(1.0)


def test_relate_bool_x_and_constant_y():
    x = pd.Series([True, False, True, False])
    out = relate(x, pd.Series([1.0, 0.0, 1.0, 0.0]), n_boot=50)
    assert out["slope"] == pytest.approx(1.0) and out["intercept"] == pytest.approx(0.0)
    with pytest.warns(ConstantInputWarning):
        flat = relate(x, pd.Series([2.0, 2.0, 2.0, 2.0]), n_boot=50)
    assert flat["slope"] == 0.0 and flat["intercept"] == 2.0 and np.isnan(flat["r"])


def test_relate_errors():
    with pytest.raises(ValueError, match="at least 3 finite"):
        relate(pd.Series([1.0, 2.0, np.nan]), pd.Series([1.0, 2.0, 3.0]))
    with pytest.raises(ValueError, match="x is constant"):
        relate(pd.Series([1.0, 1.0, 1.0]), pd.Series([1.0, 2.0, 3.0]))
    with pytest.raises(ValueError, match="numeric"):
        relate(pd.Series(["a", "b", "c"]), pd.Series([1.0, 2.0, 3.0]))

"""Linguistic similarity to a target and the line through a relation."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from steerspace.analyses.beyond_the_paper.similarity import (
    DISTANCE_COLUMNS,
    WALS_FEATURES,
    WALS_TITLES,
    WALS_VALUES,
    genetic_distance,
    relate,
    similarity_to_target,
    typological_distance,
    wals_table,
)
from steerspace.data.languages import LANGUAGES

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


def _pairs(y: np.ndarray, x: np.ndarray | None = None) -> pd.DataFrame:
    x = np.arange(len(y), dtype=float) if x is None else x
    return pd.DataFrame({"x": x, "y": y, "target": np.repeat(["en", "es"], len(y) // 2)})


def test_relate_recovers_a_noiseless_line_and_counts_clusters():
    frame = _pairs(3.0 - 2.0 * np.arange(10.0))
    out = relate(frame, "x", "y", cluster="target", n_boot=200)
    assert out.slope == pytest.approx(-2.0, abs=1e-12)
    assert out.intercept == pytest.approx(3.0, abs=1e-12)
    assert out.r.value == pytest.approx(-1.0, abs=1e-12)
    assert out.n_pairs == 10 and out.n_clusters == 2


def test_relate_interval_resamples_clusters_not_pairs():
    # within each target no relation; the targets differ in both x and y: r rests on
    # the two clusters, and resampling targets must show it (a draw of one target has r
    # NaN or any sign), where resampling pairs would give a narrow interval
    rng = np.random.default_rng(0)
    x = np.concatenate([rng.normal(0, 1, 40), rng.normal(3, 1, 40)])
    y = np.concatenate([rng.normal(0, 1, 40), rng.normal(3, 1, 40)])
    frame = pd.DataFrame({"x": x, "y": y, "target": np.repeat(["a", "b"], 40)})
    out = relate(frame, "x", "y", cluster="target", n_boot=300)
    assert out.r.value > 0.5
    assert not out.r.excludes(0.0) or np.isnan(out.r.low)


def test_relate_drops_nan_rows_and_reads_bools():
    frame = _pairs(
        np.array([1.0, 1.5, 99.0, 2.5, np.nan, 5.0]), np.array([0.0, 1.0, np.nan, 3.0, 4.0, 5.0])
    )
    out = relate(frame, "x", "y", cluster="target", n_boot=50)
    slope, intercept = np.polyfit([0.0, 1.0, 3.0, 5.0], [1.0, 1.5, 2.5, 5.0], 1)
    assert out.n_pairs == 4  # the rows with NaN x or NaN y are dropped
    assert out.slope == pytest.approx(slope) and out.intercept == pytest.approx(intercept)
    flags = pd.DataFrame(
        {"x": [True, False, True, False], "y": [1.0, 0.0, 1.0, 0.0], "t": list("aabb")}
    )
    fit = relate(flags, "x", "y", cluster="t", n_boot=20)
    assert fit.slope == pytest.approx(1.0) and fit.intercept == pytest.approx(0.0)
    flat = relate(flags.assign(y=2.0), "x", "y", cluster="t", n_boot=20)
    assert flat.slope == 0.0 and flat.intercept == 2.0 and np.isnan(flat.r.value)


def test_relate_errors():
    frame = pd.DataFrame({"x": [1.0, 2.0, np.nan], "y": [1.0, 2.0, 3.0], "t": list("abc")})
    with pytest.raises(ValueError, match="at least 3 finite"):
        relate(frame, "x", "y", cluster="t", n_boot=300)
    with pytest.raises(ValueError, match="x is constant"):
        relate(frame.assign(x=1.0), "x", "y", cluster="t", n_boot=300)
    with pytest.raises(ValueError, match="numeric"):
        relate(frame.assign(x=list("abc")), "x", "y", cluster="t", n_boot=300)
    with pytest.raises(ValueError, match="no column"):
        relate(frame, "x", "z", cluster="t", n_boot=300)


def test_every_wals_feature_has_its_title():
    assert set(WALS_TITLES) == set(WALS_FEATURES)
    assert WALS_TITLES["81A"] == "Order of Subject, Object and Verb"

"""Evidence: intervals, references and the above-chance prerequisite."""

from __future__ import annotations

import numpy as np
import pytest

from steerspace.claims import Rule
from steerspace.claims.evidence import (
    correlation,
    hits_change,
    hits_noninferior,
    hits_ratio,
    resampled,
)


def hits(n_hit: int, n: int = 200) -> np.ndarray:
    out = np.zeros(n, dtype=bool)
    out[:n_hit] = True
    return out


def test_a_change_between_two_chance_accuracies_is_untestable():
    ev = hits_change("es", hits(1), hits(2), chance=1 / 200)
    assert not ev.testable and "not above chance" in ev.why_not
    assert Rule("above").outcome(ev) == "untestable"


def test_a_gain_from_chance_is_testable_and_supports():
    ev = hits_change("es", hits(1), hits(60), chance=1 / 200)
    assert ev.testable and ev.estimate.value == pytest.approx(59 / 200)
    assert Rule("above").outcome(ev) == "support"


def test_a_loss_needs_accuracy_before():
    ev = hits_change("es", hits(1), hits(0), chance=1 / 200, require="before")
    assert not ev.testable
    ev = hits_change("es", hits(80), hits(10), chance=1 / 200, require="before")
    assert ev.testable and Rule("below").outcome(ev) == "support"
    with pytest.raises(ValueError, match="require"):
        hits_change("es", hits(1), hits(2), chance=0.005, require="after")


def test_noninferiority_margin_scales_with_accuracy_above_chance():
    keep = hits_noninferior("en", hits(100), hits(98), chance=0.005)
    assert keep.reference == pytest.approx(-0.25 * (0.5 - 0.005))
    assert Rule("above").outcome(keep) == "support"
    lose = hits_noninferior("en", hits(100), hits(20), chance=0.005)
    assert Rule("above").outcome(lose) == "against"
    # near chance there is nothing to keep: not testable, however post moves
    assert not hits_noninferior("de", hits(1), hits(0), chance=0.005).testable


def test_ratio_against_two():
    ev = hits_ratio("es→fr", hits(40), hits(120), chance=0.005)
    assert ev.estimate.value == pytest.approx(3.0)
    assert Rule("above").outcome(ev) == "support"
    assert Rule("above").outcome(hits_ratio("x", hits(40), hits(44), chance=0.005)) == "against"


def test_correlation_and_resampled():
    ev = correlation("es", {"r": -0.6, "ci_low": -0.9, "ci_high": -0.2, "n": 16})
    assert Rule("below").outcome(ev) == "support"
    nan = correlation("ja", {"r": float("nan"), "ci_low": np.nan, "ci_high": np.nan, "n": 16})
    assert not nan.testable and "constant" in nan.why_not
    samples = np.concatenate([[-0.1], np.linspace(-0.2, -0.05, 100)])
    assert Rule("below").outcome(resampled("es", samples, 200)) == "support"

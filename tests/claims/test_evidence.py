"""Evidence: intervals, references, margins and the above-chance prerequisite."""

from __future__ import annotations

import numpy as np
import pytest

from steerspace.claims import Rule
from steerspace.claims.evidence import (
    correlation,
    hits_change,
    hits_equivalent,
    hits_ratio,
    over_draws,
    resampled,
    share_gaining,
)
from steerspace.metrics.inference import mean_samples

B = 500  # resamples


def hits(n_hit: int, n: int = 200) -> np.ndarray:
    out = np.zeros(n, dtype=bool)
    out[:n_hit] = True
    return out


def test_a_change_between_two_chance_accuracies_is_untestable():
    ev = hits_change("es", hits(1), hits(2), chance=1 / 200, n_boot=B)
    assert not ev.testable and "not above chance" in ev.why_not
    assert Rule("above").outcome(ev) == "untestable"


def test_a_gain_from_chance_is_testable_and_supports():
    ev = hits_change("es", hits(1), hits(60), chance=1 / 200, n_boot=B)
    assert ev.testable and ev.estimate.value == pytest.approx(59 / 200)
    assert Rule("above").outcome(ev) == "support"


def test_a_loss_needs_accuracy_before():
    ev = hits_change("es", hits(1), hits(0), chance=1 / 200, n_boot=B, require="before")
    assert not ev.testable
    ev = hits_change("es", hits(80), hits(10), chance=1 / 200, n_boot=B, require="before")
    assert ev.testable and Rule("below").outcome(ev) == "support"
    with pytest.raises(ValueError, match="require"):
        hits_change("es", hits(1), hits(2), chance=0.005, n_boot=B, require="after")


def test_equivalence_margin_scales_with_accuracy_above_chance():
    keep = hits_equivalent("en", hits(100), hits(98), chance=0.005, n_boot=B)
    assert keep.margin == pytest.approx(0.25 * (0.5 - 0.005)) and keep.reference == 0.0
    assert Rule("equivalent").outcome(keep) == "support"
    lose = hits_equivalent("en", hits(100), hits(20), chance=0.005, n_boot=B)
    assert Rule("equivalent").outcome(lose) == "against"
    gain = hits_equivalent("en", hits(40), hits(120), chance=0.005, n_boot=B)
    assert Rule("equivalent").outcome(gain) == "against"  # +73 % is not "unchanged"
    # near chance there is nothing to keep: not testable, however post moves
    assert not hits_equivalent("de", hits(1), hits(0), chance=0.005, n_boot=B).testable


def test_ratio_against_two():
    ev = hits_ratio("es", hits(40), hits(120), chance=0.005, n_boot=B)
    assert ev.estimate.value == pytest.approx(3.0)
    assert Rule("above").outcome(ev) == "support"
    assert (
        Rule("above").outcome(hits_ratio("x", hits(40), hits(44), chance=0.005, n_boot=B))
        == "against"
    )


def test_share_of_candidates_gaining():
    before = np.zeros((200, 4), dtype=bool)
    before[:20] = True
    after = before.copy()
    after[20:60, :3] = True  # three of four candidates gain 40 queries
    ev = share_gaining("es", before, after, chance=0.005, n_boot=B)
    assert ev.estimate.value == pytest.approx(0.75) and ev.reference == 0.5
    assert Rule("above").outcome(ev) == "support"


def test_correlation_and_resampled():
    ev = correlation("es", {"r": -0.6, "ci_low": -0.9, "ci_high": -0.2, "n": 16})
    assert Rule("below").outcome(ev) == "support"
    nan = correlation("ja", {"r": float("nan"), "ci_low": np.nan, "ci_high": np.nan, "n": 16})
    assert not nan.testable and "constant" in nan.why_not
    samples = np.concatenate([[-0.1], np.linspace(-0.2, -0.05, 100)])
    assert Rule("below").outcome(resampled("es", samples, 200)) == "support"


def test_draws_widen_the_interval_of_a_control():
    rng = np.random.default_rng(0)
    rows = rng.normal(0.0, 1.0, 200)
    # ten random draws that shift the same rows by very different amounts
    draws = [mean_samples(rows + shift, n_boot=B, seed=0) for shift in np.linspace(-1, 1, 10)]
    both = over_draws("es", draws, 200, n_boot=B).estimate
    rows_only = over_draws("es", [np.mean(draws, axis=0)], 200, n_boot=B).estimate
    assert both.value == pytest.approx(rows_only.value)
    assert both.high - both.low > 2 * (rows_only.high - rows_only.low)

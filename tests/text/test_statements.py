"""Computed statements: estimates per unit, ranges, and how many are decided."""

from __future__ import annotations

import pandas as pd

from steerspace.metrics.inference import Estimate
from steerspace.text.statements import as_estimate, decided, per_unit, sides, value_range

GAINS = {
    "de": Estimate(0.02, 0.01, 0.03, 200),
    "es": Estimate(-0.004, -0.02, 0.01, 200),
    "ja": Estimate(-0.03, -0.05, -0.01, 200),
}


def test_per_unit_formats_every_unit_with_its_interval():
    text = per_unit(GAINS, "pp")
    assert text.startswith("**de** +2.0 [+1.0, +3.0] pp; **es** −0.4 [−2.0, +1.0] pp")
    assert (
        per_unit({"en": Estimate(0.2, 0.1, 0.3, 5)}, "acc", sign=False)
        == "**en** 0.200 [0.100, 0.300]"
    )


def test_sides_and_decided_count_units_on_each_side_of_zero():
    assert sides(GAINS) == {"above": ["de"], "below": ["ja"], "neither": ["es"]}
    assert decided(GAINS) == "1 of 3 above zero (de), 1 below (ja), 1 not distinguishable from zero"
    assert sides(GAINS, reference=0.025)["below"] == ["es", "ja"]


def test_value_range_and_as_estimate():
    assert value_range(GAINS, "pp") == "−3.0 to +2.0 pp"
    assert value_range({"a": GAINS["de"]}, "pp") == "+2.0 pp"
    row = pd.Series({"value": 0.5, "low": 0.4, "high": 0.6, "n": 7})
    assert as_estimate(row) == Estimate(0.5, 0.4, 0.6, 7)
    assert as_estimate({"value": 1, "low": 0, "high": 2}).n == 0

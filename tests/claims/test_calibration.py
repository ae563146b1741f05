"""Calibration: no rule may call a claim (partly) reproduced in more than 5 % of
replays under a null, on this run's own units (the committed default run's unit
counts and interval widths) and on synthetic unit sets; a planted lenient rule (the
book's old rules) fails the same check."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest

from steerspace.claims import CLAIMS, Rule
from steerspace.claims.calibration import ALPHA, Unit, calibrate, units_of

ROOT = Path(__file__).resolve().parents[2]
CLAIMS_DIR = ROOT / "results" / "gemma-3-270m" / "claims"


def committed_records() -> dict[str, dict]:
    records = {}
    for path in sorted(CLAIMS_DIR.glob("*.json")):
        rec = json.loads(path.read_text(encoding="utf-8"))
        records[rec["key"]] = rec
    return records


RECORDS = committed_records()
TESTED = [
    c.id + (f" [{c.primary}]" if c.primary else "") for c in CLAIMS.values() if c.rule is not None
]


class LenientRule(Rule):
    """The book's old rules: "partly reproduced" on one supporting unit with no more
    against, and an interval that merely contains the reference supports "no effect"."""

    def outcome_codes(self, low, high, reference, margin):
        if self.kind == "equivalent":  # old "contains": a wide interval supports
            low, high, ref = (np.asarray(x, dtype=float) for x in (low, high, reference))
            return np.where((low <= ref) & (ref <= high), 0, 1)
        return super().outcome_codes(low, high, reference, margin)

    def decide_counts(self, n, support, against, total):
        n, s, a = (np.asarray(x) for x in (n, support, against))
        required = n if self.quantifier == "all" else n // 2 + 1
        reproduced = (s >= required) & (2 * n >= total)
        return np.select(
            [n == 0, reproduced, (s == 0) | (a > s)], [4, 0, 2], default=1
        )  # partly reproduced: any support, no more against


@pytest.mark.parametrize("key", TESTED)
def test_every_rule_is_calibrated_on_this_runs_units(key):
    if key not in RECORDS:
        pytest.fail(f"no committed record for {key}: re-run the default book")
    rec = RECORDS[key]
    claim = CLAIMS[rec["claim"]]
    units = units_of(rec, claim.rule)
    if not units or not any(u.testable for u in units):
        pytest.skip(f"{key}: no testable unit on this run ({rec['reason']})")
    cal = calibrate(claim, units, n_sim=4000, seed=1)
    assert cal.null_rate <= ALPHA, (
        f"{key}: (partly) reproduced in {cal.null_rate:.1%} of null replays"
    )


SYNTHETIC = {
    "one unit": [Unit(0.01, 0.0, 0.0, True)],
    "two units": [Unit(0.01, 0.0, 0.0, True)] * 2,
    "five targets": [Unit(s, 0.0, 0.0, True) for s in (0.01, 0.02, 0.01, 0.03, 0.02)],
    "ten units, one untestable": [Unit(0.02, 0.0, 0.0, True)] * 9 + [Unit(np.nan, 0.0, 0.0, False)],
    "eighty language pairs": [Unit(0.005, 0.0, 0.0, True)] * 80,
}


@pytest.mark.parametrize("units", SYNTHETIC.values(), ids=SYNTHETIC.keys())
@pytest.mark.parametrize("claim_id", [c.id for c in CLAIMS.values() if c.rule is not None])
def test_every_rule_is_calibrated_on_synthetic_unit_sets(claim_id, units):
    claim = CLAIMS[claim_id]
    units = [Unit(u.se, u.reference, 0.3 if claim.rule.kind == "equivalent" else 0.0, u.testable)
             for u in units]  # fmt: skip
    assert calibrate(claim, units, n_sim=4000, seed=2).null_rate <= ALPHA


@pytest.mark.parametrize(
    ("claim_id", "units"),
    [
        ("retrieval.target_query", SYNTHETIC["ten units, one untestable"]),
        ("table2.gain_vs_shrink", [Unit(0.25, 0.0, 0.3, True)] * 5),
    ],
    ids=["one lucky unit makes it partly", "a wide interval supports no correlation"],
)
def test_a_planted_lenient_rule_fails_calibration(claim_id, units):
    claim = CLAIMS[claim_id]
    lenient = LenientRule(claim.rule.kind, claim.rule.quantifier, claim.rule.margin)
    assert calibrate(claim, units, rule=lenient, n_sim=4000, seed=3).null_rate > ALPHA
    assert calibrate(claim, units, n_sim=4000, seed=3).null_rate <= ALPHA


def test_power_rises_with_the_effect_and_is_low_at_the_null():
    claim = CLAIMS["space.closer"]
    units = [Unit(0.01, 0.0, 0.0, True)] * 5
    strong = calibrate(claim, units, n_sim=2000)  # the paper's −0.29: far beyond se 0.01
    assert strong.power > 0.99
    weak = calibrate(claim, [Unit(0.3, 0.0, 0.0, True)] * 5, n_sim=2000)
    assert weak.power < strong.power


def test_a_claim_without_a_rule_cannot_be_calibrated():
    with pytest.raises(ValueError, match="no rule"):
        calibrate(CLAIMS["space.polylm_less"], [Unit(0.01, 0.0, 0.0, True)])

"""The claim registry and its verdict rules: every rule reaches every verdict on
constructed evidence, and every claim points at a chapter section that exists."""

from __future__ import annotations

from pathlib import Path

import pytest

from steerspace.claims import (
    CLAIMS,
    KINDS,
    QUANTIFIERS,
    VERDICTS,
    Evidence,
    Rule,
    assess,
    not_testable,
)
from steerspace.metrics.inference import Estimate

ROOT = Path(__file__).resolve().parents[1]


def ev(low: float, high: float, *, ref: float = 0.0, testable: bool = True) -> Evidence:
    return Evidence(
        "u",
        Estimate((low + high) / 2, low, high, 10),
        ref,
        testable,
        "" if testable else "at chance",
    )


# Intervals relative to a reference of 0 that support / contradict / leave undecided each kind.
SUPPORT = {
    "above": (0.1, 0.3),
    "below": (-0.3, -0.1),
    "contains": (-0.1, 0.1),
    "not_above": (-0.1, 0.1),
}
AGAINST = {
    "above": (-0.3, -0.1),
    "below": (0.1, 0.3),
    "contains": (0.1, 0.3),
    "not_above": (0.1, 0.3),
}
UNDECIDED = {"above": (-0.1, 0.1), "below": (-0.1, 0.1)}


def cases(kind: str) -> dict[str, list[Evidence]]:
    """Evidence sets that must give each verdict under a rule of ``kind`` with quantifier
    'all' (five units)."""
    s, a = ev(*SUPPORT[kind]), ev(*AGAINST[kind])
    out = {
        "reproduced": [s] * 5,
        "partly reproduced": [s] * 3 + [a] * 2,
        "not reproduced": [s] + [a] * 4,
        "not testable here": [ev(*SUPPORT[kind], testable=False)] * 5,
    }
    return out


@pytest.mark.parametrize("kind", KINDS)
@pytest.mark.parametrize("verdict", VERDICTS)
def test_every_rule_kind_reaches_every_verdict(kind, verdict):
    got, reason = Rule(kind, "all").verdict(cases(kind)[verdict])
    assert got == verdict, reason
    assert reason


@pytest.mark.parametrize("claim_id", [c.id for c in CLAIMS.values() if c.rule is not None])
@pytest.mark.parametrize("verdict", VERDICTS)
def test_every_registered_claim_reaches_every_verdict(claim_id, verdict):
    rule = CLAIMS[claim_id].rule
    evidence = cases(rule.kind)[verdict]
    if rule.quantifier != "all" and verdict == "partly reproduced":
        evidence = [evidence[0]] + [ev(*AGAINST[rule.kind])] + [ev(-0.1, 0.1)] * 3
        if rule.kind in ("contains", "not_above"):
            evidence = [evidence[0], evidence[0], ev(*AGAINST[rule.kind]), ev(*AGAINST[rule.kind])]
    variant = CLAIMS[claim_id].variants[0]
    got = assess(claim_id, evidence, variant=variant)
    assert got.verdict == verdict, got.reason


def test_undecided_units_make_a_claim_not_testable():
    verdict, reason = Rule("above").verdict([ev(*UNDECIDED["above"])] * 4)
    assert verdict == "not testable here" and "too wide" in reason


def test_untestable_units_name_their_reason_and_do_not_count():
    evidence = [ev(0.1, 0.2)] * 3 + [ev(0.1, 0.2, testable=False)] * 2
    verdict, reason = Rule("above").verdict(evidence)
    assert verdict == "reproduced" and "2 of 5 not testable" in reason
    verdict, reason = Rule("above").verdict(evidence[:1] + evidence[3:])
    assert verdict == "partly reproduced" and "too few units" in reason


@pytest.mark.parametrize(
    ("quantifier", "n_support", "verdict"),
    [
        ("all", 4, "partly reproduced"),
        ("almost all", 4, "reproduced"),
        ("almost all", 3, "partly reproduced"),
        ("most", 3, "reproduced"),
        ("most", 2, "partly reproduced"),
    ],
)
def test_quantifiers(quantifier, n_support, verdict):
    evidence = [ev(0.1, 0.2)] * n_support + [ev(-0.1, 0.1)] * (5 - n_support)
    assert Rule("above", quantifier).verdict(evidence)[0] == verdict


def test_reference_moves_the_decision():
    # a gain of 0.1–0.3 supports "doubles" only if it lies above the reference 2
    assert Rule("above").outcome(ev(1.5, 1.9, ref=2.0)) == "against"
    assert Rule("above").outcome(ev(2.1, 2.5, ref=2.0)) == "support"
    # non-inferiority: a loss no larger than the margin
    assert Rule("above").outcome(ev(-0.02, 0.01, ref=-0.05)) == "support"


def test_bad_rules_and_claims_fail_clearly():
    with pytest.raises(ValueError, match="rule kind"):
        Rule("bigger")
    with pytest.raises(ValueError, match="quantifier"):
        Rule("above", "some")
    with pytest.raises(ValueError, match="unknown claim"):
        assess("no.such", [ev(0.1, 0.2)])
    with pytest.raises(ValueError, match="variants"):
        assess("space.closer", [ev(-0.2, -0.1)], variant="cosine")
    with pytest.raises(ValueError, match="never testable"):
        assess("space.polylm_less", [ev(-0.2, -0.1)])
    with pytest.raises(ValueError, match="at least one unit"):
        assess("space.closer", [])
    assert not_testable("space.polylm_less").verdict == "not testable here"
    with pytest.raises(ValueError, match="say why"):
        not_testable("space.closer")


def test_registry_is_complete_and_points_at_existing_chapters():
    sections = {c.section.split(",")[0] for c in CLAIMS.values()}
    assert {"§3.2", "§3.3", "§4", "§5", "§6", "§7", "App. B", "App. H"} <= sections
    assert set(QUANTIFIERS) >= {c.rule.quantifier for c in CLAIMS.values() if c.rule}
    for c in CLAIMS.values():
        assert c.quote and c.paper and c.measure and c.test, c.id
        assert c.line is None or c.line > 0, c.id
        assert (ROOT / "notebooks" / f"{c.chapter}.py").is_file(), c.id
        assert (c.rule is None) == bool(c.untestable), c.id

"""The paper's claims, and the rules that turn the book's measurements into verdicts.

- :mod:`.registry` reads ``registry.yaml``: each claim in the paper's own words, what
  the book measures for it, its units and its :class:`Rule`;
- :mod:`.rules`: how a unit's interval supports, contradicts or leaves a claim
  undecided, and how the units decide the verdict;
- :mod:`.evidence`: measurements turned into :class:`Evidence` (interval, reference,
  the above-chance prerequisite);
- :mod:`.calibration`: the rules simulated under a null and under the paper's effect;
- :mod:`.scorecard`: the assessed claims of a run, stored and shown.

A chapter measures a claim, :func:`assess` decides it and
:func:`steerspace.claims.scorecard.record` stores it.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field

import pandas as pd

from steerspace.claims.registry import CLAIMS, SCORES, Claim, Effect, claim
from steerspace.claims.rules import (
    KINDS,
    OUTCOMES,
    POSITIVE,
    QUANTIFIERS,
    VERDICTS,
    Evidence,
    Rule,
)
from steerspace.metrics.inference import Estimate
from steerspace.text.format import fmt_ci

__all__ = [
    "CLAIMS",
    "KINDS",
    "OUTCOMES",
    "POSITIVE",
    "QUANTIFIERS",
    "SCORES",
    "VERDICTS",
    "Assessment",
    "Claim",
    "Effect",
    "Evidence",
    "Rule",
    "assess",
    "assessment_table",
    "units_table",
    "claim",
    "not_testable",
]


@dataclass(frozen=True)
class Assessment:
    """A claim measured and decided on one run (and one variant)."""

    claim: Claim
    variant: str
    evidence: tuple[Evidence, ...]
    summary: Estimate | None
    verdict: str
    reason: str
    details: dict = field(default_factory=dict)

    @property
    def key(self) -> str:
        """``claim id`` or ``claim id [variant]``: unique per scorecard record."""
        return f"{self.claim.id} [{self.variant}]" if self.variant else self.claim.id


def _check_variant(c: Claim, variant: str) -> None:
    if variant not in c.variants:
        raise ValueError(f"claim {c.id!r} has variants {list(c.variants)}, got {variant!r}")


def assess(
    claim_id: str,
    evidence: Sequence[Evidence],
    *,
    variant: str = "",
    summary: Estimate | None = None,
    details: dict | None = None,
) -> Assessment:
    """Decide ``claim_id`` on the measured ``evidence`` (one item per unit).

    ``summary`` is the claim's overall value with its interval (e.g. the mean over
    targets), shown in the scorecard; ``details`` any extra numbers worth storing.
    """
    c = claim(claim_id)
    _check_variant(c, variant)
    if c.rule is None:
        raise ValueError(
            f"claim {claim_id!r} is never testable here ({c.untestable}); use not_testable"
        )
    verdict, reason = c.rule.verdict(evidence)
    return Assessment(c, variant, tuple(evidence), summary, verdict, reason, dict(details or {}))


def not_testable(claim_id: str, reason: str = "", *, variant: str = "") -> Assessment:
    """The assessment of a claim this run cannot test, with the reason (the claim's own
    ``untestable`` reason by default)."""
    c = claim(claim_id)
    _check_variant(c, variant)
    why = reason or c.untestable
    if not why:
        raise ValueError(f"say why claim {claim_id!r} is not testable here")
    return Assessment(c, variant, (), None, "not testable here", why)


def assessment_table(assessments: Sequence[Assessment]) -> pd.DataFrame:
    """One row per assessment, as a chapter shows the claims it has just decided: the
    claim, its score variant, our value (the summary with its interval), the verdict
    and why."""
    rows = []
    for a in assessments:
        kind = a.claim.format
        value = (
            "—"
            if a.summary is None
            else fmt_ci(a.summary, kind, sign=kind in ("pp", "dist", "nats"))
        )
        rows.append(
            {"claim": a.claim.title, "score": a.variant or "—", "our value": value,
             "verdict": a.verdict, "why": a.reason}
        )  # fmt: skip
    return pd.DataFrame(rows).set_index(["claim", "score"])


#: how a chapter marks a unit's outcome
OUTCOME_MARKS = {"support": "supports", "against": "contradicts", "undecided": "undecided",
                 "untestable": "not testable"}  # fmt: skip


def units_table(assessments: Sequence[Assessment]) -> pd.DataFrame:
    """The evidence of ``assessments`` unit by unit, as a chapter shows what it measured
    (the verdicts are in its Result box, once): one row per unit, one column per score
    variant, each cell ``value [low, high]`` and what the unit says."""
    rows = []
    for a in assessments:
        if a.claim.rule is None:
            continue
        kind = a.claim.format
        for ev in a.evidence:
            text = fmt_ci(ev.estimate, kind, sign=kind in ("pp", "dist", "nats"))
            rows.append({"claim": a.claim.title, "unit": ev.unit, "score": a.variant or "value",
                         "cell": f"{text}: {OUTCOME_MARKS[a.claim.rule.outcome(ev)]}"})  # fmt: skip
    if not rows:
        return pd.DataFrame()
    frame = pd.DataFrame(rows)
    wide = frame.pivot_table(index=["claim", "unit"], columns="score", values="cell",
                             aggfunc="first", sort=False)  # fmt: skip
    wide.columns.name = None
    return wide

"""How measured evidence decides a claim: one outcome per unit, one verdict per claim.

A chapter measures a claim on its *units of replication* (targets, languages,
directions), one :class:`Evidence` each: an estimate with its 95 % interval, the
reference the claim compares it with and, for an equivalence claim, the margin of the
band around the reference that counts as "no effect". Every rule kind has all three
outcomes (``low``/``high`` = the interval, ``ref`` = the reference, ``m`` = the margin):

=========== ============================ ============================ ==========================
kind        the claim says               supports it                  contradicts it
=========== ============================ ============================ ==========================
above       the effect exceeds ref       ``low > ref``                ``high < ref``
below       the effect is under ref      ``high < ref``               ``low > ref``
equivalent  no effect beyond ±m of ref   ``ref−m ≤ low, high ≤ ref+m`` ``low > ref+m`` or ``high < ref−m``
=========== ============================ ============================ ==========================

Anything else is **undecided**. "Does not improve" is ``below`` with a reference of +m
(no gain as large as the margin), "does not get worse" is ``above`` with −m. A unit
whose prerequisite fails (an accuracy that is not significantly above chance) is
**untestable**. Over the ``T`` testable units with ``S`` supporting, ``A`` against and
``U`` undecided, the verdict is, in this order:

1. no testable unit → **not testable here** (the units' reasons);
2. ``S`` reaches the claim's quantifier ("all", "almost all" = all but one and at
   least two, "most" = more than half) and at least half of all units are testable →
   **reproduced**;
3. ``S ≥ max(2, ⌈T/2⌉)`` and ``S > A`` → **partly reproduced**;
4. more units contradict than support (``A > S``), or as many do (``A = S ≥ 1``) and
   they are at least half of the testable units → **not reproduced**;
5. otherwise → **not testable: too wide** (too few units decide either way).

Under a null effect each unit supports with probability 2.5 % at most, so one lucky
unit never makes a claim "partly reproduced"; :mod:`steerspace.claims.calibration`
checks every registered rule by simulation.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np

from steerspace.metrics.inference import Estimate

VERDICTS = (
    "reproduced",
    "partly reproduced",
    "not reproduced",
    "not testable: too wide",
    "not testable here",
)
#: the verdicts that say the claim holds, fully or in part
POSITIVE = ("reproduced", "partly reproduced")
OUTCOMES = ("support", "against", "undecided", "untestable")
KINDS = ("above", "below", "equivalent")
QUANTIFIERS = ("all", "almost all", "most")


@dataclass(frozen=True)
class Evidence:
    """One unit of replication of a claim (a target, a language, a direction).

    ``estimate`` is the measured effect with its interval; ``reference`` the value the
    claim compares it with (0 for "increases", 2 for "doubles", +m for "does not
    improve"); ``margin`` the half-width of the "no effect" band of an equivalence
    claim (``None``: the rule's); ``testable`` is false when a prerequisite fails, and
    ``why_not`` says which.

    Examples
    --------
    >>> from steerspace import Estimate, Evidence, Rule
    >>> ratio = Evidence("es", Estimate(1.4, 1.1, 1.7, n=200), reference=2.0)  # "doubles"
    >>> Rule("above").outcome(ratio)
    'against'
    """

    unit: str
    estimate: Estimate
    reference: float = 0.0
    testable: bool = True
    why_not: str = ""
    margin: float | None = None


@dataclass(frozen=True)
class Rule:
    """How evidence decides a claim: the direction of the effect (``kind``), how many
    units must support it (``quantifier``) and, for ``equivalent``, the default margin."""

    kind: str
    quantifier: str = "all"
    margin: float = 0.0

    def __post_init__(self) -> None:
        if self.kind not in KINDS:
            raise ValueError(f"rule kind must be one of {list(KINDS)}, got {self.kind!r}")
        if self.quantifier not in QUANTIFIERS:
            raise ValueError(
                f"rule quantifier must be one of {list(QUANTIFIERS)}, got {self.quantifier!r}"
            )
        if not (math.isfinite(self.margin) and self.margin >= 0):
            raise ValueError(f"rule margin must be a finite number >= 0, got {self.margin!r}")

    def margin_of(self, evidence: Evidence) -> float:
        """The margin that applies to ``evidence`` (its own, else the rule's)."""
        return self.margin if evidence.margin is None else float(evidence.margin)

    def outcome(self, evidence: Evidence) -> str:
        """``support``, ``against``, ``undecided`` or ``untestable`` for one unit."""
        est = evidence.estimate
        if not evidence.testable or not (math.isfinite(est.low) and math.isfinite(est.high)):
            return "untestable"
        code = self.outcome_codes(est.low, est.high, evidence.reference, self.margin_of(evidence))
        return OUTCOMES[int(code)]

    def outcome_codes(self, low, high, reference, margin) -> np.ndarray:
        """The outcome of many units at once, as indices into :data:`OUTCOMES` (0
        support, 1 against, 2 undecided): the one definition :meth:`outcome` and the
        calibration's simulations share. Arguments broadcast."""
        low, high = np.asarray(low, dtype=np.float64), np.asarray(high, dtype=np.float64)
        ref, m = np.asarray(reference, dtype=np.float64), np.asarray(margin, dtype=np.float64)
        if self.kind == "above":
            support, against = low > ref, high < ref
        elif self.kind == "below":
            support, against = high < ref, low > ref
        else:
            support = (ref - m <= low) & (high <= ref + m)
            against = (low > ref + m) | (high < ref - m)
        return np.where(support, 0, np.where(against, 1, 2))

    def decide(self, outcomes: Sequence[str]) -> str:
        """The verdict from the units' outcomes (see the module docstring)."""
        testable = [o for o in outcomes if o != "untestable"]
        counts = [testable.count(o) for o in ("support", "against")]
        return VERDICTS[int(self.decide_counts(len(testable), *counts, len(outcomes)))]

    def decide_counts(self, n, support, against, total) -> np.ndarray:
        """The verdict (index into :data:`VERDICTS`) from ``n`` testable units of
        ``total``, ``support`` and ``against`` of them; arrays broadcast (the
        calibration decides thousands of replays at once)."""
        n, s, a = (np.asarray(x) for x in (n, support, against))
        if self.quantifier == "all":
            required = n
        elif self.quantifier == "almost all":  # all but one, and never a single unit of two
            required = np.maximum(np.minimum(n, 2), n - 1)
        else:
            required = n // 2 + 1
        return np.select(
            [
                n == 0,
                (s >= required) & (2 * n >= total),
                (s >= np.maximum(2, -(-n // 2))) & (s > a),
                (a > s) | ((a == s) & (a >= 1) & (2 * (a + s) >= n)),
            ],
            [4, 0, 1, 2],
            default=3,
        )

    def verdict(self, evidence: Sequence[Evidence]) -> tuple[str, str]:
        """The verdict over all units, and a one-line reason that counts them.

        Examples
        --------
        "The intervention increases top-1 accuracy" on three targets, each an
        estimated gain in points with its 95 % interval:

        >>> from steerspace import Estimate, Evidence, Rule
        >>> gains = {"de": (4.0, 1.5, 6.5), "es": (2.0, -0.5, 4.5), "fr": (5.0, 2.0, 8.0)}
        >>> evidence = [Evidence(t, Estimate(v, lo, hi, n=200)) for t, (v, lo, hi) in gains.items()]
        >>> Rule("above", quantifier="all").verdict(evidence)
        ('partly reproduced', '2 of 3 units support it, 0 contradict it, 1 undecided')
        >>> Rule("above", quantifier="most").verdict(evidence)[0]
        'reproduced'
        """
        if not evidence:
            raise ValueError("a claim needs at least one unit of evidence")
        outcomes = [self.outcome(ev) for ev in evidence]
        verdict = self.decide(outcomes)
        testable = [o for o in outcomes if o != "untestable"]
        if not testable:
            return verdict, "; ".join(sorted({ev.why_not or "no interval" for ev in evidence}))
        s, a, u = (testable.count(o) for o in ("support", "against", "undecided"))
        reason = f"{s} of {len(testable)} units support it, {a} contradict it"
        if u:
            reason += f", {u} undecided"
        if len(testable) < len(evidence):
            reason += f" ({len(evidence) - len(testable)} of {len(evidence)} not testable)"
        return verdict, reason

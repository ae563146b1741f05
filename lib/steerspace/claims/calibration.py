"""Does a rule say "reproduced" when nothing is there? Simulation under a null and
under the paper's effect, with a run's own unit counts and interval widths.

A claim's units are replayed many times: each unit's estimate is drawn around a true
effect with the unit's own standard error (its 95 % interval's half-width / 1.96),
units correlated by ``rho`` through a shared component (they often share queries or
sentences), and the claim's rule decides each replay. Under the **null** each unit's
true effect sits where the claim is false but closest to true (the reference for
``above``/``below``, the edge of the band for ``equivalent``); the rule is
**calibrated** when it returns "reproduced" or "partly reproduced" in at most
:data:`ALPHA` of the replays. Under the **effect** (the size the paper reports, from
the registry) the share of "reproduced" is the rule's **power** on this run.
Untestable units stay untestable in every replay.
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass

import numpy as np

from steerspace.claims.registry import Claim
from steerspace.claims.rules import POSITIVE, VERDICTS, Rule

#: the largest share of null replays a calibrated rule may call (partly) reproduced
ALPHA = 0.05
Z95 = 1.959963984540054


@dataclass(frozen=True)
class Unit:
    """What the simulation needs of one unit: its standard error, reference, margin,
    and whether it is testable."""

    se: float
    reference: float
    margin: float
    testable: bool


@dataclass(frozen=True)
class Calibration:
    """How a rule behaves on a run's units: ``null_rate`` (share of null replays
    called reproduced or partly, the worst over the correlations tried), ``power``
    (share of replays under the paper's effect called reproduced) and
    ``power_partly`` (reproduced or partly)."""

    null_rate: float
    power: float
    power_partly: float
    n_sim: int

    @property
    def calibrated(self) -> bool:
        return self.null_rate <= ALPHA


def units_of(record: Mapping, rule: Rule) -> list[Unit]:
    """The :class:`Unit` of every unit of a stored scorecard record
    (:func:`steerspace.claims.scorecard.to_record`)."""
    out = []
    for ev in record["evidence"]:
        low, high = float(ev["low"]), float(ev["high"])
        ok = bool(ev["testable"]) and math.isfinite(low) and math.isfinite(high)
        margin = ev.get("margin")
        out.append(
            Unit(
                se=(high - low) / (2 * Z95) if ok else float("nan"),
                reference=float(ev["reference"]),
                margin=rule.margin if margin is None else float(margin),
                testable=ok,
            )
        )
    return out


def _null(rule: Rule, unit: Unit) -> float:
    if rule.kind == "equivalent":
        return unit.reference + unit.margin
    return unit.reference


def _effect(claim: Claim, unit: Unit) -> float:
    effect = claim.effect
    if effect.value is not None:
        return effect.value
    sign = -1.0 if claim.rule.kind == "below" else 1.0
    return unit.reference + sign * effect.above_reference


def replay_rate(
    rule: Rule,
    units: Sequence[Unit],
    truth: Sequence[float],
    *,
    verdicts: Sequence[str],
    rho: float = 0.0,
    n_sim: int = 4000,
    seed: int = 0,
) -> float:
    """Share of ``n_sim`` replays of ``units`` (true effects ``truth``) whose verdict
    under ``rule`` is one of ``verdicts``."""
    rng = np.random.default_rng(seed)
    noise = math.sqrt(rho) * rng.standard_normal((n_sim, 1)) + math.sqrt(
        1.0 - rho
    ) * rng.standard_normal((n_sim, len(units)))
    testable = np.array([u.testable for u in units])
    se = np.array([u.se if u.testable else 0.0 for u in units])
    reference = np.array([u.reference for u in units])
    margin = np.array([u.margin for u in units])
    estimate = np.asarray(truth, dtype=np.float64) + se * noise
    codes = rule.outcome_codes(estimate - Z95 * se, estimate + Z95 * se, reference, margin)
    codes = codes[:, testable]
    support, against = (codes == 0).sum(axis=1), (codes == 1).sum(axis=1)
    verdict = rule.decide_counts(int(testable.sum()), support, against, len(units))
    wanted = [VERDICTS.index(v) for v in verdicts]
    return float(np.isin(verdict, wanted).mean())


def calibrate(
    claim: Claim,
    units: Sequence[Unit],
    *,
    rule: Rule | None = None,
    rhos: Sequence[float] = (0.0, 0.5),
    n_sim: int = 4000,
    seed: int = 0,
) -> Calibration:
    """:class:`Calibration` of ``claim``'s rule (or another ``rule``, e.g. a planted
    lenient one) on ``units``; the null rate is the largest over ``rhos``."""
    rule = rule or claim.rule
    if rule is None:
        raise ValueError(f"claim {claim.id!r} has no rule to calibrate ({claim.untestable})")
    if not units:
        raise ValueError(f"claim {claim.id!r}: need at least one unit to simulate")
    null = [_null(rule, u) for u in units]
    effect = [_effect(claim, u) for u in units]
    null_rate = max(
        replay_rate(rule, units, null, verdicts=POSITIVE, rho=rho, n_sim=n_sim, seed=seed)
        for rho in rhos
    )
    power = replay_rate(rule, units, effect, verdicts=("reproduced",), n_sim=n_sim, seed=seed)
    partly = replay_rate(rule, units, effect, verdicts=POSITIVE, n_sim=n_sim, seed=seed)
    return Calibration(null_rate, power, partly, n_sim)

"""Measurements turned into :class:`~steerspace.claims.Evidence`: one place that decides
how each kind of result is tested (and when it cannot be).

The chapters compute spaces, hits and correlations; the functions here attach the
interval (:mod:`steerspace.metrics.inference`), the reference the claim compares with and the
prerequisite: a claim about retrieval is only testable where the accuracy it rests on
is significantly above chance (:func:`steerspace.metrics.inference.above_chance`).
"""

from __future__ import annotations

from collections.abc import Mapping

import numpy as np

from steerspace.claims import Evidence
from steerspace.metrics.inference import (
    Estimate,
    above_chance,
    bootstrap_hits,
    estimate_from_samples,
    paired_hits_delta,
    resample_counts,
)
from steerspace.text.format import fmt

REQUIRES = ("either", "before", "none")


def _chance_note(accuracies: Mapping[str, float], chance: float) -> str:
    parts = ", ".join(f"{fmt(v, 'acc')} {name}" for name, v in accuracies.items())
    return f"accuracy {parts} not above chance ({fmt(chance, 'acc')})"


def _testable(
    before: np.ndarray, after: np.ndarray, chance: float, require: str
) -> tuple[bool, str]:
    if require not in REQUIRES:
        raise ValueError(f"require must be one of {list(REQUIRES)}, got {require!r}")
    if require == "none":
        return True, ""
    ok_before = above_chance(before, chance)
    ok = ok_before or (require == "either" and above_chance(after, chance))
    if ok:
        return True, ""
    shown = {"before": float(np.mean(before))}
    if require == "either":
        shown["after"] = float(np.mean(after))
    return False, _chance_note(shown, chance)


def hits_change(
    unit: str,
    before: np.ndarray,
    after: np.ndarray,
    chance: float,
    *,
    reference: float = 0.0,
    require: str = "either",
    seed: int = 0,
) -> Evidence:
    """Change of top-1 accuracy (after − before) on the same queries, paired bootstrap
    over queries. ``require``: which accuracy must be above chance for the change to
    mean something: ``"either"`` (a gain from chance counts), ``"before"`` (a loss or a
    ratio needs something to lose) or ``"none"``."""
    before, after = np.asarray(before, dtype=bool), np.asarray(after, dtype=bool)
    testable, why = _testable(before, after, chance, require)
    estimate = paired_hits_delta(before, after, seed=seed)
    return Evidence(unit, estimate, reference, testable, why)


def hits_noninferior(
    unit: str,
    before: np.ndarray,
    after: np.ndarray,
    chance: float,
    *,
    share: float = 0.25,
    seed: int = 0,
) -> Evidence:
    """ "Largely unchanged": the change after − before must stay above −``share`` × (the
    accuracy before − chance), i.e. keep at least 1 − ``share`` of what lies above
    chance. Needs the accuracy before above chance (else there is nothing to keep)."""
    before, after = np.asarray(before, dtype=bool), np.asarray(after, dtype=bool)
    margin = share * max(0.0, float(before.mean()) - chance)
    testable, why = _testable(before, after, chance, "before")
    estimate = paired_hits_delta(before, after, seed=seed)
    return Evidence(unit, estimate, -margin, testable, why)


def hits_ratio(
    unit: str,
    before: np.ndarray,
    after: np.ndarray,
    chance: float,
    *,
    reference: float = 2.0,
    seed: int = 0,
) -> Evidence:
    """Ratio of top-1 accuracies after / before on the same queries, bootstrap over
    queries; needs the accuracy before above chance."""
    b = np.asarray(before, dtype=np.float64).reshape(len(before), -1).mean(axis=1)
    a = np.asarray(after, dtype=np.float64).reshape(len(after), -1).mean(axis=1)
    testable, why = _testable(np.asarray(before, bool), np.asarray(after, bool), chance, "before")
    counts = np.vstack([np.ones((1, b.size)), resample_counts(b.size, seed=seed)])
    with np.errstate(divide="ignore", invalid="ignore"):
        ratios = (counts @ a) / (counts @ b)
    return Evidence(unit, estimate_from_samples(ratios, b.size), reference, testable, why)


def accuracy(hits: np.ndarray, *, seed: int = 0) -> Estimate:
    """Top-1 accuracy with its interval over queries (for tables)."""
    return bootstrap_hits(np.asarray(hits, dtype=bool), seed=seed)


def correlation(
    unit: str, result: Mapping[str, float], *, testable: bool = True, why_not: str = ""
) -> Evidence:
    """A correlation from :func:`steerspace.metrics.retrieval.bootstrap_pearson` as evidence
    (reference 0); NaN (a constant input) is untestable."""
    r = float(result["r"])
    if not np.isfinite(r):
        testable, why_not = False, why_not or "constant input: r undefined"
    estimate = Estimate(r, float(result["ci_low"]), float(result["ci_high"]), int(result["n"]))
    return Evidence(unit, estimate, 0.0, testable, why_not)


def resampled(unit: str, samples: np.ndarray, n: int, *, reference: float = 0.0) -> Evidence:
    """Evidence from a value-plus-resamples array (e.g. a change of a Table 1 distance
    from :func:`steerspace.metrics.geometry.table1_resampled`)."""
    return Evidence(unit, estimate_from_samples(samples, n), reference)

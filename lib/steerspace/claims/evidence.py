"""Measurements turned into :class:`~steerspace.claims.Evidence`: one place that decides
how each kind of result is tested (and when it cannot be).

The chapters compute spaces, hits and correlations; the functions here attach the
interval (:mod:`steerspace.metrics.inference`, ``n_boot`` resamples of the independent
unit), the reference and margin the claim compares with, and the prerequisite: a claim
about retrieval is only testable where the accuracy it rests on is significantly
above chance (:func:`steerspace.metrics.inference.above_chance`).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence

import numpy as np

from steerspace.claims.rules import Evidence
from steerspace.metrics.inference import (
    Estimate,
    above_chance,
    estimate_from_samples,
    paired_hits_delta,
    resample_counts,
    two_level_samples,
)
from steerspace.text.format import fmt

REQUIRES = ("either", "before", "none")
#: "largely unchanged" and "no improvement": a quarter of the accuracy above chance
#: (the margins of paraphrase.preserved, control.retrieval, control.paraphrase_small)
SHARE = 0.25


def _chance_reason(accuracies: Mapping[str, float], chance: float) -> str:
    """Why a unit is not testable (its Evidence's ``why_not``, a cell of the scorecard's
    tables): the accuracies that are not above chance."""
    parts = ", ".join(f"{fmt(v, 'acc')} {name}" for name, v in accuracies.items())
    return f"accuracy {parts} not above chance ({fmt(chance, 'acc')})"


def testable(
    before: np.ndarray, after: np.ndarray, chance: float, require: str, *, n_boot: int
) -> tuple[bool, str]:
    """Whether a change between two accuracies can be read, and why not:
    ``require`` says which must be above chance: ``"either"`` (a gain from chance
    counts), ``"before"`` (a loss, a ratio or a margin needs something there before)
    or ``"none"``."""
    if require not in REQUIRES:
        raise ValueError(f"require must be one of {list(REQUIRES)}, got {require!r}")
    if require == "none":
        return True, ""
    ok = above_chance(before, chance, n_boot=n_boot) or (
        require == "either" and above_chance(after, chance, n_boot=n_boot)
    )
    if ok:
        return True, ""
    shown = {"before": float(np.mean(before))}
    if require == "either":
        shown["after"] = float(np.mean(after))
    return False, _chance_reason(shown, chance)


def margin_above_chance(before: np.ndarray, chance: float, share: float = SHARE) -> float:
    """``share`` of the accuracy ``before`` above ``chance`` (0 at or below chance)."""
    return share * max(0.0, float(np.mean(before)) - chance)


def hits_change(
    unit: str,
    before: np.ndarray,
    after: np.ndarray,
    chance: float,
    *,
    n_boot: int,
    reference: float = 0.0,
    require: str = "either",
    seed: int = 0,
) -> Evidence:
    """Change of top-1 accuracy (after − before) on the same queries, paired bootstrap
    over queries (``before``/``after``: (queries,) or (queries, pairs) hits)."""
    before, after = np.asarray(before, dtype=bool), np.asarray(after, dtype=bool)
    ok, why = testable(before, after, chance, require, n_boot=n_boot)
    estimate = paired_hits_delta(before, after, n_boot=n_boot, seed=seed)
    return Evidence(unit, estimate, reference, ok, why)


def hits_equivalent(
    unit: str,
    before: np.ndarray,
    after: np.ndarray,
    chance: float,
    *,
    n_boot: int,
    share: float = SHARE,
    seed: int = 0,
) -> Evidence:
    """ "Largely unchanged": the change after − before, with a margin of ``share`` of
    the accuracy before above chance (for an ``equivalent`` rule). Needs the accuracy
    before above chance, else there is nothing to keep."""
    before, after = np.asarray(before, dtype=bool), np.asarray(after, dtype=bool)
    ok, why = testable(before, after, chance, "before", n_boot=n_boot)
    estimate = paired_hits_delta(before, after, n_boot=n_boot, seed=seed)
    margin = margin_above_chance(before, chance, share)
    return Evidence(unit, estimate, 0.0, ok, why, margin=margin)


def hits_ratio(
    unit: str,
    before: np.ndarray,
    after: np.ndarray,
    chance: float,
    *,
    n_boot: int,
    reference: float = 2.0,
    seed: int = 0,
) -> Evidence:
    """Ratio of mean top-1 accuracies after / before on the same queries (over all
    pairs of a query row), bootstrap over queries; needs the accuracy before above
    chance."""
    before, after = np.asarray(before, dtype=bool), np.asarray(after, dtype=bool)
    b = before.reshape(len(before), -1).mean(axis=1)
    a = after.reshape(len(after), -1).mean(axis=1)
    ok, why = testable(before, after, chance, "before", n_boot=n_boot)
    counts = np.vstack([np.ones((1, b.size)), resample_counts(b.size, n_boot=n_boot, seed=seed)])
    with np.errstate(divide="ignore", invalid="ignore"):
        ratios = (counts @ a) / (counts @ b)
    return Evidence(unit, estimate_from_samples(ratios, b.size), reference, ok, why)


def share_gaining(
    unit: str,
    before: np.ndarray,
    after: np.ndarray,
    chance: float,
    *,
    n_boot: int,
    reference: float = 0.5,
    seed: int = 0,
) -> Evidence:
    """Share of the candidate languages (columns of (queries, candidates) hits) whose
    accuracy rises after the intervention, with a bootstrap over queries that
    recomputes every candidate's change on each resample; testable where the mean
    accuracy is above chance before or after."""
    before, after = np.asarray(before, dtype=bool), np.asarray(after, dtype=bool)
    ok, why = testable(before, after, chance, "either", n_boot=n_boot)
    diff = after.astype(np.float64) - before
    counts = np.vstack(
        [np.ones((1, diff.shape[0])), resample_counts(diff.shape[0], n_boot=n_boot, seed=seed)]
    )
    shares = ((counts @ diff) > 0).mean(axis=1)
    return Evidence(unit, estimate_from_samples(shares, diff.shape[0]), reference, ok, why)


def correlation(
    unit: str,
    result: Mapping[str, float],
    *,
    reference: float = 0.0,
    testable: bool = True,
    why_not: str = "",
    margin: float | None = None,
) -> Evidence:
    """A correlation from :func:`steerspace.metrics.inference.fisher_pearson` as
    evidence; an undefined r (a constant input) is untestable."""
    r = float(result["r"])
    if not np.isfinite(r):
        testable, why_not = False, why_not or "constant input: r undefined"
    estimate = Estimate(r, float(result["ci_low"]), float(result["ci_high"]), int(result["n"]))
    return Evidence(unit, estimate, reference, testable, why_not, margin=margin)


def resampled(unit: str, samples: np.ndarray, n: int, *, reference: float = 0.0) -> Evidence:
    """Evidence from a value-plus-resamples array (e.g. a change of a Table 1 distance
    from :func:`steerspace.metrics.geometry.table1_resampled`)."""
    return Evidence(unit, estimate_from_samples(samples, n), reference)


def over_draws(
    unit: str,
    per_draw: Sequence[np.ndarray],
    n: int,
    *,
    n_boot: int,
    reference: float = 0.0,
    margin: float | None = None,
    ok: bool = True,
    why_not: str = "",
    seed: int = 0,
) -> Evidence:
    """Evidence from several random draws, each a value-plus-resamples array over the
    same rows: the mean over draws with an interval that resamples the draws and the
    rows together (:func:`steerspace.metrics.inference.two_level_samples`)."""
    samples = two_level_samples(np.vstack(per_draw), n_boot=n_boot, seed=seed)
    return Evidence(unit, estimate_from_samples(samples, n), reference, ok, why_not, margin)

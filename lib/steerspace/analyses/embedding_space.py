"""The intervened embedding space (paper §4, Table 1, Fig. 3): the claims and their
evidence.

Every quantity comes from :func:`steerspace.metrics.geometry.table1_resampled` on the
original space (``"pre"``) and each target's intervened space, on the data and on
resamples of the aligned sentences (one draw of rows for every space and target, so
every change is paired).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence

import numpy as np
import pandas as pd

from steerspace import claims
from steerspace.claims import Assessment, Evidence
from steerspace.claims.evidence import resampled
from steerspace.metrics.inference import Estimate, estimate_from_samples
from steerspace.text.format import fmt_ci

Samples = Mapping[tuple[str, str, str], np.ndarray]


def change(samples: Samples, target: str, quantity: str) -> np.ndarray:
    """Resampled post − pre of ``quantity`` for ``target`` (post = the target's space)."""
    return samples[target, target, quantity] - samples["pre", target, quantity]


def _claim(
    claim_id: str, units: list[Evidence], changes: Sequence[np.ndarray], n: int
) -> Assessment:
    summary = estimate_from_samples(np.mean(changes, axis=0), n)
    return claims.assess(claim_id, units, summary=summary)


def assessments(samples: Samples, targets: Sequence[str], n: int) -> list[Assessment]:
    """Claims ``space.closer``, ``space.medoid``, ``space.target`` and
    ``space.new_space`` from ``samples`` (``n`` aligned sentences); each summary is the
    mean over its units, resampled with the same rows."""
    out = []
    closer = {t: change(samples, t, "all_languages") for t in targets}
    units = [resampled(t, c, n) for t, c in closer.items()]
    out.append(_claim("space.closer", units, list(closer.values()), n))

    units, changes = [], []
    for target in targets:
        for quantity, who in (("centre_target", "target"), ("centre_non_target", "others")):
            changes.append(change(samples, target, quantity))
            units.append(resampled(f"{target} ({who})", changes[-1], n))
    out.append(_claim("space.medoid", units, changes, n))

    units, changes = [], []
    for target in targets:
        quantities = [q for (label, t, q) in samples if label == "pre" and t == target]
        others = [q.split(":", 1)[1] for q in quantities if q.startswith("to_target:")]
        for other in others:
            changes.append(change(samples, target, f"to_target:{other}"))
            units.append(resampled(f"{target}: {other}", changes[-1], n))
    out.append(_claim("space.target", units, changes, n))

    new = {t: samples[t, t, "new_space"] for t in targets}
    units = [resampled(t, c, n) for t, c in new.items()]
    out.append(_claim("space.new_space", units, list(new.values()), n))
    out.append(claims.not_testable("space.polylm_less"))
    return out


def medoid_stability(
    samples: Samples, spaces: Sequence[str], targets: Sequence[str]
) -> dict[str, float]:
    """Per space (``"pre"`` or a target's), the share of resamples whose medoid is the
    same sentence as on the data: how far the medoid can be trusted as an estimate."""
    out = {}
    for label in spaces:
        target = label if label in targets else targets[0]
        out[label] = float(samples[label, target, "medoid_same"][1:].mean())
    return out


def interval_cells(intervals: pd.DataFrame) -> pd.DataFrame:
    """The per-target intervals (rows ``target, quantity, space, value, low, high, n``)
    as the chapter shows them: one row per (target, quantity), one column per space,
    ``value [low, high]`` (changes signed)."""
    text = [
        fmt_ci(Estimate(r.value, r.low, r.high, int(r.n)), "dist", sign=r.space == "post − pre")
        for r in intervals.itertuples()
    ]
    wide = intervals.assign(text=text).pivot_table(
        index=["target", "quantity"], columns="space", values="text", aggfunc="first", sort=False
    )
    return wide[["pre", "post", "post − pre"]]

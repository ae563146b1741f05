"""Computed statements for a chapter's prose: estimates per unit (target, pair…) as
one line, and how many of them are distinguishable from zero.

Every number goes through :func:`steerspace.text.format.fmt_ci`; the wording only counts
and names units, so a statement cannot drift from the run it describes.
"""

from __future__ import annotations

from collections.abc import Mapping

import pandas as pd

from steerspace.metrics.inference import Estimate
from steerspace.text.format import fmt, fmt_ci


def as_estimate(row: pd.Series | Mapping) -> Estimate:
    """A table row with ``value``, ``low``, ``high`` (and ``n``, else 0) as an Estimate."""
    return Estimate(
        float(row["value"]), float(row["low"]), float(row["high"]), int(row.get("n", 0))
    )


def per_unit(estimates: Mapping[str, Estimate], kind: str, *, sign: bool = True) -> str:
    """``**unit** value [low, high]`` for each unit, joined by semicolons."""
    return "; ".join(f"**{u}** {fmt_ci(e, kind, sign=sign)}" for u, e in estimates.items())


def sides(estimates: Mapping[str, Estimate], reference: float = 0.0) -> dict[str, list[str]]:
    """The units whose interval lies above (``above``), below (``below``) or around
    (``neither``) ``reference``."""
    out: dict[str, list[str]] = {"above": [], "below": [], "neither": []}
    for unit, est in estimates.items():
        side = "above" if est.low > reference else "below" if est.high < reference else "neither"
        out[side].append(unit)
    return out


def decided(estimates: Mapping[str, Estimate]) -> str:
    """How many intervals lie above zero, below zero, or include it (naming the units),
    e.g. ``2 of 5 above zero (de, es), 0 below, 3 not distinguishable from zero``."""
    by_side = sides(estimates)

    def named(units: list[str]) -> str:
        return f" ({', '.join(units)})" if units else ""

    return (
        f"{len(by_side['above'])} of {len(estimates)} above zero{named(by_side['above'])}, "
        f"{len(by_side['below'])} below{named(by_side['below'])}, "
        f"{len(by_side['neither'])} not distinguishable from zero"
    )


def value_range(estimates: Mapping[str, Estimate], kind: str, *, sign: bool = True) -> str:
    """The smallest and largest point value over the units, e.g. ``−0.6 to +2.2 pp``
    (one value when all are equal)."""
    values = [e.value for e in estimates.values()]
    low, high = fmt(min(values), kind, sign=sign), fmt(max(values), kind, sign=sign)
    return low if low == high else f"{fmt(min(values), kind, sign=sign, unit=False)} to {high}"

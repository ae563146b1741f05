"""Checks of the numbers a run asks for that need no model loaded (no torch here: the
runner and the preflight import this module)."""

from __future__ import annotations

import numpy as np


def check_k(k: int, n_units: int, *, units: str = "units") -> int:
    """``k`` if it is a positive integer no larger than ``n_units``, else a one-line
    ``ValueError`` naming what the units are (``units``, e.g. "units matched by
    modules=..."). The one check of a number of experts: the pipeline, the expert tables
    and the preflight of a run all use it."""
    if not isinstance(k, int | np.integer) or isinstance(k, bool) or k <= 0:
        raise ValueError(f"k must be a positive integer, got {k!r}")
    if k > n_units:
        raise ValueError(f"k={k} is larger than the {n_units} {units}; choose k <= {n_units}")
    return int(k)

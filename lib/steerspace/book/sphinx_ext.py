"""Sphinx extension of the book (loaded by ``_config.yml``).

- Number every captioned figure (below).
- The ``{paper}`...``` role marks a number the paper prints (not one of our run), so a
  reader sees it as a quotation (a tooltip says so) and the prose check
  (:mod:`tests/helpers/prose.py`) knows it was not typed in place of a computed value.
- The ``{source}`...``` role marks a fact quoted from another named source (a title
  with its year, an edition, a licence, a file size), with its own tooltip and no
  underline; it is never a number of our run.
- ``static/steerspace.css`` and ``static/steerspace.js``: captions at body-text
  contrast, wide tables that scroll, and figures that open at full resolution on click.

myst-nb wraps a code cell's image output in a figure when the cell's metadata has
``mystnb: {figure: {caption: ..., name: ...}}``. Sphinx numbers only figures with an id,
and only a ``name`` gives one; a cell that draws several figures (the galleries) cannot
name them all, since a name must be unique. This transform gives every captioned figure
without an id an automatic one, so that the gallery figures are numbered too.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from docutils import nodes
from sphinx.application import Sphinx
from sphinx.transforms import SphinxTransform


class NumberCaptionedFigures(SphinxTransform):
    """Give an id to every captioned figure that has none, so that numfig numbers it."""

    default_priority = 500

    def apply(self, **kwargs: Any) -> None:
        for figure in self.document.findall(nodes.figure):
            if not figure["ids"] and figure.next_node(nodes.caption) is not None:
                self.document.set_id(figure, suggested_prefix="figure")


def paper_role(name, rawtext, text, lineno, inliner, options=None, content=None):
    """``{paper}`0.72 → 0.19``` → the text, marked as printed in the paper."""
    node = nodes.abbreviation(rawtext, text, explanation="as printed in the paper")
    node["classes"].append("paper-number")
    return [node], []


def source_role(name, rawtext, text, lineno, inliner, options=None, content=None):
    """``{source}`Reina Valera 1909``` → the text, marked as printed by the source that
    the sentence names (an edition's title, a licence, a file size)."""
    node = nodes.abbreviation(rawtext, text, explanation="as printed by the source named here")
    node["classes"].append("source-fact")
    return [node], []


STATIC = Path(__file__).resolve().parent / "static"


def _add_static(app: Sphinx) -> None:
    app.config.html_static_path.append(str(STATIC))


def setup(app: Sphinx) -> dict[str, Any]:
    app.add_transform(NumberCaptionedFigures)
    app.connect("builder-inited", _add_static)
    app.add_css_file("steerspace.css")
    app.add_js_file("steerspace.js")
    app.add_role("paper", paper_role)
    app.add_role("source", source_role)
    return {"version": "1", "parallel_read_safe": True, "parallel_write_safe": True}

"""Sphinx extension of the book (loaded by ``_config.yml``): number every captioned figure.

myst-nb wraps a code cell's image output in a figure when the cell's metadata has
``mystnb: {figure: {caption: ..., name: ...}}``. Sphinx numbers only figures with an id,
and only a ``name`` gives one; a cell that draws several figures (the galleries) cannot
name them all, since a name must be unique. This transform gives every captioned figure
without an id an automatic one, so that the gallery figures are numbered too.
"""

from __future__ import annotations

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


def setup(app: Sphinx) -> dict[str, Any]:
    app.add_transform(NumberCaptionedFigures)
    return {"version": "1", "parallel_read_safe": True, "parallel_write_safe": True}

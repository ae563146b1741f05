"""Every figure a figure test builds is checked to fit the book's text column: at most
:data:`~steerspace.figures.style.PAGE_WIDTH` wide (shown at its natural size, not
shrunk) with no text under 8 pt (:func:`helpers.figures.page_faults`)."""

from __future__ import annotations

import pytest
from helpers.figures import page_faults
from matplotlib.figure import Figure


@pytest.fixture(autouse=True)
def figures_fit_the_page(monkeypatch):
    """Every figure the test builds fits the text column (checked when the test ends,
    on each figure as the test left it). (Autouse, for every test in this folder.)"""
    built: list[Figure] = []
    init = Figure.__init__

    def tracked(self, *args, **kwargs):
        init(self, *args, **kwargs)
        built.append(self)

    monkeypatch.setattr(Figure, "__init__", tracked)
    yield built
    faults = {f"figure {i}": page_faults(fig) for i, fig in enumerate(built)}
    faults = {name: found for name, found in faults.items() if found}
    assert not faults, f"figures that do not fit the page: {faults}"

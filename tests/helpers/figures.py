"""Whether a figure fits the book's text column (:func:`page_faults`), for the figure
tests' shared fixture (``tests/figures/conftest.py``)."""

from __future__ import annotations

from matplotlib.figure import Figure
from matplotlib.text import Text

from steerspace.figures import style

#: the smallest text a figure may have (points)
MIN_FONT_SIZE = 8.0


def page_faults(fig: Figure) -> list[str]:
    """What keeps ``fig`` from being legible in the text column: wider than
    :data:`~steerspace.figures.style.PAGE_WIDTH`, drawn or as the page shows it
    (cropped to its contents with a margin of :data:`~steerspace.figures.style.SAVE_PAD`:
    text that runs out of the figure widens it), or text under :data:`MIN_FONT_SIZE`."""
    faults = []
    width = fig.get_size_inches()[0]
    if width > style.PAGE_WIDTH + 1e-9:
        faults.append(f"{width:.2f} in wide (the page: {style.PAGE_WIDTH} in)")
    else:
        fig.draw_without_rendering()  # the final layout
        shown = fig.get_tightbbox().width + 2 * style.SAVE_PAD
        if shown > style.PAGE_WIDTH + 0.01:
            faults.append(f"{shown:.2f} in wide as shown (contents run out of the figure)")
    small = {
        (t.get_text(), t.get_fontsize())
        for t in fig.findobj(Text)
        if t.get_visible() and t.get_text().strip() and t.get_fontsize() < MIN_FONT_SIZE
    }
    faults += [f"text {text!r} at {size:g} pt" for text, size in sorted(small)]
    return faults

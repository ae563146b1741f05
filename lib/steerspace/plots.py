"""The book's figure style: one colour per language everywhere, labelled axes, files.

Every chapter calls :func:`use_book_style` once and :func:`save_figure` for each figure,
so the PNGs a reader can reuse land in ``results/<config>/figures/``.
"""

from __future__ import annotations

from pathlib import Path

import matplotlib as mpl
import matplotlib.pyplot as plt

from steerspace.config import Config
from steerspace.languages import LANGUAGES

# 12 colour-blind-safe hues (Okabe–Ito + Tol's muted), cycled with two marker shapes so
# that the 23 languages stay distinguishable by colour *and* marker.
_PALETTE = [
    "#0072B2",
    "#E69F00",
    "#009E73",
    "#D55E00",
    "#CC79A7",
    "#56B4E9",
    "#F0E442",
    "#332288",
    "#882255",
    "#44AA99",
    "#999933",
    "#AA4499",
]
_MARKERS = ["o", "s"]
TARGET_COLORS = {
    "en": "#0072B2",
    "de": "#E69F00",
    "fr": "#009E73",
    "es": "#D55E00",
    "ja": "#CC79A7",
}


def language_color(code: str) -> str:
    """The fixed colour of a language (same in every figure of the book)."""
    return _PALETTE[list(LANGUAGES).index(code) % len(_PALETTE)]


def language_marker(code: str) -> str:
    """The fixed marker of a language (disambiguates colours that repeat)."""
    return _MARKERS[(list(LANGUAGES).index(code) // len(_PALETTE)) % len(_MARKERS)]


def target_color(code: str) -> str:
    """Colour of an intervention target in per-target plots."""
    return TARGET_COLORS.get(code, language_color(code))


def use_book_style() -> None:
    """Matplotlib defaults for the book: readable at page width."""
    mpl.rcParams.update(
        {
            "figure.dpi": 110,
            "savefig.dpi": 150,
            "savefig.bbox": "tight",
            "font.size": 10,
            "axes.titlesize": 11,
            "axes.labelsize": 10,
            "axes.spines.top": False,
            "axes.spines.right": False,
            "axes.grid": True,
            "grid.alpha": 0.3,
            "legend.frameon": False,
        }
    )


def save_figure(fig: plt.Figure, cfg: Config, name: str) -> Path:
    """Write ``fig`` as ``results/<config>/figures/<name>.png`` and return the path."""
    path = cfg.results_path / "figures" / f"{name}.png"
    path.parent.mkdir(parents=True, exist_ok=True)
    fig.savefig(path)
    return path

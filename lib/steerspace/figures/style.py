"""The book's figure vocabulary: one look for every chapter.

- **Languages** have a fixed colour *and* marker each (all 23, no colour repeats), the
  same in every figure; the five intervention targets get the five most distinct
  colour-blind-safe hues (Okabe–Ito). Axes list languages sorted by the code they show.
- **Conditions and methods** (pre, post, mixed, random controls, baselines) never use a
  language colour: they are greys with hatches, so they stay apart in greyscale and
  never look like a language.
- **Accuracy axes** are scaled to the data (never fixed to 0–1, never inflating chance
  level), with the **chance line** drawn; families of heatmaps share one symmetric
  colour scale; layer axes have integer ticks; text labels are placed clear of each
  other (adjustText).
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Sequence
from pathlib import Path

import matplotlib as mpl
import matplotlib.pyplot as plt
import numpy as np
from matplotlib import patheffects
from matplotlib.ticker import MaxNLocator

from steerspace.config import Config
from steerspace.data.languages import LANGUAGES
from steerspace.infra.chapter_cache import record_output
from steerspace.text.format import notebook_display

TARGETS = ("en", "de", "fr", "es", "ja")
# Okabe–Ito for the five targets, then 18 more hues picked greedily from an sRGB grid to
# be as far as possible (CIELAB ΔE, in normal vision and under simulated deuteranopia)
# from every colour already chosen: any two of the 23 differ by ΔE76 ≥ 25
# (tests/figures/test_figures_embedding_space.py); no greys, none too light to see on white.
_COLOURS = [
    "#0072B2", "#E69F00", "#009E73", "#D55E00", "#CC79A7",  # en de fr es ja
    "#0000FF", "#3F3F00", "#003FBF", "#BFBF7F", "#FF7FFF", "#7F003F", "#BF3FFF",
    "#DF003F", "#9F007F", "#FF9F5F", "#009FBF", "#7F9FFF", "#9F3F3F", "#5F1F7F",
    "#00DF9F", "#5F3FFF", "#9F0000", "#5F009F",
]  # fmt: skip
_MARKERS = ["o", "s", "^", "D", "v", "P", "X", "<", ">", "p", "h", "*"]
#: a white outline around text labels drawn over data (never around bars or error bars)
LABEL_HALO = [patheffects.withStroke(linewidth=2.5, foreground="white")]


def _order() -> list[str]:
    """The targets first (so they get the first colours), then the other languages."""
    return list(TARGETS) + [code for code in LANGUAGES if code not in TARGETS]


LANGUAGE_COLOURS: dict[str, str] = dict(zip(_order(), _COLOURS, strict=True))
LANGUAGE_MARKERS: dict[str, str] = {
    code: _MARKERS[i % len(_MARKERS)] for i, code in enumerate(_order())
}

# Conditions and methods: greys and hatches only (distinct in greyscale, never a
# language colour). Each entry: bar face colour, hatch, edge colour.
CONDITIONS: dict[str, dict[str, str]] = {
    "pre": {"color": "#D9D9D9", "hatch": "", "edgecolor": "#6E6E6E"},
    "post": {"color": "#252525", "hatch": "", "edgecolor": "#252525"},
    "mixed": {"color": "#FFFFFF", "hatch": "///", "edgecolor": "#252525"},
    "random (experts' values)": {"color": "#8C8C8C", "hatch": "\\\\\\", "edgecolor": "#252525"},
    "random (own means)": {"color": "#FFFFFF", "hatch": "xx", "edgecolor": "#6E6E6E"},
}
# the expert intervention is the "post" condition, named "experts" beside random controls
CONDITION_ALIASES = {"experts": "post"}
METHOD_COLOURS = ["#252525", "#737373", "#A6A6A6", "#D9D9D9", "#FFFFFF", "#4D4D4D"]
METHOD_HATCHES = ["", "///", "...", "\\\\\\", "xx", "++"]
CHANCE_STYLE = {"color": "#B2182B", "linestyle": (0, (4, 2)), "linewidth": 1.1}


def language_color(code: str) -> str:
    """The fixed colour of a language (the same in every figure)."""
    if code not in LANGUAGE_COLOURS:
        raise ValueError(f"unknown language {code!r}; languages are {sorted(LANGUAGE_COLOURS)}")
    return LANGUAGE_COLOURS[code]


def language_marker(code: str) -> str:
    """The fixed marker of a language."""
    language_color(code)
    return LANGUAGE_MARKERS[code]


def language_order(codes: Iterable[str]) -> list[str]:
    """Language codes sorted as axes show them: alphabetically by the code itself."""
    return sorted(codes)


def method_style(i: int) -> dict[str, str]:
    """Face colour, hatch and edge of the i-th method in a chart of methods."""
    return {
        "color": METHOD_COLOURS[i % len(METHOD_COLOURS)],
        "hatch": METHOD_HATCHES[i % len(METHOD_HATCHES)],
        "edgecolor": "#252525",
    }


#: the width of the book's text column, in inches at the display's 100 dpi (740 px):
#: a figure this wide or narrower is shown at its natural size, its text as large as
#: the page's small print
PAGE_WIDTH = 7.4
#: the margin (inches) around a figure cropped to its contents ("tight"), as the page and
#: :func:`save_figure` show it: small, so that a figure drawn :data:`PAGE_WIDTH` wide
#: stays that wide (matplotlib's default, 0.1, would add 0.2 in and shrink it on the page)
SAVE_PAD = 0.04


def use_book_style() -> None:
    """Matplotlib defaults for the book: figures drawn for the text column, shown at
    their natural size and rendered at twice the pixels (sharp when zoomed)."""
    try:  # inside a kernel: retina PNGs (2x pixels, shown at the natural size)
        from matplotlib_inline.backend_inline import set_matplotlib_formats

        set_matplotlib_formats("retina")
    except ImportError:  # pragma: no cover - plain scripts have no inline backend
        pass
    mpl.rcParams.update(
        {
            "figure.dpi": 100,
            "savefig.dpi": 200,
            "savefig.bbox": "tight",
            "savefig.pad_inches": SAVE_PAD,
            "font.size": 10,
            "axes.titlesize": 11,
            "axes.labelsize": 10,
            "axes.spines.top": False,
            "axes.spines.right": False,
            "axes.grid": True,
            "grid.alpha": 0.3,
            "legend.frameon": False,
            "hatch.linewidth": 0.6,
        }
    )


def save_figure(fig: plt.Figure, cfg: Config, name: str) -> Path:
    """Write ``fig`` as ``results/<config>/figures/<name>.png`` and return the path."""
    path = cfg.results_path / "figures" / f"{name}.png"
    path.parent.mkdir(parents=True, exist_ok=True)
    fig.savefig(path)
    record_output(path)
    return path


def gallery_markdown(name: str, caption: str, alt: str) -> str:
    """The MyST ``glue:figure`` directive that shows the figure glued as ``name`` with its
    own number, caption and alt text (see :func:`show_gallery_figure`)."""
    return f"```{{glue:figure}} {name}\n:name: {name}\n:alt: {alt}\n\n{caption}\n```"


def show_gallery_figure(fig: plt.Figure, *, name: str, caption: str, alt: str) -> None:
    """Show one figure of a gallery (a loop over targets) with a caption of its own.

    A cell's ``mystnb`` metadata gives every figure the cell draws the same caption;
    here the figure is glued under ``name`` (which must be unique in the book) and
    displayed by a ``glue:figure`` directive in a Markdown output, so each figure of the
    loop is numbered and captioned on its own."""
    markdown, display, glue = notebook_display()
    glue(name, fig, display=False)
    plt.close(fig)
    display(markdown(gallery_markdown(name, caption, alt)))


def unseen_label_colors(ax: plt.Axes, codes: Sequence[str], seen: dict[str, bool | None]) -> None:
    """Colour x tick labels red for languages the model did not see in pre-training
    (the paper's convention); unknown (``None``) stays black."""
    for label, code in zip(ax.get_xticklabels(), codes, strict=True):
        if seen.get(code) is False:
            label.set_color("#D00000")


def nice_ceiling(value: float) -> float:
    """The smallest of 1, 1.2, 1.5, 2, 2.5, 3, 4, 5, 6, 8 × a power of ten ≥ ``value``."""
    if not value > 0:
        return 1.0
    power = 10 ** math.floor(math.log10(value))
    for step in (1, 1.2, 1.5, 2, 2.5, 3, 4, 5, 6, 8, 10):
        if step * power >= value * (1 - 1e-9):
            return step * power
    return 10 * power


def accuracy_axis(ax: plt.Axes, values: Iterable[float], chance: float | None = None) -> float:
    """Scale a top-1 accuracy axis to the data: from 0 to a round number above the
    largest value, and at least 4 × chance, so that accuracies at chance level stay
    visibly small next to the chance line. Returns the upper limit."""
    top = max([float(v) for v in values if np.isfinite(v)] + [0.0])
    floor = 4 * chance if chance else 0.0
    upper = min(1.0, nice_ceiling(max(1.1 * top, floor, 1e-3)))
    ax.set_ylim(0, upper)
    return upper


def error_bars(value, low, high, *, scale: float = 1.0) -> np.ndarray:
    """(2, n) lengths below and above ``value`` for ``errorbar`` (times ``scale``),
    clipped at 0 where a percentile interval does not contain its point estimate."""
    value, low, high = (np.asarray(v, dtype=float) for v in (value, low, high))
    return scale * np.clip(np.vstack([value - low, high - value]), 0.0, None)


def chance_label(chance: float) -> str:
    """``chance (1/200)``: how every retrieval figure names its chance line."""
    return f"chance (1/{round(1 / chance):,})"


def add_chance(ax: plt.Axes, chance: float, *, label: str | None = "chance") -> None:
    """Draw the chance level of a top-1 accuracy (1 / number of candidates)."""
    ax.axhline(chance, **CHANCE_STYLE, label=label, zorder=3)


def symmetric_limit(arrays: Iterable[np.ndarray], *, floor: float = 0.0) -> float:
    """One symmetric colour limit for a family of heatmaps of changes: the largest
    absolute finite value over all of them (at least ``floor``)."""
    values = [np.nanmax(np.abs(np.asarray(a, dtype=float))) for a in arrays]
    finite = [v for v in values if np.isfinite(v)]
    return max(finite + [floor]) or 1.0


def layer_axis(ax: plt.Axes, n_states: int, *, label: str = "layer") -> None:
    """Integer ticks for a hidden-state index 0 … n_states − 1 (0 = the embeddings,
    ℓ = the output of block ℓ − 1 … the last = the final norm)."""
    ax.xaxis.set_major_locator(MaxNLocator(integer=True))
    ax.set_xlim(-0.5, n_states - 0.5)
    ax.set_xlabel(label)


def place_labels(ax: plt.Axes, points: dict[str, tuple[float, float]], **text_kw) -> list:
    """Write each label at its point, then move the labels clear of each other and of
    the points (adjustText), with a thin leader line where a label had to move."""
    from adjustText import adjust_text

    texts = [
        ax.text(x, y, label, fontsize=8, path_effects=LABEL_HALO, **text_kw)
        for label, (x, y) in points.items()
    ]
    if len(texts) > 1:
        adjust_text(
            texts,
            ax=ax,
            arrowprops={"arrowstyle": "-", "color": "#555555", "lw": 0.5},
            expand=(1.2, 1.4),
        )
    return texts


def condition_bar(ax: plt.Axes, x, heights, *, condition: str, width: float, **kw):
    """Bars of one condition (pre, post, mixed, experts, random…) in its fixed style."""
    name = CONDITION_ALIASES.get(condition, condition)
    if name not in CONDITIONS:
        raise ValueError(
            f"unknown condition {condition!r}; conditions are {[*CONDITIONS, *CONDITION_ALIASES]}"
        )
    style = CONDITIONS[name]
    return ax.bar(
        x, heights, width=width, label=kw.pop("label", condition), linewidth=0.6, **style, **kw
    )

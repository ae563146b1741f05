"""The book's figure style: one colour per language everywhere, labelled axes, files.

Every chapter calls :func:`use_book_style` once and :func:`save_figure` for each figure,
so the PNGs a reader can reuse land in ``results/<config>/figures/``.
"""

from __future__ import annotations

from pathlib import Path

import matplotlib as mpl
import matplotlib.pyplot as plt
from matplotlib import patheffects

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
_HALO = [patheffects.withStroke(linewidth=2.5, foreground="white")]
TARGET_COLORS = {
    "en": "#0072B2",
    "de": "#E69F00",
    "fr": "#009E73",
    "es": "#D55E00",
    "ja": "#CC79A7",
}


def _colour_order() -> list[str]:
    """Languages in colour order: the paper's five targets first (so that they get the
    five most distinct hues, the same as :data:`TARGET_COLORS`), then the others."""
    return list(TARGET_COLORS) + [c for c in LANGUAGES if c not in TARGET_COLORS]


def language_color(code: str) -> str:
    """The fixed colour of a language (same in every figure of the book; a target
    language has the same colour as in the per-target plots)."""
    return _PALETTE[_colour_order().index(code) % len(_PALETTE)]


def language_marker(code: str) -> str:
    """The fixed marker of a language (disambiguates colours that repeat)."""
    return _MARKERS[(_colour_order().index(code) // len(_PALETTE)) % len(_MARKERS)]


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


def unseen_label_colors(ax: plt.Axes, codes: list[str], seen: dict[str, bool | None]) -> None:
    """Colour x tick labels red for languages the model did not see in pre-training
    (the paper's convention); unknown (``None``) stays black."""
    for label, code in zip(ax.get_xticklabels(), codes, strict=True):
        if seen.get(code) is False:
            label.set_color("#D00000")


def draw_umap(
    ax: plt.Axes,
    coords: dict[str, tuple],
    *,
    target: str,
    title: str,
) -> None:
    """Pre (dots) and post (crosses) UMAP coordinates per language on one axis.

    ``coords[lang] = (pre_xy, post_xy)``, each (n, 2). The target's points are drawn
    last with a black edge; each language's post centroid is labelled ``code*``.
    """
    order = [c for c in coords if c != target] + [target]
    for code in order:
        pre_xy, post_xy = coords[code]
        color = language_color(code)
        edge = "black" if code == target else "none"
        ax.scatter(
            pre_xy[:, 0],
            pre_xy[:, 1],
            s=6,
            color=color,
            alpha=0.55,
            marker=language_marker(code),
            edgecolors=edge,
            linewidths=0.3,
        )
        ax.scatter(
            post_xy[:, 0], post_xy[:, 1], s=10, color=color, alpha=0.55, marker="x", linewidths=0.7
        )
        for xy, text in ((pre_xy, code), (post_xy, f"{code}*")):
            ax.annotate(
                text,
                tuple(xy.mean(0)),
                fontsize=8,
                ha="center",
                va="center",
                weight="bold" if code == target else "normal",
                path_effects=_HALO,
            )
    ax.set_xlabel("UMAP 1")
    ax.set_ylabel("UMAP 2")
    ax.set_title(title)
    ax.set_xticks([])
    ax.set_yticks([])


def draw_retrieval_bars(
    ax: plt.Axes,
    pre: dict[str, float],
    post: dict[str, float],
    *,
    seen: dict[str, bool | None],
    title: str,
) -> None:
    """Top-1 accuracy per candidate language, pre (light) and post (dark) side by side."""
    import numpy as np

    codes = list(pre)
    x = np.arange(len(codes))
    ax.bar(x - 0.2, [pre[c] for c in codes], width=0.4, color="#9ecae1", label="pre")
    ax.bar(x + 0.2, [post[c] for c in codes], width=0.4, color="#08519c", label="post")
    ax.set_xticks(x, codes, rotation=90)
    unseen_label_colors(ax, codes, seen)
    ax.set_ylim(0, 1)
    ax.set_xlabel("candidate language")
    ax.set_ylabel("top-1 accuracy")
    ax.set_title(title)
    ax.legend(ncols=2, loc="upper right")

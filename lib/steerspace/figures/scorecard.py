"""The scorecard at a glance: every claim of the paper, its units' outcomes and its
verdict, grouped by the paper's sections (the title page and the scorecard page)."""

from __future__ import annotations

import re

import matplotlib.pyplot as plt
from matplotlib.patches import Patch, Rectangle

from steerspace.claims import CLAIMS
from steerspace.figures.style import PAGE_WIDTH

#: unit outcome → face colour (colour-blind-safe, and distinct in greyscale by lightness)
OUTCOME_COLOURS = {
    "support": "#1B7837",
    "against": "#B2182B",
    "undecided": "#BDBDBD",
    "untestable": "#FFFFFF",
}
OUTCOME_LABELS = {
    "support": "supports",
    "against": "contradicts",
    "undecided": "undecided",
    "untestable": "not testable",
}


def _section(claim_id: str) -> str:
    """``"§5, Table 2"`` → ``"§5"``; ``"§1, §5"`` → ``"§1"``."""
    return re.split(r",| \(", CLAIMS[claim_id].section)[0].strip()


def verdict_figure(records: list[dict], *, title: str, width: float = PAGE_WIDTH) -> plt.Figure:
    """One row per claim (its verdict variant, extensions left out), grouped by
    section: a square per unit coloured by its outcome, then the verdict and, where
    the rule could be simulated, its power at the paper's effect. ``records`` come
    from :func:`steerspace.claims.scorecard.with_calibration`."""
    rows = [r for r in records if r["variant"] == CLAIMS[r["claim"]].primary]
    rows = [r for r in rows if not CLAIMS[r["claim"]].extension]
    most = max([len(r["evidence"]) for r in rows] + [1])
    per_row = min(most, 20)
    n_sections = len({_section(r["claim"]) for r in rows})
    height = 1.0 + 0.24 * (len(rows) + 0.9 * n_sections)
    fig, ax = plt.subplots(figsize=(width, height), layout="constrained")
    square = 1.0
    section = None
    y = 0.3
    ticks, labels, verdicts = [], [], []
    for rec in rows:
        claim = CLAIMS[rec["claim"]]
        here = _section(claim.id)
        if here != section:
            section = here
            ax.text(0, y, section, ha="left", va="center", fontsize=9, weight="bold")
            y += 0.9
        units = rec["evidence"]
        for i, ev in enumerate(units[:per_row]):
            ax.add_patch(
                Rectangle(
                    (i * square, y - 0.4), 0.85, 0.8,
                    facecolor=OUTCOME_COLOURS[ev["outcome"]], edgecolor="#4D4D4D", linewidth=0.6,
                )
            )  # fmt: skip
        cal = rec.get("calibration")
        power = "" if cal is None else f"  (power {100 * cal['power']:.0f} %)"
        more = f"+{len(units) - per_row} more: " if len(units) > per_row else ""
        verdicts.append(more + rec["verdict"] + power)
        ticks.append(y)
        labels.append(claim.title)
        y += 1.0
    ax.set_yticks(ticks, labels, fontsize=8)
    ax.set_ylim(y, -0.2)
    ax.set_xlim(-0.2, per_row)
    ax.set_xticks([])
    # the verdicts as labels of a right-hand axis: the layout makes room for them, so
    # they stay inside the figure however long they are
    right = ax.secondary_yaxis("right")
    right.set_yticks(ticks, verdicts, fontsize=8)
    right.tick_params(length=0, pad=6)
    for spine in (*ax.spines.values(), *right.spines.values()):
        spine.set_visible(False)
    ax.tick_params(axis="y", length=0)
    handles = [Patch(facecolor=c, edgecolor="#4D4D4D", label=OUTCOME_LABELS[o])
               for o, c in OUTCOME_COLOURS.items()]  # fmt: skip
    ax.legend(handles=handles, loc="lower center", bbox_to_anchor=(0.5, 1.0), ncols=4,
              frameon=False, fontsize=8)  # fmt: skip
    ax.set_title(title, fontsize=10, pad=22)
    return fig

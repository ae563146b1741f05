# ---
# jupyter:
#   jupytext:
#     text_representation:
#       extension: .py
#       format_name: percent
#   kernelspec:
#     display_name: Python 3
#     language: python
#     name: python3
# ---

# %% [markdown]
# (chapter-scorecard)=
# # Scorecard: every claim of the paper, tested
#
# Each row is one claim of the paper, in its own words, measured on this run and
# decided by a rule written in code ({mod}`steerspace.claims`), not by hand. Of the
# paper's {glue:md}`score_n` claims: {glue:md}`score_counts`. The numbers come from
# {glue:md}`score_weights`.

# %% tags=["remove-cell"]
# Colab, or anywhere the book's library is missing: install it, with what a chapter
# needs (the `book` extra), from the repository (`repository.url` in _config.yml) at
# the release this book was executed with (tests/test_publishing.py keeps them equal).
# Elsewhere this does nothing. On 2 CPU cores, set config = "classroom" below
# for a small run (a few minutes per chapter from an empty cache; the course guide
# lists the memory each chapter needs).
import importlib.util
import subprocess
import sys

package = "steerspace[book] @ git+https://github.com/steerspace/steerspace@v0.2.0"
if importlib.util.find_spec("steerspace") is None:
    subprocess.run(
        [sys.executable, "-m", "pip", "install", "-q", package], check=True
    )

# %% tags=["parameters", "remove-cell"]
config = "gemma-3-270m"  # a shipped config name or a YAML path
overrides = {}  # any config key

# %% tags=["remove-cell"]
import matplotlib.pyplot as plt
from IPython.display import Markdown, display

from steerspace.book.chapter import setup_chapter, show_warnings
from steerspace.claims import CLAIMS, scorecard
from steerspace.claims.calibration import ALPHA
from steerspace.figures.scorecard import verdict_figure
from steerspace.figures.style import save_figure
from steerspace.text.format import fmt, glue_all, model_label

cfg, pipe = setup_chapter(config, overrides)
records = scorecard.with_calibration(
    scorecard.load(cfg, require_all=False), seed=cfg.seed
)
scorecard.write_csv(records, cfg)
missing = scorecard.missing(records)
if missing:
    display(Markdown(scorecard.missing_box(missing)))
counts = scorecard.verdict_counts(records)
paper_rows = [
    r for r in scorecard.primary(records) if not CLAIMS[r["claim"]].extension
]
glue_all(
    {
        "score_n": fmt(len(paper_rows), "int"),
        "score_counts": ", ".join(
            f"**{n}** {verdict}" for verdict, n in counts.items() if n
        ),
        "score_weights": f"{model_label(cfg.model)}, computed in {pipe.cfg.dtype}",
        "score_alpha": fmt(ALPHA, "pct"),
        "score_k": fmt(cfg.k, "int"),
    }
)

# %% tags=["remove-input"] mystnb={"figure": {"caption": "Every claim of the paper on this run, grouped by the paper's sections: one square per unit of replication (a target, a language, a direction), green where its interval supports the claim, red where it contradicts it, grey where it is undecided, white where its accuracy is at chance; then the verdict and the power of the claim's rule at the paper's effect.", "name": "fig-scorecard"}, "image": {"alt": "A grid of coloured squares per claim, grouped by section, with each claim's verdict written beside it."}}
fig = verdict_figure(records, title=f"{cfg.name}: the paper's claims (k = {cfg.k})")
save_figure(fig, cfg, "scorecard")
plt.show()

# %% [markdown]
# ## How a claim is decided
#
# A chapter measures the claim on its units of replication (targets, languages,
# directions), each with a 95 % confidence interval from resampling its independent
# unit: queries for an accuracy, aligned sentences for a distance, generations for a
# share, blocks of tokens for a perplexity, random draws *and* sentences for the random
# control; a correlation over languages has a Fisher-z interval, whose test gives its
# p-value. Every rule has three outcomes per unit:
#
# - **directional** claims ("increases", "is closer"): a unit **supports** the claim
#   when its interval lies on the claimed side of the reference (zero, or the paper's
#   threshold), **contradicts** it when it lies on the other side, and is
#   **undecided** otherwise;
# - **"unchanged"** and **"does not correlate"** are *equivalence* claims: a unit
#   supports them when its whole interval lies inside a band of stated width around
#   zero, contradicts them when it lies wholly outside, and is undecided otherwise (the
#   band and its justification are given with each claim below);
# - **"does not improve"** supports when no gain as large as the band is left in the
#   interval, and contradicts when the whole interval lies above it.
#
# A unit whose accuracy is not significantly above chance is **not testable**. Over the
# testable units:
#
# - **reproduced**: enough units support it (all, all but one, or most, as the paper's
#   own wording says), and at least half of all units were testable;
# - **partly reproduced**: at least two units, and at least half of the testable ones,
#   support it, and more support it than contradict it;
# - **not reproduced**: more units contradict it than support it, or as many do and
#   they make at least half of the testable units;
# - **not testable: too wide**: too few units decide either way;
# - **not testable here**: no unit was testable, or the claim needs what this run does
#   not have (several models, a data set).
#
# **Calibrated rules.** Each claim's rule is replayed on its own units, with this run's
# unit counts and interval widths: under a *null* (each unit's true effect where the
# claim is false but closest to true) it must say "reproduced" or "partly reproduced"
# in at most {glue:md}`score_alpha` of the replays (`tests/claims/test_calibration.py` fails
# otherwise), and under the *paper's effect* (the size the paper reports, or a stated
# convention where it prints none) the share of "reproduced" is the rule's **power**,
# shown beside every verdict. A "not testable: too wide" verdict with high power means
# the effect is smaller here than in the paper; with low power, that this run cannot
# tell.
#
# **Which k.** Every claim is scored at the config's k = {glue:md}`score_k`, fixed before
# the run: between the paper's own choices ({paper}`100` for Bloom-7B, {paper}`2000` for
# Aya-8B and PolyLM-13B). The {ref}`chapter-k` chapter's explicit rule picks its own k from this
# run's sweep; the column "at the rule's k" says whether each verdict holds there too.
#
# **Which score.** The paper retrieves by inner product; that is the verdict. Cosine,
# which the book adds because a few dimensions dominate the inner product of this
# model ({ref}`chapter-baselines`), is shown beside it ("other scores") and never
# counted.

# %% [markdown]
# ## The table
#
# Each claim links to the section of the chapter that shows it; "units" counts the
# units that support (✓), contradict (✗), stay undecided (?) or cannot test it (–).

# %% tags=["remove-input"]
display(Markdown(scorecard.markdown_table(
    [r for r in records if not CLAIMS[r["claim"]].extension], calibrated=True
)))  # fmt: skip

# %% [markdown]
# ## Beyond the paper's claims
#
# Rows the book tests although the paper does not claim them: a reading of its method,
# and claims of our own. They are decided by the same rules and never counted above.

# %% tags=["remove-input"]
display(Markdown(scorecard.markdown_table(
    [r for r in records if CLAIMS[r["claim"]].extension], calibrated=True
)))  # fmt: skip

# %% [markdown]
# ## Each claim in full
#
# The paper's words and numbers, what we measure, its units, how it is tested and with
# what margin, every unit's value with its interval (✓ supports, ✗ contradicts, ?
# undecided, – not testable), the verdict at the rule's k, and the rule's power and
# null rate on these units. The per-unit values are in `results/<config>/claims/`, the
# table in `results/<config>/scorecard.csv`.

# %% tags=["remove-input"]
display(Markdown(scorecard.details_markdown(records)))
show_warnings()

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
# decided by a rule written in code ({mod}`steerspace.claims`), not by hand:
# {glue:md}`score_counts`.
#
# **How a claim is decided.** A chapter measures the claim on its units of replication
# (targets, languages, directions), each with a 95 % confidence interval from
# resampling its independent unit: queries for an accuracy, aligned sentences for a
# distance, generations for a share, blocks of tokens for a perplexity, candidate
# languages for a correlation over languages. A unit **supports** the claim when its
# interval lies on the claimed side of the reference (zero, or the paper's threshold),
# **contradicts** it when it lies on the other side, and is **undecided** otherwise.
# A unit whose accuracy is not significantly above chance is **not testable**:
# nothing can be read from it.
#
# - **reproduced**: enough units support it (all, all but one, or most, as the paper's
#   own wording says), and at least half of the units were testable;
# - **partly reproduced**: some units support it, at least as many as contradict it;
# - **not reproduced**: no unit supports it, or more units contradict it than support;
# - **not testable here**: no unit was testable, none decided, or the claim needs
#   what this run does not have (several models, a data set).
#
# Where retrieval is scored, the claim is assessed with the paper's inner product and
# with cosine similarity, as two rows. The per-unit values are in
# `results/<config>/claims/`, the table in `results/<config>/scorecard.csv`.

# %% tags=["remove-cell"]
# Colab, or anywhere the book's library is missing: install it from the repository
# (`repository.url` and `branch` in _config.yml; tests/test_publishing.py keeps them
# equal). Elsewhere this does nothing. On 2 CPU cores, set config = "classroom" below
# for a small run (a few minutes per chapter from an empty cache; the course guide
# lists the memory each chapter needs).
import importlib.util
import subprocess
import sys

package = "steerspace @ git+https://github.com/steerspace/steerspace@main"
if importlib.util.find_spec("steerspace") is None:
    subprocess.run([sys.executable, "-m", "pip", "install", "-q", package], check=True)

# %% tags=["parameters"]
config = "gemma-3-270m"  # a shipped config name or a YAML path
overrides = {}  # any config key

# %% tags=["hide-input"]
from IPython.display import Markdown, display

from steerspace.book.chapter import config_dropdown, setup_chapter, warnings_box
from steerspace.claims import PAPER_TEXT, scorecard
from steerspace.text.format import glue_all

cfg, _ = setup_chapter(config, overrides)
display(Markdown(config_dropdown(cfg)))
records = scorecard.load(cfg, require_all=False)
scorecard.write_csv(records, cfg)
missing = scorecard.missing(records)
if missing:
    display(Markdown(scorecard.missing_box(missing)))
counts = scorecard.verdict_counts(records)
glue_all(
    {
        "score_counts": f"{len(records)} rows: "
        + ", ".join(f"**{n}** {verdict}" for verdict, n in counts.items()),
        "score_source": f"Quotes and line numbers refer to {PAPER_TEXT} as numbered there.",
    }
)

# %% [markdown]
# ## The table
#
# Each claim links to the section of the chapter that shows it.

# %% tags=["remove-input"]
display(Markdown(scorecard.markdown_table(records)))

# %% [markdown]
# ## Each claim in full
#
# The paper's words, its numbers, what we measure, how it is tested, and every unit's
# value with its interval (✓ supports, ✗ contradicts, ? undecided, – not testable).
# {glue:md}`score_source`

# %% tags=["remove-input"]
display(Markdown(scorecard.details_markdown(records)))
display(Markdown(warnings_box()))

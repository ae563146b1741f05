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
# (chapter-baselines)=
# # Is steering more than re-centering?
#
# :::{admonition} Result
# :class: important
# {glue:md}`base_best_cap`, applied to the original space without any intervention,
# gains {glue:md}`base_versus_range` over the intervention on the paper's retrieval
# task (inner product, target as query). Applied after the intervention, each baseline
# leaves the intervention this much to add: {glue:md}`base_added_range`. Intervals per
# target are in {ref}`baselines-findings`.
# :::
#
# *Not in the paper: the baselines a reviewer would ask for.* The paper credits the
# intervention with pulling languages together ({ref}`chapter-space`) and with
# cross-lingual retrieval gains ({ref}`chapter-retrieval`). Mean-pooled last-layer
# states of base language models are **anisotropic**: they share a large common
# offset, and a few dimensions carry most of their norm. Cheap, training-free
# transformations of the *original* embeddings remove exactly that, so a reader will
# ask whether they do what the intervention does:
#
# 1. **Similarity.** Does retrieval by inner product (the paper's) tell the same story
#    as cosine, and why not?
# 2. **Baselines.** Language centering, all-but-the-top {cite}`mu2018allbutthetop` and
#    per-dimension standardisation, against the intervention: retrieval and Table 1.
# 3. **Combination.** Does the intervention add anything once a baseline is applied
#    after it, and is its shift the very direction the baselines remove?
#
# This chapter assesses no claim of the paper (it has no scorecard rows); its own
# conclusions follow the same rules. It reads the spaces cached by
# {ref}`chapter-space`: no forward pass.

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
overrides = {}  # any config key, e.g. {"k": 200, "targets": ["es"]}

# %% tags=["hide-input"]
from functools import partial

import matplotlib.pyplot as plt
import numpy as np
import pandas as pd
from IPython.display import Markdown, display

from steerspace.analyses import baselines as bl
from steerspace.book.chapter import chapter_header, setup_chapter, show_warnings
from steerspace.figures import baselines as figs
from steerspace.figures.style import CONDITIONS, save_figure
from steerspace.metrics.retrieval import SCORES
from steerspace.text.format import fmt, glue_all

cfg, pipe = setup_chapter(config, overrides)
display(Markdown(chapter_header(cfg, "baselines", {"k": 2000})))

# %% [markdown]
# ## The spaces and the baselines
#
# **pre** is the original model's space, **post** (one per target) the space under
# that target's top-*k* expert intervention. Each baseline is fitted on the space it
# transforms, all languages' evaluation sentences together:
#
# - **language centering** subtracts each language's mean embedding from its
#   sentences (it needs each sentence's language, which a language-ID model gives);
# - **all-but-the-top** subtracts the global mean and projects out the top principal
#   components, about `d/100` of them (its authors' rule);
# - **standardise** z-scores every dimension, which shrinks the few huge ones.
#
# Fitting on the evaluation sentences themselves favours the baselines a little (an
# exercise measures how much). Every space, and each of them under each baseline, is
# scored by the full query × candidate top-1 matrix, by inner product and cosine, in
# two views: **target as query** (the paper's §5) and **all pairs** of distinct
# languages. Intervals resample the queries (aligned sentences), paired wherever two
# conditions are compared: {glue:md}`base_sizes`.

# %% tags=["hide-input"]
pre, post = pipe.space(), pipe.post_spaces()
targets, languages = list(cfg.targets), list(pre)
n_sentences, dim = next(iter(pre.values())).shape
chance, n_pc = 1 / n_sentences, bl.default_n_components(dim)
labels = bl.baseline_labels(n_pc)
hits = bl.score_conditions(pre, post, n_components=n_pc)
acc = bl.accuracy_intervals(
    hits, languages, targets, n_boot=cfg.n_boot, seed=cfg.seed
)
pipe.write_table(acc.round(5), "baselines_all")
glue_all({"base_sizes": f"{fmt(len(languages), 'int')} languages × {fmt(n_sentences, 'int')} sentences, hidden size {fmt(dim, 'int')}, all-but-the-top removing {fmt(n_pc, 'int')} components, chance {fmt(chance, 'acc')}, {fmt(cfg.n_boot, 'int')} resamples"})  # fmt: skip
changes = partial(
    bl.target_changes, hits, languages, targets, n_boot=cfg.n_boot, seed=cfg.seed
)

# %% [markdown]
# (baselines-similarity)=
# ## Inner product or cosine?
#
# The paper picks the candidate with the largest inner product, which rewards a large
# norm as much as a matching direction; cosine divides the norm out.

# %% tags=["hide-input"]
plain = acc[acc.baseline == "none"]
pipe.write_table(plain.round(5), "baselines_similarity")
gains = {s: changes(("pre", "none"), ("post", "none"), score=s) for s in SCORES}
glue_all(
    {f"base_{k}": v for k, v in bl.similarity_values(plain, gains, chance).items()}
)
plain.pivot_table(
    index=["view", "target"], columns=["score", "space"], values="value"
).round(3)

# %% tags=["hide-input"] mystnb={"figure": {"caption": "Ours (not in the paper): top-1 retrieval by the paper's inner product (top) and by cosine (bottom), in the original space (pre) and under each target's intervention (post), with the target as query (left) and over all language pairs (right); 95 % intervals over queries, chance line dashed. Each panel is scaled to its data.", "name": "fig-baselines-similarity"}, "image": {"alt": "Bar charts of top-1 accuracy pre and post per target, by inner product and cosine, with intervals and chance lines."}}
fig = figs.similarity_figure(
    plain,
    chance=chance,
    title=f"{cfg.name}: inner product and cosine, pre and post (k = {cfg.k})",
)
save_figure(fig, cfg, "baselines_similarity")
plt.show()

# %% [markdown]
# Before any intervention, all-pairs accuracy is {glue:md}`base_pairs_dot` by inner
# product and {glue:md}`base_pairs_cosine` by cosine (chance {glue:md}`base_chance`).
# The intervention's gain with the target as query is, by inner product,
# {glue:md}`base_gain_dot`; by cosine, {glue:md}`base_gain_cosine`. Compared
# unrounded, the two gains have opposite signs for {glue:md}`base_sign_differ`; of
# these, both gains are distinguishable from zero, so that the two scores contradict
# each other, for {glue:md}`base_sign_contradict`.
#
# ### Why the two scores disagree: a few huge dimensions
#
# The share of the mean squared norm (and of the variance) held by each dimension,
# sorted from the largest: an isotropic space would be flat at `1/d`. The table gives
# row norms, the share in the top dimension(s), the mean cosine between two sentences
# (near one when a single direction dominates) and the effective dimensionality (participation
# ratio of the covariance spectrum). These describe the spaces; they are not estimates.

# %% tags=["hide-input"]
stats = bl.statistics_table(pre, post, targets, min(5, dim))
pipe.write_table(stats.round(5), "baselines_anisotropy", index=True)
glue_all({f"base_{k}": v for k, v in bl.anisotropy_values(pre, stats).items()})
stats.round(3)

# %% tags=["hide-input"] mystnb={"figure": {"caption": "Ours (not in the paper): share of the mean squared norm (left) and of the variance (right) held by each dimension, sorted from the largest, in the original space (black, dashed) and under each target's intervention (the target's colour); dotted: an isotropic space (one over the dimension).", "name": "fig-baselines-dimensions"}, "image": {"alt": "Log-log curves of per-dimension norm and variance shares for the original and intervened spaces."}}
shares = {"pre": bl.dimension_shares(pre)} | {
    f"post {t}": bl.dimension_shares(post[t]) for t in targets
}
fig = figs.dimension_share_figure(
    shares, title=f"{cfg.name}: per-dimension share, all languages pooled"
)
save_figure(fig, cfg, "baselines_dimension_shares")
plt.show()

# %% [markdown]
# In the original space dimension {glue:md}`base_top_dim` holds
# {glue:md}`base_top_norm` of the mean squared norm and {glue:md}`base_top_var` of the
# variance (an isotropic dimension: {glue:md}`base_iso`); the mean cosine between two
# sentences is {glue:md}`base_cos_pre`, after the interventions
# {glue:md}`base_cos_post`. A candidate that is large along that dimension can win an
# inner product whatever the query; cosine removes that advantage.
#
# (baselines-vs)=
# ## Baselines on the original model, against the intervention

# %% tags=["hide-input"]
methods = [labels[b] for b in ["none", *bl.BASELINES]] + ["intervention"]
table = bl.method_table(acc, labels)
pipe.write_table(table.round(5), "baselines_vs_intervention")
best = bl.best_baseline(table)
base_gain, versus = changes(("pre", "none"), ("pre", best)), changes(("post", "none"), ("pre", best))  # fmt: skip
glue_all(
    {
        f"base_{k}": v
        for k, v in bl.versus_values(labels[best], base_gain, versus).items()
    }
)
table.pivot_table(
    index=["score", "view", "target"], columns="method", values="value"
)[methods].round(3)

# %% tags=["hide-input"] mystnb={"figure": {"caption": "Ours (not in the paper): top-1 accuracy of each baseline applied to the original space, next to the original space and the intervention, per target, by inner product (top) and cosine (bottom), with the target as query (left) and over all pairs (right); 95 % intervals over queries, chance line dashed.", "name": "fig-baselines-vs-intervention"}, "image": {"alt": "Grouped bars of top-1 accuracy for the original space, three baselines and the intervention, per target."}}
styles = {"original": CONDITIONS["pre"], "intervention": CONDITIONS["post"]}
fig = figs.methods_figure(
    table,
    methods=methods,
    chance=chance,
    styles=styles,
    title=f"{cfg.name}: baselines on the original space vs the intervention",
)
save_figure(fig, cfg, "baselines_vs_intervention")
plt.show()

# %% [markdown]
# The best baseline over all pairs by inner product is {glue:md}`base_best`. With the
# target as query it gains {glue:md}`base_best_gain` over the original space, and
# {glue:md}`base_versus` over the intervention.
#
# ### Table 1 distances under each baseline
#
# The paper's Table 1 distances for every condition, with intervals over sentences.
# The distances **to the medoid** are left out after language centering: they compare
# each language's *mean* embedding with the medoid, and centering makes every language
# mean the zero vector, whose cosine with anything is round-off noise.

# %% tags=["hide-input"]
dist = bl.distance_intervals(
    pre, post, n_components=n_pc, n_boot=cfg.n_boot, seed=cfg.seed
)
pipe.write_table(dist.round(5), "baselines_table1")
glue_all({f"base_{k}": v for k, v in bl.distance_values(dist, labels).items()})
bl.distance_cells(dist)

# %% [markdown]
# The mean pairwise distance between the non-target languages (mean over targets) is
# {glue:md}`base_d_all`; the intervention changes it by {glue:md}`base_d_change`.
# All three baselines subtract a mean, and Table 1's distance compares mean unit
# vectors: it is small whenever all sentences share a large offset, and large once the
# offset is gone, however well translations then match. It measures how much a shared
# direction dominates the space, not how easily translations are found.
#
# ### Per language pair
#
# The change of top-1 accuracy (inner product) for every query × candidate pair,
# relative to the original space: the best baseline, and each target's intervention.

# %% tags=["hide-input"]
delta = bl.pair_deltas(hits, languages, {labels[best]: ("pre", best, "dot")} | {f"intervention on {t}": (t, "none", "dot") for t in targets})  # fmt: skip
better = {
    name: float(np.nanmean(np.where(np.isnan(d), np.nan, d > 0)))
    for name, d in delta.items()
}
glue_all(
    {
        "base_better": "; ".join(
            f"{name} {fmt(v, 'pct')}" for name, v in better.items()
        )
    }
)
pd.Series(better, name="pairs that gain").round(3).to_frame()

# %% tags=["hide-input"] mystnb={"figure": {"caption": "Ours (not in the paper): change of top-1 accuracy (inner product) for every query × candidate language pair against the original space, for the best baseline (first panel) and each target's intervention. Each family has its own symmetric colour scale (the baseline's changes are far larger than the interventions'), shown by its own colour bar; axes sorted by language code.", "name": "fig-baselines-pairs"}, "image": {"alt": "Heatmaps of accuracy change per language pair for the best baseline and each intervention, each family with its own colour scale."}}
panels = [("baseline", f"{labels[best]} (no intervention)", delta[labels[best]])] + [("intervention", name, d) for name, d in delta.items() if name.startswith("intervention")]  # fmt: skip
fig = figs.pair_delta_figure(
    panels, title=f"{cfg.name}: Δ top-1 accuracy per language pair (inner product)"
)
save_figure(fig, cfg, "baselines_pairs")
plt.show()

# %% [markdown]
# Share of language pairs whose accuracy rises: {glue:md}`base_better`.
#
# ### How many components?
#
# All-but-the-top has one knob; its all-pairs accuracy on the original space for a
# few numbers of removed components:

# %% tags=["hide-input"]
grid = sorted(
    {
        c
        for c in (1, 2, n_pc // 2, n_pc, 2 * n_pc, 4 * n_pc)
        if 1 <= c < min(dim, n_sentences * len(languages))
    }
)
sweep = bl.sweep_intervals(pre, grid, n_boot=cfg.n_boot, seed=cfg.seed)
pipe.write_table(sweep.round(5), "baselines_abtt_sweep")
glue_all({f"base_{k}": v for k, v in bl.sweep_values(sweep, n_pc).items()})
sweep.pivot_table(index="components", columns="score", values="value").round(3)

# %% tags=["hide-input"] mystnb={"figure": {"caption": "Ours (not in the paper): all-pairs top-1 accuracy after all-but-the-top on the original space against the number of removed principal components, by inner product and cosine, with 95 % intervals over queries (bands); the dotted line is the chapter's threshold, a hundredth of the dimension.", "name": "fig-baselines-sweep"}, "image": {"alt": "Accuracy against the number of removed components, two scores, with interval bands and the chance line."}}
fig = figs.sweep_figure(
    sweep,
    rule=n_pc,
    chance=chance,
    title=f"{cfg.name}: all-but-the-top, components removed",
)
save_figure(fig, cfg, "baselines_abtt_sweep")
plt.show()

# %% [markdown]
# Of this grid, {glue:md}`base_sweep_best` components give
# {glue:md}`base_sweep_best_acc` by inner product, the rule's
# {glue:md}`base_sweep_rule` {glue:md}`base_sweep_rule_acc`; the comparisons keep the
# rule, the conservative choice for the baseline.
#
# (baselines-combination)=
# ## The intervention followed by each baseline
#
# If the intervention's gain were only a re-centering, a baseline applied *after* it
# would have nothing left to add, and the intervention would add nothing on top of the
# baseline. Gains are against the original space (inner product, target as query),
# each with a paired interval over queries.

# %% tags=["hide-input"]
comb = bl.combination_intervals(
    hits, languages, targets, n_boot=cfg.n_boot, seed=cfg.seed
)
comb["baseline"] = comb["baseline"].map(labels)
pipe.write_table(comb.round(5), "baselines_combination")
glue_all({f"base_{k}": v for k, v in bl.combination_values(comb).items()})
comb.pivot_table(index=["baseline", "target"], columns="part", values="value").mul(
    100
).round(1)

# %% tags=["hide-input"] mystnb={"figure": {"caption": "Ours (not in the paper): gain in top-1 accuracy (inner product, target as query) over the original space of the intervention alone, of each baseline alone, and of the baseline applied after the intervention (both), per target, in percentage points with 95 % intervals over queries; the short black bar is the sum of the two separate gains.", "name": "fig-baselines-combination"}, "image": {"alt": "Grouped bars of accuracy gains for the intervention, the baseline and both, one panel per baseline."}}
fig = figs.combination_figure(
    comb,
    baselines=[labels[b] for b in bl.BASELINES],
    title=f"{cfg.name}: the intervention, the baseline, and both",
)
save_figure(fig, cfg, "baselines_combination")
plt.show()

# %% [markdown]
# What the intervention adds on top of each baseline (both − baseline alone):
#
# ```{glue:md} base_added
# :format: myst
# ```
#
# ### Is the intervention's shift what the baselines remove?
#
# The intervention moves language ℓ's mean embedding by δℓ = mean(post ℓ) − mean(pre
# ℓ). The **translation share** is the part of the sentences' squared displacement
# that is their language's mean shift (one when every sentence of a language moves by
# the same vector, which language centering after the intervention removes entirely), with
# intervals over sentences; *common* is the part one shift shared by all languages
# explains. The table relates δ to what each baseline removes from the original space:
# the **cosine** with that direction (its own mean for centering; the first principal
# component or the top-variance axis otherwise, whose signs are arbitrary) and the
# **span fraction**, the share of ‖δ‖ inside the span of all removed directions, next
# to a random direction's (*chance*). They describe the shifts; they are not estimates.

# %% tags=["hide-input"]
moves = {
    t: bl.translation_share_intervals(
        pre, post[t], n_boot=cfg.n_boot, seed=cfg.seed
    )
    for t in targets
}
pipe.write_table(
    pd.concat(moves, names=["target"]).round(5),
    "baselines_translation_share",
    index=True,
)
alignment = bl.alignment_table(pre, post, n_components=n_pc).rename(
    index=labels, level="baseline"
)
pipe.write_table(alignment.round(5), "baselines_shift_alignment", index=True)
glue_all(
    {
        f"base_{k}": v
        for k, v in bl.shift_values(
            moves, alignment, labels["language_centering"]
        ).items()
    }
)
alignment.round(3)

# %% [markdown]
# The share of the displacement that is a translation of each whole language is
# {glue:md}`base_translation`; one shift common to all languages explains
# {glue:md}`base_common`. Each language's shift has, on average over languages, a
# cosine with its own original mean of {glue:md}`base_own`.
#
# ## Deviations and caveats
#
# - Not in the paper: these baselines and the cosine comparison are our additions.
# - The baselines are fitted on the evaluation sentences (transductive); the experts
#   are found on other sentences. This favours the baselines.
# - "Best baseline" is chosen on the same data it is scored on (the largest all-pairs
#   accuracy by inner product), which favours it too.
# - The shift alignment uses the directions each baseline removes from the *original*
#   space; the combination refits each baseline on the intervened space.

# %% tags=["hide-input"]
show_warnings()

# %% [markdown]
# (baselines-findings)=
# ## What this chapter finds
#
# - **Similarity.** All-pairs accuracy of the original space is
#   {glue:md}`base_pairs_dot` by inner product and {glue:md}`base_pairs_cosine` by
#   cosine (chance {glue:md}`base_chance`). The intervention's gain with the target as
#   query is, by inner product, {glue:md}`base_gain_dot`; by cosine,
#   {glue:md}`base_gain_cosine`.
# - **Baselines.** {glue:md}`base_best_cap`, on the original space and without any
#   intervention, gains {glue:md}`base_versus` over the intervention (inner product,
#   target as query).
# - **Distances.** The intervention changes the distance between the non-target
#   languages by {glue:md}`base_d_change`. Mean over targets: {glue:md}`base_d_all`.
# - **Combination.** What the intervention adds on top of each baseline:
#   {glue:md}`base_added_range`.
# - **Shift.** The translation share of the intervention's displacement is
#   {glue:md}`base_translation`.

# %% [markdown]
# ## Exercises
#
# :::{exercise}
# :label: ex-baselines-transductive
# (medium) The baselines are fitted on the very sentences they are scored on. Fit
# language centering on the first half of the sentences and score the second half:
# how much of its gain is transductive?
# :::
#
# ```{solution-start} ex-baselines-transductive
# :class: dropdown
# ```

# %%
half = n_sentences // 2
held = {lang: x[half:] for lang, x in pre.items()}
scores = {
    "original": held,
    "centred in sample": bl.center_languages(held),
    "centred out of sample": {
        lang: x[half:] - x[:half].mean(axis=0) for lang, x in pre.items()
    },
}
transductive = pd.Series(
    {
        name: float(np.nanmean(bl.all_pairs_top1(s).to_numpy()))
        for name, s in scores.items()
    }
)
glue_all(
    {
        "base_ex_half": "; ".join(
            f"{name} {fmt(v, 'acc')}" for name, v in transductive.items()
        ),
        "base_ex_n": fmt(n_sentences - half, "int"),
    }
)
transductive.rename("all-pairs top-1 (second half)").to_frame().round(3)

# %% [markdown]
# On the held-out {glue:md}`base_ex_n` sentences: {glue:md}`base_ex_half`. The
# out-of-sample means come from other sentences, so nothing about the scored sentences
# leaks in; the gap to the in-sample figure is what transduction buys.
#
# ```{solution-end}
# ```
#
# :::{exercise}
# :label: ex-baselines-langid
# (medium) Language centering needs each sentence's language. Centre with the
# language langid.py predicts instead of the true one: does the gain survive?
# :::
#
# ```{solution-start} ex-baselines-langid
# :class: dropdown
# ```

# %% tags=["hide-input"]
from steerspace.core.generation import language_ids

stack = np.concatenate([pre[lang] for lang in languages])
guess = np.array(
    language_ids(
        [s for lang in languages for s in pipe.eval_corpus.sentences(lang)]
    )
)
truth = np.repeat(languages, n_sentences)
means = {g: stack[guess == g].mean(axis=0) for g in set(guess)}
centred = stack - np.stack([means[g] for g in guess])
space = dict(zip(languages, np.split(centred, len(languages)), strict=True))
glue_all(
    {
        "base_ex_langid": f"langid.py names the right language for {fmt((guess == truth).mean(), 'pct')} of "
        f"the sentences, and centring by its guess gives an all-pairs accuracy of "
        f"{fmt(np.nanmean(bl.all_pairs_top1(space).to_numpy()), 'acc')}, against "
        f"{fmt(np.nanmean(bl.all_pairs_top1(bl.center_languages(pre)).to_numpy()), 'acc')} with the true languages",
    }
)  # fmt: skip

# %% [markdown]
# In this run {glue:md}`base_ex_langid`. Sentences of confused languages share a mean
# and lose part of the gain.
#
# ```{solution-end}
# ```

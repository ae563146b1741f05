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
# (chapter-beyond)=
# # Beyond the paper: where the new space forms, and what it keeps
#
# :::{admonition} Result
# :class: important
# By cosine, the original model retrieves translations best at hidden state
# {glue:md}`beyond_best` (top-1 {glue:md}`beyond_pre_best_range` over targets, against
# {glue:md}`beyond_pre_last_range` at the last state, the paper's embedding). There the
# intervention changes accuracy by {glue:md}`beyond_gain_best_range` and the ABX
# meaning error by {glue:md}`beyond_abx_meaning_best_range`; at the last state, accuracy by
# {glue:md}`beyond_gain_last_range`. 95 % intervals for each target are in
# {ref}`beyond-findings`.
# :::
#
# *Not in the paper: our questions, with the model, sentences, experts and caches of
# {ref}`chapter-space` and {ref}`chapter-retrieval`.* The paper reads the sentence
# embedding at the last layer only and judges the new space by retrieval. A reviewer
# would ask next:
#
# 1. **Layer by layer.** Where in the network does the intervention change the
#    distances, and which hidden state retrieves translations best?
# 2. **Form vs meaning.** Training-free ABX discrimination {cite}`deseyssel2025abx`:
#    does the intervened space forget *which language* a sentence is in, and does it
#    keep *what it means*?
# 3. **Linguistic similarity.** Do languages close to the target gain more, as
#    {cite}`blaschke2025` would suggest?
# 4. **Dose–response.** Retrieval, steering and perplexity as functions of the number
#    of experts k and of the intervention strength.
#
# This chapter assesses no claim of the paper, so it has no scorecard rows; its own
# conclusions follow the same rules (every number computed, intervals over the
# independent unit, no conclusion from numbers at chance).

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
overrides = {}  # any config key, e.g. {"dose_strengths": [0.1, 0.5, 1.0]}

# %% tags=["hide-input"]
import matplotlib.pyplot as plt
import numpy as np
import pandas as pd
from IPython.display import Markdown, display

from steerspace.analyses.beyond_the_paper import summary as beyond
from steerspace.analyses.beyond_the_paper.dose import dose_table
from steerspace.analyses.beyond_the_paper.layers import (
    at_layer,
    distance_intervals_by_layer,
    n_layers,
    retrieval_intervals_by_layer,
)
from steerspace.book.chapter import chapter_header, setup_chapter, show_warnings
from steerspace.figures import beyond_the_paper as figs
from steerspace.figures.style import save_figure
from steerspace.text.format import fmt, fmt_ci, glue_all

cfg, pipe = setup_chapter(config, overrides)
display(Markdown(chapter_header(cfg, "beyond_the_paper", {"abx_triplets": 5000})))

# %% [markdown]
# ## Hidden states and blocks
#
# One forward pass gives every layer's pooled state, cached by {ref}`chapter-space`:
# {glue:md}`beyond_n_states` states per sentence for {glue:md}`beyond_n_blocks`
# blocks: state zero is the embedding output, state *s* the output of block *s* minus
# one (`model.layers.{s-1}`), and state {glue:md}`beyond_last_state` is the last
# block's output after the final norm, the paper's embedding. Figures and tables below count **hidden states**; the
# experts are named by the **block** they sit in, and an expert in block *b* can only
# change the states after block *b*. Where the top-*k* experts sit, by block:

# %% tags=["hide-input"]
targets, main_target = list(cfg.targets), cfg.main_target
pre_layers = pipe.layer_space()
post_layers = {t: pipe.layer_space(pipe.intervention(t)) for t in targets}
depth = n_layers(pre_layers)
n_sentences = len(pipe.eval_corpus)
chance = 1 / n_sentences
blocks = {t: pipe.experts(t).nsmallest(cfg.k, "rank")["layer"] for t in targets}
glue_all({f"beyond_{k}": v for k, v in beyond.state_values(depth, blocks).items()})
beyond.experts_per_block(blocks)

# %% [markdown]
# Half of each target's experts sit at or above: {glue:md}`beyond_median_block`.
#
# (beyond-layers)=
# ## Distances, state by state
#
# At every state, two of Table 1's distances in the original space and under each
# target's intervention: the mean pairwise cosine distance between the non-target
# languages, and that of the other languages to the target. Intervals resample the
# aligned sentences ({glue:md}`beyond_n_boot` resamples, the same for every state, so
# pre and post are paired). In the original model the distance between the non-target
# languages is {glue:md}`beyond_pre_inner` at the states between the embeddings and the
# final norm (the residual stream shares one huge direction), against
# {glue:md}`beyond_pre_final` after it; the change is therefore also shown **relative**
# to the distance each state starts from, (post − pre) / pre.

# %% tags=["hide-input"]
distances = distance_intervals_by_layer(
    pre_layers, post_layers, n_boot=cfg.n_boot, seed=cfg.seed
)
pipe.write_table(distances.round(5), "layers_distances")
last = depth - 1
glue_all({"beyond_n_boot": fmt(cfg.n_boot, "int")} | {f"beyond_{k}": v for k, v in beyond.distance_values(distances).items()})  # fmt: skip
beyond.at_states_table(distances, [last], ["quantity", "target"])

# %% tags=["hide-input"] mystnb={"figure": {"caption": "Ours (not in the paper): the paper's Table 1 distances at every hidden state. Top: mean cosine distance between the non-target languages (left) and of the other languages to the target (right), in the original model (dashed, hollow markers) and under each target's intervention (solid), log scale. Bottom: the change relative to the original distance at that state, (post − pre) / pre, with 95 % intervals over sentences (bands).", "name": "fig-beyond-layer-distances"}, "image": {"alt": "Per-state cosine distances pre and post for each target, and their relative change with interval bands."}}
fig = figs.layer_distance_figure(
    distances, title=f"{cfg.name}: distances by hidden state (k = {cfg.k})"
)
save_figure(fig, cfg, "layers_distances")
plt.show()

# %% [markdown]
# At the final norm the intervention changes the distance between the non-target
# languages by {glue:md}`beyond_change_last` (95 % intervals over sentences), that is
# by {glue:md}`beyond_rel_last` of its original value. Before the final norm all
# distances are tiny, so the absolute changes there look like nothing; relative to
# where each state starts, the largest change before the final norm is
# {glue:md}`beyond_rel_peak` ({glue:md}`beyond_rel_peak_decided`): in size, that is
# {glue:md}`beyond_rel_ratio` the relative change at the final norm.
#
# (beyond-retrieval)=
# ## Retrieval, state by state
#
# The §5 task at every state: the target's sentences as queries, every other language
# as candidates, mean top-1 accuracy over candidate languages, by the paper's inner
# product and by cosine; intervals resample the queries (chance: one in
# {glue:md}`beyond_n_candidates`).

# %% tags=["hide-input"]
retrieval = retrieval_intervals_by_layer(
    pre_layers, post_layers, n_boot=cfg.n_boot, seed=cfg.seed
)
pipe.write_table(retrieval.round(5), "layers_retrieval")
best = beyond.best_state(retrieval)
glue_all({"beyond_n_candidates": fmt(n_sentences, "int"), "beyond_best": fmt(best, "int")}
         | {f"beyond_{k}": v for k, v in beyond.retrieval_values(retrieval, best).items()})  # fmt: skip
beyond.at_states_table(retrieval, [best, last], ["score", "layer", "target"])

# %% tags=["hide-input"] mystnb={"figure": {"caption": "Ours (not in the paper): the paper's §5 retrieval at every hidden state, with the target's sentences as queries (mean over candidate languages), by inner product (left) and cosine (right). Top: accuracy pre (dashed, hollow) and post (solid) with the chance line; bottom: the change post − pre in percentage points with 95 % intervals over queries (bands).", "name": "fig-beyond-layer-retrieval"}, "image": {"alt": "Per-state top-1 retrieval accuracy pre and post for each target, and the change with interval bands."}}
fig = figs.layer_retrieval_figure(
    retrieval,
    chance=1 / n_sentences,
    title=f"{cfg.name}: retrieval by hidden state (k = {cfg.k})",
)
save_figure(fig, cfg, "layers_retrieval")
plt.show()

# %% [markdown]
# By cosine the original model retrieves best at state {glue:md}`beyond_best` (mean
# over targets): {glue:md}`beyond_pre_best`, against {glue:md}`beyond_pre_last` at the
# last state. At that middle state the intervention changes accuracy by
# {glue:md}`beyond_gain_best`; at the last state by {glue:md}`beyond_gain_last`.
#
# (beyond-abx)=
# ## Form vs meaning: ABX discrimination
#
# ABX asks, with no training, whether X lies closer to A than to B (cosine). Two
# tasks, {glue:md}`beyond_triplets` random triplets each, the same for every state and
# space:
#
# - **language**: A and X share a language, B is in another, all three mean different
#   things. A low error means the space knows *which language* a sentence is in.
# - **meaning**: A and X are translations, B is another sentence in X's language. A
#   low error means *what a sentence says* beats *which language it is in*.
#
# A language-agnostic space would have a high language error and a low meaning
# error. Intervals resample the triplets, paired between spaces.

# %% tags=["hide-input"]
spaces = {"pre": pre_layers} | {f"post {t}": post_layers[t] for t in targets}
abx = beyond.abx_by_task(
    spaces, n_triplets=cfg.abx_triplets, seed=cfg.seed, n_boot=cfg.n_boot
)
pipe.write_table(abx.round(5), "abx_by_layer")
glue_all({"beyond_triplets": fmt(cfg.abx_triplets, "int")} | {f"beyond_abx_{k}": v for k, v in beyond.abx_values(abx, best).items()})  # fmt: skip
beyond.at_states_table(
    abx[abx.condition == "error"], [best, last], ["task", "layer"], "space"
)

# %% tags=["hide-input"] mystnb={"figure": {"caption": "Ours (not in the paper): ABX error at every hidden state for the language task (left) and the meaning task (right). Top: the original model (black, dashed) and each target's intervention (solid), chance is one half; bottom: the change against the original on the same triplets, in percentage points with 95 % intervals over triplets (bands).", "name": "fig-beyond-abx"}, "image": {"alt": "Per-state ABX error for the language and meaning tasks, pre and post, with the change and interval bands."}}
fig = figs.abx_figure(
    abx, title=f"{cfg.name}: ABX discrimination of language and meaning"
)
save_figure(fig, cfg, "abx_by_layer")
plt.show()

# %% [markdown]
# The original last state has an ABX error of {glue:md}`beyond_abx_pre_last_language`
# (language) and {glue:md}`beyond_abx_pre_last_meaning` (meaning). There the
# intervention changes the language error by {glue:md}`beyond_abx_language_last` and
# the meaning error by {glue:md}`beyond_abx_meaning_last`. At state
# {glue:md}`beyond_best`, where retrieval is best, the original meaning error is
# {glue:md}`beyond_abx_pre_best`. There the intervention changes the meaning error by
# {glue:md}`beyond_abx_meaning_best`, distinguishably from zero for
# {glue:md}`beyond_abx_middle_moved` of {glue:md}`beyond_abx_middle_targets` targets
# (for these it changes the middle of the network), and the language error by
# {glue:md}`beyond_abx_language_best`.
#
# (beyond-similarity)=
# ## Linguistic similarity to the target
#
# For every target and every other language we relate the change in top-1 retrieval
# (last state, cosine, target as query) and the drop in distance to the target to two
# distances between the languages:
#
# - **genetic**: zero for the same branch of a family, one half for the same family
#   only, one otherwise;
# - **typological**: the share of four features of the *World Atlas of Language
#   Structures* (WALS, {cite}`dryer2013wals`) on which the two languages differ (in steps
#   of a quarter), with WALS's values as carried by URIEL {cite}`littell2017uriel`
#   (`steerspace.analyses.beyond_the_paper.similarity` lists them). The four features and their values ("none":
#   WALS records no dominant order):
#
# ```{glue:md} beyond_wals
# :format: myst
# ```
#
# The pairs of one target share its queries and its intervention, so they are not
# independent: the interval of a correlation resamples the **targets**
# ({glue:md}`beyond_n_targets`), and a leave-one-out check shows whether it rests on one
# target or on a few pairs.

# %% tags=["hide-input"]
last_pre, last_post = (
    at_layer(pre_layers, -1),
    {t: at_layer(post_layers[t], -1) for t in targets},
)
sim = beyond.similarity_frame(last_pre, last_post, score="cosine")
pipe.write_table(sim.round(5), "similarity_gains")
outcomes = {
    "delta_acc": "Δ top-1 accuracy, post − pre (pp)",
    "delta_d": "drop in cosine distance to the target (× 100)",
}
fits, relations = beyond.relate_all(
    sim,
    ["typological_distance", "genetic_distance"],
    list(outcomes),
    n_boot=cfg.n_boot,
    seed=cfg.seed,
)
pipe.write_table(relations.round(5), "similarity_relations")
loo = beyond.leave_one_out(sim, "typological_distance", "delta_acc")
texts = {"wals": beyond.wals_list(), "n_targets": fmt(len(targets), "int")}
glue_all(
    {
        f"beyond_{k}": v
        for k, v in (texts | beyond.similarity_values(fits, loo)).items()
    }
)
relations.round(3)

# %% tags=["hide-input"] mystnb={"figure": {"caption": "Ours (not in the paper): for every target (colour and marker) and candidate language, the change in top-1 retrieval accuracy (left; cosine, target as query, last state) and the drop in distance to the target (right) against the candidate's WALS typological distance to the target, with the least-squares line; titles give Pearson r with a 95 % interval that resamples targets; the two pairs a leave-one-out check finds most influential are labelled.", "name": "fig-beyond-similarity"}, "image": {"alt": "Scatter of retrieval gain and distance drop against typological distance, one colour per target, with fitted lines."}}
fig = figs.similarity_figure(
    sim, {o: fits["typological_distance", o] for o in outcomes}, x="typological_distance", outcomes=outcomes,
    marked=[tuple(p.split("→")) for p in loo["pair"].head(2)["left_out"]],
    title=f"{cfg.name}: gains against typological distance to the target",
)  # fmt: skip
save_figure(fig, cfg, "similarity_scatter")
plt.show()

# %% [markdown]
# The retrieval gain and the typological distance correlate at r =
# {glue:md}`beyond_sim_r` over {glue:md}`beyond_sim_pairs` pairs from
# {glue:md}`beyond_sim_clusters` targets: the interval {glue:md}`beyond_sim_interval`
# zero (a relation is distinguishable only where it excludes zero). Leaving out one target at
# a time gives r = {glue:md}`beyond_sim_loo_target`; leaving out the most influential
# single pairs: {glue:md}`beyond_sim_loo_pair`. The other relations (`delta_acc`: gain
# in accuracy, `delta_d`: drop in distance): {glue:md}`beyond_sim_others`.
#
# (beyond-dose)=
# ## Dose–response: how much intervention buys how much alignment
#
# The paper samples a few k and always sets the experts fully to their typical value.
# Here the main target's intervention varies along two dials: **k** at full strength
# ({glue:md}`beyond_dose_k`), and the **strength** s at k = {glue:md}`beyond_k`
# ({glue:md}`beyond_dose_s`; each expert is set to `(1 − s) × its own activation + s ×
# its typical value`). For each setting: the retrieval gain (cosine, target as query,
# first {glue:md}`beyond_dose_n` sentences per language, queries resampled), the share
# of {glue:md}`beyond_n_gen` free generations langid.py identifies as the target
# (Wilson interval) and the change of the held-out log-perplexity (token blocks
# resampled).

# %% tags=["hide-input"]
n_dose = cfg.dose_sentences
dose = dose_table(pipe, main_target, pre=last_pre, cached=last_post[main_target], n_sentences=n_dose,
                  k_grid=cfg.dose_k_grid, strengths=cfg.dose_strengths, k=cfg.k, n_boot=cfg.n_boot, seed=cfg.seed)  # fmt: skip
pipe.write_table(dose.round(5), "dose_response")
by_k, by_s = dose[dose.dial == "k"], dose[dose.dial == "strength"]
texts = {
    "k": fmt(cfg.k, "int"),
    "dose_n": fmt(n_dose, "int"),
    "n_gen": fmt(cfg.n_generations, "int"),
}
glue_all(
    {f"beyond_{k}": v for k, v in (texts | beyond.dose_values(by_k, by_s)).items()}
)
dose.drop(columns=[c for c in dose.columns if c.endswith(("_low", "_high"))]).round(
    3
)

# %% tags=["hide-input"] mystnb={"figure": {"caption": "Ours (not in the paper): dose–response of the main target's intervention, with 95 % intervals: retrieval gain (pp; cosine, target as query), share of free generations in the target language (%) and change of held-out log-perplexity (nats/token), one row each, against the number of experts k (left column) and the strength s at the chosen k (right column); below: the retrieval gain against the perplexity cost along both dials.", "name": "fig-beyond-dose"}, "image": {"alt": "A grid of panels: gain, steering share and perplexity change against k and against strength, and below them gain against perplexity cost."}}
fig = figs.dose_figure(
    by_k,
    by_s,
    k_main=cfg.k,
    title=f"{cfg.name}: dose–response of the {main_target} intervention ({n_dose} sentences per language)",
)
save_figure(fig, cfg, "dose_response")
plt.show()

# %% [markdown]
# Along k, the retrieval gain is {glue:md}`beyond_dose_k_gain`; the share of
# generations in the target language {glue:md}`beyond_dose_k_share`; the change of
# log-perplexity {glue:md}`beyond_dose_k_dlogppl`. Along the strength: gain
# {glue:md}`beyond_dose_s_gain`; share {glue:md}`beyond_dose_s_share`; log-perplexity
# {glue:md}`beyond_dose_s_dlogppl`.
#
# ## Deviations and caveats
#
# - Everything here goes beyond the paper; model, data and sizes are those of the
#   other chapters, with their deviations.
# - States before the final norm are the raw residual stream: cosine is scale-free,
#   but the inner product mixes alignment with the stream's growing norm.
# - ABX scores a random sample of triplets (seeded); its intervals describe that
#   sampling, given these sentences.
# - The dose–response uses the first sentences of each language (so its chance level
#   differs from {ref}`chapter-retrieval`) and the main target only.

# %% tags=["hide-input"]
show_warnings()

# %% [markdown]
# (beyond-findings)=
# ## What this chapter finds
#
# - **Distances.** At the final norm the intervention changes the distance between
#   the non-target languages by {glue:md}`beyond_change_last`; relative to each
#   state's own distance, the largest change before the final norm is
#   {glue:md}`beyond_rel_peak` ({glue:md}`beyond_rel_peak_decided`).
# - **Retrieval.** By cosine the original model retrieves best at state
#   {glue:md}`beyond_best`; the intervention changes accuracy there by
#   {glue:md}`beyond_gain_best`, and at the last state by {glue:md}`beyond_gain_last`.
# - **ABX.** At state {glue:md}`beyond_best` the meaning error changes by
#   {glue:md}`beyond_abx_meaning_best`; at the last state by
#   {glue:md}`beyond_abx_meaning_last`.
# - **Similarity.** Retrieval gain against typological distance: r =
#   {glue:md}`beyond_sim_r` over {glue:md}`beyond_sim_pairs` pairs from
#   {glue:md}`beyond_sim_clusters` targets; the interval
#   {glue:md}`beyond_sim_interval` zero.
# - **Dose.** Along k, the share of generations in the target language is
#   {glue:md}`beyond_dose_k_share`, and the log-perplexity changes by
#   {glue:md}`beyond_dose_k_dlogppl`.

# %% [markdown]
# ## Exercises
#
# :::{exercise}
# :label: ex-beyond-abx-noise
# (easy) How much of a difference between two ABX errors is sampling noise? Score the
# meaning task at the last state of the main target's intervened space with five
# triplet seeds and compare the spread with the binomial standard error.
# :::
#
# ```{solution-start} ex-beyond-abx-noise
# :class: dropdown
# ```

# %%
from steerspace.analyses.beyond_the_paper.abx import abx_error

last_space = at_layer(post_layers[main_target], -1)
errors = pd.Series(
    {
        seed: abx_error(
            last_space, "meaning", n_triplets=cfg.abx_triplets, seed=seed
        )
        for seed in range(5)
    }
)
p = errors.mean()
se = np.sqrt(
    p * (1 - p) / cfg.abx_triplets
)  # binomial standard error of one estimate
glue_all(
    {
        "beyond_ex_abx": f"the errors range from {fmt(errors.min(), 'pct')} to "
        f"{fmt(errors.max(), 'pct')}; the binomial standard error of one estimate "
        f"at {fmt(p, 'pct')} with {fmt(cfg.abx_triplets, 'int')} triplets is "
        f"{fmt(se, 'pp')}",
    }
)  # fmt: skip
errors.rename("meaning error, last state").to_frame()

# %% [markdown]
# Over five seeds {glue:md}`beyond_ex_abx`. Two spaces scored on *different* triplets
# differ by that much by chance alone; scoring both on the same triplets, as the
# chapter does, pairs that noise away.
#
# ```{solution-end}
# ```
#
# :::{exercise}
# :label: ex-beyond-dot
# (medium) Relate the retrieval gain to the typological distance with the paper's
# inner product instead of cosine. Are the accuracies it rests on above chance?
# :::
#
# ```{solution-start} ex-beyond-dot
# :class: dropdown
# ```

# %% tags=["hide-input"]
from steerspace.analyses.beyond_the_paper.similarity import relate
from steerspace.metrics.inference import above_chance

dot = beyond.similarity_frame(last_pre, last_post, score="dot")
fit = relate(
    dot, "typological_distance", "delta_acc", cluster="target", n_boot=cfg.n_boot
)
n_above = sum(
    above_chance([True] * round(a * n_sentences) + [False] * (n_sentences - round(a * n_sentences)), 1 / n_sentences, n_boot=cfg.n_boot)
    for a in dot[["acc_pre", "acc_post"]].max(axis=1)
)  # fmt: skip
glue_all(
    {
        "beyond_ex_dot": f"r = {fmt_ci(fit.r, 'r')} (targets resampled), and {fmt(n_above, 'int')} of "
        f"{fmt(len(dot), 'int')} pairs have an accuracy (pre or post) significantly above chance",
    }
)
dot.groupby("target")[["acc_pre", "acc_post"]].mean().round(3)

# %% [markdown]
# By inner product: {glue:md}`beyond_ex_dot`. Where most accuracies are at chance, a
# correlation of their differences says nothing about linguistic similarity.
#
# ```{solution-end}
# ```

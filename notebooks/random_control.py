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
# (chapter-control)=
# # Control: random units instead of experts
#
# :::{admonition} Result
# :class: important
# {glue:md}`control_result`
#
# ```{glue:md} control_claims_top
# :format: myst
# ```
# :::
#
# *Paper §7, App. G: Table 6, Figs. 27–32.* Is it the *experts* that reshape the
# space, or would fixing the activations of any k units do the same? The paper's
# control, in its own words:
#
# > we assign the activation levels of the language expert neurons used in prior
# > sections to the same number of neurons chosen randomly in the network and repeat
# > our analyses on these models.
#
# and its finding:
#
# > The embedding space after the intervention on random neurons does not have the
# > same properties as described in Section 4, which translates into the performance
# > on downstream tasks for all models. [...] Similar to the intervention on language
# > experts, within-language paraphrase retrieval shows only small changes
# > postintervention. When they occur, these changes tend to be negative (i.e., the
# > performance drops) after intervening on random neurons and positive after
# > intervening on the actual language experts.
#
# We run the paper's control (**random units, experts' values**: the i-th unit drawn
# gets the i-th expert's value) and a milder second one (**random units, own means**:
# each drawn unit gets its own mean over the target's sentences), each over several
# draws of units (seeds), and compare both with the experts and the original model.

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
overrides = {}  # any config key, e.g. {"random_seeds": [1, 2, 3, 4, 5]}

# %% tags=["hide-input"]
import time

import matplotlib.pyplot as plt
import numpy as np
import pandas as pd
from IPython.display import Markdown, display

from steerspace import claims
from steerspace.analyses import random_control as control
from steerspace.analyses.choice_of_k import rule_k
from steerspace.book.chapter import (
    chapter_header,
    setup_chapter,
    show_source,
    show_warnings,
)
from steerspace.claims import scorecard
from steerspace.core.experts import random_k, top_k
from steerspace.data.paper import paper_table
from steerspace.figures.embedding_space import umap_figure
from steerspace.figures.random_control import (
    control_distance_figure,
    control_paraphrase_figure,
    control_retrieval_figure,
)
from steerspace.figures.style import save_figure
from steerspace.metrics.retrieval import VARIANT_SCORES
from steerspace.text.format import corpus_label, fmt, fmt_ci, glue_all, model_label

cfg, pipe = setup_chapter(config, overrides)
display(
    Markdown(
        chapter_header(cfg, "random_control", {"random_seeds": [1, 2, 3, 4, 5]})
    )
)

# %% [markdown]
# ## The spaces: original model, experts and random units
#
# Every condition embeds the same sentences: the first {glue:md}`control_n`
# evaluation sentences of each language. The original model's and the experts' spaces
# are the cached ones of {ref}`chapter-space`, cut to these sentences; each control
# and draw is a new intervention, so a new forward pass: {glue:md}`control_targets`
# targets × {glue:md}`control_n_draws` draws × {glue:md}`control_n_langs` languages ×
# {glue:md}`control_n` sentences, which took {glue:md}`control_seconds` on this run
# (less where they are cached).

# %% [markdown]
# A draw picks k units uniformly among all units, seeded; the paper's control gives the
# i-th drawn unit the value of the i-th expert (our second control keeps each unit's own
# mean):

# %% tags=["remove-input"]
show_source(random_k)

# %% tags=["remove-output"]
n, ev_name = (
    cfg.n_control_sentences,
    "experts' values",
)  # ev_name: the paper's control
seeds = control.control_seeds(cfg.random_seeds, cfg.own_mean_seeds)
started = time.perf_counter()
spaces = control.control_spaces(pipe, n, k=cfg.k)
seconds = time.perf_counter() - started
glue_all(
    {
        "control_n": fmt(n, "int"),
        "control_targets": fmt(len(cfg.targets), "int"),
        "control_n_draws": fmt(sum(len(s) for s in seeds.values()), "int"),
        "control_n_langs": fmt(len(spaces[cfg.main_target, "pre", 0]), "int"),
        "control_seconds": fmt(seconds, "s"),
    }
)

# %% [markdown]
# (control-table1)=
# ## Distances under the control
#
# The four distances of the paper's Table 1 (see {ref}`space-table1`) in every
# condition. A control's value is the mean over its random draws, and its 95 %
# interval resamples **the draws and the sentences together** (each resample draws the
# draws with replacement and, for each, the same resampled sentence rows): which units
# happen to be drawn varies at least as much as which sentences are used, and an
# interval over sentences alone would hide it ({glue:md}`control_n_boot` resamples).
# The black dots are the single draws. The paper shows only UMAPs for this
# (Figs. 27–29); the figure is ours.

# %% tags=["hide-input"]
samples = control.distance_samples(spaces, n_boot=cfg.n_boot, seed=cfg.seed)
distances = control.distance_table(samples, n, n_boot=cfg.n_boot, seed=cfg.seed)
pipe.write_table(distances.drop(columns="seed_values").round(5), "control_table1")
control.distance_cells(distances)

# %% tags=["hide-input"] mystnb={"figure": {"caption": "Ours (not in the paper; the paper shows only UMAPs, Figs. 27–29): the four distances of Table 1 per intervention target, with the original model (pre), the k experts, k random units at the experts' values (the paper's control) and k random units at their own means; 95 % intervals over random draws and sentences, black dots = single draws.", "name": "fig-control-table1"}, "image": {"alt": "Four bar-chart panels of cosine distances per target under the original model, the experts and two random-unit controls."}}
fig = control_distance_figure(
    distances,
    title=f"{cfg.name}: Table 1 under the control (k = {cfg.k}, {n} sentences)",
)
save_figure(fig, cfg, "control_table1")
plt.show()

# %% [markdown]
# The claim is decided on the distance between non-target languages: a target
# supports it when, under random units, that distance ends significantly *above*
# where the experts put it (random units reshape the space less). The experts are not
# the only thing that moves it: the table below puts **random − pre** (what any k
# units at these values do) beside **random − experts** (what the experts do beyond
# them) and experts − pre.

# %% tags=["hide-input"]
distance_changes = control.distance_changes(
    samples, n, n_boot=cfg.n_boot, seed=cfg.seed
)
pipe.write_table(distance_changes.round(5), "control_distance_changes")
glue_all({"control_n_boot": fmt(cfg.n_boot, "int")})
control.change_cells(
    distance_changes.assign(testable=True, score="distance"), kind="dist"
)

# %% [markdown]
# (control-retrieval)=
# ## Retrieval with the target as query (Figs. 30–32)
#
# Each target-language sentence is a query and the same sentences in another
# language are the candidates; top-1 accuracy, by the paper's inner product and by
# cosine, chance {glue:md}`control_chance` (one in {glue:md}`control_n` candidates).
# The table gives, per target, each condition's change of accuracy (mean over candidate
# languages and draws), with 95 % intervals over draws and queries together; a change
# between accuracies not significantly above chance is marked "n.s.".

# %% tags=["hide-input"]
hits = {
    s: control.retrieval_hits(spaces, score=VARIANT_SCORES[s])
    for s in claims.SCORES
}
chance = 1.0 / n
changes = pd.concat(
    [control.change_table(h, chance, n_boot=cfg.n_boot, seed=cfg.seed).assign(score=s)
     for s, h in hits.items()]
)  # fmt: skip
pipe.write_table(changes.round(5), "control_retrieval_changes")
by_candidate = pd.concat(
    [control.accuracy_by_candidate(h).assign(score=s) for s, h in hits.items()]
)
pipe.write_table(by_candidate.round(4), "control_retrieval")
control.change_cells(changes)

# %% tags=["hide-input"] mystnb={"figure": {"caption": "The paper's Figs. 30–32 (main target): top-1 retrieval with the main target as query, per candidate language, for the original model (pre), the k experts and the two random-unit controls, by inner product (top) and cosine (bottom); error bars = range over seeds; dashed line = chance.", "name": "fig-control-retrieval-main"}, "image": {"alt": "Grouped bars of top-1 retrieval accuracy per candidate language under four conditions, with a chance line, for inner product and cosine."}}
fig = control_retrieval_figure(
    by_candidate,
    targets=[cfg.main_target],
    chance=chance,
    title=f"{cfg.name}: query {cfg.main_target}, experts vs {cfg.k} random units",
)
save_figure(fig, cfg, f"control_retrieval_{cfg.main_target}")
plt.show()

# %% [markdown]
# Two claims rest on this table. *Random units do not improve retrieval* (the
# paper's control, random − pre) holds for a target when no gain as large as a quarter
# of pre's accuracy above chance is left in its interval, and is contradicted when the
# whole interval lies above that margin. *The gains are significantly smaller than the
# experts'* holds when random − experts lies below zero.

# %% [markdown]
# (control-umap)=
# ## UMAP under the control (Figs. 27–29)
#
# The original model's and the paper's control's sentence embeddings (main target,
# first seed) in one projection, drawn as in {ref}`space-umap`.

# %% tags=["hide-input"] mystnb={"figure": {"caption": "The paper's Figs. 27–29 (main target): UMAP of the sentence embeddings of every language with the original model (hollow) and with k random units set to the experts' values (filled, first seed), projected together; code = centroid with the original model, code* = under the random units.", "name": "fig-control-umap"}, "image": {"alt": "UMAP scatter of sentence embeddings per language with the original model and under random units, with labelled centroids."}}
first = seeds[ev_name][0]
coords = pipe.umap(
    spaces[cfg.main_target, "pre", 0], spaces[cfg.main_target, ev_name, first]
)
fig = umap_figure(
    coords,
    target=cfg.main_target,
    title=f"{cfg.name}: original (hollow) and {cfg.k} random units at {cfg.main_target}'s "
    f"expert values (filled), seed {first}",
)
save_figure(fig, cfg, f"control_umap_{cfg.main_target}")
plt.show()

# %% [markdown]
# (control-paraphrase)=
# ## Paraphrase retrieval under the control (Table 6)
#
# The paraphrase pools of {ref}`chapter-paraphrase`, cut to their first
# {glue:md}`control_n` pairs (chance {glue:md}`control_chance`): *pre* uses the
# original model for queries and candidates, *post* the intervened model for both,
# *mixed* original queries against intervened candidates. {glue:md}`control_skipped`
# The new forward passes (each control's queries and candidates, and the first pairs
# with the original model and the experts) took {glue:md}`control_para_cost`.

# %% tags=["hide-input"]
started = time.perf_counter()
para = {
    s: control.paraphrase_hits(pipe, n, k=cfg.k, score=VARIANT_SCORES[s])
    for s in claims.SCORES
}
glue_all(
    {"control_para_cost": f"{fmt(time.perf_counter() - started, 's')} on this run"}
)
table6 = pd.concat(
    [control.paraphrase_table(h).assign(score=s) for s, (h, _) in para.items()]
)
pipe.write_table(table6.round(4), "table6")
paper6 = paper_table("table6_random_paraphrase")
columns = ["pre", "post", "mixed", "post_seed_min", "post_seed_max"]
display(table6.set_index(["score", "target", "condition"])[columns].round(3))
paper6.pivot_table(
    index="language", columns="model", values=["pre", "post", "mixed"], sort=False
)

# %% tags=["hide-input"] mystnb={"figure": {"caption": "The paper's Table 6 as a figure (ours): paraphrase top-1 accuracy per target language with the original model (pre) and in the space of the experts and of each random-unit control (post), by inner product and cosine; error bars = range over draws; dashed line = chance.", "name": "fig-control-paraphrase"}, "image": {"alt": "Grouped bars of paraphrase retrieval accuracy per target under the original model, the experts and two random-unit controls."}}
fig = control_paraphrase_figure(
    table6, title=f"{cfg.name}: paraphrase retrieval under the control"
)
save_figure(fig, cfg, "control_paraphrase")
plt.show()

# %% [markdown]
# Two claims on *post*, per target, over draws and the pool's queries: *only small
# changes* (random − pre inside ± a quarter of pre's accuracy above chance, an
# equivalence claim) and *changes tend to be negative after random units* (random −
# experts below zero; a loss needs the experts' accuracy above chance).
#
# All the chapter's claims are scored at the config's k = {glue:md}`control_k` and again
# at k = {glue:md}`control_rule_k` (the choice-of-k rule's), beside each verdict on the
# scorecard. At the rule's k the paper's control runs on the first
# {glue:md}`control_rule_draws` draws only (every draw is a forward pass of every
# language: the second k is a check of the verdict, not a second chapter), so its
# intervals there are wider.


# %% tags=["hide-input"]
def control_claims(samples, hits, para):
    """The chapter's claims on one k's distance samples, retrieval hits and paraphrase
    hits."""
    out = control.geometry_assessments(
        samples, list(cfg.targets), n, n_boot=cfg.n_boot, seed=cfg.seed
    )
    for s in claims.SCORES:
        out += control.retrieval_assessments(
            hits[s], 1.0 / n, variant=s, n_boot=cfg.n_boot, seed=cfg.seed
        )
        out += control.paraphrase_assessments(
            *para[s], variant=s, n_boot=cfg.n_boot, seed=cfg.seed
        )
    return out


assessments = control_claims(samples, hits, para)  # the config's k, as shown above
k_rule = rule_k(pipe)
RULE_DRAWS = (
    5  # draws of the paper's control at the rule's k (a check, at half the cost)
)
rule_pipe = pipe.variant(
    k=k_rule, random_seeds=cfg.random_seeds[:RULE_DRAWS], own_mean_seeds=[]
)
rule_spaces = control.control_spaces(rule_pipe, n, k=k_rule)
rule_claims = control_claims(
    control.distance_samples(rule_spaces, n_boot=cfg.n_boot, seed=cfg.seed),
    {
        s: control.retrieval_hits(rule_spaces, score=VARIANT_SCORES[s])
        for s in claims.SCORES
    },
    {
        s: control.paraphrase_hits(rule_pipe, n, k=k_rule, score=VARIANT_SCORES[s])
        for s in claims.SCORES
    },
)
at_rule_k = [a for a in rule_claims if not a.claim.extension]
scorecard.record(assessments, cfg, at_rule_k=(k_rule, at_rule_k))
glue_all(
    {
        "control_k": fmt(cfg.k, "int"),
        "control_rule_k": fmt(k_rule, "int"),
        "control_rule_draws": fmt(len(rule_pipe.cfg.random_seeds), "int"),
        "control_chance": fmt(chance, "acc"),
        "control_skipped": " ".join(
            f"No pool for **{t}**: {why}." for t, why in para["cosine"][1].items()
        ),
    }
)
claims.units_table(assessments)

# %% [markdown]
# ## Deviations from the paper in this chapter
#
# - **Sentences**: the control embeds the first {glue:md}`control_n` evaluation
#   sentences per language and the first {glue:md}`control_n` pairs of each paraphrase
#   pool; the experts and the original model are compared on the same sentences.
# - **Draws**: the paper does not say how many random draws it made; we make
#   {glue:md}`control_paper_draws` for the paper's control and
#   {glue:md}`control_own_draws` for ours. A draw of units is a unit of the analysis: every interval
#   of a control resamples the draws and the sentences (or queries) together. Ten draws
#   give the draws' bootstrap enough distinct means for a 95 % interval while keeping
#   the control's forward passes within the book's budget; the own-means control, ours,
#   is only described and gets three.
# - **A second control**: random units at their own means (milder: each unit keeps a
#   value it takes on real text) is ours, run beside the paper's.
# - **Model and data**: {glue:md}`control_model` on {glue:md}`control_corpus`
#   and paraphrases, instead of the paper's three larger models (Bloom-7B, Aya-8B,
#   PolyLM-13B) on Flores-200 and PAWS-X.

# %% tags=["hide-input"]
glue_all(
    {
        "control_paper_draws": fmt(len(seeds[ev_name]), "int"),
        "control_own_draws": fmt(len(seeds["own means"]), "int"),
        "control_model": f"{model_label(cfg.model)} in {pipe.cfg.dtype}",
        "control_corpus": corpus_label(cfg.corpus),
    }
)
show_warnings()

# %% tags=["hide-input", "remove-output"]
verdict = {a.key: a for a in assessments}
geometry, random_gain = (
    verdict["control.geometry"],
    verdict["control.retrieval [inner product]"],
)
glue_all(
    {
        **scorecard.chapter_glue(cfg, "random_control", "control"),
        "control_result": (
            f"With {cfg.k} random units set to the experts' values (the paper's control, "
            f"{len(seeds[ev_name])} draws), the distance between non-target languages ends "
            f"{fmt_ci(geometry.summary, 'dist', sign=True)} away from where the experts put it, "
            f"and retrieval with the target as query changes by "
            f"{fmt_ci(random_gain.summary, 'pp', sign=True)} (inner product; means over "
            "targets, 95 % intervals over draws and sentences)."
        ),
    }
)

# %% [markdown]
# ## Gallery: every other target
#
# The paper's Figs. 30–32 show one panel per target; here are ours for the other
# targets, drawn as {numref}`fig-control-retrieval-main`.

# %% tags=["hide-input"] mystnb={"figure": {"caption": "The paper's Figs. 30–32 (other targets): top-1 retrieval with each other target as query (named in each panel title), by inner product and cosine, under the original model, the experts and the two random-unit controls; error bars = range over seeds; dashed line = chance."}, "image": {"alt": "Grouped bars of retrieval accuracy per candidate language for the other intervention targets under four conditions."}}
others = [t for t in cfg.targets if t != cfg.main_target]
if others:
    fig = control_retrieval_figure(
        by_candidate,
        targets=others,
        chance=chance,
        title=f"{cfg.name}: the other targets",
    )
    save_figure(fig, cfg, "control_retrieval_others")
    plt.show()

# %% [markdown]
# ## Exercises
#
# :::{exercise}
# :label: ex-control-seeds
# (easy) How much does the distance between non-target languages under the paper's
# control vary from one draw of units to the next, compared with the width of its
# interval over sentences?
# :::
#
# ```{solution-start} ex-control-seeds
# :class: dropdown
# ```

# %%
rows = distances[
    (distances["quantity"] == "all_languages") & (distances["condition"] == ev_name)
]
spread = pd.DataFrame(
    {
        "seed range": rows["seed_max"] - rows["seed_min"],
        "interval width": rows["high"] - rows["low"],
    }
).set_axis(rows["target"])
ratio = float((spread["seed range"] / spread["interval width"]).median())
glue_all({"control_ex_ratio": fmt(ratio, "ratio")})
spread

# %% [markdown]
# The median ratio of the seed range to the interval width is
# {glue:md}`control_ex_ratio`. Where it is near or above one, which units are drawn
# matters as much as which sentences are used, and a single draw (as the paper
# reports) would not be enough.
#
# ```{solution-end}
# ```
#
# :::{exercise}
# :label: ex-control-values
# (medium) Why is the paper's control a strong perturbation? Compare, for the main
# target and the first seed, the experts' values that the random units receive with
# the means those units take on the target's sentences.
# :::
#
# ```{solution-start} ex-control-values
# :class: dropdown
# ```

# %% tags=["hide-input"]
table = pipe.experts(cfg.main_target)
drawn = random_k(table, cfg.k, seed=first)
given = top_k(table, cfg.k)["mean_pos"].to_numpy()
gap, own = (
    np.abs(given - drawn["mean_pos"].to_numpy()),
    drawn["mean_pos"].abs().to_numpy(),
)
glue_all({"control_ex_gap": fmt(float(np.median(gap) / np.median(own)), "ratio")})
pd.Series(
    {
        "median |given − own mean|": np.median(gap),
        "median |own mean|": np.median(own),
    }
)

# %% [markdown]
# The median gap between the value a random unit is given and its own mean is
# {glue:md}`control_ex_gap` the median size of its own mean (activations at the input
# of the MLP's down projection). A gap well above one means the paper's control pushes
# its units far outside what they take on real text; the own-means control does not.
#
# ```{solution-end}
# ```

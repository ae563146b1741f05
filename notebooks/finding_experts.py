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
# (chapter-experts)=
# # Finding language experts
#
# :::{admonition} Result
# :class: important
# The {glue:md}`experts_k`-th best unit of each target reaches an AUROC of at least
# {glue:md}`experts_weakest`, against {glue:md}`experts_chance` for the best of
# {glue:md}`experts_n_units` units by chance. The experts crowd into the last quarter of
# the network ({glue:md}`experts_last_share` of them, in blocks that hold
# {glue:md}`experts_last_units` of the units). Pooling by the maximum instead of the
# mean replaces {glue:md}`experts_pool_range` of the experts per target.
#
# ```{glue:md} experts_claims_top
# :format: myst
# ```
# :::
#
# *Paper §3.2–3.3.* A unit is an **expert** for a language if its activation alone
# separates sentences in that language from sentences in other languages. The paper
# follows {cite:t}`suau2024whispering`, in its own words:
#
# > Expert neurons are those that can classify sentences as being from the positive set
# > (containing the target language) vs. the negative set (that does not contain the
# > target language), as measured by the area under the ROC curve. [...] we use the
# > Flores200 dev split for the target language as the positive set, and the dev splits
# > for the other four languages plus Chinese as the negative set.
#
# It then takes the *k* units with the highest AUROC and sets each of them, at every
# token, to its mean activation over the positive sentences.
#
# **Pooling is our choice, not the paper's.** A unit has one activation per token, and
# an AUROC needs one score per sentence. The paper does not say how the tokens are
# pooled. The released code of the cited method (apple/ml-aura,
# `src/hooks/pooling_ops.py`) pools by the **maximum** over the tokens (its only other
# option keeps every token). This book pools by the **mean** over the sentence's tokens
# (padding and BOS excluded), a choice we make so that a unit scores by its level over
# the whole sentence rather than by one token; {ref}`experts-pooling` measures what the
# choice changes.
#
# Here we find the experts of the paper's five targets (English, German, French,
# Spanish, Japanese) in the default model. The candidate units are the MLP intermediate
# activations (the input of each `down_proj`) of every transformer block.

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
overrides = {}  # any config key, e.g. {"k": 200, "targets": ["es", "fr"]}

# %% tags=["hide-input"]
import matplotlib.pyplot as plt
import numpy as np
import pandas as pd
from IPython.display import Markdown, display
from scipy.stats import rankdata

from steerspace import claims
from steerspace.analyses import finding_experts as expert_stats
from steerspace.analyses.choice_of_k import rule_k
from steerspace.analyses.random_control import head
from steerspace.book.chapter import chapter_header, setup_chapter, show_warnings
from steerspace.claims import scorecard
from steerspace.core.experts import overlap_matrix, top_k
from steerspace.figures.embedding_space import QUANTITY_LABELS
from steerspace.figures.finding_experts import (
    auroc_per_layer_figure,
    expert_values_figure,
    experts_per_layer_figure,
    overlap_figure,
    pooling_table1_figure,
)
from steerspace.figures.style import save_figure
from steerspace.text.format import corpus_label, fmt, glue_all, model_label

cfg, pipe = setup_chapter(config, overrides)
display(Markdown(chapter_header(cfg, "finding_experts", {"k": 200})))

# %% [markdown]
# (experts-auroc)=
# ## AUROC of every unit, for every target
#
# One forward pass per language over the expert sentences records the pooled
# activations of all units (cached; later chapters reuse them), and the AUROC of all
# units is computed at once from ranks (the Mann–Whitney statistic, equal to
# scikit-learn's `roc_auc_score` unit by unit): {glue:md}`experts_n_units` units
# ({glue:md}`experts_n_blocks` blocks × {glue:md}`experts_units_per_block`) scored for
# {glue:md}`experts_n_targets` targets, each on {glue:md}`experts_n_pos` positive and
# {glue:md}`experts_n_neg` negative sentences (the same verses in
# {glue:md}`experts_negatives` for {glue:md}`experts_target`).
#
# **Blocks, not hidden states.** An expert's "layer" is the index of the transformer
# block whose MLP it sits in, {glue:md}`experts_block_range`; the tables and figures of
# this chapter say "block". The layer-by-layer chapter ({ref}`chapter-beyond`) numbers
# *hidden states* instead, {glue:md}`experts_state_range`: the first state is the
# embedding output and each later one the output of the block before it, so a block's
# MLP writes into the state numbered one higher than the block.

# %% tags=["hide-input"]
tables = {target: pipe.experts(target) for target in cfg.targets}
first = next(iter(tables.values()))
n_units, n_blocks = len(first), int(first["layer"].nunique())
n_pos = len(pipe.expert_corpus)
negatives = {
    t: [lang for lang in pipe.expert_languages if lang != t] for t in cfg.targets
}
n_neg = n_pos * len(next(iter(negatives.values())))
chance = expert_stats.chance_auroc(n_pos, n_neg, n_units)
sizes = expert_stats.size_values(
    n_units, n_blocks, len(tables), n_pos, n_neg,
    target=cfg.main_target, negatives=negatives[cfg.main_target],
)  # fmt: skip
glue_all({f"experts_{key}": text for key, text in sizes.items()})

# %% [markdown]
# **The AUROC of one unit, by hand.** Rank the unit's pooled activation over all
# sentences, positive and negative together (tied values share their average rank). The
# AUROC is the positives' rank sum minus its smallest possible value, over the number of
# positive–negative pairs: the chance that a random positive sentence activates the
# unit more than a random negative one. For the best unit of the main target, it is the
# value the library computes for every unit at once:

# %%
best = tables[cfg.main_target].iloc[0]
acts = {
    lang: pipe.activations(lang)[best["module"]][:, best["unit"]]
    for lang in pipe.expert_languages
}
positive = acts[cfg.main_target]
negative = np.concatenate([acts[lang] for lang in negatives[cfg.main_target]])
ranks = rankdata(np.concatenate([positive, negative]))  # average ranks for ties
auroc = (ranks[: len(positive)].sum() - len(positive) * (len(positive) + 1) / 2) / (
    len(positive) * len(negative)
)
assert abs(auroc - best["auroc"]) < 1e-9, (auroc, best["auroc"])
print(f"{best['module']}, unit {best['unit']}: AUROC {auroc:.4f}")

# %% [markdown]
# ### Do experts exist, beyond chance?
#
# With tens of thousands of units, some reach a high AUROC by luck alone. The
# **chance level** is the AUROC that the best of all units exceeds with probability
# under {glue:md}`experts_alpha` when no unit has any expertise: the one-sided
# Mann–Whitney critical value at that level divided by the number of units
# (Bonferroni), here **{glue:md}`experts_chance`**. A target's experts exist when even
# its *k*-th best unit (the weakest expert the intervention uses) lies above it: its
# AUROC's 95 % interval (the standard error of {cite:t}`hanley1982auc`) must clear the
# chance level. The interval treats sentences as independent; the negatives are the same
# verses in several languages, so it is, if anything, too narrow.

# %% tags=["hide-input"]
k_rule = rule_k(
    pipe
)  # the k the choice-of-k chapter's rule picks: its verdicts go beside
exist = expert_stats.exist_assessment(tables, cfg.k, n_pos, n_neg)
exist_at_rule_k = expert_stats.exist_assessment(tables, k_rule, n_pos, n_neg)
ev = list(exist.evidence)
counts = expert_stats.expert_counts(tables, chance, ev, cfg.k)
pipe.write_table(counts, "expert_counts", index=True)
texts = expert_stats.exist_values(ev, counts, exist.verdict, chance)
glue_all({f"experts_{key}": text for key, text in texts.items()})
counts

# %% [markdown]
# The AUROC of the *k*-th best unit (k = {glue:md}`experts_k`), per target:
# {glue:md}`experts_exist_values`, against the chance level {glue:md}`experts_chance`
# (verdict: **{glue:md}`experts_exist_verdict`**). Units above the chance level:
# {glue:md}`experts_above_chance`, so the top *k* are all far from luck.
#
# The distribution of AUROC per block shows where language identity becomes readable
# from single units:

# %% tags=["hide-input"] mystnb={"figure": {"caption": "Ours (not in the paper; the paper shows no expert figure): AUROC of every MLP unit per transformer block, one panel per target. Boxes span the 25th–75th percentile, whiskers the 1st–99th percentile; markers are each block's best unit; dotted: no skill; red dashed: the AUROC the best of all units reaches by chance (Bonferroni).", "name": "fig-auroc-per-layer"}, "image": {"alt": "Box plots of unit AUROC per transformer block for each target language, with a no-skill line and a chance-level line."}}
glue_all({"experts_k": fmt(cfg.k, "int")})
fig = auroc_per_layer_figure(
    tables, chance=chance, title=f"{cfg.name}: AUROC of every unit per block"
)
save_figure(fig, cfg, "auroc_per_layer")
plt.show()

# %% [markdown]
# (experts-layers)=
# ## Where in the network are they?
#
# Every block has the same number of units, so experts spread without preference would
# put the same share in each. We measure how far the top-*k* experts' blocks are from
# that: the **total-variation distance** between the two distributions (half the summed
# absolute difference of the shares: zero when the experts are spread like all units,
# one when they sit only in blocks that hold no unit). Even *k* random units are not
# spread perfectly, so the reference is the {glue:md}`experts_null_q` of the same
# distance over {glue:md}`experts_n_boot` draws of *k* random units; the experts' interval resamples the *k* experts (a basic bootstrap,
# which removes the upward bias a distance has on resamples). Per target:
# {glue:md}`experts_layers_values` (verdict: **{glue:md}`experts_layers_verdict`**).

# %% tags=["hide-input"]
units_layers = first.loc[first["auroc"].notna(), "layer"].to_numpy()
experts = {t: top_k(tab, cfg.k) for t, tab in tables.items()}
layers_ev = [
    expert_stats.layers_evidence(t, tab, cfg.k, n_boot=cfg.n_boot, seed=cfg.seed)
    for t, tab in tables.items()
]
least = min((e.estimate for e in layers_ev), key=lambda est: est.value)
layers = claims.assess("experts.layers", layers_ev, summary=least)
layers_at_rule_k = [
    expert_stats.layers_evidence(t, tab, k_rule, n_boot=cfg.n_boot, seed=cfg.seed)
    for t, tab in tables.items()
]
scorecard.record(
    [exist, layers],
    cfg,
    at_rule_k=(
        k_rule,
        [exist_at_rule_k, claims.assess("experts.layers", layers_at_rule_k)],
    ),
)
pipe.write_table(
    expert_stats.auroc_ranking(tables).round(6), "experts_auroc_all", gzip=True
)
shares = expert_stats.top_k_shares(tables, cfg.k, n_blocks)
band = expert_stats.random_layer_band(
    units_layers, cfg.k, n_draws=cfg.n_boot, seed=cfg.seed
)
pipe.write_table(shares.rename_axis("block"), "experts_per_layer", index=True)
where = expert_stats.layer_values(
    layers_ev, layers.verdict, shares, band, n_boot=cfg.n_boot
)
glue_all({f"experts_{key}": text for key, text in where.items()})

# %% tags=["hide-input"] mystnb={"figure": {"caption": "Ours (not in the paper): share of each target's top-k experts in each transformer block, against the share of all units (dashed) and the 95 % interval of k units drawn at random (grey band).", "name": "fig-experts-per-layer"}, "image": {"alt": "Line chart of the share of experts per transformer block for each target, rising in the last blocks, against a flat band for random units."}}
fig = experts_per_layer_figure(
    shares, band, k=cfg.k, title=f"{cfg.name}: where the top-{cfg.k} experts sit"
)
save_figure(fig, cfg, "experts_per_layer")
plt.show()

# %% [markdown]
# The last quarter of the network, {glue:md}`experts_last_blocks`, holds
# {glue:md}`experts_last_units` of all units but this share of each target's experts:
# {glue:md}`experts_last_share`.
#
# ### Do targets share experts?
#
# Jaccard overlap between the targets' top-*k* sets (one for identical sets). A unit shared
# by two targets responds to "not the other languages" more than to one language.

# %% tags=["hide-input"] mystnb={"figure": {"caption": "Ours (not in the paper): Jaccard overlap between the top-k expert sets of the targets (from no unit shared to the same units), targets sorted by code.", "name": "fig-expert-overlap"}, "image": {"alt": "Heatmap of the overlap between the expert sets of the five targets."}}
overlap = overlap_matrix(experts)
_ = pipe.write_table(overlap, "expert_overlap", index=True)
fig = overlap_figure(overlap, title=f"Overlap of the top-{cfg.k} expert sets")
save_figure(fig, cfg, "expert_overlap")
plt.show()

# %% [markdown]
# ### The top experts and the values they are set to
#
# The five best units per target, the value the intervention sets (`mean_pos`, the
# unit's mean over the target's sentences) and its mean over the other languages
# (`mean_neg`):

# %% tags=["hide-input"]
for target, ex in experts.items():
    pipe.write_table(ex, f"experts_{target}_top{cfg.k}")
expert_stats.top_experts_table(experts)

# %% [markdown]
# How far does the intervention push a unit? Half of the experts move by less than
# {glue:md}`experts_push_median` (the median of |`mean_pos` − `mean_neg`|), while the
# three farthest sit far out: {glue:md}`experts_far`. On linear axes those few would
# squash every other point into a corner, so the axes below are symmetric-logarithmic:
# linear near zero, logarithmic beyond.

# %% tags=["hide-input"] mystnb={"figure": {"caption": "Ours (not in the paper): for each target's top-k experts, the value the intervention sets (mean over the target's sentences) against the unit's mean over the other languages, on symmetric-log axes (linear in the shaded band); dotted: no change.", "name": "fig-expert-values"}, "image": {"alt": "Scatter plots per target of set value against typical value for every expert, on symmetric-log axes."}}
glue_all(
    {
        f"experts_{key}": text
        for key, text in expert_stats.push_values(experts).items()
    }
)
fig = expert_values_figure(
    experts, title=f"Top-{cfg.k} experts: set value against typical value"
)
save_figure(fig, cfg, "expert_values")
plt.show()

# %% [markdown]
# (experts-pooling)=
# ## Mean or max pooling?
#
# ml-aura scores units by their maximum over the tokens; we score by the mean. To see
# what the choice changes, the same pipeline runs with max pooling for the AUROC
# (`pooling: max`; the forward pass over the expert sentences pooled both ways at once,
# so this costs no new pass; the sentence embeddings stay mean-pooled,
# `embedding_pooling`). Under max pooling the value an
# expert is set to is its mean over the target's sentences of the per-sentence maximum,
# as that pipeline computes it. Top-*k* experts that change, per target:
# {glue:md}`experts_pool_changes`.

# %% tags=["hide-input"]
max_pipe = pipe.variant(
    pooling="max"
)  # the same model, experts chosen by max pooling
max_tables = {t: max_pipe.experts(t) for t in cfg.targets}
max_shares = expert_stats.top_k_shares(max_tables, cfg.k, n_blocks)
pool_table, pool = expert_stats.pooling_comparison(
    tables, max_tables, shares, max_shares, cfg.k
)
glue_all({f"experts_{key}": text for key, text in pool.items()})
pool_table

# %% [markdown]
# What does the choice do to the paper's Table 1 ({ref}`space-table1`)? The four
# distances of each target, pre and post, with the experts chosen either way, on the
# first {glue:md}`experts_pool_n` evaluation sentences per language, each with a 95 %
# interval from resampling the sentences (paired: one resample serves the three
# spaces). The difference *max − mean* of the post distances lies beyond its interval
# for {glue:md}`experts_pool_decided` of the {glue:md}`experts_pool_pairs` (target,
# distance) pairs: {glue:md}`experts_pool_named`.

# %% tags=["hide-input"]
n = min(cfg.n_control_sentences, len(pipe.eval_corpus))
pre = head(pipe.space(), n)
spaces = {
    t: {
        "pre": pre,
        "mean": head(space, n),
        "max": max_pipe.space(max_pipe.intervention(t), n=n),
    }
    for t, space in pipe.post_spaces().items()
}
pooled, diffs = expert_stats.pooling_table1(
    spaces, n, n_boot=cfg.n_boot, seed=cfg.seed
)
pipe.write_table(pooled.round(5), "experts_pooling_table1")
table1_texts = expert_stats.pooling_table1_values(diffs, n, QUANTITY_LABELS)
glue_all({f"experts_{key}": text for key, text in table1_texts.items()})
diffs.pivot(index="target", columns="quantity", values="text")

# %% tags=["hide-input"] mystnb={"figure": {"caption": "Ours (not in the paper): the paper's Table 1 per target (the paper's Fig. 3 quantities), pre and post, with the experts chosen by mean-pooled AUROC (this book) or by max-pooled AUROC (ml-aura's pooling); 95 % intervals over sentences.", "name": "fig-experts-pooling"}, "image": {"alt": "Grouped bar charts of four distances per target for the original model and for the two choices of experts."}}
fig = pooling_table1_figure(
    pooled,
    title=f"{cfg.name}: Table 1 with experts chosen by mean or max pooling (k = {cfg.k})",
)
save_figure(fig, cfg, "experts_pooling_table1")
plt.show()

# %% [markdown]
# ## Deviations from the paper in this chapter
#
# - **Model**: {glue:md}`experts_dev_model`, instead of the paper's Bloom-7B, Aya-8B and
#   PolyLM-13B (thousands of units per layer, tens of layers). The weights come from a
#   quantised file; its effect on which units are experts is not measured.
# - **Data**: {glue:md}`experts_dev_data` instead of the Flores-200 dev split; see
#   {ref}`chapter-languages`.
# - **Pooling**: the mean over tokens (BOS and padding excluded) for the AUROC, a choice
#   the paper leaves open; ml-aura's code uses the maximum ({ref}`experts-pooling`).
# - **Units**: the MLP intermediate units (`modules` in the config). The cited method
#   also reads other modules; set `modules` to add them.
# - **k**: {glue:md}`experts_dev_k`; the paper uses {paper}`100` experts for Bloom-7B and
#   {paper}`2000` for Aya-8B and PolyLM-13B. {ref}`chapter-k` sweeps k.

# %% tags=["hide-input"]
glue_all(
    {
        "experts_dev_model": f"{model_label(cfg.model)} in {pipe.cfg.dtype}, "
        f"{fmt(n_blocks, 'int')} blocks × {fmt(n_units // n_blocks, 'int')} MLP units",
        "experts_dev_data": f"{fmt(n_pos, 'int')} {corpus_label(cfg.corpus)} per language",
        "experts_dev_k": f"k = {fmt(cfg.k, 'int')}, {fmt(cfg.k / n_units, 'pct')} of the units",
    }
)
show_warnings()

# %% tags=["hide-input"]
glue_all(
    {
        **scorecard.chapter_glue(cfg, "finding_experts", "experts"),
        "experts_weakest": fmt(exist.summary.value, "auroc"),
    }
)

# %% [markdown]
# ## Exercises
#
# :::{exercise}
# :label: ex-experts-anti
# (easy) Units with an AUROC far *below* one half are **anti-experts**: low on the
# target, high on the others. How many lie below one minus the chance level, and in
# which blocks?
# :::
#
# ```{solution-start} ex-experts-anti
# :class: dropdown
# ```

# %%
anti = {
    t: tab.loc[tab["auroc"] < 1 - chance, "layer"].value_counts()
    for t, tab in tables.items()
}
anti = pd.DataFrame(anti).fillna(0).astype(int).sort_index().rename_axis("block")
glue_all(
    {
        "experts_anti_total": ", ".join(
            f"{t} {fmt(n, 'int')}" for t, n in anti.sum().items()
        )
    }
)
anti.T

# %% [markdown]
# Anti-experts per target: {glue:md}`experts_anti_total`. An AUROC near zero identifies
# the language as well as one near one, with the opposite sign. Ranking by AUROC, as
# the paper does, never picks them; ranking by the distance from one half would.
#
# ```{solution-end}
# ```
#
# :::{exercise}
# :label: ex-experts-maxlayers
# (medium) Do the max-pooled experts sit in the same blocks? Compare their block
# shares with the mean-pooled ones by the total-variation distance of this chapter.
# :::
#
# ```{solution-start} ex-experts-maxlayers
# :class: dropdown
# ```

# %% tags=["hide-input"]
tv = pd.Series(
    {t: float(expert_stats.tv_distance(shares[t], max_shares[t])) for t in shares},
    name="TV(mean, max)",
)
glue_all(
    {
        "experts_maxlayers_tv": ", ".join(
            f"{t} {fmt(v, 'plain')}" for t, v in tv.items()
        )
    }
)
tv.to_frame()

# %% [markdown]
# The block distributions of the two choices differ by {glue:md}`experts_maxlayers_tv`
# (total variation; zero for the same shares).
#
# ```{solution-end}
# ```
#
# :::{exercise}
# :label: ex-experts-kmax
# (medium) Up to which *k* would every expert of a target still be above the chance
# level? Compare with the paper's {paper}`2000` experts for Aya-8B.
# :::
#
# ```{solution-start} ex-experts-kmax
# :class: dropdown
# ```

# %% tags=["hide-input"]
k_max = {t: int((tab["auroc"] > chance).sum()) for t, tab in tables.items()}
glue_all(
    {"experts_kmax": ", ".join(f"{t} {fmt(k, 'int')}" for t, k in k_max.items())}
)
pd.Series(k_max, name="largest k above chance")

# %% [markdown]
# The largest such *k* per target: {glue:md}`experts_kmax`. Beyond it, some of the
# units the intervention sets are indistinguishable from lucky ones.
#
# ```{solution-end}
# ```

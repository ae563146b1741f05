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
# (chapter-space)=
# # The intervened embedding space
#
# :::{admonition} Result
# :class: important
# {glue:md}`space_result`
#
# ```{glue:md} space_claims_top
# :format: myst
# ```
# :::
#
# *Paper §4, Table 1, Fig. 3 and App. C (Figs. 6–20).* The paper embeds the same
# sentences in every language with the original model (**pre**) and with the model
# whose top-*k* experts for one target are fixed to their positive-set means
# (**post**), and asks how the space changes. In its own words:
#
# > The intervention pulls the embeddings of all languages into a new space [...],
# > rather than moving them closer to the embeddings of the target language in the
# > unintervened space. [...] The post-intervention embeddings for the different
# > languages are closer to each other compared to the pre-intervention embeddings
# > [...]. Specifically, the distances are reduced because the post-intervention
# > embeddings are pulled closer to the medoid of the embedding space. As a result of
# > the shift, all languages are closer to the target post-intervention.
#
# A sentence embedding is the mean of the last hidden state (after the final norm)
# over the sentence's tokens, padding and BOS excluded; UMAP is
# {cite}`mcinnes2018umap`.

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
import matplotlib.pyplot as plt
import numpy as np
import pandas as pd
from IPython.display import Markdown, display

from steerspace import claims
from steerspace.analyses import embedding_space as space
from steerspace.analyses.choice_of_k import rule_k
from steerspace.book.chapter import chapter_header, setup_chapter, show_warnings
from steerspace.claims import scorecard
from steerspace.data.paper import paper_table
from steerspace.figures.embedding_space import distance_change_figure, umap_figure
from steerspace.figures.style import save_figure, show_gallery_figure
from steerspace.metrics.geometry import (
    CENTRE_QUANTITIES,
    TABLE1_QUANTITIES,
    language_distance,
    nearest_original,
    table1,
    table1_resampled,
)
from steerspace.metrics.inference import estimate_from_samples
from steerspace.text.format import corpus_label, fmt, fmt_ci, glue_all, model_label

cfg, pipe = setup_chapter(config, overrides)
display(Markdown(chapter_header(cfg, "embedding_space", {"k": 200})))

# %% [markdown]
# ## Embedding every language, pre and post
#
# One space for the original model and one per target: {glue:md}`space_sizes`. Each
# is cached, so the retrieval chapters read the same arrays without another forward
# pass.

# %% tags=["hide-input"]
pre, post = pipe.space(), pipe.post_spaces()
n_sentences = len(pipe.eval_corpus)
glue_all(
    {
        "space_sizes": f"{len(pre)} languages × {n_sentences} sentences, hidden size "
        f"{next(iter(pre.values())).shape[1]}, and {len(post)} interventions of "
        f"k = {cfg.k} experts ({', '.join(cfg.targets)})",
    }
)

# %% [markdown]
# **The distance between two languages, by hand.** The paper's distance is the mean
# cosine distance over all pairs of sentences of the two languages. Scaling every
# sentence to unit length, the mean cosine similarity over all pairs is the inner
# product of the two languages' mean unit vectors, so no pairs need to be formed; the
# library computes it this way, and a pairwise loop agrees:


# %%
def mean_cosine_distance(a: np.ndarray, b: np.ndarray) -> float:
    a = a / np.linalg.norm(a, axis=1, keepdims=True)
    b = b / np.linalg.norm(b, axis=1, keepdims=True)
    return float(
        1.0 - (a @ b.T).mean()
    )  # every sentence of a against every sentence of b


first, second = sorted(pre)[:2]
by_hand = mean_cosine_distance(pre[first], pre[second])
assert np.isclose(by_hand, language_distance(pre[first], pre[second]))
print(f"{first}–{second}, pre: {by_hand:.4f}")

# %% [markdown]
# (space-table1)=
# ## Table 1: distances pre and post
#
# The paper defines its distances in one sentence each; they leave room for reading,
# and these are **our readings** (computed in the original embedding space, not in a
# projection):
#
# - **Distance (all languages)**: the mean cosine distance over *all sentence pairs*
#   of two languages (the paper says {paper}`"pairwise cosine distance between the
#   embeddings of 22 languages"`), averaged over all pairs of non-target languages; the table's
#   dash on the Target row suggests the target is left out.
# - **Distance to medoid**: the cosine distance between a language's mean embedding
#   and the medoid of the space, which we take to be the *sentence*, among all
#   languages' sentences, with the smallest summed cosine distance to all others (the
#   paper does not say whether the medoid is a sentence or a language mean).
# - **Distance to target**: the mean distance between the target and each other
#   language.
#
# The first table is the paper's layout: means ± SEM over the targets, ours beside the
# paper's. The pre space is the same for every target, so its SEMs only reflect which
# language is left out as the target.

# %% tags=["hide-input"]
per_target, summary = table1(pre, post)
pipe.write_table(per_target, "table1_per_target")
pipe.write_table(summary, "table1")


def as_printed(table: pd.DataFrame, label: str) -> pd.DataFrame:
    """Table 1 layout: (model, row) × (distance, pre/post) as 'mean ± sem'."""
    out = table.assign(model=label)
    for which in ("pre", "post"):
        out[which.title()] = [
            fmt(m, "dist") + ("" if pd.isna(s) else f" ± {fmt(s, 'dist')}")
            for m, s in zip(out[which], out[f"{which}_sem"], strict=True)
        ]
    return (
        out.pivot_table(
            index=["model", "language"],
            columns="distance_type",
            values=["Pre", "Post"],
            aggfunc="first",
        )
        .swaplevel(axis=1)
        .sort_index(axis=1, level=0, sort_remaining=False)
        .reindex(columns=["Pre", "Post"], level=1)
    )


paper = paper_table("table1_distances")
pd.concat(
    [as_printed(summary, f"{cfg.name} (ours)")]
    + [as_printed(g, m) for m, g in paper.groupby("model", sort=False)]
).fillna("–")

# %% [markdown]
# ### Per target, with intervals
#
# The SEM over five targets says nothing about how precisely each distance is
# measured. Each value below has a 95 % interval from resampling the aligned
# sentences (the independent unit of a distance between languages: a resample draws
# sentence rows with replacement and applies them to every language and both spaces),
# {glue:md}`space_n_boot` resamples.
#
# (space-medoid)=
# ### The medoid, and the space's centre
#
# The medoid is one sentence, the argmax of a sum: on a
# resample of the sentences it is often another sentence, and its distance jumps with
# it. The medoid of the original space is the same sentence in
# {glue:md}`space_medoid_same` of the resamples. The claim about the medoid is
# therefore tested with the smooth quantity the medoid estimates: the space's
# **centre**, the normalised sum of all sentences' unit vectors (the medoid is the
# sentence closest to it). Both are in the table.

# %% tags=["hide-input"]
samples = table1_resampled(
    {"pre": pre, **post}, list(cfg.targets), n_boot=cfg.n_boot, seed=cfg.seed
)
rows = []
for target in cfg.targets:
    for quantity in (*TABLE1_QUANTITIES, *CENTRE_QUANTITIES):
        pre_q, post_q = (
            samples["pre", target, quantity],
            samples[target, target, quantity],
        )
        for which, values in (
            ("pre", pre_q),
            ("post", post_q),
            ("post − pre", post_q - pre_q),
        ):
            est = estimate_from_samples(values, n_sentences)
            rows.append(
                {
                    "target": target,
                    "quantity": quantity,
                    "space": which,
                    **est.as_dict(),
                }
            )
intervals = pd.DataFrame(rows)
pipe.write_table(intervals.round(5), "table1_intervals")
stable = space.medoid_stability(samples, ["pre", *cfg.targets], list(cfg.targets))
glue_all(
    {
        "space_n_boot": fmt(cfg.n_boot, "int"),
        "space_medoid_same": fmt(stable["pre"], "pct"),
    }
)
space.interval_cells(intervals)

# %% tags=["hide-input"] mystnb={"figure": {"caption": "The paper's Table 1 per target, as a figure: each of the four distances before (hollow) and after (filled) the intervention on each target's experts, with 95 % intervals from resampling sentences; the arrow goes from pre to post. Colours and markers are the targets' own.", "name": "fig-space-table1"}, "image": {"alt": "Four panels of cosine distances per intervention target, pre and post, with arrows showing the change."}}
fig = distance_change_figure(
    intervals[
        intervals["space"].isin(["pre", "post"])
        & intervals["quantity"].isin(TABLE1_QUANTITIES)
    ],
    title=f"{cfg.name}: Table 1 per target (k = {cfg.k}), 95 % intervals over sentences",
)
save_figure(fig, cfg, "table1_per_target")
plt.show()

# %% [markdown]
# ### The paper's claims, tested
#
# Each claim is decided on its units: a unit supports it when the 95 % interval of its
# change lies on the claimed side of zero, contradicts it when it lies on the other
# side, and is undecided otherwise (the rules are in {ref}`chapter-scorecard`).
#
# - **Closer to each other**: per target, the change of the mean distance between the
#   non-target languages.
# - **Towards the medoid**: per target, the change of the distance to the space's
#   centre, of the target and of the other languages (two units per target).
# - **All languages closer to the target**: "all" is a claim about each language, so
#   each target × language pair is a unit ({glue:md}`space_n_target_units` units).
#
# The claims are scored at the config's k = {glue:md}`space_k`; the scorecard shows
# beside each whether it also holds at k = {glue:md}`space_rule_k`, the k the
# {ref}`chapter-k` chapter's rule picks.

# %% tags=["hide-input"]
k_rule = rule_k(pipe)
samples_at_rule_k = table1_resampled(
    {"pre": pre, **pipe.post_spaces(k=k_rule)},
    list(cfg.targets),
    n_boot=cfg.n_boot,
    seed=cfg.seed,
)
assessments = space.assessments(samples, list(cfg.targets), n_sentences)
at_rule_k = space.assessments(samples_at_rule_k, list(cfg.targets), n_sentences)
scorecard.record(assessments, cfg, at_rule_k=(k_rule, at_rule_k))
verdicts = {a.claim.id: a for a in assessments}
target_units = verdicts["space.target"].evidence
closer_to_target = (
    pd.Series(
        [e.estimate.high < 0 for e in target_units],
        index=[e.unit.split(":")[0] for e in target_units],
    )
    .groupby(level=0, sort=False)
    .agg(["sum", "size"])
)
glue_all(
    {
        "space_k": fmt(cfg.k, "int"),
        "space_rule_k": fmt(k_rule, "int"),
        "space_n_target_units": fmt(len(target_units), "int"),
    }
)
claims.units_table([verdicts["space.closer"], verdicts["space.medoid"]])

# %% [markdown]
# "All languages": per target, how many of the other languages are significantly closer
# to it after the intervention (each is a unit of the claim).

# %% tags=["hide-input"]
closer_to_target.rename(
    columns={"sum": "languages significantly closer", "size": "other languages"}
)

# %% [markdown]
# (space-new)=
# ## A new space, or the target's old place?
#
# If the intervention moved every language towards where the target's sentences sat
# in the original model, the post languages would approach the *original* target more
# than they approach the other original languages. A mere contraction of the space
# does not do that: it changes the distances to all original languages alike. So the
# test is a **contrast**: for each other language X, how much its distance to the
# original target changes, minus how much its distance to the other original
# languages changes on average (negative: X moves towards the target's old place in
# particular). The claim holds for a target when the contrast, averaged over the
# languages, is significantly above zero.

# %% tags=["hide-input"]
claims.units_table([verdicts["space.new_space"]])

# %% [markdown]
# A second view, with no distances averaged: after the intervention, which language
# of the *original* space is each language nearest to? A language that lands on the
# target's old place has the target as its nearest original language; one that keeps
# its identity stays nearest to itself.

# %% tags=["hide-input"]
nearest = pd.concat(
    {t: nearest_original(pre, post[t]) for t in cfg.targets}, names=["target"]
)
pipe.write_table(nearest.round(5), "space_nearest_original", index=True)
landing = nearest.reset_index().assign(
    on_target=lambda f: (
        (f["nearest"] == f["target"]) & (f["language"] != f["target"])
    ),
    on_itself=lambda f: f["nearest"] == f["language"],
)
landing.groupby("target", sort=False).agg(
    **{
        "on the target's old place": ("on_target", "sum"),
        "nearest to themselves": ("on_itself", "sum"),
        "languages": ("language", "size"),
    }
)

# %% [markdown]
# (space-umap)=
# ## UMAP: pre and post in one projection
#
# For each target, the pre and post embeddings of all languages are projected
# together (seeded UMAP, cosine metric, the first {glue:md}`space_umap_n` sentences
# per language), so the two spaces share axes. Hollow markers are pre-intervention
# sentences, filled markers post-intervention; `code` labels a language's pre centroid
# and `code*` its post centroid. UMAP preserves neighbourhoods, not distances: read it
# for *which* points mix, and the table above for how far they moved.

# %% tags=["hide-input"] mystnb={"figure": {"caption": "The paper's Fig. 3 (Spanish) on this run: UMAP of the sentence embeddings of every language before (hollow) and after (filled) the intervention on the main target's experts, projected together; code = pre centroid, code* = post centroid (the target's in bold).", "name": "fig-umap-main"}, "image": {"alt": "UMAP scatter of sentence embeddings per language, pre and post intervention, with labelled centroids."}}
coords = {t: pipe.umap(pre, post[t]) for t in cfg.targets}
glue_all({"space_umap_n": fmt(min(cfg.umap_sentences, n_sentences), "int")})


def draw_umap(target: str) -> plt.Figure:
    fig = umap_figure(
        coords[target],
        target=target,
        title=f"{cfg.name}: pre (hollow) and post (filled), intervention on {target} (k = {cfg.k})",
    )
    save_figure(fig, cfg, f"umap_{target}")
    return fig


main_target = cfg.main_target
draw_umap(main_target)
plt.show()

# %% [markdown]
# ## Deviations from the paper in this chapter
#
# - **Model and data**: {glue:md}`space_deviation_data`.
# - **Table 1's "all languages"** leaves the target out, as the table's layout (a dash
#   on the Target row) implies; `table1_per_target.csv` also has the variant with the
#   target included (`all_languages_incl_target`).
# - **UMAP** draws a subset of the sentences per language to keep the figures legible;
#   the distances use all evaluation sentences.

# %% tags=["hide-input"]
glue_all(
    {
        "space_deviation_data": f"{model_label(cfg.model)} in {pipe.cfg.dtype} on {corpus_label(cfg.corpus)} instead "
        f"of the paper's three 7–13B models on Flores-200 devtest; {len(pre)} languages "
        f"({', '.join(pre)}) and {n_sentences} sentences per language",
    }
)
show_warnings()

# %% tags=["hide-input"]
verdicts = {a.claim.id: a for a in assessments}
closer = verdicts["space.closer"]
glue_all(
    {
        **scorecard.chapter_glue(cfg, "embedding_space", "space"),
        "space_result": (
            f"With k = {cfg.k} experts, the mean distance between non-target languages changes "
            f"by {fmt_ci(closer.summary, 'dist', sign=True)} (mean over targets, 95 % interval "
            f"over sentences); the distance of the other languages to the target by "
            f"{fmt_ci(verdicts['space.target'].summary, 'dist', sign=True)}."
        ),
    }
)

# %% [markdown]
# ## Gallery: every target
#
# The paper's App. C (Figs. 6–20) shows one UMAP per model and target; here is ours
# for each other target, drawn as {numref}`fig-umap-main`.

# %% tags=["hide-input"]
for target in cfg.targets:
    if target != main_target:
        show_gallery_figure(
            draw_umap(target),
            name=f"fig-umap-{target}",
            caption=f"The paper's App. C (Figs. 6–20) on this run, intervention on **{target}**: "
            "UMAP of pre (hollow) and post (filled) embeddings, drawn as the main UMAP figure.",
            alt=f"UMAP scatter plot of pre and post embeddings, intervention on {target}.",
        )

# %% [markdown]
# ## Exercises
#
# :::{exercise}
# :label: ex-space-aligned
# (medium) Recompute Table 1 with distances between **translation pairs only** (sentence *i* of
# one language with sentence *i* of the other) instead of all sentence pairs. Are
# translations brought together, or only the languages' centroids?
# :::
#
# ```{solution-start} ex-space-aligned
# :class: dropdown
# ```

# %%
per_target_aligned, summary_aligned = table1(pre, post, pairs="aligned")
summary_aligned.round(3)

# %% [markdown]
# Aligned distances are smaller than all-pairs distances (a verse is closer to its own
# translation than to other verses). The change of the non-target row, pre → post,
# says whether the intervention brings *translations* together or only shifts every
# language alike.
#
# ```{solution-end}
# ```
#
# :::{exercise}
# :label: ex-space-share
# (easy) How many of the other languages get closer to the target under each intervention?
# Count them from the per-target distances.
# :::
#
# ```{solution-start} ex-space-share
# :class: dropdown
# ```

# %% tags=["hide-input"]
from steerspace.metrics.geometry import distance_matrix

closer_count = {
    t: int(
        (
            distance_matrix(post[t]).loc[t].drop(t)
            < distance_matrix(pre).loc[t].drop(t)
        ).sum()
    )
    for t in cfg.targets
}
pd.Series(closer_count, name="languages closer to the target")

# %% [markdown]
# "All languages are closer to the target" holds for a target when the count equals
# the number of other languages.
#
# ```{solution-end}
# ```

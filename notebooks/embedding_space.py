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
# *Paper §4, Table 1, Fig. 3 and App. C (Figs. 6–20).* The paper embeds the same
# sentences in every language with the original model (**pre**) and with the model
# whose top-*k* experts for one target are fixed to their positive-set means
# (**post**), and asks how the space changes. Its claims:
#
# 1. the post-intervention languages are closer to each other (smaller pairwise
#    cosine distances);
# 2. because they are pulled toward the medoid of the space;
# 3. so all languages end up closer to the target;
# 4. and the languages move into a *new* space rather than onto the target's
#    original position (UMAP {cite}`mcinnes2018umap`).
#
# A sentence embedding is the mean of the last hidden state (after the final norm)
# over the sentence's tokens, padding and BOS excluded.
#
# :::{admonition} Re-run this chapter
# :class: tip
#
# From the repository root, with other parameters (here `k=200`):
#
# ```bash
# steerspace book --only embedding_space \
#     --set k=200 --no-build
# ```
#
# or with papermill, which `steerspace book` runs for every chapter:
#
# ```bash
# jupytext --to ipynb -o /tmp/ch.ipynb notebooks/embedding_space.py
# papermill /tmp/ch.ipynb /tmp/ch.out.ipynb \
#     -p config gemma-3-270m -y "overrides: {k: 200}"
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
overrides = {}  # any config key, e.g. {"k": 200, "targets": ["es"]}

# %% tags=["hide-output"]
import matplotlib.pyplot as plt
import numpy as np
import pandas as pd
from IPython.display import Markdown, display

from steerspace.geometry import table1
from steerspace.notebook import config_table, setup_chapter
from steerspace.paper import paper_table
from steerspace.plots import draw_umap, save_figure

cfg, pipe = setup_chapter(config, overrides)
config_table(cfg)

# %% [markdown]
# ## Embedding every language, pre and post
#
# One space for the original model and one per target. Each is cached, so the
# retrieval chapter reads the same arrays without another forward pass.

# %%
pre, post = pipe.space(), pipe.post_spaces()
display(
    Markdown(
        f"{len(pre)} languages × {len(pipe.eval_corpus)} sentences, hidden size "
        f"{next(iter(pre.values())).shape[1]}; {len(post)} interventions of k = {cfg.k} experts."
    )
)

# %% [markdown]
# ## Table 1: distances pre and post
#
# Computed in the original embedding space (not in a projection), exactly as the paper
# defines them:
#
# - **Distance (all languages)**: mean cosine distance over all sentence pairs of two
#   languages, averaged over all pairs of non-target languages;
# - **Distance to medoid**: cosine distance between a language's mean embedding and the
#   medoid of the space (the sentence, among all languages' sentences, with the smallest
#   summed distance to all others);
# - **Distance to target**: mean distance between the target and each other language.
#
# Means ± SEM over the targets. The pre space is the same for every target, so its
# SEMs only reflect which language is left out as the target.

# %%
per_target, summary = table1(pre, post)
pipe.write_table(per_target, "table1_per_target")
pipe.write_table(summary, "table1")


def fmt(mean: float, sem: float) -> str:
    return f"{mean:.2f} ± {sem:.2f}" if np.isfinite(sem) else f"{mean:.2f}"


def as_printed(table: pd.DataFrame, label: str) -> pd.DataFrame:
    """Table 1 layout: (model, row) × (distance, pre/post) as 'mean ± sem'."""
    out = table.assign(model=label)
    out["Pre"] = [fmt(m, s) for m, s in zip(out["pre"], out["pre_sem"], strict=True)]
    out["Post"] = [fmt(m, s) for m, s in zip(out["post"], out["post_sem"], strict=True)]
    return (
        out.pivot_table(
            index=["model", "language"],
            columns="distance_type",
            values=["Pre", "Post"],
            aggfunc="first",
        )
        .swaplevel(axis=1)
        .sort_index(axis=1, level=0, sort_remaining=False)
        .reindex(columns=["Pre", "Post"], level=1)  # the paper's order: pre, then post
    )


paper = paper_table("table1_distances")
pd.concat(
    [
        as_printed(summary, f"{cfg.name} (ours)"),
        *[as_printed(g, m) for m, g in paper.groupby("model", sort=False)],
    ]
).fillna("–")

# %% [markdown]
# Per target (ours):

# %%
per_target.set_index(["intervention_target", "space"]).round(3)

# %% [markdown]
# ### The paper's claims against the default model

# %% tags=["hide-input"]
piv = per_target.pivot(index="intervention_target", columns="space")


def claim(name: str, key: str) -> str:
    before, after = piv[(key, "pre")], piv[(key, "post")]
    smaller = after < before
    verdict = (
        "holds for every target"
        if smaller.all()
        else (
            f"holds for {', '.join(smaller[smaller].index) or 'no target'}, not for "
            f"{', '.join(smaller[~smaller].index)}"
        )
    )
    detail = "; ".join(f"{t}: {before[t]:.3f} → {after[t]:.3f}" for t in piv.index)
    return f"- **{name}** (pre → post): {verdict}. ({detail})"


display(
    Markdown(
        "\n".join(
            [
                claim("Languages closer to each other", "all_languages"),
                claim("Non-target languages closer to the medoid", "medoid_non_target"),
                claim("Target closer to the medoid", "medoid_target"),
                claim("All languages closer to the target", "target"),
            ]
        )
    )
)

# %% [markdown]
# ## UMAP: pre and post in one projection
#
# For each target, the pre and post embeddings of all languages are projected
# together (seeded UMAP, cosine metric, up to `umap_sentences` sentences per language),
# so the two spaces share axes. Dots are pre-intervention sentences, crosses
# post-intervention; `code` marks a language's pre centroid and `code*` its post
# centroid; the target's dots have a black edge. UMAP preserves neighbourhoods, not
# distances: read it for *which* points mix, and Table 1 for how far they moved.


# %% tags=["hide-input"] mystnb={"figure": {"caption": "The paper's Fig. 3 on this run: UMAP of the sentence embeddings of every language before (dots) and after (crosses) the intervention on the main target's experts, projected together. `code` marks a language's pre centroid and `code*` its post centroid; the target's dots have a black edge; colours and markers are fixed per language.", "name": "fig-umap-main"}}
coords = {t: pipe.umap(pre, post[t]) for t in cfg.targets}


def umap_figure(target: str) -> plt.Figure:
    fig, ax = plt.subplots(figsize=(6.5, 5.5))
    draw_umap(
        ax,
        coords[target],
        target=target,
        title=f"{cfg.name}: pre (•) and post (×) intervention on {target} experts (k={cfg.k})",
    )
    save_figure(fig, cfg, f"umap_{target}")
    return fig


main_target = cfg.main_target
umap_figure(main_target)
plt.show()

# %% [markdown]
# ## Deviations from the paper in this chapter
#
# - **Model and data**: Gemma-3-270M (dequantised Q4_K_M) and Bible verses instead of
#   the paper's three 7–13B models and Flores-200 devtest; 17 of the 22 languages (no
#   Thai, Czech, Greek, Hebrew, Dutch), and the sentence count in the config table
#   instead of 1012 per language.
# - **Table 1's "all languages"** leaves the target out, as the table's layout (a dash
#   on the Target row) implies; `table1_per_target.csv` also has the variant with the
#   target included (`all_languages_incl_target`).
# - **UMAP** draws at most `umap_sentences` sentences per language to keep the figures
#   fast and legible; the distances above use all evaluation sentences.
#
# ## Summary
#
# - Table 1 (ours beside the paper's), per target, and the claims checked one by one.
# - UMAP of pre and post for every target (the gallery below).
#
# ## Gallery: every target
#
# The paper's App. C (Figs. 6–20) shows one UMAP per model and target; here is ours
# for each other target, drawn as {numref}`fig-umap-main`.

# %% tags=["hide-input"] mystnb={"figure": {"caption": "UMAP of pre (dots) and post (crosses) embeddings for the intervention on another target (the paper's App. C, Figs. 6–20); the target is named in the plot title, the layout is that of the main figure above."}}
for target in cfg.targets:
    if target != main_target:
        umap_figure(target)
        plt.show()

# %% [markdown]
# ## Exercises
#
# 1. Re-run with fewer and with more experts (k = 100 and k = 2000). How do the Table 1
#    distances change with k?
#
#    :::{dropdown} Solution
#    ```bash
#    steerspace book --only embedding_space --set k=100 --set results_dir=/tmp/k100 --no-build
#    steerspace book --only embedding_space --set k=2000 --set results_dir=/tmp/k2000 --no-build
#    ```
#
#    Then compare `table1.csv` under `/tmp/k100/gemma-3-270m/`, `results/gemma-3-270m/`
#    (k = 500) and `/tmp/k2000/gemma-3-270m/`. Each fixed unit has the same value for
#    every input, whatever its language, so the more units are fixed, the more of the
#    representation is shared by all sentences: expect the post distances to shrink as k
#    grows. Whether the space keeps its meaning structure while it shrinks is the
#    question of {ref}`chapter-paraphrase` (re-run it with the same k).
#    :::
#
# 2. Use max pooling (`pooling: max`). Do the paper's four claims still hold?
#
#    :::{dropdown} Solution
#    ```bash
#    steerspace book --only finding_experts embedding_space --set pooling=max \
#        --set results_dir=/tmp/max --no-build
#    ```
#
#    `pooling` changes both the expert search and the sentence embeddings, so both
#    chapters must run (the first finds the max-pooled experts, the second embeds). The
#    claims list above, under *The paper's claims against the default model*, is
#    recomputed in `book/embedding_space.ipynb`; the numbers are in
#    `/tmp/max/gemma-3-270m/table1_per_target.csv`.
#    :::
#
# 3. Recompute Table 1 with distances between **translation pairs only** (sentence *i* of
#    one language with sentence *i* of the other) instead of all sentence pairs.
#
#    :::{dropdown} Solution
#    ```python
#    per_target_aligned, summary_aligned = table1(pre, post, pairs="aligned")
#    summary_aligned.round(3)
#    ```
#
#    Aligned distances are smaller than all-pairs distances (a verse is closer to its own
#    translation than to other verses), and their change pre → post says whether the
#    intervention brings *translations* together, not only the languages' centroids.
#    :::

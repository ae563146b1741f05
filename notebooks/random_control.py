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
# # Control: random neurons instead of experts
#
# *Paper §7, App. G: Table 6, Figs. 27–32.* Is it the *experts* that reshape the
# space, or would fixing any k units do the same? The control intervenes on k units
# drawn at random from the same pool (all layers' MLP units), each set to its own mean
# over the target's sentences, and reruns the distance, retrieval and paraphrase
# analyses. The paper finds that random units do not produce the alignment: retrieval
# mostly does not improve (Bloom-7B) or drops for all languages (Aya-8B, PolyLM-13B),
# and mixed paraphrase retrieval collapses.
#
# The paper draws the random units once per target; so does the default run
# (`random_seeds: [1]`). More seeds give the spread of the control
# (`overrides={"random_seeds": [1, 2, 3]}`); with one seed the error bars below are
# empty. To keep the book fast, the control embeds the first `n_control_sentences`
# evaluation sentences of each language, and the expert intervention is compared on
# the same sentences.
#
# :::{admonition} Re-run this chapter
# :class: tip
#
# From the repository root, with other parameters (here `random_seeds=[1,2,3]`):
#
# ```bash
# steerspace book --only random_control \
#     --set "random_seeds=[1,2,3]" --no-build
# ```
#
# or with papermill, which `steerspace book` runs for every chapter:
#
# ```bash
# jupytext --to ipynb -o /tmp/ch.ipynb notebooks/random_control.py
# papermill /tmp/ch.ipynb /tmp/ch.out.ipynb \
#     -p config gemma-3-270m -y "overrides: {random_seeds: [1, 2, 3]}"
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
overrides = {}  # any config key, e.g. {"random_seeds": [1, 2, 3]}

# %% tags=["hide-output"]
import matplotlib.pyplot as plt
import numpy as np
import pandas as pd
from IPython.display import Markdown, display

from steerspace.geometry import table1
from steerspace.notebook import config_table, setup_chapter
from steerspace.paper import paper_table
from steerspace.plots import draw_umap, save_figure
from steerspace.retrieval import target_query_frame

cfg, pipe = setup_chapter(config, overrides)
config_table(cfg)

# %% [markdown]
# ## The spaces: pre, experts, and random units per seed

# %%
n = cfg.n_control_sentences
# pre and expert spaces come from the cache of the main chapters: their first n rows
pre = {lang: x[:n] for lang, x in pipe.space().items()}
experts = {t: {lang: x[:n] for lang, x in space.items()} for t, space in pipe.post_spaces().items()}
random = {
    (t, seed): pipe.space(pipe.intervention(t, random_seed=seed), n=n)
    for t in cfg.targets
    for seed in cfg.random_seeds
}
display(
    Markdown(
        f"{len(pre)} languages × {len(next(iter(pre.values())))} sentences; k = {cfg.k} units; "
        f"seeds {list(cfg.random_seeds)}."
    )
)

# %% [markdown]
# ## Table 1 under the control
#
# Mean ± SEM over targets (and seeds, for the random units) of the paper's Table 1
# distances.

# %%
keys = ["all_languages", "medoid_target", "medoid_non_target", "target"]
experts_t1, _ = table1(pre, experts)
random_t1 = pd.concat(
    [
        table1(pre, {t: random[t, seed] for t in cfg.targets})[0].assign(seed=seed)
        for seed in cfg.random_seeds
    ]
)
pipe.write_table(random_t1.round(4), "control_table1_per_target")
post_random = random_t1[random_t1["space"] == "post"]
summary = pd.DataFrame(
    {
        "pre": experts_t1[experts_t1["space"] == "pre"][keys].mean(),
        "experts (post)": experts_t1[experts_t1["space"] == "post"][keys].mean(),
        "random (post)": post_random[keys].mean(),
        "random, sd over targets × seeds": post_random[keys].std(ddof=1),
    }
).round(3)
pipe.write_table(summary, "control_table1", index=True)
summary

# %% tags=["hide-input"]
shrink_experts = (summary["experts (post)"] < summary["pre"]).sum()
shrink_random = (summary["random (post)"] < summary["pre"]).sum()
display(
    Markdown(
        f"Experts shrink {shrink_experts} of the 4 distances, random units {shrink_random}. "
        "Relative change (post/pre): experts "
        + ", ".join(
            f"{k} {summary.loc[k, 'experts (post)'] / summary.loc[k, 'pre']:.2f}" for k in keys
        )
        + "; random "
        + ", ".join(
            f"{k} {summary.loc[k, 'random (post)'] / summary.loc[k, 'pre']:.2f}" for k in keys
        )
        + "."
    )
)

# %% [markdown]
# ## Cross-lingual retrieval under the control (Figs. 30–32)
#
# Target as query, each other language as candidates: the original model, the expert
# intervention and the random units (mean and range over seeds).

# %%
rows = []
for t in cfg.targets:
    exp = target_query_frame(pre, experts[t], t)
    for seed in cfg.random_seeds:
        rnd = target_query_frame(pre, random[t, seed], t)
        rows.append(
            pd.DataFrame(
                {
                    "target": t,
                    "candidate": exp.index,
                    "seed": seed,
                    "pre": exp["acc_pre"],
                    "experts": exp["acc_post"],
                    "random": rnd["acc_post"],
                }
            )
        )
retrieval = pd.concat(rows, ignore_index=True)
pipe.write_table(retrieval.round(4), "control_retrieval")
by_target = retrieval.groupby("target", sort=False)[["pre", "experts", "random"]].mean().round(3)
by_target["random better than pre (share of candidates × seeds)"] = (
    retrieval.assign(better=retrieval["random"] > retrieval["pre"])
    .groupby("target", sort=False)["better"]
    .mean()
    .round(2)
)
by_target


# %% tags=["hide-input"] mystnb={"figure": {"caption": "The paper's Figs. 30–32 on this run: top-1 retrieval with the main target as query, per candidate language, for the original model (pre), the expert intervention, and k random units set to their own means over the target's sentences (mean over seeds; error bar: range over seeds).", "name": "fig-control-retrieval-main"}}
def control_bars(target: str) -> plt.Figure:
    r = retrieval[retrieval["target"] == target]
    agg = r.groupby("candidate", sort=False).agg(
        pre=("pre", "first"),
        experts=("experts", "first"),
        rmean=("random", "mean"),
        rmin=("random", "min"),
        rmax=("random", "max"),
    )
    x = np.arange(len(agg))
    fig, ax = plt.subplots(figsize=(8, 3.2))
    ax.bar(x - 0.27, agg["pre"], width=0.27, color="#9ecae1", label="pre")
    ax.bar(x, agg["experts"], width=0.27, color="#08519c", label="experts")
    ax.bar(
        x + 0.27,
        agg["rmean"],
        width=0.27,
        color="#E69F00",
        label="random (mean)",
        yerr=[agg["rmean"] - agg["rmin"], agg["rmax"] - agg["rmean"]],
        capsize=2,
    )
    ax.set_xticks(x, agg.index, rotation=90)
    ax.set_ylim(0, 1)
    ax.set_xlabel("candidate language")
    ax.set_ylabel("top-1 accuracy")
    ax.set_title(
        f"{cfg.name}: query {target}; experts vs {cfg.k} random units (error bar: seed range)"
    )
    ax.legend(ncols=3)
    save_figure(fig, cfg, f"control_retrieval_{target}")
    return fig


main_target = cfg.main_target
control_bars(main_target)
plt.show()

# %% [markdown]
# ## UMAP under the control (Figs. 27–29)
#
# Pre (dots) and post (crosses) with random units for the main target and the first
# seed, projected together as in {ref}`chapter-space` ({numref}`fig-umap-main` there).

# %% tags=["hide-input"] mystnb={"figure": {"caption": "The paper's Figs. 27–29 on this run: UMAP of pre (dots) and post (crosses) embeddings when k random units are set instead of the main target's experts (first seed); layout as in the UMAP figures of the embedding-space chapter.", "name": "fig-control-umap"}}
coords = pipe.umap(pre, random[main_target, cfg.random_seeds[0]])
fig, ax = plt.subplots(figsize=(6.5, 5.5))
draw_umap(
    ax,
    coords,
    target=main_target,
    title=f"{cfg.name}: pre (•) and post (×) {cfg.k} random units ({main_target} values)",
)
save_figure(fig, cfg, f"control_umap_{main_target}")
plt.show()

# %% [markdown]
# ## Paraphrase retrieval under the control (Table 6)
#
# The paraphrase pools of {ref}`chapter-paraphrase`, with random units instead of
# experts (mean over seeds).


# %%
para_rows = []
for t in cfg.targets:
    for seed in cfg.random_seeds:
        try:
            scores = pipe.paraphrase_scores(t, pipe.intervention(t, random_seed=seed))
            para_rows.append({"language": t, "seed": seed, **scores})
        except ValueError:
            pass  # no paraphrase pool for this language (listed in the paraphrase chapter)
table6 = pd.DataFrame(para_rows).groupby("language", sort=False)[["pre", "post", "mixed"]].mean()
pipe.write_table(table6.round(4), "table6", index=True)
paper6 = paper_table("table6_random_paraphrase")
pd.concat([table6.reset_index().assign(model=f"{cfg.name} (ours)"), paper6]).pivot_table(
    index="language", columns="model", values=["pre", "post", "mixed"], sort=False
).round(2)

# %% [markdown]
# ## Deviations from the paper in this chapter
#
# - **Sentences**: the control (and the expert comparison in this chapter) uses the
#   first `n_control_sentences` evaluation sentences per language, fewer than the main
#   chapters, to keep the book's build time down.
# - **Seeds**: the paper does not state how many random draws it averages; we show the
#   mean and the range over `random_seeds`.
# - **Values**: each random unit is set to its *own* mean over the target's sentences
#   (the reading of "the same values"); the paper's App. G text says the random
#   neurons "receive the expert activation values", which could also mean the experts'
#   values reassigned. Both are possible with `make_intervention(..., values=...)`.
#
# ## Summary
#
# - Table 1 distances, target-query retrieval, UMAP and paraphrase retrieval (the paper's
#   Table 6) with k random units instead of the k experts, beside the experts' numbers.
#
# ## Gallery: every target

# %% tags=["hide-input"] mystnb={"figure": {"caption": "Retrieval under the control for the other targets (the target is named in each plot title): pre, experts, and random units."}}
for target in cfg.targets:
    if target != main_target:
        control_bars(target)
        plt.show()

# %% [markdown]
# ## Exercises
#
# 1. Give the random units the **experts' values** (the i-th random unit gets the i-th
#    expert's `mean_pos`) instead of their own means. Does mixed paraphrase retrieval
#    change?
#
#    :::{dropdown} Solution
#    ```python
#    from steerspace.experts import make_intervention, random_k, top_k
#
#    table = pipe.experts("es")
#    units = random_k(table, cfg.k, seed=1)
#    iv = make_intervention(
#        units,
#        label=f"es-random{cfg.k}-s1-expert-values",
#        capture=cfg.capture,
#        values=top_k(table, cfg.k)["mean_pos"].to_numpy(),
#    )
#    pipe.paraphrase_scores("es", iv), table6.loc["es"].to_dict()
#    ```
#
#    The experts' values were measured on other units, so for a random unit they can be
#    far from anything it takes on real text: expect this intervention to perturb the
#    model more than setting each unit to its own mean, and post and mixed to move
#    further from pre.
#    It is the other reading of the paper's App. G ("receive the expert activation
#    values").
#    :::
#
# 2. Draw the random units only from the three layers that hold most experts. Are they
#    closer to experts in effect?
#
#    :::{dropdown} Solution
#    ```python
#    from steerspace.experts import make_intervention, random_k, top_k
#
#    table = pipe.experts(main_target)
#    layers = top_k(table, cfg.k)["layer"].value_counts().index[:3]
#    units = random_k(table[table["layer"].isin(layers)], cfg.k, seed=1)
#    iv = make_intervention(units, label=f"{main_target}-random-top-layers", capture=cfg.capture)
#    space = pipe.space(iv, n=cfg.n_control_sentences)
#    table1(pre, {main_target: space})[0].set_index("space")[keys].round(3)
#    ```
#
#    Compare with the `experts (post)` and `random (post)` columns of the control
#    Table 1 above. If the layer alone made experts effective, these units would shrink
#    the distances as the experts do; the default run's random units, spread over all
#    layers, do not shrink them.
#    :::
#
# 3. Draw the random units with three seeds instead of one. How large is the spread?
#
#    :::{dropdown} Solution
#    ```bash
#    steerspace book --only random_control --set "random_seeds=[1,2,3]" \
#        --set results_dir=/tmp/seeds --no-build
#    ```
#
#    The error bars of the retrieval figures now show the range over seeds, and the
#    `random, sd over targets × seeds` column of the control Table 1 mixes the spread
#    over targets with the spread over draws. The expert intervention does not depend on
#    the seed.
#    :::

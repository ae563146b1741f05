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
# *Paper §3.2–3.3.* A unit is an **expert** for a language if its activation alone
# separates sentences in that language (positive set) from sentences in other languages
# (negative set). Following {cite:t}`suau2024whispering`, the paper scores every unit by the area
# under the ROC curve (AUROC) of its mean-pooled activation, takes the *k* units with
# the highest AUROC, and intervenes by setting each of them, at every token, to its
# mean activation over the positive sentences.
#
# Here we find the experts of each of the paper's five targets (English, German,
# French, Spanish, Japanese) in the default model. Positive set: the target's expert
# sentences; negative set: the same verses in the other four targets and in Chinese.
# The units are the MLP intermediate activations of every layer (the input of each
# `down_proj`), pooled over the tokens of a sentence (padding and BOS excluded).
#
# :::{admonition} Re-run this chapter
# :class: tip
#
# From the repository root, with other parameters (here `k=200`):
#
# ```bash
# steerspace book --only finding_experts \
#     --set k=200 --no-build
# ```
#
# or with papermill, which `steerspace book` runs for every chapter:
#
# ```bash
# jupytext --to ipynb -o /tmp/ch.ipynb notebooks/finding_experts.py
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
overrides = {}  # any config key, e.g. {"k": 200, "targets": ["es", "fr"]}

# %% tags=["hide-output"]
import matplotlib.pyplot as plt
import pandas as pd
from IPython.display import Markdown, display

from steerspace.experts import count_above, overlap_matrix, top_k
from steerspace.notebook import config_table, setup_chapter
from steerspace.plots import save_figure, target_color

cfg, pipe = setup_chapter(config, overrides)
config_table(cfg)

# %% [markdown]
# ## AUROC of every unit, for every target
#
# One forward pass per language over the expert sentences records the pooled
# activations of all units (cached on disk; later chapters reuse them). The AUROC of
# all units is then computed at once from ranks (the Mann–Whitney statistic), which
# equals scikit-learn's `roc_auc_score` unit by unit (tested to 1e-9).

# %%
tables = {target: pipe.experts(target) for target in cfg.targets}
n_units = len(next(iter(tables.values())))
n_layers = next(iter(tables.values()))["layer"].nunique()
display(
    Markdown(
        f"{n_units:,} units ({n_layers} layers × {n_units // n_layers:,}) scored for "
        f"{len(tables)} targets on {len(pipe.expert_corpus)} sentences per language "
        f"({len(pipe.expert_corpus) * (len(pipe.expert_languages) - 1)} negatives per target)."
    )
)

# %% [markdown]
# ### How many experts are there?
#
# Number of units whose AUROC exceeds each threshold. An AUROC of 1 means the unit
# alone separates the target from all five other languages on these sentences.

# %%
thresholds = [0.7, 0.8, 0.9, 0.95, 0.99]
counts = pd.DataFrame({t: count_above(tab, thresholds) for t, tab in tables.items()}).T
counts.columns = [f"AUROC > {t}" for t in thresholds]
counts.index.name = "target"
counts["AUROC < 0.1 (anti-experts)"] = [int((tab["auroc"] < 0.1).sum()) for tab in tables.values()]
pipe.write_table(counts, "expert_counts", index=True)
counts

# %% tags=["hide-input"]
above09 = counts["AUROC > 0.9"]
kth = {t: float(tab["auroc"].iloc[cfg.k - 1]) for t, tab in tables.items()}
display(
    Markdown(
        "Units with AUROC above 0.9: "
        + ", ".join(f"**{t}** {n:,}" for t, n in above09.items())
        + f". The {cfg.k}-th best unit (k = {cfg.k}, the intervention size used in later "
        "chapters) has AUROC " + ", ".join(f"{t} {v:.3f}" for t, v in kth.items()) + "."
    )
)

# %% [markdown]
# ### Where in the network are they?
#
# The distribution of AUROC per layer shows where language identity becomes linearly
# readable from single units. Boxes span the 25th–75th percentile, whiskers the
# 1st–99th, and dots mark each layer's best unit.

# %% tags=["hide-input"] mystnb={"figure": {"caption": "AUROC of every MLP unit (target language against the negative languages) per layer, one panel per target. Boxes: 25th–75th percentile; whiskers: 1st–99th; dots: each layer's best unit; dotted line: chance (0.5).", "name": "fig-auroc-per-layer"}}
# at most three panels per row, so that the labels stay readable at page width
ncols = min(3, len(tables))
nrows = -(-len(tables) // ncols)
fig, axes = plt.subplots(
    nrows, ncols, figsize=(2.6 * ncols, 2.5 * nrows), sharey=True, squeeze=False
)
axes = axes.ravel()
for ax in axes[len(tables) :]:
    ax.set_visible(False)
for ax, (target, tab) in zip(axes[: len(tables)], tables.items(), strict=True):
    layers = sorted(tab["layer"].unique())
    data = [tab.loc[tab["layer"] == layer, "auroc"].dropna().to_numpy() for layer in layers]
    ax.boxplot(
        data,
        positions=layers,
        whis=(1, 99),
        showfliers=False,
        widths=0.7,
        patch_artist=True,
        boxprops={"facecolor": target_color(target), "alpha": 0.5},
        medianprops={"color": "black"},
    )
    ax.plot(layers, [d.max() for d in data], "o", ms=3, color=target_color(target))
    ax.axhline(0.5, color="grey", lw=0.8, ls=":")
    ax.set_title(f"target {target}")
    ax.set_xlabel("layer")
    ax.set_xticks(layers[::3], layers[::3])
for ax in axes[::ncols]:
    ax.set_ylabel("AUROC (target vs others)")
fig.suptitle(f"AUROC of every unit per layer, {cfg.name}")
fig.tight_layout()
save_figure(fig, cfg, "auroc_per_layer")
plt.show()

# %% [markdown]
# The *k* experts the intervention uses, counted per layer:

# %% tags=["hide-input"] mystnb={"figure": {"caption": "Number of each target's top-k experts (k of the config) in each layer.", "name": "fig-experts-per-layer"}}
experts = {t: top_k(tab, cfg.k) for t, tab in tables.items()}
per_layer = pd.DataFrame(
    {
        t: ex["layer"].value_counts().reindex(range(n_layers), fill_value=0)
        for t, ex in experts.items()
    }
)
fig, ax = plt.subplots(figsize=(7, 3))
for target in per_layer:
    ax.plot(
        per_layer.index,
        per_layer[target],
        marker="o",
        ms=3,
        label=target,
        color=target_color(target),
    )
ax.set_xlabel("layer")
ax.set_ylabel(f"experts among the top {cfg.k}")
ax.set_title(f"Layer of the top-{cfg.k} experts per target, {cfg.name}")
ax.legend(title="target", ncols=5)
save_figure(fig, cfg, "experts_per_layer")
plt.show()
_ = pipe.write_table(per_layer.rename_axis("layer"), "experts_per_layer", index=True)

# %% [markdown]
# ### Do targets share experts?
#
# Jaccard overlap between the top-*k* expert sets of the targets (1 = identical sets).
# Units shared between targets respond to "not the negative languages" in general
# rather than to one language.

# %% tags=["hide-input"] mystnb={"figure": {"caption": "Jaccard overlap between the top-k expert sets of the targets (1 = the same units).", "name": "fig-expert-overlap"}}
overlap = overlap_matrix(experts)
fig, ax = plt.subplots(figsize=(4.2, 3.6))
im = ax.imshow(overlap.to_numpy(), vmin=0, vmax=1, cmap="viridis")
ax.set_xticks(range(len(overlap)), overlap.columns)
ax.set_yticks(range(len(overlap)), overlap.index)
for i in range(len(overlap)):
    for j in range(len(overlap)):
        ax.text(
            j,
            i,
            f"{overlap.iat[i, j]:.2f}",
            ha="center",
            va="center",
            color="white" if overlap.iat[i, j] < 0.6 else "black",
            fontsize=8,
        )
ax.grid(False)
fig.colorbar(im, ax=ax, label="Jaccard overlap")
ax.set_title(f"Overlap of top-{cfg.k} expert sets")
save_figure(fig, cfg, "expert_overlap")
plt.show()
_ = pipe.write_table(overlap, "expert_overlap", index=True)

# %% [markdown]
# ### The top experts
#
# The five best units per target, with the value the intervention sets them to
# (`mean_pos`, mean pooled activation over the target's sentences) and their mean over
# the negative languages.

# %%
top = pd.concat([ex.head(5) for ex in experts.values()], ignore_index=True)
top = top[["target", "rank", "layer", "unit", "auroc", "mean_pos", "mean_neg"]].round(4)
for target, ex in experts.items():
    pipe.write_table(ex, f"experts_{target}_top{cfg.k}")
top

# %% [markdown]
# How far does the intervention push a unit? For each target's experts, the set value
# (`mean_pos`) against the unit's mean over the other languages (`mean_neg`). Points far
# from the diagonal are units the intervention moves a lot when the input is not in the
# target language.

# %% tags=["hide-input"] mystnb={"figure": {"caption": "For each target's top-k experts: the value the intervention sets (mean pooled activation over the target's sentences) against the unit's mean over the other languages; dotted: the diagonal (no change).", "name": "fig-expert-values"}}
fig, ax = plt.subplots(figsize=(4.5, 4.2))
for target, ex in experts.items():
    ax.scatter(
        ex["mean_neg"], ex["mean_pos"], s=5, alpha=0.5, label=target, color=target_color(target)
    )
lims = [min(ax.get_xlim()[0], ax.get_ylim()[0]), max(ax.get_xlim()[1], ax.get_ylim()[1])]
ax.plot(lims, lims, color="grey", lw=0.8, ls=":")
ax.set_xlabel("mean pooled activation, other languages")
ax.set_ylabel("mean pooled activation, target (set value)")
ax.set_title(f"Top-{cfg.k} experts: set value vs typical value")
ax.legend(title="target", markerscale=3)
save_figure(fig, cfg, "expert_values")
plt.show()

# %% [markdown]
# ## Deviations from the paper in this chapter
#
# - **Model**: Gemma-3-270M base (18 layers × 2,048 MLP units = 36,864 units), from a
#   4-bit (Q4_K_M) GGUF dequantised to float32, instead of Bloom-7B1 (30 × 16,384),
#   Aya-23-8B (32 × 14,336) and PolyLM-13B (40 × 20,480). Quantisation perturbs weights
#   slightly; its effect on which units are experts is not measured here.
# - **Data**: Bible verses (disjoint from the evaluation verses) instead of the
#   Flores-200 dev split; see {ref}`chapter-languages` for sizes.
# - **Units and pooling**: MLP intermediate units with mean pooling that excludes the
#   BOS token (the BOS position is identical in every sentence and would only dilute the
#   mean). The paper follows Suau et al., whose exact unit set may include other
#   modules; set `modules` in the config to add them.
# - **k**: the paper uses 100 experts for Bloom-7B and 2,000 for Aya-8B and PolyLM-13B
#   (0.02% and 0.44% of their units). The default here is shown in the config table
#   above; the k sweep of the paper's Fig. 2 has its own chapter.
#
# ## Summary
#
# - AUROC of all units for the five targets, computed at once from cached activations.
# - Per-layer AUROC distributions, the layers of the top-*k* experts, their overlap
#   across targets, and the values the intervention sets, are saved as CSV under
#   `results/<config>/`.
#
# ## Exercises
#
# 1. Find the experts with **max pooling** instead of mean pooling. Do the same layers
#    hold the experts?
#
#    :::{dropdown} Solution
#    ```bash
#    steerspace book --only finding_experts --set pooling=max --set results_dir=/tmp/max --no-build
#    ```
#
#    `pooling` applies to the activations the AUROC is computed from (and, in later
#    chapters, to the embeddings). Compare `/tmp/max/gemma-3-270m/experts_per_layer.csv`
#    with `results/gemma-3-270m/experts_per_layer.csv`, or in Python:
#
#    ```python
#    from steerspace.experts import overlap_matrix, top_k
#    from steerspace.notebook import setup_chapter
#
#    _, mean_pipe = setup_chapter("gemma-3-270m")
#    _, max_pipe = setup_chapter("gemma-3-270m", {"pooling": "max"})
#    mean_es, max_es = top_k(mean_pipe.experts("es"), 500), top_k(max_pipe.experts("es"), 500)
#    print(overlap_matrix({"mean": mean_es, "max": max_es}))
#    print(mean_es["layer"].value_counts().sort_index(), max_es["layer"].value_counts().sort_index())
#    ```
#
#    Max pooling scores a unit by its largest activation in the sentence, so it favours
#    units that fire strongly on a few tokens (a character, a function word) over units
#    whose level is shifted over the whole sentence; expect a different layer profile
#    and a partial overlap of the two expert sets.
#    :::
#
# 2. Units with AUROC **below 0.1** are *anti-experts*: low for the target, high for the
#    others. Where are they, and what would setting them to their positive-set mean do?
#
#    :::{dropdown} Solution
#    ```python
#    anti = {t: tab[tab["auroc"] < 0.1].groupby("layer").size() for t, tab in tables.items()}
#    pd.DataFrame(anti).fillna(0).astype(int)
#    ```
#
#    An AUROC of 0.05 identifies the language as well as one of 0.95, with the opposite
#    sign. Setting an anti-expert to `mean_pos` (its typical value *on the target*,
#    which is low) also pushes the model toward the target language. The paper, following
#    {cite:t}`suau2024whispering`, ranks by AUROC and takes the top k, so anti-experts are
#    never chosen; ranking by |AUROC − 0.5| would include them.
#    :::
#
# 3. Drop Chinese from the negative set (`extra_negatives: []`). How much does the
#    Japanese expert set change?
#
#    :::{dropdown} Solution
#    ```python
#    from steerspace.experts import overlap_matrix, top_k
#    from steerspace.notebook import setup_chapter
#
#    _, with_zh = setup_chapter("gemma-3-270m")
#    _, without_zh = setup_chapter("gemma-3-270m", {"extra_negatives": []})
#    ja = {
#        "with zh": top_k(with_zh.experts("ja"), 500),
#        "without zh": top_k(without_zh.experts("ja"), 500),
#    }
#    overlap_matrix(ja)
#    ```
#
#    Without Chinese, the only negative language that shares Han characters with
#    Japanese is gone, so units that respond to Han characters become good Japanese
#    experts: expect the Japanese set to change most and the Latin-script targets' sets
#    little (check with the same code for `"es"`). This is why the paper adds Chinese to
#    the negatives.
#    :::

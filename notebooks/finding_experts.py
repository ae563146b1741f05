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
# (negative set). Following Suau et al. (2024), the paper scores every unit by the area
# under the ROC curve (AUROC) of its mean-pooled activation, takes the *k* units with
# the highest AUROC, and intervenes by setting each of them, at every token, to its
# mean activation over the positive sentences.
#
# Here we find the experts of each of the paper's five targets (English, German,
# French, Spanish, Japanese) in the default model. Positive set: the target's expert
# sentences; negative set: the same verses in the other four targets and in Chinese.
# The units are the MLP intermediate activations of every layer (the input of each
# `down_proj`), pooled over the tokens of a sentence (padding and BOS excluded).

# %% tags=["parameters"]
config = "gemma-3-270m"  # a shipped config name or a YAML path
overrides = {}  # any config key, e.g. {"k": 200, "targets": ["es", "fr"]}

# %%
import matplotlib.pyplot as plt
import numpy as np
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

# %% tags=["hide-input"]
fig, axes = plt.subplots(1, len(tables), figsize=(3.0 * len(tables), 3.2), sharey=True)
axes = np.atleast_1d(axes)
for ax, (target, tab) in zip(axes, tables.items(), strict=True):
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
axes[0].set_ylabel("AUROC (target vs others)")
fig.suptitle(f"AUROC of every unit per layer, {cfg.name}", y=1.02)
save_figure(fig, cfg, "auroc_per_layer")
plt.show()

# %% [markdown]
# The *k* experts the intervention uses, counted per layer:

# %% tags=["hide-input"]
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
pipe.write_table(per_layer.rename_axis("layer"), "experts_per_layer", index=True)

# %% [markdown]
# ### Do targets share experts?
#
# Jaccard overlap between the top-*k* expert sets of the targets (1 = identical sets).
# Units shared between targets respond to "not the negative languages" in general
# rather than to one language.

# %% tags=["hide-input"]
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
pipe.write_table(overlap, "expert_overlap", index=True)

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

# %% tags=["hide-input"]
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
# 1. Re-run with `overrides={"pooling": "max"}`. Do the same layers hold the experts?
# 2. Count the anti-experts (AUROC < 0.1) per layer. Where are they, and what would
#    setting *them* to their positive-set mean do?
# 3. Drop Chinese from the negative set (`{"extra_negatives": []}`). How much does the
#    Japanese expert set change (use `overlap_matrix` on the two runs)?

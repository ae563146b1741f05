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
# (chapter-retrieval)=
# # Cross-lingual retrieval in the new space
#
# *Paper §5, Fig. 4, Table 2, Fig. 5, App. E (Figs. 21–23) and App. F (Figs. 24–26).*
# If the intervention pulls languages together ({ref}`chapter-space`), does that help a
# downstream task? The paper's test is **cross-lingual retrieval**: given a sentence in
# the query language, find its translation among all candidate sentences of another
# language by the largest inner product of mean-pooled embeddings, and report top-1
# accuracy. Its claims:
#
# 1. with the target as query, top-1 accuracy improves after the intervention for most
#    candidate languages (Spanish: Aya-8B median +32%, max +74%; Bloom-7B up to +89%,
#    median +14%; PolyLM-13B median +0.5%, max +12%);
# 2. the query–candidate distance predicts accuracy in both spaces, and the distance
#    change predicts the accuracy change (Table 2);
# 3. with other query languages the effect is mixed (Fig. 5).
#
# This chapter reads the embeddings cached by the previous one: no new forward pass.
#
# :::{admonition} Re-run this chapter
# :class: tip
#
# From the repository root, with other parameters (here `k=200`):
#
# ```bash
# steerspace book --only crosslingual_retrieval \
#     --set k=200 --no-build
# ```
#
# or with papermill, which `steerspace book` runs for every chapter:
#
# ```bash
# jupytext --to ipynb -o /tmp/ch.ipynb notebooks/crosslingual_retrieval.py
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

from steerspace.languages import PRETRAINING_NOTES, seen_in_pretraining
from steerspace.notebook import config_table, setup_chapter
from steerspace.paper import paper_table
from steerspace.plots import draw_retrieval_bars, save_figure
from steerspace.retrieval import retrieval_matrix, summarise_gains, table2, target_query_frame

cfg, pipe = setup_chapter(config, overrides)
config_table(cfg)

# %%
pre, post = pipe.space(), pipe.post_spaces()
seen = {lang: seen_in_pretraining(lang, cfg.model) for lang in pre}
n_candidates = len(pipe.eval_corpus)
display(
    Markdown(
        f"Each query is matched against **{n_candidates}** candidates (chance = "
        f"{1 / n_candidates:.1%}); the paper has 1012 (chance 0.1%)."
    )
)
if all(v is None for v in seen.values()):
    display(
        Markdown(
            "Which languages this model saw in pre-training is unknown: "
            f"*{PRETRAINING_NOTES.get('gemma-3-270m', '')}* No language is marked unseen, "
            "and all candidates enter the correlations."
        )
    )

# %% [markdown]
# ## Target as query (Fig. 4, App. E)
#
# For each target, top-1 accuracy with the target's sentences as queries and each
# other language's sentences as candidates, in the original space (pre) and in the
# target's intervened space (post). Red tick labels mark languages the model did not
# see in pre-training, where that is known.

# %% mystnb={"figure": {"caption": "The paper's Fig. 4 on this run: top-1 retrieval accuracy with the main target's sentences as queries and each other language's as candidates, before (light) and after (dark) the intervention on the target's experts; inner product of mean-pooled embeddings. Red tick labels would mark languages unseen in pre-training (unknown for Gemma 3).", "name": "fig-retrieval-main"}}
frames = {target: target_query_frame(pre, post[target], target) for target in cfg.targets}
for target, frame in frames.items():
    pipe.write_table(frame.round(4), f"retrieval_query_{target}", index=True)


def bars(target: str) -> plt.Figure:
    frame = frames[target]
    fig, ax = plt.subplots(figsize=(8, 3.2))
    draw_retrieval_bars(
        ax,
        frame["acc_pre"].to_dict(),
        frame["acc_post"].to_dict(),
        seen=seen,
        title=f"{cfg.name}: top-1 retrieval, query {target}, intervention on {target}",
    )
    save_figure(fig, cfg, f"retrieval_query_{target}")
    return fig


main_target = cfg.main_target
bars(main_target)
plt.show()

# %% [markdown]
# ### Gains, as the paper reports them
#
# Median and maximum of post − pre top-1 accuracy over candidate languages, in
# percentage points, for each target; the paper's numbers are for the Spanish target.

# %%
gains = pd.DataFrame({t: summarise_gains(f["acc_pre"], f["acc_post"]) for t, f in frames.items()}).T
gains = (gains[["median", "max", "mean", "min"]] * 100).round(1)
gains.index.name = "target (ours)"
pipe.write_table(gains, "retrieval_gains", index=True)
paper_gains = pd.DataFrame(
    {"median": [32.0, 14.0, 0.5], "max": [74.0, 89.0, 12.0]},
    index=pd.Index(["Aya-8B (es)", "Bloom-7B (es)", "PolyLM-13B (es)"], name="paper"),
)
display(gains)
display(paper_gains)

# %% tags=["hide-input"]
improved = {t: int((f["delta_acc"] > 0).sum()) for t, f in frames.items()}
display(
    Markdown(
        "Candidate languages whose accuracy improves with the target as query: "
        + ", ".join(f"**{t}** {n} of {len(frames[t])}" for t, n in improved.items())
        + f". Median gain for {main_target}: {gains.loc[main_target, 'median']:+.1f} points "
        f"(paper, Spanish: Aya +32, Bloom +14, PolyLM +0.5)."
    )
)

# %% [markdown]
# ### Inner product or cosine?
#
# The paper scores candidates by the inner product. Mean-pooled last hidden states of a
# base LM are dominated by a few dimensions with huge values {cite}`mu2018allbutthetop`
# (for this model, the
# largest dimension holds the share of the squared norm shown below), and the inner
# product then ranks candidates mostly by their norm along those dimensions. The same
# retrieval with cosine similarity ({numref}`fig-retrieval-cosine` against
# {numref}`fig-retrieval-main`), as a robustness check (the chapter on baselines
# looks at this in depth):

# %%
frames_cos = {t: target_query_frame(pre, post[t], t, score="cosine") for t in cfg.targets}
gains_cos = (
    pd.DataFrame(
        {t: summarise_gains(f["acc_pre"], f["acc_post"]) for t, f in frames_cos.items()}
    ).T[["median", "max", "mean", "min"]]
    * 100
)
gains_cos.index.name = "target (cosine)"
pipe.write_table(gains_cos.round(1), "retrieval_gains_cosine", index=True)
squares = np.concatenate(list(pre.values())) ** 2
top_share = float(np.sort(squares.mean(0))[::-1][0] / squares.mean(0).sum())
display(
    Markdown(
        f"Largest single dimension: **{top_share:.0%}** of the mean squared norm of the pre "
        f"embeddings. Median / max gain with cosine (points): "
        + ", ".join(
            f"**{t}** {r['median']:+.1f} / {r['max']:+.1f}" for t, r in gains_cos.iterrows()
        )
        + "; with the inner product: "
        + ", ".join(f"**{t}** {r['median']:+.1f} / {r['max']:+.1f}" for t, r in gains.iterrows())
        + "."
    )
)

# %% tags=["hide-input"] mystnb={"figure": {"caption": "The same retrieval as the first figure, scored by cosine similarity instead of the inner product.", "name": "fig-retrieval-cosine"}}
fig, ax = plt.subplots(figsize=(8, 3.2))
f = frames_cos[main_target]
draw_retrieval_bars(
    ax,
    f["acc_pre"].to_dict(),
    f["acc_post"].to_dict(),
    seen=seen,
    title=f"{cfg.name}: top-1 retrieval by cosine, query {main_target}, "
    f"intervention on {main_target}",
)
save_figure(fig, cfg, f"retrieval_query_{main_target}_cosine")
plt.show()
for target, frame in frames_cos.items():
    pipe.write_table(frame.round(4), f"retrieval_query_{target}_cosine", index=True)

# %% [markdown]
# ## Table 2: does distance predict retrieval?
#
# For each query (= target) language, Pearson correlations over the candidate
# languages between accuracy and the mean query–candidate cosine distance *d*, with
# bootstrap 95% confidence intervals (1000 resamples of candidate languages) and
# p-values. The paper keeps only candidates seen in pre-training; with unknown flags we
# keep all. `*` marks p < 0.05 (the paper greys out p > 0.05).

# %%
kept = {t: f.loc[[c for c in f.index if seen[c] is not False]] for t, f in frames.items()}
corr = table2(kept, n_boot=1000, seed=cfg.seed)
pipe.write_table(corr.round(4), "table2")


def cell(r, lo, hi, sig) -> str:
    return "NA" if not np.isfinite(r) else f"{r:.2f} [{lo:.2f}, {hi:.2f}]{'*' if sig else ''}"


ours = corr.assign(
    model=f"{cfg.name} (ours)",
    value=[
        cell(*v) for v in corr[["r", "ci_low", "ci_high", "significant"]].itertuples(index=False)
    ],
)
paper = paper_table("table2_correlations")
paper = paper.assign(
    query_language=paper["query_language_iso"],
    value=[
        cell(r, lo, hi, False)
        for r, lo, hi in paper[["r", "ci_low", "ci_high"]].itertuples(index=False)
    ],
)
both = pd.concat([ours, paper])[["model", "query_language", "correlation", "value"]]
both.pivot_table(
    index=["model", "query_language"],
    columns="correlation",
    values="value",
    aggfunc="first",
    sort=False,
)

# %% [markdown]
# Averaged over targets (as the paper's text summarises them):

# %%
mean_r = corr.groupby("correlation", sort=False)["r"].mean().to_frame("ours (mean r)")
paper_mean = paper_table("table2_correlations").pivot_table(
    index="correlation", columns="model", values="r"
)
mean_r.join(paper_mean).round(2)

# %% [markdown]
# ## Other query languages (Fig. 5, App. F)
#
# Change in top-1 accuracy (post − pre) for every query × candidate pair under each
# target's intervention. Blue: the intervention helps; red: it hurts.

# %% mystnb={"figure": {"caption": "The paper's Fig. 5 on this run: change of top-1 accuracy (post − pre) for every query language (rows) and candidate language (columns) under the main target's intervention. Blue: the intervention helps; red: it hurts.", "name": "fig-retrieval-delta-main"}}
pre_matrix = retrieval_matrix(pre)
delta = {t: retrieval_matrix(post[t]) - pre_matrix for t in cfg.targets}
pipe.write_table(pre_matrix.round(4), "retrieval_matrix_pre", index=True)
for t, d in delta.items():
    pipe.write_table(d.round(4), f"retrieval_delta_{t}", index=True)


def heatmap(target: str) -> plt.Figure:
    d = delta[target]
    lim = max(0.05, float(np.nanmax(np.abs(d.to_numpy()))))
    fig, ax = plt.subplots(figsize=(6.5, 5.5))
    im = ax.imshow(d.to_numpy(), cmap="RdBu", vmin=-lim, vmax=lim)
    ax.set_xticks(range(len(d.columns)), d.columns, rotation=90)
    ax.set_yticks(range(len(d.index)), d.index)
    ax.set_xlabel("candidate language")
    ax.set_ylabel("query language")
    ax.grid(False)
    fig.colorbar(im, ax=ax, label="Δ top-1 accuracy (post − pre)")
    ax.set_title(f"{cfg.name}: Δ top-1 accuracy, intervention on {target}")
    save_figure(fig, cfg, f"retrieval_delta_{target}")
    return fig


heatmap(main_target)
plt.show()

# %% tags=["hide-input"]
off_target = {
    t: d.drop(index=t, errors="ignore").drop(columns=t, errors="ignore") for t, d in delta.items()
}
display(
    Markdown(
        "Mean Δ accuracy over pairs where neither language is the target: "
        + ", ".join(f"**{t}** {np.nanmean(d.to_numpy()):+.3f}" for t, d in off_target.items())
        + "; over pairs with the target as query: "
        + ", ".join(f"**{t}** {frames[t]['delta_acc'].mean():+.3f}" for t in cfg.targets)
        + "."
    )
)

# %% [markdown]
# ## Deviations from the paper in this chapter
#
# - **Candidates**: the evaluation sentences of the config (see the number above)
#   instead of Flores-200 devtest's 1012; fewer candidates make retrieval easier, so
#   absolute accuracies are not comparable with the paper's, only their changes.
# - **Languages**: 17 of the 22 on the Bible; seen-in-pre-training is unknown for
#   Gemma 3, so no language is marked red and all enter Table 2.
# - **Table 2** has 16 candidate languages per query here, against up to 21 in the
#   paper; with so few points, bootstrap intervals are wide.
#
# ## Summary
#
# - Top-1 accuracy pre and post with each target as query, the median and maximum
#   gains beside the paper's, Table 2 with bootstrap CIs and p-values, and Δ accuracy
#   for all query languages; every table is in `results/<config>/`.
#
# ## Gallery: every target
#
# Target-as-query accuracies (the paper's App. E) and Δ accuracy heatmaps (App. F) for
# the other targets.

# %% tags=["hide-input"] mystnb={"figure": {"caption": "Target-as-query accuracy pre and post (bars, the paper's App. E) and Δ top-1 accuracy for every query × candidate pair (heatmap, App. F) for the other targets; the target is named in each plot title."}}
for target in cfg.targets:
    if target != main_target:
        bars(target)
        plt.show()
        heatmap(target)
        plt.show()

# %% [markdown]
# ## Exercises
#
# 1. The Spanish intervention gains much more with cosine similarity than with the inner
#    product on some candidate languages. Which ones, and what happens to the embedding
#    norms?
#
#    :::{dropdown} Solution
#    ```python
#    cos = frames_cos["es"].sort_values("delta_acc", ascending=False)
#    print(cos.head()[["acc_pre", "acc_post", "delta_acc"]])
#    norms = pd.DataFrame({
#        "pre": {lang: float(np.linalg.norm(x, axis=1).mean()) for lang, x in pre.items()},
#        "post es": {lang: float(np.linalg.norm(x, axis=1).mean()) for lang, x in post["es"].items()},
#    })
#    norms.round(1)
#    ```
#
#    The inner product ranks candidates by norm as much as by direction: a few large
#    dimensions (see the share printed above) make some candidates near neighbours of
#    every query ("hubs"). The intervention changes the norms too, so the inner product
#    mixes a change of scale with the change of direction; cosine isolates the direction,
#    which is what the paper's distance analysis measures.
#    :::
#
# 2. Restrict Table 2 to candidates written in the same script as the target. Do the
#    correlations hold?
#
#    :::{dropdown} Solution
#    ```python
#    from steerspace.languages import LANGUAGES
#
#    same_script = {
#        t: f.loc[[c for c in f.index if LANGUAGES[c].script == LANGUAGES[t].script]]
#        for t, f in frames.items()
#        if LANGUAGES[t].script == "Latn"  # Japanese has no other language in its script
#    }
#    table2(same_script, n_boot=1000, seed=cfg.seed).round(2)
#    ```
#
#    With about ten Latin-script candidates per target, the bootstrap intervals are much
#    wider than in the table above, and distances within one script vary less, so the
#    correlations of accuracy with distance are weaker or not significant. The
#    `r(d_post, d_pre)` row stays high: the intervention moves all candidates alike.
#    :::
#
# 3. Pick the pair of *non-target* languages with the largest gain in the Δ heatmap of
#    the main target. Are the two languages closer after the intervention?
#
#    :::{dropdown} Solution
#    ```python
#    from steerspace.geometry import language_distance
#
#    query, candidate = off_target[main_target].stack().idxmax()
#    print(query, candidate, delta[main_target].loc[query, candidate])
#    print(language_distance(pre[query], pre[candidate]),
#          language_distance(post[main_target][query], post[main_target][candidate]))
#    ```
#
#    Table 2's `r(delta_acc, d_pre-d_post)` asks the same over all candidates of the
#    target; one pair can go either way. A gain with a smaller distance is the paper's
#    mechanism; a gain without one points to the change of norms (exercise 1).
#    :::

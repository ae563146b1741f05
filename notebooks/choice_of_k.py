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
# (chapter-k)=
# # Choosing k: steering generation, at a price in perplexity
#
# :::{admonition} Result
# :class: important
# At the config's k = {glue:md}`k_k` experts, the share of free generations in the
# target language is {glue:md}`k_share_k` against {glue:md}`k_share_0` for the original
# model (means over targets); held-out log-perplexity rises by {glue:md}`k_ppl_rise` at
# k = {glue:md}`k_kmax`. From its best k to k = {glue:md}`k_kmax`, the share falls
# significantly for {glue:md}`k_fell` targets ({glue:md}`k_fell_names`).
#
# ```{glue:md} k_claims_top
# :format: myst
# ```
# :::
#
# *Paper §3.3, App. B, Fig. 2.* How many experts should the intervention set? The paper
# sweeps k and measures, for each target, the share of **free generations** (sampled
# from the BOS token alone, temperature one, top-p {paper}`0.9`) that langid.py
# {cite}`lui2012langid` identifies as the target language, and the **log-perplexity**
# of target-language text. In its own words:
#
# > For almost all target languages, the probability of generating that language
# > increases postintervention (Fig. 2, top), suggesting that the intervention is
# > successful. [...] we observe an increase in perplexity postintervention as the
# > number of activated neurons increases, see Fig. 2 (bottom).
#
# and (App. B) it picks k by hand:
#
# > We select the value for k that balances generating text in the target language
# > with a low perplexity on the language-specific Wikipedia text
#
# giving {paper}`100` experts for Bloom-7B and {paper}`2000` for Aya-8B and PolyLM-13B.

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
overrides = {}  # any config key, e.g. {"k_grid": [0, 100, 1000], "n_generations": 32}

# %% tags=["hide-input"]
import matplotlib.pyplot as plt
import numpy as np
import pandas as pd
from IPython.display import Markdown, display

from steerspace import claims
from steerspace.analyses import choice_of_k as ksweep
from steerspace.book.chapter import (
    chapter_header,
    setup_chapter,
    show_source,
    show_warnings,
)
from steerspace.claims import scorecard
from steerspace.core.generation import language_ids
from steerspace.core.hooks import Intervention, intervening
from steerspace.data.languages import LANGUAGES
from steerspace.figures.choice_of_k import k_sweep_figure
from steerspace.figures.style import save_figure
from steerspace.text.format import fmt, fmt_ci, glue_all

cfg, pipe = setup_chapter(config, overrides)
display(Markdown(chapter_header(cfg, "choice_of_k", {"k_grid": [0, 100, 1000]})))

# %% [markdown]
# ## The intervention
#
# The intervention is a forward hook: while it is active, the input of each chosen MLP
# down-projection has the expert units' activations replaced, at every token position,
# by their mean over the target's sentences (`mean_pos` in the expert tables). The hooks
# are removed when the block ends, also when it raises. This is the code that runs:

# %% tags=["remove-input"]
show_source(Intervention._apply, intervening)

# %% [markdown]
# ## The sweep
#
# For every target and every k of the grid ({glue:md}`k_grid`; zero experts is the
# original model, shared by all targets): {glue:md}`k_n_generations` free generations of at most
# {glue:md}`k_new_tokens` new tokens, their language by langid.py (all of its
# languages), and the loss of the model on the target's held-out verses (used neither
# for finding experts nor for evaluation): {glue:md}`k_n_heldout` verses per target,
# {glue:md}`k_heldout_tokens`. Every point is cached,
# so the later chapters and a warm re-run cost nothing.
#
# Intervals resample the independent unit: a share of generations has a Wilson 95 %
# interval over its generations, a change of log-perplexity a bootstrap over blocks of
# {glue:md}`k_block` consecutive tokens (neighbouring tokens are not independent).

# %% tags=["hide-input"]
k_grid = sorted(k for k in cfg.k_grid if k <= pipe.n_units)
sweep = ksweep.run_sweep(pipe, k_grid, n_boot=cfg.n_boot, seed=cfg.seed)
table = sweep.table
pipe.write_table(table.round(5), "k_sweep")
n_tokens = {t: len(sweep.token_nll[t, 0]) for t in cfg.targets}
texts = ksweep.sweep_values(
    k_grid, len(pipe.heldout_corpus), n_tokens,
    n_generations=cfg.n_generations, max_new_tokens=cfg.max_new_tokens,
)  # fmt: skip
glue_all({f"k_{key}": text for key, text in texts.items()})
ksweep.sweep_cells(table)

# %% tags=["hide-input"] mystnb={"figure": {"caption": "The paper's Fig. 2 on this run: share of free generations that langid.py assigns to the target language (Wilson 95 % intervals over generations, top), change of the log-perplexity of held-out target text against the original model (95 % intervals over blocks of tokens, middle), and the trade-off between the two (bottom), against the number of experts k (the leftmost point, no experts, is the original model).", "name": "fig-k-sweep"}, "image": {"alt": "Three panels: share of generations in the target language, change of log-perplexity, and the trade-off between them, for each target over the number of experts k."}}
fig = k_sweep_figure(table, label_target=cfg.main_target,
                     title=f"{cfg.name}: steering generation against perplexity (Fig. 2)")  # fmt: skip
save_figure(fig, cfg, "k_sweep")
plt.show()

# %% [markdown]
# (k-steering)=
# ## Does the intervention steer?
#
# The paper's first claim at the k it uses: the share of generations in the target
# language at the config's k = {glue:md}`k_k` minus the share of the original model,
# with an interval that resamples the generations of both points:
# {glue:md}`k_steering_values` (verdict: **{glue:md}`k_steering_verdict`**).

# %% tags=["hide-input"]
chosen_k = ksweep.choose_k(table)  # the book's rule, below: its verdict goes beside


def steering_at(k: int) -> claims.Assessment:
    if k not in k_grid or k == 0:
        return claims.not_testable("k.steering", f"k = {k} is not on the grid")
    evidence = ksweep.steering_evidence(sweep, k, n_boot=cfg.n_boot, seed=cfg.seed)
    summary = ksweep.mean_steering_change(
        sweep, k, n_boot=cfg.n_boot, seed=cfg.seed
    )
    return claims.assess("k.steering", evidence, summary=summary)


steering = steering_at(cfg.k)
texts = {"k": fmt(cfg.k, "int")} | ksweep.claim_values("steering", steering, "pp")
glue_all({f"k_{key}": text for key, text in texts.items()})

# %% [markdown]
# (k-perplexity)=
# ## Does perplexity rise?
#
# The second claim: perplexity rises with the number of experts. We compare the
# largest k of the grid, {glue:md}`k_kmax`, with the original model, on the same
# tokens: {glue:md}`k_ppl_values` (verdict: **{glue:md}`k_ppl_verdict`**). The
# middle panel of {numref}`fig-k-sweep` shows the whole curve.

# %% tags=["hide-input"]
k_max = max(k_grid)
perplexity = claims.assess(
    "k.perplexity",
    ksweep.perplexity_evidence(sweep, k_max, n_boot=cfg.n_boot, seed=cfg.seed),
    summary=ksweep.pooled_perplexity_change(
        sweep, k_max, n_boot=cfg.n_boot, seed=cfg.seed
    ),
)
texts = {"kmax": fmt(k_max, "int")} | ksweep.claim_values("ppl", perplexity, "nats")
glue_all({f"k_{key}": text for key, text in texts.items()})

# %% [markdown]
# (k-tradeoff)=
# ## The trade-off, and what more experts do
#
# The paper chooses k to balance the two. Is steering bought with perplexity? At each
# target's best k (the k of the grid with the largest share in the target language),
# the cost in log-perplexity, for the targets whose steering there is significant:
# {glue:md}`k_tradeoff_values` (verdict: **{glue:md}`k_tradeoff_verdict`**).
#
# Do more experts buy more steering? From each target's best k to the largest k of the
# grid, the share changes by {glue:md}`k_decline` (intervals over generations). It
# falls significantly for {glue:md}`k_fell` targets ({glue:md}`k_fell_names`). The
# most frequent languages of the generations at the largest k: {glue:md}`k_drift`
# (langid.py codes, counts out of {glue:md}`k_n_generations`).
# Does the share change monotonically in k on the way? {glue:md}`k_dips_answer`.
# Targets whose share falls at one k and rises again at a larger k, with disjoint
# Wilson 95 % intervals (the lowest share, then the highest at a larger k):
# {glue:md}`k_dips`.

# %% tags=["hide-input"]
tradeoff = claims.assess(
    "k.tradeoff", ksweep.tradeoff_evidence(sweep, n_boot=cfg.n_boot, seed=cfg.seed)
)
scorecard.record(
    [steering, perplexity, tradeoff],
    cfg,
    at_rule_k=(chosen_k, [steering_at(chosen_k)]),
)
best = {t: ksweep.best_k(sweep, t) for t in cfg.targets}
decline = {
    t: ksweep.steering_change(
        sweep, t, k_max, base=best[t], n_boot=cfg.n_boot, seed=cfg.seed
    )
    for t in cfg.targets
}
texts = (
    ksweep.claim_values("tradeoff", tradeoff, "nats")
    | ksweep.decline_values(decline, best)
    | ksweep.dips_values(table)
    | ksweep.drift_values(sweep, cfg.targets, k_max)
)
glue_all({f"k_{key}": text for key, text in texts.items()})
ksweep.best_k_table(table, best, decline, k_max)

# %% [markdown]
# ## Picking k
#
# The paper gives no formula. We make its trade-off explicit: **the smallest k at which
# the share in the target language, averaged over targets, reaches
# {glue:md}`k_rule_fraction` of its best value on the grid.** On this run the rule
# picks **k = {glue:md}`k_rule`** (mean share {glue:md}`k_rule_share`, against the best
# {glue:md}`k_best_share`; mean change of log-perplexity {glue:md}`k_rule_ppl`). The
# claims are scored at the config's k = {glue:md}`k_k`, fixed before the run; the
# scorecard shows each verdict at the rule's k too.

# %% tags=["hide-input"]
mean = table.groupby("k")[["share", "dlog_ppl"]].mean()
pipe.write_table(mean.reset_index().round(5), "k_choice")
glue_all(
    {
        "k_rule_fraction": fmt(ksweep.RULE_FRACTION, "pct"),
        "k_rule": fmt(chosen_k, "int"),
        "k_rule_share": fmt(mean.loc[chosen_k, "share"], "acc"),
        "k_best_share": fmt(mean["share"].max(), "acc"),
        "k_rule_ppl": fmt(mean.loc[chosen_k, "dlog_ppl"], "nats", sign=True),
    }
)
mean.rename(
    columns={"share": "mean share", "dlog_ppl": "mean Δ log-perplexity (nats)"}
).round(3)

# %% [markdown]
# ## What the steered model writes
#
# The first two generations at each k for {glue:md}`k_show`, with the language
# langid.py assigns them (cut to the first characters).

# %% tags=["hide-input"]
glue_all({"k_show": cfg.main_target})
pd.DataFrame(
    [
        {"k": k, "langid": lang, "generation": text[:110]}
        for k in k_grid
        for lang, text in zip(
            sweep.ids[cfg.main_target, k][:2],
            sweep.texts[cfg.main_target, k][:2],
            strict=True,
        )
    ]
).set_index("k")

# %% [markdown]
# ## Deviations from the paper in this chapter
#
# - **Samples**: {glue:md}`k_n_generations` generations of at most
#   {glue:md}`k_new_tokens` new tokens per (target, k), against the paper's {paper}`2048`
#   per point (eight seeds of {paper}`256`).
# - **Perplexity text**: held-out Bible verses of the target language
#   ({glue:md}`k_tokens_min` to {glue:md}`k_tokens_max` tokens per target) instead of
#   {paper}`10` million tokens of Wikipedia; the
#   window is the model's context (capped by the pipeline), with a stride of half a
#   window.
# - **Grid**: {glue:md}`k_grid`; the paper sweeps k from {paper}`100` to {paper}`5000`.
# - **Rule for k**: made explicit above; the paper chooses by inspection.

# %% tags=["hide-input"]
glue_all(
    {
        "k_tokens_min": fmt(min(n_tokens.values()), "int"),
        "k_tokens_max": fmt(max(n_tokens.values()), "int"),
    }
)
show_warnings()

# %% tags=["hide-input"]
glue_all(
    {
        **scorecard.chapter_glue(cfg, "choice_of_k", "k"),
        "k_share_k": fmt(mean.loc[cfg.k, "share"], "acc")
        if cfg.k in mean.index
        else "not measured",
        "k_share_0": fmt(mean.loc[0, "share"], "acc"),
        "k_ppl_rise": fmt_ci(perplexity.summary, "nats", sign=True),
    }
)

# %% [markdown]
# ## Exercises
#
# :::{exercise}
# :label: ex-k-langid
# (easy) Restrict langid.py to the book's languages. Which shares change, and in which
# direction can they change?
# :::
#
# ```{solution-start} ex-k-langid
# :class: dropdown
# ```

# %%
restricted = {
    (t, k): np.mean(
        [i == t for i in language_ids(sweep.texts[t, k], languages=list(LANGUAGES))]
    )
    for t, k in sweep.texts
}
moved = pd.Series(restricted).unstack(0) - table.pivot(
    index="k", columns="target", values="share"
)
glue_all({"k_langid_moved": fmt(float(moved.abs().max().max()), "pp")})
moved.round(3)

# %% [markdown]
# The largest change is {glue:md}`k_langid_moved`. Shares can only rise or stay:
# langid.py scores every language on its own and returns the best one, so a text
# already assigned to the target keeps it when the candidates are restricted (the
# target is among them), while a text assigned to a language outside the book may move
# to the target.
#
# ```{solution-end}
# ```
#
# :::{exercise}
# :label: ex-k-budget
# (easy) Replace the rule for k by a perplexity budget: the largest k whose mean
# log-perplexity rises by less than one nat. Which k does it pick, and how well does
# that k steer?
# :::
#
# ```{solution-start} ex-k-budget
# :class: dropdown
# ```

# %% tags=["hide-input"]
budget = 1.0  # nats per token
budget_k = int(mean.index[mean["dlog_ppl"] < budget].max())
glue_all(
    {
        "k_budget": f"k = {fmt(budget_k, 'int')} (mean share "
        f"{fmt(mean.loc[budget_k, 'share'], 'acc')}, against {fmt(mean['share'].max(), 'acc')} "
        "at the best k of the grid)"
    }
)
mean.assign(within_budget=mean["dlog_ppl"] < budget).round(3)

# %% [markdown]
# The budget picks {glue:md}`k_budget`. A perplexity budget alone does not choose k, it
# only bounds it; the paper's choice weighs both, as the chapter's rule does.
#
# ```{solution-end}
# ```
#
# :::{exercise}
# :label: ex-k-tokens
# (medium) Is the rise of log-perplexity at the largest k spread over all tokens, or
# carried by a few? Compare the mean change per token with its median.
# :::
#
# ```{solution-start} ex-k-tokens
# :class: dropdown
# ```

# %% tags=["hide-input"]
change = {t: sweep.token_nll[t, k_max] - sweep.token_nll[t, 0] for t in cfg.targets}
per_token = pd.DataFrame({t: pd.Series(d).describe() for t, d in change.items()}).T
per_token = per_token[["mean", "25%", "50%", "75%"]].rename(
    columns={"50%": "median"}
)
glue_all(
    {
        "k_tokens": "; ".join(
            f"{t} mean {fmt(r['mean'], 'nats', sign=True)}, median {fmt(r['median'], 'nats', sign=True)}"
            for t, r in per_token.iterrows()
        )
    }
)
per_token.round(3)

# %% [markdown]
# Per token, from the original model to the largest k: {glue:md}`k_tokens`. Where the mean is far
# above the median, a minority of tokens that become very unlikely carries the rise.
#
# ```{solution-end}
# ```

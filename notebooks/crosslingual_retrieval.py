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
# :::{admonition} Result
# :class: important
# With the target as query, mean top-1 accuracy over candidate languages changes by
# {glue:md}`retrieval_tq_ip` with the paper's inner product and by
# {glue:md}`retrieval_tq_cos` with cosine (means over targets, 95 % intervals over
# queries; chance {glue:md}`retrieval_chance`); over the pairs without the target, by
# {glue:md}`retrieval_oq_ip` and {glue:md}`retrieval_oq_cos`.
#
# ```{glue:md} retrieval_claims_top
# :format: myst
# ```
# :::
#
# *Paper §5, Fig. 4, Table 2, Fig. 5, App. E (Figs. 21–23) and App. F (Figs. 24–26).*
# If the intervention pulls languages together ({ref}`chapter-space`), does that help a
# downstream task? The paper's test is **cross-lingual retrieval**: given a sentence in
# the query language, find its translation among all candidate sentences of another
# language by the largest inner product of mean-pooled embeddings, and report top-1
# accuracy. In its own words:
#
# > We find that top-1 retrieval accuracy improves post-intervention when using the
# > target as the query language (see Fig. 4 for the Spanish intervention and Appendix E
# > for the remaining four languages). This finding is consistent across most target
# > languages and models. Candidate languages present in the pre-training data generally
# > demonstrate larger gains post-intervention.
#
# with medians of {paper}`32%` (Aya-8B), {paper}`14%` (Bloom-7B) and {paper}`0.5%`
# (PolyLM-13B) over candidate languages for Spanish, and, in the introduction, "up to
# {paper}`2x` improvement in top-1 accuracy". On Table 2:
#
# > the distance between query/target and match language is predictive of top-1
# > cross-lingual retrieval accuracy in both pre- and post-intervention spaces. [...]
# > The distances in the unintervened and intervened space are positively
# > correlated—language embeddings that are closer to the target pre-intervention are
# > also closer to the target post-intervention. However, the magnitude of the
# > performance gain in the intervened space does not correlate with the reduction in
# > distance between the match and target languages across the two spaces
#
# and on other query languages (Fig. 5): the "improvements observed when the query
# language is the intervention target (see Fig. 4 and Table 2) carry over to query
# languages other than the intervention-target language".
#
# This chapter reads the embeddings cached by {ref}`chapter-space`: no new forward pass.
# Every claim is tested twice, with the paper's inner product and with cosine
# similarity, and only where the accuracy it rests on is significantly above chance.

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
from steerspace.analyses import crosslingual_retrieval as xl
from steerspace.analyses.choice_of_k import rule_k
from steerspace.book.chapter import chapter_header, setup_chapter, show_warnings
from steerspace.claims import SCORES, scorecard
from steerspace.data.languages import seen_in_pretraining
from steerspace.data.paper import paper_table
from steerspace.figures.crosslingual_retrieval import (
    change_summary_figure,
    delta_heatmap_figure,
    table2_figure,
    target_query_figure,
)
from steerspace.figures.style import (
    save_figure,
    show_gallery_figure,
    symmetric_limit,
)
from steerspace.metrics.retrieval import VARIANT_SCORES, top1_hits
from steerspace.text.format import fmt, fmt_ci, glue_all

cfg, pipe = setup_chapter(config, overrides)
display(Markdown(chapter_header(cfg, "crosslingual_retrieval", {"k": 200})))

# %% [markdown]
# ## Retrieval in this run
#
# Each query is matched against {glue:md}`retrieval_n` candidate sentences, so top-1
# accuracy by chance is {glue:md}`retrieval_chance` (the paper has {paper}`1012`
# candidates, chance {paper}`0.001`). For every space (pre, and post for each target)
# and both scores we keep the hit or miss of every query for every query × candidate
# language: intervals resample those queries, the aligned sentences.
#
# Why cosine beside the paper's inner product: mean-pooled last hidden states of a base
# LM are dominated by a few dimensions with huge values {cite}`mu2018allbutthetop` (here
# the largest holds {glue:md}`retrieval_top_share` of the mean squared norm of the pre
# embeddings), and the inner product ranks candidates mostly by their size along them;
# cosine compares directions only ({ref}`chapter-baselines` looks at this in depth).

# %% tags=["hide-input"]
pre, post = pipe.space(), pipe.post_spaces()
n_sentences = len(pipe.eval_corpus)
chance = 1.0 / n_sentences
seen = {lang: seen_in_pretraining(lang, cfg.model) for lang in pre}
hits = {v: xl.space_hits(pre, post, score=VARIANT_SCORES[v]) for v in SCORES}
glue_all(
    {
        f"retrieval_{k}": v
        for k, v in xl.space_values(pre, n_sentences, chance).items()
    }
)

# %% [markdown]
# **Top-1 retrieval, by hand.** Each query sentence is scored against every candidate
# sentence; it is a hit when its own translation (the same row) scores highest. With
# the paper's inner product, in a few lines, equal to the library's hits:


# %%
def top1_hits_by_hand(queries: np.ndarray, candidates: np.ndarray) -> np.ndarray:
    scores = (
        queries @ candidates.T
    )  # the paper's inner product, every query × candidate
    return scores.argmax(axis=1) == np.arange(
        len(queries)
    )  # own translation ranked first


target, candidate = (
    cfg.main_target,
    next(lang for lang in sorted(pre) if lang != cfg.main_target),
)
by_hand = top1_hits_by_hand(pre[target], pre[candidate])
assert np.array_equal(by_hand, top1_hits(pre[target], pre[candidate], score="dot"))
print(
    f"queries {target}, candidates {candidate}: top-1 accuracy {by_hand.mean():.3f}"
)

# %% [markdown]
# (retrieval-target-query)=
# ## Target as query (Fig. 4, App. E)
#
# For each target, top-1 accuracy with the target's sentences as queries and each
# other language's sentences as candidates, in the original space (pre) and in the
# target's intervened space (post), with 95 % intervals over queries. The table gives
# the mean over the candidate languages; "(at chance)" marks an accuracy that is not
# significantly above chance.

# %% tags=["hide-input"]
accuracy = xl.per_score(
    hits, xl.accuracy_table, cfg.targets, chance, n_boot=cfg.n_boot, seed=cfg.seed
)
pipe.write_table(accuracy.round(5), "retrieval_accuracy")
summary = xl.summary_by_part(
    hits, cfg.targets, chance, n_boot=cfg.n_boot, seed=cfg.seed
)
pipe.write_table(summary.round(5), "retrieval_summary", index=True)
xl.summary_cells(summary[summary["part"] == "target as query"])


# %% tags=["hide-input"] mystnb={"figure": {"caption": "The paper's Fig. 4 on this run (main target): top-1 retrieval accuracy with the target's sentences as queries and each other language's as candidates, before (pre) and after (post) the intervention on the target's experts, by inner product (top, the paper's score) and cosine (bottom); 95 % intervals over queries, the dashed red line is chance. Axes are scaled to the data.", "name": "fig-retrieval-main"}, "image": {"alt": "Bar charts of top-1 retrieval accuracy per candidate language, pre and post intervention, for inner product and cosine, with a chance line."}}
def bars(target: str) -> plt.Figure:
    fig = target_query_figure(
        accuracy, target=target, chance=chance, seen=seen,
        title=f"{cfg.name}: top-1 retrieval, queries in {target}, intervention on {target} (k = {cfg.k})",
    )  # fmt: skip
    save_figure(fig, cfg, f"retrieval_query_{target}")
    return fig


main_target = cfg.main_target
bars(main_target)
plt.show()

# %% [markdown]
# ### Gains, as the paper reports them
#
# The paper summarises Fig. 4 by the median and maximum gain (post − pre) over candidate
# languages, in percentage points; its numbers are for the Spanish target.

# %% tags=["hide-input"]
gain = pd.concat(
    {v: xl.gains(accuracy[accuracy["score"] == v]) for v in SCORES}, names=["score"]
)
pipe.write_table(gain.round(5), "retrieval_gains", index=True)
display(gain.map(lambda x: fmt(x, "pp", sign=True)), xl.PAPER_GAINS)

# %% [markdown]
# (retrieval-two-x)=
# ### The claims on the target as query
#
# - *Improves*: per target, the mean gain over candidate languages must have its
#   interval above zero, for most targets.
# - *For the majority of candidate languages*: per target, the share of candidate
#   languages whose accuracy rises must lie above one half (its interval recomputes
#   every candidate's change on each resample of the queries).
# - *Up to {paper}`2x`*: per target, post / pre mean accuracy over its candidates must
#   lie above {paper}`2` for most targets. The largest single (target, candidate) pair is
#   shown as a description only: the best of some eighty pairs is chosen after the
#   fact, favoured by its own noise, so it decides nothing. Here it is
#   {glue:md}`retrieval_best_pair`.
# - *Seen languages gain more*: needs to know which languages the model saw in
#   pre-training.
#
# Every claim is scored at the config's k = {glue:md}`retrieval_k`, and again at
# k = {glue:md}`retrieval_rule_k`, the k the {ref}`chapter-k` chapter's rule picks
# (shown beside each verdict on the scorecard).

# %% tags=["hide-input"]
k_rule = rule_k(pipe)
kw = {"model": cfg.name, "n_boot": cfg.n_boot, "seed": cfg.seed}
assessments = xl.assessments(pre, post, seen, **kw)
at_rule_k = xl.assessments(pre, pipe.post_spaces(k=k_rule), seen, **kw)
scorecard.record(assessments, cfg, at_rule_k=(k_rule, at_rule_k))
by_key = {a.key: a for a in assessments}
best = by_key["retrieval.two_x [inner product]"].details["best_pair"]
glue_all(
    {
        "retrieval_k": fmt(cfg.k, "int"),
        "retrieval_rule_k": fmt(k_rule, "int"),
        "retrieval_best_pair": "no pair above chance before"
        if best is None
        else f"{best['pair']}, {fmt(best['pre'], 'acc')} → {fmt(best['post'], 'acc')} "
        f"({fmt(best['ratio'], 'ratio')}, inner product)",
    }
)
TARGET_CLAIMS = (
    "retrieval.target_query",
    "retrieval.majority",
    "retrieval.two_x",
    "retrieval.seen_larger",
)
claims.units_table([a for a in assessments if a.claim.id in TARGET_CLAIMS])

# %% [markdown]
# (retrieval-table2)=
# ## Table 2: does distance predict retrieval?
#
# For each query (= target) language, Pearson correlations over the candidate languages
# between top-1 accuracy and the mean query–candidate cosine distance *d*, with
# Fisher-z 95 % intervals; `*` marks `p < 0.05` from the same transform, so a star appears
# exactly where the interval excludes zero (the paper bootstraps its intervals and
# greys out p > {paper}`0.05`, and the two can disagree). The paper keeps
# only candidates seen in pre-training. For this model the flags are
# {glue:md}`retrieval_seen_flags`, so we keep {glue:md}`retrieval_seen_kept`
# ({glue:md}`retrieval_n_candidates` per query).
#
# **Caveat.** Accuracies near chance ({glue:md}`retrieval_chance`) are a handful of hits
# out of {glue:md}`retrieval_n`; a correlation of such accuracies with distances measures
# noise.
# A correlation resting on an accuracy that is not above chance for its target is
# marked `†` and gets no verdict. `r(d post, d pre)` involves distances only and is the
# same for both scores.

# %% tags=["hide-input"]
kept = {
    v: xl.table2_frames(pre, post, seen, score=VARIANT_SCORES[v]) for v in SCORES
}
flags = {
    v: xl.above_chance_flags(hits[v], cfg.targets, chance, n_boot=cfg.n_boot)
    for v in SCORES
}
table2 = xl.table2_per_score(kept, flags, chance)
pipe.write_table(table2.round(5), "table2")
texts = xl.table2_values(kept["cosine"], seen)
glue_all({f"retrieval_{key}": text for key, text in texts.items()})
pd.concat([xl.table2_cells(table2, f"{cfg.name} (ours)"), xl.paper_table2_cells()])

# %% tags=["hide-input"] mystnb={"figure": {"caption": "The paper's Table 2 as a figure: each correlation per query (= target) language, ours by inner product (filled) and cosine (hollow) with 95 % intervals over candidate languages; grey points rest on accuracies at chance and get no verdict; grey ticks are the paper's three models.", "name": "fig-retrieval-table2"}, "image": {"alt": "Four panels of Pearson correlations with intervals per query language, ours and the paper's."}}
fig = table2_figure(
    table2,
    paper_table("table2_correlations"),
    title=f"{cfg.name}: Table 2, correlations over candidate languages",
)
save_figure(fig, cfg, "table2")
plt.show()

# %% [markdown]
# **Leave one out.** With about a dozen candidate languages, one language can make a
# correlation. For each correlation whose interval excludes zero, the range of r with
# each candidate left out in turn, and the language whose removal moves r most:
# {glue:md}`retrieval_loo`.

# %% tags=["hide-input"]
loo = xl.sign_check(table2)
glue_all(
    {
        "retrieval_loo": f"{fmt(loo['sign_kept'].sum(), 'int')} of {fmt(len(loo), 'int')} keep their sign whichever language is left out"
    }
)
loo.round(2)

# %% [markdown]
# The claims, one unit per target and correlation, on the Fisher-z intervals:
# "predictive" (before and after, two claims) when the interval lies below zero,
# "positively correlated" when above; "high and statistically significant" (the
# paper's conclusion, §8) when the interval lies below {glue:md}`retrieval_medium`, a
# medium correlation. "Does not correlate" is an *equivalence* claim: it needs the
# interval inside ± {glue:md}`retrieval_band`, and
# an interval that lies wholly outside contradicts it; with about a dozen candidate
# languages an interval is rarely that narrow, so most units stay undecided, which is
# what the data allow. Distances are the same for both scores, so "positively
# correlated" is assessed once.

# %% tags=["hide-input"]
glue_all(
    {
        "retrieval_medium": fmt(
            xl.TABLE2_CLAIMS["retrieval.alignment_correlation"][1], "r"
        ),
        "retrieval_band": fmt(
            claims.claim("table2.gain_vs_shrink").rule.margin, "r"
        ),
    }
)
claims.units_table([a for a in assessments if a.claim.id in xl.TABLE2_CLAIMS])

# %% [markdown]
# (retrieval-other-queries)=
# ## Other query languages (Fig. 5, App. F)
#
# Change in top-1 accuracy (post − pre) for every query × candidate pair under each
# target's intervention. Blue: the intervention helps; red: it hurts; a dot marks a pair
# whose 95 % interval over queries excludes zero (not corrected for the many pairs).
# All targets' heatmaps share one colour scale per score, so colours compare across
# targets; the inner product's scale is {glue:md}`retrieval_lim_ip`, cosine's
# {glue:md}`retrieval_lim_cos`.

# %% tags=["hide-input"] mystnb={"figure": {"caption": "The paper's Fig. 5 on this run (main target): change of top-1 accuracy (post − pre) for every query language (rows) and candidate language (columns) under the main target's intervention, by inner product (top) and cosine (bottom); languages sorted by code, the target's row and column framed, dots where the 95 % interval excludes zero. The colour scales are shared with the other targets' heatmaps (gallery below).", "name": "fig-retrieval-delta-main"}, "image": {"alt": "Two heatmaps of the change in top-1 accuracy for every query and candidate language, inner product and cosine."}}
marks = {
    v: {
        t: xl.delta_marks(hits[v], t, n_boot=cfg.n_boot, seed=cfg.seed)
        for t in cfg.targets
    }
    for v in SCORES
}
limits = {
    v: symmetric_limit([m["value"] for m in marks[v].values()], floor=chance)
    for v in SCORES
}
for v in SCORES:
    pipe.write_table(
        pd.concat(marks[v], names=["target"]).round(5),
        f"retrieval_delta_{VARIANT_SCORES[v]}",
        index=True,
    )
glue_all(
    {
        "retrieval_lim_ip": "±" + fmt(limits["inner product"], "acc"),
        "retrieval_lim_cos": "±" + fmt(limits["cosine"], "acc"),
    }
)


def heatmap(target: str) -> plt.Figure:
    fig = delta_heatmap_figure(
        {v: marks[v][target] for v in SCORES}, limits=limits, target=target, chance=chance,
        title=f"{cfg.name}: Δ top-1 accuracy, intervention on {target} (k = {cfg.k})",
    )  # fmt: skip
    save_figure(fig, cfg, f"retrieval_delta_{target}")
    return fig


heatmap(main_target)
plt.show()

# %% [markdown]
# The claim "carry over to query languages other than the intervention-target language"
# is tested on the mean change over all pairs in which neither language is the target,
# per target, with a paired interval over the aligned queries.

# %% tags=["hide-input"]
xl.summary_cells(summary[summary["part"] == "other queries"])

# %% tags=["hide-input"] mystnb={"figure": {"caption": "Ours (not in the paper): the change of mean top-1 accuracy per target with the target as query (left, Fig. 4's pairs) and over the pairs without the target (right, Fig. 5's), by inner product (filled) and cosine (hollow), 95 % intervals over queries; grey where neither pre nor post accuracy is above chance (no verdict).", "name": "fig-retrieval-summary"}, "image": {"alt": "Change of mean top-1 accuracy per target, for target-as-query and other-query pairs, inner product and cosine."}}
summary_plot = summary.reset_index().assign(
    testable=lambda f: f["pre_above_chance"] | f["post_above_chance"]
)
fig = change_summary_figure(
    summary_plot, title=f"{cfg.name}: change of mean top-1 accuracy (k = {cfg.k})"
)
save_figure(fig, cfg, "retrieval_summary")
plt.show()

# %% [markdown]
# ## Deviations from the paper in this chapter
#
# - **Candidates**: {glue:md}`retrieval_n` evaluation sentences of the config instead of
#   Flores-200 devtest's {paper}`1012`; fewer candidates make retrieval easier, so
#   absolute accuracies are not comparable with the paper's, only their changes.
# - **Languages**: {glue:md}`retrieval_n_languages` of the paper's {paper}`22`
#   ({glue:md}`retrieval_languages`). {glue:md}`retrieval_seen_note`
# - **Cosine beside the inner product**: every claim is assessed with both scores; the
#   paper uses the inner product only.

# %% tags=["hide-input"]
unknown = xl.seen_unknown(seen)
glue_all(
    {
        "retrieval_n_languages": fmt(len(pre), "int"),
        "retrieval_languages": ", ".join(pre),
        "retrieval_seen_note": (
            "Which languages the model saw in pre-training is unknown, so no language is "
            "marked red, all enter Table 2, and the claim that seen languages gain more is "
            "not testable."
            if unknown
            else "Languages unseen in pre-training are marked red and left out of Table 2, "
            "as in the paper."
        ),
    }
)
show_warnings()

# %% tags=["hide-input"]
change = {
    a.key: fmt_ci(a.summary, "pp", sign=True) for a in assessments if a.summary
}
glue_all(
    {
        **scorecard.chapter_glue(cfg, "crosslingual_retrieval", "retrieval"),
        "retrieval_tq_ip": change["retrieval.target_query [inner product]"],
        "retrieval_tq_cos": change["retrieval.target_query [cosine]"],
        "retrieval_oq_ip": change["retrieval.other_queries [inner product]"],
        "retrieval_oq_cos": change["retrieval.other_queries [cosine]"],
    }
)

# %% [markdown]
# ## Gallery: every target
#
# Target-as-query accuracies (the paper's App. E) and Δ-accuracy heatmaps (App. F) for
# the other targets, drawn as {numref}`fig-retrieval-main` and
# {numref}`fig-retrieval-delta-main`; the target is named in each title.

# %% tags=["hide-input"]
for target in cfg.targets:
    if target != main_target:
        show_gallery_figure(
            bars(target),
            name=f"fig-retrieval-query-{target}",
            caption=f"The paper's App. E (Figs. 21–23) on this run, queries in **{target}**: "
            "top-1 retrieval pre and post the intervention on the same target, by inner "
            "product and cosine, with chance (dashed).",
            alt=f"Bar charts of top-1 retrieval per candidate language, queries in {target}.",
        )

# %% tags=["hide-input"]
for target in cfg.targets:
    if target != main_target:
        show_gallery_figure(
            heatmap(target),
            name=f"fig-retrieval-delta-{target}",
            caption=f"The paper's App. F (Figs. 24–26) on this run, intervention on **{target}**: "
            "change of top-1 accuracy for every query × candidate pair, on the colour scales "
            "of the main heatmap.",
            alt=f"Heatmaps of the change in top-1 accuracy, intervention on {target}.",
        )

# %% [markdown]
# ## Exercises
#
# :::{exercise}
# :label: ex-retrieval-norms
# (medium) Cosine and the inner product disagree most on some candidate languages. For
# the main target, which candidates gain most by cosine but not by inner product, and
# how do the embedding norms change under the intervention?
# :::
#
# ```{solution-start} ex-retrieval-norms
# :class: dropdown
# ```

# %%
change = accuracy[
    (accuracy["target"] == main_target) & (accuracy["condition"] == "post − pre")
]
by_score = change.pivot(index="candidate", columns="score", values="value")


def mean_norm(space: dict) -> dict:
    return {
        lang: float(np.linalg.norm(x, axis=1).mean()) for lang, x in space.items()
    }


norms = pd.DataFrame({"pre": mean_norm(pre), "post": mean_norm(post[main_target])})
by_score.join(norms).sort_values("cosine", ascending=False).head().round(3)

# %% [markdown]
# The inner product ranks candidates by size as much as by direction, and the
# intervention changes the sizes (compare the norm columns): its gains mix a change of
# scale with the change of direction that cosine isolates.
#
# ```{solution-end}
# ```
#
# :::{exercise}
# :label: ex-retrieval-script
# (medium) Restrict Table 2 (by cosine) to candidates written in the same script as
# their target. Do the correlations hold, and how wide are the intervals?
# :::
#
# ```{solution-start} ex-retrieval-script
# :class: dropdown
# ```

# %% tags=["hide-input"]
from steerspace.data.languages import LANGUAGES

same_script = {t: f.loc[[c for c in f.index if LANGUAGES[c].script == LANGUAGES[t].script]]
               for t, f in kept["cosine"].items()}  # fmt: skip
same_script = {t: f for t, f in same_script.items() if len(f) >= 4}
script_table = xl.table2_checked(same_script, flags["cosine"], chance)
xl.table2_cells(script_table.assign(score="cosine"), "same script")

# %% [markdown]
# Targets with fewer than four candidates in their script are left out (Japanese has
# none). Compare the intervals with those of the full table: fewer candidate languages
# make them wider, and distances within one script vary less.
#
# ```{solution-end}
# ```

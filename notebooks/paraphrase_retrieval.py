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
# (chapter-paraphrase)=
# # Paraphrase retrieval: is the new space still a space of meaning?
#
# :::{admonition} Result
# :class: important
# {glue:md}`paraphrase_result`
#
# ```{glue:md} paraphrase_claims_top
# :format: myst
# ```
# :::
#
# *Paper §6, Tables 3 and 5 (App. D).* Cross-lingual retrieval changes after the
# intervention ({ref}`chapter-retrieval`), but has the *within-language* structure
# survived? The paper retrieves a sentence's paraphrase among all candidates of the
# same language, with three pairings of spaces:
#
# - **pre**: queries and candidates from the original model;
# - **post**: both from the intervened model;
# - **mixed**: queries from the original model, candidates from the intervened one.
#
# In its own words:
#
# > First, the top-1 paraphrase retrieval accuracy remains largely unchanged after the
# > intervention (see Table 3), indicating that the new embedding space preserves
# > within-language similarity. Second, when attempting retrieval between intervened and
# > unintervened embeddings of the same language — i.e., using the embeddings from the
# > unintervened model as the query and the embeddings from the intervened model as
# > candidate matches — accuracy drops significantly.
#
# For Spanish, pre → post → mixed: Bloom-7B {paper}`0.80 → 0.80 → 0.33`, Aya-8B
# {paper}`0.85 → 0.86 → 0.64`, PolyLM-13B {paper}`0.52 → 0.56 → 0.41` (Table 3).
# Both claims are tested with the paper's inner product and with cosine similarity, and
# only where the accuracy before the intervention is significantly above chance: an
# accuracy at chance has nothing to keep and nothing to lose.

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
overrides = {}  # any config key, e.g. {"pawsx_dir": "/data/paws-x/x-final"}

# %% tags=["hide-input"]
import matplotlib.pyplot as plt
import numpy as np
import pandas as pd
from IPython.display import Markdown, display

from steerspace import claims
from steerspace.analyses import paraphrase_retrieval as para
from steerspace.analyses.choice_of_k import rule_k
from steerspace.book.chapter import chapter_header, setup_chapter, show_warnings
from steerspace.claims import SCORES, scorecard
from steerspace.claims.evidence import SHARE
from steerspace.data.bible import readable_source
from steerspace.data.paper import paper_table
from steerspace.figures.paraphrase_retrieval import paraphrase_figure
from steerspace.figures.style import save_figure
from steerspace.metrics.retrieval import VARIANT_SCORES, top1_hits
from steerspace.text.format import fmt, fmt_ci, glue_all

cfg, pipe = setup_chapter(config, overrides)
display(Markdown(chapter_header(cfg, "paraphrase_retrieval", {"k": 200})))

# %% [markdown]
# ## The paraphrase pools
#
# The paper uses the paraphrase pairs of the PAWS-X test split {cite}`yang2019pawsx`.
# Without a PAWS-X directory, a pair is the same verse in two different Bible
# translations of one language (for example the World English Bible and the King James
# Bible, edition KJ2000, for English): a looser, natural paraphrase. Only verses not used for finding
# experts are drawn. A language with a single Bible translation (Japanese) has no pool.
# Chance is one over the pool size.

# %% tags=["hide-input"]
pools, missing = {}, {}
for target in cfg.targets:
    try:
        pools[target] = pipe.paraphrase_pairs(target)
    except ValueError as err:
        missing[target] = str(err)
glue_all(
    {
        "paraphrase_missing": "; ".join(f"**{t}**: {e}" for t, e in missing.items())
        or "none"
    }
)
pd.DataFrame(
    {
        "pairs": [fmt(len(p), "int") for p in pools.values()],
        "chance": [fmt(1 / len(p), "acc") for p in pools.values()],
        "source": [readable_source(p.source) for p in pools.values()],
    },
    index=pd.Index(list(pools), name="language"),
)

# %% [markdown]
# Targets without a pool: {glue:md}`paraphrase_missing`.
#
# (paraphrase-table)=
# ## Pre, post and mixed top-1 accuracy (Tables 3 and 5)
#
# For each language with a pool, the intervention is that language's own (as in the
# paper: the Spanish intervention is evaluated on Spanish paraphrases). Each accuracy
# has a 95 % interval over the pool's queries; the changes post − pre and mixed − pre
# are paired over the same queries; "(at chance)" marks an accuracy that is not
# significantly above chance.


# %% tags=["hide-input"]
def pool_hits(k: int) -> dict:
    """score variant → language → pre/post/mixed hits under the language's own top-k."""
    return {
        v: {lang: pipe.paraphrase_hits(lang, pipe.intervention(lang, k=k), score=VARIANT_SCORES[v])
            for lang in pools}
        for v in SCORES
    }  # fmt: skip


hits = pool_hits(cfg.k)
table = pd.concat(
    para.paraphrase_table(hits[v], score=v, n_boot=cfg.n_boot, seed=cfg.seed)
    for v in SCORES
)
pipe.write_table(table.round(5), "paraphrase")
para.paraphrase_cells(table)

# %% [markdown]
# The paper's Tables 3 and 5, as printed (PAWS-X, inner product, pools of about two
# thousand pairs per language):

# %% tags=["hide-input"]
paper = pd.concat(
    [paper_table("table3_paraphrase_es"), paper_table("table5_paraphrase")]
)
paper.pivot_table(
    index="language", columns="model", values=["pre", "post", "mixed"], sort=False
)

# %% tags=["hide-input"] mystnb={"figure": {"caption": "The paper's Tables 3 and 5 as a figure: top-1 paraphrase retrieval in each language's pool under that language's own intervention, by inner product (top, the paper's score) and cosine (bottom). Pre: queries and candidates from the original model; post: both intervened; mixed: queries original, candidates intervened. 95 % intervals over queries; the dashed red line is chance (one over the pool size); axes are scaled to the data.", "name": "fig-paraphrase"}, "image": {"alt": "Bar charts of paraphrase top-1 accuracy per language, pre, post and mixed, for inner product and cosine, with a chance line."}}
fig = paraphrase_figure(
    table,
    title=f"{cfg.name}: paraphrase retrieval, each language's own intervention (k = {cfg.k})",
)
save_figure(fig, cfg, "paraphrase")
plt.show()

# %% [markdown]
# ## The paper's claims, tested
#
# - **Largely unchanged** is an *equivalence* claim: per language, the paired interval
#   of post − pre must lie inside a band of ± {glue:md}`paraphrase_share` of pre's
#   accuracy above chance (post keeps at least the rest of what pre has above chance,
#   and gains no more than that). A change whose interval lies wholly outside the band
#   contradicts it; one that crosses the band's edge is undecided. A fixed margin in
#   points would be vacuous here: where pre is close to chance, no change can exceed it.
# - **Drops significantly**: per language, the paired interval of mixed − pre must lie
#   below zero; a drop needs pre above chance, else there is nothing to lose.
#
# A language whose pre accuracy is not significantly above chance is not testable. The
# verdicts at k = {glue:md}`paraphrase_rule_k` (the choice-of-k rule's) are computed the
# same way and shown on the scorecard.

# %% tags=["hide-input"]
k_rule = rule_k(pipe)
assessments = para.assessments(hits, n_boot=cfg.n_boot, seed=cfg.seed)
at_rule_k = para.assessments(pool_hits(k_rule), n_boot=cfg.n_boot, seed=cfg.seed)
scorecard.record(assessments, cfg, at_rule_k=(k_rule, at_rule_k))
glue_all(
    {"paraphrase_share": fmt(SHARE, "pct"), "paraphrase_rule_k": fmt(k_rule, "int")}
)
claims.units_table(assessments)

# %% [markdown]
# ## Deviations from the paper in this chapter
#
# - **Data**: {glue:md}`paraphrase_source`; translations of one verse differ more in
#   wording than PAWS-X paraphrases, and PAWS-X has adversarial non-paraphrases that are
#   absent here.
# - **Pool size**: {glue:md}`paraphrase_pool_note`; the paper's PAWS-X pools are larger,
#   so absolute accuracies are not comparable, only the differences between pre, post
#   and mixed.
# - **Cosine beside the inner product**: both claims are assessed with both scores; the
#   paper uses the inner product only.

# %% tags=["hide-input"]
sizes = sorted({len(p) for p in pools.values()})
glue_all(
    {
        "paraphrase_source": "PAWS-X test pairs" if cfg.pawsx_dir else "pairs of Bible translations instead of PAWS-X (set `pawsx_dir` to use PAWS-X)",
        "paraphrase_pool_note": f"{' to '.join(fmt(n, 'int') for n in sizes)} pairs per language (chance {fmt(1 / sizes[-1], 'acc')})" if sizes else "no pool",
    }
)  # fmt: skip
show_warnings()

# %% tags=["hide-input"]
verdict = {a.key: a for a in assessments}


def change_text(claim_id: str) -> str:
    return " and ".join(
        f"{fmt_ci(verdict[f'{claim_id} [{v}]'].summary, 'pp', sign=True)} by {v}"
        for v in SCORES
    )


glue_all(
    {
        **scorecard.chapter_glue(cfg, "paraphrase_retrieval", "paraphrase"),
        "paraphrase_result": (
            f"Over the {fmt(len(pools), 'int')} languages with a paraphrase pool, post − pre top-1 accuracy "
            f"is {change_text('paraphrase.preserved')}, and mixed − pre is {change_text('paraphrase.mixed_drops')} "
            f"(95 % intervals over queries; chance {fmt(1 / sizes[-1], 'acc') if sizes else 'n/a'})."
        ),
    }
)  # fmt: skip

# %% [markdown]
# ## Exercises
#
# :::{exercise}
# :label: ex-paraphrase-reverse
# (easy) Score the mixed setting the other way round: queries from the intervened model,
# candidates from the original one. Is mixed retrieval symmetric?
# :::
#
# ```{solution-start} ex-paraphrase-reverse
# :class: dropdown
# ```

# %%
language = cfg.main_target if cfg.main_target in pools else next(iter(pools))
emb = para.pool_embeddings(pipe, language, pipe.intervention(language))
reverse = {
    v: top1_hits(
        emb["queries post"], emb["candidates pre"], score=VARIANT_SCORES[v]
    ).mean()
    for v in SCORES
}
mixed = {v: hits[v][language]["mixed"].mean() for v in SCORES}
glue_all(
    {
        "paraphrase_ex_reverse": "; ".join(
            f"{v}: {fmt(reverse[v], 'acc')} reversed, "
            f"{fmt(mixed[v], 'acc')} as in the paper"
            for v in SCORES
        )
    }
)

# %% [markdown]
# Mixed top-1 accuracy in the main pool, {glue:md}`paraphrase_ex_reverse`. The
# embeddings come from the cache (same sentences, same intervention). Top-1 retrieval is
# not symmetric: each query picks its best candidate, and which space holds the queries
# changes which candidates are hubs.
#
# ```{solution-end}
# ```
#
# :::{exercise}
# :label: ex-paraphrase-pool
# (medium) How does top-1 paraphrase accuracy depend on the size of the pool? Draw
# smaller pools from the cached embeddings and compare each accuracy with its chance.
# :::
#
# ```{solution-start} ex-paraphrase-pool
# :class: dropdown
# ```

# %% tags=["hide-input"]
rng = np.random.default_rng(cfg.seed)
rows = []
for size in sorted({max(2, len(emb["queries pre"]) // d) for d in (8, 4, 2, 1)}):
    pick = rng.choice(len(emb["queries pre"]), size=size, replace=False)
    row = {"pool size": size, "chance": fmt(1 / size, "acc")}
    for name, (q, c) in {
        "pre": ("queries pre", "candidates pre"),
        "post": ("queries post", "candidates post"),
    }.items():
        row[f"{name} (cosine)"] = fmt(
            top1_hits(emb[q][pick], emb[c][pick], score="cosine").mean(), "acc"
        )
    rows.append(row)
pd.DataFrame(rows).set_index("pool size")

# %% [markdown]
# A smaller pool has fewer distractors, so accuracy and chance both rise: compare
# accuracies across pools only relative to their chance level, which is why the
# paper's pools and ours cannot be compared in absolute terms.
#
# ```{solution-end}
# ```
#
# :::{exercise}
# :label: ex-paraphrase-same
# (medium) Does the intervened model find the paraphrases of the *same* queries as the
# original one? Cross-tabulate the hits pre and post (by cosine) in the main pool.
# :::
#
# ```{solution-start} ex-paraphrase-same
# :class: dropdown
# ```

# %% tags=["hide-input"]
h = hits["cosine"][language]
pd.crosstab(
    pd.Series(h["pre"], name="hit pre"), pd.Series(h["post"], name="hit post")
)

# %% [markdown]
# Most weight on the diagonal means the intervened space keeps the original's
# neighbourhoods; many queries that switch from hit to miss and back would mean the
# accuracies agree while the spaces do not.
#
# ```{solution-end}
# ```

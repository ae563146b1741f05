"""The course guide: a teacher's plan for the book, and how long each chapter runs.

The plan is data: per chapter (keyed by its file name in ``notebooks/`` and ``book/``)
the paper's sections it covers, the class minutes a teacher might give it and its
learning goals (:data:`PLAN`); the sessions, each a list of chapter names
(:data:`SESSIONS`). Minutes are a suggestion, not a measurement. The course guide page
(``notebooks/course_guide.py``) renders the plan with :func:`chapter_table` and
:func:`sessions_markdown`: chapter numbers come from the book's ``_toc.yml`` (as
jupyter-book numbers them), run times from ``bench/results/book.json`` (written by
``python bench/book.py``), or "not measured" where that file is missing.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import yaml

from steerspace.infra.bench_results import find_repository, load_benchmark, results_directory
from steerspace.text.format import fmt
from steerspace.book.structure import PAGES, chapters

#: The benchmark that times every chapter, and the command that writes it.
BOOK_BENCHMARK = "book.json"
BOOK_BENCHMARK_COMMAND = "python bench/book.py"
#: the classroom benchmark as students' CPUs mostly run it (bfloat16 hidden: float32),
#: else as measured on a CPU with bfloat16
CLASSROOM_BENCHMARKS = ("classroom-no-bf16.json", "classroom.json")
CLASSROOM_BENCHMARK_COMMAND = "python bench/classroom.py --no-bf16"
DTYPE_BENCHMARK = "dtype.json"
DTYPE_BENCHMARK_COMMAND = "python bench/dtype.py"
NOT_MEASURED = "not measured"
#: what the guide writes for a number it does not have (as ``fmt`` writes NaN)
NA = "n/a"


@dataclass(frozen=True)
class ChapterPlan:
    """One chapter of the course: what of the paper it covers, the class minutes a
    teacher might give it (reading, discussion, exercises) and its learning goals."""

    chapter: str
    paper: str
    minutes: int
    goals: str


@dataclass(frozen=True)
class Session:
    """One class session: a title, its chapters (file names), a note for the teacher."""

    title: str
    chapters: tuple[str, ...]
    note: str
    optional: bool = False


_PLAN = (
    ChapterPlan(
        "languages_and_data",
        "App. A",
        30,
        "what a multi-parallel corpus is; tokenizer fertility across scripts; why the split "
        "into expert / evaluation / held-out sentences matters",
    ),
    ChapterPlan(
        "finding_experts",
        "§3.2–3.3",
        60,
        "AUROC of a single unit as a language detector; where in the network language "
        "identity is readable; what the intervention sets",
    ),
    ChapterPlan(
        "choice_of_k",
        "§3.3, App. B",
        45,
        "steering free generation; the trade-off between steering and perplexity; making a "
        "choice rule explicit",
    ),
    ChapterPlan(
        "embedding_space",
        "§4, App. C",
        60,
        "sentence embeddings by mean pooling; cosine distances, medoids; reading UMAP for "
        "neighbourhoods, not distances",
    ),
    ChapterPlan(
        "crosslingual_retrieval",
        "§5, App. E–F",
        60,
        "top-1 retrieval as a test of alignment; inner product vs cosine; correlation with "
        "bootstrap intervals",
    ),
    ChapterPlan(
        "paraphrase_retrieval",
        "§6, App. D",
        30,
        'whether the new space keeps meaning; the "mixed" test for a *different* space',
    ),
    ChapterPlan(
        "random_control",
        "§7, App. G",
        45,
        "why a control is needed; random units vs experts",
    ),
    ChapterPlan(
        "tatoeba_bucc",
        "App. H",
        30,
        "checking a claim on independent data; domain shift between expert data and test data",
    ),
    ChapterPlan(
        "baselines",
        "beyond",
        45,
        "anisotropy; what centering and removing dominant directions do; separating a "
        "shift from an alignment",
    ),
    ChapterPlan(
        "beyond_the_paper",
        "beyond",
        60,
        "reading every layer; ABX as a training-free probe of form vs meaning; "
        "dose–response curves",
    ),
    ChapterPlan(
        "performance",
        "App. I",
        20,
        "benchmarking honestly; FLOP counts and a cost model",
    ),
)
#: The plan of every chapter, by chapter file name.
PLAN: dict[str, ChapterPlan] = {p.chapter: p for p in _PLAN}

#: The sessions of the course, in order; together they hold every chapter once.
SESSIONS: tuple[Session, ...] = (
    Session(
        "Languages and experts",
        ("languages_and_data", "finding_experts"),
        "Finish in class with {ref}`experts-pooling`: what changes when the experts are "
        "chosen by max instead of mean pooling?",
    ),
    Session(
        "Steering and its price",
        ("choice_of_k",),
        "Discuss the rule for k before showing it.",
    ),
    Session(
        "The new space",
        ("embedding_space",),
        "Ask for predictions before showing Table 1.",
    ),
    Session(
        "Does alignment help?",
        ("crosslingual_retrieval", "paraphrase_retrieval", "baselines"),
        "The inner product / cosine comparison and the baselines are a good discussion of "
        "how a metric can hide or reveal an effect.",
    ),
    Session(
        "Controls and independent data",
        ("random_control", "tatoeba_bucc"),
        "Then a discussion of what the small model does and does not reproduce (the "
        "deviations in each chapter, and the {doc}`scorecard`).",
    ),
    Session(
        "Beyond the paper",
        ("beyond_the_paper", "performance"),
        "Layers, ABX, dose–response, and what all of this costs at paper scale.",
        optional=True,
    ),
)


# --- the book's chapters and their numbers ---------------------------------------------


def course_chapters(root: str | Path) -> list[str]:
    """The chapters of the book (notebooks that are not :data:`steerspace.book.structure.PAGES`), in
    book order."""
    return [n for n in chapters(Path(root)) if n not in PAGES]


def chapter_numbers(root: str | Path) -> dict[str, int | None]:
    """Every ``file:`` of ``_toc.yml`` by name → its chapter number as jupyter-book
    writes it (numbered parts count on from each other, as ``use_multitoc_numbering``
    does by default), or ``None`` for a file outside the numbered parts."""
    toc = yaml.safe_load((Path(root) / "_toc.yml").read_text(encoding="utf-8"))
    numbers: dict[str, int | None] = {Path(toc["root"]).name: None}
    count = 0
    for part in toc.get("parts", []):
        for entry in part.get("chapters", []):
            if "file" not in entry:
                continue
            if part.get("numbered"):
                count += 1
                numbers[Path(entry["file"]).name] = count
            else:
                numbers[Path(entry["file"]).name] = None
    for entry in toc.get("chapters", []):  # a toc without parts
        if "file" in entry:
            numbers[Path(entry["file"]).name] = None
    return numbers


def plan_for(root: str | Path) -> list[ChapterPlan]:
    """The plan of every chapter of the book, in book order.

    Raises ``ValueError`` for a chapter without a plan, or a planned or scheduled chapter
    that the book does not have (the plan must follow the book).
    """
    names = course_chapters(root)
    unplanned = [n for n in names if n not in PLAN]
    if unplanned:
        raise ValueError(f"chapters without a course plan (steerspace.book.course.PLAN): {unplanned}")
    extra = sorted(set(PLAN) - set(names))
    if extra:
        raise ValueError(f"planned chapters that are not in the book: {extra}")
    scheduled = [c for s in SESSIONS for c in s.chapters]
    if sorted(scheduled) != sorted(names):
        raise ValueError(
            "the sessions (steerspace.book.course.SESSIONS) must hold every chapter once; "
            f"they hold {scheduled}, the book has {names}"
        )
    return [PLAN[n] for n in names]


# --- the benchmarks ---------------------------------------------------------------------


def bench_results(root: str | Path) -> Path | None:
    """The folder of the benchmark results for the repository at ``root`` (normally the
    working directory under papermill): see :mod:`steerspace.infra.bench_results`."""
    return results_directory(find_repository(root))


def duration(seconds: float | None) -> str:
    """A run time as the guide writes it: seconds below two minutes, else minutes."""
    if seconds is None:
        return NOT_MEASURED
    return fmt(seconds, "s") if seconds < 120 else fmt(seconds, "min")


def chapter_seconds(book: dict[str, Any] | None, run: str, chapter: str) -> float | None:
    """Seconds ``chapter`` took in the ``run`` ("cold" or "warm") of the book benchmark."""
    if book is None:
        return None
    return book.get("runs", {}).get(run, {}).get("chapters_s", {}).get(chapter)


def machine_label(bench: dict[str, Any] | None) -> str:
    """Where a benchmark ran, as a label: CPU, cores, memory, and whether the CPU has
    bfloat16 instructions (``avx512_bf16``), which decides what ``dtype: auto`` uses."""
    if bench is None or "machine" not in bench:
        return "an unrecorded machine"
    machine = bench["machine"]
    cores = machine.get("usable_cpus") or machine.get("logical_cpus")
    flags = machine.get("cpu_flags") or []
    parts = [f"{fmt(cores, 'int')} CPU cores" if cores else "an unrecorded number of cores"]
    if machine.get("memory_gb"):
        parts.append(f"{fmt(machine['memory_gb'], 'int')} GB of memory")
    parts.append(
        "with bfloat16 instructions (`avx512_bf16`)"
        if "avx512_bf16" in flags
        else "without bfloat16 instructions (no `avx512_bf16`)"
    )
    return f"{machine.get('cpu', 'an unrecorded CPU')}, " + ", ".join(parts)


def has_bf16(bench: dict[str, Any] | None) -> bool | None:
    """Whether the benchmark's CPU has ``avx512_bf16`` (``None`` if not recorded)."""
    if bench is None or "machine" not in bench:
        return None
    return "avx512_bf16" in (bench["machine"].get("cpu_flags") or [])


def warm_seconds(book: dict[str, Any] | None, chapter: str) -> float | None:
    """Seconds ``chapter`` took warm, executed again on the cached data (the book
    benchmark's re-executed warm run; its plain warm run where there is none, from
    before the chapter cache restored unchanged chapters)."""
    rerun = chapter_seconds(book, "warm_rerun", chapter)
    return rerun if rerun is not None else chapter_seconds(book, "warm", chapter)


def chapter_box(root: str | Path, chapter: str) -> str:
    """A chapter's box for the course (MyST Markdown): its learning goals and class
    minutes (:data:`PLAN`), and its cold and warm run time on the course guide's
    reference CPU (``bench/results/book.json``); empty for a chapter without a plan."""
    plan = PLAN.get(chapter)
    if plan is None:
        return ""
    book = load_benchmark(bench_results(root), "book.json")
    cold = duration(chapter_seconds(book, "cold", chapter))
    warm = duration(warm_seconds(book, chapter))
    return (
        ":::{admonition} For the course\n:class: note dropdown\n\n"
        f"**Learning goals** ({plan.minutes} min in class, paper {plan.paper}): {plan.goals}.\n\n"
        f"**Run time** on the course guide's reference CPU ({machine_label(book)}): {cold} "
        f"from an empty cache, {warm} executed again with the cache filled "
        "(see {doc}`course_guide`).\n:::"
    )


# --- rendering --------------------------------------------------------------------------


def _number(numbers: dict[str, int | None], name: str) -> str:
    number = numbers.get(name)
    return "—" if number is None else str(number)


def chapter_table(root: str | Path, book: dict[str, Any] | None) -> str:
    """The guide's table as MyST Markdown: one row per chapter, in book order, with its
    number, the paper's sections, the cold and warm run time of ``book`` (the JSON of
    ``bench/book.py``, or ``None``: "not measured"), the class minutes and the goals."""
    numbers = chapter_numbers(root)
    rows = [
        "| # | chapter | paper | cold run | warm run | class | learning goals |",
        "|---|---|---|---|---|---|---|",
    ]
    for plan in plan_for(root):
        cold = duration(chapter_seconds(book, "cold", plan.chapter))
        warm = duration(warm_seconds(book, plan.chapter))
        rows.append(
            f"| {_number(numbers, plan.chapter)} | {{doc}}`{plan.chapter}` | {plan.paper} "
            f"| {cold} | {warm} | {plan.minutes} min | {plan.goals} |"
        )
    return "\n".join(rows)


def _chapters_label(names: tuple[str, ...], numbers: dict[str, int | None]) -> str:
    numbered = sorted(numbers[n] for n in names if numbers.get(n) is not None)
    others = [f"{{doc}}`{n}`" for n in names if numbers.get(n) is None]
    words = []
    if numbered:
        if len(numbered) == 1:
            words.append(f"Chapter {numbered[0]}")
        elif numbered == list(range(numbered[0], numbered[-1] + 1)):
            words.append(f"Chapters {numbered[0]}–{numbered[-1]}")
        else:
            words.append("Chapters " + ", ".join(map(str, numbered[:-1])) + f" and {numbered[-1]}")
    return " and ".join(words + others)


def session_minutes(session: Session) -> int:
    """The class minutes of a session: the sum over its chapters."""
    return sum(PLAN[n].minutes for n in session.chapters)


def sessions_markdown(root: str | Path) -> str:
    """The sessions as a numbered MyST list: title, chapters (numbers from the toc),
    class minutes, the teacher's note."""
    plan_for(root)  # the sessions hold every chapter of the book
    numbers = chapter_numbers(root)
    lines = []
    for i, session in enumerate(SESSIONS, 1):
        optional = ", optional" if session.optional else ""
        lines.append(
            f"{i}. **{session.title}** ({_chapters_label(session.chapters, numbers)}; "
            f"{session_minutes(session)} min of class{optional}). {session.note}"
        )
    return "\n".join(lines)


def _number_word(n: int) -> str:
    words = ("no", "one", "two", "three", "four", "five", "six", "seven", "eight", "nine")
    return words[n] if 0 <= n < len(words) else fmt(n, "int")


def plan_values() -> dict[str, str]:
    """The course in numbers (glue keys without the guide's ``course_`` prefix): how
    many sessions (``sessions``, a word), the fewest and most class minutes of one
    (``min_minutes``, ``max_minutes``), all of them (``minutes``) and how many sessions
    are optional (``optional``, a word; "none" for none)."""
    minutes = [session_minutes(s) for s in SESSIONS]
    optional = sum(s.optional for s in SESSIONS)
    return {
        "sessions": _number_word(len(SESSIONS)),
        "min_minutes": fmt(min(minutes), "int"),
        "max_minutes": fmt(max(minutes), "int"),
        "minutes": fmt(sum(minutes), "int"),
        "optional": _number_word(optional) if optional else "none",
    }


def book_times_values(book: dict[str, Any] | None) -> dict[str, str]:
    """The whole-book times of the book benchmark and where they were measured (glue
    keys without the guide's ``course_`` prefix): its results file (``book_results``),
    config, machine (:func:`machine_label`), each run's cache and time, the fastest and
    slowest warm chapter and the date; :data:`NA` or "not measured" where it has not
    run."""
    if book is None:
        return {
            "book_results": f"none: it has not run here, no `bench/results/{BOOK_BENCHMARK}`",
            "book_config": NA,
            "book_machine": machine_label(None),
            "book_cold_cache": NA,
            "book_cold": NOT_MEASURED,
            "book_warm_cache": NA,
            "book_warm": NOT_MEASURED,
            "book_warm_min": NOT_MEASURED,
            "book_warm_max": NOT_MEASURED,
            "book_date": NA,
        }
    runs = book.get("runs", {})
    warm = runs.get("warm", {}).get("chapters_s", {})
    return {
        "book_results": f"`bench/results/{BOOK_BENCHMARK}`",
        "book_config": f"`{book.get('config', '?')}`",
        "book_machine": machine_label(book),
        "book_cold_cache": book.get("cold_cache", "an empty cache"),
        "book_cold": duration(runs.get("cold", {}).get("wall_s")),
        "book_warm_cache": book.get("warm_cache", "the cache of the cold run"),
        "book_warm": duration(runs.get("warm", {}).get("wall_s")),
        "book_warm_min": duration(min(warm.values())) if warm else NOT_MEASURED,
        "book_warm_max": duration(max(warm.values())) if warm else NOT_MEASURED,
        "book_date": str(book.get("written_utc", ""))[:10] or NA,
    }


def load_classroom(results: Path | None) -> dict[str, Any] | None:
    """The first of :data:`CLASSROOM_BENCHMARKS` in ``results`` (``None`` if none)."""
    from steerspace.infra.bench_results import load_benchmark

    for name in CLASSROOM_BENCHMARKS:
        if (found := load_benchmark(results, name)) is not None:
            return found
    return None


#: Whether the book offers Binder, by whether every classroom chapter fits its memory in
#: float32 (tests/test_publishing.py ties the button in ``_config.yml`` to the same test).
BINDER_TEXT = {
    True: "So every chapter fits a mybinder.org session: the rocket at the top of each "
    'chapter opens it on Binder too (set `config = "classroom"` in its parameters cell, '
    "and run one chapter at a time: JupyterLab's server holds about 0.1 GB beside it).",
    False: "So the book has no Binder button (`.binder/` builds an image for a BinderHub "
    "that gives more memory).",
}


def classroom_dtype(no_bf16: bool, cpu_bf16: bool | None) -> str:
    """The dtype the classroom benchmark ran in, in words: float32 where it ran with
    ``--no-bf16`` (with the CPU's bfloat16 instructions hidden from PyTorch where it has
    any: the machine's label already says where it has none), else what ``dtype: auto``
    chose."""
    if not no_bf16:
        return "the dtype `auto` chose on a CPU with bfloat16"
    if cpu_bf16 is False:
        return "float32"
    return "float32, with the CPU's bfloat16 instructions hidden from PyTorch"


def classroom_values(classroom: dict[str, Any] | None) -> dict[str, str]:
    """What ``bench/classroom.py`` measured (each chapter alone, from an empty cache, on
    the ``classroom`` config, in float32 where it ran with ``--no-bf16``), as values
    (glue keys without the guide's ``course_`` prefix): the command and its results
    file (``cls_command``, ``cls_results``), the machine (``cls_machine``), the dtype it ran in (``cls_dtype``), the
    chapters measured, the slowest and its time, the kernel's peak memory, how many
    chapters stay within the memory target and which do not (``cls_over``, "none"),
    and the peak beside ``steerspace book``'s runner, and whether the book offers Binder
    (``cls_binder``: only where every chapter fits its memory); :data:`NA` where it has
    not run."""
    keys = ("cls_chapters", "cls_slowest", "cls_slowest_time", "cls_kernel", "cls_within",
            "cls_limit", "cls_over", "cls_tree")  # fmt: skip
    if classroom is None or not classroom.get("chapters"):
        return {
            "cls_command": f"`{CLASSROOM_BENCHMARK_COMMAND}`",
            "cls_results": f"none: it has not run here, no `bench/results/{CLASSROOM_BENCHMARKS[0]}`",
            "cls_machine": NA,
            "cls_dtype": NA,
            "cls_binder": BINDER_TEXT[False],
        } | dict.fromkeys(keys, NA)
    results = classroom["chapters"]
    slowest = max(results, key=lambda n: results[n]["seconds"])
    no_bf16 = classroom.get("benchmark") == "classroom-no-bf16"
    limit = classroom["targets"]["peak_rss_bytes"]  # bench/classroom.py writes it
    over = [n for n, r in results.items() if r["peak_kernel_rss_bytes"] >= limit]
    return {
        "cls_command": "`python bench/classroom.py" + (" --no-bf16`" if no_bf16 else "`"),
        "cls_results": f"`bench/results/{classroom.get('benchmark', 'classroom')}.json`",
        "cls_machine": machine_label(classroom),
        "cls_dtype": classroom_dtype(no_bf16, has_bf16(classroom)),
        "cls_chapters": fmt(len(results), "int"),
        "cls_slowest": f"{{doc}}`{slowest}`",
        "cls_slowest_time": duration(results[slowest]["seconds"]),
        "cls_kernel": fmt(classroom["peak_kernel_rss_bytes"], "gb"),
        "cls_within": fmt(len(results) - len(over), "int"),
        "cls_limit": fmt(limit, "gb"),
        "cls_over": ", ".join(f"{{doc}}`{n}`" for n in over) or "none",
        "cls_tree": fmt(classroom["peak_tree_rss_bytes"], "gb"),
        "cls_binder": BINDER_TEXT[no_bf16 and not over],
    }


def classroom_size_values(
    classroom: Any, default: Any, names: dict[str, str] | None = None
) -> dict[str, str]:
    """How small the ``classroom`` config is, against the default config (two
    :class:`~steerspace.config.Config`), as values (glue keys without the guide's
    ``course_`` prefix): each config's targets (a word; the classroom's by name),
    evaluation languages, and expert and evaluation sentences per language."""
    names = names or {}

    def languages(cfg: Any) -> str:
        return fmt(len(cfg.languages), "int") if cfg.languages else "all that the corpus has"

    return {
        "size_targets": _number_word(len(classroom.targets)),
        "size_target_names": ", ".join(names.get(t, t) for t in classroom.targets),
        "size_default_targets": _number_word(len(default.targets)),
        "size_languages": languages(classroom),
        "size_default_languages": languages(default),
        "size_expert": fmt(classroom.n_expert_sentences, "int"),
        "size_eval": fmt(classroom.n_eval_sentences, "int"),
        "size_default_expert": fmt(default.n_expert_sentences, "int"),
        "size_default_eval": fmt(default.n_eval_sentences, "int"),
    }


def _cosine(x: float) -> str:
    """A cosine near 1 with enough decimals to show how near (0.99999, 0.9994)."""
    gap = 1.0 - float(x)
    decimals = 3 if gap <= 0 else max(3, math.floor(-math.log10(gap)) + 1)
    return f"{x:.{decimals}f}"


def dtype_values(dtype: dict[str, Any] | None, names: dict[str, str] | None = None) -> dict[str, str]:
    """How much float32 and bfloat16 results differ, from ``bench/dtype.py``'s JSON, as
    values (glue keys without the guide's ``course_`` prefix): its results file, the
    subset it ran on (config, sentences, targets by name, machine), the overlap of the
    top-k experts and the largest AUROC difference, the embeddings' cosine between the
    dtypes before and after the intervention (mean and least), and the largest
    difference of Table 1's distances and of top-1 accuracy; :data:`NA` where it has not
    run."""
    keys = ("dtype_config", "dtype_n_expert", "dtype_targets", "dtype_n_eval", "dtype_machine",
            "dtype_k", "dtype_overlap", "dtype_auroc", "dtype_cos_pre", "dtype_cos_pre_min",
            "dtype_cos_post", "dtype_cos_post_min", "dtype_table1", "dtype_retrieval")  # fmt: skip
    if dtype is None:
        return {
            "dtype_results": f"none: it has not run here, no `bench/results/{DTYPE_BENCHMARK}`"
        } | dict.fromkeys(keys, NA)
    names = names or {}
    targets = [names.get(t, t) for t in dtype.get("targets", [])]
    experts = dtype.get("experts", {})
    overlaps = [e["top_k_overlap"] for e in experts.values()]
    auroc = max((e["max_abs_auroc_diff"] for e in experts.values()), default=float("nan"))
    cos = dtype.get("embedding_cosine", {})
    overlap = (
        fmt(min(overlaps), "pct")
        if min(overlaps) == max(overlaps)
        else f"{fmt(min(overlaps), 'pct', unit=False)}–{fmt(max(overlaps), 'pct')}"
    )
    return {
        "dtype_results": f"`bench/results/{DTYPE_BENCHMARK}`",
        "dtype_config": f"`{dtype.get('config', '?')}`",
        "dtype_n_expert": fmt(dtype["n_expert_sentences"], "int"),
        "dtype_targets": " and ".join(targets),
        "dtype_n_eval": fmt(dtype["n_eval_sentences"], "int"),
        "dtype_machine": machine_label(dtype),
        "dtype_k": fmt(dtype["k"], "int"),
        "dtype_overlap": overlap,
        "dtype_auroc": f"{auroc:.3f}",
        "dtype_cos_pre": _cosine(cos["pre"]["mean"]),
        "dtype_cos_pre_min": _cosine(cos["pre"]["min"]),
        "dtype_cos_post": _cosine(cos["post"]["mean"]),
        "dtype_cos_post_min": _cosine(cos["post"]["min"]),
        "dtype_table1": f"{dtype['table1_max_abs_diff']:.4f}",
        "dtype_retrieval": fmt(dtype["retrieval_max_abs_diff"], "acc"),
    }

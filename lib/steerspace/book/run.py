"""Execute the chapters with papermill and build the book (CLI: ``steerspace book``).

The chapter sources are jupytext percent files in ``notebooks/``; the book's table of
contents (``_toc.yml``) decides which run and in what order: every ``book/<name>``
entry with a ``notebooks/<name>.py`` source is executed into ``book/<name>.ipynb``
with the chosen config and parameters. ``jupyter-book build`` then renders the
executed notebooks as they are (execution is off in ``_config.yml``).

Runs never overwrite each other: the default config without overrides writes the
committed book (``book/``, ``results/<name>/``); any other run writes its own folder,
``runs/<run name>/`` (or ``--out``), with its executed notebooks, results and HTML.
Every run writes ``manifest.json`` next to its results (:mod:`steerspace.infra.manifest`).
"""

from __future__ import annotations

import argparse
import contextlib
import os
import re
import shutil
import signal
import subprocess
import sys
import tempfile
import time
from collections.abc import Mapping
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any

import yaml

from steerspace.infra import ledger
from steerspace.infra.cache import atomic_write, key_hash
from steerspace.infra.chapter_cache import ENV_VAR as OUTPUTS_VAR
from steerspace.infra.chapter_cache import ChapterCache, cacheable, chapter_key, outputs_listed
from steerspace.config import load_config
from steerspace.book.pdf import print_pdf
from steerspace.book.edition import EDITIONS, build_student_edition
from steerspace.book.structure import (
    default_out,
    run_name,
    DEFAULT_CONFIG,
    SUMMARY_PAGES,
    build_book,
    chapters,
    copy_book_pages,
    partial_toc,
    toc_files,
)
from steerspace.infra.manifest import record_run, relative_to, run_manifest, utc_now
from steerspace.infra.progress import forward_progress

#: Environment variables that cap a kernel's CPU threads (OpenMP, MKL, OpenBLAS).
THREAD_VARIABLES = ("OMP_NUM_THREADS", "MKL_NUM_THREADS", "OPENBLAS_NUM_THREADS")


class ChapterFailed(RuntimeError):
    """A chapter raised; ``notebook`` is its executed notebook, error output included
    (``None`` when it could not be kept)."""

    def __init__(self, name: str, notebook: Path | None, error: BaseException | str) -> None:
        if isinstance(error, str):  # the reason, as a worker process reported it
            what = error
        else:
            what = (
                f"{error.ename}: {error.evalue}"
                if hasattr(error, "ename")
                else f"{type(error).__name__}: {error}"
            ).splitlines()[0]
        self.what = what
        where = (
            f"its executed notebook, with the error: {notebook}"
            if notebook is not None
            else "its executed notebook could not be kept"
        )
        super().__init__(f"chapter {name} failed ({what}); {where}")
        self.name, self.notebook = name, notebook


#: a progress bar's stderr line: tqdm's ``" 40%|████      | 4/10 [00:01<00:02, 3.1it/s]"``
_PROGRESS_LINE = re.compile(r"^\s*(?:[^\n]*:\s*)?\d+%\|.*\|.*\[.*\]\s*$")


def is_progress_noise(text: str) -> bool:
    """True for a stderr output made only of progress-bar updates and blank lines."""
    lines = [line for line in re.split(r"[\r\n]+", text) if line.strip()]
    return all(_PROGRESS_LINE.match(line) for line in lines)


#: what IPython writes as ``text/plain`` beside a display object's own mimetype, e.g.
#: ``<IPython.core.display.Markdown object>``
_DISPLAY_REPR = re.compile(r"^<IPython\.core\.display\.\w+ object>$")


def drop_display_reprs(output: dict) -> None:
    """Drop an output's ``text/plain`` where it is only the repr of an IPython display
    object (``<IPython.core.display.Markdown object>``) beside the object's own
    mimetype, which is what every renderer shows: a repr in the committed notebook
    that no page, Jupyter or GitHub displays. The same for a glued value's record
    (``application/papermill.record/text/plain`` beside its ``.../text/markdown``)."""
    data = output.get("data", {})
    for key in [k for k in data if k.endswith("text/plain")]:
        prefix = key.removesuffix("text/plain")
        text = "".join(data[key]) if isinstance(data[key], list) else data[key]
        richer = any(k != key and k.startswith(prefix) for k in data)
        if richer and _DISPLAY_REPR.match(text.strip()):
            del data[key]


def tidy_executed_notebook(path: Path) -> None:
    """Make an executed chapter fit to commit and render.

    Tags papermill's injected-parameters cell ``remove-cell`` (the chapter shows its
    configuration in a dropdown; the injected cell only repeats it), drops stderr outputs
    that are only progress bars (a model's "Loading weights" bar, say: noise with no
    result) and the reprs IPython writes beside a display object's own mimetype
    (:func:`drop_display_reprs`), and replaces papermill's absolute input and output paths by the file names,
    so no machine's folders end up in the committed notebooks. Other stderr (the
    library's warnings) is kept.
    """
    import nbformat

    notebook = nbformat.read(path, as_version=4)
    for cell in notebook.cells:
        tags = cell.metadata.setdefault("tags", [])
        if "injected-parameters" in tags and "remove-cell" not in tags:
            tags.append("remove-cell")
        if cell.cell_type == "code":
            cell.outputs = [
                out
                for out in cell.outputs
                if not (
                    out.get("output_type") == "stream"
                    and out.get("name") == "stderr"
                    and is_progress_noise(out.get("text", ""))
                )
            ]
            for out in cell.outputs:
                drop_display_reprs(out)
    record = notebook.metadata.get("papermill", {})
    for key in ("input_path", "output_path"):
        if record.get(key):
            record[key] = Path(record[key]).name
    atomic_write(path, lambda tmp: nbformat.write(notebook, str(tmp)))


def execute_chapter(
    root: Path,
    name: str,
    parameters: dict[str, Any],
    *,
    kernel: str = "python3",
    out: Path | None = None,
) -> Path:
    """Execute ``notebooks/<name>.py`` into ``<out>/book/<name>.ipynb`` (``out``
    defaults to ``root``) with papermill, in ``root``.

    The notebook is written to a temporary name and renamed on success, so a failed
    chapter leaves the previous executed version in place; the failed execution is
    renamed (whole, never half-written) to ``<name>.failed.ipynb`` beside it, with the
    error, and :class:`ChapterFailed` names it. An interrupt (Ctrl-C, SIGTERM) stops
    the kernel at once and leaves no temporary file; a temporary file that cannot be
    removed is reported in a line, never instead of the chapter's own error.
    """
    import jupytext
    import papermill

    source = root / "notebooks" / f"{name}.py"
    target = (out or root) / "book" / f"{name}.ipynb"
    target.parent.mkdir(parents=True, exist_ok=True)
    staged = target.with_name(f".{name}.src.ipynb")
    partial = target.with_name(f".{name}.run.ipynb")
    failed = target.with_name(f"{name}.failed.ipynb")
    try:
        jupytext.write(jupytext.read(source), staged)
        papermill.execute_notebook(
            str(staged),
            str(partial),
            parameters=parameters,
            cwd=str(root),
            kernel_name=kernel,
            progress_bar=sys.stderr.isatty(),
            log_output=False,
            # the kernel is killed when the chapter ends or is interrupted: a graceful
            # shutdown of a busy kernel prints its own traceback on the terminal
            shutdown_kernel="immediate",
            # the kernel's own log (e.g. ipykernel's warning that a local kernel talks
            # over TCP) is not the reader's business; chapter warnings still reach the
            # notebook and the terminal through show_warnings
            extra_arguments=["--IPKernelApp.log_level=CRITICAL"],
        )
        tidy_executed_notebook(partial)
        partial.replace(target)
        failed.unlink(missing_ok=True)
    except Exception as err:
        if not partial.is_file():
            raise
        try:
            partial.replace(failed)
        except OSError as keep_error:
            failure = ChapterFailed(name, None, err)
            failure.add_note(f"{failed} could not be written: {keep_error}")
            raise failure from err
        raise ChapterFailed(name, failed, err) from err
    finally:
        for leftover in (staged, partial):
            try:
                leftover.unlink(missing_ok=True)
            except OSError as cleanup_error:
                print(f"[steerspace] could not remove {leftover}: {cleanup_error}", file=sys.stderr)
    return target


def _chapter_jobs(
    root: Path,
    names: list[str],
    parameters: dict[str, Any],
    out: Path,
    results: Path,
    cfg: Any,
    dtype: dict[str, Any],
    model_id: str,
    *,
    use_cache: bool,
) -> list[ChapterJob]:
    """One :class:`ChapterJob` per chapter, with its chapter-cache key unless
    ``use_cache`` is false (``--rerun``) or the chapter is never cached. ``model_id`` is
    :func:`steerspace.core.models.model_identity` of the config's model."""
    from steerspace.infra.cache import default_cache_dir

    cache_root = Path(cfg.cache_dir) if cfg.cache_dir else default_cache_dir()
    jobs = []
    for name in names:
        job = ChapterJob(root, name, parameters, out, results)
        if use_cache and cacheable(name):
            key = chapter_key(
                root, name, parameters, settings=cfg.as_dict(), dtype=dtype, model_id=model_id
            )
            job = replace(job, cache=cache_root, key=key)
        jobs.append(job)
    return jobs


def usable_cpus() -> int:
    """The CPUs this process may run on (its affinity mask where the OS has one)."""
    if hasattr(os, "sched_getaffinity"):
        return len(os.sched_getaffinity(0))
    return os.cpu_count() or 1


@dataclass(frozen=True)
class ChapterJob:
    """What executing (or restoring) one chapter needs; picklable for worker processes.
    ``cache`` is the chapter cache's root and ``key`` the chapter's key
    (:mod:`steerspace.infra.chapter_cache`); ``None`` executes without the chapter cache."""

    root: Path
    name: str
    parameters: dict[str, Any]
    out: Path
    results: Path
    cache: Path | None = None
    key: dict[str, Any] | None = None
    threads: int | None = None


def _run_chapter(job: ChapterJob) -> dict[str, Any]:
    """Restore ``job``'s chapter from the chapter cache, or execute it (progress
    forwarded, CPU threads capped to ``job.threads``) and cache it. Returns its seconds
    and whether it was ``restored``."""
    start = time.perf_counter()
    store = ChapterCache(job.cache) if job.cache is not None and job.key is not None else None
    notebook = job.out / "book" / f"{job.name}.ipynb"
    if store is not None and store.restore(job.key, notebook, job.results) is not None:
        return {"seconds": time.perf_counter() - start, "restored": True}
    if job.threads is not None:
        for var in THREAD_VARIABLES:
            os.environ[var] = str(job.threads)
    fd, listing = tempfile.mkstemp(prefix="steerspace-outputs-", suffix=".txt")
    os.close(fd)
    os.environ[OUTPUTS_VAR] = listing
    os.environ[ledger.CHAPTER_VAR] = job.name
    try:
        with forward_progress(job.name):
            execute_chapter(job.root, job.name, job.parameters, out=job.out)
        seconds = time.perf_counter() - start
        peak = _largest_kernel_mb()
        if store is not None:
            outputs = outputs_listed(Path(listing))
            store.store(job.key, notebook, job.results, outputs, seconds=seconds)
    finally:
        os.environ.pop(OUTPUTS_VAR, None)
        os.environ.pop(ledger.CHAPTER_VAR, None)
        Path(listing).unlink(missing_ok=True)
    return {"seconds": seconds, "restored": False, "largest_kernel_mb": peak}


def largest_child_rss_bytes() -> int | None:
    """The largest resident memory (bytes) of any process this one has waited for so
    far (``getrusage(RUSAGE_CHILDREN).ru_maxrss``: KiB on Linux, bytes on macOS);
    ``None`` where the OS does not report it."""
    try:
        import resource
    except ImportError:  # pragma: no cover - Windows
        return None
    maxrss = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss
    return maxrss if sys.platform == "darwin" else maxrss * 1024


def _largest_kernel_mb() -> int | None:
    """:func:`largest_child_rss_bytes` in MB: the largest of the kernels (and of the
    preflight process, :func:`steerspace.book.preflight.checks_in_child`) run so far."""
    largest = largest_child_rss_bytes()
    return None if largest is None else int(largest / 2**20)


def _worker_init() -> None:
    """A worker process ignores Ctrl-C while it waits for a chapter (the runner reports
    the interrupt; an idle worker would print a traceback)."""
    signal.signal(signal.SIGINT, signal.SIG_IGN)


def _interrupt_once(signum: int, frame: Any) -> None:
    """SIGINT in a worker's chapter: stop it (once; a second SIGINT, the runner's
    forwarded one after the terminal's, would cut the kernel's cleanup short)."""
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    raise KeyboardInterrupt


def _chapter_worker(job: ChapterJob) -> dict[str, Any]:
    """:func:`_run_chapter` in a worker process: a failure comes back as data (the
    exception, with its notebook, does not cross processes); an interrupt stops the
    chapter quietly (the runner reports it)."""
    signal.signal(signal.SIGINT, _interrupt_once)
    try:
        return _run_chapter(job)
    except ChapterFailed as err:
        notebook = None if err.notebook is None else str(err.notebook)
        return {"failed": notebook, "error": err.what}
    except KeyboardInterrupt:
        return {"interrupted": True}
    finally:
        signal.signal(signal.SIGINT, signal.SIG_IGN)


def _done(name: str, result: dict[str, Any], steps: dict, timings: dict) -> None:
    """Record and print a finished chapter."""
    timings[name] = result["seconds"]
    steps[name] = {"status": "ok", "seconds": round(result["seconds"], 1)}
    if result.get("largest_kernel_mb"):
        steps[name]["largest_kernel_so_far_mb"] = result["largest_kernel_mb"]
    if result["restored"]:
        steps[name]["restored"] = True
        print(f"[steerspace] {name} unchanged: restored from the chapter cache", flush=True)
    else:
        print(f"[steerspace] {name} done in {result['seconds']:.0f} s", flush=True)


def _run_parallel(
    jobs: list[ChapterJob], workers: int, steps: dict[str, dict[str, Any]], timings: dict
) -> None:
    """Run ``jobs`` in ``workers`` processes, each kernel on its share of the CPUs;
    chapters that need the same cache entry wait on its lock (one computes it, the
    others load it). Stops at the first failure, after the chapters already running."""
    import multiprocessing
    from concurrent.futures import ProcessPoolExecutor, as_completed

    if not jobs:
        return
    workers = min(workers, len(jobs))
    threads = max(1, usable_cpus() // workers)
    print(
        f"[steerspace] executing {len(jobs)} chapters, {workers} at a time "
        f"({threads} CPU thread(s) each) ...",
        flush=True,
    )
    # spawn, not fork: a fresh interpreter per worker is safe wherever the runner has
    # threads (forking one is deprecated from Python 3.12) and is the same on every OS
    spawn = multiprocessing.get_context("spawn")
    with ProcessPoolExecutor(
        max_workers=workers, mp_context=spawn, initializer=_worker_init
    ) as pool:
        futures = {}
        for job in jobs:
            steps[job.name] = {"status": RUNNING}
            futures[pool.submit(_chapter_worker, replace(job, threads=threads))] = job.name
        try:
            for future in as_completed(futures):
                name, result = futures[future], future.result()
                if "failed" in result:
                    notebook = None if result["failed"] is None else Path(result["failed"])
                    raise ChapterFailed(name, notebook, result["error"])
                if "interrupted" in result:  # a worker stopped by a signal of its own
                    raise KeyboardInterrupt
                _done(name, result, steps, timings)
        except BaseException as err:
            for future in futures:
                future.cancel()
            if isinstance(err, KeyboardInterrupt):  # stop the chapters running (SIGTERM
                for process in list(getattr(pool, "_processes", {}).values()):  # reaches
                    with contextlib.suppress(OSError):  # only the runner)
                        os.kill(process.pid, signal.SIGINT)
            raise


def build_only(
    root: Path, out: str | Path | None, edition: str, *, pdf: bool = False
) -> dict[str, float]:
    """Build ``edition`` from the executed notebooks in ``out`` (default ``root``),
    executing nothing and writing no manifest."""
    out = Path(out).expanduser().resolve() if out is not None else root
    present = [n for n in chapters(root) if (out / "book" / f"{n}.ipynb").is_file()]
    root_page = Path(toc_files(root)[0]).name
    if root_page in chapters(root) and root_page not in present:
        missing = [n for n in chapters(root) if n not in present]
        raise FileNotFoundError(
            f"--no-execute needs executed notebooks, and {out / 'book'} lacks {missing}; "
            "run without --no-execute first"
        )
    start = time.perf_counter()
    index = _build(root, out, edition, present)
    print(f"[steerspace] {edition} edition built: {index}", flush=True)
    timings = {"jupyter-book build": time.perf_counter() - start}
    if pdf:
        timings["pdf"] = _print_pdf(index.parent, root, out, edition)
    return timings


def _print_pdf(html: Path, root: Path, out: Path, edition: str) -> float:
    """Print the built ``html`` site as one PDF (:mod:`steerspace.book.pdf`) in
    ``out/_build/pdf/``; returns the seconds it took."""
    start = time.perf_counter()
    pages = [f"{entry}.html" for entry in toc_files(root) if (html / f"{entry}.html").is_file()]
    name = "steerspace.pdf" if edition == "teacher" else f"steerspace-{edition}.pdf"
    pdf = print_pdf(html, pages, out / "_build" / "pdf" / name)
    print(f"[steerspace] print edition: {pdf}", flush=True)
    return time.perf_counter() - start


def _build(root: Path, out: Path, edition: str, present: list[str]) -> Path:
    """Build ``edition`` of the book in ``out`` from the executed chapters ``present``:
    all of them, or (after ``--only``, in a folder without the others) a table of
    contents of just those and of the pages that need no execution."""
    toc = partial_toc(out if (out / "_toc.yml").is_file() else root, root, present)
    if toc is not None:
        left_out = [n for n in chapters(root) if n not in present]
        print(
            f"[steerspace] building the {len(present)} executed chapters; the table of "
            f"contents leaves out {left_out} (not executed in {out})",
            flush=True,
        )
    if edition == "student":
        return build_student_edition(out, toc=toc)
    return build_book(out, toc=toc)


def check_out(out: Path, *, explicit: bool) -> None:
    """The run's folder can be written, before any work starts: an ``--out`` whose
    parent folder is missing (a typo would otherwise create a tree of folders), that
    is a file, or that cannot be written fails in one line (``ValueError``)."""
    name = f"--out {str(out)!r}" if explicit else f"the run's folder {str(out)!r}"
    if out.exists() and not out.is_dir():
        raise ValueError(f"{name} is a file, not a folder; choose a folder")
    if explicit and not out.exists() and not out.parent.is_dir():
        raise ValueError(
            f"{name}: its parent folder {str(out.parent)!r} does not exist; create it "
            "first or choose another folder"
        )
    probe_dir = out
    while not probe_dir.exists():
        probe_dir = probe_dir.parent
    try:
        fd, probe = tempfile.mkstemp(dir=probe_dir, prefix=".steerspace-probe-")
        os.close(fd)
        os.unlink(probe)
    except OSError as err:
        raise ValueError(
            f"{name}: cannot write there ({err.strerror or err}); choose a folder you can write to"
        ) from None


#: A chapter's status while it runs; the manifest never keeps it: a run that stops
#: records ``failed`` (the chapter that raised), ``interrupted`` (Ctrl-C, SIGTERM) or
#: ``stopped`` (chapters cut short by another's failure).
RUNNING = "running"


def _settle(steps: dict[str, dict[str, Any]], error: BaseException, root: Path) -> None:
    """Give every step still :data:`RUNNING` the status that ``error`` decides (a failed
    chapter's notebook named relative to ``root``)."""
    if isinstance(error, ChapterFailed) and error.name in steps:
        steps[error.name]["status"] = "failed"
        if error.notebook is not None:
            steps[error.name]["notebook"] = relative_to(error.notebook, root)
    if isinstance(error, KeyboardInterrupt):
        status = "interrupted"
    elif isinstance(error, ChapterFailed):
        status = "stopped"
    else:
        status = "failed"
    for step in steps.values():
        if step["status"] == RUNNING:
            step["status"] = status


def run_book(
    config: str = DEFAULT_CONFIG,
    overrides: dict[str, Any] | None = None,
    *,
    root: str | Path = ".",
    only: list[str] | None = None,
    build: bool = True,
    out: str | Path | None = None,
    edition: str = "teacher",
    execute: bool = True,
    jobs: int = 1,
    rerun: bool = False,
    pdf: bool = False,
) -> dict[str, float]:
    """Execute chapters (all, or ``only``) with ``config`` + ``overrides``, then build
    (and, with ``pdf``, print the built edition as one PDF in ``out/_build/pdf``).

    ``jobs`` > 1 executes that many chapters at a time, each kernel on its share of the
    CPUs (:func:`_run_parallel`); the summary pages still run after all others.
    A chapter whose inputs have not changed since it last ran is restored from the
    chapter cache (:mod:`steerspace.infra.chapter_cache`) instead of executed, unless
    ``rerun``.

    The config and the run's folder are validated before any chapter starts. The
    executed notebooks go to ``out/book/``, the results to ``out/results/<config
    name>/`` with ``manifest.json`` and the HTML to ``out/_build/html``; ``out``
    defaults to :func:`default_out`. ``edition="student"`` builds the edition without
    solutions and teacher's notes into ``out/_build/student/html`` instead
    (:mod:`steerspace.book.edition`); ``execute=False`` only builds, from the executed
    notebooks already in ``out/book``. With ``only``, the book built has the chapters
    executed in ``out`` (those run, and any run there before) and the pages that need
    no execution, in any folder. Returns seconds per step.

    The manifest: a run of every chapter writes it whole; a partial run (``only``), or
    one that stopped, merges its chapters into the one there
    (:func:`steerspace.infra.manifest.record_run`), so the committed record of a full
    run is never replaced by one chapter's. A run stopped by Ctrl-C or SIGTERM records
    ``interrupted``.

    Raises
    ------
    ChapterFailed
        A chapter raised (after the manifest, which records it, was written). An error
        in writing the manifest is added to it as a note, never raised instead of it.
    """
    from steerspace.book.preflight import checks_in_child

    root = Path(root).resolve()
    if not (root / "_toc.yml").is_file():
        raise FileNotFoundError(f"no _toc.yml in {root}; run from the repository root")
    if edition not in EDITIONS:
        raise ValueError(f"edition must be one of {list(EDITIONS)}, got {edition!r}")
    if not isinstance(jobs, int) or jobs < 1:
        raise ValueError(f"--jobs must be a positive integer, got {jobs!r}; e.g. --jobs 2")
    if not execute:
        return build_only(root, out, edition, pdf=pdf)
    overrides = dict(overrides or {})
    cfg = load_config(config, **overrides)  # fail fast on a bad key or value
    every = chapters(root)
    names = every
    if only is not None and not only:
        raise ValueError(f"--only needs at least one chapter name; chapters are {names}")
    if only:
        unknown = sorted(set(only) - set(names))
        if unknown:
            raise ValueError(f"unknown chapter(s) {unknown}; chapters are {names}")
        # the summary pages follow any chapter they summarise, so they never go stale
        names = [n for n in names if n in only or (build and n in SUMMARY_PAGES)]
    partial = names != every
    explicit_out = out is not None
    if explicit_out:
        out = Path(out).expanduser().resolve()
    else:
        out = default_out(root, config, overrides, cfg.name)
    check_out(out, explicit=explicit_out)
    # device, data folders, languages, k and the dtype, before any chapter, in a child
    # process: the runner stays alive beside every kernel, without torch
    machine_checks = checks_in_child(config, overrides, model_id=not rerun)
    n_units = machine_checks["n_units"]
    print(
        f"[steerspace] config checked: {n_units} candidate units, device {cfg.device}", flush=True
    )
    parameters = {"config": config, "overrides": overrides}
    if out != root:
        try:  # also with --set results_dir: the folder builds as a book of its own
            copy_book_pages(root, out)
        except OSError as err:
            what = f"--out {str(out)!r}" if explicit_out else f"the run's folder {str(out)!r}"
            raise ValueError(
                f"{what}: cannot write there ({err.strerror or err}); choose a folder you "
                "can write to"
            ) from None
    if overrides.get("results_dir") is None and (
        out != root or out != default_out(root, config, overrides, cfg.name)
    ):  # chapters write under --out, also where --out is the repository
        results = out / "results"
        where = results.relative_to(root) if results.is_relative_to(root) else results
        parameters["overrides"] = {**overrides, "results_dir": str(where)}
        cfg = cfg.replace(results_dir=str(where))
    print(f"[steerspace] writing the run to {out}", flush=True)
    dtype = machine_checks["dtype"]
    if cfg.dtype == "auto":
        print(f"[steerspace] dtype auto -> {dtype['dtype']}: {dtype['reason']}", flush=True)
    started = utc_now()
    steps: dict[str, dict[str, Any]] = {}
    timings: dict[str, float] = {}
    jobs = min(jobs, len(names)) or 1
    results = cfg.results_path if cfg.results_path.is_absolute() else root / cfg.results_path
    chapter_jobs = _chapter_jobs(
        root, names, parameters, out, results, cfg, dtype, machine_checks["model_id"],
        use_cache=not rerun,
    )  # fmt: skip
    failure: BaseException | None = None
    try:
        if jobs == 1:
            for i, job in enumerate(chapter_jobs, 1):
                print(f"[steerspace] executing {job.name} ({i}/{len(names)}) ...", flush=True)
                steps[job.name] = {"status": RUNNING}
                _done(job.name, _run_chapter(job), steps, timings)
        else:
            # the summary pages read every other chapter's results: they run last
            first = [j for j in chapter_jobs if j.name not in SUMMARY_PAGES]
            last = [j for j in chapter_jobs if j.name in SUMMARY_PAGES]
            for group in (first, last):
                _run_parallel(group, jobs, steps, timings)
        if build:
            start = time.perf_counter()
            steps["jupyter-book build"] = {"status": RUNNING}
            present = [n for n in every if (out / "book" / f"{n}.ipynb").is_file()]
            index = _build(root, out, edition, present)
            timings["jupyter-book build"] = time.perf_counter() - start
            steps["jupyter-book build"] = {
                "status": "ok",
                "seconds": round(timings["jupyter-book build"], 1),
            }
            print(f"[steerspace] book built: {index}", flush=True)
            if pdf:
                timings["pdf"] = _print_pdf(index.parent, root, out, edition)
    except BaseException as err:
        failure = err
        _settle(steps, err, root)
        raise
    finally:
        try:
            manifest = run_manifest(
                config=config,
                overrides=overrides,
                settings=cfg.as_dict(),
                dtype={"requested": cfg.dtype, **dtype},
                root=root,
                out=out,
                started_utc=started,
                steps=steps,
                only=names if partial else None,
            )
            if failure is not None and manifest["status"] == "ok":  # stopped between steps
                interrupted = isinstance(failure, KeyboardInterrupt)
                manifest["status"] = "interrupted" if interrupted else "failed"
            # only a run that executed every chapter replaces the record: one that ran
            # some (--only), or stopped, merges the chapters it ran into it
            merge = partial or failure is not None
            path = record_run(results / "manifest.json", manifest, partial=merge)
            print(f"[steerspace] manifest: {path}", flush=True)
        except Exception as err:  # noqa: BLE001 - beside the run's own error, never instead
            problem = f"the run's manifest could not be written to {results / 'manifest.json'}"
            reason = getattr(err, "strerror", None) or str(err) or type(err).__name__
            if failure is None:
                raise OSError(getattr(err, "errno", None), f"{problem} ({reason})") from err
            failure.add_note(f"{problem} ({reason})")
    return timings

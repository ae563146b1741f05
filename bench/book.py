"""Book benchmark: wall time of the whole book (every chapter of ``_toc.yml`` executed
by papermill, then ``jupyter-book build``), cold and then warm, per chapter, and the
peak memory of the process tree.

- **cold**: a fresh, empty ``STEERSPACE_CACHE`` (a temporary directory), so every
  forward pass, expert table, embedding, generation and perplexity is computed. The
  one-time conversion of the embedded GGUF model to safetensors (about 40 s, once per
  machine) is *reused* from the existing cache by a symlink, unless ``--convert`` is
  given or no converted model exists yet; the JSON records which.
- **warm**: the same run again on the cache the cold run filled (everything cached,
  the chapters too: an unchanged chapter is restored, see
  :mod:`steerspace.infra.chapter_cache`).
- **warm, re-executed**: the same with ``--rerun``: every chapter executed again on
  the cached data (what a changed chapter or parameter costs).
  With ``--warm-only`` the existing cache (``$STEERSPACE_CACHE`` or
  ``~/.cache/steerspace``) is used as it is.

The book runs in a temporary copy of the repository's book sources (``_config.yml``,
``_toc.yml``, ``notebooks/``, ``book/*.md``), so the executed notebooks in ``book/``
are not touched. Peak memory: the largest sum of resident set sizes (VmRSS) of the
runner and all its descendants (kernels, jupyter-book), polled from /proc every 0.5 s,
and the largest single process's ``ru_maxrss`` (``getrusage(RUSAGE_CHILDREN)``).

This takes about as long as the book (about 30 min cold on 2 cores); it is not part
of ``run_all.py`` unless ``--book`` is given.

    python bench/book.py                       # cold, then warm
    python bench/book.py --warm-only           # on the existing cache
    python bench/book.py --config tiny.yaml    # any config (one without cache_dir)
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path

if __package__ in (None, ""):
    sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from bench.common import (  # noqa: E402
    RESULTS_DIR,
    ROOT,
    base_parser,
    matmul_flops_under,
    write_result,
)

MARKER = "BENCH_TIMINGS "
RUNNER = (
    "import json, sys\n"
    "from steerspace.book.run import run_book\nfrom steerspace.book.cli import parse_sets\n"
    "t = run_book(sys.argv[1], parse_sets(sys.argv[5:]), root=sys.argv[2], jobs=int(sys.argv[3]),"
    " rerun=sys.argv[4] == '1')\n"
    f"print({MARKER!r} + json.dumps(t), flush=True)\n"
)


def _children_map() -> dict[int, list[int]]:
    children: dict[int, list[int]] = {}
    for entry in os.scandir("/proc"):
        if not entry.name.isdigit():
            continue
        try:
            stat = Path(entry.path, "stat").read_text()
        except OSError:
            continue
        ppid = int(stat.rsplit(")", 1)[1].split()[1])
        children.setdefault(ppid, []).append(int(entry.name))
    return children


def process_memory(pid: int) -> list[tuple[int, int]]:
    """(VmRSS, RssAnon) in bytes of ``pid`` and of each of its descendants (empty if it
    has exited). RssAnon is the part no file backs (the heap, tensors computed); the
    rest of VmRSS is file pages (memory-mapped weights) the kernel can drop and re-read."""
    children = _children_map()
    todo, sizes = [pid], []
    while todo:
        p = todo.pop()
        todo.extend(children.get(p, []))
        try:
            fields = dict(
                line.split(":", 1) for line in Path(f"/proc/{p}/status").read_text().splitlines()
            )
            sizes.append(tuple(int(fields[k].split()[0]) * 1024 for k in ("VmRSS", "RssAnon")))
        except (OSError, KeyError, ValueError):
            continue
    return sizes


class PeakRSS:
    """Poll the RSS of a process tree in a thread; ``peak`` is the largest sum seen,
    ``largest`` the largest single process seen (a chapter's kernel) and
    ``largest_anon`` the largest anonymous (not file-backed) part of one process."""

    def __init__(self, pid: int, interval: float = 0.5) -> None:
        self.pid, self.interval, self.peak, self.largest = pid, interval, 0, 0
        self.largest_anon = 0
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, daemon=True)

    def _run(self) -> None:
        while not self._stop.is_set():
            sizes = process_memory(self.pid)
            self.peak = max(self.peak, sum(rss for rss, _ in sizes))
            self.largest = max(self.largest, *(rss for rss, _ in sizes), 0)
            self.largest_anon = max(self.largest_anon, *(anon for _, anon in sizes), 0)
            self._stop.wait(self.interval)

    def __enter__(self) -> PeakRSS:
        self._thread.start()
        return self

    def __exit__(self, *exc) -> None:
        self._stop.set()
        self._thread.join()


def book_sources(dest: Path) -> Path:
    """Copy what ``steerspace book`` reads into ``dest``: the top-level files
    (``_config.yml``, ``_toc.yml``, ...), ``notebooks/`` and the non-notebook pages and
    assets of ``book/`` (``*.md``, ``*.bib``, ...), as tests/book/test_book.py does."""
    dest.mkdir(parents=True)
    for path in ROOT.iterdir():
        if path.is_file() and not path.name.startswith("."):
            shutil.copy(path, dest / path.name)
    shutil.copytree(ROOT / "notebooks", dest / "notebooks")
    shutil.copytree(
        ROOT / "book", dest / "book", ignore=shutil.ignore_patterns("*.ipynb", ".*", "_build")
    )
    return dest


def run_once(
    config: str,
    sets: list[str],
    root: Path,
    cache: Path,
    label: str,
    log: Path,
    jobs: int = 1,
    rerun: bool = False,
) -> dict:
    """Run the whole book in ``root`` with ``STEERSPACE_CACHE=cache``; time, memory and
    the model's work (:mod:`steerspace.infra.ledger`, in ``root/ledger``). The runner's whole
    output goes to ``log``."""
    from steerspace.infra import ledger

    ledger_dir = root / "ledger"
    env = dict(os.environ, STEERSPACE_CACHE=str(cache), **{ledger.ENV_VAR: str(ledger_dir)})
    cmd = [sys.executable, "-c", RUNNER, config, str(root), str(jobs), str(int(rerun)), *sets]
    print(f"[bench] book ({label}): running ...", flush=True)
    start = time.perf_counter()
    proc = subprocess.Popen(
        cmd, cwd=root, env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True
    )
    timings = None
    log.parent.mkdir(parents=True, exist_ok=True)
    with PeakRSS(proc.pid) as peak, open(log, "w", encoding="utf-8") as out:
        for line in proc.stdout:
            out.write(line)
            if line.startswith(MARKER):
                timings = json.loads(line[len(MARKER) :])
            elif line.startswith("[steerspace]"):
                print("   ", line.rstrip(), flush=True)
        proc.wait()
    wall = time.perf_counter() - start
    if proc.returncode != 0 or timings is None:
        lines = log.read_text(encoding="utf-8").splitlines()
        causes = [ln for ln in lines if "WARNING" in ln or "ERROR" in ln or "Error" in ln]
        print("\n".join((causes or lines)[-30:]), file=sys.stderr)
        raise RuntimeError(f"the {label} book run failed (exit {proc.returncode}); log: {log}")
    return {
        "wall_s": wall,
        "chapters_s": {k: v for k, v in timings.items() if k != "jupyter-book build"},
        "build_s": timings.get("jupyter-book build"),
        "peak_tree_rss_bytes": peak.peak,
        "jobs": jobs,
        "rerun": rerun,
        "model_work": ledger.summary(ledger_dir) if ledger_dir.is_dir() else None,
    }


def book_targets(device: str) -> dict:
    """Issue 17's targets for this machine: cold <= 15 min where the CPU runs bfloat16
    natively (AVX512-BF16, AMX), <= 30 min where it does not (AVX2 only, float32);
    warm <= 90 s and peak memory <= 4 GB on either."""
    from steerspace.core.precision import choose_dtype

    native = choose_dtype(device).dtype == "bfloat16"
    return {
        "cold_s": 900 if native else 1800,
        "warm_s": 90,
        "peak_rss_bytes": 4e9,
        "cpu_kind": "native bfloat16" if native else "no native bfloat16",
    }


def main(argv: list[str] | None = None) -> int:
    parser = base_parser(__doc__.splitlines()[0])
    mode = parser.add_mutually_exclusive_group()
    mode.add_argument("--cold-only", action="store_true")
    mode.add_argument("--warm-only", action="store_true")
    parser.add_argument(
        "--convert", action="store_true", help="cold run converts the GGUF model too"
    )
    parser.add_argument("--keep", action="store_true", help="keep the temporary book and cache")
    parser.add_argument(
        "--jobs", type=int, default=1, help="chapters at a time (steerspace book --jobs)"
    )
    parser.add_argument(
        "--warm-jobs", type=int, default=None, help="chapters at a time in the warm run"
    )
    args = parser.parse_args(argv)
    if args.config.endswith((".yaml", ".yml")):
        args.config = str(Path(args.config).resolve())
    from steerspace.book.cli import parse_sets
    from steerspace.config import load_config
    from steerspace.infra.cache import default_cache_dir

    cfg = load_config(args.config, **parse_sets(args.set))
    if cfg.cache_dir:
        print(
            f"[bench] note: the config sets cache_dir={cfg.cache_dir}, which overrides the "
            "temporary cache: the 'cold' run is only cold if that directory is empty",
            flush=True,
        )
    existing = default_cache_dir()
    targets = book_targets(cfg.device)
    warm_jobs = args.warm_jobs or args.jobs
    work = Path(tempfile.mkdtemp(prefix="steerspace-bench-book-"))
    logs = Path(args.out or RESULTS_DIR) / "book-logs"  # kept: the runs' whole output
    result: dict = {
        "config": cfg.name,
        "model": cfg.model,
        "overrides": args.set,
        "targets": targets,
        # the chapters' FLOP floor (performance appendix) sets their work against this rate
        "matmul_peak": matmul_flops_under({}, device=cfg.device),
    }
    try:
        runs: dict[str, dict] = {}
        if not args.warm_only:
            cache = work / "cache"
            cache.mkdir()
            models = existing / "models"
            reused = bool(models.is_dir() and any(models.iterdir()) and not args.convert)
            if reused:
                (cache / "models").symlink_to(models, target_is_directory=True)
            result["cold_cache"] = (
                f"empty temporary cache; converted model reused from {models}"
                if reused
                else "empty temporary cache; the model conversion is included"
            )
            root = book_sources(work / "cold")
            runs["cold"] = run_once(
                args.config, args.set, root, cache, "cold", logs / "cold.log", args.jobs
            )
            if not args.cold_only:
                root = book_sources(work / "warm")
                runs["warm"] = run_once(
                    args.config, args.set, root, cache, "warm", logs / "warm.log", warm_jobs
                )
                result["warm_cache"] = "the cache the cold run filled"
        else:
            cache = existing
            root = book_sources(work / "warm")
            runs["warm"] = run_once(
                args.config, args.set, root, existing, "warm", logs / "warm.log", warm_jobs
            )
            result["warm_cache"] = f"existing cache {existing}"
        if "warm" in runs:  # every chapter executed again on the cached data
            root = book_sources(work / "rerun")
            runs["warm_rerun"] = run_once(
                args.config, args.set, root, cache, "warm, re-executed", logs / "rerun.log",
                warm_jobs, rerun=True,
            )  # fmt: skip
    finally:
        if args.keep:
            print(f"[bench] kept {work}", flush=True)
        else:
            shutil.rmtree(work, ignore_errors=True)
    from steerspace.book.run import largest_child_rss_bytes

    maxrss = largest_child_rss_bytes()
    peak = max(r["peak_tree_rss_bytes"] for r in runs.values())
    result.update(
        {
            "runs": runs,
            "peak_tree_rss_bytes": peak,
            "max_single_process_rss_bytes": maxrss,
        }
    )
    parts = []
    if "cold" in runs:
        cold = runs["cold"]["wall_s"]
        result["pass_cold"] = bool(cold <= targets["cold_s"])
        parts.append(f"cold {cold / 60:.1f} min (target <= {targets['cold_s'] / 60:.0f})")
    if "warm" in runs:
        warm = runs["warm"]["wall_s"]
        result["pass_warm"] = bool(warm <= targets["warm_s"])
        parts.append(f"warm {warm:.0f} s (target <= {targets['warm_s']})")
    if "warm_rerun" in runs:
        parts.append(f"warm with every chapter re-executed {runs['warm_rerun']['wall_s']:.0f} s")
    result["pass_rss"] = bool(peak <= targets["peak_rss_bytes"])
    parts.append(f"peak RSS {peak / 1e9:.2f} GB (target <= {targets['peak_rss_bytes'] / 1e9:.0f})")
    result["summary"] = ", ".join(parts)
    write_result("book", result, directory=args.out)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())

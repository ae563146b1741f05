"""Classroom benchmark: each chapter alone, from an empty cache, on the ``classroom``
config, as a student on Binder or Colab runs it: wall time and peak memory per chapter.

Each chapter runs in its own ``steerspace book --only <chapter> --no-build`` process on a
fresh temporary ``STEERSPACE_CACHE`` (the converted model is reused by a symlink, as
Binder's image has it converted at build time), so it computes everything it needs. Peak
memory is the largest sum of resident set sizes of the runner and its kernel (polled every
0.5 s, as bench/book.py) and the largest of the kernel alone (what a student on Binder or
Colab runs: the notebook, with no runner), and the CPU seconds of the tree (user +
system, the runner and the kernel it reaps): on a shared machine the wall time depends on
the load, the CPU seconds much less; on an idle 2-core machine the wall time lies between
half of them and all of them. Each chapter's model work is counted by the ledger
(:mod:`steerspace.infra.ledger`: tokens forwarded, generated and scored), and the
matmul FLOP/s of the run's dtype under the same instruction set is measured once, so
the performance appendix can set every chapter's time against its FLOP floor.
Targets: under 2 GB (mybinder.org's memory limit) and a few minutes (5) per chapter on
2 cores.

``--no-bf16`` hides the CPU's bfloat16 instructions from PyTorch
(``steerspace.core.precision.AVX2_ONLY_ENV``), so ``dtype: auto`` takes
float32, as on most laptops, Binder's and Colab's CPUs: the larger model in memory.

    python bench/classroom.py --no-bf16               # every chapter
    python bench/classroom.py --only finding_experts   # some chapters
    python bench/classroom.py --no-bf16 --only intro --merge   # re-measure one, keep the rest
"""

from __future__ import annotations

import json
import os
import resource
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

if __package__ in (None, ""):
    sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from bench.book import PeakRSS, book_sources  # noqa: E402
from bench.common import (  # noqa: E402
    RESULTS_DIR,
    ROOT,
    base_parser,
    matmul_flops_under,
    write_result,
)
from steerspace.core.precision import AVX2_ONLY_ENV  # noqa: E402
from steerspace.infra import ledger  # noqa: E402

LIMIT_BYTES = 2e9
LIMIT_S = 300.0


def run_chapter(name: str, config: str, sets: list[str], root: Path, env: dict, log: Path) -> dict:
    """One chapter from an empty cache in ``root``: seconds, peak tree RSS, exit code
    and the model's work (its ledger, in ``root/ledger``)."""
    ledger_dir = root / "ledger"
    env = dict(env, **{ledger.ENV_VAR: str(ledger_dir)})
    argv = ["book", "--config", config, "--only", name, "--no-build", "--root", str(root)]
    argv += ["--out", str(root)]
    for pair in sets:
        argv += ["--set", pair]
    code = f"from steerspace.book.cli import main; raise SystemExit(main({argv!r}))"
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    start = time.perf_counter()
    with open(log, "w", encoding="utf-8") as out:
        proc = subprocess.Popen(
            [sys.executable, "-c", code], cwd=root, env=env, stdout=out, stderr=subprocess.STDOUT
        )
        with PeakRSS(proc.pid) as peak:
            proc.wait()
    seconds = time.perf_counter() - start
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    cpu = (after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime)
    dtype = [ln for ln in log.read_text().splitlines() if ln.startswith("[steerspace] dtype")]
    return {
        "seconds": round(seconds, 1),
        "cpu_seconds": round(cpu, 1),
        "peak_tree_rss_bytes": peak.peak,
        "peak_kernel_rss_bytes": peak.largest,
        "peak_kernel_anon_bytes": peak.largest_anon,
        "exit_code": proc.returncode,
        "dtype": dtype[0].removeprefix("[steerspace] ") if dtype else None,
        "model_work": (
            ledger.summary(ledger_dir)["by_chapter"].get(name, {}) if ledger_dir.is_dir() else {}
        ),
        "log": str(log),
    }


def result_name(args) -> str:
    """``classroom`` or, with ``--no-bf16``, ``classroom-no-bf16``: the JSON's name."""
    return "classroom" + ("-no-bf16" if args.no_bf16 else "")


def write(results: dict[str, dict], planned: list[str], args, matmul: dict) -> bool:
    """Write ``classroom[-no-bf16].json`` for the chapters measured so far (called after
    each chapter, so a long run that is stopped keeps what it measured); True if all
    ran."""
    from steerspace.config import load_config

    peak = max(r["peak_tree_rss_bytes"] for r in results.values())
    kernel = max(r["peak_kernel_rss_bytes"] for r in results.values())
    slowest = max(results, key=lambda n: results[n]["seconds"])
    ok = all(r["exit_code"] == 0 for r in results.values())
    summary = (
        f"{len(results)} of {len(planned)} chapters from an empty cache: kernel peak "
        f"{kernel / 1e9:.2f} GB, with the runner {peak / 1e9:.2f} GB (target < 2), "
        f"slowest {slowest} {results[slowest]['seconds'] / 60:.1f} min wall, "
        f"{results[slowest]['cpu_seconds'] / 60:.1f} CPU min (target < 5 min), "
        f"{'all ran' if ok else 'some FAILED'}"
    )
    write_result(
        result_name(args),
        {
            "summary": summary,
            "config": load_config(args.config).as_dict(),
            "environment": AVX2_ONLY_ENV if args.no_bf16 else {},
            "load_average_1min": os.getloadavg()[0],
            "matmul_peak": matmul,
            "targets": {"peak_rss_bytes": LIMIT_BYTES, "seconds": LIMIT_S},
            "chapters_planned": planned,
            "chapters": results,
            "peak_tree_rss_bytes": peak,
            "peak_kernel_rss_bytes": kernel,
            "pass_rss": bool(peak < LIMIT_BYTES),
            "pass_kernel_rss": bool(kernel < LIMIT_BYTES),
            "pass_time": bool(all(r["seconds"] < LIMIT_S for r in results.values())),
            "all_ran": ok and len(results) == len(planned),
        },
        directory=args.out,
    )
    return ok


def main(argv: list[str] | None = None) -> int:
    from steerspace.book.structure import chapters
    from steerspace.infra.cache import default_cache_dir

    parser = base_parser(__doc__.splitlines()[0])
    parser.set_defaults(config="classroom")
    parser.add_argument("--only", nargs="*", help="these chapters (default: all)")
    parser.add_argument("--no-bf16", action="store_true", help="hide bfloat16 (float32 run)")
    parser.add_argument(
        "--merge", action="store_true", help="keep the other chapters of the existing results"
    )
    args = parser.parse_args(argv)
    names = [n for n in chapters(ROOT) if not args.only or n in args.only]
    planned = chapters(ROOT) if args.merge else names
    models = default_cache_dir() / "models"
    work = Path(tempfile.mkdtemp(prefix="steerspace-bench-classroom-"))
    logs = Path(args.out or RESULTS_DIR) / "classroom-logs"
    logs.mkdir(parents=True, exist_ok=True)
    results: dict[str, dict] = {}
    earlier = Path(args.out or RESULTS_DIR) / f"{result_name(args)}.json"
    matmul = matmul_flops_under(AVX2_ONLY_ENV if args.no_bf16 else {})
    if args.merge and earlier.is_file():
        kept = json.loads(earlier.read_text())
        results = {n: r for n, r in kept["chapters"].items() if n not in names}
        # the machine's limit: the best matmul rate any of the merged runs measured
        matmul = max(matmul, kept.get("matmul_peak") or matmul, key=lambda m: m["flops_per_s"])
    ok = True
    try:
        for name in names:
            cache = work / name / "cache"
            cache.mkdir(parents=True)
            if models.is_dir():
                (cache / "models").symlink_to(models, target_is_directory=True)
            extra = AVX2_ONLY_ENV if args.no_bf16 else {}
            env = dict(os.environ, STEERSPACE_CACHE=str(cache), **extra)
            root = book_sources(work / name / "book")
            print(f"[bench] classroom: {name} ...", flush=True)
            log = logs / f"{name}.log"
            r = results[name] = run_chapter(name, args.config, args.set, root, env, log)
            print(
                f"[bench]   {r['seconds']:.0f} s ({r['cpu_seconds']:.0f} CPU s), peak "
                f"{r['peak_tree_rss_bytes'] / 1e9:.2f} GB (kernel "
                f"{r['peak_kernel_rss_bytes'] / 1e9:.2f}), exit {r['exit_code']}",
                flush=True,
            )
            ok = write(results, planned, args, matmul)
    finally:
        shutil.rmtree(work, ignore_errors=True)
    return 0 if ok else 1


if __name__ == "__main__":
    raise SystemExit(main())

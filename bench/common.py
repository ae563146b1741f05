"""Shared helpers of the benchmarks: machine facts, a matmul FLOP/s probe ("the
limit" every throughput is compared with), timing, and atomic JSON results.

Every benchmark writes ``bench/results/<name>.json`` through :func:`write_result`,
which adds the machine facts and prints one summary line.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import statistics
import sys
import tempfile
import time
from collections.abc import Callable
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
RESULTS_DIR = Path(os.environ.get("STEERSPACE_BENCH_RESULTS", ROOT / "bench" / "results"))


def cpu_model() -> str:
    """The CPU's model name from /proc/cpuinfo (or platform), e.g. ``AMD EPYC``."""
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.lower().startswith("model name"):
                return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or platform.machine()


def cpu_flags() -> list[str]:
    """The matmul-relevant instruction-set flags of the CPU (AVX2, AVX-512, BF16, AMX)."""
    try:
        text = Path("/proc/cpuinfo").read_text()
    except OSError:
        return []
    flags = next(
        (ln.split(":", 1)[1].split() for ln in text.splitlines() if ln.startswith("flags")), []
    )
    wanted = ("avx2", "fma", "avx512f", "avx512_bf16", "avx512_vnni", "amx_bf16", "amx_tile")
    return [f for f in wanted if f in flags]


def memory_total_gb() -> float | None:
    """Physical memory in GB (from /proc/meminfo)."""
    try:
        for line in Path("/proc/meminfo").read_text().splitlines():
            if line.startswith("MemTotal:"):
                return round(int(line.split()[1]) * 1024 / 1e9, 2)
    except OSError:
        pass
    return None


def git_commit() -> str | None:
    """The repository's HEAD commit (read from .git, no subprocess), or None."""
    head = ROOT / ".git" / "HEAD"
    try:
        ref = head.read_text().strip()
        if ref.startswith("ref:"):
            path = ROOT / ".git" / ref.split(" ", 1)[1]
            if path.is_file():
                return path.read_text().strip()[:12]
            packed = ROOT / ".git" / "packed-refs"
            for line in packed.read_text().splitlines():
                if line.endswith(ref.split(" ", 1)[1]):
                    return line.split()[0][:12]
            return None
        return ref[:12]
    except OSError:
        return None


def machine() -> dict[str, Any]:
    """Facts that decide the numbers: CPU, cores, torch threads, library versions."""
    import numpy
    import torch

    facts: dict[str, Any] = {
        "cpu": cpu_model(),
        "cpu_flags": cpu_flags(),
        "logical_cpus": os.cpu_count(),
        "usable_cpus": len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else None,
        "torch_threads": torch.get_num_threads(),
        "memory_gb": memory_total_gb(),
        "load_average_1min": round(os.getloadavg()[0], 2) if hasattr(os, "getloadavg") else None,
        "python": platform.python_version(),
        "torch": torch.__version__,
        "numpy": numpy.__version__,
        "platform": platform.platform(),
        "git_commit": git_commit(),
        "cuda": torch.cuda.get_device_name(0) if torch.cuda.is_available() else None,
    }
    for name in ("transformers", "sklearn", "scipy"):
        try:
            facts[name] = __import__(name).__version__
        except ImportError:
            facts[name] = None
    return facts


def timed(fn: Callable[[], Any], *, repeats: int = 3, warmup: int = 1) -> dict[str, Any]:
    """Run ``fn`` ``warmup`` times untimed, then ``repeats`` times; seconds per run."""
    for _ in range(warmup):
        fn()
    times = []
    for _ in range(repeats):
        start = time.perf_counter()
        fn()
        times.append(time.perf_counter() - start)
    return {"best_s": min(times), "median_s": statistics.median(times), "all_s": times}


def matmul_flops(
    dtype: str = "float32", *, n: int = 2048, repeats: int = 5, device: str = "cpu"
) -> dict[str, Any]:
    """Measured FLOP/s of an ``n``×``n`` @ ``n``×``n`` torch matmul (2·n³ FLOPs), best of
    ``repeats`` after one warm-up: the practical peak of this machine in ``dtype``."""
    import torch

    dt = {"float32": torch.float32, "bfloat16": torch.bfloat16, "float16": torch.float16}[dtype]
    gen = torch.Generator().manual_seed(0)
    a = torch.randn(n, n, generator=gen).to(device=device, dtype=dt)
    b = torch.randn(n, n, generator=gen).to(device=device, dtype=dt)

    def run() -> None:
        torch.matmul(a, b)
        if device.startswith("cuda"):
            torch.cuda.synchronize()

    t = timed(run, repeats=repeats, warmup=1)
    flops = 2 * n**3
    return {
        "dtype": dtype,
        "n": n,
        "threads": torch.get_num_threads(),
        "best_s": t["best_s"],
        "flops_per_s": flops / t["best_s"],
        "gflops_per_s": round(flops / t["best_s"] / 1e9, 2),
    }


def peak_probe(*, quick: bool = False) -> dict[str, Any]:
    """float32 and bfloat16 matmul FLOP/s (2048², or 1024² when ``quick``)."""
    n = 1024 if quick else 2048
    return {dt: matmul_flops(dt, n=n, repeats=3 if quick else 5) for dt in ("float32", "bfloat16")}


def write_result(name: str, data: dict[str, Any], *, directory: Path | None = None) -> Path:
    """Write ``data`` (+ machine facts, time, command line) as ``<name>.json`` atomically
    and print one line: ``[bench] <name>: <data['summary']> -> <path>``."""
    directory = Path(directory or RESULTS_DIR)
    directory.mkdir(parents=True, exist_ok=True)
    payload = {
        "benchmark": name,
        "written_utc": datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%SZ"),
        "command": " ".join([Path(sys.argv[0]).name, *sys.argv[1:]]),
        **data,
    }
    payload.setdefault("machine", machine())
    path = directory / f"{name}.json"
    fd, tmp = tempfile.mkstemp(dir=directory, prefix=f".{name}.", suffix=".tmp")
    try:
        with os.fdopen(fd, "w", encoding="utf-8") as fh:
            json.dump(payload, fh, indent=2, default=_jsonable)
            fh.write("\n")
        os.replace(tmp, path)
    finally:
        if os.path.exists(tmp):
            os.unlink(tmp)
    print(f"[bench] {name}: {data.get('summary', '')} -> {_display_path(path)}", flush=True)
    return path


def read_result(name: str, *, directory: Path | None = None) -> dict[str, Any] | None:
    """The JSON of benchmark ``name``, or None if it has not been run."""
    path = Path(directory or RESULTS_DIR) / f"{name}.json"
    if not path.is_file():
        return None
    return json.loads(path.read_text(encoding="utf-8"))


def base_parser(description: str) -> argparse.ArgumentParser:
    """The options every benchmark shares: ``--config``, ``--set``, ``--quick``, ``--out``."""
    parser = argparse.ArgumentParser(description=description)
    parser.add_argument(
        "--config", default="gemma-3-270m", help="shipped config name or YAML path (default model)"
    )
    parser.add_argument(
        "--set",
        action="append",
        default=[],
        metavar="KEY=VALUE",
        help="override a config key, as in `steerspace book --set`",
    )
    parser.add_argument("--quick", action="store_true", help="tiny sizes, to check it runs")
    parser.add_argument(
        "--out", type=Path, default=None, help=f"results directory (default {RESULTS_DIR})"
    )
    return parser


def load_cfg(args: argparse.Namespace, **extra: Any):
    """The config of ``--config`` with ``--set`` overrides (and ``extra``)."""
    from steerspace.config import load_config
    from steerspace.run import parse_sets

    return load_config(args.config, **{**parse_sets(args.set), **extra})


def _jsonable(value: Any) -> Any:
    try:
        import numpy as np

        if isinstance(value, np.generic):
            return value.item()
        if isinstance(value, np.ndarray):
            return value.tolist()
    except ImportError:
        pass
    if isinstance(value, Path):
        return str(value)
    raise TypeError(f"not JSON-serialisable: {type(value).__name__}")


def _display_path(path: Path) -> str:
    try:
        return str(path.resolve().relative_to(Path.cwd().resolve()))
    except ValueError:
        return str(path)

"""Shared helpers of the benchmarks: machine facts, a matmul FLOP/s probe ("the
limit" every throughput is compared with), timing, and atomic JSON results.

Every benchmark writes ``bench/results/<name>.json`` through :func:`write_result`,
which adds the machine facts and prints one summary line.
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from steerspace.infra.manifest import git_commit
from steerspace.infra.manifest import machine as steerspace_machine

ROOT = Path(__file__).resolve().parents[1]
RESULTS_DIR = Path(os.environ.get("STEERSPACE_BENCH_RESULTS", ROOT / "bench" / "results"))


def machine() -> dict[str, Any]:
    """:func:`steerspace.infra.manifest.machine` plus this checkout's commit."""
    return {**steerspace_machine(), "git_commit": git_commit(ROOT)}


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


def matmul_flops_under(env: dict[str, str], *, device: str = "cpu") -> dict[str, Any]:
    """:func:`matmul_flops` in the dtype that ``dtype: auto`` picks, measured in a fresh
    process with ``env`` (e.g. ``AVX2_ONLY_ENV``: the instruction set is fixed when torch
    loads), so a benchmark's floor uses the rate its chapters ran at."""
    code = (
        "import json, sys; sys.path.insert(0, sys.argv[1]); "
        "from bench.common import matmul_flops; "
        "from steerspace.core.precision import choose_dtype; "
        "print(json.dumps(matmul_flops(choose_dtype(sys.argv[2]).dtype, device=sys.argv[2])))"
    )
    out = subprocess.run(
        [sys.executable, "-c", code, str(ROOT), device],
        env=dict(os.environ, **env),
        capture_output=True,
        text=True,
        check=True,
    )
    return json.loads(out.stdout.strip().splitlines()[-1])


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
    """The config of ``--config`` with ``--set`` overrides (and ``extra``), its ``dtype``
    resolved (``auto`` → what this machine runs fastest, :func:`resolve_dtype`)."""
    from steerspace.book.cli import parse_sets
    from steerspace.config import load_config
    from steerspace.core.models import resolve_dtype

    cfg = load_config(args.config, **{**parse_sets(args.set), **extra})
    return cfg.replace(dtype=resolve_dtype(cfg.dtype, cfg.device, cache_dir=cfg.cache_dir))


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

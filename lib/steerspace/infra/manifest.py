"""What produced a run's results: config, dtype, commit, packages, machine, timings.

``steerspace book`` writes :func:`run_manifest` as ``manifest.json`` next to the
results of every run (``results/<config name>/``), whether it succeeded or not (a run of
some chapters merges them into the manifest there, :func:`record_run`); the benchmarks
record :func:`machine` with every JSON they write.
"""

from __future__ import annotations

import json
import os
import platform
import re
from datetime import UTC, datetime
from importlib import metadata
from pathlib import Path
from typing import Any

from steerspace.infra.cache import atomic_write

#: Instruction-set flags that decide matmul speed (AVX2, AVX-512, bfloat16, AMX).
MATMUL_FLAGS = ("avx2", "fma", "avx512f", "avx512_bf16", "avx512_vnni", "amx_bf16", "amx_tile")


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
    """The CPU's :data:`MATMUL_FLAGS` (Linux /proc/cpuinfo; empty elsewhere)."""
    try:
        text = Path("/proc/cpuinfo").read_text()
    except OSError:
        return []
    flags = next(
        (ln.split(":", 1)[1].split() for ln in text.splitlines() if ln.startswith("flags")), []
    )
    return [f for f in MATMUL_FLAGS if f in flags]


def memory_total_gb() -> float | None:
    """Physical memory in GB (from /proc/meminfo)."""
    try:
        for line in Path("/proc/meminfo").read_text().splitlines():
            if line.startswith("MemTotal:"):
                return round(int(line.split()[1]) * 1024 / 1e9, 2)
    except OSError:
        pass
    return None


def git_commit(root: str | Path) -> str | None:
    """The HEAD commit of the git checkout at ``root`` (read from .git, no subprocess;
    a worktree's ``.git`` file is followed), or None outside a checkout."""
    git = Path(root) / ".git"
    try:
        if git.is_file():  # a worktree: "gitdir: <path>"
            git = Path(git.read_text().split(":", 1)[1].strip())
        ref = (git / "HEAD").read_text().strip()
        if not ref.startswith("ref:"):
            return ref[:12]
        name = ref.split(" ", 1)[1]
        common = git / "commondir"
        base = (git / common.read_text().strip()).resolve() if common.is_file() else git
        for where in (git, base):
            if (where / name).is_file():
                return (where / name).read_text().strip()[:12]
        for line in (base / "packed-refs").read_text().splitlines():
            if line.endswith(" " + name):
                return line.split()[0][:12]
    except OSError:
        pass
    return None


def machine() -> dict[str, Any]:
    """Facts that decide the numbers: CPU, cores, torch threads, library versions."""
    import numpy
    import torch

    facts: dict[str, Any] = {
        "cpu": cpu_model(),
        "cpu_flags": cpu_flags(),
        "torch_cpu_capability": torch.backends.cpu.get_cpu_capability(),
        "logical_cpus": os.cpu_count(),
        "usable_cpus": len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else None,
        "torch_threads": torch.get_num_threads(),
        "memory_gb": memory_total_gb(),
        "load_average_1min": round(os.getloadavg()[0], 2) if hasattr(os, "getloadavg") else None,
        "python": platform.python_version(),
        "torch": torch.__version__,
        "numpy": numpy.__version__,
        "platform": platform.platform(),
        "cuda": torch.cuda.get_device_name(0) if torch.cuda.is_available() else None,
    }
    for name in ("transformers", "sklearn", "scipy"):
        try:
            facts[name] = __import__(name).__version__
        except ImportError:
            facts[name] = None
    return facts


def package_versions(distribution: str = "steerspace") -> dict[str, str | None]:
    """Installed versions of ``distribution`` and of every package it requires
    (None where one is missing), sorted by name."""
    names = {distribution}
    for requirement in metadata.requires(distribution) or []:
        if "extra ==" not in requirement:
            names.add(re.split(r"[\s;<>=!~\[(]", requirement, maxsplit=1)[0])
    versions: dict[str, str | None] = {}
    for name in sorted(names, key=str.lower):
        try:
            versions[name] = metadata.version(name)
        except metadata.PackageNotFoundError:
            versions[name] = None
    return versions


def utc_now() -> str:
    """The current UTC time as ``YYYY-MM-DDTHH:MM:SSZ``."""
    return datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def run_manifest(
    *,
    config: str,
    overrides: dict[str, Any],
    settings: dict[str, Any],
    dtype: dict[str, Any],
    root: str | Path,
    out: str | Path,
    started_utc: str,
    steps: dict[str, dict[str, Any]],
    only: list[str] | None = None,
) -> dict[str, Any]:
    """The manifest of one ``steerspace book`` run.

    Parameters
    ----------
    config, overrides : what was asked for (config name or path, ``--set`` values).
    settings : the config after overrides (:meth:`Config.as_dict`).
    dtype : the requested and resolved dtype, the device and why (``DtypeChoice``).
    root, out : the repository and the folder the run wrote (notebooks, results); the
        manifest records ``out`` relative to ``root`` (``"."`` for the committed book),
        so a committed manifest names no machine's folders.
    started_utc : when the run started (:func:`utc_now`).
    steps : per chapter (and the ``jupyter-book build``), ``{"status": "ok" | "failed" |
        "interrupted" | "stopped", "seconds": ...}`` and, for a failed chapter, the path
        of its executed notebook.
    only : the chapters of a partial run (``--only``), which :func:`record_run` merges
        into the manifest already there.
    """
    return {
        **({"only": list(only)} if only is not None else {}),
        "config": relative_to(config, root) if Path(config).suffix in (".yaml", ".yml") else config,
        "overrides": overrides,
        "settings": settings,
        "dtype": dtype,
        "out": relative_to(out, root),
        "git_commit": git_commit(root),
        "started_utc": started_utc,
        "finished_utc": utc_now(),
        "status": overall_status(steps),
        "steps": steps,
        "packages": package_versions(),
        "machine": machine(),
    }


def relative_to(path: str | Path, root: str | Path) -> str:
    """``path`` relative to ``root`` when inside it (``"."`` for ``root`` itself), else
    as given: a folder the user named outside the repository."""
    path, root = Path(path), Path(root)
    try:
        return path.resolve().relative_to(Path(root).resolve()).as_posix() or "."
    except ValueError:
        return str(path)


def overall_status(steps: dict[str, dict[str, Any]]) -> str:
    """``ok`` when every step is; else ``failed`` if one failed, else ``interrupted``."""
    statuses = {step.get("status") for step in steps.values()}
    if statuses <= {"ok"}:
        return "ok"
    if "failed" in statuses or "interrupted" not in statuses:
        return "failed"
    return "interrupted"


#: What a partial run records of itself beside the chapters it merges.
PARTIAL_RUN_KEYS = (
    "only", "overrides", "dtype", "git_commit", "started_utc", "finished_utc", "status",
)  # fmt: skip


def merge_partial(previous: dict[str, Any] | None, current: dict[str, Any]) -> dict[str, Any]:
    """A partial run's manifest (``current``, with ``only``) merged into the one already
    there: the other chapters' entries are kept as they were, each chapter of this run
    replaces its own entry, noting this run's dtype and start; the run itself is listed
    under ``partial_runs``. Without a previous manifest, ``current`` as it is."""
    if not isinstance(previous, dict) or not isinstance(previous.get("steps"), dict):
        return current
    merged = dict(previous)
    steps = dict(previous["steps"])
    for name, step in current["steps"].items():
        steps[name] = {**step, "dtype": current["dtype"], "run_started_utc": current["started_utc"]}
    merged["steps"] = steps
    merged["status"] = overall_status(steps)
    run = {key: current.get(key) for key in PARTIAL_RUN_KEYS}
    merged["partial_runs"] = [*previous.get("partial_runs", []), run]
    return merged


def record_run(path: str | Path, manifest: dict[str, Any], *, partial: bool) -> Path:
    """Write a run's ``manifest`` to ``path``: whole for a run of every chapter, merged
    chapter by chapter into the manifest there for a ``partial`` run (``--only``, or a
    run that stopped: :func:`merge_partial`), so that one chapter's run never replaces
    the record of the whole book."""
    path = Path(path)
    if partial:
        previous = None
        try:
            previous = json.loads(path.read_text(encoding="utf-8"))
        except (OSError, ValueError):  # none yet, or unreadable: this run's own
            pass
        manifest = merge_partial(previous, manifest)
    return write_manifest(path, manifest)


def write_manifest(path: str | Path, manifest: dict[str, Any]) -> Path:
    """Write ``manifest`` as indented JSON to ``path`` atomically."""
    text = json.dumps(manifest, indent=2, ensure_ascii=False, default=str) + "\n"
    return atomic_write(Path(path), lambda tmp: tmp.write_text(text, encoding="utf-8"))

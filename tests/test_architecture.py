"""The package tree is the architecture: a layer imports only from the layers below it,
and no module imports another that imports it back (directly or round a cycle), even
inside a function."""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

PACKAGE = Path(__file__).resolve().parents[1] / "lib" / "steerspace"

#: layer → rank; a module may import from its own layer and from lower ranks only
LAYERS = {
    "infra": 0,
    "core": 1,
    "data": 1,
    "metrics": 1,
    "text": 2,
    "config": 2,
    "claims": 3,
    "pipeline": 4,
    "analyses": 5,
    "figures": 5,
    "book": 6,
    "__main__": 7,
}


def module_name(path: Path, package: Path = PACKAGE) -> str:
    parts = list(path.relative_to(package.parent).with_suffix("").parts)
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


def layer_of(module: str) -> str | None:
    """``steerspace.core.hooks`` → ``core``; the package itself has no layer."""
    parts = module.split(".")
    return parts[1] if len(parts) > 1 else None


def imports_of(path: Path) -> set[str]:
    """Every ``steerspace`` module ``path`` imports, at module level or in a function
    (``from steerspace.x import name`` counts as ``steerspace.x.name`` where that is a
    module, else ``steerspace.x``)."""
    tree = ast.parse(path.read_text(encoding="utf-8"))
    found = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            found |= {a.name for a in node.names if a.name.startswith("steerspace")}
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            if not node.module.startswith("steerspace"):
                continue
            for alias in node.names:
                candidate = f"{node.module}.{alias.name}"
                found.add(candidate if candidate in MODULES else node.module)
    return {m for m in found if m in MODULES and m != "steerspace"}


MODULES = {module_name(p): p for p in PACKAGE.rglob("*.py")}
GRAPH = {name: imports_of(path) for name, path in MODULES.items()}


def upward_imports(graph: dict[str, set[str]]) -> list[str]:
    """``importer -> imported`` for every import that goes up a layer."""
    bad = []
    for importer, imported in graph.items():
        here = layer_of(importer)
        if here is None:
            continue
        for other in imported:
            there = layer_of(other)
            if there is not None and there != here and LAYERS[there] >= LAYERS[here]:
                bad.append(f"{importer} -> {other}")
    return sorted(bad)


def cycles(graph: dict[str, set[str]]) -> list[list[str]]:
    """The import cycles of ``graph`` (one path per strongly connected component)."""
    index, low, stack, on_stack, found = {}, {}, [], set(), []

    def visit(node: str) -> None:
        index[node] = low[node] = len(index)
        stack.append(node)
        on_stack.add(node)
        for nxt in graph.get(node, ()):
            if nxt not in index:
                visit(nxt)
                low[node] = min(low[node], low[nxt])
            elif nxt in on_stack:
                low[node] = min(low[node], index[nxt])
        if low[node] == index[node]:
            component = []
            while True:
                top = stack.pop()
                on_stack.discard(top)
                component.append(top)
                if top == node:
                    break
            if len(component) > 1:
                found.append(sorted(component))

    for node in sorted(graph):
        if node not in index:
            visit(node)
    return found


def test_every_module_sits_in_a_known_layer():
    unknown = sorted({layer_of(m) for m in MODULES} - set(LAYERS) - {None})
    assert not unknown, f"subpackages without a layer rank: {unknown}"


def test_no_import_goes_up_a_layer():
    assert upward_imports(GRAPH) == []


def test_no_import_cycle():
    assert cycles(GRAPH) == []


@pytest.mark.parametrize(
    ("planted", "check"),
    [
        ({"steerspace.core.hooks": {"steerspace.claims.rules"}}, upward_imports),
        ({"steerspace.book.edition": {"steerspace.book.cli"}}, cycles),
    ],
)
def test_the_checks_catch_a_planted_violation(planted, check):
    graph = {name: set(deps) for name, deps in GRAPH.items()}
    for importer, extra in planted.items():
        graph[importer] = graph.get(importer, set()) | extra
    graph.setdefault("steerspace.book.cli", set()).add("steerspace.book.edition")
    assert check(graph), f"{check.__name__} missed {planted}"

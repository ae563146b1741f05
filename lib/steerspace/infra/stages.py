"""The version of every cached stage, and which stages each one reads.

A cache key holds the version string of its stage (:func:`stage_version`), which folds
in the versions of the stages it reads. **Bump a stage's number in the same commit that
changes what it computes** (a pooling fix bumps ``activations``; an AUROC fix bumps
``experts``): its entries, and those of every stage downstream, get new keys and are
recomputed, while all other entries stay valid. ``tests/infra/test_stages.py`` holds a
fingerprint of each stage's source and fails when the code changes without a bump.

Stages whose inputs are keyed by content (an intervention's units and values, the arrays
UMAP lays out) need not name those inputs here: their key changes with the content.
"""

from __future__ import annotations

import ast
import hashlib
import importlib
import inspect
import textwrap
from dataclasses import dataclass


@dataclass(frozen=True)
class Stage:
    """One cached stage: its version, the stages it reads, and the functions that
    compute it (``module:function``; their source is fingerprinted by the tests)."""

    version: int
    reads: tuple[str, ...] = ()
    code: tuple[str, ...] = ()


FORWARD = (
    "steerspace.core.forward:forward_pooled",
    "steerspace.core.forward:pooling_mask",
    "steerspace.core.hooks:pool",
)
INTERVENE = ("steerspace.core.hooks:Intervention", "steerspace.core.hooks:intervening")

STAGES: dict[str, Stage] = {
    "dtype": Stage(1, code=("steerspace.core.precision:_probe_cpu",)),
    "corpus_statistics": Stage(1, code=("steerspace.data.statistics:corpus_statistics",)),
    "units": Stage(
        1, code=("steerspace.core.models:count_units", "steerspace.core.hooks:find_modules")
    ),
    "activations": Stage(
        1,
        code=(
            "steerspace.core.forward:record_activations",
            "steerspace.core.hooks:PooledRecorder",
            "steerspace.core.hooks:recording",
            *FORWARD,
        ),
    ),
    "experts": Stage(
        1,
        reads=("activations",),
        code=(
            "steerspace.core.experts:expert_table",
            "steerspace.core.experts:auroc",
            "steerspace.core.experts:_rank_sums_float32",
        ),
    ),
    # An embedding entry's key names its own sentences, not the groups computed in the
    # same forward pass (Pipeline._pooled), whose batches change the float32 sums: one
    # group computed alone and in company agrees to max |Δ| <= 2e-4 x the entry's mean
    # |x|, which is all that results rely on. Measured on the embedded Gemma-3-270M in
    # float32 (64 Bible verses in each of 6 languages, batch 32): 7.5e-5 over every
    # layer (0.004 on mean |x| 52), 1e-5 on the last, and no top-1 retrieval choice
    # changed; on the tests' tiny model 5e-7 (tests/test_pipeline.py holds it to 1e-5
    # and to the same top-1 choices).
    "embeddings": Stage(1, code=("steerspace.core.forward:embed", *FORWARD, *INTERVENE)),
    "layer_embeddings": Stage(
        1, code=("steerspace.core.forward:embed_layers", *FORWARD, *INTERVENE)
    ),
    "umap": Stage(
        1,
        code=(
            "steerspace.metrics.geometry:umap_pre_post",
            "steerspace.metrics.geometry:umap_projection",
        ),
    ),
    # 2: own sampling loop (top-k, then top-p on the kept logits; a seeded generator per
    # batch) instead of model.generate: the same distribution, other draws
    "generations": Stage(
        2,
        code=(
            "steerspace.core.generation:generate_free",
            "steerspace.core.generation:sample_next",
            *INTERVENE,
        ),
    ),
    "perplexity": Stage(
        1,
        code=(
            "steerspace.core.generation:perplexity",
            "steerspace.core.generation:_windows",
            "steerspace.core.generation:_groups",
            *INTERVENE,
        ),
    ),
}


def stage_version(kind: str, stages: dict[str, Stage] | None = None) -> str:
    """``"experts.1+activations.1"``: the stage's version and, recursively, those of the
    stages it reads (sorted, each once). Unknown kinds raise ``KeyError`` with the known
    ones, so a new cached stage cannot be added without a version."""
    table = STAGES if stages is None else stages
    if kind not in table:
        raise KeyError(f"cache stage {kind!r} has no version; add it to {sorted(table)}")
    seen: dict[str, int] = {}

    def visit(name: str) -> None:
        if name in seen:
            return
        seen[name] = table[name].version
        for upstream in table[name].reads:
            visit(upstream)

    visit(kind)
    own = f"{kind}.{seen.pop(kind)}"
    return "+".join([own, *(f"{name}.{v}" for name, v in sorted(seen.items()))])


def _canonical(node: object) -> str:
    """An AST as text that is the same on Python 3.11, 3.12 and 3.13: node types and
    their fields, without positions, and without fields that are ``None`` or empty (so
    a field a newer Python adds, like 3.12's ``type_params``, changes nothing).
    ``ast.unparse`` is not: 3.12 writes f-strings with other quotes."""
    if isinstance(node, ast.AST):
        fields = [
            f"{name}={_canonical(value)}"
            for name, value in ast.iter_fields(node)
            if value is not None and value != []
        ]
        return f"{type(node).__name__}({', '.join(fields)})"
    if isinstance(node, list):
        return "[" + ", ".join(_canonical(item) for item in node) + "]"
    return repr(node)


def _code_without_docs(obj: object) -> str:
    """The code of a function or class with docstrings and comments removed, so that
    editing prose never asks for a version bump (:func:`_canonical` of its AST)."""
    tree = ast.parse(textwrap.dedent(inspect.getsource(obj)))
    for node in ast.walk(tree):
        body = getattr(node, "body", None)
        if (
            isinstance(body, list)
            and body
            and isinstance(body[0], ast.Expr)
            and isinstance(body[0].value, ast.Constant)
            and isinstance(body[0].value.value, str)
        ):
            node.body = body[1:] or [ast.Pass()]
    return _canonical(tree)


def code_fingerprint(kind: str, stages: dict[str, Stage] | None = None) -> str:
    """sha256 (16 hex digits) of the code of ``kind`` (its :attr:`Stage.code`), without
    docstrings or comments. ``tests/infra/test_stages.py`` compares it with the fingerprint
    stored for the stage's current version."""
    table = STAGES if stages is None else stages
    digest = hashlib.sha256()
    for ref in table[kind].code:
        module, _, name = ref.partition(":")
        digest.update(_code_without_docs(getattr(importlib.import_module(module), name)).encode())
    return digest.hexdigest()[:16]


def fingerprints(stages: dict[str, Stage] | None = None) -> dict[str, dict[str, object]]:
    """Every stage's version and code fingerprint, as ``tests/infra/stage_fingerprints.json``
    stores them. Refresh that file with ``python -m steerspace.infra.stages`` after bumping a
    version (or after a refactor that provably changes no result)."""
    table = STAGES if stages is None else stages
    return {
        kind: {"version": s.version, "code": code_fingerprint(kind, table)}
        for kind, s in sorted(table.items())
    }


if __name__ == "__main__":
    import json
    import sys

    json.dump(fingerprints(), sys.stdout, indent=1)
    sys.stdout.write("\n")

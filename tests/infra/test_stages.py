"""A stage's code cannot change without its version being bumped (or the change being
declared result-neutral by refreshing ``tests/infra/stage_fingerprints.json``)."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from steerspace.infra.stages import STAGES, Stage, code_fingerprint, fingerprints

STORED = json.loads((Path(__file__).parent / "stage_fingerprints.json").read_text())


@pytest.mark.parametrize("kind", sorted(STAGES))
def test_stage_code_matches_its_version(kind):
    stored = STORED.get(kind)
    assert stored is not None, f"stage {kind!r} is new: run python -m steerspace.infra.stages"
    now = code_fingerprint(kind)
    assert (stored["version"], stored["code"]) == (STAGES[kind].version, now), (
        f"the code of stage {kind!r} changed (fingerprint {now}, stored {stored['code']}): "
        "if results can change, bump its version in steerspace.infra.stages.STAGES; then (or for a "
        "result-neutral refactor) refresh tests/infra/stage_fingerprints.json with "
        "`python -m steerspace.infra.stages > tests/infra/stage_fingerprints.json`"
    )


def test_fingerprints_ignore_docstrings_but_not_code(tmp_path, monkeypatch):
    module = tmp_path / "fp_probe.py"
    monkeypatch.syspath_prepend(str(tmp_path))
    table = {"probe": Stage(1, code=("fp_probe:f",))}

    def fingerprint(source: str) -> str:
        import importlib
        import sys

        module.write_text(source)
        sys.modules.pop("fp_probe", None)
        importlib.invalidate_caches()
        return fingerprints(table)["probe"]["code"]

    base = fingerprint('def f(x):\n    """Doc."""\n    return x + 1\n')
    assert fingerprint('def f(x):\n    """Other doc."""\n    # note\n    return x + 1\n') == base
    assert fingerprint('def f(x):\n    """Doc."""\n    return x + 2\n') != base


def test_a_library_upgrade_recomputes_exactly_the_stages_whose_version_changed(
    tiny_model_dir, tmp_path
):
    """A pooling fix bumps ``activations``: activations and expert tables (which read
    them) are recomputed; embeddings, generations and the unit count are not."""
    from dataclasses import replace

    from steerspace.config import load_config
    from steerspace.infra.cache import Cache
    from steerspace.pipeline import Pipeline

    cfg = load_config(
        "gemma-3-270m",
        model=str(tiny_model_dir),
        dtype="float32",
        cache_dir=str(tmp_path / "cache"),
        languages=["en", "es"],
        targets=["es"],
        n_expert_sentences=6,
        n_eval_sentences=4,
        n_heldout_sentences=2,
        n_generations=2,
        max_new_tokens=4,
        k=4,
        batch_size=4,
    )

    def run(stages):
        pipe = Pipeline(cfg, progress=False, cache=Cache(cfg.cache_dir, stages=stages))
        pipe.embeddings("en", pipe.intervention("es"))
        pipe.generations()
        return sorted(pipe.cache.computed)

    first = run(STAGES)
    assert run(STAGES) == []
    upgraded = {**STAGES, "activations": replace(STAGES["activations"], version=2)}
    # one recording pass per language stores its mean- and max-pooled activations
    assert run(upgraded) == ["activations"] * 4 + ["experts"]
    assert set(first) - {"activations", "experts"} == {"units", "layer_embeddings", "generations"}

"""bench/determinism.py tells byte-identical result folders from differing ones."""

from __future__ import annotations

from bench.determinism import compare


def test_identical_differing_and_missing_files_are_told_apart(tmp_path):
    a, b = tmp_path / "a", tmp_path / "b"
    for root in (a, b):
        (root / "claims").mkdir(parents=True)
        (root / "same.csv").write_text("x,y\n1,0.5\n")
    (a / "claims" / "drift.csv").write_text("x,y\n1,0.5\n2,0.25\n")
    (b / "claims" / "drift.csv").write_text("x,y\n1,0.5\n2,0.2500001\n")
    (a / "only_a.csv").write_text("x\n1\n")
    result = compare(a, b)
    assert result["files"] == 3
    assert result["identical"] == ["same.csv"]
    assert list(result["different"]) == ["claims/drift.csv"]
    assert abs(result["different"]["claims/drift.csv"] - 1e-7) < 1e-12
    assert result["missing"] == ["only_a.csv"]

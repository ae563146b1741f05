"""Cache: reuse, key sensitivity, and no partial files after a failure."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from steerspace.cache import Cache, atomic_write, key_hash


def test_array_is_computed_once_and_reused(tmp_path):
    cache = Cache(tmp_path)
    calls = []

    def compute():
        calls.append(1)
        return np.arange(4.0)

    a = cache.array("emb", {"model": "m", "lang": "es"}, compute, label="m-es")
    b = cache.array("emb", {"model": "m", "lang": "es"}, compute, label="m-es")
    np.testing.assert_array_equal(a, b)
    assert len(calls) == 1
    cache.array("emb", {"model": "m", "lang": "fr"}, compute)
    assert len(calls) == 2
    assert (
        Cache(tmp_path)
        .path("emb", {"model": "m", "lang": "es"}, label="m-es")
        .name.startswith("m-es-")
    )


def test_key_hash_is_order_independent_and_sensitive():
    assert key_hash({"a": 1, "b": [1, 2]}) == key_hash({"b": [1, 2], "a": 1})
    assert key_hash({"a": 1}) != key_hash({"a": 2})


def test_failed_compute_leaves_no_entry(tmp_path):
    cache = Cache(tmp_path)

    def boom():
        raise RuntimeError("interrupted")

    with pytest.raises(RuntimeError):
        cache.array("emb", {"k": 1}, boom)
    assert not list(tmp_path.rglob("*.npy")) and not list(tmp_path.rglob("*.tmp"))


def test_atomic_write_cleans_up_on_error(tmp_path):
    target = tmp_path / "x" / "table.csv"

    def half_write(tmp):
        tmp.write_text("half")
        raise OSError("disk full")

    with pytest.raises(OSError):
        atomic_write(target, half_write)
    assert not target.exists() and not list(target.parent.iterdir())


def test_table_arrays_and_json_roundtrip(tmp_path):
    cache = Cache(tmp_path)
    df = pd.DataFrame({"unit": [1, 2], "auroc": [0.9, 0.4]})
    pd.testing.assert_frame_equal(cache.table("t", {"x": 1}, lambda: df), df)
    pd.testing.assert_frame_equal(cache.table("t", {"x": 1}, lambda: None), df)
    arrs = cache.arrays("a", {"x": 1}, lambda: {"m.0": np.ones(2), "m.1": np.zeros(3)})
    again = cache.arrays("a", {"x": 1}, lambda: {})
    assert set(again) == {"m.0", "m.1"} and np.array_equal(arrs["m.1"], again["m.1"])
    assert cache.json("j", {"x": 1}, lambda: {"n": 3}) == cache.json("j", {"x": 1}, lambda: None)

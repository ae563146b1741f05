"""Cache: reuse, keys (stage versions), integrity checks, no partial entries, inventory."""

from __future__ import annotations

import errno
import json
import os

import numpy as np
import pandas as pd
import pytest

from steerspace.infra.cache import Cache, CacheWriteError, atomic_write, key_hash
from steerspace.infra.stages import STAGES, Stage, stage_version

STAGES_V1 = {"emb": Stage(1), "t": Stage(1), "a": Stage(1), "j": Stage(1, reads=("emb",))}


def counting(value):
    calls = []

    def compute():
        calls.append(1)
        return value

    return compute, calls


def test_array_is_computed_once_and_reused(tmp_path):
    cache = Cache(tmp_path, stages=STAGES_V1)
    compute, calls = counting(np.arange(4.0))
    a = cache.array("emb", {"model": "m", "lang": "es"}, compute, label="m-es")
    b = cache.array("emb", {"model": "m", "lang": "es"}, compute, label="m-es")
    np.testing.assert_array_equal(a, b)
    assert len(calls) == 1
    cache.array("emb", {"model": "m", "lang": "fr"}, compute)
    assert len(calls) == 2
    assert cache.path("emb", {"model": "m", "lang": "es"}, label="m-es").name.startswith("m-es-")
    assert cache.computed == ["emb", "emb"]


def test_key_hash_is_order_independent_and_sensitive():
    assert key_hash({"a": 1, "b": [1, 2]}) == key_hash({"b": [1, 2], "a": 1})
    assert key_hash({"a": 1}) != key_hash({"a": 2})


def test_stage_version_folds_in_what_the_stage_reads():
    assert stage_version("j", STAGES_V1) == "j.1+emb.1"
    assert stage_version("experts") == "experts.1+activations.1"
    with pytest.raises(KeyError, match="has no version"):
        stage_version("nope", STAGES_V1)
    assert set(STAGES) >= {"activations", "experts", "embeddings", "generations"}


def test_a_version_bump_recomputes_that_stage_and_what_reads_it_only(tmp_path):
    for kind in ("emb", "t", "j"):
        Cache(tmp_path, stages=STAGES_V1).json(kind, {"x": 1}, lambda: 1)
    upgraded = Cache(tmp_path, stages={**STAGES_V1, "emb": Stage(2)})
    for kind in ("emb", "t", "j"):
        upgraded.json(kind, {"x": 1}, lambda: 2)
    assert upgraded.computed == ["emb", "j"]
    stale = [e.kind for e in upgraded.entries() if upgraded.is_stale(e)]
    assert sorted(stale) == ["emb", "j"]
    upgraded.prune(stale=True)
    assert sorted(e.kind for e in upgraded.entries()) == ["emb", "j", "t"]
    assert not any(upgraded.is_stale(e) for e in upgraded.entries())


def test_every_entry_has_a_manifest_with_key_version_and_checksum(tmp_path):
    cache = Cache(tmp_path, stages=STAGES_V1)
    cache.array("emb", {"model": "m"}, lambda: np.ones(3))
    (entry,) = cache.entries()
    meta = json.loads(cache.meta_path(entry.path).read_text())
    assert meta["key"]["model"] == "m" and meta["stage"] == "emb.1"
    assert meta["bytes"] == entry.path.stat().st_size and len(meta["sha256"]) == 64
    assert meta["library_version"] and meta["created_utc"].endswith("Z")


@pytest.mark.parametrize("damage", ["truncate", "bitflip", "drop_manifest", "bad_manifest"])
def test_a_damaged_entry_is_reported_and_recomputed_never_loaded(tmp_path, damage, capsys):
    cache = Cache(tmp_path, stages=STAGES_V1)
    good = np.arange(1000.0)
    cache.array("emb", {"k": 1}, lambda: good)
    path = cache.path("emb", {"k": 1})
    data = bytearray(path.read_bytes())
    if damage == "truncate":
        path.write_bytes(data[: len(data) // 2])
    elif damage == "bitflip":
        data[-5] ^= 0x10
        path.write_bytes(bytes(data))
    elif damage == "drop_manifest":
        cache.meta_path(path).unlink()
    else:
        cache.meta_path(path).write_text("{not json")
    fresh = Cache(tmp_path, stages=STAGES_V1)
    assert fresh.verify()
    compute, calls = counting(good)
    again = fresh.array("emb", {"k": 1}, compute)
    assert calls == [1] and np.array_equal(again, good)
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and "recomputing" in err[0]
    assert Cache(tmp_path, stages=STAGES_V1).verify() == {}


def damage_entry(path, damage: str) -> str:
    """Truncate or bit-flip the data file at ``path``; the word its check reports."""
    data = bytearray(path.read_bytes())
    if damage == "truncate":
        path.write_bytes(data[: len(data) // 2])
        return "truncated"
    data[-5] ^= 0x10
    path.write_bytes(bytes(data))
    return "checksum mismatch"


def peek_then_put(cache: Cache, value: np.ndarray) -> None:
    """What the pipeline does for embeddings and layer embeddings: the stored array, or
    the one it computed stored."""
    if cache.peek_array("emb", {"k": 1}) is None:
        cache.put_array("emb", {"k": 1}, value)


# how each of the cache's readers and writers meets an entry that a run computed before:
# the kind, the entry's extension and the call (put_arrays: the max-pooled activations)
FINDERS = {
    "array": ("emb", "npy", lambda c, v: c.array("emb", {"k": 1}, lambda: v)),
    "peek_array+put_array": ("emb", "npy", peek_then_put),
    "put_array": ("emb", "npy", lambda c, v: c.put_array("emb", {"k": 1}, v)),
    "put_arrays": ("a", "npz", lambda c, v: c.put_arrays("a", {"k": 1}, {"x": v})),
}


@pytest.mark.parametrize("under_runner", [True, False], ids=["steerspace book", "plain python"])
@pytest.mark.parametrize("finder", sorted(FINDERS))
@pytest.mark.parametrize("damage", ["truncate", "bitflip"])
def test_a_repair_is_one_line_on_the_terminal_whoever_finds_it(
    tmp_path, monkeypatch, capsys, damage, finder, under_runner
):
    """Under ``steerspace book`` the line goes to the progress file (the runner prints
    it, prefixed with the chapter; a kernel's stderr would land in the notebook), in a
    plain session to stderr; exactly one line, naming the entry, and the entry whole."""
    from steerspace.infra.progress import ENV_VAR

    kind, ext, find = FINDERS[finder]
    good = np.arange(1000.0)
    cache = Cache(tmp_path / "cache", stages=STAGES_V1)
    find(cache, good)
    path = cache.path(kind, {"k": 1}, ext=ext)
    word = damage_entry(path, damage)
    log = tmp_path / "progress.log"
    if under_runner:
        monkeypatch.setenv(ENV_VAR, str(log))
    else:
        monkeypatch.delenv(ENV_VAR, raising=False)
    capsys.readouterr()
    find(Cache(tmp_path / "cache", stages=STAGES_V1), good)
    err = capsys.readouterr().err.splitlines()
    lines = log.read_text().splitlines() if under_runner else err
    assert under_runner is False or err == []  # nothing for the notebook
    prefix = "" if under_runner else "[steerspace] "
    assert len(lines) == 1, lines
    assert lines[0].startswith(f"{prefix}cache: {kind}/{path.name}: {word}"), lines[0]
    assert Cache(tmp_path / "cache", stages=STAGES_V1).verify() == {}


def test_a_missing_data_file_is_recomputed(tmp_path):
    cache = Cache(tmp_path, stages=STAGES_V1)
    cache.json("j", {"k": 1}, lambda: [1])
    cache.path("j", {"k": 1}, ext="json").unlink()
    compute, calls = counting([1])
    assert Cache(tmp_path, stages=STAGES_V1).json("j", {"k": 1}, compute) == [1] and calls


def test_failed_compute_leaves_no_entry(tmp_path):
    cache = Cache(tmp_path, stages=STAGES_V1)

    def boom():
        raise RuntimeError("interrupted")

    with pytest.raises(RuntimeError):
        cache.array("emb", {"k": 1}, boom)
    assert not cache.entries() and not list(tmp_path.rglob("*.tmp"))


def test_a_full_disk_fails_in_one_line_and_keeps_nothing(tmp_path, monkeypatch):
    cache = Cache(tmp_path, stages=STAGES_V1)

    def no_space(*args, **kwargs):
        raise OSError(errno.ENOSPC, os.strerror(errno.ENOSPC))

    monkeypatch.setattr(np, "save", no_space)
    with pytest.raises(CacheWriteError) as info:
        cache.array("emb", {"k": 1}, lambda: np.ones(3))
    message = str(info.value)
    assert "\n" not in message and "No space left" in message and "STEERSPACE_CACHE" in message
    assert not cache.entries() and not cache.leftovers() and not list(tmp_path.rglob("*.tmp"))


def test_atomic_write_cleans_up_on_error(tmp_path):
    target = tmp_path / "x" / "table.csv"

    def half_write(tmp):
        tmp.write_text("half")
        raise OSError("disk full")

    with pytest.raises(OSError):
        atomic_write(target, half_write)
    assert not target.exists() and not list(target.parent.iterdir())


def test_table_arrays_and_json_roundtrip(tmp_path):
    cache = Cache(tmp_path, stages=STAGES_V1)
    df = pd.DataFrame({"unit": [1, 2], "auroc": [0.9, 0.4]})
    pd.testing.assert_frame_equal(cache.table("t", {"x": 1}, lambda: df), df)
    pd.testing.assert_frame_equal(cache.table("t", {"x": 1}, lambda: None), df)
    arrs = cache.arrays("a", {"x": 1}, lambda: {"m.0": np.ones(2), "m.1": np.zeros(3)})
    again = cache.arrays("a", {"x": 1}, lambda: {})
    assert set(again) == {"m.0", "m.1"} and np.array_equal(arrs["m.1"], again["m.1"])
    assert cache.json("j", {"x": 1}, lambda: {"n": 3}) == cache.json("j", {"x": 1}, lambda: None)


def test_prune_by_age_and_model_and_leftovers(tmp_path):
    cache = Cache(tmp_path, stages=STAGES_V1)
    cache.json("t", {"model": "a"}, lambda: 1)
    cache.json("t", {"model": "b"}, lambda: 2)
    old = cache.path("t", {"model": "a"}, ext="json")
    os.utime(old, (0, 0))
    (tmp_path / "t" / ".x.json.123.tmp").write_text("half")
    (tmp_path / "models" / ".convert-abc").mkdir(parents=True)
    assert len(cache.leftovers()) == 2
    assert cache.prune(older_than_days=30, dry_run=True)[0] == old and len(cache.entries()) == 2
    cache.prune(older_than_days=30)
    assert [e.meta["key"]["model"] for e in cache.entries()] == ["b"] and not cache.leftovers()
    cache.prune(model="b")
    assert not cache.entries()


@pytest.mark.parametrize("umask", [0o022, 0o002])
def test_entries_results_manifests_and_folders_follow_the_umask(tmp_path, umask):
    """A cache shared by a class: what one user writes, the others (umask 002: the group)
    can read. ``tempfile`` creates files 0600 and folders 0700 whatever the umask; every
    file and folder steerspace writes has the umask's mode instead."""
    from pathlib import Path

    from steerspace.infra.cache_archive import pack, unpack
    from steerspace.infra.chapter_cache import ChapterCache
    from steerspace.infra.converted_model import finish_converted_folder
    from steerspace.infra.manifest import write_manifest

    previous = os.umask(umask)
    try:
        cache = Cache(tmp_path / "cache", stages=STAGES_V1)
        cache.array("emb", {"k": 1}, lambda: np.arange(3.0))  # an entry and its manifest
        cache.json("j", {"k": 1}, lambda: [1, 2])
        results = tmp_path / "results" / "tiny"
        atomic_write(results / "table.csv", lambda tmp: tmp.write_text("a\n1\n"))  # a result
        write_manifest(results / "manifest.json", {"status": "ok"})  # a run's manifest
        notebook = tmp_path / "book" / "ch.ipynb"
        notebook.parent.mkdir()
        notebook.write_text("{}")
        ChapterCache(cache.root).store(  # an executed chapter: a folder
            {"chapter": "ch"}, notebook, results, [results / "table.csv"], seconds=1.0
        )
        model = cache.root / "models" / "m"  # a converted model, saved 0600 as
        model.mkdir(parents=True)  # save_pretrained does
        for name in ("config.json", "model.safetensors"):
            (model / name).write_text("{}")
            (model / name).chmod(0o600)
        finish_converted_folder(model)
        pack(cache, tmp_path / "class.tar", with_model=True)
        student = Cache(tmp_path / "student")
        unpack(tmp_path / "class.tar", student)
    finally:
        os.umask(previous)
    written = [p for p in Path(tmp_path).rglob("*") if p.name != "class.tar"]
    assert len([p for p in written if p.is_file()]) > 15
    wrong = {
        str(p.relative_to(tmp_path)): oct(p.stat().st_mode & 0o777)
        for p in written
        if p.stat().st_mode & 0o777 != (0o777 if p.is_dir() else 0o666) & ~umask
    }
    assert wrong == {}

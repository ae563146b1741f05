"""``steerspace cache``: list, verify, prune, and pack/unpack of a cache for a class."""

from __future__ import annotations

import io
import json
import tarfile

import numpy as np
import pytest

from steerspace.book.cli import main
from steerspace.infra.cache import Cache
from steerspace.infra.cache_archive import MANIFEST, describe, pack, unpack


def filled(root) -> Cache:
    cache = Cache(root)
    cache.array("embeddings", {"model": "m", "lang": "es"}, lambda: np.arange(10.0), label="m-es")
    cache.json("units", {"model": "m"}, lambda: 128)
    cache.json("units", {"model": "other"}, lambda: 64)
    return cache


def test_pack_then_unpack_into_an_empty_cache_loads_without_computing(tmp_path):
    teacher = filled(tmp_path / "teacher")
    manifest = pack(teacher, tmp_path / "class.tar.gz")
    assert manifest["entries"] == 3 and describe(tmp_path / "class.tar.gz")["entries"] == 3
    student = Cache(tmp_path / "student")
    assert unpack(tmp_path / "class.tar.gz", student) == {"written": 6, "skipped": 0}
    assert student.verify() == {}

    def must_not_run():
        raise AssertionError("computed although unpacked")

    got = student.array("embeddings", {"model": "m", "lang": "es"}, must_not_run, label="m-es")
    assert np.array_equal(got, np.arange(10.0)) and student.computed == []
    assert unpack(tmp_path / "class.tar.gz", student) == {"written": 0, "skipped": 6}


def test_pack_can_select_one_model(tmp_path):
    teacher = filled(tmp_path / "teacher")
    assert pack(teacher, tmp_path / "m.tar", model="m")["entries"] == 2


def test_a_tampered_archive_is_refused_and_leaves_nothing(tmp_path):
    teacher = filled(tmp_path / "teacher")
    pack(teacher, tmp_path / "class.tar")
    with tarfile.open(tmp_path / "class.tar") as tar:
        members = [(m, tar.extractfile(m).read() if m.isfile() else None) for m in tar]
    bad = tmp_path / "bad.tar"
    with tarfile.open(bad, "w") as tar:
        for member, data in members:
            if member.name.endswith(".npy"):
                data = data[:-8] + b"\x00" * 8
            tar.addfile(member, io.BytesIO(data))
    student = Cache(tmp_path / "student")
    with pytest.raises(ValueError, match="does not match its checksum"):
        unpack(bad, student)
    assert not list((tmp_path / "student").rglob("*.tmp"))
    assert all(e.path.suffix != ".npy" for e in student.entries())


def test_an_archive_path_that_leaves_the_cache_is_refused(tmp_path):
    evil = tmp_path / "evil.tar"
    payload = b"x"
    listing = {"format": 1, "entries": 0, "bytes": 1, "files": []}
    listing["files"].append({"path": "../escape.txt", "bytes": 1, "sha256": "0" * 64})
    with tarfile.open(evil, "w") as tar:
        data = json.dumps(listing).encode()
        info = tarfile.TarInfo(MANIFEST)
        info.size = len(data)
        tar.addfile(info, io.BytesIO(data))
        info = tarfile.TarInfo("../escape.txt")
        info.size = 1
        tar.addfile(info, io.BytesIO(payload))
    with pytest.raises(ValueError, match="would leave the cache directory"):
        unpack(evil, Cache(tmp_path / "student"))
    assert not (tmp_path / "escape.txt").exists()


def test_cli_list_verify_prune_pack_unpack(tmp_path, capsys):
    root = tmp_path / "cache"
    cache = filled(root)
    assert main(["cache", "--cache-dir", str(root), "list"]) == 0
    out = capsys.readouterr().out
    assert "3 entries" in out and "units" in out and "embeddings" in out
    assert main(["cache", "--cache-dir", str(root), "verify"]) == 0
    victim = cache.path("units", {"model": "m"}, ext="json")
    victim.write_text("999")
    assert main(["cache", "--cache-dir", str(root), "verify"]) == 1
    assert "1 broken" in capsys.readouterr().out
    assert main(["cache", "--cache-dir", str(root), "prune", "--broken"]) == 0
    assert len(Cache(root).entries()) == 2
    archive = tmp_path / "c.tar"
    assert main(["cache", "--cache-dir", str(root), "pack", str(archive)]) == 0
    assert main(["cache", "--cache-dir", str(tmp_path / "s"), "unpack", str(archive)]) == 0
    assert "4 files written" in capsys.readouterr().out
    assert main(["cache", "--cache-dir", str(tmp_path / "s"), "unpack", "nope.tar"]) == 2


def test_a_usage_error_is_one_line(capsys):
    with pytest.raises(SystemExit) as info:
        main(["book", "--edition", "pupil"])
    assert info.value.code == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and err[0].startswith("steerspace: error: argument --edition")

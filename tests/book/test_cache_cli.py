"""``steerspace cache``: list, verify, prune, and pack/unpack of a cache for a class."""

from __future__ import annotations

import io
import json
import tarfile
from pathlib import Path

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


# ------------------------------------------------------------------ refused archives
def make_archive(path, files: dict[str, bytes], manifest: dict | None = None) -> None:
    """A tar (gzip for .gz) with a manifest listing ``files`` (sizes and sha256 right)
    unless ``manifest`` is given, then the files."""
    import hashlib

    listing = [
        {"path": name, "bytes": len(data), "sha256": hashlib.sha256(data).hexdigest()}
        for name, data in files.items()
    ]
    manifest = manifest if manifest is not None else {"format": 1, "files": listing}
    with tarfile.open(path, "w:gz" if str(path).endswith(".gz") else "w") as tar:
        for name, data in [(MANIFEST, json.dumps(manifest).encode()), *files.items()]:
            info = tarfile.TarInfo(name)
            info.size = len(data)
            tar.addfile(info, io.BytesIO(data))


def refused(tmp_path, capsys, archive) -> str:
    """Unpack ``archive`` with the CLI: exit 2, one line, nothing in the cache."""
    student = tmp_path / "student"
    code = main(["cache", "--cache-dir", str(student), "unpack", str(archive)])
    captured = capsys.readouterr()
    err = captured.err.strip().splitlines()
    assert code == 2 and len(err) == 1 and not captured.out, captured
    assert err[0].startswith(f"steerspace: error: cache archive '{archive}'"), err[0]
    assert err[0].endswith("; nothing was unpacked") or not archive.exists(), err[0]
    assert not student.exists() or not [p for p in student.rglob("*") if p.is_file()]
    return err[0]


def entry_files(tmp_path) -> dict[str, bytes]:
    """The files of a real cache's two entries, by archive path."""
    cache = Cache(tmp_path / "teacher")
    cache.json("units", {"model": "m"}, lambda: 128)
    cache.array("embeddings", {"model": "m"}, lambda: np.arange(10.0), label="m")
    return {
        p.relative_to(cache.root).as_posix(): p.read_bytes()
        for p in sorted(cache.root.rglob("*"))
        if p.is_file() and ".locks" not in p.parts
    }


def archive_of(tmp_path: Path, files: dict[str, bytes], manifest: dict | None = None) -> Path:
    """``class.tar`` in ``tmp_path`` holding ``files`` (:func:`make_archive`)."""
    make_archive(tmp_path / "class.tar", files, manifest)
    return tmp_path / "class.tar"


def data_file(files: dict[str, bytes]) -> str:
    """The archive path of the array entry among :func:`entry_files`."""
    return next(name for name in files if name.endswith(".npy"))


def without(files: dict[str, bytes], name: str) -> dict[str, bytes]:
    return {k: v for k, v in files.items() if k != name}


def not_a_tar(tmp_path: Path) -> Path:
    junk = tmp_path / "class.tar"
    junk.write_bytes(b"this is not a tar archive\n" * 40)
    return junk


def truncated(tmp_path: Path, name: str) -> Path:
    """A packed archive cut at two thirds."""
    whole = tmp_path / f"whole-{name}"
    pack(filled(tmp_path / "teacher"), whole)
    cut = tmp_path / name
    cut.write_bytes(whole.read_bytes()[: whole.stat().st_size * 2 // 3])
    return cut


def plain_tar_named_gz(tmp_path: Path) -> Path:
    plain = tmp_path / "plain.tar"
    pack(filled(tmp_path / "teacher"), plain)
    misnamed = tmp_path / "class.tar.gz"
    misnamed.write_bytes(plain.read_bytes())
    return misnamed


def leaving_the_cache(tmp_path: Path) -> Path:
    """An archive (manifest included) whose one file is ``../escape.txt``."""
    listing = {"format": 1, "files": [{"path": "../escape.txt", "bytes": 1, "sha256": "0" * 64}]}
    evil = tmp_path / "evil.tar"
    with tarfile.open(evil, "w") as tar:
        for name, data in [(MANIFEST, json.dumps(listing).encode()), ("../escape.txt", b"x")]:
            info = tarfile.TarInfo(name)
            info.size = len(data)
            tar.addfile(info, io.BytesIO(data))
    return evil


def manifest_not_matching(tmp_path: Path) -> Path:
    """An entry whose .meta.json names another checksum (the archive's listing is right)."""
    files = entry_files(tmp_path)
    meta = json.loads(files[f"{data_file(files)}.meta.json"])
    meta["sha256"] = "0" * 64
    files[f"{data_file(files)}.meta.json"] = json.dumps(meta).encode()
    return archive_of(tmp_path, files)


COMPLETE_ONLY = "only complete cache entries and converted models are unpacked"
#: Every archive ``cache unpack`` refuses (issue 28's probes): a builder of it in a
#: temporary folder, and what the one line says.
BAD_ARCHIVES = {
    "no such file": (lambda t: t / "nope.tar", "does not exist"),
    "not a tar archive": (not_a_tar, "is not a tar archive"),
    "a truncated tar": (lambda t: truncated(t, "class.tar"), "truncated"),
    "a truncated tar.gz": (lambda t: truncated(t, "class.tar.gz"), "truncated"),
    "a plain tar named .tar.gz": (plain_tar_named_gz, "is not gzip-compressed"),
    "a manifest without files": (
        lambda t: archive_of(t, entry_files(t), manifest={"format": 1, "entries": 2}),
        "has a manifest without 'files'",
    ),
    "a path leaving the cache": (leaving_the_cache, "would leave the cache directory"),
    "a planted executed chapter": (
        lambda t: archive_of(t, {**entry_files(t), "chapters/intro-0123/meta.json": b"{}"}),
        COMPLETE_ONLY,
    ),
    "a file without its manifest": (
        lambda t: archive_of(t, without(files := entry_files(t), f"{data_file(files)}.meta.json")),
        COMPLETE_ONLY,
    ),
    "a manifest without its file": (
        lambda t: archive_of(t, without(files := entry_files(t), data_file(files))),
        COMPLETE_ONLY,
    ),
    "a stray file": (
        lambda t: archive_of(t, {**entry_files(t), "model-ids.json": b"{}"}),
        COMPLETE_ONLY,
    ),
    "a model without checksums": (
        lambda t: archive_of(t, {**entry_files(t), "models/m/config.json": b"{}"}),
        COMPLETE_ONLY,
    ),
    "an entry whose manifest does not match its data": (
        manifest_not_matching,
        "whose manifest does not match its data",
    ),
}


def files_under(folder: Path) -> dict[str, tuple[int, int]]:
    """Every file under ``folder``: its size and modification time."""
    return {
        str(p.relative_to(folder)): (p.stat().st_size, p.stat().st_mtime_ns)
        for p in folder.rglob("*")
        if p.is_file()
    }


@pytest.mark.parametrize("case", list(BAD_ARCHIVES))
def test_a_bad_archive_is_refused_in_one_line_and_writes_nothing(tmp_path, capsys, case):
    """Exit 2, one line naming the archive and what is wrong, nothing in the cache and
    nothing changed beside it."""
    build, says = BAD_ARCHIVES[case]
    archive = build(tmp_path)
    before = files_under(tmp_path)
    assert says in refused(tmp_path, capsys, archive)
    assert files_under(tmp_path) == before


def test_a_failed_commit_undoes_every_rename(tmp_path, monkeypatch):
    """All or nothing: the third rename into the cache fails; the two before are
    undone, and a file that one of them replaced is back as it was."""
    import os

    import steerspace.infra.cache_archive as archive_module

    teacher = filled(tmp_path / "teacher")
    pack(teacher, tmp_path / "class.tar")
    student = Cache(tmp_path / "student")
    first = sorted(p for p in teacher.root.rglob("*") if p.is_file() and ".locks" not in p.parts)[0]
    old = student.root / first.relative_to(teacher.root)
    old.parent.mkdir(parents=True)
    old.write_text("an older file")
    real, calls = os.replace, []

    def flaky(src, dst):
        calls.append(dst)
        if len([d for d in calls if ".replaced" not in str(d)]) == 3:
            raise OSError(28, "No space left on device")
        return real(src, dst)

    monkeypatch.setattr(archive_module.os, "replace", flaky)
    with pytest.raises(OSError, match="nothing was unpacked"):
        unpack(tmp_path / "class.tar", student)
    left = [p for p in student.root.rglob("*") if p.is_file()]
    assert left == [old] and old.read_text() == "an older file"


# ------------------------------------------------------------------ converted models
def fake_converted_model(cache_root: Path) -> Path:
    """A converted model's folder as the conversion leaves it (random bytes for the
    weights; nothing is converted), with its checksum file."""
    from steerspace.core.models import EMBEDDED_DIR
    from steerspace.infra.converted_model import write_model_checksums

    folder = cache_root / "models" / EMBEDDED_DIR
    folder.mkdir(parents=True)
    (folder / "config.json").write_text('{"model_type": "gemma3_text"}')
    (folder / "model.safetensors").write_bytes(np.random.default_rng(0).bytes(4096))
    (folder / "tokenizer.json").write_text("{}")
    write_model_checksums(folder)
    return folder


def test_a_converted_model_travels_with_its_checksums(tmp_path, capsys):
    teacher = filled(tmp_path / "teacher")
    fake_converted_model(teacher.root)
    manifest = pack(teacher, tmp_path / "class.tar", with_model=True)
    assert manifest["skipped"] == {}
    student = tmp_path / "student"
    assert main(["cache", "--cache-dir", str(student), "unpack", str(tmp_path / "class.tar")]) == 0
    assert main(["cache", "--cache-dir", str(student), "verify"]) == 0
    assert "models: 1 intact, 0 damaged" in capsys.readouterr().out


def test_verify_reports_a_damaged_converted_model(tmp_path, capsys):
    root = tmp_path / "cache"
    filled(root)
    weights = fake_converted_model(root) / "model.safetensors"
    data = bytearray(weights.read_bytes())
    data[100] ^= 0xFF
    weights.write_bytes(bytes(data))
    assert main(["cache", "--cache-dir", str(root), "verify"]) == 1
    out = capsys.readouterr().out.splitlines()
    assert "models/gemma-3-270m-q4_k_m-f32: damaged model (model.safetensors does not match " \
        "its checksum (corrupted)); its next use converts it again" in out  # fmt: skip
    assert out[-1] == "3 intact, 0 broken; models: 0 intact, 1 damaged"
    # a damaged model is left out of an archive, and refused by unpack
    assert pack(Cache(root), tmp_path / "c.tar", with_model=True)["skipped"]
    archive = tmp_path / "bad-model.tar"
    make_archive(archive, {
        f"models/m/{p.name}": p.read_bytes() for p in weights.parent.iterdir() if p.is_file()
        and not p.name.startswith(".")
    })  # fmt: skip
    assert "which is damaged" in refused(tmp_path, capsys, archive)

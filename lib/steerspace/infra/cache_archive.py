"""One archive of a computed cache, to hand to a class: ``steerspace cache pack|unpack``.

A teacher runs the heavy stages once, packs the cache, and students unpack it into an
empty cache directory, so their first build is warm. The archive is a tar file (gzip
when its name ends in ``.gz``) whose first member, :data:`MANIFEST`, lists every file
with its size and sha256; unpacking checks each file against it before renaming it
into place, and refuses paths that would leave the cache directory.
"""

from __future__ import annotations

import contextlib
import hashlib
import io
import json
import os
import tarfile
import tempfile
import time
from pathlib import Path, PurePosixPath

from steerspace.infra.cache import Cache, file_sha256, library_version

MANIFEST = "steerspace-cache-manifest.json"
FORMAT = 1


def _mode(path: Path, write: bool) -> str:
    gz = path.name.endswith((".gz", ".tgz"))
    return ("w:gz" if gz else "w") if write else ("r:gz" if gz else "r")


def pack(
    cache: Cache, archive: str | Path, *, model: str | None = None, with_model: bool = False
) -> dict:
    """Write every intact, current entry (of ``model``'s runs only, if given) and, with
    ``with_model``, the converted models to ``archive``; returns the manifest."""
    archive = Path(archive)
    files: list[Path] = []
    for entry in cache.entries():
        if cache.is_stale(entry) or cache.check(entry.path) is not None:
            continue
        if model is not None and entry.meta.get("key", {}).get("model") != model:
            continue
        files += [entry.path, cache.meta_path(entry.path)]
    models = cache.root / "models"
    if with_model and models.is_dir():
        files += sorted(p for p in models.rglob("*") if p.is_file() and not p.name.startswith("."))
    listing = [
        {
            "path": p.relative_to(cache.root).as_posix(),
            "bytes": p.stat().st_size,
            "sha256": file_sha256(p),
        }
        for p in files
    ]
    manifest = {
        "format": FORMAT,
        "library_version": library_version(),
        "created_utc": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime()),
        "entries": sum(1 for item in listing if item["path"].endswith(".meta.json")),
        "bytes": sum(item["bytes"] for item in listing),
        "files": listing,
    }
    archive.parent.mkdir(parents=True, exist_ok=True)
    tmp = archive.with_name(f".{archive.name}.tmp")
    try:
        with tarfile.open(tmp, _mode(archive, write=True)) as tar:
            payload = json.dumps(manifest, indent=1).encode()
            info = tarfile.TarInfo(MANIFEST)
            info.size, info.mtime = len(payload), int(time.time())
            tar.addfile(info, io.BytesIO(payload))
            for path, item in zip(files, listing, strict=True):
                tar.add(path, arcname=item["path"], recursive=False)
        os.replace(tmp, archive)
    finally:
        with contextlib.suppress(FileNotFoundError):
            tmp.unlink()
    return manifest


def _safe_relative(name: str) -> PurePosixPath:
    rel = PurePosixPath(name)
    if rel.is_absolute() or ".." in rel.parts or not rel.parts:
        raise ValueError(f"archive member {name!r} would leave the cache directory; not unpacked")
    return rel


def unpack(archive: str | Path, cache: Cache) -> dict[str, int]:
    """Check and copy the archive's files into ``cache``: each is written to a temporary
    file, compared with the manifest's size and sha256, and renamed into place. Files
    that are already there and intact are skipped. Returns counts."""
    archive = Path(archive)
    if not archive.is_file():
        raise FileNotFoundError(f"cache archive {str(archive)!r} does not exist")
    counts = {"written": 0, "skipped": 0}
    with tarfile.open(archive, _mode(archive, write=False)) as tar:
        first = tar.next()
        if first is None or first.name != MANIFEST:
            raise ValueError(f"{archive} is not a steerspace cache archive (no {MANIFEST} first)")
        manifest = json.loads(tar.extractfile(first).read())
        if manifest.get("format") != FORMAT:
            raise ValueError(f"{archive} has archive format {manifest.get('format')}, not {FORMAT}")
        expected = {item["path"]: item for item in manifest["files"]}
        for member in tar:
            if member.name == MANIFEST:
                continue
            item = expected.get(member.name)
            if item is None or not member.isfile():
                raise ValueError(f"archive member {member.name!r} is not in its manifest")
            target = cache.root / _safe_relative(member.name)
            if target.is_file() and target.stat().st_size == item["bytes"]:
                if file_sha256(target) == item["sha256"]:
                    counts["skipped"] += 1
                    continue
            target.parent.mkdir(parents=True, exist_ok=True)
            fd, tmp_name = tempfile.mkstemp(
                dir=target.parent, prefix=f".{target.name}.", suffix=".tmp"
            )
            tmp = Path(tmp_name)
            try:
                digest = hashlib.sha256()
                with os.fdopen(fd, "wb") as out, tar.extractfile(member) as src:
                    for block in iter(lambda: src.read(1 << 20), b""):
                        digest.update(block)
                        out.write(block)
                if digest.hexdigest() != item["sha256"] or tmp.stat().st_size != item["bytes"]:
                    raise ValueError(f"{member.name} in {archive} does not match its checksum")
                os.replace(tmp, target)
            finally:
                with contextlib.suppress(FileNotFoundError):
                    tmp.unlink()
            counts["written"] += 1
    return counts


def describe(archive: str | Path) -> dict:
    """The manifest of an archive, without unpacking it."""
    with tarfile.open(archive, _mode(Path(archive), write=False)) as tar:
        first = tar.next()
        if first is None or first.name != MANIFEST:
            raise ValueError(f"{archive} is not a steerspace cache archive")
        return json.loads(tar.extractfile(first).read())

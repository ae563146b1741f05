"""One archive of a computed cache, to hand to a class: ``steerspace cache pack|unpack``.

A teacher runs the heavy stages once, packs the cache, and students unpack it into an
empty cache directory, so their first build is warm. The archive is a tar file (gzip
when its name ends in ``.gz``) whose first member, :data:`MANIFEST`, lists every file
with its size and sha256.

:func:`unpack` writes only what :func:`pack` writes: complete cache entries (a data
file with its ``.meta.json``, whose checksum matches the data) and converted models
(a folder with its checksum file, :mod:`steerspace.infra.converted_model`). Anything
else (executed chapters, a file without its manifest, a path that would leave the
cache) refuses the whole archive. Every file is first extracted into a staging folder
inside the cache and checked against the archive's manifest and its entry's own
manifest; only when all of them are intact are they renamed into place (data files
first, manifests last), and a failed rename undoes the ones before it: an archive is
unpacked whole or not at all. A refused archive is reported in one line.
"""

from __future__ import annotations

import contextlib
import gzip
import hashlib
import io
import json
import os
import re
import shutil
import tarfile
import tempfile
import time
import zlib
from pathlib import Path, PurePosixPath

from steerspace.infra.cache import (
    META_SUFFIX,
    NOT_ENTRIES,
    UNPACK_PREFIX,
    Cache,
    file_sha256,
    library_version,
)
from steerspace.infra.converted_model import (
    MODEL_CHECKSUMS,
    check_model_folder,
    model_checksums,
    write_model_checksums,
)

MANIFEST = "steerspace-cache-manifest.json"
FORMAT = 1
_SHA256 = re.compile(r"[0-9a-f]{64}")
#: errors of a file that is not a (whole) tar archive, or not the compression its name says
_UNREADABLE = (tarfile.TarError, EOFError, zlib.error, gzip.BadGzipFile)


class ArchiveError(ValueError):
    """An archive that :func:`unpack` refuses (nothing of it is written); one line."""

    def __init__(self, archive: Path, problem: str) -> None:
        super().__init__(f"cache archive {str(archive)!r} {problem}; nothing was unpacked")


def _gz(path: Path) -> bool:
    return path.name.endswith((".gz", ".tgz"))


def _mode(path: Path, write: bool) -> str:
    gz = _gz(path)
    return ("w:gz" if gz else "w") if write else ("r:gz" if gz else "r:")


def model_folders(cache: Cache) -> list[Path]:
    """The converted models' folders (``<cache>/models/<name>``)."""
    models = cache.root / "models"
    if not models.is_dir():
        return []
    return sorted(p for p in models.iterdir() if p.is_dir() and not p.name.startswith("."))


def pack(
    cache: Cache, archive: str | Path, *, model: str | None = None, with_model: bool = False
) -> dict:
    """Write every intact, current entry (of ``model``'s runs only, if given) and, with
    ``with_model``, every intact converted model to ``archive``; returns the manifest
    (``skipped``: the model folders left out, with why)."""
    archive = Path(archive)
    files: list[Path] = []
    skipped: dict[str, str] = {}
    for entry in cache.entries():
        if cache.is_stale(entry) or cache.check(entry.path) is not None:
            continue
        if model is not None and entry.meta.get("key", {}).get("model") != model:
            continue
        files += [entry.path, cache.meta_path(entry.path)]
    for folder in model_folders(cache) if with_model else []:
        problem = check_model_folder(folder)
        if problem == "no checksum file":  # converted before checksums were kept
            write_model_checksums(folder)
            problem = check_model_folder(folder)
        if problem is not None:
            skipped[folder.relative_to(cache.root).as_posix()] = problem
            continue
        files += [folder / name for name in sorted(model_checksums(folder) or {})]
        files.append(folder / MODEL_CHECKSUMS)
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
        "entries": sum(1 for item in listing if item["path"].endswith(META_SUFFIX)),
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
    return {**manifest, "skipped": skipped}


def _safe_relative(archive: Path, name: str) -> PurePosixPath:
    """``name`` as a path inside the cache; an absolute path, ``..`` or an odd spelling
    refuses ``archive``."""
    rel = PurePosixPath(name)
    if rel.is_absolute() or ".." in rel.parts or not rel.parts or name != rel.as_posix():
        raise ArchiveError(archive, f"holds {name!r}, a path that would leave the cache directory")
    return rel


def _files_of(archive: Path, manifest: object) -> dict[str, dict]:
    """The manifest's ``files`` by path, each checked to be a path, a size and a sha256."""
    if not isinstance(manifest, dict):
        raise ArchiveError(archive, "has a manifest that is not a JSON object")
    if manifest.get("format") != FORMAT:
        raise ArchiveError(archive, f"has archive format {manifest.get('format')!r}, not {FORMAT}")
    items = manifest.get("files")
    if not isinstance(items, list):
        raise ArchiveError(
            archive,
            "has a manifest without 'files' (the list of path, bytes and sha256 that "
            "steerspace cache pack writes)",
        )
    files: dict[str, dict] = {}
    for item in items:
        ok = (
            isinstance(item, dict)
            and isinstance(item.get("path"), str)
            and isinstance(item.get("bytes"), int)
            and not isinstance(item.get("bytes"), bool)
            and item["bytes"] >= 0
            and isinstance(item.get("sha256"), str)
            and _SHA256.fullmatch(item["sha256"])
        )
        if not ok:
            raise ArchiveError(archive, f"has a malformed item in its manifest's files: {item!r}")
        if item["path"] in files:
            raise ArchiveError(archive, f"lists {item['path']!r} twice")
        _safe_relative(archive, item["path"])
        files[item["path"]] = item
    return files


def _check_layout(archive: Path, files: dict[str, dict]) -> dict[str, set[str]]:
    """Every listed path is part of an entry (data + manifest) or of a converted model
    (with its checksum file), as :func:`pack` writes them. Returns each model folder
    (``models/<name>``) with its files' paths."""
    models: dict[str, set[str]] = {}

    def refuse(path: str, why: str) -> ArchiveError:
        return ArchiveError(
            archive,
            f"holds {path!r}, {why} (only complete cache entries and converted models are unpacked)",
        )

    for path in files:
        parts = PurePosixPath(path).parts
        if any(part.startswith(".") for part in parts):
            raise refuse(path, "a hidden file")
        if parts[0] == "models":
            if len(parts) < 3:
                raise refuse(path, "not inside a model's folder")
            models.setdefault("/".join(parts[:2]), set()).add(path)
            continue
        if parts[0] in NOT_ENTRIES or len(parts) != 2:
            raise refuse(path, "not a cache entry")
        if path.endswith(META_SUFFIX):
            if path[: -len(META_SUFFIX)] not in files:
                raise refuse(path, "the manifest of an entry that the archive lacks")
        elif path + META_SUFFIX not in files:
            raise refuse(path, "an entry without its manifest")
    for folder, paths in models.items():
        if f"{folder}/{MODEL_CHECKSUMS}" not in paths:
            raise refuse(folder, f"a model folder without its {MODEL_CHECKSUMS}")
    return models


def _check_staged(archive: Path, staging: Path, files: dict, models: dict) -> None:
    """The staged entries' own manifests match their data, and each staged model matches
    its checksum file, which lists exactly the model's other files."""
    for path in files:
        if not path.endswith(META_SUFFIX) or path.startswith("models/"):
            continue
        data = files[path[: -len(META_SUFFIX)]]
        try:
            meta = json.loads((staging / path).read_text(encoding="utf-8"))
            matches = int(meta["bytes"]) == data["bytes"] and meta["sha256"] == data["sha256"]
        except (OSError, ValueError, KeyError, TypeError):
            matches = False
        if not matches:
            raise ArchiveError(
                archive, f"holds the entry {data['path']!r}, whose manifest does not match its data"
            )
    for folder, paths in models.items():
        recorded = model_checksums(staging / folder)
        listed = {f"{folder}/{name}" for name in recorded or {}} | {f"{folder}/{MODEL_CHECKSUMS}"}
        problem = (
            check_model_folder(staging / folder)
            if listed == paths
            else "files beside its checksums"
        )
        if problem is not None:
            raise ArchiveError(archive, f"holds the model {folder!r}, which is damaged ({problem})")


def _stage(archive: Path, staging: Path, files: dict[str, dict]) -> None:
    """Extract the archive's files (after its manifest) into ``staging``, each checked
    against the manifest's size and sha256; every listed file must be there."""
    seen: set[str] = set()
    with tarfile.open(archive, _mode(archive, write=False)) as tar:
        first = tar.next()
        if first is None or first.name != MANIFEST:
            raise ArchiveError(archive, f"is not a steerspace cache archive (no {MANIFEST} first)")
        for member in tar:
            if member is first:  # iterating a tar starts again from its first member
                continue
            rel = _safe_relative(archive, member.name)
            item = files.get(member.name)
            if item is None or not member.isfile() or member.name in seen:
                raise ArchiveError(
                    archive, f"holds {member.name!r}, which its manifest does not list"
                )
            seen.add(member.name)
            target = staging / rel
            target.parent.mkdir(parents=True, exist_ok=True)
            digest = hashlib.sha256()
            with open(target, "wb") as out, tar.extractfile(member) as src:
                for block in iter(lambda: src.read(1 << 20), b""):
                    digest.update(block)
                    out.write(block)
            if digest.hexdigest() != item["sha256"] or target.stat().st_size != item["bytes"]:
                raise ArchiveError(
                    archive, f"holds {member.name!r}, which does not match its checksum"
                )
    missing = sorted(set(files) - seen)
    if missing:
        raise ArchiveError(
            archive,
            f"lacks {len(missing)} file(s) that its manifest lists, e.g. {missing[0]!r} (truncated?)",
        )


def _read_manifest(archive: Path) -> object:
    with tarfile.open(archive, _mode(archive, write=False)) as tar:
        first = tar.next()
        if first is None or first.name != MANIFEST or not first.isfile():
            raise ArchiveError(archive, f"is not a steerspace cache archive (no {MANIFEST} first)")
        try:
            return json.loads(tar.extractfile(first).read())
        except ValueError:
            raise ArchiveError(archive, "has a manifest that is not JSON") from None


def _readable(archive: Path, action):
    """Run ``action()``, turning a file that is no tar archive, a truncated one and a
    compression that its name does not say into one-line :class:`ArchiveError`."""
    if not archive.is_file():
        raise FileNotFoundError(f"cache archive {str(archive)!r} does not exist")
    with open(archive, "rb") as fh:
        magic = fh.read(2)
    if _gz(archive) and magic != b"\x1f\x8b":
        raise ArchiveError(archive, "is not gzip-compressed, although its name ends in .gz")
    if not _gz(archive) and magic == b"\x1f\x8b":
        raise ArchiveError(archive, "is gzip-compressed: name it .tar.gz")
    try:
        return action()
    except _UNREADABLE as err:
        reason = " ".join(str(err).split()) or type(err).__name__
        if isinstance(err, tarfile.ReadError) and "unexpected end" not in reason:
            raise ArchiveError(archive, f"is not a tar archive ({reason})") from None
        raise ArchiveError(archive, f"is truncated or damaged ({reason})") from None


def unpack(archive: str | Path, cache: Cache) -> dict[str, int]:
    """Check the archive whole, then copy it into ``cache`` (see the module's text);
    files already there and identical are skipped. Returns ``{"written", "skipped"}``
    counts of files.

    Raises ``ValueError`` (:class:`ArchiveError`) in one line, with nothing written,
    for anything :func:`pack` would not have written, or that does not match its
    checksums; ``FileNotFoundError`` for a missing archive.
    """
    archive = Path(archive)
    files = _files_of(archive, _readable(archive, lambda: _read_manifest(archive)))
    models = _check_layout(archive, files)
    made_root = not cache.root.exists()
    cache.root.mkdir(parents=True, exist_ok=True)
    staging = Path(tempfile.mkdtemp(dir=cache.root, prefix=UNPACK_PREFIX))
    try:
        _readable(archive, lambda: _stage(archive, staging, files))
        _check_staged(archive, staging, files, models)
        return _commit(archive, staging, cache.root, files, models)
    finally:
        shutil.rmtree(staging, ignore_errors=True)
        if made_root:
            with contextlib.suppress(OSError):
                cache.root.rmdir()  # only if nothing was unpacked into it


def _same_file(path: Path, item: dict) -> bool:
    return (
        path.is_file()
        and path.stat().st_size == item["bytes"]
        and file_sha256(path) == item["sha256"]
    )


def _commit(archive: Path, staging: Path, root: Path, files: dict, models: dict) -> dict[str, int]:
    """Rename the staged files into ``root``: entries' data files, then their manifests,
    then whole model folders. A failure undoes every rename before it (the files they
    replaced are put back)."""
    counts = {"written": 0, "skipped": 0}
    moves: list[tuple[Path, Path]] = []  # (staged, target): files, then model folders
    entry_paths = [p for p in files if not p.startswith("models/")]
    for path in sorted(entry_paths, key=lambda p: (p.endswith(META_SUFFIX), p)):
        if _same_file(root / path, files[path]):
            counts["skipped"] += 1
        else:
            moves.append((staging / path, root / path))
    for folder, paths in sorted(models.items()):
        target = root / folder
        same = check_model_folder(target) is None and model_checksums(target) == model_checksums(
            staging / folder
        )
        if same:
            counts["skipped"] += len(paths)
        else:
            moves.append((staging / folder, target))
    backups = staging / ".replaced"
    done: list[tuple[Path, Path | None]] = []  # (target, its backup)
    try:
        for i, (staged, target) in enumerate(moves):
            target.parent.mkdir(parents=True, exist_ok=True)
            backup = None
            if target.exists():
                backup = backups / str(i)
                backup.parent.mkdir(parents=True, exist_ok=True)
                os.replace(target, backup)
            done.append((target, backup))
            os.replace(staged, target)
    except OSError as err:
        for target, backup in reversed(done):
            if target.is_dir():
                shutil.rmtree(target, ignore_errors=True)
            else:
                with contextlib.suppress(OSError):
                    target.unlink()
            if backup is not None:
                with contextlib.suppress(OSError):
                    os.replace(backup, target)
        raise OSError(
            err.errno,
            f"could not unpack {archive} into {root} ({err.strerror or err}); nothing was unpacked",
        ) from None
    for _, target in moves:
        counts["written"] += (
            len(models[target.relative_to(root).as_posix()]) if target.is_dir() else 1
        )
    return counts


def describe(archive: str | Path) -> dict:
    """The manifest of an archive, without unpacking it."""
    archive = Path(archive)
    manifest = _readable(archive, lambda: _read_manifest(archive))
    _files_of(archive, manifest)
    return manifest

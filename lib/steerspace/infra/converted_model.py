"""A converted model's folder in the cache (``<cache>/models/<name>/``), checked.

The embedded model is converted once into plain safetensors
(:func:`steerspace.core.models.embedded_model_dir`) and then loaded by every chapter.
After the conversion its folder gets :data:`MODEL_CHECKSUMS`, the size and sha256 of
each file; :func:`check_model_folder` compares the folder with it (``steerspace cache
verify``, every load, ``cache pack --with-model`` and ``cache unpack``), so a truncated
or corrupted model is reported and converted again, never loaded.
"""

from __future__ import annotations

import json
from pathlib import Path

from steerspace.infra.cache import atomic_write, file_sha256, set_umask_mode

#: The checksum file of a converted model: every file's size and sha256, written after
#: the conversion (``steerspace cache verify`` checks it; a damaged model is converted
#: again instead of failing inside a chapter).
MODEL_CHECKSUMS = "steerspace-checksums.json"
#: The stamps (name, size, mtime) of a converted model's files when their checksums last
#: matched: an unchanged folder is then not hashed again on every load.
_VERIFIED = ".verified.json"


def _model_files(folder: Path) -> list[Path]:
    """A converted model's files (not the checksum file, nor hidden files)."""
    return sorted(
        p
        for p in folder.rglob("*")
        if p.is_file() and p.name != MODEL_CHECKSUMS and not p.name.startswith(".")
    )


def _stamps(folder: Path, names: list[str]) -> list[list]:
    stamps = []
    for name in names:
        st = (folder / name).stat()
        stamps.append([name, st.st_size, st.st_mtime_ns])
    return stamps


def write_model_checksums(folder: Path) -> Path:
    """Write ``folder``'s :data:`MODEL_CHECKSUMS`: the size and sha256 of every file."""
    files = {
        p.relative_to(folder).as_posix(): {"bytes": p.stat().st_size, "sha256": file_sha256(p)}
        for p in _model_files(folder)
    }
    payload = json.dumps({"format": 1, "files": files}, indent=1)
    path = atomic_write(folder / MODEL_CHECKSUMS, lambda tmp: tmp.write_text(payload, "utf-8"))
    _remember_verified(folder, sorted(files))
    return path


def _remember_verified(folder: Path, names: list[str]) -> None:
    payload = json.dumps(_stamps(folder, names))
    try:
        atomic_write(folder / _VERIFIED, lambda tmp: tmp.write_text(payload, "utf-8"))
    except OSError:  # a cache of another user's: checked again next time, no harm
        pass


def model_checksums(folder: Path) -> dict[str, dict] | None:
    """The recorded ``{file: {"bytes", "sha256"}}`` of a converted model, or ``None``
    when it has no (readable) checksum file."""
    try:
        files = json.loads((folder / MODEL_CHECKSUMS).read_text(encoding="utf-8"))["files"]
        return {
            str(k): {"bytes": int(v["bytes"]), "sha256": str(v["sha256"])} for k, v in files.items()
        }
    except (OSError, ValueError, KeyError, TypeError, AttributeError):
        return None


def check_model_folder(folder: Path, *, full: bool = True) -> str | None:
    """``None`` if the converted model in ``folder`` matches its checksum file, else
    what is wrong (in a few words). ``full=False`` hashes the files only when they
    changed since they last matched (sizes are always compared)."""
    if not (folder / "config.json").is_file():
        return "no config.json (an unfinished conversion)"
    recorded = model_checksums(folder)
    if recorded is None:
        exists = (folder / MODEL_CHECKSUMS).exists()
        return "unreadable checksum file" if exists else "no checksum file"
    names = sorted(recorded)
    for name in names:
        path = folder / name
        if not path.is_file():
            return f"{name} is missing"
        size = path.stat().st_size
        if size != recorded[name]["bytes"]:
            return f"{name} is truncated or changed ({size} of {recorded[name]['bytes']} bytes)"
    if not full:
        try:
            if json.loads((folder / _VERIFIED).read_text(encoding="utf-8")) == _stamps(
                folder, names
            ):
                return None
        except (OSError, ValueError):
            pass
    for name in names:
        if file_sha256(folder / name) != recorded[name]["sha256"]:
            return f"{name} does not match its checksum (corrupted)"
    _remember_verified(folder, names)
    return None


def finish_converted_folder(folder: Path) -> None:
    """Give a freshly converted model's files the modes of the umask (``save_pretrained``
    writes some 0600, which other users of a shared cache cannot read) and write its
    checksum file, last."""
    for path in [folder, *folder.rglob("*")]:
        set_umask_mode(path)
    write_model_checksums(folder)

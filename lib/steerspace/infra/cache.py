"""Content-addressed on-disk cache shared by all chapters, that never loads a wrong entry.

Every expensive stage (pooled activations, expert tables, embeddings, generations) is
stored under ``<root>/<kind>/<readable-prefix>-<hash>.<ext>``, where the hash covers
everything the result depends on: the caller's key (model identity by content, dtype,
device, data fingerprint, intervention, every parameter) plus the stage's version
(:mod:`steerspace.infra.stages`). Next to each entry lies ``<entry>.meta.json``: its key, its
stage version, the library version, the creation time, its size and sha256.

- **Integrity.** An entry is loaded only when its manifest exists and its size and
  checksum match; a truncated, bit-flipped or half-deleted entry is reported in one line
  on the terminal (:func:`steerspace.infra.progress.report`, also from a chapter's
  kernel, never into its notebook) and recomputed, once, whichever method reads or
  stores it.
- **Crash safety.** Data and manifest are each written to a temporary file and renamed
  into place, the manifest last: a run killed at any point leaves either a complete
  entry or one without a manifest, which is never loaded.
- **Concurrency.** A lock per key (``fcntl.flock``, ``msvcrt`` on Windows) makes one
  process compute an entry while others wait and then load it. The operating system
  drops the lock of a process that dies, so a stale lock cannot block a later run.
"""

from __future__ import annotations

import contextlib
import errno
import hashlib
import json
import os
import re
import tempfile
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
from filelock import FileLock

from steerspace.infra.progress import report
from steerspace.infra.stages import Stage, stage_version

DEFAULT_CACHE_ENV = "STEERSPACE_CACHE"
META_SUFFIX = ".meta.json"
LOCK_DIR = ".locks"
#: Folders of the cache root that hold no entries: converted models, executed chapters
#: (:mod:`steerspace.infra.chapter_cache`) and the locks.
NOT_ENTRIES = (LOCK_DIR, "models", "chapters")
#: Prefix of the staging folder of an unpack (:mod:`steerspace.infra.cache_archive`).
UNPACK_PREFIX = ".unpack-"
_MISSING = object()


def default_cache_dir() -> Path:
    """``$STEERSPACE_CACHE`` if set, else ``~/.cache/steerspace``."""
    env = os.environ.get(DEFAULT_CACHE_ENV)
    return Path(env).expanduser() if env else Path.home() / ".cache" / "steerspace"


def key_hash(parts: dict[str, Any]) -> str:
    """A stable 16-hex-digit sha256 of a JSON-able dict (keys sorted)."""
    payload = json.dumps(parts, sort_keys=True, default=str, ensure_ascii=False)
    return hashlib.sha256(payload.encode("utf-8")).hexdigest()[:16]


def slug(text: str) -> str:
    """A file-name-safe version of ``text`` (model ids contain slashes)."""
    return re.sub(r"[^A-Za-z0-9_.=-]+", "_", text).strip("_")[:80] or "x"


def file_sha256(path: Path) -> str:
    """Hex sha256 of a file's bytes, read in 1 MiB blocks."""
    digest = hashlib.sha256()
    with open(path, "rb") as fh:
        for block in iter(lambda: fh.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


class CacheWriteError(OSError):
    """A cache entry could not be written (full disk, no permission); nothing was kept."""


def current_umask() -> int:
    """This process's umask, read without changing it where the OS allows
    (``/proc/self/status`` on Linux; elsewhere set and restored at once)."""
    try:
        with open("/proc/self/status", encoding="ascii") as fh:
            for line in fh:
                if line.startswith("Umask:"):
                    return int(line.split()[1], 8)
    except (OSError, ValueError):
        pass
    mask = os.umask(0o022)
    os.umask(mask)
    return mask


def set_umask_mode(path: Path) -> None:
    """Give ``path`` the mode a plain ``open``/``mkdir`` would have under the umask
    (0666 or 0777 less the umask): ``tempfile`` creates files 0600 and folders 0700,
    which other users of a shared cache (a class on one server) could not read."""
    full = 0o777 if path.is_dir() else 0o666
    os.chmod(path, full & ~current_umask())


def atomic_write(path: Path, write: Callable[[Path], None]) -> Path:
    """Call ``write(tmp)`` on a temporary file next to ``path``, then rename it to ``path``
    (with the mode of the umask, :func:`set_umask_mode`).

    If ``write`` raises, the temporary file is removed and ``path`` is untouched.
    """
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp_name = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".tmp")
    os.close(fd)
    tmp = Path(tmp_name)
    try:
        write(tmp)
        set_umask_mode(tmp)
        os.replace(tmp, path)
    finally:
        if tmp.exists():
            tmp.unlink()
    return path


@contextlib.contextmanager
def file_lock(path: Path) -> Iterator[None]:
    """Hold an exclusive lock on ``path`` (created if missing) until the block ends
    (``filelock.FileLock``: ``flock`` on POSIX, ``msvcrt`` on Windows).

    The lock belongs to this process's open file: the operating system releases it when
    the process exits or is killed, so there are no stale locks to clean up.
    """
    path.parent.mkdir(parents=True, exist_ok=True)
    with FileLock(str(path)):
        yield


def library_version() -> str:
    """The installed steerspace version, recorded in every entry's manifest."""
    from importlib.metadata import PackageNotFoundError, version

    try:
        return version("steerspace")
    except PackageNotFoundError:  # pragma: no cover - run from a source tree
        return "unknown"


@dataclass(frozen=True)
class Entry:
    """One stored entry as :meth:`Cache.entries` lists it."""

    path: Path
    kind: str
    meta: dict[str, Any] | None  # None: no readable manifest (an interrupted write)
    bytes: int
    modified: float

    @property
    def age_days(self) -> float:
        return (time.time() - self.modified) / 86400


class Cache:
    """A directory of cached arrays and tables keyed by what produced them.

    Parameters
    ----------
    root
        Cache directory; ``None`` means :func:`default_cache_dir`.
    stages
        Stage versions (default :data:`steerspace.infra.stages.STAGES`); tests pass their own
        to simulate an upgrade.
    """

    def __init__(
        self, root: str | Path | None = None, *, stages: dict[str, Stage] | None = None
    ) -> None:
        self.root = Path(root).expanduser() if root is not None else default_cache_dir()
        self.stages = stages
        self.computed: list[str] = []  # kinds computed by this object, in order
        self._verified: dict[Path, tuple[int, int]] = {}

    # ------------------------------------------------------------------ keys
    def full_key(self, kind: str, parts: dict[str, Any]) -> dict[str, Any]:
        """``parts`` plus the stage version of ``kind``: what the entry's hash covers."""
        return {**parts, "stage": stage_version(kind, self.stages)}

    def path(self, kind: str, parts: dict[str, Any], *, label: str = "", ext: str = "npy") -> Path:
        """Where the entry for ``parts`` lives; ``label`` is a readable prefix only."""
        digest = key_hash(self.full_key(kind, parts))
        name = f"{slug(label)}-{digest}" if label else digest
        return self.root / slug(kind) / f"{name}.{ext}"

    @staticmethod
    def meta_path(path: Path) -> Path:
        return path.with_name(path.name + META_SUFFIX)

    def _lock_path(self, path: Path) -> Path:
        return self.root / LOCK_DIR / path.parent.name / f"{path.name}.lock"

    # ------------------------------------------------------------ integrity
    def check(self, path: Path) -> str | None:
        """``None`` if the entry at ``path`` is complete and intact, else what is wrong."""
        meta_path = self.meta_path(path)
        if not path.exists():
            return "missing data file" if meta_path.exists() else "missing"
        if not meta_path.exists():
            return "no manifest (an interrupted write)"
        try:
            meta = json.loads(meta_path.read_text(encoding="utf-8"))
            want_size, want_sha = int(meta["bytes"]), str(meta["sha256"])
        except (OSError, ValueError, KeyError, TypeError):
            return "unreadable manifest"
        stat = path.stat()
        if stat.st_size != want_size:
            return f"truncated ({stat.st_size} of {want_size} bytes)"
        if self._verified.get(path) == (stat.st_size, stat.st_mtime_ns):
            return None
        if file_sha256(path) != want_sha:
            return "checksum mismatch (corrupted)"
        self._verified[path] = (stat.st_size, stat.st_mtime_ns)
        return None

    def _remove(self, path: Path) -> None:
        self._verified.pop(path, None)
        for p in (self.meta_path(path), path):
            with contextlib.suppress(FileNotFoundError):
                p.unlink()

    def _repair(self, path: Path, problem: str, action: str) -> None:
        """Report the damaged entry at ``path`` in one line and remove it (only under
        the key's lock, so that one process reports it, once)."""
        report(f"cache: {path.relative_to(self.root)}: {problem}; {action}")
        self._remove(path)

    def _load(self, path: Path, load: Callable[[Path], Any], *, repair: bool) -> Any:
        """The stored value, or ``_MISSING``. With ``repair`` (only under the key's
        lock) a broken entry is reported in one line and removed."""
        problem = self.check(path)
        if problem == "missing":
            return _MISSING
        if problem is None:
            try:
                return load(path)
            except Exception as err:  # noqa: BLE001 - any unreadable file is a miss
                problem = f"unreadable ({type(err).__name__})"
        if repair:
            self._repair(path, problem, "recomputing it")
        return _MISSING

    # -------------------------------------------------------------- storing
    def _store(
        self, path: Path, kind: str, key: dict[str, Any], save: Callable[[Path], None]
    ) -> None:
        digest: dict[str, Any] = {}

        def write_data(tmp: Path) -> None:
            save(tmp)
            digest["sha256"] = file_sha256(tmp)
            digest["bytes"] = tmp.stat().st_size

        meta = {
            "kind": kind,
            "key": key,
            "stage": key["stage"],
            "library_version": library_version(),
            "created_utc": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime()),
        }
        try:
            atomic_write(path, write_data)
            payload = json.dumps({**meta, **digest}, ensure_ascii=False, default=str, indent=1)
            atomic_write(self.meta_path(path), lambda tmp: tmp.write_text(payload, "utf-8"))
        except OSError as err:
            self._remove(path)
            reason = err.strerror or str(err)
            hint = (
                "free some disk space or point $STEERSPACE_CACHE at a larger disk"
                if err.errno == errno.ENOSPC
                else "check that the cache directory is writable"
            )
            raise CacheWriteError(
                err.errno, f"could not write cache entry {path}: {reason}; {hint}"
            ) from None

    def _get(
        self,
        kind: str,
        parts: dict[str, Any],
        compute: Callable[[], Any],
        *,
        label: str,
        ext: str,
        save: Callable[[Any, Path], None],
        load: Callable[[Path], Any],
    ) -> Any:
        path = self.path(kind, parts, label=label, ext=ext)
        value = self._load(path, load, repair=False)
        if value is not _MISSING:
            return value
        with file_lock(self._lock_path(path)):
            value = self._load(path, load, repair=True)  # another process may have made it
            if value is not _MISSING:
                return value
            value = compute()
            self._store(path, kind, self.full_key(kind, parts), lambda tmp: save(value, tmp))
            self.computed.append(kind)
        return value

    # ----------------------------------------------------------- value types
    def array(
        self,
        kind: str,
        parts: dict[str, Any],
        compute: Callable[[], np.ndarray],
        *,
        label: str = "",
        mmap: bool = False,
    ) -> np.ndarray:
        """Load the array for ``parts`` or compute, store and return it. ``mmap`` opens
        a stored array read-only and memory-mapped (for large arrays read in slices)."""

        def save(value: np.ndarray, tmp: Path) -> None:
            with open(tmp, "wb") as fh:
                np.save(fh, value)

        return self._get(
            kind,
            parts,
            lambda: np.asarray(compute()),
            label=label,
            ext="npy",
            save=save,
            load=lambda p: np.load(p, mmap_mode="r" if mmap else None),
        )

    def arrays(
        self,
        kind: str,
        parts: dict[str, Any],
        compute: Callable[[], dict[str, np.ndarray]],
        *,
        label: str = "",
    ) -> dict[str, np.ndarray]:
        """Like :meth:`array` for a dict of named arrays (stored as one ``.npz``)."""

        def save(value: dict[str, np.ndarray], tmp: Path) -> None:
            with open(tmp, "wb") as fh:
                np.savez(fh, **value)

        def load(path: Path) -> dict[str, np.ndarray]:
            with np.load(path) as stored:
                return {name: stored[name] for name in stored.files}

        return self._get(
            kind,
            parts,
            lambda: {name: np.asarray(arr) for name, arr in compute().items()},
            label=label,
            ext="npz",
            save=save,
            load=load,
        )

    def put_arrays(
        self, kind: str, parts: dict[str, Any], value: dict[str, np.ndarray], *, label: str = ""
    ) -> None:
        """Store ``value`` as the :meth:`arrays` entry for ``parts`` unless a valid one is
        there: for a pass that computes a second entry on the way (e.g. the max-pooled
        activations beside the mean-pooled ones)."""
        path = self.path(kind, parts, label=label, ext="npz")

        def save(tmp: Path) -> None:
            with open(tmp, "wb") as fh:
                np.savez(fh, **{name: np.asarray(arr) for name, arr in value.items()})

        self._put(path, kind, parts, save)

    def _put(
        self, path: Path, kind: str, parts: dict[str, Any], save: Callable[[Path], None]
    ) -> None:
        """Store the entry at ``path`` with ``save`` unless a valid one is there (another
        process may have stored it meanwhile); a damaged one is reported and replaced."""
        with file_lock(self._lock_path(path)):
            problem = self.check(path)
            if problem is None:
                return
            if problem != "missing":
                self._repair(path, problem, "replacing it with the values just computed")
            self._store(path, kind, self.full_key(kind, parts), save)
            self.computed.append(kind)

    def peek_array(
        self, kind: str, parts: dict[str, Any], *, label: str = "", mmap: bool = False
    ) -> np.ndarray | None:
        """The stored :meth:`array` for ``parts`` if a valid one is there, else ``None``
        (nothing is computed; a damaged entry is reported in one line and removed): for
        a caller that computes several missing entries in one pass (:meth:`put_array`
        stores them)."""
        path = self.path(kind, parts, label=label, ext="npy")

        def load(p: Path) -> np.ndarray:
            return np.load(p, mmap_mode="r" if mmap else None)

        value = self._load(path, load, repair=False)
        if value is _MISSING and self.check(path) != "missing":
            # damaged: repaired under the key's lock, unless another process stored it
            # whole meanwhile
            with file_lock(self._lock_path(path)):
                value = self._load(path, load, repair=True)
        return None if value is _MISSING else value

    def put_array(
        self, kind: str, parts: dict[str, Any], value: np.ndarray, *, label: str = ""
    ) -> None:
        """Store ``value`` as the :meth:`array` entry for ``parts`` unless a valid one is
        there (another process may have stored it meanwhile)."""
        path = self.path(kind, parts, label=label, ext="npy")

        def save(tmp: Path) -> None:
            with open(tmp, "wb") as fh:
                np.save(fh, np.asarray(value))

        self._put(path, kind, parts, save)

    def table(
        self,
        kind: str,
        parts: dict[str, Any],
        compute: Callable[[], pd.DataFrame],
        *,
        label: str = "",
    ) -> pd.DataFrame:
        """Load the table for ``parts`` (parquet) or compute, store and return it."""
        return self._get(
            kind,
            parts,
            compute,
            label=label,
            ext="parquet",
            save=lambda value, tmp: value.to_parquet(tmp, index=False),
            load=pd.read_parquet,
        )

    def json(
        self,
        kind: str,
        parts: dict[str, Any],
        compute: Callable[[], Any],
        *,
        label: str = "",
    ) -> Any:
        """Load the JSON value for ``parts`` or compute, store and return it."""
        return self._get(
            kind,
            parts,
            compute,
            label=label,
            ext="json",
            save=lambda value, tmp: tmp.write_text(json.dumps(value, ensure_ascii=False), "utf-8"),
            load=lambda p: json.loads(p.read_text(encoding="utf-8")),
        )

    # ----------------------------------------------------------- inventory
    def entries(self) -> list[Entry]:
        """Every stored entry (data files, with or without a manifest), sorted by path.
        The converted models (``models/``) and lock files are not entries."""
        found = []
        if not self.root.is_dir():
            return found
        for kind_dir in sorted(p for p in self.root.iterdir() if p.is_dir()):
            if kind_dir.name in NOT_ENTRIES or kind_dir.name.startswith("."):
                continue
            for path in sorted(kind_dir.iterdir()):
                name = path.name
                if name.startswith(".") or name.endswith(META_SUFFIX) or not path.is_file():
                    continue
                meta = None
                with contextlib.suppress(OSError, ValueError):
                    meta = json.loads(self.meta_path(path).read_text(encoding="utf-8"))
                stat = path.stat()
                found.append(Entry(path, kind_dir.name, meta, stat.st_size, stat.st_mtime))
        return found

    def leftovers(self) -> list[Path]:
        """Temporary files and directories of interrupted writes and model conversions,
        and manifests whose data file is gone."""
        if not self.root.is_dir():
            return []
        found = [p for p in self.root.rglob(".*.tmp")]
        found += [p for p in (self.root / "models").glob(".convert-*")]
        found += [p for p in self.root.glob(f"{UNPACK_PREFIX}*")]
        found += [
            p
            for p in self.root.glob(f"*/*{META_SUFFIX}")
            if not p.with_name(p.name[: -len(META_SUFFIX)]).exists()
        ]
        return sorted(found)

    def is_stale(self, entry: Entry) -> bool:
        """Whether ``entry`` was made by another version of its stage (or has no valid
        manifest): no key of the current code can reach it."""
        if entry.meta is None:
            return True
        try:
            return entry.meta.get("stage") != stage_version(entry.kind, self.stages)
        except KeyError:  # a stage that no longer exists
            return True

    def verify(self) -> dict[Path, str]:
        """Check every entry's manifest, size and checksum: path → problem."""
        return {e.path: p for e in self.entries() if (p := self.check(e.path)) is not None}

    def prune(
        self,
        *,
        older_than_days: float | None = None,
        model: str | None = None,
        stale: bool = False,
        broken: bool = False,
        dry_run: bool = False,
    ) -> list[Path]:
        """Remove the entries that match every given filter (and, always, the
        :meth:`leftovers`); returns what was (or, with ``dry_run``, would be) removed."""
        chosen = []
        for entry in self.entries():
            if older_than_days is not None and entry.age_days < older_than_days:
                continue
            if model is not None and (entry.meta or {}).get("key", {}).get("model") != model:
                continue
            if stale and not self.is_stale(entry):
                continue
            if broken and self.check(entry.path) is None:
                continue
            chosen.append(entry.path)
        removed = chosen + self.leftovers()
        if not dry_run:
            import shutil

            for path in chosen:
                self._remove(path)
            for path in self.leftovers():
                if path.is_dir():
                    shutil.rmtree(path, ignore_errors=True)
                else:
                    with contextlib.suppress(FileNotFoundError):
                        path.unlink()
        return removed

"""Content-addressed on-disk cache shared by all chapters.

Every expensive stage (pooled activations, expert tables, embeddings, generations)
is stored under ``<root>/<kind>/<readable-prefix>-<hash>.<ext>``, where the hash covers
everything the result depends on (model, data fingerprint, intervention, pooling...).
Files are written to a temporary name in the same directory and renamed into place,
so an interrupted run never leaves a half-written entry behind.
"""

from __future__ import annotations

import hashlib
import json
import os
import re
import tempfile
from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

DEFAULT_CACHE_ENV = "STEERSPACE_CACHE"


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


def atomic_write(path: Path, write: Callable[[Path], None]) -> Path:
    """Call ``write(tmp)`` on a temporary file next to ``path``, then rename it to ``path``.

    If ``write`` raises, the temporary file is removed and ``path`` is untouched.
    """
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp_name = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".tmp")
    os.close(fd)
    tmp = Path(tmp_name)
    try:
        write(tmp)
        os.replace(tmp, path)
    finally:
        if tmp.exists():
            tmp.unlink()
    return path


class Cache:
    """A directory of cached arrays and tables keyed by what produced them.

    Parameters
    ----------
    root
        Cache directory; ``None`` means :func:`default_cache_dir`.
    """

    def __init__(self, root: str | Path | None = None) -> None:
        self.root = Path(root).expanduser() if root is not None else default_cache_dir()

    def path(self, kind: str, parts: dict[str, Any], *, label: str = "", ext: str = "npy") -> Path:
        """Where the entry for ``parts`` lives; ``label`` is a readable prefix only."""
        name = f"{slug(label)}-{key_hash(parts)}" if label else key_hash(parts)
        return self.root / slug(kind) / f"{name}.{ext}"

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
        path = self.path(kind, parts, label=label, ext="npy")
        if path.exists():
            return np.load(path, mmap_mode="r" if mmap else None)
        value = np.asarray(compute())

        def write(tmp: Path) -> None:
            with open(tmp, "wb") as fh:
                np.save(fh, value)

        atomic_write(path, write)
        return value

    def arrays(
        self,
        kind: str,
        parts: dict[str, Any],
        compute: Callable[[], dict[str, np.ndarray]],
        *,
        label: str = "",
    ) -> dict[str, np.ndarray]:
        """Like :meth:`array` for a dict of named arrays (stored as one ``.npz``)."""
        path = self.path(kind, parts, label=label, ext="npz")
        if path.exists():
            with np.load(path) as stored:
                return {name: stored[name] for name in stored.files}
        value = {name: np.asarray(arr) for name, arr in compute().items()}

        def write(tmp: Path) -> None:
            with open(tmp, "wb") as fh:
                np.savez(fh, **value)

        atomic_write(path, write)
        return value

    def table(
        self,
        kind: str,
        parts: dict[str, Any],
        compute: Callable[[], pd.DataFrame],
        *,
        label: str = "",
    ) -> pd.DataFrame:
        """Load the table for ``parts`` (parquet) or compute, store and return it."""
        path = self.path(kind, parts, label=label, ext="parquet")
        if path.exists():
            return pd.read_parquet(path)
        value = compute()
        atomic_write(path, lambda tmp: value.to_parquet(tmp, index=False))
        return value

    def json(
        self,
        kind: str,
        parts: dict[str, Any],
        compute: Callable[[], Any],
        *,
        label: str = "",
    ) -> Any:
        """Load the JSON value for ``parts`` or compute, store and return it."""
        path = self.path(kind, parts, label=label, ext="json")
        if path.exists():
            return json.loads(path.read_text(encoding="utf-8"))
        value = compute()
        atomic_write(
            path, lambda tmp: tmp.write_text(json.dumps(value, ensure_ascii=False), "utf-8")
        )
        return value

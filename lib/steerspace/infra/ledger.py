"""A ledger of the model's work, to count what a whole build computes.

Every forward pass over sentences, free generation and perplexity run calls
:func:`entry`; when ``$STEERSPACE_LEDGER`` names a folder, the call leaves one small
file there: its kind, its condition (``"pre"`` or a hash of the intervention), the
sentences it ran by content (8-byte hashes), their token counts, its seconds and the
chapter it ran for (``$STEERSPACE_CHAPTER``, which the book's runner sets). The
chapters run in separate kernels, so a folder (one file per call, never appended to)
is what several processes can share without locks.

:func:`summary` reads a folder back and counts the tokens a build ran and the tokens it
ran *again*: a sentence under a condition that an earlier call had already run. The
book benchmark (``bench/book.py``) reports both, so "one forward pass per (model,
sentences, intervention)" is a number, not a hope. Without ``$STEERSPACE_LEDGER`` a call
costs one ``os.environ`` lookup.
"""

from __future__ import annotations

import hashlib
import json
import os
import time
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from itertools import count
from pathlib import Path

import numpy as np
import pandas as pd

ENV_VAR = "STEERSPACE_LEDGER"
#: the chapter a call runs for; the runner sets it while it executes a chapter
CHAPTER_VAR = "STEERSPACE_CHAPTER"
_calls = count()


def sentence_hashes(sentences: Sequence[str]) -> np.ndarray:
    """An unsigned 64-bit content hash of each sentence (blake2b)."""
    return np.array(
        [
            int.from_bytes(hashlib.blake2b(s.encode("utf-8"), digest_size=8).digest(), "little")
            for s in sentences
        ],
        dtype=np.uint64,
    )


def condition_of(intervention_key: dict | None) -> str:
    """``"pre"`` for the original model, else a 16-hex-digit hash of the intervention's
    key (:meth:`steerspace.core.hooks.Intervention.key`)."""
    if intervention_key is None:
        return "pre"
    payload = json.dumps(intervention_key, sort_keys=True, default=str)
    return hashlib.sha256(payload.encode("utf-8")).hexdigest()[:16]


@contextmanager
def entry(
    kind: str,
    *,
    label: str,
    intervention_key: dict | None,
    sentences: Sequence[str],
    tokens: Sequence[int],
) -> Iterator[None]:
    """Time the ``with`` block and, if ``$STEERSPACE_LEDGER`` is set and the block
    finishes, record it: ``kind`` (``forward``, ``generate``, ``perplexity``), a
    ``label`` for people, the condition, the ``sentences`` run and their ``tokens``."""
    folder = os.environ.get(ENV_VAR)
    if not folder:
        yield
        return
    if len(tokens) != len(sentences):
        raise ValueError(f"{len(sentences)} sentences but {len(tokens)} token counts")
    started = time.perf_counter()
    yield
    seconds = time.perf_counter() - started
    meta = {
        "kind": kind,
        "label": label,
        "condition": condition_of(intervention_key),
        "seconds": seconds,
        "chapter": os.environ.get(CHAPTER_VAR, ""),
        "pid": os.getpid(),
        "time": time.time(),
    }
    path = Path(folder)
    path.mkdir(parents=True, exist_ok=True)
    name = f"{time.time_ns()}-{os.getpid()}-{next(_calls)}"
    tmp = path / f".{name}.tmp.npz"
    np.savez(
        tmp,
        hashes=sentence_hashes(sentences),
        tokens=np.asarray(tokens, dtype=np.int64),
        meta=np.array(json.dumps(meta)),
    )
    os.replace(tmp, path / f"{name}.npz")


def read(folder: str | Path) -> pd.DataFrame:
    """Every recorded call of a ledger folder, in the order they were made: kind, label,
    condition, chapter (``""`` outside a book run), seconds, sentences, tokens, the sum
    of squared token counts (``tokens_squared``: attention's cost grows with it), and
    ``repeated_tokens`` (tokens of sentences that an earlier call had run under the
    same condition and kind family: a forward pass repeats a forward pass, whatever
    was pooled from it)."""
    rows, seen = [], set()
    files = sorted(Path(folder).glob("*.npz"), key=lambda p: [int(x) for x in p.stem.split("-")])
    for path in files:
        with np.load(path) as data:
            meta = json.loads(str(data["meta"]))
            hashes, tokens = data["hashes"], data["tokens"]
        repeated = 0
        for h, n in zip(hashes.tolist(), tokens.tolist(), strict=True):
            key = (meta["kind"], meta["condition"], h)
            if key in seen:
                repeated += n
            seen.add(key)
        rows.append(
            {
                **{k: meta[k] for k in ("kind", "label", "condition", "seconds")},
                "chapter": meta.get("chapter", ""),
                "sentences": int(len(hashes)),
                "tokens": int(tokens.sum()),
                "tokens_squared": int((tokens.astype(np.int64) ** 2).sum()),
                "repeated_tokens": int(repeated),
            }
        )
    columns = [
        "kind", "label", "condition", "seconds", "chapter",
        "sentences", "tokens", "tokens_squared", "repeated_tokens",
    ]  # fmt: skip
    return pd.DataFrame(rows, columns=columns)


#: what :func:`totals` sums per group
SUMS = ("seconds", "sentences", "tokens", "repeated_tokens", "tokens_squared")


def totals(calls: pd.DataFrame, keys: list[str]) -> pd.DataFrame:
    """:func:`read`'s calls summed per group of ``keys`` (e.g. chapter and kind):
    :data:`SUMS` and the number of ``calls``."""
    grouped = calls.groupby(keys)
    out = grouped[list(SUMS)].sum()
    out["calls"] = grouped.size()
    return out


def summary(folder: str | Path) -> dict:
    """Totals of a ledger folder per kind (calls, sentences, tokens, repeated tokens
    and seconds), the share of tokens that were repeated work, and the same totals per
    chapter and kind (``by_chapter``, with ``tokens_squared``; a call made outside a
    chapter counts under ``""``)."""
    calls = read(folder)
    per_chapter = totals(calls, ["chapter", "kind"])
    sums = ["seconds", "sentences", "tokens", "repeated_tokens", "calls"]
    per_kind = per_chapter.groupby(level="kind")[sums].sum()
    out = {kind: {k: float(v) for k, v in row.items()} for kind, row in per_kind.iterrows()}
    by_chapter: dict[str, dict[str, dict[str, float]]] = {}
    for (chapter, kind), row in per_chapter.iterrows():
        by_chapter.setdefault(chapter, {})[kind] = {k: float(v) for k, v in row.items()}
    tokens = int(calls["tokens"].sum())
    repeated = int(calls["repeated_tokens"].sum())
    return {
        "by_kind": out,
        "tokens": tokens,
        "repeated_tokens": repeated,
        "minimum_tokens": tokens - repeated,
        "repeated_share": repeated / tokens if tokens else 0.0,
        "by_chapter": by_chapter,
    }

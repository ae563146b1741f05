"""The process heap: glibc's allocation policy, and handing freed memory back.

A forward pass allocates and frees activations of a few MB each, an expert ranking and
a bootstrap many blocks under a MB. glibc keeps freed blocks in its heaps (one per
thread that allocated) for reuse, so a kernel's resident memory grows with the work it
has done: after the first model cell of the classroom control chapter, 0.3–0.4 GB of
its float32 kernel was freed memory still held (what ``malloc_trim`` gave back).
These functions keep it bounded without changing any value: they decide where memory
comes from, not what is computed. Elsewhere than glibc they do nothing.
"""

from __future__ import annotations

import ctypes
import functools
import gc
from collections.abc import Callable
from typing import ParamSpec, TypeVar

P = ParamSpec("P")
R = TypeVar("R")

#: glibc's ``mallopt`` parameter for its mmap threshold.
_M_MMAP_THRESHOLD = -3
#: Allocations of this many bytes or more get a memory map of their own, handed back to
#: the system when freed (:func:`fix_heap_threshold`).
MMAP_THRESHOLD_BYTES = 32 * 2**20


def _libc():
    """glibc, or ``None`` elsewhere."""
    try:
        return ctypes.CDLL("libc.so.6")
    except OSError:
        return None


def fix_heap_threshold() -> None:
    """Fix glibc's mmap threshold at :data:`MMAP_THRESHOLD_BYTES` for this process.

    glibc starts the threshold at 128 KiB and raises it to the size of each mapped block
    that is freed, and its trim threshold to twice that: after the first forward passes
    the freed activations stay in the heap, and a kernel's resident memory grows with
    them. Fixed, the heap is trimmed as before the first free (a classroom chapter's
    expert finding peaks 0.26 GB lower in float32, at the same speed)."""
    libc = _libc()
    if libc is not None and hasattr(libc, "mallopt"):
        libc.mallopt(_M_MMAP_THRESHOLD, MMAP_THRESHOLD_BYTES)


def trim_heap() -> None:
    """Hand the free pages of every glibc heap back to the system (``malloc_trim``)."""
    libc = _libc()
    if libc is not None and hasattr(libc, "malloc_trim"):
        libc.malloc_trim(0)


def trims_heap(function: Callable[P, R]) -> Callable[P, R]:
    """``function`` with the heap trimmed (:func:`trim_heap`) before it runs and after.

    For the model passes (forward, perplexity, generation): a pass then starts from the
    memory the chapter holds, not from the high-water mark of what ran before it (an
    expert ranking, a bootstrap, the last pass), and leaves its own freed activations to
    no one. A trim takes well under a millisecond; re-faulting the pages costs a pass
    about as much, against seconds of matmuls."""

    @functools.wraps(function)
    def trimmed(*args: P.args, **kwargs: P.kwargs) -> R:
        trim_heap()
        try:
            return function(*args, **kwargs)
        finally:
            trim_heap()

    return trimmed


def release_memory() -> None:
    """Collect Python's unreachable objects, then :func:`trim_heap` (a quarter of a
    second in a chapter: for rare points, like after the model conversion)."""
    gc.collect()
    trim_heap()

"""Progress of long stages, in the notebook and in the terminal of ``steerspace book``.

Inside a chapter executed by papermill a progress bar goes into the notebook, not to
the terminal that started the book. So the library's loops also append one line now
and then (stage, done/total, elapsed, ETA) to the file named by ``$STEERSPACE_PROGRESS``,
when it is set; ``steerspace book`` sets it for each chapter (:func:`forward_progress`)
and prints the lines as they come, prefixed with the chapter. Repairs (a damaged cache
entry recomputed) reach the terminal the same way (:func:`report`).
"""

from __future__ import annotations

import os
import sys
import tempfile
import threading
import time
from collections.abc import Iterable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import TextIO, TypeVar

# the plain text bar (to stderr), also inside a notebook: tqdm.auto would want ipywidgets
# there and warn at import, with the path of the installed package, in every chapter
from tqdm import tqdm

#: Environment variable naming the file that progress lines are appended to.
ENV_VAR = "STEERSPACE_PROGRESS"
#: Seconds between two progress lines of one stage; shorter stages write none.
INTERVAL_S = 10.0

T = TypeVar("T")


def _clock(seconds: float) -> str:
    minutes, secs = divmod(int(round(seconds)), 60)
    return f"{minutes}:{secs:02d}"


def progress_line(desc: str, done: int, total: int | None, elapsed: float) -> str:
    """``"activations es: 12/63 (19%), 0:41 elapsed, ETA 2:54"`` (no ETA without a total)."""
    if not total:
        return f"{desc}: {done} done, {_clock(elapsed)} elapsed"
    eta = _clock(elapsed / done * (total - done)) if done else "?"
    return f"{desc}: {done}/{total} ({done / total:.0%}), {_clock(elapsed)} elapsed, ETA {eta}"


def progress_bar(
    iterable: Iterable[T], *, desc: str, total: int | None = None, disable: bool = False
) -> Iterator[T]:
    """Iterate with a tqdm bar (unless ``disable``) and, where ``$STEERSPACE_PROGRESS``
    is set and the stage runs longer than :data:`INTERVAL_S`, a line in that file every
    :data:`INTERVAL_S` seconds and when it ends. Used by the forward passes, generation
    and perplexity loops."""
    bar = tqdm(iterable, desc=desc, total=total, disable=disable, mininterval=2.0)
    path = os.environ.get(ENV_VAR)
    if disable or not path:
        yield from bar
        return
    start = last = time.monotonic()
    done = 0
    for item in bar:
        yield item
        done += 1
        now = time.monotonic()
        if now - last >= INTERVAL_S:
            _append(path, progress_line(desc, done, total, now - start))
            last = now
    if last > start:  # it wrote a line before: say that it finished
        _append(path, progress_line(desc, done, total, time.monotonic() - start))


def _append(path: str, line: str) -> None:
    try:
        with open(path, "a", encoding="utf-8") as fh:
            fh.write(line + "\n")
    except OSError:  # the runner has gone; progress is best effort
        pass


def report(line: str) -> None:
    """Tell the user ``line`` (one line: a damaged cache entry recomputed, a model
    converted again) on the terminal, whichever process finds it. Under ``steerspace
    book`` (``$STEERSPACE_PROGRESS`` set) it is appended to the progress file, which the
    runner prints prefixed with the chapter, so it never lands in an executed
    notebook's outputs; elsewhere (the preflight child, a plain Python session) it is
    printed to stderr as ``[steerspace] <line>``."""
    path = os.environ.get(ENV_VAR)
    if path:
        _append(path, line)
    else:
        print(f"[steerspace] {line}", file=sys.stderr, flush=True)


@contextmanager
def forward_progress(prefix: str, *, stream: TextIO | None = None) -> Iterator[Path]:
    """Set ``$STEERSPACE_PROGRESS`` to a fresh temporary file for the duration, and
    print every line written to it to ``stream`` (default: stderr) as
    ``[steerspace] <prefix> · <line>``. Yields the file's path.

    ``steerspace book`` wraps each chapter in it; the chapter's kernel inherits the
    environment variable when papermill starts it.
    """
    out = stream or sys.stderr
    fd, name = tempfile.mkstemp(prefix="steerspace-progress-", suffix=".log")
    os.close(fd)
    path = Path(name)
    previous = os.environ.get(ENV_VAR)
    os.environ[ENV_VAR] = name
    stop = threading.Event()

    def pump() -> None:
        with open(path, encoding="utf-8") as fh:
            pending = ""
            while True:
                finished = stop.is_set()
                pending += fh.read()
                *lines, pending = pending.split("\n")
                for line in lines:
                    print(f"[steerspace] {prefix} · {line}", file=out, flush=True)
                if finished:
                    return
                stop.wait(0.5)

    thread = threading.Thread(target=pump, name="steerspace-progress", daemon=True)
    thread.start()
    try:
        yield path
    finally:
        stop.set()
        thread.join()
        if previous is None:
            os.environ.pop(ENV_VAR, None)
        else:
            os.environ[ENV_VAR] = previous
        path.unlink(missing_ok=True)

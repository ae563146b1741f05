"""The command line: ``steerspace book`` (execute the chapters and build the book) and
``steerspace cache`` (inspect, verify, pack and unpack the cache)."""

from __future__ import annotations

import argparse
import contextlib
import signal
import subprocess
import sys
import threading
from collections.abc import Iterator
from importlib import metadata
from typing import Any

import yaml

from steerspace.book.cache_cli import add_cache_parser, run_cache_command
from steerspace.book.edition import EDITIONS
from steerspace.book.run import run_book
from steerspace.book.structure import DEFAULT_CONFIG

def parse_sets(pairs: list[str]) -> dict[str, Any]:
    """``["k=200", "targets=[es,fr]"]`` → ``{"k": 200, "targets": ["es", "fr"]}`` (YAML values).

    Raises ``ValueError`` in one line for a pair without ``=``, an empty key or value,
    and a value that is not YAML.
    """
    out: dict[str, Any] = {}
    for pair in pairs:
        key, eq, value = pair.partition("=")
        key = key.strip()
        if not eq or not key:
            raise ValueError(f"--set takes KEY=VALUE, got {pair!r}; e.g. --set k=200")
        if not value.strip():
            raise ValueError(f"--set {key}= has no value; e.g. --set {key}=VALUE")
        try:
            parsed = yaml.safe_load(value)
        except yaml.YAMLError as err:
            problem = str(getattr(err, "problem", None) or "not valid YAML")
            raise ValueError(
                f"--set {pair!r}: the value is not valid YAML ({problem}); write lists as "
                "[es,fr] and quote strings with special characters"
            ) from None
        if parsed is None:
            raise ValueError(f"--set {pair!r} gives no value; e.g. --set {key}=VALUE")
        out[key] = parsed
    return out


class OneLineParser(argparse.ArgumentParser):
    """argparse that reports a usage error in one line (exit status 2), like every
    other bad input, instead of the usage block and the error."""

    def error(self, message: str):
        self.exit(2, f"steerspace: error: {message}; see {self.prog} --help\n")

class Terminated(KeyboardInterrupt):
    """SIGTERM, raised like Ctrl-C's KeyboardInterrupt: the run stops the same way (the
    kernel stopped, temporary files removed, the manifest written), exit status 143."""


@contextlib.contextmanager
def interrupts() -> Iterator[None]:
    """While the command runs, Ctrl-C raises ``KeyboardInterrupt`` and SIGTERM
    :class:`Terminated`, once: a second signal is ignored, so that the cleanup it
    starts (the kernel stopped, the manifest written) is not cut short. A signal that
    was ignored when the command started (``nohup``, a background job) stays ignored."""
    if threading.current_thread() is not threading.main_thread():
        yield
        return
    previous: dict[int, Any] = {}

    def stop(signum: int, frame: Any) -> None:
        for sig in previous:
            signal.signal(sig, signal.SIG_IGN)
        raise Terminated if signum == signal.SIGTERM else KeyboardInterrupt

    for sig in (signal.SIGINT, signal.SIGTERM):
        if signal.getsignal(sig) is not signal.SIG_IGN:
            previous[sig] = signal.signal(sig, stop)
    try:
        yield
    finally:
        for sig, handler in previous.items():
            signal.signal(sig, handler)


def _report(err: BaseException, message: str) -> None:
    """Print ``message`` (the error) and, each on its line, what went wrong beside it
    (the notes of ``err``: a manifest that could not be written, say)."""
    print(message, file=sys.stderr)
    for note in getattr(err, "__notes__", []):
        print(f"steerspace: also: {note}", file=sys.stderr)


def main(argv: list[str] | None = None) -> int:
    parser = OneLineParser(prog="steerspace", description=__doc__.splitlines()[0])
    parser.add_argument(
        "--version", action="version", version=f"steerspace {metadata.version('steerspace')}"
    )
    sub = parser.add_subparsers(dest="command", required=True)
    book = sub.add_parser("book", help="execute the chapters with papermill and build the book")
    book.add_argument("--config", default=DEFAULT_CONFIG, help="shipped config name or YAML path")
    book.add_argument(
        "--set",
        action="append",
        default=[],
        metavar="KEY=VALUE",
        help="override a config key, e.g. --set k=200 --set targets=[es,fr]",
    )
    book.add_argument("--only", nargs="*", help="execute only these chapters")
    book.add_argument("--no-build", action="store_true", help="execute without jupyter-book build")
    book.add_argument(
        "--no-execute",
        action="store_true",
        help="build from the executed notebooks already there, executing nothing",
    )
    book.add_argument(
        "--edition",
        choices=EDITIONS,
        default="teacher",
        help="teacher: with solutions (into _build/html); student: without solutions and "
        "teacher's notes (into _build/student/html)",
    )
    book.add_argument(
        "--jobs",
        type=int,
        default=1,
        metavar="N",
        help="chapters executed at a time, each on its share of the CPUs (default 1)",
    )
    book.add_argument(
        "--rerun",
        action="store_true",
        help="execute every chapter, even those unchanged since they last ran",
    )
    book.add_argument(
        "--pdf",
        action="store_true",
        help="also print the built edition as one PDF (out/_build/pdf; needs Chromium)",
    )
    book.add_argument("--root", default=".", help="repository root (with _toc.yml)")
    book.add_argument(
        "--out",
        default=None,
        help="folder of this run's notebooks, results and HTML (default: the repository "
        "for the default config without --set, else runs/<config>_<overrides>)",
    )
    add_cache_parser(sub)
    args = parser.parse_args(argv)
    try:
        with interrupts():
            if args.command == "cache":
                return run_cache_command(args)
            timings = run_book(
                args.config,
                parse_sets(args.set),
                root=args.root,
                only=args.only,
                build=not args.no_build,
                out=args.out,
                edition=args.edition,
                execute=not args.no_execute,
                jobs=args.jobs,
                rerun=args.rerun,
                pdf=args.pdf,
            )
    except KeyboardInterrupt as err:
        what = "terminated" if isinstance(err, Terminated) else "interrupted"
        _report(
            err,
            f"steerspace: {what}; finished cache entries are kept, run the same command "
            "again to resume",
        )
        return 143 if isinstance(err, Terminated) else 130
    except (ValueError, FileNotFoundError) as err:
        _report(err, f"steerspace: error: {err}")
        return 2
    except RuntimeError as err:  # ChapterFailed, or the preflight process crashed
        _report(err, f"steerspace: error: {err}")
        return 1
    except OSError as err:  # e.g. CacheWriteError: a full disk
        _report(err, f"steerspace: error: {err}")
        return 1
    except subprocess.CalledProcessError as err:
        _report(err, f"steerspace: error: {err.cmd[0]} failed (exit {err.returncode}); see above")
        return 1
    print("[steerspace] timings (s): " + ", ".join(f"{k} {v:.0f}" for k, v in timings.items()))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())

"""The command line: ``steerspace book`` (execute the chapters and build the book) and
``steerspace cache`` (inspect, verify, pack and unpack the cache)."""

from __future__ import annotations

import argparse
import subprocess
import sys
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
        )
    except KeyboardInterrupt:
        print(
            "steerspace: interrupted; finished cache entries are kept, run the same "
            "command again to resume",
            file=sys.stderr,
        )
        return 130
    except (ValueError, FileNotFoundError) as err:
        print(f"steerspace: error: {err}", file=sys.stderr)
        return 2
    except RuntimeError as err:  # ChapterFailed, or the preflight process crashed
        print(f"steerspace: error: {err}", file=sys.stderr)
        return 1
    except OSError as err:  # e.g. CacheWriteError: a full disk
        print(f"steerspace: error: {err}", file=sys.stderr)
        return 1
    except subprocess.CalledProcessError as err:
        print(
            f"steerspace: error: {err.cmd[0]} failed (exit {err.returncode}); see above",
            file=sys.stderr,
        )
        return 1
    print("[steerspace] timings (s): " + ", ".join(f"{k} {v:.0f}" for k, v in timings.items()))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())

"""Run the benchmarks in turn: AUROC, forward throughput, batching, then the cost model
(which reads forward.json); the whole-book timing (about 30 min) only with ``--book``.
Each writes ``bench/results/<name>.json`` and prints a one-line summary.

    python bench/run_all.py                 # the default model, full sizes
    python bench/run_all.py --quick         # tiny sizes, to check that it runs
    python bench/run_all.py --book          # and time the whole book, cold and warm
    python bench/run_all.py --config my.yaml --set batch_size=16

Benchmarks time the machine: run them on an otherwise idle machine.
"""

from __future__ import annotations

import os
import sys
import time
from pathlib import Path

if __package__ in (None, ""):
    sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from bench import auroc, batching, book, cost_model, forward  # noqa: E402
from bench.common import base_parser  # noqa: E402

ORDER = {
    "auroc": auroc.main,
    "forward": forward.main,
    "batching": batching.main,
    "cost_model": cost_model.main,
}


def main(argv: list[str] | None = None) -> int:
    parser = base_parser(__doc__.splitlines()[0])
    parser.add_argument("--book", action="store_true", help="also time the whole book")
    parser.add_argument(
        "--only", nargs="+", choices=[*ORDER, "book"], help="run only these benchmarks"
    )
    args = parser.parse_args(argv)
    shared = ["--config", args.config]
    for pair in args.set:
        shared += ["--set", pair]
    if args.quick:
        shared.append("--quick")
    if args.out:
        shared += ["--out", str(args.out)]
    names = args.only or [*ORDER, *(["book"] if args.book else [])]
    load = os.getloadavg()[0] if hasattr(os, "getloadavg") else 0.0
    if load > 1.0:
        print(f"[bench] warning: 1-minute load average is {load:.1f}; timings will be low")
    failed = []
    for name in names:
        start = time.perf_counter()
        print(f"[bench] {name} ...", flush=True)
        run = book.main if name == "book" else ORDER[name]
        try:
            code = run(list(shared))
        except Exception as err:  # one failing benchmark must not hide the others
            print(f"[bench] {name} failed: {type(err).__name__}: {err}", file=sys.stderr)
            code = 1
        if code:
            failed.append(name)
        print(f"[bench] {name} took {time.perf_counter() - start:.0f} s", flush=True)
    if failed:
        print(f"[bench] failed: {', '.join(failed)}", file=sys.stderr)
    return 1 if failed else 0


if __name__ == "__main__":
    raise SystemExit(main())

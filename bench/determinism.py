"""Determinism benchmark: are two runs of the same config byte-identical?

Compares the result CSVs of two runs of the book (two ``results/<config name>/``
folders, each made from an empty cache, e.g. the cold run of ``bench/book.py --keep``
and the committed book's own run) file by file: identical bytes, or, for files that
differ, the largest absolute difference of their numeric columns.

    python bench/determinism.py RUN_A/results/gemma-3-270m RUN_B/results/gemma-3-270m
"""

from __future__ import annotations

import hashlib
import sys
from pathlib import Path

if __package__ in (None, ""):
    sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from bench.common import base_parser, write_result  # noqa: E402


def largest_difference(a: Path, b: Path) -> float | None:
    """The largest absolute difference between the numeric cells of two CSVs of the same
    shape and columns (``None`` when they cannot be compared cell by cell)."""
    import numpy as np
    import pandas as pd

    x, y = pd.read_csv(a), pd.read_csv(b)
    if x.shape != y.shape or list(x.columns) != list(y.columns):
        return None
    numeric = x.select_dtypes("number").columns
    if not len(numeric):
        return None
    diff = x[numeric].to_numpy(float) - y[numeric].to_numpy(float)
    return float(np.nanmax(np.abs(diff))) if diff.size else 0.0


def compare(first: Path, second: Path) -> dict:
    """Every CSV under ``first`` against the same path under ``second``."""
    files = sorted(p.relative_to(first) for p in first.rglob("*.csv"))
    identical, different, missing = [], {}, []
    for rel in files:
        other = second / rel
        if not other.is_file():
            missing.append(str(rel))
            continue
        a, b = (first / rel).read_bytes(), other.read_bytes()
        if hashlib.sha256(a).digest() == hashlib.sha256(b).digest():
            identical.append(str(rel))
        else:
            different[str(rel)] = largest_difference(first / rel, other)
    return {"files": len(files), "identical": identical, "different": different, "missing": missing}


def main(argv: list[str] | None = None) -> int:
    parser = base_parser(__doc__.splitlines()[0])
    parser.add_argument("first", type=Path, help="results folder of the first run")
    parser.add_argument("second", type=Path, help="results folder of the second run")
    args = parser.parse_args(argv)
    result = compare(args.first, args.second)
    n, same = result["files"], len(result["identical"])
    result.update(
        {
            "first": str(args.first),
            "second": str(args.second),
            "summary": f"{same} of {n} result CSVs byte-identical"
            + (f"; differing: {', '.join(result['different'])}" if result["different"] else ""),
        }
    )
    write_result("determinism", result, directory=args.out)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())

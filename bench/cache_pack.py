"""Cache-pack benchmark: a teacher's filled cache, packed, unpacked into an empty cache
directory, and the whole book built warm from it, as a student would.

Measures the archive's size and the pack and unpack times, then runs the book (every
chapter and ``jupyter-book build``, as bench/book.py) on the unpacked cache only. The
archive holds no model: a chapter that needed a forward pass would have to convert the
model first, so ``models/`` appearing in the student's cache (or any new cache entry)
means the warm build was not warm. Both are recorded and asserted.

    python bench/book.py --keep                  # fills a temporary cache (printed)
    python bench/cache_pack.py --cache /tmp/steerspace-bench-book-XXXX/cache
"""

from __future__ import annotations

import shutil
import sys
import tempfile
import time
from pathlib import Path

if __package__ in (None, ""):
    sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from bench.book import book_sources, run_once  # noqa: E402
from bench.common import RESULTS_DIR, base_parser, write_result  # noqa: E402


def main(argv: list[str] | None = None) -> int:
    parser = base_parser(__doc__.splitlines()[0])
    parser.add_argument("--cache", type=Path, required=True, help="the teacher's filled cache")
    args = parser.parse_args(argv)
    from steerspace.infra.cache import Cache
    from steerspace.infra.cache_archive import pack, unpack

    teacher = Cache(args.cache)
    if not teacher.entries():
        parser.error(f"{args.cache} holds no cache entries; run bench/book.py --keep first")
    work = Path(tempfile.mkdtemp(prefix="steerspace-bench-pack-"))
    try:
        archive = work / "class-cache.tar"
        start = time.perf_counter()
        manifest = pack(teacher, archive)
        pack_s = time.perf_counter() - start
        student = Cache(work / "student-cache")
        start = time.perf_counter()
        counts = unpack(archive, student)
        unpack_s = time.perf_counter() - start
        before = {e.path.name for e in student.entries()}
        root = book_sources(work / "book")
        logs = Path(args.out or RESULTS_DIR) / "book-logs"
        run = run_once(args.config, args.set, root, student.root, "unpacked", logs / "pack.log")
        after = {e.path.name for e in student.entries()}
        model_converted = (student.root / "models").exists()
    finally:
        archive_bytes = archive.stat().st_size if archive.exists() else None
        shutil.rmtree(work, ignore_errors=True)
    new_entries = sorted(after - before)
    warm = not new_entries and not model_converted
    summary = (
        f"{manifest['entries']} entries, archive {archive_bytes / 1e6:.0f} MB "
        f"(pack {pack_s:.0f} s, unpack {unpack_s:.0f} s); book on the unpacked cache "
        f"{run['wall_s'] / 60:.1f} min, {'no forward pass' if warm else 'NOT warm'}"
    )
    write_result(
        "cache_pack",
        {
            "config": args.config,
            "entries": manifest["entries"],
            "archive_bytes": archive_bytes,
            "data_bytes": manifest["bytes"],
            "pack_s": pack_s,
            "unpack_s": unpack_s,
            "unpacked": counts,
            "book": run,
            "new_entries": new_entries,
            "model_converted": model_converted,
            "pass_warm": warm,
            "summary": summary,
        },
        directory=args.out,
    )
    return 0 if warm else 1


if __name__ == "__main__":
    raise SystemExit(main())

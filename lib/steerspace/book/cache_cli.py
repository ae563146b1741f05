"""``steerspace cache list|verify|prune|pack|unpack``: look after the on-disk cache.

Every subcommand takes ``--cache-dir`` (default ``$STEERSPACE_CACHE`` or
``~/.cache/steerspace``). ``verify`` exits 1 when an entry or a converted model is
broken; the others 0. ``unpack`` refuses an archive that ``pack`` did not write, or a
damaged one, in one line (exit 2), writing nothing.
"""

from __future__ import annotations

import argparse
from collections import defaultdict
from pathlib import Path

from steerspace.infra.cache import Cache, default_cache_dir


def _size(n: float) -> str:
    units, i = ("B", "KB", "MB", "GB"), 0
    while n >= 1024 and i < len(units) - 1:
        n, i = n / 1024, i + 1
    return f"{n:.0f} B" if i == 0 else f"{n:.1f} {units[i]}"


def add_cache_parser(sub) -> None:
    """Register ``cache`` and its subcommands on the CLI's subparsers."""
    cache = sub.add_parser("cache", help="list, verify, prune, pack or unpack the cache")
    cache.add_argument("--cache-dir", default=None, help=f"default {default_cache_dir()}")
    actions = cache.add_subparsers(dest="action", required=True)
    listing = actions.add_parser("list", help="entries with size and age, per stage")
    listing.add_argument("--all", action="store_true", help="one line per entry")
    actions.add_parser("verify", help="check every entry's manifest, size and checksum")
    prune = actions.add_parser("prune", help="remove entries (and leftovers of interrupted runs)")
    prune.add_argument("--older-than", type=float, metavar="DAYS", help="older than DAYS days")
    prune.add_argument("--model", help="made with this model (config key 'model')")
    prune.add_argument("--stale", action="store_true", help="made by an older stage version")
    prune.add_argument("--broken", action="store_true", help="failing verify")
    prune.add_argument("--dry-run", action="store_true", help="only print what would go")
    pack = actions.add_parser("pack", help="write the cache to one archive (.tar or .tar.gz)")
    pack.add_argument("archive")
    pack.add_argument("--model", help="only entries made with this model")
    pack.add_argument("--with-model", action="store_true", help="include the converted models")
    unpack = actions.add_parser("unpack", help="check an archive and copy it into the cache")
    unpack.add_argument("archive")


def run_cache_command(args: argparse.Namespace) -> int:
    """Run one ``steerspace cache`` action; returns the exit code."""
    from steerspace.infra.cache_archive import model_folders, pack, unpack
    from steerspace.infra.converted_model import check_model_folder

    cache = Cache(args.cache_dir)
    if args.action == "list":
        entries = cache.entries()
        by_kind: dict[str, list] = defaultdict(list)
        for entry in entries:
            by_kind[entry.kind].append(entry)
        print(f"cache {cache.root}: {len(entries)} entries, {_size(sum(e.bytes for e in entries))}")
        for kind, group in sorted(by_kind.items()):
            stale = sum(cache.is_stale(e) for e in group)
            print(
                f"  {kind:<17} {len(group):>5} entries {_size(sum(e.bytes for e in group)):>9}"
                f"  newest {min(e.age_days for e in group):.1f} d, oldest "
                f"{max(e.age_days for e in group):.1f} d" + (f", {stale} stale" if stale else "")
            )
            if args.all:
                for e in group:
                    print(f"    {e.path.name}  {_size(e.bytes)}  {e.age_days:.1f} d")
        models = cache.root / "models"
        if models.is_dir():
            for model in sorted(p for p in models.iterdir() if p.is_dir() and p.name[0] != "."):
                size = sum(f.stat().st_size for f in model.rglob("*") if f.is_file())
                print(f"  model {model.name}: {_size(size)}")
        return 0
    if args.action == "verify":
        problems = cache.verify()
        for path, problem in problems.items():
            print(f"{path.relative_to(cache.root)}: {problem}")
        broken_models, unchecked = 0, 0
        for folder in model_folders(cache):
            problem = check_model_folder(folder)
            name = folder.relative_to(cache.root)
            if problem == "no checksum file":  # converted before checksums were kept
                unchecked += 1
                print(f"{name}: no checksums recorded yet (its next use records them)")
            elif problem is not None:
                broken_models += 1
                print(f"{name}: damaged model ({problem}); its next use converts it again")
        models = len(model_folders(cache))
        print(
            f"{len(cache.entries()) - len(problems)} intact, {len(problems)} broken"
            + (
                f"; models: {models - broken_models - unchecked} intact, {broken_models} damaged"
                if models
                else ""
            )
        )
        return 1 if problems or broken_models else 0
    if args.action == "prune":
        removed = cache.prune(
            older_than_days=args.older_than,
            model=args.model,
            stale=args.stale,
            broken=args.broken,
            dry_run=args.dry_run,
        )
        for path in removed:
            print(("would remove " if args.dry_run else "removed ") + str(path))
        print(f"{len(removed)} {'would go' if args.dry_run else 'removed'}")
        return 0
    if args.action == "pack":
        manifest = pack(cache, args.archive, model=args.model, with_model=args.with_model)
        for name, problem in manifest["skipped"].items():
            print(f"left out {name}: damaged model ({problem})")
        size = Path(args.archive).stat().st_size
        print(
            f"packed {manifest['entries']} entries ({_size(manifest['bytes'])}) "
            f"into {args.archive} ({_size(size)})"
        )
        return 0
    counts = unpack(args.archive, cache)
    print(
        f"unpacked into {cache.root}: {counts['written']} files written, "
        f"{counts['skipped']} already there"
    )
    return 0

"""Checks that run before any chapter: every bad input fails here, in one line.

:func:`steerspace.config.load_config` already rejects unknown keys and malformed values.
What needs the machine, the disk or the model is checked here: the device exists, the
data folders exist, the corpus has the languages, and every ``k`` fits the model's unit
count (read from the model's config, with no weights loaded).

``steerspace book`` runs these checks, and the choice of ``dtype: auto``, in a child
process (:func:`checks_in_child`): they import torch and transformers, and the runner,
which stays alive beside every chapter's kernel, then never holds them (about 0.4 GB).
The child ends with the runner, also when the runner is killed (:func:`die_with_parent`):
a first run's model conversion (about 2.4 GB) never goes on alone.
"""

from __future__ import annotations

import ctypes
import json
import os
import signal
import subprocess
import sys
import threading
import time
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from steerspace.config import Config, load_config
from steerspace.core.checks import check_k as check_k_value
from steerspace.data.hf import HF_PREFIX, is_hf_source
from steerspace.infra.cache import DEFAULT_CACHE_ENV, default_cache_dir

DATA_KEYS = {
    "data_dir": "the Flores-200 or Flores+ directory",
    "pawsx_dir": "the PAWS-X directory (with x-final/)",
    "tatoeba_dir": "a LASER-layout Tatoeba directory",
    "bucc_dir": "the BUCC 2018 directory",
}


def check_data_dirs(cfg: Config) -> None:
    """Every data key that names a folder names one that exists."""
    for key, what in DATA_KEYS.items():
        value = getattr(cfg, key)
        if value is None:
            continue
        if is_hf_source(value):
            target = value[len(HF_PREFIX) :]
            if target.startswith(("/", ".", "~")) and not Path(target).expanduser().is_dir():
                raise FileNotFoundError(
                    f"config key {key!r}: the local copy {target!r} does not exist; "
                    f"pass {HF_PREFIX}<hub id> or {HF_PREFIX}<folder written by save_to_disk>"
                )
            continue
        if not Path(value).expanduser().is_dir():
            raise FileNotFoundError(
                f"config key {key!r}: directory {value!r} does not exist; point it at {what}"
            )


def check_cache_dir(cfg: Config) -> None:
    """The cache folder (``cache_dir``, else ``$STEERSPACE_CACHE`` or the default) is a
    folder or can become one: no file stands where it or a folder above it should be.
    A folder that cannot be written is no error: a shared cache may be read only."""
    root = Path(cfg.cache_dir).expanduser() if cfg.cache_dir else default_cache_dir()
    if cfg.cache_dir:
        what = f"config key 'cache_dir': {cfg.cache_dir!r}"
    elif os.environ.get(DEFAULT_CACHE_ENV):
        what = f"${DEFAULT_CACHE_ENV} {os.environ[DEFAULT_CACHE_ENV]!r}"
    else:
        what = f"the cache folder {str(root)!r}"
    existing = next(p for p in (root, *root.parents) if p.exists())
    if not existing.is_dir():
        raise ValueError(
            f"{what} cannot be a folder: {str(existing)!r} is a file; choose another folder"
        )


def check_corpus_languages(cfg: Config) -> None:
    """The embedded Bible has 18 of the languages; asking for another fails here."""
    if cfg.corpus != "bible":
        return
    from steerspace.data import bible_languages

    have = set(bible_languages())
    asked = dict.fromkeys([*cfg.targets, *cfg.extra_negatives, *cfg.languages])
    missing = [code for code in asked if code not in have]
    if missing:
        raise ValueError(
            f"the Bible corpus has no {missing}; it has {sorted(have)} "
            "(use corpus: flores with data_dir for the others)"
        )


#: Every set of languages of the embedded Bible shares at least this many verses (all
#: 18 languages share 27,547; ``tests/book/test_bad_input.py`` checks it): smaller requests
#: need no count, which reads the whole Bible (seconds).
BIBLE_MIN_ALIGNED = 27_000
SIZE_KEYS = ("n_expert_sentences", "n_eval_sentences", "n_heldout_sentences")


def check_corpus_sizes(cfg: Config, languages: list[str]) -> None:
    """The Bible's verses shared by ``languages`` (those the run reads) are enough for
    the disjoint expert, evaluation and held-out sets (Flores has fixed splits, which a
    larger ``n_*`` only reads whole)."""
    if cfg.corpus != "bible":
        return
    sizes = {key: getattr(cfg, key) for key in SIZE_KEYS}
    total = sum(sizes.values())
    if total <= BIBLE_MIN_ALIGNED:
        return
    from steerspace.data.bible import load_bible

    have = len(load_bible(languages))
    if total > have:
        largest = max(sizes, key=sizes.get)
        raise ValueError(
            f"config key {largest!r}: {' + '.join(map(str, sizes.values()))} = {total} "
            f"sentences asked for ({' + '.join(sizes)}), but the Bible has {have} aligned "
            f"verses in the {len(languages)} languages of this run; lower {largest} so that "
            f"the three add up to at most {have}"
        )


def check_k(cfg: Config, n_units: int) -> None:
    """``k`` and every value of the k grids is at most the model's unit count."""
    asked = {"k": [cfg.k], "k_grid": list(cfg.k_grid), "dose_k_grid": list(cfg.dose_k_grid)}
    units = f"units matched by modules={cfg.modules!r}"
    for key, values in asked.items():
        for k in values:
            if k == 0 and key == "k_grid":
                continue  # the grid's 0 is the original model
            try:
                check_k_value(k, n_units, units=units)
            except ValueError as err:
                raise ValueError(f"config key {key!r}: {err}") from None


def preflight(cfg: Config) -> int:
    """Run every check, cheapest first; returns the model's unit count.

    Raises ``ValueError`` or ``FileNotFoundError`` with a one-line message.
    """
    from steerspace.core.models import (
        EMBEDDED_MODEL,
        check_device,
        check_model_reachable,
        embedded_model_dir,
    )
    from steerspace.pipeline import Pipeline

    check_device(cfg.device)
    check_cache_dir(cfg)
    check_model_reachable(cfg.model)
    check_data_dirs(cfg)
    check_corpus_languages(cfg)
    pipe = Pipeline(cfg, progress=False)
    check_corpus_sizes(cfg, list(dict.fromkeys([*pipe.expert_languages, *pipe.eval_languages])))
    n_units = pipe.n_units  # cached, or counted from the config: no weights needed
    check_k(cfg, n_units)
    if cfg.model == EMBEDDED_MODEL:  # converted, every file's checksum checked (a damaged
        embedded_model_dir(cfg.cache_dir, verify=True)  # model is converted again), last
    return n_units


#: the errors a check raises, by name, as the child process reports them
CHECK_ERRORS: dict[str, type[Exception]] = {
    "ValueError": ValueError,
    "FileNotFoundError": FileNotFoundError,
}


def checks(config: str, overrides: Mapping[str, Any], *, model_id: bool = True) -> dict[str, Any]:
    """:func:`preflight`, the dtype choice and (with ``model_id``) the model's identity
    for ``config`` with ``overrides``: ``{"n_units": ..., "dtype": {"dtype", "device",
    "reason", ...}, "model_id": ...}`` (``model_id`` ``""`` when not asked for)."""
    from steerspace.core.models import model_identity
    from steerspace.core.precision import AUTO, choose_dtype

    cfg = load_config(config, **dict(overrides))
    n_units = preflight(cfg)
    if cfg.dtype == AUTO:
        dtype = choose_dtype(cfg.device, cache_dir=cfg.cache_dir).as_dict()
    else:
        dtype = {"dtype": cfg.dtype, "device": cfg.device, "reason": "set in the config"}
    identity = model_identity(cfg.model, cache_dir=cfg.cache_dir) if model_id else ""
    return {"n_units": n_units, "dtype": dtype, "model_id": identity}


#: Linux's ``prctl`` option: the signal a process gets when its parent ends.
PR_SET_PDEATHSIG = 1
#: Seconds between two looks at the parent, where the OS cannot signal its end.
WATCH_INTERVAL_S = 0.5


def die_with_parent(parent: int) -> None:
    """End this process when ``parent`` ends, even by SIGKILL: Linux sends it SIGKILL
    (``PR_SET_PDEATHSIG``); elsewhere a daemon thread looks for the parent every
    :data:`WATCH_INTERVAL_S` seconds. A parent that has already ended ends it now."""
    if not _parent_death_signal():
        threading.Thread(
            target=_watch_parent, args=(parent,), name="steerspace-parent", daemon=True
        ).start()
    if os.getppid() != parent:
        os._exit(1)


def _parent_death_signal() -> bool:
    """Ask Linux to SIGKILL this process when its parent ends; whether that worked."""
    if not sys.platform.startswith("linux"):
        return False
    try:
        return ctypes.CDLL(None, use_errno=True).prctl(PR_SET_PDEATHSIG, signal.SIGKILL) == 0
    except (OSError, AttributeError):
        return False


def _watch_parent(parent: int) -> None:
    """Exit the process as soon as its parent is no longer ``parent``."""
    while os.getppid() == parent:
        time.sleep(WATCH_INTERVAL_S)
    os._exit(1)


def checks_in_child(
    config: str, overrides: Mapping[str, Any], *, model_id: bool = True
) -> dict[str, Any]:
    """:func:`checks` in a child process (``python -m steerspace.book.preflight``), so the
    calling process never imports torch. A failed check is raised here, as the same
    exception type with the same one-line message."""
    request = json.dumps({"config": config, "overrides": dict(overrides), "model_id": model_id})
    # stderr passes through: the model's first conversion reports itself there. In its
    # own session, so that Ctrl-C reaches the runner only, which then stops the child
    # (subprocess.run kills it) and reports the interrupt in one line; a runner killed
    # outright takes the child with it (die_with_parent, given this process's pid).
    proc = subprocess.run(
        [sys.executable, "-m", "steerspace.book.preflight", request, str(os.getpid())],
        stdout=subprocess.PIPE,
        text=True,
        check=False,
        start_new_session=True,
    )
    *other, last = proc.stdout.strip().splitlines() or [""]
    for line in other:
        print(line, flush=True)
    try:
        answer = json.loads(last)
    except json.JSONDecodeError:
        raise RuntimeError(
            f"the preflight checks crashed (exit {proc.returncode}); see the lines above"
        ) from None
    if "error" in answer:
        if answer["error"] not in CHECK_ERRORS:  # a bug, not a bad input
            raise RuntimeError(f"the preflight checks crashed ({answer['message']})")
        raise CHECK_ERRORS[answer["error"]](answer["message"])
    return answer


def _main(argv: list[str]) -> int:
    """The child's side of :func:`checks_in_child`: one JSON line on stdout, also for
    an unexpected error (its type and first line; the runner reports it in one line)."""
    request = json.loads(argv[0])
    try:
        answer = checks(request["config"], request["overrides"], model_id=request["model_id"])
    except tuple(CHECK_ERRORS.values()) as err:
        print(json.dumps({"error": type(err).__name__, "message": str(err)}))
        return 2
    except Exception as err:  # noqa: BLE001 - reported in one line, never a traceback
        first = (str(err).strip().splitlines() or [""])[0]
        message = f"{type(err).__name__}: {first}" if first else type(err).__name__
        print(json.dumps({"error": "crash", "message": message}))
        return 1
    print(json.dumps(answer, default=str))
    return 0


if __name__ == "__main__":
    die_with_parent(int(sys.argv[2]))
    raise SystemExit(_main(sys.argv[1:2]))

"""The paper's data the way most users get it: through Hugging Face ``datasets``.

A data key of the config (``data_dir`` for Flores+, ``pawsx_dir``, ``tatoeba_dir``) that
starts with ``hf:`` is read with ``datasets`` instead of from the files of the original
releases, and mapped onto the same types (:class:`Corpus`, :class:`ParaphrasePairs`):

- ``hf:<hub id>``: the dataset on the hub (needs internet; Flores+ is gated: accept its
  terms on the hub and set ``HF_TOKEN``), e.g. :data:`HUB_IDS`;
- ``hf:<folder>``: a local copy, written by ``save_to_disk`` (a ``DatasetDict`` with
  the split, or one split's ``Dataset``) or a folder of parquet files, one subfolder per
  split (``dev/*.parquet``). A copy holds one subset (hub "config") per subfolder
  (``de/`` for PAWS-X, ``deu-eng/`` for Tatoeba, ``spa_Latn/`` for Flores+), or, for
  Flores+, all languages in one table with its ``iso_639_3`` and ``iso_15924`` columns.

======================  ==============================  ============  ===========================
data                    hub id (:data:`HUB_IDS`)        subset        columns used
======================  ==============================  ============  ===========================
Flores+ (``data_dir``)  ``openlanguagedata/flores_plus``  ``spa_Latn``  ``id``, ``text``
PAWS-X (``pawsx_dir``)  ``google-research-datasets/paws-x``  ``de``  ``id``, ``sentence1``,
                                                                      ``sentence2``, ``label``
Tatoeba                 ``mteb/tatoeba-bitext-mining``  ``deu-eng``   ``sentence1`` (``deu``),
(``tatoeba_dir``)                                                     ``sentence2`` (English)
======================  ==============================  ============  ===========================

The loaders in :mod:`steerspace.data` (``load_flores``, ``load_pawsx``, ``load_tatoeba``)
hand ``hf:`` sources to this module, so the pipeline and the chapters need no change.
"""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

#: What marks a data source as read through ``datasets``.
HF_PREFIX = "hf:"
#: The hub ids of the paper's data.
HUB_IDS: dict[str, str] = {
    "flores": "openlanguagedata/flores_plus",
    "pawsx": "google-research-datasets/paws-x",
    "tatoeba": "mteb/tatoeba-bitext-mining",
}
_HUB_ID = re.compile(r"[A-Za-z0-9][\w.-]*/[\w.-]+")


def _datasets() -> Any:
    """The ``datasets`` module, imported on first use: it is the ``hf`` extra, not a
    dependency of the library (ImportError in one line naming the extra)."""
    try:
        import datasets
    except ImportError as err:
        raise ImportError(
            "hf: data sources need Hugging Face datasets, the extra 'hf' of steerspace: "
            "pip install 'steerspace[hf]'"
        ) from err
    return datasets


def is_hf_source(source: object) -> bool:
    """Whether a data key's value asks for ``datasets`` (``"hf:..."``)."""
    return isinstance(source, str) and source.startswith(HF_PREFIX)


def _local_dir(target: str) -> Path | None:
    """The local copy ``target`` names, or None for a hub id (FileNotFoundError for a
    path that does not exist)."""
    path = Path(target).expanduser()
    if path.is_dir():
        return path
    if target.startswith(("/", ".", "~")) or not _HUB_ID.fullmatch(target):
        raise FileNotFoundError(
            f"{HF_PREFIX}{target!s}: no such folder, and not a hub id (owner/name); pass "
            f"{HF_PREFIX}<hub id> or {HF_PREFIX}<folder written by save_to_disk>"
        )
    return None


def _from_disk(root: Path, split: str, what: str) -> Any:
    """One split of a local copy: save_to_disk (DatasetDict or Dataset) or parquet."""
    datasets = _datasets()
    if (root / "dataset_dict.json").is_file():
        saved = datasets.load_from_disk(str(root))
        if split not in saved:
            raise ValueError(f"{what} copy {str(root)!r} has splits {list(saved)}, not {split!r}")
        return saved[split]
    if (root / "state.json").is_file():
        return datasets.load_from_disk(str(root))
    files = sorted(str(p) for p in (root / split).glob("*.parquet"))
    if not files:
        raise FileNotFoundError(
            f"{what} copy {str(root)!r} is neither a save_to_disk folder nor a folder of "
            f"{split}/*.parquet files"
        )
    return datasets.load_dataset("parquet", data_files=files, split="train")


def open_split(source: str, *, subset: str | None, split: str, what: str) -> Any:
    """One split of one subset of ``source`` (``"hf:<hub id>"`` or ``"hf:<folder>"``)
    as a ``datasets.Dataset``.

    A local copy's subset is its subfolder ``subset/`` if it has one, else the folder
    itself. ``what`` names the data in errors (e.g. ``"PAWS-X"``).

    Raises
    ------
    FileNotFoundError
        A local path that does not exist, or a folder that is no copy of a dataset.
    ValueError
        The hub could not give the dataset (named, with the reason and what to check).
    """
    target = source[len(HF_PREFIX) :]
    local = _local_dir(target)
    if local is not None:
        root = local / subset if subset and (local / subset).is_dir() else local
        return _from_disk(root, split, what)
    datasets = _datasets()
    try:
        return datasets.load_dataset(target, subset, split=split)
    except Exception as err:  # the hub, the network, a gate: all end here, in one line
        reason = f"{type(err).__name__}: {err}".splitlines()[0]
        raise ValueError(
            f"could not load {what} {target!r} (subset {subset!r}, split {split!r}) with "
            f"datasets ({reason}); check the hub id and the connection, and for gated data "
            "(Flores+) accept its terms on the hub and set HF_TOKEN"
        ) from err


def columns(dataset: Any, names: tuple[str, ...], what: str) -> dict[str, list]:
    """The named columns of ``dataset`` as lists, or a ValueError naming the missing."""
    missing = [n for n in names if n not in dataset.column_names]
    if missing:
        raise ValueError(f"{what} has no column(s) {missing}; it has {dataset.column_names}")
    return {n: list(dataset[n]) for n in names}


def flores_plus_sentences(source: str, code: str, split: str) -> list[str]:
    """The ``split`` sentences of Flores+ language ``code`` (e.g. ``spa_Latn``), ordered
    by ``id``: from its hub subset, its subfolder of a local copy, or the rows of an
    all-language copy whose ``iso_639_3``/``iso_15924`` match."""
    what = f"Flores+ {code}"
    table = open_split(source, subset=code, split=split, what=what)
    if {"iso_639_3", "iso_15924"} <= set(table.column_names):
        lang, script = code.split("_")
        keep = [
            i
            for i, (a, b) in enumerate(zip(table["iso_639_3"], table["iso_15924"], strict=True))
            if a == lang and b == script
        ]
        table = table.select(keep)
    if len(table) == 0:
        raise ValueError(f"{source} has no {split} sentences of {code}; drop that language")
    text = "text" if "text" in table.column_names else "sentence"
    rows = columns(table, ("id", text), what)
    order = sorted(range(len(rows["id"])), key=lambda i: int(rows["id"][i]))
    return [str(rows[text][i]).strip() for i in order]

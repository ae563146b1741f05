"""How similar each language is to a target language, and a line through the relation.

Used by the "beyond the paper" chapter to ask whether the languages that gain most from
steering towards a target (Δ retrieval accuracy, Δ cosine distance) are the ones that
resemble it, in the spirit of Blaschke et al. (2025). Three kinds of similarity:

* ``same_script`` — the ISO 15924 script codes of :data:`steerspace.data.languages.LANGUAGES`
  are equal (so Japanese ``Jpan`` and Chinese ``Hans`` count as different scripts even
  though Japanese writes kanji, and Russian and Ukrainian share ``Cyrl``);
* ``same_family`` / ``genetic_distance`` — from the ``family`` field there
  (``"Indo-European/Romance"``): 0 for the same branch, 0.5 for the same family but a
  different branch, 1 for different families;
* ``typological_distance`` — a Hamming distance over four WALS word-order and
  morphology features, :data:`WALS_FEATURES`, tabulated in :data:`WALS_VALUES`.

Source of the typological table
-------------------------------
The values are those of the World Atlas of Language Structures (Dryer & Haspelmath, eds.,
2013, https://wals.info) as carried by URIEL (Littell et al., 2017) in the ``WALS``
source column of ``lang2vec/data/features.npz`` (lang2vec 1.1.2, read once by hand to
write this table; lang2vec itself is not a dependency: it has no ``distance`` function in
its only PyPI release and imports ``pkg_resources``, which the pinned setuptools no
longer ships). URIEL stores WALS values as binary features; a language with two orders
switched on (German and Dutch ``S_SVO`` and ``S_SOV``, Greek ``S_SVO`` and ``S_VSO``,
Mandarin prepositions and postpositions) is WALS's "no dominant order", written
``"none"`` here. Feature 26A is collapsed to three values (``"suffixing"`` for strongly
or weakly suffixing, ``"prefixing"``, ``"little"`` affixation) because URIEL only keeps
the prefix/suffix tendency, not WALS's strong/weak grade. Every language of
:data:`~steerspace.data.languages.LANGUAGES` has all four values (no gaps); a code missing
from the table would give NaN.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
import pandas as pd
from scipy.stats import linregress

from steerspace.data.languages import LANGUAGES, get_language, validate_languages
from steerspace.metrics.inference import Estimate, cluster_bootstrap_pearson

__all__ = [
    "DISTANCE_COLUMNS",
    "WALS_FEATURES",
    "WALS_TITLES",
    "Relation",
    "WALS_VALUES",
    "genetic_distance",
    "relate",
    "similarity_to_target",
    "typological_distance",
    "wals_table",
]

#: WALS feature ID → (column name, values used in :data:`WALS_VALUES`).
WALS_FEATURES: dict[str, tuple[str, tuple[str, ...]]] = {
    "81A": ("order_svo", ("SVO", "SOV", "none")),  # Order of Subject, Object and Verb
    "85A": ("adposition", ("prep", "postp", "none")),  # Order of Adposition and Noun Phrase
    "87A": ("adjective_noun", ("AdjN", "NAdj")),  # Order of Adjective and Noun
    "26A": ("affixation", ("suffixing", "prefixing", "little")),  # Prefixing vs. Suffixing
}

#: WALS feature ID → the feature's title in WALS (https://wals.info/feature/<ID>).
WALS_TITLES: dict[str, str] = {
    "81A": "Order of Subject, Object and Verb",
    "85A": "Order of Adposition and Noun Phrase",
    "87A": "Order of Adjective and Noun",
    "26A": "Prefixing vs. Suffixing in Inflectional Morphology",
}

# fmt: off
#: Language code → values of (81A, 85A, 87A, 26A); source in the module docstring.
WALS_VALUES: dict[str, tuple[str | None, str | None, str | None, str | None]] = {
    "th": ("SVO",  "prep",  "NAdj", "little"),
    "cs": ("SVO",  "prep",  "AdjN", "suffixing"),
    "de": ("none", "prep",  "AdjN", "suffixing"),
    "el": ("none", "prep",  "AdjN", "suffixing"),
    "en": ("SVO",  "prep",  "AdjN", "suffixing"),
    "fr": ("SVO",  "prep",  "NAdj", "suffixing"),
    "he": ("SVO",  "prep",  "NAdj", "suffixing"),
    "hi": ("SOV",  "postp", "AdjN", "suffixing"),
    "id": ("SVO",  "prep",  "NAdj", "suffixing"),
    "it": ("SVO",  "prep",  "NAdj", "suffixing"),
    "ja": ("SOV",  "postp", "AdjN", "suffixing"),
    "ko": ("SOV",  "postp", "AdjN", "suffixing"),
    "nl": ("none", "prep",  "AdjN", "suffixing"),
    "fa": ("SOV",  "prep",  "NAdj", "suffixing"),
    "pl": ("SVO",  "prep",  "AdjN", "suffixing"),
    "pt": ("SVO",  "prep",  "NAdj", "suffixing"),
    "ro": ("SVO",  "prep",  "NAdj", "suffixing"),
    "ru": ("SVO",  "prep",  "AdjN", "suffixing"),
    "es": ("SVO",  "prep",  "NAdj", "suffixing"),
    "tr": ("SOV",  "postp", "AdjN", "suffixing"),
    "uk": ("SVO",  "prep",  "AdjN", "suffixing"),
    "vi": ("SVO",  "prep",  "NAdj", "little"),
    "zh": ("SVO",  "none",  "AdjN", "suffixing"),
}
# fmt: on

#: Numeric columns of :func:`similarity_to_target`, in order (the first is the main one).
DISTANCE_COLUMNS: tuple[str, ...] = ("typological_distance", "genetic_distance")


def wals_table() -> pd.DataFrame:
    """The typological table: one row per language, one column per WALS feature.

    Used by the "beyond the paper" chapter to show what :func:`typological_distance`
    compares. Columns are named ``"{name} ({id})"``, e.g. ``"order_svo (81A)"``; a
    missing value is None.
    """
    cols = [f"{name} ({fid})" for fid, (name, _) in WALS_FEATURES.items()]
    frame = pd.DataFrame.from_dict(WALS_VALUES, orient="index", columns=cols)
    return frame.reindex(list(LANGUAGES)).rename_axis("language")


def typological_distance(a: str, b: str) -> float:
    """Fraction of the WALS features of :data:`WALS_FEATURES` on which two languages differ.

    Only features with a value for both languages count; NaN if there is none.
    0 for a language with itself, symmetric, in [0, 1].

    Raises
    ------
    ValueError
        An unknown language code (the message lists the known ones).
    """
    get_language(a)
    get_language(b)
    va = WALS_VALUES.get(a, (None,) * len(WALS_FEATURES))
    vb = WALS_VALUES.get(b, (None,) * len(WALS_FEATURES))
    pairs = [(x, y) for x, y in zip(va, vb, strict=True) if x is not None and y is not None]
    if not pairs:
        return float("nan")
    return sum(x != y for x, y in pairs) / len(pairs)


def _family(code: str) -> tuple[str, str]:
    family, _, branch = get_language(code).family.partition("/")
    return family, branch


def genetic_distance(a: str, b: str) -> float:
    """0 for the same branch, 0.5 for the same family only, 1 for different families.

    From the ``family`` field of :data:`steerspace.data.languages.LANGUAGES`
    (``"family/branch"``); a family without branches (``"Japonic"``) counts as its own
    branch.

    Raises
    ------
    ValueError
        An unknown language code (the message lists the known ones).
    """
    fa, ba = _family(a)
    fb, bb = _family(b)
    if fa != fb:
        return 1.0
    return 0.0 if ba == bb else 0.5


def similarity_to_target(target: str, languages: Sequence[str]) -> pd.DataFrame:
    """How similar each language is to ``target``.

    Used by the "beyond the paper" chapter to relate Δ retrieval and Δ distance under
    steering towards ``target`` to linguistic similarity.

    Parameters
    ----------
    target : language code, e.g. ``"es"``.
    languages : language codes to describe; ``target`` is dropped if present.

    Returns
    -------
    DataFrame indexed by ``language`` (given order, target excluded) with columns
    ``same_script`` (bool), ``same_family`` (bool, top-level family),
    ``typological_distance`` (float in [0, 1], see :func:`typological_distance`) and
    ``genetic_distance`` (0, 0.5 or 1, see :func:`genetic_distance`).

    Raises
    ------
    ValueError
        An unknown or repeated language code (the message lists the known ones).
    """
    tgt = get_language(target)
    codes = [c for c in validate_languages(languages) if c != target]
    rows = {
        code: {
            "same_script": get_language(code).script == tgt.script,
            "same_family": _family(code)[0] == _family(target)[0],
            "typological_distance": typological_distance(target, code),
            "genetic_distance": genetic_distance(target, code),
        }
        for code in codes
    }
    frame = pd.DataFrame.from_dict(
        rows,
        orient="index",
        columns=["same_script", "same_family", *DISTANCE_COLUMNS],
    )
    frame = frame.astype(
        {"same_script": bool, "same_family": bool} | dict.fromkeys(DISTANCE_COLUMNS, np.float64)
    )
    return frame.rename_axis("language")


@dataclass(frozen=True)
class Relation:
    """A least-squares line of y on x over pairs that come in clusters, with Pearson r
    and its interval from resampling the clusters (:func:`relate`)."""

    slope: float
    intercept: float
    r: Estimate
    n_pairs: int

    @property
    def n_clusters(self) -> int:
        """How many clusters (e.g. targets) the interval of r resamples."""
        return self.r.n


def relate(
    frame: pd.DataFrame,
    x: str,
    y: str,
    *,
    cluster: str,
    n_boot: int,
    seed: int = 0,
) -> Relation:
    """Least-squares line and Pearson correlation of column ``y`` on column ``x`` of
    ``frame``, with an interval for r that resamples whole clusters (column
    ``cluster``, e.g. the target: the pairs of one target share its queries and its
    intervention, so they are not independent;
    :func:`steerspace.metrics.inference.cluster_bootstrap_pearson`).

    Used by the "beyond the paper" chapter (x = typological distance to the target,
    y = Δ top-1 accuracy, cluster = target). Rows where x or y is NaN/inf are dropped;
    bools are read as 0/1. A constant y gives slope 0 and r NaN.

    Raises
    ------
    ValueError
        A missing column, non-numeric x or y, fewer than 3 usable rows, fewer than 2
        clusters, or a constant x (no line).
    """
    missing = [c for c in (x, y, cluster) if c not in frame.columns]
    if missing:
        raise ValueError(f"frame has no column(s) {missing}; its columns are {list(frame.columns)}")
    try:
        xs = frame[x].astype(np.float64).to_numpy()
        ys = frame[y].astype(np.float64).to_numpy()
    except (TypeError, ValueError):
        raise ValueError(
            f"x and y must be numeric, got dtypes {frame[x].dtype} and {frame[y].dtype}"
        ) from None
    keep = np.isfinite(xs) & np.isfinite(ys)
    xs, ys, groups = xs[keep], ys[keep], frame[cluster].to_numpy()[keep]
    if keep.sum() < 3:
        raise ValueError(f"relate needs at least 3 finite (x, y) rows, got {int(keep.sum())}")
    if np.ptp(xs) == 0:
        raise ValueError(f"x is constant ({xs[0]}) over the {xs.size} rows; no line can be fitted")
    if np.ptp(ys) == 0:
        slope, intercept = 0.0, float(ys[0])
    else:
        fit = linregress(xs, ys)
        slope, intercept = float(fit.slope), float(fit.intercept)
    r = cluster_bootstrap_pearson(xs, ys, groups, n_boot=n_boot, seed=seed)
    return Relation(slope, intercept, r, int(xs.size))

"""The claim registry: ``registry.yaml`` (the paper's claims as data) read into
validated :class:`Claim` records.

Every field is checked when the package is imported: a claim with an unknown key, a
rule kind or quantifier that does not exist, an equivalence rule without its margin's
justification, or a chapter anchor missing, fails at once with the claim's id.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from importlib import resources
from typing import Any

import yaml

from steerspace.claims.rules import Rule

#: the retrieval scores a claim can be assessed with; the first is the paper's
SCORES = ("inner product", "cosine")
#: how a claim's numbers are written (kinds of :func:`steerspace.text.format.fmt`)
FORMATS = ("auroc", "pp", "nats", "dist", "r", "ratio", "pct", "plain")

_REQUIRED = ("id", "section", "title", "quote", "paper", "measure", "units", "test", "chapter", "anchor", "format")  # fmt: skip
_OPTIONAL = {
    "rule": None,
    "margin_note": "",
    "reference_note": "",
    "effect": None,
    "needs_above_chance": False,
    "variants": None,
    "k_dependent": True,
    "extension": False,
    "untestable": "",
}


@dataclass(frozen=True)
class Effect:
    """The effect the paper reports, for the power of a claim's rule: ``value`` is the
    true effect in the measure's units, or ``above_reference`` how far past each unit's
    reference (in the claimed direction); ``note`` says where it comes from."""

    value: float | None = None
    above_reference: float | None = None
    note: str = ""


@dataclass(frozen=True)
class Claim:
    """One claim of the paper (or, with ``extension``, one of ours): the paper's words
    and numbers, our measure, its units and test, the :class:`Rule` that decides it
    (``None`` where one model cannot test it: ``untestable`` says why), and where the
    book shows it. ``variants`` are the retrieval scores it is assessed with, the
    paper's first."""

    id: str
    section: str
    title: str
    quote: str
    paper: str
    measure: str
    units: str
    test: str
    chapter: str
    anchor: str
    format: str
    rule: Rule | None = None
    margin_note: str = ""
    reference_note: str = ""
    effect: Effect | None = None
    needs_above_chance: bool = False
    variants: tuple[str, ...] = ("",)
    k_dependent: bool = True
    extension: bool = False
    untestable: str = ""

    @property
    def primary(self) -> str:
        """The variant whose verdict counts (the paper's score, or ``""``)."""
        return self.variants[0]


def _claim(entry: dict[str, Any]) -> Claim:
    where = f"claim {entry.get('id', '?')!r} in registry.yaml"
    unknown = set(entry) - set(_REQUIRED) - set(_OPTIONAL)
    missing = [key for key in _REQUIRED if key not in entry]
    if unknown or missing:
        raise ValueError(f"{where}: unknown keys {sorted(unknown)}, missing keys {missing}")
    values = {**_OPTIONAL, **entry}
    if values["format"] not in FORMATS:
        raise ValueError(
            f"{where}: format must be one of {list(FORMATS)}, got {values['format']!r}"
        )
    rule = values["rule"]
    if rule is None:
        if not values["untestable"]:
            raise ValueError(f"{where}: a claim without a rule must say why (untestable)")
    else:
        rule = Rule(**rule)
        if rule.kind == "equivalent" and not values["margin_note"]:
            raise ValueError(f"{where}: an equivalence rule needs margin_note (why that margin)")
        if values["effect"] is None:
            raise ValueError(f"{where}: a rule needs the paper's effect (for its power)")
    effect = values["effect"]
    if effect is not None:
        effect = Effect(**effect)
        if (effect.value is None) == (effect.above_reference is None):
            raise ValueError(f"{where}: effect needs exactly one of value, above_reference")
        size = effect.value if effect.value is not None else effect.above_reference
        if not math.isfinite(size):
            raise ValueError(f"{where}: effect must be finite, got {size!r}")
    variants = values["variants"]
    if variants is None:
        variants = ("",)
    elif not set(variants) <= set(SCORES) or variants[0] != SCORES[0]:
        raise ValueError(f"{where}: variants must be scores of {list(SCORES)}, the paper's first")
    return Claim(
        **{key: values[key] for key in _REQUIRED},
        rule=rule,
        margin_note=values["margin_note"],
        reference_note=values["reference_note"],
        effect=effect,
        needs_above_chance=bool(values["needs_above_chance"]),
        variants=tuple(variants),
        k_dependent=bool(values["k_dependent"]),
        extension=bool(values["extension"]),
        untestable=values["untestable"],
    )


def load_registry() -> dict[str, Claim]:
    """id → :class:`Claim`, in the registry's order (ids are unique)."""
    text = resources.files("steerspace.claims").joinpath("registry.yaml").read_text("utf-8")
    claims: dict[str, Claim] = {}
    for entry in yaml.safe_load(text):
        claim = _claim(entry)
        if claim.id in claims:
            raise ValueError(f"claim {claim.id!r} is registered twice in registry.yaml")
        claims[claim.id] = claim
    return claims


CLAIMS: dict[str, Claim] = load_registry()


def claim(claim_id: str) -> Claim:
    """The registered claim ``claim_id``; ``ValueError`` naming the known ids otherwise."""
    if claim_id not in CLAIMS:
        raise ValueError(f"unknown claim {claim_id!r}; claims are {sorted(CLAIMS)}")
    return CLAIMS[claim_id]

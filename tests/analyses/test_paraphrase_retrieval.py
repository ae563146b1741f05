"""Paraphrase retrieval tables and evidence (paper §6), on made-up hits."""

from __future__ import annotations

import numpy as np
import pytest

from steerspace.analyses.paraphrase_retrieval import (
    mixed_evidence,
    paraphrase_table,
    preserved_evidence,
)
from steerspace.claims import Rule


def hits(n_hit: int, n: int = 200, start: int = 0) -> np.ndarray:
    out = np.zeros(n, dtype=bool)
    out[start : start + n_hit] = True
    return out


POOLS = {
    "en": {"pre": hits(100), "post": hits(96), "mixed": hits(30)},  # kept; mixed drops
    "de": {"pre": hits(100), "post": hits(30), "mixed": hits(100)},  # lost; mixed same
    "fr": {"pre": hits(2), "post": hits(3), "mixed": hits(0)},  # pre at chance
}


def test_table_has_every_condition_change_and_chance():
    table = paraphrase_table(POOLS, score="cosine", n_boot=300)
    assert len(table) == 3 * 5 and (table["score"] == "cosine").all()
    en = table[table["language"] == "en"].set_index("condition")
    assert en.loc["pre", "value"] == pytest.approx(0.5) and en.loc["pre", "above_chance"]
    assert en.loc["mixed − pre", "value"] == pytest.approx(-0.35)
    assert en.loc["mixed − pre", "high"] < 0
    assert (table["chance"] == 1 / 200).all()
    fr = table[table["language"] == "fr"].set_index("condition")
    assert not fr.loc["pre", "above_chance"]
    with pytest.raises(ValueError, match="lacks conditions"):
        paraphrase_table({"en": {"pre": hits(3)}}, score="cosine", n_boot=300)


def test_preserved_reaches_support_against_and_untestable():
    units, summary = preserved_evidence(POOLS, ["en", "de", "fr"], n_boot=300)
    outcomes = [Rule("equivalent").outcome(u) for u in units]
    assert outcomes == ["support", "against", "untestable"]
    assert units[0].reference == 0.0 and units[0].margin == pytest.approx(0.25 * (0.5 - 1 / 200))
    assert summary.value == pytest.approx((-4 - 70 + 1) / 600)


def test_mixed_drop_reaches_support_and_against_and_needs_pre_above_chance():
    units, summary = mixed_evidence(POOLS, ["en", "de", "fr"], n_boot=300)
    outcomes = [Rule("below").outcome(u) for u in units]
    assert outcomes[0] == "support" and outcomes[2] == "untestable"
    assert outcomes[1] == "undecided"  # no change: neither a drop nor a rise
    rise = {"es": {"pre": hits(40), "post": hits(40), "mixed": hits(90)}}
    (up,), _ = mixed_evidence(rise, ["es"], n_boot=300)
    assert Rule("below").outcome(up) == "against"
    assert summary.value == pytest.approx((-70 + 0 - 2) / 600)

"""The k sweep (paper §3.3, App. B) on made-up generations and token losses: the table,
the rule for k, and the claims' evidence reaching support, against and untestable."""

from __future__ import annotations

from types import SimpleNamespace

import numpy as np
import pandas as pd
import pytest

from steerspace.analyses import choice_of_k as ksweep
from steerspace.claims import CLAIMS, assess, not_testable
from steerspace.metrics.inference import Estimate

N = 64


def make_sweep(share: dict, cost: dict, *, pre_share: float = 0.0) -> ksweep.Sweep:
    """A sweep of targets es and fr over k ∈ {0, 100, 1000}: ``share[t, k]`` of the N
    generations in t's language; ``cost[t, k]`` nats added to every held-out token."""
    rng = np.random.default_rng(0)
    pre = ["es"] * int(pre_share * N) + ["en"] * (N - int(pre_share * N))
    ids, nll = {}, {}
    for target in ("es", "fr"):
        base = rng.gamma(2.0, 1.5, size=640)
        ids[target, 0], nll[target, 0] = pre, base
        for k in (100, 1000):
            hits = int(share[target, k] * N)
            ids[target, k] = [target] * hits + ["en"] * (N - hits)
            nll[target, k] = base + cost[target, k] + rng.normal(0, 0.05, size=base.size)
    texts = {key: [f"text {i}" for i in range(len(v))] for key, v in ids.items()}
    return ksweep.Sweep(ksweep.sweep_table(ids, nll, n_boot=300), texts, ids, nll)


SHARE = {("es", 100): 0.6, ("es", 1000): 0.1, ("fr", 100): 0.3, ("fr", 1000): 0.5}
COST = {("es", 100): 0.2, ("es", 1000): 1.5, ("fr", 100): 0.1, ("fr", 1000): 0.8}


def test_sweep_table_has_wilson_intervals_and_changes_on_the_same_tokens():
    sweep = make_sweep(SHARE, COST)
    table = sweep.table.set_index(["target", "k"])
    assert list(sweep.targets) == ["es", "fr"] and sweep.k_grid == [0, 100, 1000]
    row = table.loc[("es", 100)]
    assert row["in_target"] == int(0.6 * N) and row["share"] == pytest.approx(int(0.6 * N) / N)
    assert row["share_low"] < row["share"] < row["share_high"]
    assert row["dlog_low"] < 0.2 < row["dlog_high"] and row["dlog_ppl"] == pytest.approx(
        0.2, abs=0.02
    )
    assert table.loc[("es", 0), "dlog_ppl"] == 0
    assert (
        table.loc[("fr", 1000), "top_language"] == "fr"
        and table.loc[("es", 1000), "top_language"] == "en"
    )


def test_best_k_choose_k_and_language_mix():
    sweep = make_sweep(SHARE, COST)
    assert ksweep.best_k(sweep, "es") == 100 and ksweep.best_k(sweep, "fr") == 1000
    # mean shares: k=0 → 0, k=100 → 0.45, k=1000 → 0.30 (rounded to whole generations)
    assert ksweep.choose_k(sweep.table, fraction=0.9) == 100
    assert ksweep.choose_k(sweep.table, fraction=0.5) == 100
    with pytest.raises(ValueError, match="fraction"):
        ksweep.choose_k(sweep.table, fraction=0)
    # a model that no k steers: every share at zero, and the rule still picks a k > 0
    flat = sweep.table.assign(share=0.0)
    assert ksweep.choose_k(flat) == 100
    with pytest.raises(ValueError, match="no k > 0"):
        ksweep.choose_k(flat[flat["k"] == 0])
    assert ksweep.language_mix(["en", "en", "es", ""], top=2) == "en 2, es 1"


def test_steering_evidence_supports_a_rise_and_contradicts_a_fall():
    up = make_sweep(SHARE, COST)
    outcomes = [
        CLAIMS["k.steering"].rule.outcome(ev)
        for ev in ksweep.steering_evidence(up, 100, n_boot=300)
    ]
    assert outcomes == ["support", "support"]
    down = make_sweep({key: 0.0 for key in SHARE}, COST, pre_share=0.5)
    ev = ksweep.steering_evidence(down, 100, n_boot=300)
    assert [CLAIMS["k.steering"].rule.outcome(e) for e in ev] == ["against", "undecided"]
    assert (
        assess("k.steering", ksweep.steering_evidence(up, 100, n_boot=300)).verdict == "reproduced"
    )
    mean = ksweep.mean_steering_change(up, 100, n_boot=300)
    assert mean.value == pytest.approx((int(0.6 * N) + int(0.3 * N)) / (2 * N))
    assert 0 < mean.low < mean.value < mean.high


def test_perplexity_evidence_reaches_support_and_against():
    rising = make_sweep(SHARE, COST)
    assert (
        assess("k.perplexity", ksweep.perplexity_evidence(rising, 1000, n_boot=300)).verdict
        == "reproduced"
    )
    falling = make_sweep(SHARE, {key: -0.5 for key in COST})
    assert (
        assess("k.perplexity", ksweep.perplexity_evidence(falling, 1000, n_boot=300)).verdict
        == "not reproduced"
    )
    pooled = ksweep.pooled_perplexity_change(rising, 1000, n_boot=300)
    assert pooled.value == pytest.approx((1.5 + 0.8) / 2, abs=0.02)


def test_tradeoff_is_untestable_where_nothing_was_steered():
    sweep = make_sweep({**SHARE, ("fr", 100): 0.0, ("fr", 1000): 0.0}, COST)
    ev = ksweep.tradeoff_evidence(sweep, n_boot=300)
    assert [e.unit for e in ev] == ["es (k = 100)", "fr (k = 100)"]
    assert ev[0].testable and not ev[1].testable and "no significant steering" in ev[1].why_not
    assessment = assess("k.tradeoff", ev)
    assert assessment.verdict == "reproduced"  # half of the units testable, all of them support


def test_run_sweep_asks_the_pipeline_for_every_point():
    calls = []

    class FakePipe:
        cfg = SimpleNamespace(targets=("es",))

        def check_k(self, k):
            return k

        def intervention(self, target, *, k):
            return f"{target}-{k}"

        def generations(self, iv):
            calls.append(("generate", iv))
            text = (
                "el hombre y la mujer van a la casa de su padre"
                if iv
                else "the man and the woman go home"
            )
            return [text] * 4

        def heldout_perplexity(self, target, iv):
            calls.append(("ppl", iv))
            return {"token_nll": [1.0 + (iv is not None)] * 10}

    sweep = ksweep.run_sweep(FakePipe(), [0, 5], n_boot=50, seed=0)
    assert ("generate", None) in calls and ("generate", "es-5") in calls
    assert sweep.ids["es", 0] == ["en"] * 4 and sweep.ids["es", 5] == ["es"] * 4
    assert sweep.table.set_index("k").loc[5, "dlog_ppl"] == pytest.approx(1.0)
    with pytest.raises(ValueError, match="must contain 0"):
        ksweep.run_sweep(FakePipe(), [5], n_boot=50, seed=0)


# --- the choice-of-k chapter's tables and the values its prose glues ----------------

FALL = {"es": Estimate(-0.5, -0.6, -0.4, N), "fr": Estimate(0.2, -0.1, 0.5, N)}


def test_sweep_values_and_cells():
    text = ksweep.sweep_values(
        [0, 100, 1000], 250, {"es": 640, "fr": 1200}, n_generations=64, max_new_tokens=40
    )
    assert text == {
        "grid": "0, 100, 1,000",
        "n_generations": "64",
        "new_tokens": "40",
        "n_heldout": "250",
        "heldout_tokens": "es 640 tokens, fr 1,200 tokens",
        "block": "64",
    }
    cells = ksweep.sweep_cells(make_sweep(SHARE, COST).table)
    assert list(cells.index) == [0, 100, 1000]
    assert cells[("share in the target language", "es")][100].startswith("0.594 [")
    dlog = cells[("Δ log-perplexity vs k = 0 (nats)", "es")]
    assert dlog[0] == "+0.00 [+0.00, +0.00] nats" and dlog[1000].startswith("+1.5")


def test_claim_values_name_units_untestable_ones_and_the_reason():
    sweep = make_sweep(SHARE, COST)
    ppl = assess("k.perplexity", ksweep.perplexity_evidence(sweep, 1000, n_boot=100))
    text = ksweep.claim_values("ppl", ppl, "nats")
    assert list(text) == ["ppl_values", "ppl_verdict"] and text["ppl_verdict"] == ppl.verdict
    assert text["ppl_values"].startswith("**es** +1.5") and "; **fr** +0.8" in text["ppl_values"]
    assert text["ppl_values"].endswith(" nats") and "not testable" not in text["ppl_values"]
    unsteered = make_sweep({**SHARE, ("es", 100): 0.0, ("es", 1000): 0.0}, COST)
    tradeoff = assess("k.tradeoff", ksweep.tradeoff_evidence(unsteered, n_boot=100))
    values = ksweep.claim_values("tradeoff", tradeoff, "nats")["tradeoff_values"]
    assert values.startswith("**es (k = 100)** +0.2")
    assert "nats (not testable: no significant steering at its best k = 100)" in values
    missing = not_testable("k.steering", "the config's k = 5 is not on the grid")
    assert ksweep.claim_values("steering", missing, "pp") == {
        "steering_values": "the config's k = 5 is not on the grid",
        "steering_verdict": "not testable here",
    }


def test_decline_and_drift_values():
    assert ksweep.fallen(FALL) == ["es"]
    assert ksweep.decline_values(FALL, {"es": 100, "fr": 1000}) == {
        "decline": "**es** −50.0 [−60.0, −40.0] pp (best k = 100); **fr** +20.0 [−10.0, +50.0] "
        "pp (best k = 1,000)",
        "fell": "1 of 2",
        "fell_names": "es",
    }
    steady = ksweep.decline_values({"fr": FALL["fr"]}, {"fr": 1000})
    assert steady["fell"] == "0 of 1" and steady["fell_names"] == "none"
    drift = ksweep.drift_values(make_sweep(SHARE, COST), ["fr", "es"], 100)
    assert drift == {"drift": "fr: en 45, fr 19; es: es 38, en 26"}


def test_best_k_table():
    sweep = make_sweep(SHARE, COST)
    table = ksweep.best_k_table(sweep.table, {"es": 100, "fr": 1000}, FALL, 1000)
    assert table.index.name == "target" and set(table.index) == {"es", "fr"}
    assert table.loc["es", "best k"] == 100 and table.loc["fr", "best k"] == 1000
    assert table.loc["es", "share at best k"] == "0.594"
    assert table.loc["es", "share at k = 1000"] == "0.094"
    assert table.loc["fr", "share at k = 1000"] == "0.500"
    assert table.loc["es", "change, best k → 1000"] == "−50.0 [−60.0, −40.0] pp"
    assert table.loc["es", "top language at k = 1000"] == "en"


def test_fallen_names_the_targets_whose_share_falls_significantly():
    assert ksweep.fallen(FALL) == ["es"]


def test_dips_find_a_collapse_that_recovers_and_only_when_intervals_are_disjoint():
    def row(target, k, hits, low, high):
        return {
            "target": target,
            "k": k,
            "in_target": hits,
            "generations": 64,
            "share": hits / 64,
            "share_low": low,
            "share_high": high,
        }

    table = pd.DataFrame(
        [
            row("es", 0, 2, 0.01, 0.11),
            row("es", 500, 45, 0.58, 0.80),
            row("es", 2000, 0, 0.0, 0.06),
            row("es", 5000, 17, 0.17, 0.38),
            row("fr", 0, 3, 0.02, 0.13),
            row("fr", 500, 26, 0.29, 0.53),
            row("fr", 2000, 29, 0.34, 0.57),
            row("fr", 5000, 17, 0.17, 0.38),
        ]
    )
    found = ksweep.dips(table)
    assert [(d["target"], d["k"], d["k_after"]) for d in found] == [("es", 2000, 5000)]
    text = ksweep.dips_values(table)
    assert text["dips_answer"] == "no"
    assert text["dips"].startswith("**es** 0 of 64 generations at k = 2,000 (share 0.000 [")
    assert text["dips"].endswith("at k = 5,000")
    overlapping = table.assign(share_low=table["share_low"].where(table["k"] != 5000, 0.05))
    assert ksweep.dips(overlapping) == []
    assert ksweep.dips_values(overlapping) == {
        "dips_answer": "yes, within the intervals",
        "dips": "none",
    }

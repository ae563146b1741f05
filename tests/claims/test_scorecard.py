"""Scorecard storage and views: records round-trip with their twin at the rule's k,
stale and missing rows are named, extensions and other scores are never counted."""

from __future__ import annotations

import pytest

from steerspace.claims import CLAIMS, Evidence, assess, not_testable, scorecard
from steerspace.config import load_config
from steerspace.metrics.inference import Estimate


@pytest.fixture
def cfg(tmp_path):
    return load_config("gemma-3-270m", results_dir=str(tmp_path / "results"))


def closer(cfg, value=-0.1):
    ev = [Evidence(t, Estimate(value, value - 0.05, value + 0.05, 200)) for t in cfg.targets]
    return assess("space.closer", ev, summary=Estimate(value, value - 0.02, value + 0.02, 200))


def test_record_load_and_views(cfg):
    scorecard.record([closer(cfg), not_testable("space.polylm_less")], cfg,
                     at_rule_k=(100, [closer(cfg, 0.1)]))  # fmt: skip
    records = scorecard.with_calibration(scorecard.load(cfg, require_all=False), n_sim=500)
    assert [r["key"] for r in records] == ["space.closer", "space.polylm_less"]
    rec = records[0]
    assert rec["verdict"] == "reproduced" and rec["k"] == cfg.k
    assert rec["at_rule_k"]["k"] == 100 and rec["at_rule_k"]["verdict"] == "not reproduced"
    assert all(e["outcome"] == "support" for e in rec["evidence"])
    assert rec["calibration"]["null_rate"] <= 0.05 and rec["calibration"]["power"] > 0.9
    table = scorecard.table(records)
    assert table.loc[0, "value"] == "−0.100 [−0.120, −0.080]"
    assert table.loc[0, "verdict_at_rule_k"] == "not reproduced"
    md = scorecard.markdown_table(records, calibrated=True)
    assert "{ref}`Languages are closer to each other <space-table1>`" in md
    assert "**reproduced**" in md and "k = 100: not reproduced" in md
    assert "power" in scorecard.details_markdown(records)
    counts = scorecard.verdict_counts(records)
    assert counts["reproduced"] == 1 and counts["not testable here"] == 1
    path = scorecard.write_csv(records, cfg)
    assert path.read_text(encoding="utf-8").startswith("claim,section,title")


def test_a_k_dependent_claim_needs_its_twin(cfg):
    with pytest.raises(ValueError, match="depends on k"):
        scorecard.record([closer(cfg)], cfg, at_rule_k=(100, []))


def test_extensions_and_other_scores_are_not_counted(cfg):
    layers = assess("experts.layers", [Evidence("es", Estimate(0.5, 0.4, 0.6, 500), 0.1)])
    unit = Evidence("es", Estimate(0.1, 0.05, 0.15, 200))
    cosine = assess("retrieval.target_query", [unit], variant="cosine")
    scorecard.record([layers, cosine], cfg)
    records = scorecard.load(cfg, require_all=False)
    assert scorecard.verdict_counts(records).sum() == 0
    assert CLAIMS["experts.layers"].extension


def test_missing_rows_name_their_chapter(cfg):
    scorecard.record([closer(cfg)], cfg)
    records = scorecard.load(cfg, require_all=False)
    absent = scorecard.missing(records)
    assert absent["k.steering"] == "choice_of_k"
    assert "retrieval.target_query [cosine]" in absent
    assert len(absent) == len(scorecard.registry_keys()) - 1
    with pytest.raises(ValueError, match="run the chapters"):
        scorecard.load(cfg)
    assert "`k.steering`: run the chapter `choice_of_k`" in scorecard.missing_box(absent)


def test_rows_of_another_configuration_are_refused(cfg):
    scorecard.record([closer(cfg)], cfg)
    other = cfg.replace(k=200)
    assert scorecard.claims_dir(other) == scorecard.claims_dir(cfg)  # same name, same folder
    with pytest.raises(ValueError, match="another configuration"):
        scorecard.load(other, require_all=False)


def test_retired_claims_are_ignored_and_a_chapter_reads_only_its_own(cfg):
    scorecard.record([closer(cfg)], cfg)
    retired = scorecard.claims_dir(cfg) / "table2.predictive.json"
    retired.write_text('{"key": "table2.predictive", "config_fingerprint": "old"}')
    stale = scorecard.claims_dir(cfg) / "k.steering.json"
    stale.write_text('{"key": "k.steering", "claim": "k.steering", "config_fingerprint": "old"}')
    assert [r["key"] for r in scorecard.chapter_records(cfg, "embedding_space")] == ["space.closer"]
    with pytest.raises(ValueError, match="another configuration"):
        scorecard.load(cfg, require_all=False)

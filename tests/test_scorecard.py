"""Scorecard storage and views: records round-trip, stale and missing rows are named."""

from __future__ import annotations

import pytest

from steerspace.claims import CLAIMS, Evidence, assess, not_testable, scorecard
from steerspace.config import load_config
from steerspace.metrics.inference import Estimate


@pytest.fixture
def cfg(tmp_path):
    return load_config("gemma-3-270m", results_dir=str(tmp_path / "results"))


def closer(cfg):
    ev = [Evidence(t, Estimate(-0.1, -0.15, -0.05, 200)) for t in cfg.targets]
    return assess("space.closer", ev, summary=Estimate(-0.1, -0.12, -0.08, 200))


def test_record_load_and_views(cfg):
    scorecard.record(closer(cfg), cfg)
    scorecard.record(not_testable("space.polylm_less"), cfg)
    records = scorecard.load(cfg, require_all=False)
    assert [r["key"] for r in records] == ["space.closer", "space.polylm_less"]
    assert records[0]["verdict"] == "reproduced"
    assert all(e["outcome"] == "support" for e in records[0]["evidence"])
    table = scorecard.table(records)
    assert table.loc[0, "our value"] == "−0.100 [−0.120, −0.080]"
    md = scorecard.markdown_table(records)
    assert "{ref}`Languages are closer to each other <space-table1>`" in md
    assert "✅ reproduced" in md and "⚪ not testable here" in md
    assert "line 327" in scorecard.details_markdown(records)
    counts = scorecard.verdict_counts(records)
    assert counts["reproduced"] == 1 and counts["not reproduced"] == 0
    path = scorecard.write_csv(records, cfg)
    assert path.read_text(encoding="utf-8").startswith("claim,section,title")


def test_missing_rows_name_their_chapter(cfg):
    scorecard.record(closer(cfg), cfg)
    records = scorecard.load(cfg, require_all=False)
    absent = scorecard.missing(records)
    assert absent["k.steering"] == "choice_of_k"
    assert "retrieval.target_query [cosine]" in absent
    assert len(absent) == len(scorecard.registry_keys()) - 1
    with pytest.raises(ValueError, match="run the chapters"):
        scorecard.load(cfg)
    assert "`k.steering`: run the chapter `choice_of_k`" in scorecard.missing_box(absent)


def test_rows_of_another_configuration_are_refused(cfg):
    scorecard.record(closer(cfg), cfg)
    other = cfg.replace(k=200)
    other_dir = scorecard.claims_dir(other)
    assert other_dir == scorecard.claims_dir(cfg)  # same name, same folder
    with pytest.raises(ValueError, match="another configuration"):
        scorecard.load(other, require_all=False)


def test_registry_keys_cover_every_variant():
    keys = scorecard.registry_keys()
    assert len(keys) == sum(len(c.variants) for c in CLAIMS.values())
    assert "control.geometry [own means]" in keys

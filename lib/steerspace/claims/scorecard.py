"""The reproduction scorecard: every assessed claim of a run, stored and shown.

A chapter that measures a claim calls :func:`record` with the
:class:`~steerspace.claims.Assessment`; it is written as one JSON file under
``results/<config>/claims/``. The chapter ends with :func:`chapter_table` (its own
rows); the scorecard page reads them all with :func:`load` (every registered claim
must be there) and writes ``results/<config>/scorecard.csv``; the intro's headline
is a view of it.
"""

from __future__ import annotations

import hashlib
import json
import re
from pathlib import Path

import pandas as pd

from steerspace.claims import CLAIMS, VERDICTS, Assessment
from steerspace.config import Config
from steerspace.infra.cache import atomic_write, slug
from steerspace.infra.chapter_cache import record_output
from steerspace.metrics.inference import Estimate
from steerspace.text.format import fmt_ci

# kinds whose claim values are changes (post − pre), written with a sign
SIGNED_KINDS = ("pp", "nats", "dist")
VERDICT_MARKS = {
    "reproduced": "✅ reproduced",
    "partly reproduced": "🟡 partly reproduced",
    "not reproduced": "❌ not reproduced",
    "not testable here": "⚪ not testable here",
}


def config_fingerprint(cfg: Config) -> str:
    """A short hash of the config after overrides: rows of another config are stale."""
    payload = json.dumps(cfg.as_dict(), sort_keys=True, default=str)
    return hashlib.sha256(payload.encode()).hexdigest()[:12]


def claims_dir(cfg: Config) -> Path:
    """Where a run's assessed claims are stored."""
    return cfg.results_path / "claims"


def to_record(assessment: Assessment, cfg: Config) -> dict:
    """The JSON-able record of one assessment (numbers raw, not formatted)."""
    rule = assessment.claim.rule
    summary = assessment.summary
    return {
        "key": assessment.key,
        "claim": assessment.claim.id,
        "variant": assessment.variant,
        "verdict": assessment.verdict,
        "reason": assessment.reason,
        "summary": None if summary is None else summary.as_dict(),
        "evidence": [
            {
                "unit": ev.unit,
                **ev.estimate.as_dict(),
                "reference": ev.reference,
                "testable": ev.testable,
                "why_not": ev.why_not,
                "outcome": rule.outcome(ev) if rule is not None else "untestable",
            }
            for ev in assessment.evidence
        ],
        "details": assessment.details,
        "config": cfg.name,
        "config_fingerprint": config_fingerprint(cfg),
    }


def record(assessment: Assessment, cfg: Config) -> Path:
    """Store ``assessment`` for ``cfg``'s run; returns the file."""
    path = claims_dir(cfg) / f"{slug(assessment.key)}.json"
    text = json.dumps(to_record(assessment, cfg), indent=1, sort_keys=True, default=float)
    atomic_write(path, lambda tmp: tmp.write_text(text + "\n", encoding="utf-8"))
    record_output(path)
    return path


def load(cfg: Config, *, require_all: bool = True) -> list[dict]:
    """Every stored record of ``cfg``'s run, in registry order.

    Raises ``ValueError`` if a record comes from another config (re-run its chapter),
    or, with ``require_all``, if a registered claim (or one of its variants) has no
    record: the chapter that assesses it did not run.
    """
    folder = claims_dir(cfg)
    records = {}
    for path in sorted(folder.glob("*.json")) if folder.is_dir() else []:
        rec = json.loads(path.read_text(encoding="utf-8"))
        records[rec["key"]] = rec
    stale = sorted(
        k for k, r in records.items() if r["config_fingerprint"] != config_fingerprint(cfg)
    )
    if stale:
        raise ValueError(
            f"scorecard rows {stale} come from another configuration; re-run their chapters "
            f"(steerspace book --only <chapter>) or delete {folder}"
        )
    ordered = [records[key] for key in registry_keys() if key in records]
    absent = missing(ordered)
    if absent and require_all:
        raise ValueError(
            f"no result for claims {sorted(absent)}; run the chapters "
            f"{sorted(set(absent.values()))} first"
        )
    return ordered


def registry_keys() -> list[str]:
    """Every scorecard row the registry defines (claim id, and variant where it has
    several), in registry order."""
    return [
        f"{claim.id} [{variant}]" if variant else claim.id
        for claim in CLAIMS.values()
        for variant in claim.variants
    ]


def missing(records: list[dict]) -> dict[str, str]:
    """Registry rows without a record → the chapter that assesses them."""
    have = {rec["key"] for rec in records}
    return {
        key: CLAIMS[key.split(" [")[0]].chapter for key in registry_keys() if key not in have
    }


def missing_box(absent: dict[str, str]) -> str:
    """A visible warning that lists the claims this run has not assessed yet."""
    items = "\n".join(f"- `{key}`: run the chapter `{chapter}`" for key, chapter in absent.items())
    return f":::{{warning}} Claims not assessed in this run\n{items}\n:::"


def _value(rec: dict) -> str:
    claim = CLAIMS[rec["claim"]]
    if rec["summary"] is None:
        return "—"
    return fmt_ci(_estimate(rec["summary"]), claim.kind, sign=claim.kind in SIGNED_KINDS)


def _estimate(d: dict) -> Estimate:
    return Estimate(d["value"], d["low"], d["high"], int(d["n"]))


def units_text(rec: dict) -> str:
    """The per-unit estimates of a record, e.g. ``es −0.05 [−0.07, −0.03] ✓``."""
    claim = CLAIMS[rec["claim"]]
    marks = {"support": "✓", "against": "✗", "inconclusive": "?", "untestable": "–"}
    parts = []
    for ev in rec["evidence"]:
        est = fmt_ci(_estimate(ev), claim.kind, sign=claim.kind in SIGNED_KINDS)
        parts.append(f"{ev['unit']} {est} {marks[ev['outcome']]}")
    return "; ".join(parts)


def table(records: list[dict]) -> pd.DataFrame:
    """The scorecard as a table (one row per claim and variant), numbers formatted."""
    rows = []
    for rec in records:
        claim = CLAIMS[rec["claim"]]
        rows.append(
            {
                "claim": rec["key"],
                "section": claim.section,
                "title": claim.title,
                "paper says": claim.quote,
                "paper line": claim.line,
                "paper's numbers": claim.paper,
                "our measure": claim.measure,
                "test": claim.test,
                "our value": _value(rec),
                "per unit": units_text(rec),
                "verdict": rec["verdict"],
                "reason": rec["reason"],
                "chapter": claim.chapter,
            }
        )
    return pd.DataFrame(rows)


def verdict_counts(records: list[dict]) -> pd.Series:
    """How many rows have each verdict (all four verdicts, zeros included)."""
    counts = pd.Series([r["verdict"] for r in records], dtype=object).value_counts()
    return counts.reindex(list(VERDICTS), fill_value=0)


def markdown_table(records: list[dict], *, link: bool = True, quote: bool = False) -> str:
    """A MyST Markdown table of ``records``: claim (linked to the section that shows it),
    our value with its interval, verdict and reason; ``quote`` adds the paper's words."""
    head = (
        ["claim", "section"]
        + (["the paper says"] if quote else [])
        + ["our value", "verdict", "why"]
    )
    lines = ["| " + " | ".join(head) + " |", "|" + "---|" * len(head)]
    for rec in records:
        claim = CLAIMS[rec["claim"]]
        title = claim.title + (f" ({rec['variant']})" if rec["variant"] else "")
        name = f"{{ref}}`{title} <{claim.anchor}>`" if link else title
        cells = [name, claim.section]
        if quote:
            where = f"line {claim.line}" if claim.line else "not in the paper"
            cells.append(f"“{claim.quote}” ({where})")
        cells += [_value(rec), VERDICT_MARKS[rec["verdict"]], rec["reason"]]
        lines.append("| " + " | ".join(c.replace("|", "\\|") for c in cells) + " |")
    return "\n".join(lines)


def details_markdown(records: list[dict]) -> str:
    """Every claim in full: the paper's words and numbers, our measure and test, the
    value of every unit (✓ supports, ✗ contradicts, ? undecided, – not testable)."""
    blocks = []
    for rec in records:
        claim = CLAIMS[rec["claim"]]
        where = f"line {claim.line}" if claim.line else "not stated in the paper"
        variant = f", {rec['variant']}" if rec["variant"] else ""
        blocks.append(
            f"**{claim.title}** (`{rec['claim']}`{variant}, {claim.section}): "
            f"{VERDICT_MARKS[rec['verdict']]}\n\n"
            f"> {claim.quote} ({where})\n\n"
            f"- the paper's numbers: {claim.paper}\n"
            f"- our measure: {claim.measure}\n"
            f"- test: {claim.test}\n"
            f"- our value: {_value(rec)}\n"
            f"- per unit: {units_text(rec) or '—'}\n"
            f"- why: {rec['reason']}\n"
        )
    return "\n".join(blocks)


def headline(records: list[dict]) -> str:
    """The intro's headline: one bullet per paper section, its claims with their verdict
    and value, linked to the section that shows each (MyST Markdown)."""
    sections: dict[str, list[dict]] = {}
    for rec in records:
        # "§5 (claimed in §1)" → "§5", "§3.3, App. B" → "§3.3", "App. H" stays
        section = re.split(r",| \(", CLAIMS[rec["claim"]].section)[0].strip()
        sections.setdefault(section, []).append(rec)
    bullets = []
    for section, recs in sections.items():
        parts = []
        for rec in recs:
            claim = CLAIMS[rec["claim"]]
            title = claim.title + (f" ({rec['variant']})" if rec["variant"] else "")
            value = "" if rec["summary"] is None else f", {_value(rec)}"
            parts.append(f"{{ref}}`{title} <{claim.anchor}>`: *{rec['verdict']}*{value}")
        bullets.append(f"- **{section}**: " + "; ".join(parts) + ".")
    return "\n".join(bullets)


def chapter_records(cfg: Config, chapter: str) -> list[dict]:
    """The stored records of the claims a chapter assesses (registry order)."""
    return [r for r in load(cfg, require_all=False) if CLAIMS[r["claim"]].chapter == chapter]


def chapter_table(cfg: Config, chapter: str) -> str:
    """The chapter's own scorecard rows as Markdown (its closing section)."""
    records = chapter_records(cfg, chapter)
    if not records:
        raise ValueError(f"chapter {chapter!r} has no assessed claims for {cfg.name}")
    return markdown_table(records, quote=True)


def chapter_glue(cfg: Config, chapter: str, prefix: str) -> dict[str, str]:
    """What every chapter glues of its own scorecard rows: ``<prefix>_claims`` (its
    closing section, with the paper's words) and ``<prefix>_claims_top`` (the rows of
    its Result box, linked to the scorecard)."""
    return {
        f"{prefix}_claims": chapter_table(cfg, chapter),
        f"{prefix}_claims_top": markdown_table(chapter_records(cfg, chapter), link=True),
    }


def write_csv(records: list[dict], cfg: Config) -> Path:
    """``results/<config>/scorecard.csv``: the :func:`table` of the run."""
    frame = table(records)
    return atomic_write(
        cfg.results_path / "scorecard.csv", lambda tmp: frame.to_csv(tmp, index=False)
    )

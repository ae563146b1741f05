"""The reproduction scorecard: every assessed claim of a run, stored and shown.

A chapter that measures a claim calls :func:`record` with the
:class:`~steerspace.claims.Assessment` at the config's k and, where the claim depends
on k, the one at the k the choice-of-k chapter's rule picks; it is written as one JSON
file under ``results/<config>/claims/``. The scorecard page reads them all with
:func:`load`, adds each rule's calibration (:mod:`steerspace.claims.calibration`) and
writes ``results/<config>/scorecard.csv``.

A claim's verdict is the one of its first variant (the paper's inner product, where
retrieval is scored); the others are shown beside it. Rows of claims marked
``extension`` are shown apart and never counted.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Sequence
from pathlib import Path

import pandas as pd

from steerspace.claims import CLAIMS, VERDICTS, Assessment
from steerspace.claims.calibration import calibrate, units_of
from steerspace.config import Config
from steerspace.infra.cache import atomic_write, slug
from steerspace.infra.chapter_cache import record_output
from steerspace.metrics.inference import Estimate
from steerspace.text.format import fmt, fmt_ci

# formats whose claim values are changes (post − pre), written with a sign
SIGNED_FORMATS = ("pp", "nats", "dist")


def config_fingerprint(cfg: Config) -> str:
    """A short hash of the config after overrides: rows of another config are stale."""
    payload = json.dumps(cfg.as_dict(), sort_keys=True, default=str)
    return hashlib.sha256(payload.encode()).hexdigest()[:12]


def claims_dir(cfg: Config) -> Path:
    """Where a run's assessed claims are stored."""
    return cfg.results_path / "claims"


def _evidence_record(assessment: Assessment) -> list[dict]:
    rule = assessment.claim.rule
    return [
        {
            "unit": ev.unit,
            **ev.estimate.as_dict(),
            "reference": ev.reference,
            "margin": None if rule is None else rule.margin_of(ev),
            "testable": ev.testable,
            "why_not": ev.why_not,
            "outcome": rule.outcome(ev) if rule is not None else "untestable",
        }
        for ev in assessment.evidence
    ]


def to_record(
    assessment: Assessment, cfg: Config, *, k: int, at_rule_k: tuple[int, Assessment] | None
) -> dict:
    """The JSON-able record of one assessment (numbers raw, not formatted): measured at
    ``k``, with ``at_rule_k`` = (the rule-chosen k, the assessment there) beside it."""
    summary = assessment.summary
    out = {
        "key": assessment.key,
        "claim": assessment.claim.id,
        "variant": assessment.variant,
        "k": k,
        "verdict": assessment.verdict,
        "reason": assessment.reason,
        "summary": None if summary is None else summary.as_dict(),
        "evidence": _evidence_record(assessment),
        "details": assessment.details,
        "at_rule_k": None,
        "config": cfg.name,
        "config_fingerprint": config_fingerprint(cfg),
    }
    if at_rule_k is not None:
        rule_k, other = at_rule_k
        if other.key != assessment.key:
            raise ValueError(f"at_rule_k is {other.key!r}, not {assessment.key!r}")
        out["at_rule_k"] = {
            "k": rule_k,
            "verdict": other.verdict,
            "reason": other.reason,
            "summary": None if other.summary is None else other.summary.as_dict(),
            "evidence": _evidence_record(other),
        }
    return out


def record(
    assessments: Sequence[Assessment],
    cfg: Config,
    *,
    at_rule_k: tuple[int, Sequence[Assessment]] | None = None,
) -> list[Path]:
    """Store ``assessments`` (measured at the config's k) for ``cfg``'s run, each with
    its twin at the rule-chosen k where given (``(k, assessments)``, matched by key).
    Every claim of the paper that depends on k needs its twin; claims read at a fixed
    k, claims without a rule and extensions may have none. Returns the files."""
    twins = {} if at_rule_k is None else {a.key: a for a in at_rule_k[1]}
    paths = []
    for assessment in assessments:
        twin = twins.get(assessment.key)
        pair = None if twin is None else (at_rule_k[0], twin)
        claim = assessment.claim
        needs_twin = claim.k_dependent and claim.rule is not None and not claim.extension
        if needs_twin and at_rule_k is not None and twin is None:
            raise ValueError(
                f"claim {assessment.key!r} depends on k but has no twin at k = {at_rule_k[0]}"
            )
        data = to_record(assessment, cfg, k=cfg.k, at_rule_k=pair)
        path = claims_dir(cfg) / f"{slug(assessment.key)}.json"
        text = json.dumps(data, indent=1, sort_keys=True, default=float)
        atomic_write(path, lambda tmp, text=text: tmp.write_text(text + "\n", encoding="utf-8"))
        record_output(path)
        paths.append(path)
    return paths


def registry_keys() -> list[str]:
    """Every scorecard record the registry defines (claim id, and variant where it has
    several), in registry order."""
    return [
        f"{claim.id} [{variant}]" if variant else claim.id
        for claim in CLAIMS.values()
        for variant in claim.variants
    ]


def load(cfg: Config, *, require_all: bool = True, chapter: str | None = None) -> list[dict]:
    """Every stored record of ``cfg``'s run (or of one ``chapter``'s claims), in registry
    order; files of claims the registry no longer has are ignored.

    Raises ``ValueError`` if a record comes from another config (re-run its chapter),
    or, with ``require_all``, if a registered claim (or one of its variants) has no
    record: the chapter that assesses it did not run.
    """
    folder = claims_dir(cfg)
    known = set(registry_keys())
    records = {}
    for path in sorted(folder.glob("*.json")) if folder.is_dir() else []:
        rec = json.loads(path.read_text(encoding="utf-8"))
        if rec.get("key") in known and (chapter is None or CLAIMS[rec["claim"]].chapter == chapter):
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


def missing(records: list[dict]) -> dict[str, str]:
    """Registry rows without a record → the chapter that assesses them."""
    have = {rec["key"] for rec in records}
    return {key: CLAIMS[key.split(" [")[0]].chapter for key in registry_keys() if key not in have}


def _estimate(d: dict) -> Estimate:
    return Estimate(d["value"], d["low"], d["high"], int(d["n"]))


def summary_value(rec: dict, summary: dict | None = None) -> str:
    """The record's summary (or ``summary``) as ``value [low, high]``, or ``—``."""
    claim = CLAIMS[rec["claim"]]
    summary = rec["summary"] if summary is None else summary
    if summary is None:
        return "—"
    return fmt_ci(_estimate(summary), claim.format, sign=claim.format in SIGNED_FORMATS)


def counts(rec: dict) -> dict[str, int]:
    """How many units support, contradict, leave undecided, or cannot test the claim."""
    outcomes = [ev["outcome"] for ev in rec["evidence"]]
    return {o: outcomes.count(o) for o in ("support", "against", "undecided", "untestable")}


def counts_cell(rec: dict) -> str:
    """``3 ✓ · 1 ✗ · 1 ?`` (and ``· 2 –`` for untestable units), or ``—``."""
    c = counts(rec)
    if not rec["evidence"]:
        return "—"
    marks = {"support": "✓", "against": "✗", "undecided": "?", "untestable": "–"}
    return " · ".join(f"{n} {marks[o]}" for o, n in c.items() if n)


def primary(records: list[dict]) -> list[dict]:
    """The records that carry each claim's verdict (its first variant)."""
    return [r for r in records if r["variant"] == CLAIMS[r["claim"]].primary]


def others(records: list[dict], rec: dict) -> list[dict]:
    """The records of ``rec``'s claim with its other variants (e.g. cosine)."""
    return [r for r in records if r["claim"] == rec["claim"] and r["key"] != rec["key"]]


def with_calibration(records: list[dict], *, n_sim: int = 4000, seed: int = 0) -> list[dict]:
    """Each record with ``calibration``: the null rate and power of its rule on its own
    units (``None`` for claims without a rule or units)."""
    out = []
    for rec in records:
        claim = CLAIMS[rec["claim"]]
        cal = None
        if claim.rule is not None and rec["evidence"]:
            c = calibrate(claim, units_of(rec, claim.rule), n_sim=n_sim, seed=seed)
            cal = {"null_rate": c.null_rate, "power": c.power, "power_partly": c.power_partly}
        out.append({**rec, "calibration": cal})
    return out


def table(records: list[dict]) -> pd.DataFrame:
    """The scorecard, one row per claim: its verdict (first variant, config's k), our
    value, the units' outcomes, the rule's power and null rate, the verdict at the
    rule-chosen k and with the other scores; ``extension`` marks rows that are not the
    paper's claims. ``records`` come from :func:`with_calibration`."""
    rows = []
    for rec in primary(records):
        claim = CLAIMS[rec["claim"]]
        cal = rec.get("calibration")
        alt = rec.get("at_rule_k")
        rows.append(
            {
                "claim": claim.id,
                "section": claim.section,
                "title": claim.title,
                "extension": claim.extension,
                "verdict": rec["verdict"],
                "value": summary_value(rec),
                "units": counts_cell(rec),
                "reason": rec["reason"],
                "power": None if cal is None else round(cal["power"], 3),
                "null_rate": None if cal is None else round(cal["null_rate"], 4),
                "k": rec["k"],
                "rule_k": None if alt is None else alt["k"],
                "verdict_at_rule_k": None if alt is None else alt["verdict"],
                "value_at_rule_k": None if alt is None else summary_value(rec, alt["summary"]),
                **{f"verdict_{o['variant']}": o["verdict"] for o in others(records, rec)},
                "chapter": claim.chapter,
                "quote": claim.quote,
                "paper": claim.paper,
                "measure": claim.measure,
                "test": claim.test,
            }
        )
    return pd.DataFrame(rows)


def verdict_counts(records: list[dict]) -> pd.Series:
    """How many of the paper's claims (first variant, extensions left out) have each
    verdict (all verdicts, zeros included)."""
    verdicts = [r["verdict"] for r in primary(records) if not CLAIMS[r["claim"]].extension]
    return pd.Series(verdicts, dtype=object).value_counts().reindex(list(VERDICTS), fill_value=0)


def write_csv(records: list[dict], cfg: Config) -> Path:
    """``results/<config>/scorecard.csv``: the :func:`table` of the run."""
    frame = table(records)
    return atomic_write(
        cfg.results_path / "scorecard.csv", lambda tmp: frame.to_csv(tmp, index=False)
    )


def missing_box(absent: dict[str, str]) -> str:
    """A visible warning that lists the claims this run has not assessed yet."""
    items = "\n".join(f"- `{key}`: run the chapter `{chapter}`" for key, chapter in absent.items())
    return f":::{{warning}} Claims not assessed in this run\n{items}\n:::"


def _cell(text: str) -> str:
    return str(text).replace("|", "\\|")


def _title(rec: dict, *, link: bool) -> str:
    claim = CLAIMS[rec["claim"]]
    return f"{{ref}}`{claim.title} <{claim.anchor}>`" if link else claim.title


def _others_cell(records: list[dict], rec: dict) -> str:
    return "; ".join(f"{o['variant']}: {o['verdict']}" for o in others(records, rec)) or "—"


def _rule_k_cell(rec: dict) -> str:
    alt = rec.get("at_rule_k")
    if alt is None:
        return "—"
    return f"k = {alt['k']}: {alt['verdict']}"


def markdown_table(records: list[dict], *, link: bool = True, calibrated: bool = False) -> str:
    """A MyST table, one row per claim (its first variant): the claim (linked to the
    section that shows it), section, our value, the units' outcomes, the verdict, the
    verdict at the rule-chosen k and with the other scores; ``calibrated`` adds the
    power column (records from :func:`with_calibration`)."""
    head = ["claim", "§", "our value", "units", "verdict"]
    head += ["power"] if calibrated else []
    head += ["at the rule's k", "other scores"]
    lines = ["| " + " | ".join(head) + " |", "|" + "---|" * len(head)]
    for rec in primary(records):
        cells = [_title(rec, link=link), CLAIMS[rec["claim"]].section, summary_value(rec),
                 counts_cell(rec), f"**{rec['verdict']}**"]  # fmt: skip
        if calibrated:
            cal = rec.get("calibration")
            cells.append("—" if cal is None else fmt(cal["power"], "pct"))
        cells += [_rule_k_cell(rec), _others_cell(records, rec)]
        lines.append("| " + " | ".join(_cell(c) for c in cells) + " |")
    return "\n".join(lines)


def unit_values(rec: dict) -> str:
    """Every unit's estimate and outcome, e.g. ``es −0.05 [−0.07, −0.03] ✓``."""
    claim = CLAIMS[rec["claim"]]
    marks = {"support": "✓", "against": "✗", "undecided": "?", "untestable": "–"}
    parts = []
    for ev in rec["evidence"]:
        est = fmt_ci(_estimate(ev), claim.format, sign=claim.format in SIGNED_FORMATS)
        parts.append(f"{ev['unit']} {est} {marks[ev['outcome']]}")
    return "; ".join(parts)


def details_markdown(records: list[dict]) -> str:
    """Every claim in full: the paper's words and numbers, our measure, units and test,
    the rule's margin, the value of every unit (✓ supports, ✗ contradicts, ? undecided,
    – not testable), the verdict and its power."""
    blocks = []
    for rec in records:
        claim = CLAIMS[rec["claim"]]
        variant = f", {rec['variant']}" if rec["variant"] else ""
        cal = rec.get("calibration")
        lines = [
            f"**{claim.title}** (`{rec['claim']}`{variant}, {claim.section}): **{rec['verdict']}**",
            "",
            f"> {claim.quote}",
            "",
            f"- the paper's numbers: {claim.paper}",
            f"- our measure: {claim.measure}",
            f"- units: {claim.units}",
            f"- test: {claim.test}",
        ]
        if claim.margin_note:
            lines.append(f"- margin: {claim.margin_note}")
        lines += [
            f"- our value: {summary_value(rec)} (k = {rec['k']})",
            f"- per unit: {unit_values(rec) or '—'}",
            f"- why: {rec['reason']}",
        ]
        if rec.get("at_rule_k"):
            alt = rec["at_rule_k"]
            lines.append(f"- at the rule's k = {alt['k']}: {summary_value(rec, alt['summary'])}, "
                         f"**{alt['verdict']}** ({alt['reason']})")  # fmt: skip
        if cal is not None:
            lines.append(
                f"- the rule on these units: power {fmt(cal['power'], 'pct')} at the paper's "
                f"effect ({claim.effect.note}); {fmt(cal['null_rate'], 'pct')} (partly) "
                "reproduced under a null"
            )
        blocks.append("\n".join(lines) + "\n")
    return "\n".join(blocks)


def chapter_records(cfg: Config, chapter: str) -> list[dict]:
    """The stored records of the claims a chapter assesses (registry order)."""
    return load(cfg, require_all=False, chapter=chapter)


def chapter_glue(cfg: Config, chapter: str, prefix: str) -> dict[str, str]:
    """What a chapter glues of its own scorecard rows: ``<prefix>_claims_top`` (its
    Result box: each claim once, linked to the section that tests it)."""
    records = chapter_records(cfg, chapter)
    if not records:
        raise ValueError(f"chapter {chapter!r} has no assessed claims for {cfg.name}")
    return {f"{prefix}_claims_top": markdown_table(records)}

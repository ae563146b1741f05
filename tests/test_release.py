"""The release's metadata agree: one version everywhere, the citation of the paper with
its DOI and pages, both licences in full and named where a reader looks, and the
contributor's guide names the commands it promises."""

from __future__ import annotations

import json
import re
import tomllib
from pathlib import Path

import yaml

ROOT = Path(__file__).resolve().parents[1]
VERSION = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]["version"]
CITATION = yaml.safe_load((ROOT / "CITATION.cff").read_text(encoding="utf-8"))
ZENODO = json.loads((ROOT / ".zenodo.json").read_text(encoding="utf-8"))
CHANGELOG = (ROOT / "CHANGELOG.md").read_text(encoding="utf-8")
DOI = "10.18653/v1/2025.acl-long.118"


def test_one_version_and_date_everywhere():
    assert CITATION["version"] == ZENODO["version"] == VERSION
    sections = re.findall(r"(?m)^## \[([^\]]+)\](?: - (\d{4}-\d{2}-\d{2}))?$", CHANGELOG)
    assert sections[0] == ("Unreleased", ""), "CHANGELOG.md starts with its Unreleased section"
    assert sections[1] == (VERSION, CITATION["date-released"]), "the latest release is this one"
    assert ZENODO["publication_date"] == CITATION["date-released"]
    assert f"[{VERSION}]: " in CHANGELOG and "[Unreleased]: " in CHANGELOG


def _bib_entry(key: str) -> dict[str, str]:
    bib = (ROOT / "book" / "references.bib").read_text(encoding="utf-8")
    body = bib.split(f"{{{key},")[1].split("\n}")[0]
    return {k: v for k, v in re.findall(r"(?m)^\s*(\w+)\s*=\s*\{(.*)\},?$", body)}


def test_the_preferred_citation_is_the_paper_with_its_doi_and_pages():
    paper = CITATION["preferred-citation"]
    assert paper["type"] == "conference-paper" and paper["year"] == 2025
    assert paper["doi"] == DOI and (paper["start"], paper["end"]) == (2375, 2401)
    assert paper["conference"]["city"] == "Vienna"
    entry = _bib_entry("sundar2025steering")
    assert entry["doi"] == DOI and entry["pages"] == "2375--2401"
    # the same authors, in the same order, in the citation file and the bibliography
    bib_authors = [a.strip() for a in entry["author"].split(" and ")]
    cff_authors = [f"{a['family-names']}, {a['given-names']}" for a in paper["authors"]]
    assert cff_authors == bib_authors
    assert any(r["identifier"] == DOI for r in ZENODO["related_identifiers"])


def test_both_licences_in_full_and_where_a_reader_looks():
    assert "MIT License" in (ROOT / "LICENSE").read_text()
    cc = (ROOT / "LICENSE-CC-BY-4.0.txt").read_text(encoding="utf-8")
    assert cc.startswith("Attribution 4.0 International")
    sections = re.findall(r"(?m)^Section (\d) -- ", cc)
    assert sections == [str(i) for i in range(1, 9)], "all eight sections of the legal code"
    assert cc.rstrip().endswith("Creative Commons may be contacted at creativecommons.org.")
    for page in ("README.md", "book/licences.md"):
        text = (ROOT / page).read_text(encoding="utf-8")
        assert "LICENSE-CC-BY-4.0.txt" in text and "`LICENSE`" in text, page
        assert "CC BY 4.0" in text and "MIT" in text, page
    assert set(CITATION["license"]) == {"MIT", "CC-BY-4.0"}


def test_the_contributors_guide_names_its_commands():
    guide = (ROOT / "CONTRIBUTING.md").read_text(encoding="utf-8")
    for needle in (
        'pip install -q -r requirements-test.lock -e ".[book,test]"',
        'python -m pytest -m "not slow"',
        "ruff check .",
        "lib/steerspace/claims/registry.yaml",
        "_toc.yml",
        "notebooks/<name>.py",
        ".ci/lock",
    ):
        assert needle in guide, needle

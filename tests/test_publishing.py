"""Where the book runs besides this repository: Colab (each chapter's install cell),
Binder (.binder/, a button only where the chapters fit its memory), and the repository
URL as one setting (_config.yml)."""

from __future__ import annotations

import importlib.util
import json
import re
import subprocess
import sys
import tomllib
from pathlib import Path

import jupytext
import pytest
import yaml

from steerspace.book.structure import chapters

ROOT = Path(__file__).resolve().parents[1]
CONFIG = yaml.safe_load((ROOT / "_config.yml").read_text())
URL, BRANCH = CONFIG["repository"]["url"], CONFIG["repository"]["branch"]
VERSION = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]["version"]
#: the install cell of every chapter: the book extra, at the release it was executed with
PACKAGE = f"steerspace[book] @ git+{URL}@v{VERSION}"


def code_cells(name: str) -> list:
    notebook = jupytext.read(ROOT / "notebooks" / f"{name}.py")
    return [c for c in notebook.cells if c.cell_type == "code"]


@pytest.mark.parametrize("name", chapters(ROOT))
def test_each_chapter_installs_the_library_first_from_the_configured_repository(name):
    cells = code_cells(name)
    installs = [i for i, c in enumerate(cells) if '"pip", "install"' in c.source]
    assert len(installs) == 1, f"{name}: one install cell expected, found {len(installs)}"
    parameters = [i for i, c in enumerate(cells) if "parameters" in c.metadata.get("tags", [])]
    assert len(parameters) == 1 and parameters[0] > installs[0], (
        f"{name}: the install cell must precede the parameters cell"
    )
    assert installs[0] == 0, f"{name}: the install cell must be the first code cell"
    assert f'"{PACKAGE}"' in cells[installs[0]].source


def test_the_install_cell_installs_only_where_the_library_is_missing(monkeypatch):
    source = code_cells(chapters(ROOT)[0])[0].source
    calls = []
    monkeypatch.setattr(subprocess, "run", lambda cmd, check: calls.append((cmd, check)))
    exec(source, {})  # here the library is installed: nothing happens
    assert calls == []
    monkeypatch.setattr(importlib.util, "find_spec", lambda name: None)  # as on Colab
    exec(source, {})
    assert calls == [([sys.executable, "-m", "pip", "install", "-q", PACKAGE], True)]


def test_citation_names_the_configured_repository():
    citation = yaml.safe_load((ROOT / "CITATION.cff").read_text())
    assert citation["repository-code"] == URL
    assert URL in (ROOT / "CHANGELOG.md").read_text()
    assert URL in (ROOT / ".zenodo.json").read_text()


#: mybinder.org's memory per session, for the chapter's kernel: the limit is "2G", which
#: JupyterHub reads as 2 GiB (2.15e9 bytes), and JupyterLab's server beside the kernel
#: holds about 0.11 GB (measured idle with two notebooks open), so a kernel under 2e9
#: bytes leaves the session inside it
BINDER_BYTES = 2e9


def test_a_binder_button_only_while_every_classroom_chapter_fits_its_memory():
    # the classroom benchmark runs each chapter's notebook alone, in float32 as on
    # Binder's CPUs: a button to a session the chapter cannot fit in would only crash
    measured = json.loads((ROOT / "bench" / "results" / "classroom-no-bf16.json").read_text())
    assert set(measured["chapters"]) == set(chapters(ROOT))
    fits = all(r["peak_kernel_rss_bytes"] < BINDER_BYTES for r in measured["chapters"].values())
    assert ("binderhub_url" in CONFIG["launch_buttons"]) == fits


def test_binder_installs_after_the_checkout_with_the_lock():
    assert (ROOT / ".binder" / "runtime.txt").read_text().strip() == "python-3.11"
    post_build = ROOT / ".binder" / "postBuild"
    assert post_build.stat().st_mode & 0o111, "postBuild must be executable"
    script = post_build.read_text()
    assert re.search(r'pip install .*-r requirements-book\.lock -e "\.\[book\]"', script)
    # repo2docker reads only .binder/ when it exists: no install there before the copy
    assert sorted(p.name for p in (ROOT / ".binder").iterdir()) == ["postBuild", "runtime.txt"]


def test_set_repository_rewrites_the_setting_and_its_copies(tmp_path):
    for name in ("_config.yml", "CITATION.cff", "CHANGELOG.md", ".zenodo.json"):
        (tmp_path / name).write_text((ROOT / name).read_text())
    (tmp_path / "notebooks").mkdir()
    first = chapters(ROOT)[0]
    (tmp_path / "notebooks" / f"{first}.py").write_text(
        (ROOT / "notebooks" / f"{first}.py").read_text()
    )
    (tmp_path / ".ci").mkdir()
    script = tmp_path / ".ci" / "set-repository"
    script.write_text((ROOT / ".ci" / "set-repository").read_text())
    url = "https://github.com/somebody/steerspace-fork"
    subprocess.run([sys.executable, str(script), url, "course"], check=True)
    config = yaml.safe_load((tmp_path / "_config.yml").read_text())
    assert config["repository"] == {**CONFIG["repository"], "url": url, "branch": "course"}
    assert yaml.safe_load((tmp_path / "CITATION.cff").read_text())["repository-code"] == url
    for name in ("CHANGELOG.md", ".zenodo.json"):
        text = (tmp_path / name).read_text()
        assert url in text and URL not in text, name
    chapter = (tmp_path / "notebooks" / f"{first}.py").read_text()
    assert f'"steerspace[book] @ git+{url}@v{VERSION}"' in chapter
    bad = subprocess.run([sys.executable, str(script), "not-a-url"], capture_output=True)
    assert bad.returncode == 2 and b"usage" in bad.stderr


def test_licences_page_follows_references_and_names_every_source():
    from steerspace.data.bible import BIBLE_TRANSLATIONS

    toc = (ROOT / "_toc.yml").read_text()
    assert toc.index("book/references") < toc.index("book/licences")
    page = (ROOT / "book" / "licences.md").read_text()
    for needle in (
        "CC BY 2.0 FR",
        "tatoeba.org contributors",
        "Flores",
        "CC BY-SA 4.0",
        "WALS",
        "CC BY 4.0",
        "PAWS-X",
        "BUCC",
        "Gemma Terms of Use",
        "MIT",
    ):
        assert needle in page, needle
    missing = [name for _, name in BIBLE_TRANSLATIONS.values() if name not in page]
    assert not missing, f"licences.md does not name the Bible translations {missing}"

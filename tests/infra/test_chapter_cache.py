"""The chapter cache: an unchanged chapter is restored, not executed; any change to what
it depends on executes it again; a broken entry is reported in one line and a miss."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
import yaml

from steerspace.book.cli import main
from steerspace.book.run import run_book
from steerspace.infra import chapter_cache
from steerspace.infra.chapter_cache import ChapterCache, chapter_key, record_output

CHAPTER = """# ---
# jupyter:
#   kernelspec:
#     display_name: Python 3
#     language: python
#     name: python3
# ---

# %% tags=["parameters"]
config = "gemma-3-270m"
overrides = {{}}

# %%
from pathlib import Path

from steerspace.infra.chapter_cache import record_output
from steerspace.config import load_config

cfg = load_config(config, **overrides)
cfg.results_path.mkdir(parents=True, exist_ok=True)
with open("{name}.executions", "a") as fh:  # outside the results: counts executions
    fh.write("x")
table = cfg.results_path / "{name}.csv"
table.write_text(f"k\\n{{cfg.k}}\\n")
record_output(table)
print("{text}")
"""


@pytest.fixture
def book(tmp_path: Path, tiny_model_dir: Path) -> Path:
    """A book of one chapter and one summary page (``scorecard``, never cached)."""
    toc = {"format": "jb-book", "root": "book/intro", "chapters": [{"file": "book/one"}]}
    toc["chapters"].append({"file": "book/scorecard"})
    (tmp_path / "_toc.yml").write_text(yaml.safe_dump(toc))
    (tmp_path / "_config.yml").write_text("title: cached\n")
    (tmp_path / "book").mkdir()
    (tmp_path / "book" / "intro.md").write_text("# Intro\n")
    (tmp_path / "notebooks").mkdir()
    for name in ("one", "scorecard"):
        source = CHAPTER.format(name=name, text="first version")
        (tmp_path / "notebooks" / f"{name}.py").write_text(source)
    config = {
        "name": "small",
        "model": str(tiny_model_dir),
        "k": 5,
        "k_grid": [0, 5],
        "dose_k_grid": [5],
        "dtype": "float32",
        "cache_dir": str(tmp_path / ".cache"),
    }
    (tmp_path / "small.yaml").write_text(yaml.safe_dump(config))
    return tmp_path


def executions(book: Path, name: str) -> int:
    path = book / f"{name}.executions"
    return len(path.read_text()) if path.exists() else 0


def run(book: Path, *extra: str) -> int:
    argv = ["book", "--root", str(book), "--config", str(book / "small.yaml")]
    return main([*argv, "--no-build", "--out", str(book), *extra])


@pytest.mark.slow
def test_an_unchanged_chapter_is_restored_with_its_results(book, capsys):
    assert run(book) == 0
    assert executions(book, "one") == 1 and executions(book, "scorecard") == 1
    table = book / "results" / "small" / "one.csv"
    table.unlink()
    (book / "book" / "one.ipynb").unlink()
    assert run(book) == 0
    out = capsys.readouterr().out
    assert "one unchanged: restored from the chapter cache" in out
    assert executions(book, "one") == 1  # not executed again
    assert executions(book, "scorecard") == 2  # summary pages always execute
    assert table.read_text() == "k\n5\n"  # its results are back
    assert "first version" in (book / "book" / "one.ipynb").read_text()
    manifest = json.loads((book / "results" / "small" / "manifest.json").read_text())
    assert manifest["steps"]["one"]["restored"] is True


@pytest.mark.slow
def test_a_change_to_source_config_or_rerun_executes_again(book):
    assert run(book) == 0
    source = book / "notebooks" / "one.py"
    source.write_text(source.read_text().replace("first version", "second version"))
    assert run(book) == 0 and executions(book, "one") == 2
    assert "second version" in (book / "book" / "one.ipynb").read_text()
    assert run(book, "--out", str(book), "--set", "k=7") == 0  # another run folder
    assert executions(book, "one") == 3
    assert run(book, "--rerun") == 0 and executions(book, "one") == 4
    assert run(book) == 0 and executions(book, "one") == 4


def key_for(book: Path, **change) -> dict:
    parts = {
        "parameters": {"config": "small", "overrides": {}},
        "settings": {"k": 5},
        "dtype": {"dtype": "float32"},
        "model_id": "m",
    } | change
    return chapter_key(book, "one", **parts)


def test_the_key_moves_with_every_input(book, monkeypatch):
    base = key_for(book)
    assert key_for(book) == base
    assert key_for(book, settings={"k": 6}) != base
    assert key_for(book, dtype={"dtype": "bfloat16"}) != base
    assert key_for(book, model_id="n") != base
    monkeypatch.setattr(chapter_cache, "library_digest", lambda: "another library")
    assert key_for(book) != base
    monkeypatch.undo()
    (book / "notebooks" / "one.py").write_text("# changed\n")
    assert key_for(book) != base


def test_pages_key_what_they_read_outside_the_cache(book):
    (book / "bench" / "results").mkdir(parents=True)
    (book / "bench" / "cost_model.py").write_text("")  # marks the repository root
    args = {"parameters": {}, "settings": {}, "dtype": {}, "model_id": "m"}
    (book / "notebooks" / "performance.py").write_text("x = 1\n")
    (book / "notebooks" / "exercises.py").write_text("x = 1\n")
    perf = chapter_key(book, "performance", **args)
    index = chapter_key(book, "exercises", **args)
    one = chapter_key(book, "one", **args)
    (book / "bench" / "results" / "forward.json").write_text("{}")
    assert chapter_key(book, "performance", **args) != perf
    assert chapter_key(book, "one", **args) == one  # a chapter reads only the book's times
    (book / "bench" / "results" / "book.json").write_text("{}")
    assert chapter_key(book, "one", **args) != one
    (book / "notebooks" / "one.py").write_text("# a chapter changed\n")
    assert chapter_key(book, "exercises", **args) != index
    assert not chapter_cache.cacheable("scorecard") and chapter_cache.cacheable("one")


def test_a_corrupted_entry_is_one_line_and_a_miss_and_writes_nothing(
    book, tmp_path, monkeypatch, capsys
):
    from steerspace.infra.progress import ENV_VAR

    monkeypatch.delenv(ENV_VAR, raising=False)  # the runner restores, outside any chapter
    store = ChapterCache(tmp_path / "cache")
    key = key_for(book)
    results, notebook = tmp_path / "results", tmp_path / "run" / "one.ipynb"
    (results / "figures").mkdir(parents=True)
    (results / "figures" / "f.png").write_bytes(b"png")
    notebook.parent.mkdir()
    notebook.write_text("{}")
    outside = tmp_path / "elsewhere.csv"
    outside.write_text("not a result")
    entry = store.store(key, notebook, results, [results / "figures" / "f.png", outside], seconds=1)
    meta = json.loads((entry / "meta.json").read_text())
    assert meta["outputs"] == ["figures/f.png"]  # files outside the results are not kept
    fresh = tmp_path / "fresh"
    assert store.restore(key, fresh / "one.ipynb", fresh / "results") is not None
    assert (fresh / "results" / "figures" / "f.png").read_bytes() == b"png"
    capsys.readouterr()
    (entry / "files" / "figures" / "f.png").write_bytes(b"pnG")  # one flipped byte
    again = tmp_path / "again"
    assert store.restore(key, again / "one.ipynb", again / "results") is None
    assert not again.exists()
    assert capsys.readouterr().err.splitlines() == [
        f"[steerspace] cache: chapters/{entry.name}: figures/f.png does not match its "
        "checksum; executing the chapter again"
    ]
    assert store.restore(key_for(book, model_id="other"), again / "x.ipynb", again) is None
    assert capsys.readouterr().err == ""  # no entry at all: a plain miss


def test_record_output_lists_paths_only_when_asked(tmp_path, monkeypatch):
    monkeypatch.delenv(chapter_cache.ENV_VAR, raising=False)
    record_output(tmp_path / "a.csv")  # no listing: nothing happens
    listing = tmp_path / "outputs.txt"
    monkeypatch.setenv(chapter_cache.ENV_VAR, str(listing))
    record_output(tmp_path / "a.csv")
    record_output(tmp_path / "a.csv")
    assert chapter_cache.outputs_listed(listing) == [(tmp_path / "a.csv").resolve()]


def test_run_book_rerun_flag_is_accepted(book):
    with pytest.raises(ValueError, match="jobs"):
        run_book(str(book / "small.yaml"), root=book, jobs=0, rerun=True)

"""`steerspace book`: runs never overwrite each other, every run has a manifest, a
failed chapter keeps its executed notebook and the exit code says so."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
import yaml

from steerspace.book.cli import main
from steerspace.book.run import default_out, run_book, run_name

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
from steerspace.config import load_config

cfg = load_config(config, **overrides)
cfg.results_path.mkdir(parents=True, exist_ok=True)
(cfg.results_path / "{name}.csv").write_text(f"k\\n{{cfg.k}}\\n")
{body}
"""


# a long stage: every step reports (the library's interval is 10 s)
PROGRESS = """import steerspace.infra.progress as progress

progress.INTERVAL_S = 0.0
list(progress.progress_bar(range(2), desc="long stage", total=2))
"""


@pytest.fixture(scope="session")
def shared_models(tmp_path_factory) -> Path:
    """One folder for the embedded model's safetensors, converted once per session
    (1.1 GB and about a minute) rather than once per test."""
    return tmp_path_factory.mktemp("models")


@pytest.fixture
def book_root(tmp_path: Path, shared_models: Path) -> Path:
    """A two-chapter book (``ok`` writes a result, ``bad`` raises) and a small config
    whose cache shares the session's converted model."""
    toc = {"format": "jb-book", "root": "book/intro", "chapters": [{"file": "book/ok"}]}
    toc["chapters"].append({"file": "book/bad"})
    (tmp_path / "_toc.yml").write_text(yaml.safe_dump(toc))
    (tmp_path / "_config.yml").write_text("title: two chapters\n")
    (tmp_path / "notebooks").mkdir()
    (tmp_path / "book").mkdir()
    (tmp_path / "book" / "intro.md").write_text("# Intro\n")
    (tmp_path / "notebooks" / "ok.py").write_text(CHAPTER.format(name="ok", body=PROGRESS))
    bad = CHAPTER.format(name="bad", body='raise RuntimeError("no such language: xx")')
    (tmp_path / "notebooks" / "bad.py").write_text(bad)
    (tmp_path / ".cache").mkdir()
    (tmp_path / ".cache" / "models").symlink_to(shared_models, target_is_directory=True)
    config = {"name": "small", "dtype": "float32", "cache_dir": str(tmp_path / ".cache")}
    (tmp_path / "small.yaml").write_text(yaml.safe_dump(config))
    return tmp_path


def test_run_name_is_readable_and_keeps_runs_apart():
    assert run_name("gemma-3-270m", {"k": 200, "targets": ["es", "fr"]}) == (
        "gemma-3-270m_k=200_targets=es+fr"
    )
    assert run_name("tiny", {}) == "tiny"
    a = run_name("tiny", {"data_dir": "/data/a b"})
    b = run_name("tiny", {"data_dir": "/data/a-b"})
    assert a != b and "/" not in a and a.startswith("tiny_data_dir=-data-a-b-")
    assert len(run_name("tiny", {"targets": ["es"] * 100})) <= 80


def test_only_the_default_config_without_overrides_writes_the_repository(tmp_path):
    assert default_out(tmp_path, "gemma-3-270m", {}, "gemma-3-270m") == tmp_path
    assert default_out(tmp_path, "gemma-3-270m", {"k": None}, "gemma-3-270m") == tmp_path
    assert default_out(tmp_path, "gemma-3-270m", {"k": 200}, "gemma-3-270m") == (
        tmp_path / "runs" / "gemma-3-270m_k=200"
    )
    assert default_out(tmp_path, "aya-23-8b", {}, "aya-23-8b") == tmp_path / "runs" / "aya-23-8b"


@pytest.mark.slow
def test_a_run_with_overrides_writes_its_own_folder_and_manifest(book_root, capsys):
    run_book(str(book_root / "small.yaml"), {"k": 3}, root=book_root, only=["ok"], build=False)
    # the chapter's progress reached the terminal, prefixed with the chapter
    assert "[steerspace] ok · long stage: 2/2 (100%)" in capsys.readouterr().err
    out = book_root / "runs" / "small_k=3"
    assert (out / "book" / "ok.ipynb").is_file() and (out / "_toc.yml").is_file()
    assert not (book_root / "book" / "ok.ipynb").exists()
    assert not (book_root / "results").exists()
    results = out / "results" / "small"
    assert (results / "ok.csv").read_text() == "k\n3\n"
    manifest = json.loads((results / "manifest.json").read_text())
    assert manifest["status"] == "ok" and manifest["overrides"] == {"k": 3}
    assert manifest["settings"]["k"] == 3 and manifest["settings"]["name"] == "small"
    assert manifest["dtype"] == {
        "requested": "float32",
        "dtype": "float32",
        "device": "cpu",
        "reason": "set in the config",
    }
    assert manifest["steps"]["ok"]["status"] == "ok" and manifest["steps"]["ok"]["seconds"] > 0
    assert manifest["packages"]["torch"] and manifest["packages"]["steerspace"]
    assert manifest["machine"]["cpu"] and "cpu_flags" in manifest["machine"]
    assert manifest["out"] == str(out)


@pytest.mark.slow
def test_a_failed_chapter_keeps_its_notebook_and_exits_nonzero(book_root, capsys):
    previous = book_root / "book" / "bad.ipynb"
    previous.write_text("the last good execution")
    argv = ["book", "--root", str(book_root), "--config", str(book_root / "small.yaml")]
    code = main([*argv, "--only", "bad", "--no-build", "--out", str(book_root)])
    assert code == 1
    failed = book_root / "book" / "bad.failed.ipynb"
    err = capsys.readouterr().err
    assert "chapter bad failed (RuntimeError: no such language: xx)" in err
    assert str(failed) in err
    outputs = [o for c in json.loads(failed.read_text())["cells"] for o in c.get("outputs", [])]
    assert any(o["output_type"] == "error" and o["ename"] == "RuntimeError" for o in outputs)
    assert previous.read_text() == "the last good execution"
    manifest = json.loads((book_root / "results" / "small" / "manifest.json").read_text())
    assert manifest["status"] == "failed"
    assert manifest["steps"]["bad"] == {"status": "failed", "notebook": str(failed)}


THREADS = """import os

(cfg.results_path / "{name}-threads.txt").write_text(os.environ.get("OMP_NUM_THREADS", "unset"))
"""


@pytest.mark.slow
def test_chapters_run_side_by_side_with_a_share_of_the_cpus_each(book_root, capsys):
    from steerspace.book.run import usable_cpus

    notebooks = book_root / "notebooks"
    for name in ("one", "two"):
        (notebooks / f"{name}.py").write_text(
            CHAPTER.format(name=name, body=THREADS.format(name=name))
        )
    toc = yaml.safe_load((book_root / "_toc.yml").read_text())
    toc["chapters"] = [{"file": "book/one"}, {"file": "book/two"}, {"file": "book/bad"}]
    (book_root / "_toc.yml").write_text(yaml.safe_dump(toc))
    config = str(book_root / "small.yaml")
    timings = run_book(
        config, root=book_root, only=["one", "two"], build=False, jobs=2, out=book_root
    )
    assert set(timings) == {"one", "two"}
    results = book_root / "results" / "small"
    want = str(max(1, usable_cpus() // 2))
    assert [(results / f"{n}-threads.txt").read_text() for n in ("one", "two")] == [want, want]
    assert "2 at a time" in capsys.readouterr().out
    # a failure in one of the parallel chapters stops the run with its notebook
    code = main(["book", "--root", str(book_root), "--config", config, "--jobs", "2",
                 "--only", "one", "bad", "--no-build", "--out", str(book_root)])  # fmt: skip
    assert code == 1
    assert "chapter bad failed (RuntimeError: no such language: xx)" in capsys.readouterr().err
    assert (book_root / "book" / "bad.failed.ipynb").is_file()


def test_jobs_must_be_positive(book_root, capsys):
    code = main(["book", "--root", str(book_root), "--jobs", "0"])
    assert code == 2
    assert capsys.readouterr().err.count("\n") == 1

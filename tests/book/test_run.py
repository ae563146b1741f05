"""`steerspace book`: runs never overwrite each other, every run has a manifest, a
failed chapter keeps its executed notebook and the exit code says so."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
import yaml

from steerspace.book.cli import main
from steerspace.book.run import run_book
from steerspace.book.structure import default_out, run_name

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
    # repository-relative: a committed manifest names no machine's folders
    assert manifest["out"] == "runs/small_k=3" and "root" not in manifest
    assert manifest["config"] == "small.yaml"


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
    assert manifest["steps"]["bad"] == {  # repository-relative, as every manifest path
        "status": "failed",
        "notebook": str(failed.relative_to(book_root)),
    }


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


# ------------------------------------------------------------ partial runs (--only)
ROOT = Path(__file__).resolve().parents[2]


def fake_preflight(*args, **kwargs):
    """The preflight's answer, without its child process (the config is not the point)."""
    dtype = {"dtype": "float32", "device": "cpu", "reason": "set in the config"}
    return {"n_units": 128, "dtype": dtype, "model_id": "tiny"}


def fake_chapter(root, name, parameters, *, out):
    """An executed chapter without a kernel: its title, and (the intro) a link to a
    chapter that a partial book leaves out."""
    import nbformat

    text = f"# {name}\n" + ("\nSee {ref}`experts-auroc`.\n" if name == "intro" else "")
    notebook = nbformat.v4.new_notebook(cells=[nbformat.v4.new_markdown_cell(text)])
    notebook.metadata["kernelspec"] = {"name": "python3", "display_name": "Python 3",
                                       "language": "python"}  # fmt: skip
    target = out / "book" / f"{name}.ipynb"
    target.parent.mkdir(parents=True, exist_ok=True)
    nbformat.write(notebook, target)
    return target


@pytest.fixture
def no_kernels(monkeypatch, tmp_path):
    import steerspace.book.run as run

    monkeypatch.setattr(run, "execute_chapter", fake_chapter)
    monkeypatch.setattr("steerspace.book.preflight.checks_in_child", fake_preflight)
    monkeypatch.setenv("STEERSPACE_CACHE", str(tmp_path / "cache"))


def test_only_builds_what_was_run_in_a_new_folder(tmp_path, no_kernels, capsys):
    """`--only languages_and_data --out NEW`: the book built has the chapters run (and
    the summary pages that follow them) and the pages that need no execution; its
    links to the chapters left out are plain text, not a failed build."""
    out = tmp_path / "class"
    config = tmp_path / "tiny.yaml"
    config.write_text(f"name: tiny\ncache_dir: {tmp_path / 'cache'}\n")
    argv = ["book", "--config", str(config), "--root", str(ROOT), "--out", str(out)]
    assert main([*argv, "--only", "languages_and_data"]) == 0, capsys.readouterr().err
    assert "building the 3 executed chapters; the table of contents leaves out" in (
        capsys.readouterr().out
    )
    html = out / "_build" / "html" / "book"
    built = {p.stem for p in html.glob("*.html")}
    assert {"intro", "scorecard", "languages_and_data", "references", "licences"} <= built
    assert not built & {"finding_experts", "exercises", "course_guide"}
    assert (out / "_toc.yml").read_text() == (ROOT / "_toc.yml").read_text()  # untouched
    manifest = json.loads((out / "results" / "tiny" / "manifest.json").read_text())
    assert manifest["only"] == ["languages_and_data", "scorecard", "intro"]
    # the student edition of the same folder, without executing anything
    assert main([*argv, "--no-execute", "--edition", "student"]) == 0
    student = out / "_build" / "student" / "html" / "book"
    assert (student / "languages_and_data.html").is_file()
    assert not (student / "finding_experts.html").exists()


def test_a_partial_run_of_the_default_config_merges_into_the_committed_manifest(
    tmp_path, no_kernels, monkeypatch, capsys
):
    """`steerspace book --only X` with the default config writes into the repository:
    it updates X's entry (noting its own dtype) and keeps the full run's record; an
    interrupted one records `interrupted`, not `failed`."""
    from helpers.books import copy_book_sources

    import steerspace.book.run as run

    root = tmp_path / "repo"
    root.mkdir()
    copy_book_sources(root)
    results = root / "results" / "gemma-3-270m"
    results.mkdir(parents=True)
    committed = json.loads((ROOT / "results" / "gemma-3-270m" / "manifest.json").read_text())
    (results / "manifest.json").write_text(json.dumps(committed))
    argv = ["book", "--root", str(root), "--no-build"]
    assert main([*argv, "--only", "finding_experts"]) == 0
    manifest = json.loads((results / "manifest.json").read_text())
    for key in ("settings", "dtype", "started_utc", "git_commit", "machine", "packages"):
        assert manifest[key] == committed[key], key
    others = {n: s for n, s in committed["steps"].items() if n != "finding_experts"}
    assert {n: manifest["steps"][n] for n in others} == others
    step = manifest["steps"]["finding_experts"]
    assert step["status"] == "ok" and step["dtype"]["dtype"] == "float32"
    assert manifest["partial_runs"][-1]["only"] == ["finding_experts"]

    def interrupted(root, name, parameters, *, out):
        raise KeyboardInterrupt

    monkeypatch.setattr(run, "execute_chapter", interrupted)
    assert main([*argv, "--only", "choice_of_k"]) == 130
    manifest = json.loads((results / "manifest.json").read_text())
    assert manifest["steps"]["choice_of_k"]["status"] == "interrupted"
    assert manifest["steps"]["finding_experts"] == step
    assert manifest["status"] == "interrupted" and len(manifest["partial_runs"]) == (
        len(committed.get("partial_runs", [])) + 2
    )
    assert manifest["partial_runs"][-1]["status"] == "interrupted"


NO_CLOBBER_CHAPTER = """# ---
# jupyter:
#   kernelspec:
#     display_name: Python 3
#     language: python
#     name: python3
# ---

# %% tags=["parameters"]
config = "gemma-3-270m"
overrides = {}

# %%
from steerspace.book.chapter import setup_chapter

cfg, _ = setup_chapter(config, overrides)
cfg.results_path.mkdir(parents=True, exist_ok=True)
(cfg.results_path / "table.csv").write_text(f"k\\n{cfg.k}\\n")
"""


def test_papermill_with_other_parameters_never_writes_the_committed_results(tmp_path, monkeypatch):
    """The chapters' re-run box: ``papermill ... -p config gemma-3-270m -y "overrides:
    {k: 200}"`` in the repository writes to runs/<run name>/, and the committed
    results/gemma-3-270m/ stays byte for byte (the model is never loaded here)."""
    import papermill

    committed = tmp_path / "results" / "gemma-3-270m"
    committed.mkdir(parents=True)
    (committed / "table.csv").write_text("k\n500\n")
    before = {p.name: p.read_bytes() for p in committed.iterdir()}
    source = tmp_path / "chapter.ipynb"
    import jupytext

    jupytext.write(jupytext.reads(NO_CLOBBER_CHAPTER, fmt="py:percent"), source)
    monkeypatch.chdir(tmp_path)
    for overrides in ({"k": 200}, {"targets": ["es"]}):
        papermill.execute_notebook(
            str(source),
            str(tmp_path / "out.ipynb"),
            parameters={"config": "gemma-3-270m", "overrides": overrides},
            cwd=str(tmp_path),
            progress_bar=False,
        )
    assert {p.name: p.read_bytes() for p in committed.iterdir()} == before
    ran = tmp_path / "runs" / "gemma-3-270m_k=200" / "results" / "gemma-3-270m" / "table.csv"
    assert ran.read_text() == "k\n200\n"
    assert (tmp_path / "runs" / "gemma-3-270m_targets=es" / "results").is_dir()


def test_the_shipped_embedded_config_is_the_one_its_conversion_writes(book_root):
    # preflight counts the units (and checks k) from the shipped file, before converting
    from transformers import AutoConfig

    from steerspace.core.models import count_units, embedded_model_config, embedded_model_dir

    converted = AutoConfig.from_pretrained(embedded_model_dir(book_root / ".cache"))
    shipped = embedded_model_config()
    ignore = {"_name_or_path", "_model_name_or_path", "dtype", "transformers_version"}
    assert {k: v for k, v in shipped.to_dict().items() if k not in ignore} == {
        k: v for k, v in converted.to_dict().items() if k not in ignore
    }
    assert count_units(shipped, r"model\.layers\.\d+\.mlp\.down_proj", "input") == 18 * 2048

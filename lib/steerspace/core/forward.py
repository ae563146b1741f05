"""Batched, mask-aware forward passes: pooled unit activations (for expert finding)
and mean-pooled hidden states (sentence embeddings, paper §4–§5: the last layer; the
layer-by-layer chapter: every layer, from the same forward pass).

Sentences are sorted by length before batching (less padding), padded on the right
(so positions and causal attention of real tokens are exactly those of an unpadded
run) and put back in their original order afterwards.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence

import numpy as np
import torch
from torch import nn
from transformers import PreTrainedTokenizerBase

from steerspace.core.hooks import Intervention, intervening, pool, recording
from steerspace.core.memory import trims_heap
from steerspace.core.models import input_device
from steerspace.infra import ledger
from steerspace.infra.progress import progress_bar


def length_order(token_ids: Sequence[Sequence[int]]) -> np.ndarray:
    """Indices of the encoded sentences, longest first (in tokens, so that sentences of
    different scripts batch with their peers and padding is small)."""
    return np.argsort([len(ids) for ids in token_ids], kind="stable")[::-1]


def encode(
    tokenizer: PreTrainedTokenizerBase, sentences: Sequence[str], *, max_length: int
) -> list[list[int]]:
    """The token ids of every sentence (BOS included where the tokenizer adds it),
    truncated to ``max_length``."""
    return tokenizer(list(sentences), truncation=True, max_length=max_length)["input_ids"]


def _batches(
    tokenizer: PreTrainedTokenizerBase,
    token_ids: Sequence[Sequence[int]],
    *,
    batch_size: int,
    order: Sequence[int] | None = None,
):
    """Yield (original indices, right-padded encoded batch) of the encoded sentences,
    batched in ``order`` (default: :func:`length_order`)."""
    order = length_order(token_ids) if order is None else np.asarray(order)
    for start in range(0, len(order), batch_size):
        idx = order[start : start + batch_size]
        enc = tokenizer.pad(
            {"input_ids": [token_ids[i] for i in idx]},
            padding=True,
            return_tensors="pt",
            padding_side="right",
        )
        yield idx, enc


def pooling_mask(
    input_ids: torch.Tensor,
    attention_mask: torch.Tensor,
    bos_token_id: int | None,
    include_bos: bool,
) -> torch.Tensor:
    """The tokens that count when pooling: attention mask, minus BOS unless ``include_bos``."""
    mask = attention_mask.bool()
    if not include_bos and bos_token_id is not None:
        mask = mask & (input_ids != bos_token_id)
    return mask


@torch.inference_mode()
@trims_heap
def forward_pooled(
    model: nn.Module,
    tokenizer: PreTrainedTokenizerBase,
    sentences: Sequence[str],
    *,
    modules: Mapping[str, nn.Module] | None = None,
    capture: str = "input",
    pooling: str | tuple[str, ...] = "mean",
    include_bos: bool = False,
    hidden: bool = True,
    layers: bool = False,
    intervention: Intervention | None = None,
    batch_size: int = 16,
    max_length: int = 128,
    order: Sequence[int] | None = None,
    progress: bool | str = False,
) -> dict[str, np.ndarray]:
    """Run ``sentences`` through ``model`` once and pool what is asked for.

    Returns a dict with, when ``hidden``, ``"hidden"``: (n, hidden_size) pooled last
    hidden state (the output of the final norm), and for every module in ``modules``
    its pooled units (n, units), all float32 in the input order (with a tuple of
    poolings, one array per pooling and module, keyed
    :func:`steerspace.core.hooks.pooled_name`, from the one pass). With ``layers``, also
    ``"layers"``: (n, n_layers + 1, hidden_size), the pooled hidden state after the
    embedding layer and after every block; the last entry is the final-norm output,
    identical to ``"hidden"``.

    ``intervention`` is applied during the pass (post-intervention embeddings).
    ``order`` batches the sentences in that order instead of longest first (the
    batching benchmark compares the two). ``progress`` shows a progress bar (a string is used as its label).
    """
    if not sentences:
        raise ValueError("no sentences to embed; the corpus slice is empty")
    unique = list(dict.fromkeys(sentences))
    if len(unique) < len(sentences) and order is None:
        # a sentence that occurs twice (a verse repeated in a translation, an English
        # sentence in two Tatoeba files) runs once; its rows are copied back
        position = {sentence: i for i, sentence in enumerate(unique)}
        rows = np.array([position[sentence] for sentence in sentences])
        once = forward_pooled(
            model, tokenizer, unique, modules=modules, capture=capture, pooling=pooling,
            include_bos=include_bos, hidden=hidden, layers=layers, intervention=intervention,
            batch_size=batch_size, max_length=max_length, progress=progress,
        )  # fmt: skip
        return {key: value[rows] for key, value in once.items()}
    if not isinstance(pooling, str) and (hidden or layers):
        raise ValueError("several poolings at once are for module units only, not hidden states")
    modules = dict(modules or {})
    device = input_device(model)
    backbone = model.base_model  # skip the LM head: its vocabulary can be 262k wide
    out: dict[str, np.ndarray] = {}
    n = len(sentences)
    total = (n + batch_size - 1) // batch_size
    desc = progress if isinstance(progress, str) else "forward"
    token_ids = encode(tokenizer, sentences, max_length=max_length)
    with (
        ledger.entry(
            "forward",
            label=desc,
            intervention_key=None if intervention is None else intervention.key(),
            sentences=sentences,
            tokens=[len(ids) for ids in token_ids],
        ),
        intervening(model, intervention),
        recording(modules, capture=capture, pooling=pooling) as recorder,
    ):
        for idx, enc in progress_bar(
            _batches(tokenizer, token_ids, batch_size=batch_size, order=order),
            total=total,
            desc=desc,
            disable=not progress,
        ):
            enc = enc.to(device)
            recorder.mask = pooling_mask(
                enc["input_ids"], enc["attention_mask"], tokenizer.bos_token_id, include_bos
            )
            result = backbone(
                input_ids=enc["input_ids"],
                attention_mask=enc["attention_mask"],
                output_hidden_states=layers,
            )
            pooled = dict(recorder.batch)
            if hidden:
                pooled["hidden"] = pool(result.last_hidden_state, recorder.mask, pooling).cpu()
            if layers:
                pooled["layers"] = torch.stack(
                    [pool(h, recorder.mask, pooling) for h in result.hidden_states], dim=1
                ).cpu()
            for key, value in pooled.items():
                if key not in out:
                    out[key] = np.empty((n, *value.shape[1:]), dtype=np.float32)
                out[key][idx] = value.numpy()
    return out


def embed(
    model: nn.Module,
    tokenizer: PreTrainedTokenizerBase,
    sentences: Sequence[str],
    *,
    intervention: Intervention | None = None,
    pooling: str = "mean",
    include_bos: bool = False,
    batch_size: int = 16,
    max_length: int = 128,
    progress: bool | str = False,
) -> np.ndarray:
    """Sentence embeddings: the last hidden state pooled over each sentence's tokens.

    The paper's §4–§6 compare these before and after the intervention.

    Parameters
    ----------
    model, tokenizer
        A causal LM and its tokenizer, e.g. from :func:`steerspace.load_model`.
    sentences
        The sentences to embed.
    intervention
        Applied during the pass (:func:`steerspace.make_intervention`), or ``None``.
    pooling
        ``"mean"`` (the paper) or ``"max"`` over the sentence's tokens.
    include_bos, batch_size, max_length, progress
        Whether the BOS token is pooled; sentences per pass; tokens kept; a bar.

    Returns
    -------
    numpy.ndarray
        ``(len(sentences), hidden_size)`` float32.

    Examples
    --------
    >>> from steerspace import embed, load_model
    >>> model, tokenizer = load_model(model_dir)
    >>> embed(model, tokenizer, ["the dog eats", "el perro come"]).shape
    (2, 32)
    """
    return forward_pooled(
        model,
        tokenizer,
        sentences,
        intervention=intervention,
        pooling=pooling,
        include_bos=include_bos,
        batch_size=batch_size,
        max_length=max_length,
        progress=progress,
    )["hidden"]


def embed_layers(
    model: nn.Module,
    tokenizer: PreTrainedTokenizerBase,
    sentences: Sequence[str],
    *,
    intervention: Intervention | None = None,
    pooling: str = "mean",
    include_bos: bool = False,
    batch_size: int = 16,
    max_length: int = 128,
    progress: bool | str = False,
) -> np.ndarray:
    """Pooled hidden states of every layer, (n, n_layers + 1, hidden_size) float32:
    index 0 is the embedding output, index ``l`` the output of block ``l``, and the
    last index the final-norm output (= :func:`embed`)."""
    return forward_pooled(
        model,
        tokenizer,
        sentences,
        intervention=intervention,
        pooling=pooling,
        include_bos=include_bos,
        hidden=False,
        layers=True,
        batch_size=batch_size,
        max_length=max_length,
        progress=progress,
    )["layers"]


def record_activations(
    model: nn.Module,
    tokenizer: PreTrainedTokenizerBase,
    sentences: Sequence[str],
    modules: Mapping[str, nn.Module],
    *,
    capture: str = "input",
    pooling: str | tuple[str, ...] = "mean",
    include_bos: bool = False,
    batch_size: int = 16,
    max_length: int = 128,
    progress: bool | str = False,
) -> dict[str, np.ndarray]:
    """Pooled unit activations of ``modules``: module name → (n, units) float32; with
    a tuple of poolings, ``"<pooling>:<module name>"`` → array, all from one pass."""
    return forward_pooled(
        model,
        tokenizer,
        sentences,
        modules=modules,
        capture=capture,
        pooling=pooling,
        include_bos=include_bos,
        hidden=False,
        batch_size=batch_size,
        max_length=max_length,
        progress=progress,
    )

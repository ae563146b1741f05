"""Free generation, language identification and perplexity: the measurements behind
the choice of k (paper §3.3, App. B, Fig. 2).

For each number of experts k the paper samples text from the BOS token alone
(:func:`generate_free`), asks langid.py which language it is in
(:func:`language_ids`, :func:`langid_accuracy`), and measures the log-perplexity of
target-language text with a strided sliding window (:func:`perplexity`), all under
the intervention (``None`` = the original model, k = 0).
"""

from __future__ import annotations

import copy
import math
from collections.abc import Iterator, Sequence

import torch
from torch import nn
from transformers import PreTrainedTokenizerBase

from steerspace.core.hooks import Intervention, intervening
from steerspace.core.memory import trims_heap
from steerspace.core.models import input_device
from steerspace.infra import ledger
from steerspace.infra.progress import progress_bar

_LANGID: dict[tuple[str, ...] | None, object] = {}  # language set → LanguageIdentifier


# --- free generation ---------------------------------------------------------------


def _start_token(tokenizer: PreTrainedTokenizerBase) -> int:
    """BOS, or EOS for tokenizers that have no BOS (e.g. GPT-2-style models)."""
    for token_id in (tokenizer.bos_token_id, tokenizer.eos_token_id):
        if token_id is not None:
            return int(token_id)
    raise ValueError("tokenizer has neither a BOS nor an EOS token to start generation from")


#: top-k of the sampler when the model's generation config sets none (the default of
#: ``transformers.GenerationConfig``, which ``model.generate`` would apply).
DEFAULT_TOP_K = 50


def sample_next(
    logits: torch.Tensor,
    *,
    temperature: float,
    top_k: int | None,
    top_p: float,
    generator: torch.Generator,
) -> torch.Tensor:
    """Draw one token per row of ``logits`` (batch, vocabulary): temperature, then the
    ``top_k`` largest logits, then the nucleus of those (the most probable tokens whose
    mass before them is below ``top_p``; at least one), then a draw from what is left,
    renormalised. Hugging Face's warpers in the same order, computed on the k kept
    logits only instead of sorting and drawing over the whole vocabulary (262k tokens
    for Gemma-3, where the full-vocabulary sort and draw took most of the time)."""
    logits = logits.float() / temperature
    k = min(top_k or logits.size(-1), logits.size(-1))
    values, indices = torch.topk(logits, k)  # largest first
    probs = values.softmax(dim=-1)
    if top_p < 1.0:
        before = probs.cumsum(dim=-1) - probs  # mass of the more probable tokens
        probs = probs.masked_fill(before >= top_p, 0.0)
    choice = torch.multinomial(probs, 1, generator=generator)
    return indices.gather(1, choice).squeeze(1)


def _cache(out) -> dict:
    """The key-value cache of a forward pass, as the keyword the next pass takes
    (``cache`` in newer transformers 5 releases, ``past_key_values`` before)."""
    return (
        {"cache": out["cache"]} if "cache" in out else {"past_key_values": out["past_key_values"]}
    )


def _eos_ids(model: nn.Module, tokenizer: PreTrainedTokenizerBase) -> list[int]:
    eos = getattr(getattr(model, "generation_config", None), "eos_token_id", None)
    if eos is None:
        eos = tokenizer.eos_token_id
    return [int(e) for e in (eos if isinstance(eos, list | tuple) else [eos]) if e is not None]


@trims_heap
def generate_free(
    model: nn.Module,
    tokenizer: PreTrainedTokenizerBase,
    *,
    n: int,
    max_new_tokens: int = 32,
    intervention: Intervention | None = None,
    temperature: float = 1.0,
    top_p: float = 0.9,
    top_k: int | None = None,
    seed: int = 0,
    batch_size: int = 16,
    progress: bool | str = False,
) -> list[str]:
    """Sample ``n`` texts from the BOS token alone: the paper's free generation.

    Used for the choice of k (App. B): the language of these samples, under the
    intervention, is the "language ID accuracy" of Fig. 2 (top). The paper samples
    with temperature 1 and top-p 0.9; ``top_k`` (``None``: the model's generation
    config, else :data:`DEFAULT_TOP_K`, as ``model.generate`` would) comes first
    (:func:`sample_next`).

    Every prompt is the single start token, so batches need no padding, and the loop
    runs the model with its key-value cache, one token per step. The start token is
    BOS, or EOS when the tokenizer has no BOS. A sample that draws an end-of-sequence
    token stops there (later steps pad it); the batch stops when all have. Batch ``b``
    draws from a generator seeded with ``seed + b``, so the same ``(seed, batch_size)``
    gives the same samples and the global RNG is untouched. A different ``batch_size``
    gives different (equally valid) samples.

    Parameters
    ----------
    model, tokenizer : a causal LM and its tokenizer.
    n : number of samples.
    max_new_tokens : tokens generated per sample (fewer if EOS comes first).
    intervention : set during generation; ``None`` = the original model.
    temperature, top_p, top_k : sampling temperature (> 0), nucleus mass (in (0, 1])
        and number of most likely tokens considered (``None``: the model's default).
    seed : first seed; batch ``b`` uses ``seed + b``.
    batch_size : samples generated per batch.
    progress : show a progress bar (a string is used as its label).

    Returns
    -------
    list of ``n`` strings, decoded without special tokens and stripped.
    """
    if n <= 0:
        raise ValueError(f"n must be a positive integer, got {n!r}")
    if max_new_tokens <= 0:
        raise ValueError(f"max_new_tokens must be a positive integer, got {max_new_tokens!r}")
    if batch_size <= 0:
        raise ValueError(f"batch_size must be a positive integer, got {batch_size!r}")
    if not temperature > 0:
        raise ValueError(f"temperature must be > 0, got {temperature!r}")
    if not 0 < top_p <= 1:
        raise ValueError(f"top_p must be in (0, 1], got {top_p!r}")
    if top_k is None:
        top_k = getattr(getattr(model, "generation_config", None), "top_k", None) or DEFAULT_TOP_K
    if top_k <= 0:
        raise ValueError(f"top_k must be a positive integer, got {top_k!r}")
    start = _start_token(tokenizer)
    pad = tokenizer.pad_token_id if tokenizer.pad_token_id is not None else tokenizer.eos_token_id
    eos = torch.tensor(_eos_ids(model, tokenizer), dtype=torch.long)
    device = input_device(model)
    sizes = [min(batch_size, n - i) for i in range(0, n, batch_size)]
    desc = progress if isinstance(progress, str) else "generate"
    texts: list[str] = []
    with (
        ledger.entry(
            "generate",
            label=desc,
            intervention_key=None if intervention is None else intervention.key(),
            sentences=[
                f"{seed}:{batch_size}:{max_new_tokens}:{top_k}:{top_p}:{i}" for i in range(n)
            ],
            tokens=[max_new_tokens] * n,
        ),
        intervening(model, intervention),
        torch.inference_mode(),
    ):
        for b, size in enumerate(
            progress_bar(sizes, desc=desc, total=len(sizes), disable=not progress)
        ):
            tokens = torch.full((size, 1), start, dtype=torch.long, device=device)
            out = model(input_ids=tokens, use_cache=True, logits_to_keep=1)
            # draws happen where the logits are (the last shard of a sharded model)
            generator = torch.Generator(device=out.logits.device).manual_seed(seed + b)
            done = torch.zeros(size, dtype=torch.bool, device=device)
            drawn = []
            for step in range(max_new_tokens):
                nxt = sample_next(
                    out.logits[:, -1],
                    temperature=temperature,
                    top_k=top_k,
                    top_p=top_p,
                    generator=generator,
                )
                nxt = nxt.to(device).masked_fill(done, pad)
                drawn.append(nxt)
                done |= torch.isin(nxt, eos.to(device))
                if bool(done.all()) or step == max_new_tokens - 1:
                    break
                out = model(input_ids=nxt[:, None], use_cache=True, logits_to_keep=1, **_cache(out))
            ids = torch.stack(drawn, dim=1).cpu()
            texts.extend(t.strip() for t in tokenizer.batch_decode(ids, skip_special_tokens=True))
    return texts


# --- language identification --------------------------------------------------------


def _identifier(languages: Sequence[str] | None):
    """A langid.py ``LanguageIdentifier`` restricted to ``languages``, cached.

    Built from the model string once; restricted copies share its arrays. The global
    identifier behind ``langid.classify`` is never touched.
    """
    key = None if languages is None else tuple(sorted(dict.fromkeys(languages)))
    if key in _LANGID:
        return _LANGID[key]
    if None not in _LANGID:
        from langid.langid import LanguageIdentifier, model

        _LANGID[None] = LanguageIdentifier.from_modelstring(model, norm_probs=True)
    full = _LANGID[None]
    if key is None:
        return full
    known = full.nb_classes
    unknown = [code for code in key if code not in known]
    if not key or unknown:
        raise ValueError(
            f"languages must be a non-empty subset of langid.py's codes {sorted(known)}, "
            f"got {list(languages)!r}"
        )
    restricted = copy.copy(full)
    restricted.set_languages(list(key))  # rebinds the copy's arrays, not the original's
    _LANGID[key] = restricted
    return restricted


def language_ids(texts: Sequence[str], *, languages: Sequence[str] | None = None) -> list[str]:
    """The language langid.py assigns to each text (ISO 639-1 codes, e.g. ``"es"``).

    Used for the choice of k (App. B): langid.py (Lui and Baldwin, 2012) on free
    generations. Empty or whitespace-only texts get ``""``.

    Parameters
    ----------
    texts : the texts to identify.
    languages : restrict the answer to these codes (langid.py's ``set_languages``,
        on a private identifier: the global ``langid`` state is not changed);
        ``None`` = all 97 languages.
    """
    identifier = _identifier(languages)
    return [identifier.classify(t)[0] if t.strip() else "" for t in texts]


def langid_accuracy(
    texts: Sequence[str], target: str, *, languages: Sequence[str] | None = None
) -> float:
    """Share of ``texts`` that langid.py identifies as ``target`` (Fig. 2, top).

    Used for the choice of k (App. B). Empty texts count as wrong. ``languages``
    restricts the identifier as in :func:`language_ids` and must include ``target``.
    """
    if len(texts) == 0:
        raise ValueError("texts must be a non-empty sequence of strings, got 0 texts")
    allowed = _identifier(languages).nb_classes
    if target not in allowed:
        raise ValueError(f"target must be one of {sorted(allowed)}, got {target!r}")
    ids = language_ids(texts, languages=languages)
    return sum(i == target for i in ids) / len(ids)


# --- perplexity -----------------------------------------------------------------------


def _windows(n_tokens: int, window: int, stride: int) -> list[tuple[int, int, int]]:
    """The strided sliding windows: (begin, end, predicted tokens at the window's end).

    As in the Hugging Face recipe "perplexity of fixed-length models": each token
    after the first is predicted exactly once, with as much context as the window
    allows. The first window predicts all its tokens but the first. With
    ``stride == window`` the windows do not overlap and the first token of each
    window, having no context, is not scored (as in the recipe).
    """
    spans = []
    prev_end = 0
    for begin in range(0, n_tokens, stride):
        end = min(begin + window, n_tokens)
        # the window's first token has no context inside it: never scored (stride == window)
        spans.append((begin, end, min(end - prev_end, end - begin - 1)))
        prev_end = end
        if end == n_tokens:
            break
    return spans


def _groups(
    spans: list[tuple[int, int, int]], batch_size: int
) -> Iterator[list[tuple[int, int, int]]]:
    """Consecutive windows of equal length and equal number of predicted tokens, in
    batches of at most ``batch_size`` (the first and the last window go alone)."""
    group: list[tuple[int, int, int]] = []
    for span in spans:
        same = group and (span[1] - span[0], span[2]) == (group[0][1] - group[0][0], group[0][2])
        if group and (not same or len(group) == batch_size):
            yield group
            group = []
        group.append(span)
    if group:
        yield group


#: positions per LM-head and cross-entropy call in :func:`perplexity` (a last block of
#: fewer joins the one before it): its logits are this many rows (67 MB at a 262k
#: vocabulary), not a whole window's (0.54 GB for the first 512-token window)
NLL_ROWS = 64


def _token_nll(logits: torch.Tensor, targets: torch.Tensor) -> torch.Tensor:
    """Cross-entropy of every position, ``NLL_ROWS`` positions at a time (views of
    ``logits``, no copy of the whole), in row order: per row the same values as one call
    on all rows (rows are independent)."""
    return torch.cat(
        [
            nn.functional.cross_entropy(
                logits[b, i : i + NLL_ROWS].float(), targets[b, i : i + NLL_ROWS], reduction="none"
            )
            for b in range(logits.shape[0])
            for i in range(0, logits.shape[1], NLL_ROWS)
        ]
    )


def row_blocks(n: int, size: int = NLL_ROWS) -> list[slice]:
    """``n`` rows in blocks of ``size``; a last block shorter than ``size`` joins the one
    before (so every block has at least ``size`` rows when ``n`` does: a BLAS call on a
    few rows can round differently from one on many)."""
    starts = list(range(0, n, size))
    if len(starts) > 1 and n - starts[-1] < size:
        starts.pop()
    return [slice(a, b) for a, b in zip(starts, [*starts[1:], n], strict=True)]


def logits_head(model: nn.Module, probe: torch.Tensor):
    """The model's map from its last hidden states to its logits, as a function, or
    ``None`` when it cannot be rebuilt exactly.

    The head is the output embedding followed by the scalings that ``transformers``
    models apply (Cohere's ``logit_scale``, Granite's ``logits_scaling``, Gemma's
    ``final_logit_softcapping``). It is checked on ``probe`` (a few token ids, shape
    (1, n)): the model's own logits and the head's on the backbone's hidden states must be
    equal to the last bit, else ``None`` (:func:`perplexity` then takes the whole
    logits from the model)."""
    output = model.get_output_embeddings() if hasattr(model, "get_output_embeddings") else None
    if output is None:
        return None
    config = model.config
    scale = getattr(config, "logit_scale", None)
    divide = getattr(config, "logits_scaling", None)
    cap = getattr(config, "final_logit_softcapping", None)

    def head(hidden: torch.Tensor) -> torch.Tensor:
        logits = output(hidden)
        if scale is not None:
            logits = logits * scale
        if divide is not None:
            logits = logits / divide
        if cap is not None:
            logits = torch.tanh(logits / cap) * cap
        return logits

    whole = model(input_ids=probe, use_cache=False).logits
    hidden = model.base_model(input_ids=probe, use_cache=False).last_hidden_state
    rebuilt = head(hidden)
    return head if rebuilt.shape == whole.shape and torch.equal(rebuilt, whole) else None


@trims_heap
def perplexity(
    model: nn.Module,
    tokenizer: PreTrainedTokenizerBase,
    texts: Sequence[str],
    *,
    intervention: Intervention | None = None,
    window: int = 512,
    stride: int = 256,
    batch_size: int = 8,
    progress: bool | str = False,
) -> dict[str, float]:
    """Log-perplexity of ``texts`` under the (intervened) model (Fig. 2, bottom).

    Used for the choice of k (App. B). The texts are joined with ``"\\n"`` and
    tokenized once (BOS once at the start, if the tokenizer adds one); a window of
    ``window`` tokens slides by ``stride`` and each window scores only its last
    tokens, the ones earlier windows did not score (Hugging Face's strided recipe).
    Windows of equal shape go through the backbone together; the LM head
    (:func:`logits_head`) then runs on the scored positions only, :data:`NLL_ROWS` at a
    time, so the logits never take more than a block's memory. This gives the same NLL
    as ``model(input_ids, labels=...)`` with ``-100`` on the context, weighted by the
    number of predicted tokens. A model whose head cannot be rebuilt exactly gets its
    whole logits of the scored positions from ``model(..., logits_to_keep=...)``.

    Parameters
    ----------
    model, tokenizer : a causal LM and its tokenizer.
    texts : target-language text (e.g. Wikipedia paragraphs).
    intervention : set during the passes; ``None`` = the original model.
    window : context length in tokens (the paper: the model's maximum input size);
        at most the model's ``max_position_embeddings``.
    stride : tokens the window advances (the paper: 512), 1 ≤ stride ≤ window. With
        ``stride < window`` every token after the first is scored exactly once; with
        ``stride == window`` the first token of each window is not scored.
    batch_size : windows per forward pass.
    progress : show a progress bar (a string is used as its label).

    Returns
    -------
    dict with ``log_ppl`` (mean NLL per predicted token, nats), ``ppl``
    (``exp(log_ppl)``), ``n_tokens`` (number of predicted tokens) and ``token_nll`` (the
    NLL of every predicted token in text order, for intervals by resampling blocks of
    tokens, :func:`steerspace.metrics.inference.block_bootstrap_delta`).
    """
    if len(texts) == 0:
        raise ValueError("texts must be a non-empty sequence of strings, got 0 texts")
    if window < 2:
        raise ValueError(f"window must be an integer >= 2, got {window!r}")
    max_pos = getattr(getattr(model, "config", None), "max_position_embeddings", None)
    if max_pos is not None and window > max_pos:
        raise ValueError(f"window must be <= max_position_embeddings={max_pos}, got {window!r}")
    if not 1 <= stride <= window:
        raise ValueError(f"stride must be in [1, window={window}], got {stride!r}")
    if batch_size <= 0:
        raise ValueError(f"batch_size must be a positive integer, got {batch_size!r}")
    # verbose=False: a corpus longer than model_max_length is expected here
    ids = tokenizer("\n".join(texts), return_tensors="pt", verbose=False)["input_ids"][0]
    if len(ids) < 2:
        raise ValueError(f"texts must give at least 2 tokens to score, got {len(ids)}")
    device = input_device(model)
    ids = ids.to(device)
    spans = _windows(len(ids), window, stride)
    groups = list(_groups(spans, batch_size))
    desc = progress if isinstance(progress, str) else "perplexity"
    token_nll: list[torch.Tensor] = []
    with (
        ledger.entry(
            "perplexity",
            label=desc,
            intervention_key=None if intervention is None else intervention.key(),
            sentences=[f"{window}:{stride}:" + "\n".join(texts)],
            tokens=[sum(end - begin for begin, end, _ in spans)],
        ),
        intervening(model, intervention),
        torch.inference_mode(),
    ):
        head = logits_head(model, ids[None, : min(len(ids), 8)])
        for group in progress_bar(groups, desc=desc, total=len(groups), disable=not progress):
            k = group[0][2]  # predicted tokens per window
            batch = torch.stack([ids[begin:end] for begin, end, _ in group])
            targets = batch[:, -k:]
            if head is None:  # the model's whole logits of the scored positions
                logits = model(input_ids=batch, logits_to_keep=k + 1).logits[:, -(k + 1) : -1]
                token_nll.append(_token_nll(logits, targets).double().cpu())
                continue
            # the backbone once, then the head a block of positions at a time
            hidden = model.base_model(input_ids=batch, use_cache=False).last_hidden_state
            hidden = hidden[:, -(k + 1) : -1]
            token_nll.append(
                torch.cat(
                    [
                        nn.functional.cross_entropy(
                            head(hidden[b, rows]).float(), targets[b, rows], reduction="none"
                        )
                        for b in range(len(group))
                        for rows in row_blocks(k)
                    ]
                )
                .double()
                .cpu()
            )
    nll = torch.cat(token_nll)
    n_pred = int(nll.numel())
    assert n_pred == sum(span[2] for span in spans), (n_pred, len(ids))
    log_ppl = float(nll.sum()) / n_pred
    return {
        "log_ppl": log_ppl,
        "ppl": math.exp(log_ppl),
        "n_tokens": n_pred,
        "token_nll": [round(float(v), 5) for v in nll],
    }

"""The embedded model's tied embedding kept as Q8_0 blocks: a kernel under 2 GB.

The embedded model's GGUF stores its 262k × 640 embedding, which Gemma ties to the LM
head, as Q8_0: each run of 32 weights is one float16 scale ``d`` and 32 int8 codes ``q``,
the weight being ``d · q``. The conversion to safetensors writes those products in
float32 (0.67 GB); kept as codes and scales they take 0.19 GB. :func:`store_embedding_q8`
recovers the blocks from the float32 file (the largest weight of a block has ``|q| = 127``,
so ``d`` is that weight over 127, exactly) and checks that they give back every float32
weight bit for bit, then puts in the model's place:

- :class:`Q8Embedding`, the input embedding: the rows of the looked-up ids, dequantised
  (``float32(q) · float32(d)``: one rounding, as the conversion made them), so every input
  embedding is the float matrix's, bit for bit;
- :class:`Q8Head`, the LM head: the logits a block of :data:`HEAD_ROWS` vocabulary rows at
  a time, each block dequantised in one pass into a buffer that stays in cache for its
  matmul. A block's logits are the products of the float matrix's rows; whether they
  equal the whole matrix's product to the last bit depends on the BLAS: on the AVX512
  MKL path they do, under AVX2 MKL some are summed in another order (differences of
  about 1e-5 in logits of size 10 to 30; tests/core/test_q8_embedding.py states the
  tolerance).

The config key ``embedding_storage: q8_0`` turns it on (the ``classroom`` config, which
Binder and Colab run). The dequantisation costs each LM-head call a pass over the
vocabulary: on 2 AVX2 cores, 16 tokens of 8 free generations took 2.6-2.8 s against
2.3-2.5 s with the float head, and perplexity within its run-to-run noise
(``bench/classroom.py`` measures the chapters).
"""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import torch
from torch import nn

#: Weights per Q8_0 block (one scale each), as GGUF defines the type.
BLOCK = 32
#: The largest code of a Q8_0 block: the quantiser scales a block's largest weight to it.
QMAX = 127
#: Vocabulary rows per block of the LM head (2.6 MB of float32 at width 640: the
#: dequantised block stays in cache for its matmul).
HEAD_ROWS = 1024


class Q8Rows(nn.Module):
    """A (vocabulary, width) matrix as int8 ``codes`` and one float32 ``scale`` per
    :data:`BLOCK` weights of a row; shared by the input embedding and the head."""

    def __init__(self, codes: torch.Tensor, scales: torch.Tensor, dtype: torch.dtype) -> None:
        super().__init__()
        if codes.dtype != torch.int8 or codes.shape[1] != scales.shape[1] * BLOCK:
            raise ValueError(
                f"codes {tuple(codes.shape)} do not match scales {tuple(scales.shape)}"
            )
        self.codes = nn.Buffer(codes, persistent=False)
        self.scales = nn.Buffer(scales.float(), persistent=False)
        self.dtype = dtype

    @property
    def shape(self) -> torch.Size:
        return self.codes.shape

    def rows(self, index: torch.Tensor | slice) -> torch.Tensor:
        """The dequantised rows at ``index`` (ids of any shape, or a slice), in the
        model's dtype: bit for bit the float matrix's rows."""
        codes, scales = self.codes[index], self.scales[index]
        blocks = codes.reshape(*codes.shape[:-1], -1, BLOCK).float() * scales[..., None]
        return blocks.reshape(codes.shape).to(self.dtype)


class Q8Embedding(nn.Module):
    """The input embedding over :class:`Q8Rows`, times the model's ``embed_scale`` where
    it has one (Gemma scales its embeddings by the square root of the width)."""

    def __init__(self, rows: Q8Rows, embed_scale: torch.Tensor | None) -> None:
        super().__init__()
        self.table = rows
        self.embed_scale = None if embed_scale is None else nn.Buffer(embed_scale, persistent=False)
        self.num_embeddings, self.embedding_dim = rows.shape

    def forward(self, input_ids: torch.Tensor) -> torch.Tensor:
        embedded = self.table.rows(input_ids)
        if self.embed_scale is None:
            return embedded
        return embedded * self.embed_scale.to(embedded.dtype)


class Q8Head(nn.Module):
    """The LM head over :class:`Q8Rows`: ``hidden @ Wᵀ``, :data:`HEAD_ROWS` vocabulary
    rows at a time."""

    def __init__(self, rows: Q8Rows) -> None:
        super().__init__()
        self.table = rows
        self.out_features, self.in_features = rows.shape

    def forward(self, hidden: torch.Tensor) -> torch.Tensor:
        table, width = self.table, self.in_features
        flat = hidden.reshape(-1, width)
        logits = flat.new_empty(flat.shape[0], self.out_features)
        rows = min(HEAD_ROWS, self.out_features)
        block = torch.empty(rows, width // BLOCK, BLOCK, dtype=torch.float32, device=flat.device)
        for start in range(0, self.out_features, rows):
            stop = min(start + rows, self.out_features)
            weights = block[: stop - start]
            # one pass: float32(q) · d, the products of Q8Rows.rows, into a reused block
            torch.mul(
                table.codes[start:stop].view(-1, width // BLOCK, BLOCK),
                table.scales[start:stop, :, None],
                out=weights,
            )
            weights = weights.view(-1, width).to(flat.dtype)
            torch.mm(flat, weights.T, out=logits[:, start:stop])
        return logits.reshape(*hidden.shape[:-1], self.out_features)


def q8_blocks(weights: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
    """The Q8_0 ``(codes, scales)`` that give back ``weights`` (float32, rows a multiple
    of :data:`BLOCK` wide) bit for bit.

    Raises
    ------
    ValueError
        ``weights`` are not Q8_0 blocks (not every weight is its block's scale times an
        integer code in [-127, 127]).
    """
    if weights.dtype != torch.float32 or weights.shape[-1] % BLOCK:
        raise ValueError(
            f"Q8_0 blocks need float32 rows a multiple of {BLOCK} wide, "
            f"got {weights.dtype} {tuple(weights.shape)}"
        )
    blocks = weights.reshape(*weights.shape[:-1], -1, BLOCK)
    scales = blocks.abs().amax(-1) / QMAX
    codes = (blocks / scales.clamp_min(torch.finfo(torch.float32).tiny)[..., None]).round()
    if codes.abs().max() > QMAX or not torch.equal(codes * scales[..., None], blocks):
        raise ValueError("these weights are not Q8_0 blocks (not every block is scale × int8)")
    return codes.to(torch.int8).reshape(weights.shape), scales


def read_rows(weights_file: Path, name: str, start: int, stop: int) -> torch.Tensor:
    """Rows ``start:stop`` of the float32 matrix ``name`` in a safetensors file, read
    from the file (not memory-mapped, so no page of it stays in this process)."""
    with open(weights_file, "rb") as f:
        header = int.from_bytes(f.read(8), "little")
        entry = json.loads(f.read(header))[name]
        if entry["dtype"] != "F32" or len(entry["shape"]) != 2:
            raise ValueError(f"{name} is {entry['dtype']} {entry['shape']}, not a float32 matrix")
        n_rows, width = entry["shape"]
        stop = min(stop, n_rows)
        f.seek(8 + header + entry["data_offsets"][0] + start * width * 4)
        rows = np.fromfile(f, dtype="<f4", count=(stop - start) * width)
    return torch.from_numpy(rows.reshape(stop - start, width))


def store_embedding_q8(model: nn.Module, weights_file: Path, *, rows_per_read: int = 16384) -> None:
    """Replace ``model``'s tied input embedding and LM head by :class:`Q8Embedding` and
    :class:`Q8Head` over the Q8_0 blocks of its embedding, read from ``weights_file``
    (safetensors) a slice at a time, so the float32 matrix is never resident whole.

    Raises
    ------
    ValueError
        The model does not tie its head to its input embedding, or the embedding is not
        Q8_0 blocks (only the embedded model's is).
    """
    embedding, head = model.get_input_embeddings(), model.get_output_embeddings()
    if head is None or head.weight is not embedding.weight:
        raise ValueError(
            "embedding_storage q8_0 needs a model whose LM head is tied to its embedding"
        )
    name = next(n for n, p in model.named_parameters() if p is embedding.weight)
    dtype = embedding.weight.dtype
    n_rows, width = embedding.weight.shape
    rows = Q8Rows(
        torch.empty(n_rows, width, dtype=torch.int8), torch.empty(n_rows, width // BLOCK), dtype
    )
    for start in range(0, n_rows, rows_per_read):
        codes, scales = q8_blocks(read_rows(weights_file, name, start, start + rows_per_read))
        rows.codes[start : start + len(codes)] = codes
        rows.scales[start : start + len(codes)] = scales
    rows = rows.to(embedding.weight.device)
    model.set_input_embeddings(Q8Embedding(rows, getattr(embedding, "embed_scale", None)))
    model.set_output_embeddings(Q8Head(rows))

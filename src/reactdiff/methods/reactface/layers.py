"""ReactFace's attention: the stepped-ALiBi causal bias, a post-LN decoder layer that attends to
the past through a key/value cache (so a stream is encoded once, frame by frame, in linear time),
and the positional encodings.

Every layer here is causal per frame: the output at frame t depends on inputs at frames <= t and
no further back than ``context`` frames. The whole-sequence call and the chunk-by-chunk call with
a carried cache therefore compute the same function.
"""

from __future__ import annotations

import math

import torch
import torch.nn.functional as F
from torch import nn

#: Queries per block when a long sequence is attended at once: bounds the (heads, block, keys)
#: bias tensor instead of materialising a (T, T) one.
QUERY_BLOCK = 256


def alibi_slopes(num_heads: int) -> torch.Tensor:
    """m_h = 2^(-8 (h + 1) / H): 1/2 ... 1/256 for 8 heads (``init_biased_mask`` of the original)."""
    return torch.tensor([2.0 ** (-8.0 * (h + 1) / num_heads) for h in range(num_heads)])


def alibi_bias(query_start: int, num_queries: int, key_start: int, num_keys: int, slopes: torch.Tensor,
               period: int, context: int) -> torch.Tensor:
    """(H, Lq, Lk) additive bias between absolute frame positions: -m_h * floor((i - j) / period)
    for keys j <= i (and i - j < context when context > 0), -inf otherwise."""
    device = slopes.device
    queries = torch.arange(query_start, query_start + num_queries, device=device)
    keys = torch.arange(key_start, key_start + num_keys, device=device)
    distance = queries[:, None] - keys[None, :]
    bias = -slopes[:, None, None] * torch.div(distance, period, rounding_mode="floor").clamp_min(0)
    allowed = distance >= 0
    if context > 0:
        allowed &= distance < context
    return bias.masked_fill(~allowed, float("-inf"))


def sinusoid_table(positions: torch.Tensor, dim: int) -> torch.Tensor:
    """The standard table (sin on even channels, cos on odd, base 10^4) at ``positions``: (L, dim)."""
    channels = torch.arange(0, dim, 2, device=positions.device, dtype=torch.float32)
    angles = positions.float()[:, None] * torch.exp(-math.log(10000.0) * channels / dim)
    table = torch.zeros(len(positions), dim, device=positions.device)
    table[:, 0::2] = torch.sin(angles)
    table[:, 1::2] = torch.cos(angles[:, : dim // 2])
    return table


class CachedAttention(nn.Module):
    """Multi-head attention with the stepped-ALiBi causal bias over absolute frame positions.

    ``forward(x, memory, start, cache)``: queries from ``x`` (frames start..start+L-1), keys and
    values from ``memory`` at the same frames plus those held in ``cache`` (the projected keys and
    values of up to ``context - 1`` earlier frames). Returns the output and the updated cache.
    """

    def __init__(self, dim: int, num_heads: int, period: int, context: int, dropout: float):
        super().__init__()
        self.num_heads, self.period, self.context, self.dropout = num_heads, period, context, dropout
        self.query, self.key, self.value, self.out = (nn.Linear(dim, dim) for _ in range(4))
        self.register_buffer("slopes", alibi_slopes(num_heads), persistent=False)

    def _heads(self, x: torch.Tensor) -> torch.Tensor:
        batch, frames, width = x.shape
        return x.view(batch, frames, self.num_heads, width // self.num_heads).transpose(1, 2)

    def forward(self, x: torch.Tensor, memory: torch.Tensor, start: int, cache: tuple | None = None):
        q, k, v = self._heads(self.query(x)), self._heads(self.key(memory)), self._heads(self.value(memory))
        if cache is not None:
            k, v = torch.cat([cache[0], k], dim=2), torch.cat([cache[1], v], dim=2)
        key_start = start + x.shape[1] - k.shape[2]
        dropout = self.dropout if self.training else 0.0
        outputs = []
        for block in range(0, x.shape[1], QUERY_BLOCK):
            block_start, block_len = start + block, min(QUERY_BLOCK, x.shape[1] - block)
            # Keys this block can reach: from (first query - context + 1) to its last query.
            lo = 0 if self.context <= 0 else max(0, block_start - self.context + 1 - key_start)
            hi = block_start + block_len - key_start
            bias = alibi_bias(block_start, block_len, key_start + lo, hi - lo, self.slopes, self.period, self.context)
            outputs.append(F.scaled_dot_product_attention(
                q[:, :, block : block + block_len], k[:, :, lo:hi], v[:, :, lo:hi], attn_mask=bias.to(q.dtype), dropout_p=dropout,
            ))
        out = torch.cat(outputs, dim=2).transpose(1, 2).reshape(x.shape)
        keep = k.shape[2] if self.context <= 0 else self.context - 1
        return self.out(out), (k[:, :, -keep:] if keep else k[:, :, :0], v[:, :, -keep:] if keep else v[:, :, :0])


class AlignedAttention(nn.Module):
    """Cross-attention in which frame t sees only memory token t (the original's alignment mask
    with one audio token per frame). Softmax over one key is 1, so it is the value projection of
    that token through the output projection; the query and key projections of a full attention
    could not change anything and are left out (2F^2 + 2F parameters fewer than the original)."""

    def __init__(self, dim: int):
        super().__init__()
        self.value, self.out = nn.Linear(dim, dim), nn.Linear(dim, dim)

    def forward(self, x: torch.Tensor, memory: torch.Tensor) -> torch.Tensor:
        return self.out(self.value(memory))


class CausalDecoderLayer(nn.Module):
    """``nn.TransformerDecoderLayer`` (post-LN, ReLU) with causal stepped-ALiBi self-attention and
    a cross-attention that is causal over a frame-aligned memory (``cross="causal"``) or sees only
    the memory token of its own frame (``cross="aligned"``)."""

    def __init__(self, dim: int, num_heads: int, ff_dim: int, dropout: float, period: int, context: int, cross: str):
        super().__init__()
        self.self_attn = CachedAttention(dim, num_heads, period, context, dropout)
        self.cross_attn = CachedAttention(dim, num_heads, period, context, dropout) if cross == "causal" else AlignedAttention(dim)
        self.feedforward = nn.Sequential(nn.Linear(dim, ff_dim), nn.ReLU(), nn.Dropout(dropout), nn.Linear(ff_dim, dim))
        self.norms = nn.ModuleList(nn.LayerNorm(dim) for _ in range(3))
        self.drop = nn.Dropout(dropout)

    def forward(self, x: torch.Tensor, memory: torch.Tensor, start: int = 0, cache: dict | None = None):
        """x, memory: (B, L, F) at frames start..start+L-1 -> (output, new cache)."""
        cache = cache or {}
        attended, self_cache = self.self_attn(x, x, start, cache.get("self"))
        x = self.norms[0](x + self.drop(attended))
        new_cache = {"self": self_cache}
        if isinstance(self.cross_attn, CachedAttention):
            attended, new_cache["cross"] = self.cross_attn(x, memory, start, cache.get("cross"))
        else:
            attended = self.cross_attn(x, memory)
        x = self.norms[1](x + self.drop(attended))
        x = self.norms[2](x + self.drop(self.feedforward(x)))
        return x, new_cache

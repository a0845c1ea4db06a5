"""Small building blocks shared by the ReactDiff networks."""

from __future__ import annotations

import math

import torch
from torch import nn


def sinusoidal_embedding(positions: torch.Tensor, dim: int, max_period: float = 10000.0) -> torch.Tensor:
    """Transformer sinusoidal features (Vaswani et al. 2017) of integer or real ``positions``.

    Used both for frame positions and diffusion timesteps: (...,) -> (..., dim).
    """
    # Geometric frequencies from 1 to 1 / max_period, cos and sin halves (odd dims padded with 0).
    half = dim // 2
    frequencies = torch.exp(
        -math.log(max_period) * torch.arange(half, device=positions.device, dtype=torch.float32) / half
    )
    angles = positions.float()[..., None] * frequencies
    embedding = torch.cat([torch.cos(angles), torch.sin(angles)], dim=-1)
    if dim % 2:
        embedding = torch.cat([embedding, torch.zeros_like(embedding[..., :1])], dim=-1)
    return embedding


def split_heads(x: torch.Tensor, num_heads: int) -> torch.Tensor:
    """(B, tokens, width) -> (B, heads, tokens, width / heads), the layout :func:`attention` takes (a view)."""
    batch, tokens, width = x.shape
    return x.reshape(batch, tokens, num_heads, width // num_heads).transpose(1, 2)


def attention(query: torch.Tensor, key: torch.Tensor, value: torch.Tensor) -> torch.Tensor:
    """Multi-head attention over (B, heads, tokens, head_dim) tensors, no mask.

    On CPUs an explicit softmax(Q K^T / sqrt(d)) V beats the fused kernel on the denoiser's short
    token sequences (measured: 0.64 ms against 2.3 ms for 150 windows x 4 heads x 10 queries x 20
    keys on 2 cores); elsewhere PyTorch's fused scaled_dot_product_attention wins.
    """
    if query.device.type == "cpu":
        weights = (query @ key.transpose(-1, -2)) * query.shape[-1] ** -0.5
        return weights.softmax(dim=-1) @ value
    return torch.nn.functional.scaled_dot_product_attention(query, key, value)


def mlp(in_dim: int, hidden_dim: int, out_dim: int) -> nn.Sequential:
    """Linear, LayerNorm, SiLU, Linear: the head shape the reference uses everywhere."""
    return nn.Sequential(
        nn.Linear(in_dim, hidden_dim), nn.LayerNorm(hidden_dim), nn.SiLU(), nn.Linear(hidden_dim, out_dim)
    )


def group_count(channels: int, preferred: int = 32) -> int:
    """Largest group count <= ``preferred`` that divides ``channels`` (GroupNorm needs a divisor)."""
    return math.gcd(channels, preferred)


class ContextChunks:
    """Cut (B, T, D) sequences into attention contexts of ``context`` frames and stitch them back.

    Attention inside a chunk only, so an output frame never depends on frames of another chunk:
    with one window per chunk, online generation never sees the future. When ``T`` is not a
    multiple of ``context`` the last chunk is the last ``context`` frames (it overlaps the one
    before) and only its new frames are kept, so no padding masks are needed.
    """

    def __init__(self, num_frames: int, context: int):
        self.num_frames = num_frames
        # 0 (or a context longer than the clip) means one chunk spanning the whole sequence.
        self.context = num_frames if context <= 0 or context >= num_frames else context
        self.num_chunks = math.ceil(num_frames / self.context)
        self.remainder = num_frames - (self.num_chunks - 1) * self.context

    def split(self, x: torch.Tensor) -> torch.Tensor:
        """(B, T, D) -> (B * num_chunks, context, D)."""
        batch, _, dim = x.shape
        if self.remainder == self.context:
            return x.reshape(batch * self.num_chunks, self.context, dim)
        head = x[:, : (self.num_chunks - 1) * self.context].reshape(batch, self.num_chunks - 1, self.context, dim)
        tail = x[:, -self.context :].unsqueeze(1)
        return torch.cat([head, tail], dim=1).reshape(batch * self.num_chunks, self.context, dim)

    def merge(self, chunks: torch.Tensor) -> torch.Tensor:
        """(B * num_chunks, context, D) -> (B, T, D)."""
        dim = chunks.shape[-1]
        chunks = chunks.reshape(-1, self.num_chunks, self.context, dim)
        if self.remainder == self.context:
            return chunks.reshape(chunks.shape[0], self.num_frames, dim)
        head = chunks[:, :-1].reshape(chunks.shape[0], -1, dim)
        return torch.cat([head, chunks[:, -1, self.context - self.remainder :]], dim=1)

"""REGNN's perceptual processor: the MulT cross-modal transformer (Tsai et al., 2019) as the
original configures it.

Video frames (queries) cross-attend to audio frames through one MulT encoder, a second encoder
self-attends over the result, and a residual head maps every frame to ``out_dim`` features. MulT
layers are pre-LN (one LayerNorm shared by the queries and the keys/values of a layer), take their
inputs scaled by sqrt(width) plus fairseq's sinusoidal positions 1..N, and end with a LayerNorm.
Attention is bidirectional within the window: the model is offline.
"""

from __future__ import annotations

import math

import torch
import torch.nn.functional as F
from torch import nn

from reactdiff.methods.regnn.config import PerceptualConfig


def fairseq_positions(length: int, width: int, device: torch.device) -> torch.Tensor:
    """fairseq's sinusoidal table for positions 1..length: (length, width), [sin | cos] halves with
    frequencies 10000^(-i / (half - 1)). (MulT's table; ``reactdiff.nn.layers.sinusoidal_embedding``
    is the [cos | sin], 10000^(-i / half) variant ReactDiff uses.)"""
    half = width // 2
    frequencies = torch.exp(torch.arange(half, device=device, dtype=torch.float32) * -(math.log(10000.0) / max(half - 1, 1)))
    angles = torch.arange(1, length + 1, device=device, dtype=torch.float32)[:, None] * frequencies[None]
    table = torch.cat([torch.sin(angles), torch.cos(angles)], dim=1)
    if width % 2:
        table = torch.cat([table, torch.zeros_like(table[:, :1])], dim=1)
    return table


class MultLayer(nn.Module):
    """One pre-LN MulT layer: (cross- or self-) attention, then a ReLU feed-forward block."""

    def __init__(self, config: PerceptualConfig):
        super().__init__()
        width = config.width
        self.attention = nn.MultiheadAttention(width, config.heads, dropout=config.attn_dropout, batch_first=True)
        self.fc1 = nn.Linear(width, config.ff_mult * width)
        self.fc2 = nn.Linear(config.ff_mult * width, width)
        # MulT normalises the queries and the keys/values of a layer with the same LayerNorm.
        self.norm_attention = nn.LayerNorm(width)
        self.norm_ff = nn.LayerNorm(width)
        self.relu_dropout = config.relu_dropout
        self.res_dropout = config.res_dropout

    def forward(self, x: torch.Tensor, key: torch.Tensor | None = None, value: torch.Tensor | None = None) -> torch.Tensor:
        query = self.norm_attention(x)
        if key is None:
            key = value = query
        else:
            key, value = self.norm_attention(key), self.norm_attention(value)
        attended, _ = self.attention(query, key, value, need_weights=False)
        x = x + F.dropout(attended, self.res_dropout, self.training)
        hidden = F.dropout(F.relu(self.fc1(self.norm_ff(x))), self.relu_dropout, self.training)
        return x + F.dropout(self.fc2(hidden), self.res_dropout, self.training)


class MultEncoder(nn.Module):
    """MulT's TransformerEncoder: scale, positions and dropout on every input, layers, final LN."""

    def __init__(self, config: PerceptualConfig, layers: int):
        super().__init__()
        self.layers = nn.ModuleList(MultLayer(config) for _ in range(layers))
        self.norm = nn.LayerNorm(config.width)
        self.width = config.width
        self.embed_dropout = config.embed_dropout

    def embed(self, x: torch.Tensor) -> torch.Tensor:
        x = math.sqrt(self.width) * x + fairseq_positions(x.shape[1], self.width, x.device)
        return F.dropout(x, self.embed_dropout, self.training)

    def forward(self, x: torch.Tensor, context: torch.Tensor | None = None) -> torch.Tensor:
        """(B, T, width) -> (B, T, width); ``context`` (B, S, width): keys and values to attend to
        (embedded twice, as MulT does for its key and value inputs: independent dropout masks)."""
        x = self.embed(x)
        key = value = None
        if context is not None:
            key, value = self.embed(context), self.embed(context)
        for layer in self.layers:
            x = layer(x, key, value)
        return self.norm(x)


class PerceptualProcessor(nn.Module):
    """(video (B, T, Dv), audio (B, T, Da)) -> (B, T, out_dim) per-frame features."""

    def __init__(self, video_dim: int, audio_dim: int, config: PerceptualConfig):
        super().__init__()
        width = config.width
        # Kernel-1 convolutions without bias, as the original's proj_v. The original skips proj_a
        # (VGGish is already 128-d) and leaves it dead; here it projects the audio streams.
        self.project_video = nn.Conv1d(video_dim, width, kernel_size=1, bias=False)
        self.project_audio = nn.Conv1d(audio_dim, width, kernel_size=1, bias=False)
        self.video_with_audio = MultEncoder(config, config.cross_layers)
        self.self_attention = MultEncoder(config, config.self_layers)
        self.proj1 = nn.Linear(width, width)
        self.proj2 = nn.Linear(width, width)
        self.out_layer = nn.Linear(width, config.out_dim)

    def forward(self, video: torch.Tensor, audio: torch.Tensor) -> torch.Tensor:
        video = self.project_video(video.transpose(1, 2)).transpose(1, 2)
        audio = self.project_audio(audio.transpose(1, 2)).transpose(1, 2)
        hidden = self.self_attention(self.video_with_audio(video, audio))
        # The residual head (its dropout is 0 in the original).
        hidden = hidden + self.proj2(F.relu(self.proj1(hidden)))
        return self.out_layer(hidden)

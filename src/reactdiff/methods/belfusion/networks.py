"""BeLFusion's two networks: the windowed emotion VAE (DLow-style GRUs, ``AutoencoderRNN_VAE_v2``
with its ``coeff_reg`` head) and the ``MLPSkipNet`` denoiser of the latent diffusion.

Sizes and layer order follow /work/shared/spec/PEER_MODELS.md section 2 (read from the REACT 2024
baseline); the ``original`` preset reproduces its parameter counts exactly (242,579 + 12,300,928).
"""

from __future__ import annotations

import math

import torch
from torch import nn

from reactdiff.methods.belfusion.config import DenoiserConfig, VAEConfig


class EmotionVAE(nn.Module):
    """VAE of one window of emotion (N, W, D) -> latent (N, latent_dim) -> emotion (N, W, D).

    Encoder: a GRU over the window from a zero state; its last state h gives mu and log sigma^2.
    Decoder: z -> h_y, then a GRU cell fed [h_y, y_{t-1}] (y_0 = 0) and an MLP with tanh writes
    y_t, autoregressively on its own outputs. ``coeff_reg`` maps each decoded emotion frame to 58
    FaceVerse coefficients.
    """

    def __init__(self, config: VAEConfig, emotion_dim: int, coeffs_dim: int):
        super().__init__()
        self.config = config
        hidden = config.hidden_dim
        # nn.GRU over the whole window has the parameters of the original's GRUCell and runs as one call.
        self.encoder = nn.GRU(emotion_dim, hidden, batch_first=True)
        self.mu = nn.Linear(hidden, config.latent_dim)
        self.logvar = nn.Linear(hidden, config.latent_dim)
        self.fc_z_dec = nn.Linear(config.latent_dim, hidden)
        self.decoder = nn.GRUCell(hidden + emotion_dim, hidden)
        layers: list[nn.Module] = []
        width = hidden
        for dim in config.mlp_dims:
            layers += [nn.Linear(width, dim), nn.Tanh()]
            width = dim
        self.decoder_mlp = nn.Sequential(*layers)
        self.output = nn.Linear(width, emotion_dim)
        self.coeff_reg = nn.Sequential(nn.Linear(emotion_dim, config.coeff_hidden), nn.Tanh(), nn.Linear(config.coeff_hidden, coeffs_dim))

    def encode(self, windows: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
        """(N, W, D) emotion windows -> (h, mu, logvar), each (N, hidden or latent)."""
        _, last = self.encoder(windows)
        hidden = last[0]
        return hidden, self.mu(hidden), self.logvar(hidden)

    def latent(self, windows: torch.Tensor) -> torch.Tensor:
        """The diffusion latent of each window: mu, or the GRU state h as the original (``latent``)."""
        hidden, mu, _ = self.encode(windows)
        return mu if self.config.latent == "mu" else hidden

    def decode(self, z: torch.Tensor, frames: int) -> torch.Tensor:
        """(N, latent_dim) -> (N, frames, D) emotion, each frame from the previous decoded one."""
        h_y = self.fc_z_dec(z)
        state = z.new_zeros(z.shape[0], self.config.hidden_dim)
        previous = z.new_zeros(z.shape[0], self.output.out_features)
        frames_out = []
        for _ in range(frames):
            state = self.decoder(torch.cat([h_y, previous], dim=-1), state)
            previous = self.output(self.decoder_mlp(state))
            frames_out.append(previous)
        return torch.stack(frames_out, dim=1)


def timestep_features(t: torch.Tensor, dim: int, max_period: float = 10_000.0) -> torch.Tensor:
    """Sinusoidal features of integer timesteps (N,) -> (N, dim) as [cos, sin] (the diffae order)."""
    half = dim // 2
    frequencies = torch.exp(-math.log(max_period) * torch.arange(half, device=t.device, dtype=torch.float32) / half)
    angles = t.float()[:, None] * frequencies[None]
    features = torch.cat([torch.cos(angles), torch.sin(angles)], dim=-1)
    if dim % 2:
        features = torch.cat([features, torch.zeros_like(features[:, :1])], dim=-1)
    return features


class SkipLayer(nn.Module):
    """One hidden layer of MLPSkipNet: Linear, scaled by (1 + Linear(SiLU(embedding))), LayerNorm, SiLU."""

    def __init__(self, in_dim: int, width: int, embed_dim: int, dropout: float):
        super().__init__()
        self.linear = nn.Linear(in_dim, width)
        self.condition = nn.Linear(embed_dim, width)
        self.norm = nn.LayerNorm(width)
        self.dropout = nn.Dropout(dropout)
        # Kaiming-normal weights on the hidden layers and their condition projections, as diffae.
        for layer in (self.linear, self.condition):
            nn.init.kaiming_normal_(layer.weight)

    def forward(self, x: torch.Tensor, embedding: torch.Tensor) -> torch.Tensor:
        x = self.linear(x) * (1 + self.condition(nn.functional.silu(embedding)))
        return self.dropout(nn.functional.silu(self.norm(x)))


class MLPSkipNet(nn.Module):
    """``f(x_t, t, cond) -> x0`` on latent vectors: x_t is concatenated onto the hidden state before
    every layer (layer 0 sees [x_t, x_t]); the embedding is [time MLP(t), condition MLP(cond)]."""

    def __init__(self, config: DenoiserConfig, latent_dim: int, condition_dim: int):
        super().__init__()
        self.time_features = config.time_features
        embed = config.embed_dim
        self.time_embed = nn.Sequential(nn.Linear(config.time_features, embed), nn.SiLU(), nn.Linear(embed, embed))
        self.condition_embed = nn.Sequential(nn.Linear(condition_dim, embed), nn.SiLU(), nn.Linear(embed, embed))
        widths = [latent_dim] + [config.width] * (config.num_layers - 1)
        self.layers = nn.ModuleList(
            SkipLayer(widths[i] + latent_dim, config.width, 2 * embed, config.dropout) for i in range(config.num_layers - 1)
        )
        # Last layer: no norm, no condition, no activation.
        self.output = nn.Linear(widths[-1] + latent_dim, latent_dim)

    def forward(self, x_t: torch.Tensor, t: torch.Tensor, cond: torch.Tensor) -> torch.Tensor:
        embedding = torch.cat([self.time_embed(timestep_features(t, self.time_features)), self.condition_embed(cond)], dim=-1)
        hidden = x_t
        for layer in self.layers:
            hidden = layer(torch.cat([hidden, x_t], dim=-1), embedding)
        return self.output(torch.cat([hidden, x_t], dim=-1))

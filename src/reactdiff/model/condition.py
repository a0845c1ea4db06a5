"""Speaker-window condition encoder of stage 2."""

from __future__ import annotations

import torch
from torch import nn

from reactdiff.model.layers import group_count


class ConditionEncoder(nn.Module):
    """Flattened speaker latent window (B, window, latent) -> condition vector (B, cond_dim).

    Linear, GroupNorm, SiLU as published. It runs once per window before sampling, not once per
    denoising step, so its size does not weigh on sampling time.
    """

    def __init__(self, window: int, latent_dim: int, cond_dim: int):
        super().__init__()
        # At least 8 channels per group: a group of one channel normalises every input to zero.
        groups = group_count(cond_dim, preferred=max(1, min(32, cond_dim // 8)))
        self.net = nn.Sequential(
            nn.Flatten(1), nn.Linear(window * latent_dim, cond_dim), nn.GroupNorm(groups, cond_dim), nn.SiLU()
        )

    def forward(self, speaker_window: torch.Tensor) -> torch.Tensor:
        return self.net(speaker_window)

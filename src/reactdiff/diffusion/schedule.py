"""Noise schedules: a plain object holding alphas_cumprod, with no network inside."""

from __future__ import annotations

import math
from typing import Literal

import torch
from torch import nn


def cosine_alphas_cumprod(num_steps: int, offset: float = 0.008, max_beta: float = 0.999) -> torch.Tensor:
    """Cosine schedule of Nichol & Dhariwal (2021, eq. 17) as float64 ``alphas_cumprod``.

    ``alpha_bar(s) = cos^2(((s / T) + offset) / (1 + offset) * pi / 2)``; betas are derived from
    consecutive ratios and clipped at ``max_beta`` (their section 3.2) so the last step stays finite.
    """
    def alpha_bar(s: float) -> float:
        return math.cos((s / num_steps + offset) / (1 + offset) * math.pi / 2) ** 2

    betas = torch.tensor(
        [min(1 - alpha_bar(i + 1) / alpha_bar(i), max_beta) for i in range(num_steps)], dtype=torch.float64
    )
    return torch.cumprod(1 - betas, dim=0)


def linear_alphas_cumprod(num_steps: int) -> torch.Tensor:
    """Linear betas of Ho et al. (2020), rescaled so any step count spans the same noise range."""
    scale = 1000 / num_steps
    betas = torch.linspace(scale * 1e-4, scale * 0.02, num_steps, dtype=torch.float64)
    return torch.cumprod(1 - betas, dim=0)


class NoiseSchedule(nn.Module):
    """Discrete-time variance-preserving schedule ``x_t = sqrt(abar_t) x0 + sqrt(1 - abar_t) eps``.

    The schedule lives in (non-persistent) buffers so ``.to(device)`` moves it with the model while
    checkpoints stay independent of it: it is rebuilt from the config. Timesteps ``t`` index
    ``0 .. num_train_steps - 1``; ``t = 0`` is the least noisy step.
    """

    def __init__(self, num_train_steps: int = 1000, kind: Literal["cosine", "linear"] = "cosine"):
        super().__init__()
        if num_train_steps < 1:
            raise ValueError(f"num_train_steps must be >= 1, got {num_train_steps}")
        builders = {"cosine": cosine_alphas_cumprod, "linear": linear_alphas_cumprod}
        if kind not in builders:
            raise ValueError(f"unknown schedule kind {kind!r}; choose from {sorted(builders)}")
        self.num_train_steps = num_train_steps
        self.kind = kind
        # float64 keeps 1 - abar accurate near t = 0, where abar is within 1e-5 of one.
        self.register_buffer("alphas_cumprod", builders[kind](num_train_steps), persistent=False)

    def abar(self, t: torch.Tensor, like: torch.Tensor) -> torch.Tensor:
        """``alphas_cumprod[t]`` shaped to broadcast against ``like`` (batch first), in its dtype."""
        values = self.alphas_cumprod.to(like.device)[t.to(like.device)].to(like.dtype)
        return values.reshape(values.shape + (1,) * (like.dim() - values.dim()))

    def add_noise(self, x0: torch.Tensor, noise: torch.Tensor, t: torch.Tensor) -> torch.Tensor:
        """Sample ``q(x_t | x_0)`` (Ho et al. 2020, eq. 4) for per-item timesteps ``t`` (B,)."""
        abar = self.abar(t, x0)
        return abar.sqrt() * x0 + (1 - abar).sqrt() * noise

    def sample_timesteps(self, batch: int, generator: torch.Generator | None = None) -> torch.Tensor:
        """Uniform training timesteps (B,) on the schedule's device (drawn on the generator's)."""
        device = self.alphas_cumprod.device
        source = generator.device if generator is not None else device
        return torch.randint(0, self.num_train_steps, (batch,), generator=generator, device=source).to(device)

    def respace(self, steps: int) -> torch.Tensor:
        """Descending training timesteps visited by a ``steps``-step sampler.

        Evenly spaced from ``T - 1`` down to ``0`` ("trailing" spacing, Lin et al. 2024): the first
        step starts at the noisiest training step, so pure Gaussian noise is the right start.
        """
        if not 1 <= steps <= self.num_train_steps:
            raise ValueError(f"sampling steps must be in 1..{self.num_train_steps}, got {steps}")
        if steps == 1:
            return torch.tensor([self.num_train_steps - 1], device=self.alphas_cumprod.device)
        grid = torch.linspace(self.num_train_steps - 1, 0, steps, dtype=torch.float64)
        return grid.round().long().to(self.alphas_cumprod.device)

    def extra_repr(self) -> str:
        return f"num_train_steps={self.num_train_steps}, kind={self.kind!r}"

"""Training-set statistics of the behaviour latents, accumulated batch by batch."""

from __future__ import annotations

import torch


class LatentStatistics:
    """Mean, std (unbiased), min and max of latents, per dimension or per (frame position, dimension).

    Batches are merged with Chan et al.'s pairwise update in float64, so the whole training set
    (REACT 2024: 3186 clips x 750 frames) is covered exactly without holding it in memory.
    """

    def __init__(self, per_position: bool = False):
        self.per_position = per_position
        self.count = 0
        self.mean: torch.Tensor | None = None
        self.m2: torch.Tensor | None = None
        self.min: torch.Tensor | None = None
        self.max: torch.Tensor | None = None

    @torch.no_grad()
    def update(self, latents: torch.Tensor) -> None:
        """Add latents: (N, T, D) clips per position; any (..., D) per dimension."""
        if self.per_position:
            if latents.dim() != 3:
                raise ValueError(f"per_position statistics need whole clips (N, frames, latent), got {tuple(latents.shape)}")
            if self.mean is not None and latents.shape[1:] != self.mean.shape:
                raise ValueError(f"clips of {latents.shape[1]} frames after clips of {self.mean.shape[0]}: per_position needs one length")
            values = latents.detach().to("cpu", torch.float64)
        else:
            values = latents.detach().reshape(-1, latents.shape[-1]).to("cpu", torch.float64)
        count = values.shape[0]
        if count == 0:
            return
        mean = values.mean(0)
        m2 = ((values - mean) ** 2).sum(0)
        low, high = values.min(0).values, values.max(0).values
        if self.mean is None:
            self.count, self.mean, self.m2, self.min, self.max = count, mean, m2, low, high
            return
        total = self.count + count
        delta = mean - self.mean
        self.mean = self.mean + delta * (count / total)
        self.m2 = self.m2 + m2 + delta**2 * (self.count * count / total)
        self.min, self.max = torch.minimum(self.min, low), torch.maximum(self.max, high)
        self.count = total

    def result(self) -> dict[str, torch.Tensor]:
        """``{"mean", "std", "min", "max"}`` (float64); needs at least two latents per entry."""
        if self.count < 2:
            raise ValueError(f"latent statistics need at least two latent vectors per entry, got {self.count}")
        return {"mean": self.mean, "std": (self.m2 / (self.count - 1)).sqrt(), "min": self.min, "max": self.max}

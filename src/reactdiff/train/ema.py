"""Exponential moving average of the weights (decay 0.999 as published), used for validation and
generation."""

from __future__ import annotations

import copy

import torch
from torch import nn


class EMA:
    """An averaged copy of a model: ``ema.update(model)`` after every optimizer step.

    The decay warms up as ``min(decay, (1 + n) / (10 + n))`` after n updates (as diffusers'
    ``EMAModel``), so a short run's average is not dominated by the random initial weights.
    Buffers (latent statistics, noise schedule, flags) are copied, not averaged: they are not
    learned, and some are not floating point.
    """

    def __init__(self, model: nn.Module, decay: float):
        self.decay = decay
        self.updates = 0
        self.module = copy.deepcopy(model).eval().requires_grad_(False)

    def current_decay(self) -> float:
        return min(self.decay, (1 + self.updates) / (10 + self.updates))

    @torch.no_grad()
    def update(self, model: nn.Module) -> None:
        weight = 1.0 - self.current_decay()
        for averaged, current in zip(self.module.parameters(), model.parameters()):
            # Frozen parameters (stage 2's autoencoder) never move, so their average is themselves.
            if current.requires_grad:
                averaged.lerp_(current.detach(), weight)
        for averaged, current in zip(self.module.buffers(), model.buffers()):
            averaged.copy_(current)
        self.updates += 1

    def state_dict(self) -> dict[str, torch.Tensor]:
        """The averaged weights, under the same names as the model's."""
        return dict(self.module.state_dict())

"""Training settings: one dataclass per stage, the defaults being the published settings.

Both stages share :class:`TrainConfig`; the stage classes only change defaults (stage 1 lr 1e-4,
stage 2 lr 5e-5, as published). Every field is a command-line flag through
:func:`reactdiff.config.add_config_args` (``--optim.lr``, ``--steps``, ``--batch_size``,
``--model.autoencoder.latent_dim``...), and the resolved config is saved in every checkpoint.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Literal

from reactdiff.constants import WINDOW_FRAMES
from reactdiff.errors import ConfigError
from reactdiff.methods.reactdiff.config import ModelConfig


@dataclass
class OptimConfig:
    """AdamW with linear warm-up then step decay (the reference names the decay but never applies it)."""

    lr: float = 1e-4
    weight_decay: float = 5e-4
    betas: tuple[float, ...] = (0.9, 0.999)
    warmup_steps: int = 200
    #: Points of the training budget (fractions of ``steps``, or of ``max_minutes`` when the clock
    #: ends the run first) at which the learning rate is multiplied by ``gamma``.
    milestones: tuple[float, ...] = (0.8, 0.9)
    gamma: float = 0.1
    #: Gradient-norm clipping (0 = off).
    grad_clip: float = 1.0


@dataclass
class TrainConfig:
    """Everything one training run needs besides the data root and the output folder."""

    model: ModelConfig = field(default_factory=ModelConfig)
    #: Start the model settings from a named preset of ``reactdiff.methods.reactdiff.MODEL_PRESETS``
    #: (``--model.*`` flags still override single fields).
    preset: str = "default"
    optim: OptimConfig = field(default_factory=OptimConfig)
    #: Training budget in optimizer steps; ``max_minutes`` (if set) may end the run earlier.
    steps: int = 20000
    max_minutes: float | None = None
    batch_size: int = 16
    #: Random crop per training item, a multiple of the 50-frame window.
    crop_frames: int = 200
    #: Exponential moving average of the weights, used for validation and generation.
    ema_decay: float = 0.999
    seed: int = 6
    #: Validate on the VAL split (never test) every this many steps; the best EMA weights by val
    #: loss are kept in ``<out>/best``.
    val_every: int = 500
    #: Cap on validation batches (0 = the whole val split).
    val_batches: int = 8
    #: Write ``<out>/last`` (for resuming) every this many steps, and at the end.
    checkpoint_every: int = 500
    log_every: int = 10
    precision: Literal["fp32", "bf16"] = "fp32"
    compile: bool = False
    device: str = "auto"

    def validate(self) -> "TrainConfig":
        """Reject settings that cannot train (named in the message)."""
        if self.crop_frames % WINDOW_FRAMES or not 0 < self.crop_frames <= 750:
            raise ConfigError(f"crop_frames: must be a multiple of {WINDOW_FRAMES} in 50..750, got {self.crop_frames}")
        for name in ("steps", "batch_size", "val_every", "checkpoint_every", "log_every"):
            if getattr(self, name) <= 0:
                raise ConfigError(f"{name}: must be positive, got {getattr(self, name)}")
        if not 0.0 <= self.ema_decay < 1.0:
            raise ConfigError(f"ema_decay: must be in [0, 1), got {self.ema_decay}")
        if self.max_minutes is not None and self.max_minutes <= 0:
            raise ConfigError(f"max_minutes: must be positive, got {self.max_minutes}")
        if any(not 0.0 < m <= 1.0 for m in self.optim.milestones):
            raise ConfigError(f"optim.milestones: fractions of the budget in (0, 1], got {list(self.optim.milestones)}")
        return self


@dataclass
class AutoencoderTrainConfig(TrainConfig):
    """Stage 1 (behaviour autoencoder): AdamW lr 1e-4, weight decay 5e-4, batch 16."""

    optim: OptimConfig = field(default_factory=lambda: OptimConfig(lr=1e-4))


@dataclass
class DiffusionTrainConfig(TrainConfig):
    """Stage 2 (latent diffusion): AdamW lr 5e-5, weight decay 5e-4, batch 16."""

    optim: OptimConfig = field(default_factory=lambda: OptimConfig(lr=5e-5))


STAGE_CONFIGS: dict[str, type[TrainConfig]] = {
    "autoencoder": AutoencoderTrainConfig,
    "diffusion": DiffusionTrainConfig,
}

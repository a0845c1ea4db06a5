"""Trans-VAE settings (defaults = the ``default`` preset) and its named presets.

Every field is a ``--model.<field>`` flag and travels as JSON beside every checkpoint.
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass, field

from reactdiff.methods.base import OptimConfig, TrainConfig


@dataclass
class ModelConfig:
    """Trans-VAE networks (original: feature width 128, 4 heads, FFN 256, dropout 0.1, W = 16)."""

    #: Speaker streams: the "visual" ones (emotion, 3dmm) replace the original's video frames, the
    #: "audio" one its MFCC (``mfcc78`` is the original's 78-d MFCC+deltas layout).
    streams: tuple[str, ...] = ("emotion", "3dmm", "mfcc")
    #: Width F of every feature, latent and transformer layer.
    width: int = 64
    num_heads: int = 4
    ff_dim: int = 128
    dropout: float = 0.1
    #: Windowed autoregressive generation (the original's ``--online``), one latent per window.
    online: bool = False
    #: Frames per online window (the original README trains with 16).
    window: int = 16
    #: Loss = MSE(emotion) + MSE(3DMM expression) + pose_weight * MSE(3DMM pose)
    #:        + kl_weight * KL + div_weight * (div(3DMM) + div(emotion)), as the original.
    pose_weight: float = 10.0
    #: The original README's 1e-5 (its code's default is 2e-4).
    kl_weight: float = 1e-5
    div_weight: float = 10.0


@dataclass
class TransVAETrainConfig(TrainConfig):
    """The original recipe: AdamW lr 1e-5 (README), betas (0.9, 0.999), weight decay 5e-4, no
    schedule, no gradient clipping, no weight averaging, batch 4, random 256-frame crops."""

    model: ModelConfig = field(default_factory=ModelConfig)
    optim: OptimConfig = field(
        default_factory=lambda: OptimConfig(lr=1e-5, warmup_steps=0, milestones=(1.0,), gamma=1.0, grad_clip=0.0)
    )
    batch_size: int = 4
    crop_frames: int = 256
    #: 0 = the EMA copy is the trained weights themselves (the original keeps no average).
    ema_decay: float = 0.0


def default_config() -> ModelConfig:
    """Our CPU-friendly size: the original's layers at half its width (F = 64, FFN 128)."""
    return ModelConfig()


def online_config() -> ModelConfig:
    return dataclasses.replace(default_config(), online=True)


def original_config() -> ModelConfig:
    """The original's sizes: F = 128, 4 heads, FFN 256 (offline)."""
    return ModelConfig(width=128, num_heads=4, ff_dim=256)


def original_online_config() -> ModelConfig:
    """The original's sizes, online with its README's window of 16 frames."""
    return dataclasses.replace(original_config(), online=True)


def tiny_config() -> ModelConfig:
    """The smallest useful model: tests, CI and smoke runs."""
    return ModelConfig(width=16, num_heads=2, ff_dim=32, dropout=0.0)


def tiny_online_config() -> ModelConfig:
    return dataclasses.replace(tiny_config(), online=True, window=8)


#: name -> function returning a fresh ModelConfig.
MODEL_PRESETS = {
    "default": default_config,
    "online": online_config,
    "original": original_config,
    "original-online": original_online_config,
    "tiny": tiny_config,
    "tiny-online": tiny_online_config,
}

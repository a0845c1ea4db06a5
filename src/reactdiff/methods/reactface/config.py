"""ReactFace settings (defaults = the ``default`` preset) and its named presets.

Every field is a ``--model.<field>`` flag and travels as JSON beside every checkpoint.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from reactdiff.methods.base import OptimConfig, TrainConfig


@dataclass
class ReactFaceConfig:
    """The networks, the windowing and the loss weights of ReactFace."""

    #: Speaker streams: the "visual" ones ([emotion, 3dmm], 83-d) replace the original's 3-D CNN on
    #: raw frames, the "audio" one (mfcc, 26-d) replaces wav2vec2 (both need hub weights).
    streams: tuple[str, ...] = ("emotion", "3dmm", "mfcc")
    #: Width of every layer (the original's scripts use 128).
    feature_dim: int = 128
    #: Heads of the SpeakFormer, fusion and decoder layers (the original: 8) and their FFN width (2F).
    num_heads: int = 8
    ff_dim: int = 256
    dropout: float = 0.1
    #: Period of the periodic positional encoding and of the stepped-ALiBi bias (the original: 8).
    period: int = 8
    #: Causal Conv1d over the visual streams (frames): temporal context without look-ahead.
    visual_kernel: int = 5
    #: Frames generated per step, in training and generation alike (the original trains with 64
    #: and evaluates with 8; one protocol here, its evaluation window).
    window: int = 8
    #: Attention reaches this many frames back (0 = the whole past, as the original). Bounded, a
    #: streamed clip costs linear time; 256 is the original's training crop, the longest past its
    #: attention was ever trained on.
    context_frames: int = 256
    #: Interaction VAE: a TransformerEncoder over [mu, logvar, previous window's fused frames].
    vae_layers: int = 2
    vae_heads: int = 4
    vae_ff_dim: int = 1024
    #: Layers of the query decoder that reads the momentum memory.
    decoder_layers: int = 2
    #: z <- m z_prev + (1 - m) z from the second window on (the original's default; its
    #: ``--momentum`` flag is ignored there, honoured here as the sampling option ``momentum``).
    momentum: float = 0.9
    #: Loss weights: KL, diversity across three stochastic passes, smoothness, speaker 3DMM
    #: reconstruction, pose (3DMM [52:]) and emotion inside the neighbour loss.
    kl_weight: float = 1e-5
    div_weight: float = 100.0
    smooth_weight: float = 10.0
    speaker_weight: float = 1.0
    pose_weight: float = 10.0
    emotion_weight: float = 1.0
    #: At most this many appropriate reactions per training speaker (the original: 80).
    max_neighbours: int = 80


@dataclass
class ReactFaceTrainConfig(TrainConfig):
    """AdamW lr 2e-5 (weight decay 5e-4), batch 8, 256-frame crops, as the original."""

    model: ReactFaceConfig = field(default_factory=ReactFaceConfig)
    optim: OptimConfig = field(default_factory=lambda: OptimConfig(lr=2e-5, warmup_steps=0, milestones=()))
    batch_size: int = 8
    crop_frames: int = 256
    val_batches: int = 2


def default_config() -> ReactFaceConfig:
    """The original's sizes (F = 128, 8 heads, VAE FFN 1024) with attention bounded to 256 frames."""
    return ReactFaceConfig()


def original_config() -> ReactFaceConfig:
    """The original's sizes and unbounded attention (every frame attends to the whole past)."""
    return ReactFaceConfig(context_frames=0)


def small_config() -> ReactFaceConfig:
    """Half width (F = 64, FFN 128, VAE FFN 256): the CPU demo budget's size."""
    return ReactFaceConfig(feature_dim=64, ff_dim=128, vae_ff_dim=256)


def tiny_config() -> ReactFaceConfig:
    """The smallest useful model: tests, CI and smoke runs."""
    return ReactFaceConfig(feature_dim=16, num_heads=2, ff_dim=32, dropout=0.0, context_frames=64, vae_heads=2,
                           vae_ff_dim=32, vae_layers=1, decoder_layers=1, max_neighbours=8)


#: name -> function returning a fresh ReactFaceConfig. ReactFace is online in every preset.
PRESETS = {"default": default_config, "original": original_config, "small": small_config, "tiny": tiny_config}

"""Configuration dataclasses of BeLFusion (defaults = the ``default`` preset; sizes of the REACT 2024
baseline, /work/shared/spec/PEER_MODELS.md section 2).

Every field is a ``--model.<section>.<field>`` flag and travels as JSON beside every checkpoint.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Literal

from reactdiff.constants import WINDOW_FRAMES
from reactdiff.methods.base import OptimConfig, TrainConfig


@dataclass
class VAEConfig:
    """Stage 1: DLow-style GRU VAE of one window of emotion, plus the per-frame emotion -> 3DMM head."""

    #: GRU width of the encoder and of the decoder (``nh_rnn``).
    hidden_dim: int = 128
    #: Size of z (``nz``). The original feeds the encoder state h to the decoder as if it were z,
    #: which only works because both are 128 wide; with ``latent: hidden`` they must be equal.
    latent_dim: int = 128
    #: Decoder MLP after the GRU cell (tanh after each layer).
    mlp_dims: tuple[int, ...] = (64, 64)
    #: Hidden width of ``coeff_reg`` (25 -> hidden -> 58, tanh), applied per frame to decoded emotion.
    coeff_hidden: int = 128
    #: Which encoder output is the diffusion latent: ``mu`` (what the decoder was trained to decode,
    #: our fix) or ``hidden`` (the GRU state h, as the original code; see docs/methods/belfusion.md).
    latent: Literal["mu", "hidden"] = "mu"
    #: Loss = MSE(emotion) + kld_weight * KLD + coeff_weight * MSE(3DMM), as the original.
    kld_weight: float = 1e-5
    coeff_weight: float = 1.0


@dataclass
class DenoiserConfig:
    """Stage 2 ``MLPSkipNet``: x_t is concatenated onto the hidden state before every layer, each
    hidden layer is scaled by ``1 + Linear(SiLU([time, condition]))``; it predicts x0."""

    width: int = 1024
    #: Layers including the last (linear) one: the original has 10.
    num_layers: int = 10
    #: Sinusoidal time features before the time MLP.
    time_features: int = 64
    #: Width of the time embedding and of the condition embedding (each; concatenated = 2x).
    embed_dim: int = 128
    dropout: float = 0.0


@dataclass
class DiffusionConfig:
    """Stage 2 latent diffusion: cosine schedule over few steps, x0 prediction, best-of-k loss."""

    #: Training steps of the cosine schedule (and the default sampling steps): 10 as the original.
    train_steps: int = 10
    #: DDIM steps at generation (1..train_steps); eta 0 is the original's deterministic DDIM.
    sample_steps: int = 10
    eta: float = 0.0
    #: Best-of-k: every training window is repeated k times with the same t and independent noise;
    #: each loss term keeps its minimum over the k.
    best_of: int = 10
    #: Loss = latent_weight * min_k L1(latent) + decoded_weight * min_k MSE(decoded emotion).
    latent_weight: float = 10.0
    decoded_weight: float = 10.0
    #: Frames per window (the VAE's sequence length); generation pads the speaker to a multiple.
    window: int = WINDOW_FRAMES
    #: Online: listener window j is generated from speaker window j - 1 (zeros for j = 0).
    online: bool = False
    #: Generation: one initial noise per sample shared by all its windows (not in the original,
    #: whose windows each draw their own noise, false). With DDIM eta 0 the noise decides which
    #: plausible reaction a window becomes; sharing it keeps that choice across window borders.
    shared_noise: bool = False


@dataclass
class ModelConfig:
    """The whole BeLFusion model. It reads the speaker's emotion only (as the original)."""

    streams: tuple[str, ...] = ("emotion",)
    vae: VAEConfig = field(default_factory=VAEConfig)
    denoiser: DenoiserConfig = field(default_factory=DenoiserConfig)
    diffusion: DiffusionConfig = field(default_factory=DiffusionConfig)


@dataclass
class VAETrainConfig(TrainConfig):
    """Stage 1: AdamW lr 1e-3, weight decay 5e-4, batch 32 as the original; 750-frame clips (15 windows)."""

    model: ModelConfig = field(default_factory=ModelConfig)
    optim: OptimConfig = field(default_factory=lambda: OptimConfig(lr=1e-3, warmup_steps=0, milestones=(), grad_clip=0.0))
    batch_size: int = 32
    crop_frames: int = 750
    ema_decay: float = 0.0


@dataclass
class DiffusionTrainConfig(TrainConfig):
    """Stage 2: AdamW lr 1e-4, weight decay 5e-4, batch 32 as the original; one window per item."""

    model: ModelConfig = field(default_factory=ModelConfig)
    optim: OptimConfig = field(default_factory=lambda: OptimConfig(lr=1e-4, warmup_steps=0, milestones=(), grad_clip=0.0))
    batch_size: int = 32
    crop_frames: int = WINDOW_FRAMES
    ema_decay: float = 0.0

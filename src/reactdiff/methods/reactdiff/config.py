"""Configuration dataclasses of the ReactDiff networks (defaults = the ``default`` preset).

They plug into :mod:`reactdiff.config`, so every field is a ``--model.<section>.<field>`` flag and
travels as JSON beside every checkpoint.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Literal

from reactdiff.constants import CLIP_FRAMES, WINDOW_FRAMES
from reactdiff.methods.base import OptimConfig, TrainConfig


@dataclass
class AutoencoderConfig:
    """Stage 1: Multi-Modality Transformer encoder + transformer decoder (behaviour autoencoder)."""

    #: Width every input stream is projected to inside the MMT (the paper uses 1024).
    hidden_dim: int = 256
    num_heads: int = 4
    #: Stacked intra-class blocks (each cross-attends to every other stream of the class).
    intra_depth: int = 2
    #: Rounds of the audio class's intra-class cross-attention (None = ``intra_depth``; the reference: 1).
    audio_depth: int | None = None
    #: The audio class's first stream self-attends before its cross-attention (the reference: no,
    #: its audio fusion is one cross-attention, wav2vec2 querying MFCC).
    audio_self_attention: bool = True
    #: Stacked inter-class blocks (visual queries, audio keys/values).
    inter_depth: int = 2
    #: Feed-forward sub-layer after each attention block (not in the paper; see docs/model.md).
    feedforward: bool = True
    #: Sinusoidal frame positions added to the projected streams and the decoder input (not in the paper).
    positional: bool = True
    #: Per-frame behaviour latent size.
    latent_dim: int = 256
    #: ``self_attention``: an input MLP then one stack of ``decoder_layers`` self-attention layers
    #: (ours). ``two_stacks``: the reference's decoder, two stacks of ``decoder_layers``
    #: ``TransformerDecoderLayer`` s in sequence, each layer self- and cross-attending to its stack's
    #: input, no input MLP (the reference builds one and never calls it).
    decoder: Literal["self_attention", "two_stacks"] = "self_attention"
    #: Transformer layers of the decoder (per stack with ``decoder = "two_stacks"``).
    decoder_layers: int = 2
    decoder_heads: int = 4
    decoder_ff_dim: int = 512
    #: Dropout of the decoder layers (and of the MMT unless ``mmt_dropout`` is set).
    dropout: float = 0.1
    #: Dropout inside the MMT's attention blocks (None = ``dropout``); the reference uses 0 there.
    mmt_dropout: float | None = None
    #: Attention sees chunks of this many frames (0 = the whole sequence). One window (50) keeps
    #: encoding and decoding local, so online/streaming generation never looks ahead.
    context_frames: int = WINDOW_FRAMES
    #: Loss = weight_3dmm * MSE(3DMM) + weight_emotion * L1(emotion), as published.
    weight_3dmm: float = 10.0
    weight_emotion: float = 10.0


@dataclass
class DenoiserConfig:
    """Stage 2 denoiser network ``f(x_t, t, cond) -> eps``; ``name`` picks it from ``DENOISERS``."""

    name: Literal["transformer", "unet1d"] = "transformer"
    #: Size of the condition vector the speaker window is projected to.
    cond_dim: int = 256
    #: How the condition vector joins the timestep embedding: ``add`` (projected to the embedding
    #: width and added) or ``concat`` (the reference's U-Net: concatenated, so every residual block's
    #: embedding layer reads ``4 * model_channels + cond_dim`` numbers). ``concat`` is unet1d only.
    condition_join: Literal["add", "concat"] = "add"
    #: Transformer denoiser only: every block also cross-attends to per-frame speaker tokens (one
    #: per ``patch_frames`` frames of the condition context). Not in the paper, whose single
    #: condition vector cannot say *when* the speaker did something (see docs/model.md).
    cross_attention: bool = True
    #: Transformer denoiser: token = ``patch_frames`` consecutive frames of the window.
    width: int = 160
    #: 2 blocks: 10 reactions of a 30 s clip sample in 0.80 s on 2 CPU cores (3 blocks: 0.94 s) at
    #: about the same val FRDist (114.2 against 111.9, one 7-minute run each; docs/results.md).
    depth: int = 2
    num_heads: int = 4
    mlp_ratio: float = 2.0
    patch_frames: int = 5
    #: 1-D U-Net (frames as channels, latent dimensions as length), improved-diffusion style.
    model_channels: int = 64
    channel_mult: tuple[int, ...] = (1, 2, 2)
    num_res_blocks: int = 1
    #: Downsampling factors (1 = first level) at which the U-Net has self-attention (the middle
    #: block always has it).
    attention_levels: tuple[int, ...] = (4,)
    unet_heads: int = 4
    dropout: float = 0.0


@dataclass
class DiffusionConfig:
    """Stage 2 latent diffusion settings (schedule, windows, sampling)."""

    #: Diffusion steps of training (the reference: 20, the same steps it samples with).
    train_steps: int = 1000
    schedule: Literal["cosine", "linear"] = "cosine"
    sample_steps: int = 20
    eta: float = 0.0
    window: int = WINDOW_FRAMES
    #: Window w is generated from speaker window w-1 (zeros for w = 0), as the reference's online mode.
    online: bool = False
    #: Speaker windows each listener window is conditioned on: 1 = its own window (the paper;
    #: w - 1 online), 2 = also the one before, so a reaction early in a window sees the speaker
    #: cue that caused it a few frames earlier (zeros before the clip starts).
    context_windows: int = 2
    #: Offline only: the speaker windows after the listener's own that it is also conditioned on
    #: (zeros after the clip ends). Reactions lag their cues, so behaviour at the end of a window
    #: is explained by the next one: generating a mirrored row's *speaker* from its listener needs
    #: the listener's later frames (see docs/model.md). Online generation must keep 0.
    lookahead_windows: int = 1
    #: What the denoiser predicts: the noise (the paper) or the clean window ``x0``. A denoiser
    #: whose tokens are narrower than its patches cannot represent full-rank noise; predicting
    #: eps it leaves the part of the noise it cannot represent in every sample (jittery faces),
    #: predicting x0 it only has to represent the data (see docs/model.md for the measurements).
    #: Every sampler takes either (``prediction=`` argument of the samplers).
    prediction: Literal["eps", "x0"] = "x0"
    #: One initial noise window per sample, shared by all windows of the clip. With DDIM (eta 0)
    #: the initial noise decides *which* plausible listener a sample is; sharing it keeps that
    #: choice across the clip instead of re-drawing it every 2 seconds (false = the reference:
    #: independent noise per window). Per-step noise of eta > 0 / DDPM stays per window.
    clip_noise: bool = True
    #: Weight of the loss on the predicted eps or x0 (the reference uses 10).
    loss_weight: float = 10.0
    #: Loss on the predicted eps or x0: L1 (the reference) or mean squared error. DDIM's
    #: deterministic sampler is exact for the posterior *mean* of x0, which MSE estimates; L1
    #: estimates the per-dimension median, which pulls rare behaviour toward the common.
    loss: Literal["l1", "mse"] = "l1"
    #: Latent normalisation before diffusion: per-dimension standardisation, or a correct min-max to [-1, 1].
    normalization: Literal["standard", "minmax"] = "standard"
    #: Latent statistics: one per latent dimension (``per_dimension``), or one per frame position of
    #: the clip and dimension (``per_position``, the reference: 750 x 256; needs whole clips of
    #: ``clip_frames`` and a condition of one window, ``context_windows + lookahead_windows = 1``).
    stats: Literal["per_dimension", "per_position"] = "per_dimension"
    #: Frames of a clip: the positions ``per_position`` statistics are kept for.
    clip_frames: int = CLIP_FRAMES
    #: Clip the predicted x0 to [-clip_x0, clip_x0] while sampling (None = off; 1.0 suits "minmax").
    clip_x0: float | None = None
    #: Probability that a training window's speaker condition is replaced by the null condition
    #: (all zeros), so the denoiser also learns the unconditional model (classifier-free guidance,
    #: Ho & Salimans 2022). 0 = the paper: no dropout, and sampling cannot be guided.
    cond_dropout: float = 0.0
    #: Classifier-free guidance scale of sampling: prediction = uncond + guidance (cond - uncond).
    #: 1 = the plain conditional model (one network call per step); below 1 blends toward the
    #: unconditional model (more varied, less tied to the speaker), above 1 sharpens. Needs
    #: ``cond_dropout`` > 0 in training; ``reactdiff generate --option guidance=V`` overrides it.
    guidance: float = 1.0


@dataclass
class ModelConfig:
    """The whole ReactDiff model: which input streams, the autoencoder, the denoiser, the diffusion."""

    streams: tuple[str, ...] = ("emotion", "3dmm", "mfcc")
    autoencoder: AutoencoderConfig = field(default_factory=AutoencoderConfig)
    denoiser: DenoiserConfig = field(default_factory=DenoiserConfig)
    diffusion: DiffusionConfig = field(default_factory=DiffusionConfig)


@dataclass
class AutoencoderTrainConfig(TrainConfig):
    """Stage 1 (behaviour autoencoder): AdamW lr 1e-4, weight decay 5e-4, batch 16, as published."""

    model: ModelConfig = field(default_factory=ModelConfig)
    optim: OptimConfig = field(default_factory=lambda: OptimConfig(lr=1e-4))


@dataclass
class DiffusionTrainConfig(TrainConfig):
    """Stage 2 (latent diffusion): AdamW lr 5e-5, weight decay 5e-4, batch 16, as published."""

    model: ModelConfig = field(default_factory=ModelConfig)
    optim: OptimConfig = field(default_factory=lambda: OptimConfig(lr=5e-5))

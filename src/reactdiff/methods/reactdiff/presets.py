"""Named model configurations (``--model.preset`` style choices come from ``MODEL_PRESETS``) and
the training settings of the published recipe (:func:`paper_train_settings`)."""

from __future__ import annotations

import math
from typing import Any

from reactdiff.constants import CLIP_FRAMES
from reactdiff.methods.reactdiff.config import AutoencoderConfig, DenoiserConfig, DiffusionConfig, ModelConfig

#: Training items of REACT 2024's train split as our datasets list them (1593 pairs, both directions).
REACT2024_TRAIN_ITEMS = 3186


def default_config() -> ModelConfig:
    """Sized for a 50 x 256 latent window and CPU sampling: see docs/model.md for the budget."""
    return ModelConfig()


def paper_config() -> ModelConfig:
    """The authors' networks and diffusion settings (see docs/model.md, "The paper preset").

    MMT width 1024 without feed-forward, positions or attention dropout, audio fused by one
    cross-attention (first audio stream querying the others); whole-sequence attention;
    the reference's two-stack decoder; a 1024-d condition concatenated to the timestep embedding of
    a U-Net with channels 256 x (1, 2, 4, 8), attention at downsampling 1, 2, 4 and in the middle,
    one head (404,312,626 parameters; condition layer 13,110,272); 20 diffusion steps in training
    and sampling; eps prediction; per-position latent statistics; min-max to [-1, 1] (with the
    reference's precedence defect fixed) and x0 clipped to [-1, 1].
    """
    return ModelConfig(
        autoencoder=AutoencoderConfig(
            hidden_dim=1024, num_heads=4, intra_depth=2, audio_depth=1, audio_self_attention=False, inter_depth=2,
            feedforward=False, positional=False,
            latent_dim=256, decoder="two_stacks", decoder_layers=2, decoder_heads=4, decoder_ff_dim=512, dropout=0.1,
            mmt_dropout=0.0, context_frames=0,
        ),
        denoiser=DenoiserConfig(
            name="unet1d", cond_dim=1024, condition_join="concat", cross_attention=False, model_channels=256,
            channel_mult=(1, 2, 4, 8), num_res_blocks=2, attention_levels=(1, 2, 4), unet_heads=1,
        ),
        diffusion=DiffusionConfig(
            train_steps=20, sample_steps=20, context_windows=1, lookahead_windows=0, prediction="eps", clip_noise=False,
            stats="per_position", normalization="minmax", clip_x0=1.0,
        ),
    )


def tiny_config() -> ModelConfig:
    """The smallest useful model (a few thousand parameters): tests, CI and smoke runs."""
    return ModelConfig(
        autoencoder=AutoencoderConfig(
            hidden_dim=16, num_heads=2, intra_depth=1, inter_depth=1, latent_dim=8, decoder_layers=1, decoder_heads=2,
            decoder_ff_dim=16, dropout=0.0,
        ),
        denoiser=DenoiserConfig(width=16, depth=1, num_heads=2, cond_dim=64),
        diffusion=DiffusionConfig(train_steps=50),
    )


def tiny_online_config() -> ModelConfig:
    """The tiny model generating online: window w from speaker windows before w only."""
    config = tiny_config()
    config.diffusion.online, config.diffusion.lookahead_windows = True, 0
    return config


def paper_train_settings(train_items: int = REACT2024_TRAIN_ITEMS) -> dict[str, dict[str, Any]]:
    """The authors' training settings per stage, as dotted ``TrainConfig`` keys.

    From the reference as summarised in the project spec (REACTDIFF_MODEL.md, "Training settings"): AdamW, weight decay 5e-4,
    lr 1e-4 (stage 1) and 5e-5 (stage 2), batch 16, 200 epochs, EMA 0.999, seed 6, no warm-up and no
    step decay (the reference's config names both, its loop applies neither). Both stages see whole
    750-frame clips, so stage 1 trains on the clip length and whole-sequence attention span that
    stage 2 and generation encode and decode with. Epochs become optimizer steps at
    ``ceil(train_items / 16)`` steps an epoch (``train_items``: items of the train dataset, 3186
    for REACT 2024 with both directions of each pair). Gradient clipping is not part of the
    published settings and is left as configured.
    """
    batch_size, epochs = 16, 200
    steps = epochs * math.ceil(train_items / batch_size)
    common = {
        "crop_frames": CLIP_FRAMES,
        "batch_size": batch_size,
        "steps": steps,
        "optim.weight_decay": 5e-4,
        "optim.warmup_steps": 0,
        "optim.milestones": (),
        "ema_decay": 0.999,
        "seed": 6,
    }
    return {
        "autoencoder": {**common, "optim.lr": 1e-4},
        "diffusion": {**common, "optim.lr": 5e-5},
    }


def live_config() -> ModelConfig:
    """The default model generating online with 10-frame (0.4 s) windows, each conditioned on the
    five speaker windows before it: the live trade-off measured in docs/streaming.md (most of the
    50-frame model's FRDist, far better synchrony, a listener that answers 0.4 s after a cue)."""
    config = default_config()
    config.autoencoder.context_frames = 10
    config.diffusion.window, config.diffusion.context_windows = 10, 5
    config.diffusion.online, config.diffusion.lookahead_windows = True, 0
    return config


def mars_config() -> ModelConfig:
    """The default model on REACT 2025/2026 (MARS, 30 fps): 30-frame (1 s) windows and attention
    chunks, the protocol's online window, so a window covers the same second as the 25 fps
    model's 50 frames cover 2 s; offline, conditioned on its own and the next speaker window."""
    config = default_config()
    config.autoencoder.context_frames = 30
    config.diffusion.window = 30
    return config


def mars_online_config() -> ModelConfig:
    """MARS online: 30-frame listener windows, each conditioned on the 60 speaker frames (two
    windows) before it. The REACT 2025/2026 online protocol shows a window the 30 frames before it
    and its own 30 (up to 29 frames of lookahead); this one is causal to the frame."""
    config = mars_config()
    config.diffusion.context_windows = 2
    config.diffusion.online, config.diffusion.lookahead_windows = True, 0
    return config


#: name -> function returning a fresh ModelConfig.
MODEL_PRESETS = {
    "default": default_config, "paper": paper_config, "live": live_config, "mars": mars_config, "mars-online": mars_online_config,
    "tiny": tiny_config, "tiny-online": tiny_online_config,
}

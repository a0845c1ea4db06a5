"""Named model configurations (``--model.preset`` style choices come from ``MODEL_PRESETS``)."""

from __future__ import annotations

from reactdiff.methods.reactdiff.config import AutoencoderConfig, DenoiserConfig, DiffusionConfig, ModelConfig


def default_config() -> ModelConfig:
    """Sized for a 50 x 256 latent window and CPU sampling: see docs/model.md for the budget."""
    return ModelConfig()


def paper_config() -> ModelConfig:
    """The published sizes: MMT width 1024, 1024-d condition, U-Net with channels 256 x (1, 2, 4, 8)."""
    return ModelConfig(
        autoencoder=AutoencoderConfig(
            hidden_dim=1024, num_heads=4, intra_depth=2, inter_depth=2, feedforward=False, positional=False,
            latent_dim=256, decoder_layers=4, decoder_heads=4, decoder_ff_dim=512, dropout=0.1, context_frames=0,
        ),
        denoiser=DenoiserConfig(
            name="unet1d", cond_dim=1024, cross_attention=False, model_channels=256, channel_mult=(1, 2, 4, 8), num_res_blocks=2,
            attention_levels=(2, 4, 8), unet_heads=4,
        ),
        diffusion=DiffusionConfig(context_windows=1, lookahead_windows=0, prediction="eps", clip_noise=False),
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


#: name -> function returning a fresh ModelConfig.
MODEL_PRESETS = {"default": default_config, "paper": paper_config, "tiny": tiny_config, "tiny-online": tiny_online_config}

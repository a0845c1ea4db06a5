"""Named model configurations of BeLFusion."""

from __future__ import annotations

import dataclasses

from reactdiff.methods.belfusion.config import DenoiserConfig, DiffusionConfig, ModelConfig, VAEConfig


def default_config() -> ModelConfig:
    """The original's sizes with our fixes (mu as the latent); see docs/methods/belfusion.md."""
    return ModelConfig()


def original_config() -> ModelConfig:
    """The REACT 2024 baseline as committed in size and latent: 242,579 VAE + 12,300,928 denoiser
    parameters, the GRU state h as the diffusion latent."""
    return ModelConfig(vae=VAEConfig(latent="hidden"))


def tiny_config() -> ModelConfig:
    """The smallest useful model: tests, CI and smoke runs."""
    return ModelConfig(
        vae=VAEConfig(hidden_dim=16, latent_dim=8, mlp_dims=(16,), coeff_hidden=16),
        denoiser=DenoiserConfig(width=32, num_layers=3, time_features=16, embed_dim=16),
        diffusion=DiffusionConfig(best_of=3),
    )


def tiny_online_config() -> ModelConfig:
    """The tiny model generating online: window j from speaker window j - 1."""
    config = tiny_config()
    return dataclasses.replace(config, diffusion=dataclasses.replace(config.diffusion, online=True))


#: name -> function returning a fresh ModelConfig.
MODEL_PRESETS = {"default": default_config, "original": original_config, "tiny": tiny_config, "tiny-online": tiny_online_config}

"""BeLFusion for faces (REACT 2024 official baseline, after Barquero et al., ICCV 2023) in the method
registry: a windowed GRU emotion VAE (stage ``vae``) and a latent diffusion with an MLP denoiser,
few steps and a best-of-k loss (stage ``diffusion``, VAE frozen), conditioned on speaker emotion.
Networks: :mod:`reactdiff.methods.belfusion.model`; what we changed: docs/methods/belfusion.md."""

from __future__ import annotations

import dataclasses
from typing import Any, Mapping

from reactdiff.errors import ConfigError
from reactdiff.methods.base import Method, StageSpec, check_positive
from reactdiff.methods.belfusion.config import DiffusionTrainConfig, ModelConfig, VAETrainConfig


class BeLFusionMethod(Method):
    name = "belfusion"
    title = "BeLFusion (REACT 2024 baseline): windowed GRU emotion VAE + MLP latent diffusion, best-of-k"
    config_class = ModelConfig
    stages = (
        StageSpec(
            "vae", "stage 1: GRU VAE of 50-frame emotion windows, with the emotion -> 3DMM head, on every person",
            VAETrainConfig, "reactdiff.methods.belfusion.stage_vae:VAEStage",
        ),
        StageSpec(
            "diffusion", "stage 2: latent diffusion of listener windows given speaker emotion windows (frozen VAE)",
            DiffusionTrainConfig, "reactdiff.methods.belfusion.stage_diffusion:DiffusionStage", requires="vae",
        ),
    )
    sampling_options = {"steps": int, "eta": float, "shared_noise": bool}
    budgets = {
        "tiny": {
            "vae": {"preset": "tiny", "steps": 20, "batch_size": 4, "crop_frames": 100, "val_every": 10, "checkpoint_every": 10},
            "diffusion": {"steps": 20, "batch_size": 4, "crop_frames": 100, "val_every": 10, "checkpoint_every": 10},
        },
        "demo": {
            "vae": {"steps": 600, "batch_size": 16, "crop_frames": 150, "val_every": 100, "checkpoint_every": 100},
            "diffusion": {"steps": 800, "batch_size": 16, "crop_frames": 50, "optim.lr": 3e-4, "val_every": 200, "checkpoint_every": 200},
        },
        "long": {
            "vae": {"steps": 3000, "batch_size": 32, "crop_frames": 150, "val_every": 250, "checkpoint_every": 250},
            "diffusion": {"steps": 10000, "batch_size": 32, "crop_frames": 50, "optim.lr": 3e-4, "val_every": 500, "checkpoint_every": 500},
        },
    }

    @property
    def presets(self):
        from reactdiff.methods.belfusion.presets import MODEL_PRESETS

        return MODEL_PRESETS

    def validate_config(self, config: ModelConfig) -> None:
        if tuple(config.streams) != ("emotion",):
            raise ConfigError(f"model.streams: BeLFusion is conditioned on speaker emotion only, got {list(config.streams)} (another input makes a different method)")
        vae, den, diff = config.vae, config.denoiser, config.diffusion
        check_positive(vae, ("hidden_dim", "latent_dim", "coeff_hidden"), "model.vae.")
        if any(dim <= 0 for dim in vae.mlp_dims):
            raise ConfigError(f"model.vae.mlp_dims: positive widths, got {list(vae.mlp_dims)}")
        if vae.latent not in ("mu", "hidden"):
            raise ConfigError(f"model.vae.latent: 'mu' or 'hidden', got {vae.latent!r}")
        if vae.latent == "hidden" and vae.latent_dim != vae.hidden_dim:
            raise ConfigError(f"model.vae.latent_dim ({vae.latent_dim}) must equal model.vae.hidden_dim ({vae.hidden_dim}) with latent 'hidden': the decoder reads h as if it were z")
        if vae.kld_weight < 0 or vae.coeff_weight < 0:
            raise ConfigError("model.vae.kld_weight and model.vae.coeff_weight must not be negative")
        check_positive(den, ("width", "time_features", "embed_dim"), "model.denoiser.")
        if den.num_layers < 2:
            raise ConfigError(f"model.denoiser.num_layers: at least 2 (hidden layers + the output layer), got {den.num_layers}")
        if not 0 <= den.dropout < 1:
            raise ConfigError(f"model.denoiser.dropout: must be in [0, 1), got {den.dropout}")
        check_positive(diff, ("train_steps", "sample_steps", "best_of", "window"), "model.diffusion.")
        if diff.sample_steps > diff.train_steps:
            raise ConfigError(f"model.diffusion.sample_steps ({diff.sample_steps}) cannot exceed model.diffusion.train_steps ({diff.train_steps})")
        if diff.eta < 0:
            raise ConfigError(f"model.diffusion.eta: must not be negative, got {diff.eta}")
        if diff.latent_weight < 0 or diff.decoded_weight < 0 or diff.latent_weight + diff.decoded_weight == 0:
            raise ConfigError("model.diffusion.latent_weight and model.diffusion.decoded_weight: non-negative, not both zero")

    def input_streams(self, config: ModelConfig) -> tuple[str, ...]:
        return ("emotion",)

    def is_online(self, config: ModelConfig) -> bool:
        return bool(config.diffusion.online)

    def online_variant(self, config: ModelConfig) -> ModelConfig:
        return dataclasses.replace(config, diffusion=dataclasses.replace(config.diffusion, online=True))

    def frame_multiple(self, config: ModelConfig) -> int:
        return int(config.diffusion.window)

    def sampling_defaults(self, config: ModelConfig) -> dict[str, Any]:
        return {"steps": config.diffusion.sample_steps, "eta": config.diffusion.eta, "shared_noise": config.diffusion.shared_noise}

    def check_sampling(self, config: ModelConfig, options: Mapping[str, Any]) -> dict[str, Any]:
        resolved = super().check_sampling(config, options)
        train_steps = config.diffusion.train_steps
        if not 1 <= resolved["steps"] <= train_steps:
            raise ConfigError(f"--steps: {resolved['steps']} is outside 1..{train_steps} (the checkpoint's training schedule)")
        if resolved["eta"] < 0:
            raise ConfigError(f"--eta: must not be negative, got {resolved['eta']}")
        return resolved

    def build(self, config: ModelConfig, stream_dims, stream_kinds):
        from reactdiff.methods.belfusion.model import BeLFusionModel

        self.validate_config(config)
        return BeLFusionModel(config, dict(stream_dims))

    def describe(self, model) -> dict[str, int]:
        def count(module) -> int:
            return sum(p.numel() for p in module.parameters())

        parts = {"vae": count(model.vae), "coeff_reg": count(model.vae.coeff_reg), "denoiser": count(model.denoiser)}
        parts["total"] = count(model)
        return parts

    def generate(self, model, speaker, num_samples, generator, steps=None, eta=None, shared_noise=None):
        return model.sample(speaker["emotion"], num_samples=num_samples, steps=steps, eta=eta, shared_noise=shared_noise, generator=generator)


METHOD = BeLFusionMethod()

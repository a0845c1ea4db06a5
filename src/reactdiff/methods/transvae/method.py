"""Trans-VAE (REACT 2024 official baseline) in the method registry: one stage, offline or online
(windowed, causal). Networks: :mod:`reactdiff.methods.transvae.model`."""

from __future__ import annotations

import dataclasses

from reactdiff.errors import ConfigError
from reactdiff.methods.base import Method, StageSpec, check_divisible, check_positive
from reactdiff.methods.transvae.config import MODEL_PRESETS, ModelConfig, TransVAETrainConfig

_TINY = {"preset": "tiny", "steps": 20, "batch_size": 4, "crop_frames": 64, "optim.lr": 1e-3, "val_every": 10, "checkpoint_every": 10}


class TransVAEMethod(Method):
    name = "transvae"
    title = "Trans-VAE: transformer VAE, one latent per sequence or per online window (REACT 2024 baseline)"
    config_class = ModelConfig
    stages = (
        StageSpec(
            "vae", "the whole network: reconstruction + KL + diversity losses, as the original",
            TransVAETrainConfig, "reactdiff.methods.transvae.stage:TransVAEStage",
        ),
    )
    #: Demo and long: the original recipe (batch 4, 256-frame crops, no schedule) at lr 1e-4, the
    #: original code's default (its README's 1e-5 barely moves in a CPU budget). Demo: 1200 steps,
    #: about 330 s of CPU on the small corpus; val FRDist 155.0 after 600 steps, 144.0 after 1200
    #: (docs/methods/transvae.md).
    budgets = {
        "tiny": {"vae": _TINY},
        "demo": {"vae": {"steps": 1200, "optim.lr": 1e-4, "val_every": 200, "checkpoint_every": 200}},
        "long": {"vae": {"steps": 12000, "optim.lr": 1e-4, "val_every": 1000, "checkpoint_every": 1000}},
    }

    @property
    def presets(self):
        return MODEL_PRESETS

    def validate_config(self, config: ModelConfig) -> None:
        if not config.streams:
            raise ConfigError("model.streams: Trans-VAE needs a visual and an audio stream")
        check_positive(config, ("width", "num_heads", "ff_dim", "window"))
        check_divisible(config.width, config.num_heads, "width", "num_heads")
        if not 0 <= config.dropout < 1:
            raise ConfigError(f"model.dropout: must be in [0, 1), got {config.dropout}")
        for name in ("pose_weight", "kl_weight", "div_weight"):
            if getattr(config, name) < 0:
                raise ConfigError(f"model.{name}: must not be negative, got {getattr(config, name)}")

    def is_online(self, config: ModelConfig) -> bool:
        return bool(config.online)

    def online_variant(self, config: ModelConfig) -> ModelConfig:
        return dataclasses.replace(config, online=True)

    def frame_multiple(self, config: ModelConfig) -> int:
        return config.window if config.online else 1

    def build(self, config: ModelConfig, stream_dims, stream_kinds):
        from reactdiff.methods.transvae.model import TransVAEModel

        self.validate_config(config)
        return TransVAEModel(config, dict(stream_dims), dict(stream_kinds))

    def describe(self, model) -> dict[str, int]:
        def count(*modules) -> int:
            return sum(p.numel() for module in modules for p in module.parameters())

        parts = {
            "speaker_encoder": count(model.speaker_encoder),
            "latent_encoder": count(model.latent_encoder),
            "decoder": count(model.decoder),
            "heads": count(model.head_3dmm, model.head_emotion),
        }
        if model.config.online:
            parts["online"] = count(model.online_fusion, model.refiner)
        parts["total"] = count(model)
        return parts

    def generate(self, model, speaker, num_samples, generator):
        return model.sample(speaker, num_samples, generator)


METHOD = TransVAEMethod()

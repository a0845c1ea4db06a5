"""ReactFace (Luo et al., TVCG 2024) in the method registry: online by design, one training stage.
Networks: :mod:`reactdiff.methods.reactface.model`; training: :mod:`reactdiff.methods.reactface.stage`."""

from __future__ import annotations

from typing import Any, Mapping

from reactdiff.errors import ConfigError
from reactdiff.methods.base import Method, StageSpec, check_divisible, check_positive
from reactdiff.methods.reactface.config import PRESETS, ReactFaceConfig, ReactFaceTrainConfig


class ReactFaceMethod(Method):
    name = "reactface"
    title = "ReactFace: online windowed transformer VAE with momentum-smoothed latents (Luo et al., TVCG 2024)"
    config_class = ReactFaceConfig
    stages = (
        StageSpec(
            "reaction", "the whole model, against every appropriate reaction of each training speaker",
            ReactFaceTrainConfig, "reactdiff.methods.reactface.stage:ReactFaceStage",
        ),
    )
    sampling_options = {"momentum": float}
    #: tiny: CI smoke run. demo / long: the ``small`` preset (F = 64), batch 8 of 64-frame crops
    #: (8 windows) at lr 5e-4, about 1.1 s of one CPU core per step (the original: F = 128,
    #: 256-frame crops, lr 2e-5, 200 epochs on a GPU).
    budgets = {
        "tiny": {"reaction": {"preset": "tiny", "steps": 6, "batch_size": 2, "crop_frames": 32, "val_every": 3,
                              "checkpoint_every": 3, "val_batches": 1}},
        "demo": {"reaction": {"preset": "small", "steps": 200, "batch_size": 8, "crop_frames": 64, "optim.lr": 5e-4,
                              "optim.warmup_steps": 20, "val_every": 100, "checkpoint_every": 100}},
        "long": {"reaction": {"preset": "small", "steps": 3000, "batch_size": 8, "crop_frames": 64, "optim.lr": 5e-4,
                              "optim.warmup_steps": 100, "val_every": 500, "checkpoint_every": 500}},
    }

    @property
    def presets(self):
        return PRESETS

    def validate_config(self, config: ReactFaceConfig) -> None:
        if not config.streams:
            raise ConfigError("model.streams: ReactFace needs visual and audio speaker streams")
        check_positive(config, ("feature_dim", "num_heads", "ff_dim", "period", "visual_kernel", "window", "vae_layers",
                                "vae_heads", "vae_ff_dim", "decoder_layers", "max_neighbours"))
        check_divisible(config.feature_dim, config.num_heads, "feature_dim", "num_heads")
        check_divisible(config.feature_dim, config.vae_heads, "feature_dim", "vae_heads")
        if config.feature_dim % 2:
            raise ConfigError(f"model.feature_dim: must be even (sinusoidal positions), got {config.feature_dim}")
        if not 0 <= config.dropout < 1:
            raise ConfigError(f"model.dropout: must be in [0, 1), got {config.dropout}")
        if config.context_frames < 0:
            raise ConfigError(f"model.context_frames: 0 (the whole past) or positive, got {config.context_frames}")
        if not 0 <= config.momentum < 1:
            raise ConfigError(f"model.momentum: must be in [0, 1), got {config.momentum}")
        for name in ("kl_weight", "div_weight", "smooth_weight", "speaker_weight", "pose_weight", "emotion_weight"):
            if getattr(config, name) < 0:
                raise ConfigError(f"model.{name}: must not be negative, got {getattr(config, name)}")

    def is_online(self, config: ReactFaceConfig) -> bool:
        return True

    def online_variant(self, config: ReactFaceConfig) -> ReactFaceConfig:
        return config

    def frame_multiple(self, config: ReactFaceConfig) -> int:
        return int(config.window)

    def sampling_defaults(self, config: ReactFaceConfig) -> dict[str, Any]:
        return {"momentum": config.momentum}

    def check_sampling(self, config: ReactFaceConfig, options: Mapping[str, Any]) -> dict[str, Any]:
        resolved = super().check_sampling(config, options)
        if not 0 <= resolved["momentum"] < 1:
            raise ConfigError(f"--momentum: must be in [0, 1), got {resolved['momentum']}")
        return resolved

    def build(self, config: ReactFaceConfig, stream_dims, stream_kinds):
        from reactdiff.methods.reactface.model import ReactFaceModel

        self.validate_config(config)
        kinds = {name: stream_kinds[name] for name in config.streams}
        for kind in ("visual", "audio"):
            if kind not in kinds.values():
                raise ConfigError(f"model.streams: ReactFace needs at least one {kind} stream, got {list(config.streams)} ({kinds})")
        return ReactFaceModel(config, dict(stream_dims), kinds)

    def describe(self, model) -> dict[str, int]:
        def count(module) -> int:
            return sum(p.numel() for p in module.parameters())

        parts = {name: count(getattr(model, name)) for name in ("speaker_encoder", "fusion", "vae", "decoder", "speaker_head")}
        parts["total"] = count(model)
        return parts

    def generate(self, model, speaker, num_samples, generator, momentum=None):
        from reactdiff.methods.outputs import postprocess_emotion

        out = model.react(speaker, generator, num_samples=num_samples, momentum=momentum)
        batch = next(iter(speaker.values())).shape[0]
        shape = (batch, num_samples, out["coeffs_3dmm"].shape[1])
        return {"emotion": postprocess_emotion(out["emotion"]).reshape(*shape, -1), "coeffs_3dmm": out["coeffs_3dmm"].reshape(*shape, -1)}


METHOD = ReactFaceMethod()

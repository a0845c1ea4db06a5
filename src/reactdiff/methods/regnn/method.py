"""REGNN (Xu et al., 2023, "Reversible Graph Neural Network-based Reaction Distribution Learning for
Multiple Appropriate Facial Reactions Generation") in the method registry: offline, 50-frame
windows at stride 25. Networks: :mod:`reactdiff.methods.regnn.model`; training: ``stage``;
what we kept and changed: docs/methods/regnn.md."""

from __future__ import annotations

from typing import Any, Mapping

from reactdiff.errors import ConfigError
from reactdiff.methods.base import Method, StageSpec, check_divisible, check_positive
from reactdiff.methods.regnn.config import CognitiveConfig, ModelConfig, MotorConfig, PerceptualConfig, RegnnTrainConfig


def default_config() -> ModelConfig:
    """The original's sizes (2.10 M parameters with our 83-d video and 26-d audio inputs)."""
    return ModelConfig()


def paper_config() -> ModelConfig:
    """The original's sizes, its edge mask (the union-of-top-k defect) and its ActNorm
    initialisation (no floor on the std but sqrt(eps)), for parity runs."""
    return ModelConfig(cognitive=CognitiveConfig(edge_mask="union"), motor=MotorConfig(actnorm_min_std=0.0))


def small_config() -> ModelConfig:
    """One cross-modal and one self-attention layer (0.52 M parameters in all) for short CPU runs."""
    return ModelConfig(perceptual=PerceptualConfig(cross_layers=1, self_layers=1))


def tiny_config() -> ModelConfig:
    """The smallest useful model: tests, CI and smoke runs."""
    return ModelConfig(
        perceptual=PerceptualConfig(width=16, heads=2, cross_layers=1, self_layers=1, ff_mult=2, out_dim=16),
        cognitive=CognitiveConfig(hidden_dim=8, edge_channels=2),
        motor=MotorConfig(layers=2),
        max_neighbours=4,
        threshold_epoch_steps=5,
        regressor_hidden=16,
    )


class RegnnMethod(Method):
    name = "regnn"
    title = "REGNN: MulT perception, 25-node cognitive graph, invertible Lipschitz graph flow (Xu et al., 2023)"
    config_class = ModelConfig
    stages = (
        StageSpec(
            "reaction", "the whole model: appropriate reactions forward through the flow onto the speaker's latent",
            RegnnTrainConfig, "reactdiff.methods.regnn.stage:RegnnStage",
        ),
    )
    sampling_options = {"noise_threshold": float, "iterations": int}
    budgets = {
        "tiny": {"reaction": {"preset": "tiny", "steps": 12, "batch_size": 4, "crop_frames": 50, "val_every": 6, "checkpoint_every": 6, "val_batches": 1}},
        # Demo: the 1+1-layer MulT (2.5x faster steps than the original's 5+5 on the shared CPU) at
        # lr 3e-4, decayed x0.1 for the last 20% (the original decays after 9% of 10,100 steps).
        "demo": {"reaction": {"preset": "small", "steps": 500, "batch_size": 32, "crop_frames": 50, "optim.lr": 3e-4, "optim.milestones": (0.8,)}},
        "long": {"reaction": {"steps": 4000, "batch_size": 32, "crop_frames": 50, "optim.lr": 3e-4, "optim.milestones": (0.8,)}},
    }

    @property
    def presets(self):
        return {"default": default_config, "paper": paper_config, "small": small_config, "tiny": tiny_config}

    def validate_config(self, config: ModelConfig) -> None:
        if not config.streams:
            raise ConfigError("model.streams: REGNN needs a visual and an audio stream")
        if len(set(config.streams)) != len(config.streams):
            raise ConfigError(f"model.streams: a stream is listed twice in {list(config.streams)}")
        check_positive(config, ("window", "stride", "max_neighbours", "threshold_epoch_steps", "threshold_divisor", "regressor_hidden"))
        if config.stride > config.window or config.window % config.stride:
            raise ConfigError(f"model.stride ({config.stride}) must divide model.window ({config.window})")
        for name in ("mid_weight", "regressor_weight", "noise_threshold"):
            if getattr(config, name) < 0:
                raise ConfigError(f"model.{name}: must not be negative, got {getattr(config, name)}")
        perceptual = config.perceptual
        check_positive(perceptual, ("width", "heads", "cross_layers", "self_layers", "ff_mult", "out_dim"), "model.perceptual.")
        check_divisible(perceptual.width, perceptual.heads, "width", "heads", "model.perceptual.")
        if perceptual.width < 4:
            raise ConfigError(f"model.perceptual.width: at least 4 (sinusoidal positions), got {perceptual.width}")
        for name in ("embed_dropout", "attn_dropout", "relu_dropout", "res_dropout"):
            if not 0 <= getattr(perceptual, name) < 1:
                raise ConfigError(f"model.perceptual.{name}: must be in [0, 1), got {getattr(perceptual, name)}")
        check_positive(config.cognitive, ("hidden_dim", "edge_channels", "edge_neighbours"), "model.cognitive.")
        motor = config.motor
        check_positive(motor, ("layers", "inverse_iterations", "inverse_tolerance", "actnorm_eps"), "model.motor.")
        if motor.actnorm_min_std < 0:
            raise ConfigError(f"model.motor.actnorm_min_std: must not be negative, got {motor.actnorm_min_std}")
        if motor.lipschitz_margin < 1:
            # With the margin below 1 the residual branch is no longer guaranteed to be a contraction.
            raise ConfigError(f"model.motor.lipschitz_margin: at least 1 keeps each layer invertible, got {motor.lipschitz_margin}")

    def frame_multiple(self, config: ModelConfig) -> int:
        return int(config.window)

    def sampling_defaults(self, config: ModelConfig) -> dict[str, Any]:
        return {"noise_threshold": config.noise_threshold, "iterations": config.motor.inverse_iterations}

    def check_sampling(self, config: ModelConfig, options: Mapping[str, Any]) -> dict[str, Any]:
        resolved = super().check_sampling(config, options)
        if resolved["noise_threshold"] < 0:
            raise ConfigError(f"--option noise_threshold: must not be negative, got {resolved['noise_threshold']}")
        if resolved["iterations"] < 1:
            raise ConfigError(f"--option iterations: must be positive, got {resolved['iterations']}")
        return resolved

    def build(self, config: ModelConfig, stream_dims, stream_kinds):
        from reactdiff.methods.regnn.model import RegnnModel

        self.validate_config(config)
        return RegnnModel(config, dict(stream_dims), dict(stream_kinds))

    def describe(self, model) -> dict[str, int]:
        def count(module) -> int:
            return sum(p.numel() for p in module.parameters())

        parts = {"perceptual": count(model.perceptual), "cognitive": count(model.cognitive), "motor": count(model.motor),
                 "regressor": count(model.regressor)}
        parts["total"] = count(model)
        return parts

    def generate(self, model, speaker, num_samples, generator, noise_threshold=None, iterations=None):
        return model.sample(speaker, num_samples, generator=generator, noise_threshold=noise_threshold, iterations=iterations)


METHOD = RegnnMethod()

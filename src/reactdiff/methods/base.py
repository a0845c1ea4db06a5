"""What every method declares, and the training settings every stage shares.

A *method* (ReactDiff, Trans-VAE, BeLFusion, ...) is one folder under ``reactdiff/methods/`` whose
``method.py`` defines a :class:`Method` subclass instance ``METHOD``. It declares

- its model configuration dataclass and named presets (``presets["default"]`` always exists,
  ``presets["tiny"]`` is the smallest useful size, used by the tests and CI);
- its training stages, in order (:class:`StageSpec`: name, help, settings dataclass, the class
  that trains it, and the earlier stage whose checkpoint it starts from, if any);
- how to build its networks from (config, stream widths, stream kinds);
- whether a configuration runs online (causal), and how to make an online one;
- how it generates K reactions: :meth:`Method.generate`, with the sampling options it takes and
  their defaults read from the trained configuration.

Nothing here imports torch at module level, so the CLI's ``--help`` stays fast; nothing here
imports training code: stage classes are named by import path and loaded only by ``train``.
"""

from __future__ import annotations

import importlib
from dataclasses import dataclass, field
from typing import Any, Callable, ClassVar, Literal, Mapping

from reactdiff.errors import ConfigError

#: What every method returns, per speaker: emotion (15 AU occurrences, valence, arousal, 8
#: expression probabilities) and 58 FaceVerse coefficients (mean face subtracted, as the data).
OUTPUT_DIMS = {"emotion": 25, "coeffs_3dmm": 58}
#: Feature-store stream holding each output's ground truth.
OUTPUT_STREAMS = {"emotion": "emotion", "coeffs_3dmm": "3dmm"}


@dataclass
class OptimConfig:
    """AdamW with linear warm-up then step decay (the ReactDiff reference names the decay but never applies it)."""

    lr: float = 1e-4
    weight_decay: float = 5e-4
    betas: tuple[float, ...] = (0.9, 0.999)
    warmup_steps: int = 200
    #: Points of the training budget (fractions of ``steps``) at which the learning rate is
    #: multiplied by ``gamma``.
    milestones: tuple[float, ...] = (0.8, 0.9)
    gamma: float = 0.1
    #: Gradient-norm clipping (0 = off).
    grad_clip: float = 1.0


@dataclass
class TrainConfig:
    """Everything one training stage needs besides the data root and the output folder. A method's
    stage subclasses it, giving ``model`` its own configuration dataclass and its own defaults."""

    model: Any = None
    #: Start the model settings from a named preset of the method (``--model.*`` flags still
    #: override single fields).
    preset: str = "default"
    optim: OptimConfig = field(default_factory=OptimConfig)
    #: Training budget in optimizer steps: the same command and seed give the same model on any
    #: machine. ``max_minutes`` (if set) may end the run earlier, and the run then says so.
    steps: int = 20000
    max_minutes: float | None = None
    batch_size: int = 16
    #: Random crop per training item (a multiple of the method's frame granularity).
    crop_frames: int = 200
    #: Exponential moving average of the weights, used for validation and generation.
    ema_decay: float = 0.999
    seed: int = 6
    #: Validate on the VAL split (never test) every this many steps; the best EMA weights by val
    #: loss are kept in ``<out>/best``.
    val_every: int = 500
    #: Cap on validation batches (0 = the whole val split).
    val_batches: int = 8
    #: Write ``<out>/last`` (for resuming) every this many steps, and at the end.
    checkpoint_every: int = 500
    log_every: int = 10
    precision: Literal["fp32", "bf16"] = "fp32"
    compile: bool = False
    device: str = "auto"

    def validate(self, frame_multiple: int = 1, max_frames: int = 750) -> "TrainConfig":
        """Reject settings that cannot train (named in the message)."""
        if self.crop_frames % frame_multiple or not 0 < self.crop_frames <= max_frames:
            raise ConfigError(f"crop_frames: must be a multiple of {frame_multiple} in {frame_multiple}..{max_frames}, got {self.crop_frames}")
        for name in ("steps", "batch_size", "val_every", "checkpoint_every", "log_every"):
            if getattr(self, name) <= 0:
                raise ConfigError(f"{name}: must be positive, got {getattr(self, name)}")
        if self.val_batches < 0:
            raise ConfigError(f"val_batches: must be 0 (all) or positive, got {self.val_batches}")
        if not 0.0 <= self.ema_decay < 1.0:
            raise ConfigError(f"ema_decay: must be in [0, 1), got {self.ema_decay}")
        if self.max_minutes is not None and self.max_minutes <= 0:
            raise ConfigError(f"max_minutes: must be positive, got {self.max_minutes}")
        optim = self.optim
        if not optim.lr > 0:
            raise ConfigError(f"optim.lr: must be positive, got {optim.lr}")
        if optim.weight_decay < 0 or optim.warmup_steps < 0 or optim.grad_clip < 0:
            raise ConfigError("optim.weight_decay, optim.warmup_steps and optim.grad_clip must not be negative")
        if not 0 < optim.gamma <= 1:
            raise ConfigError(f"optim.gamma: must be in (0, 1], got {optim.gamma}")
        if len(optim.betas) != 2 or any(not 0 <= b < 1 for b in optim.betas):
            raise ConfigError(f"optim.betas: two values in [0, 1), got {list(optim.betas)}")
        if any(not 0.0 < m <= 1.0 for m in optim.milestones):
            raise ConfigError(f"optim.milestones: fractions of the budget in (0, 1], got {list(optim.milestones)}")
        return self


@dataclass(frozen=True)
class StageSpec:
    """One training stage of a method."""

    name: str
    help: str
    #: The stage's settings (a TrainConfig subclass whose ``model`` is the method's config).
    config_class: type
    #: ``"module:Class"`` of the object that trains the stage (imported only by ``reactdiff train``).
    trainer: str
    #: The earlier stage whose checkpoint this one starts from (its networks are loaded, the
    #: model settings are taken from it); the CLI asks for it as ``--<requires> PATH``.
    requires: str | None = None

    def load_trainer(self):
        module, name = self.trainer.split(":")
        return getattr(importlib.import_module(module), name)()


def check_positive(config: Any, names: tuple[str, ...], prefix: str = "model.") -> None:
    """ConfigError naming the first of ``names`` (attributes of ``config``) that is not positive."""
    for name in names:
        value = getattr(config, name)
        if value <= 0:
            raise ConfigError(f"{prefix}{name}: must be positive, got {value}")


def check_divisible(width: int, heads: int, width_name: str, heads_name: str, prefix: str = "model.") -> None:
    if heads <= 0 or width % heads:
        raise ConfigError(f"{prefix}{width_name} ({width}) must be a positive multiple of {prefix}{heads_name} ({heads})")


class Method:
    """Base class of a registered method (see the module docstring). Subclasses set the class
    attributes and implement :meth:`build` and :meth:`generate`."""

    #: Registry name (``reactdiff train NAME``) and a one-line description.
    name: ClassVar[str]
    title: ClassVar[str]
    #: Bumped when the checkpoint contents of this method change incompatibly.
    version: ClassVar[int] = 1
    config_class: ClassVar[type]
    stages: ClassVar[tuple[StageSpec, ...]]
    #: Sampling options ``generate`` takes (name -> type); defaults come from :meth:`sampling_defaults`.
    sampling_options: ClassVar[Mapping[str, type]] = {}

    @property
    def presets(self) -> dict[str, Callable[[], Any]]:
        """name -> function returning a fresh model config. Must hold "default" and "tiny"."""
        raise NotImplementedError

    def preset(self, name: str):
        if name not in self.presets:
            raise ConfigError(f"preset: {self.name} has no preset {name!r}; choose from {', '.join(self.presets)}")
        return self.presets[name]()

    def stage(self, name: str | None) -> StageSpec:
        if name is None:
            return self.stages[-1]
        for stage in self.stages:
            if stage.name == name:
                return stage
        raise ConfigError(f"{self.name} has no training stage {name!r}; its stages: {', '.join(s.name for s in self.stages)}")

    #: Training budgets by level, per stage: dotted settings (``steps`` above all). ``tiny``: a
    #: smoke run on the tiny corpus (CI); ``demo``: the `reactdiff demo` / benchmark default on the
    #: small corpus (minutes on 2 CPU cores); ``long``: about an hour on 2 CPU cores.
    budgets: ClassVar[Mapping[str, Mapping[str, Mapping[str, Any]]]] = {}

    def budget(self, level: str) -> dict[str, dict[str, Any]]:
        """Per-stage settings of budget ``level`` (ConfigError for an unknown level)."""
        if level not in self.budgets:
            raise ConfigError(f"budget: {self.name} has no budget {level!r}; choose from {', '.join(self.budgets) or 'none'}")
        return {stage: dict(values) for stage, values in self.budgets[level].items()}

    # ----- configuration -------------------------------------------------------------------
    def validate_config(self, config) -> None:
        """Raise ConfigError (one line, naming the ``model.*`` setting) for a config that cannot build."""

    def input_streams(self, config) -> tuple[str, ...]:
        """Feature-store streams the method reads from the speaker."""
        return tuple(config.streams)

    def is_online(self, config) -> bool:
        """True when every output frame depends only on speaker frames before it (causal)."""
        return False

    def online_variant(self, config):
        """The same model settings made online, or None when the method cannot run online."""
        return None

    def frame_multiple(self, config) -> int:
        """Generation pads the speaker to a multiple of this many frames (and trims the output)."""
        return 1

    def sampling_defaults(self, config) -> dict[str, Any]:
        """Default value of every sampling option, as the checkpoint was trained."""
        return {}

    def check_sampling(self, config, options: Mapping[str, Any]) -> dict[str, Any]:
        """The defaults updated with ``options``; ConfigError for an unknown or invalid option."""
        unknown = [name for name in options if name not in self.sampling_options]
        if unknown:
            takes = ", ".join(self.sampling_options) or "none"
            raise ConfigError(f"{self.name} takes no sampling option {', '.join(map(repr, unknown))} (it takes: {takes})")
        resolved = dict(self.sampling_defaults(config))
        for name, value in options.items():
            kind = self.sampling_options[name]
            if kind is float and isinstance(value, int) and not isinstance(value, bool):
                value = float(value)
            if not isinstance(value, kind) or isinstance(value, bool) and kind is not bool:
                raise ConfigError(f"--{name}: expected {kind.__name__}, got {value!r}")
            resolved[name] = value
        return resolved

    def upgrade_config(self, data: dict) -> dict:
        """Model config as saved by an older version of this method -> today's keys."""
        return data

    # ----- networks ------------------------------------------------------------------------
    def build(self, config, stream_dims: Mapping[str, int], stream_kinds: Mapping[str, str]):
        """The method's networks (an ``nn.Module``) for ``config`` and the data's streams."""
        raise NotImplementedError

    def describe(self, model) -> dict[str, int]:
        """Parameter count per part and ``total`` (default: per top-level submodule)."""
        parts = {name: sum(p.numel() for p in child.parameters()) for name, child in model.named_children()}
        parts = {name: count for name, count in parts.items() if count}
        parts["total"] = sum(p.numel() for p in model.parameters())
        return parts

    def generate(self, model, speaker: Mapping[str, Any], num_samples: int, generator, **options) -> dict[str, Any]:
        """K reactions per speaker: speaker streams ``{name: (B, T, D)}`` tensors (T a multiple of
        :meth:`frame_multiple`) -> ``{"emotion": (B, K, T, 25), "coeffs_3dmm": (B, K, T, 58)}``,
        emotion in the data's ranges (AUs 0/1). ``options`` are the resolved sampling options."""
        raise NotImplementedError

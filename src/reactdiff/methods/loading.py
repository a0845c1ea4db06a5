"""One loader for every method's checkpoints: the manifest names the method, the registry gives
its config class and networks."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any

from reactdiff.checkpoint import Checkpoint, load_checkpoint, load_weights
from reactdiff.config import from_dict
from reactdiff.errors import ConfigError, DataError
from reactdiff.methods.registry import METHODS


@dataclass
class MethodCheckpoint:
    """A checkpoint with its method and its parsed model config."""

    method: Any
    config: Any
    checkpoint: Checkpoint

    @property
    def stream_dims(self) -> dict[str, int]:
        return {name: int(info["dim"]) for name, info in self.checkpoint.streams.items()}

    @property
    def stream_kinds(self) -> dict[str, str]:
        return {name: info["kind"] for name, info in self.checkpoint.streams.items()}

    def build(self, ema: bool = True):
        """The method's networks holding the checkpoint's EMA (or raw) weights."""
        model = self.method.build(self.config, self.stream_dims, self.stream_kinds)
        name = "model.safetensors" if ema else "weights.safetensors"
        load_weights(model, self.checkpoint.weights(ema=ema), self.checkpoint.directory / name)
        return model


def load_method_checkpoint(path: str | Path) -> MethodCheckpoint:
    """Read any method's checkpoint (a checkpoint directory or a run folder: its best/)."""
    checkpoint = load_checkpoint(path)
    manifest_path = checkpoint.directory / "checkpoint.json"
    if checkpoint.method not in METHODS:
        raise DataError(manifest_path, f"written by method {checkpoint.method!r}, which this reactdiff does not have (registered: {', '.join(METHODS)})")
    method = METHODS[checkpoint.method]
    version = checkpoint.manifest.get("method_version", 1)
    if not isinstance(version, int) or version > method.version:
        raise DataError(manifest_path, f"{method.name} checkpoint of version {version!r}; this reactdiff reads up to {method.version}")
    try:
        config = from_dict(method.config_class, method.upgrade_config(checkpoint.model), prefix="model.")
        method.validate_config(config)
    except ConfigError as exc:
        raise DataError(checkpoint.directory / "config.json", f"model config does not fit this reactdiff version ({exc})") from exc
    return MethodCheckpoint(method, config, checkpoint)

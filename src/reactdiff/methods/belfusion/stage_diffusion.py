"""Stage 2: latent diffusion of listener windows given speaker windows, with the stage-1 VAE frozen
(loaded from its checkpoint).

Training windows are random crops anywhere in the clip (``crop_frames``, a multiple of the window;
one window by default), both directions of every pair. The original drew them only from the first
100 frames of each clip (a start in 0..49 shared by the batch, and no dataset crop offset).
"""

from __future__ import annotations

import torch
from torch import nn

from reactdiff.checkpoint import Checkpoint
from reactdiff.data.dataset import ReactPairDataset
from reactdiff.errors import ConfigError, DataError
from reactdiff.methods.belfusion.config import ModelConfig


class DiffusionStage:
    """What stage 2 trains (the MLPSkipNet denoiser), on which streams, with which loss."""

    name = "diffusion"
    finish_changes_weights = False
    manifest_on_finish: dict = {}

    def data_streams(self, model_config: ModelConfig) -> tuple[str, ...]:
        return ("emotion",)

    def trainable_parameters(self, model: nn.Module) -> list[nn.Parameter]:
        model.requires_grad_(False)
        model.denoiser.requires_grad_(True)
        return list(model.denoiser.parameters())

    def datasets(self, model: nn.Module, data_root, streams: tuple[str, ...], crop_frames: int, device: torch.device):
        """Train crops and val full clips (None when the dataset has no val pairs)."""
        window = model.config.diffusion.window
        if model.config.diffusion.online and crop_frames < 2 * window:
            raise ConfigError(f"crop_frames: online training pairs each listener window with the speaker window before it, so it needs at least {2 * window} frames, got {crop_frames}")
        train = ReactPairDataset(data_root, "train", streams, train=True, crop_frames=crop_frames)
        return train, ReactPairDataset.val_split(data_root, streams, crop_frames)

    def initialize(self, model: nn.Module, checkpoint: Checkpoint) -> None:
        """Start from the stage-1 checkpoint: its VAE (EMA weights) and latent statistics."""
        if checkpoint.stage != "vae":
            raise DataError(checkpoint.directory, f"is a {checkpoint.stage} checkpoint; stage 2 needs a belfusion vae checkpoint")
        if not checkpoint.manifest.get("latent_stats", False):
            raise DataError(checkpoint.directory, "has no latent statistics (stage-1 training did not finish); re-run `reactdiff train belfusion vae` with the same --out to finish it")
        weights = checkpoint.weights(ema=True)
        state = model.state_dict()
        source = checkpoint.directory / "model.safetensors"
        for name, tensor in state.items():
            if name.startswith("denoiser."):
                continue  # stage 2 trains it from scratch
            if name not in weights or weights[name].shape != tensor.shape:
                found = f"shape {tuple(weights[name].shape)}" if name in weights else "nothing"
                raise DataError(source, f"'{name}': found {found}, the model expects {tuple(tensor.shape)}; the VAE does not fit this model config")
            state[name] = weights[name]
        model.load_state_dict(state)

    def loss(self, model: nn.Module, batch: dict, generator: torch.Generator | None):
        return model.diffusion_loss(batch["speaker"]["emotion"], batch["listener"]["emotion"], generator)

    def finish(self, model: nn.Module, dataset, device: torch.device, batch_size: int) -> None:
        """Nothing to add after stage 2."""

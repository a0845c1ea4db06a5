"""Trans-VAE's one training stage: the whole network end to end on (speaker, listener) crops."""

from __future__ import annotations

import torch
from torch import nn

from reactdiff.data.dataset import ReactPairDataset
from reactdiff.methods.transvae.config import ModelConfig

#: Store streams of the listener that are the targets.
TARGETS = ("emotion", "3dmm")


class TransVAEStage:
    name = "vae"
    finish_changes_weights = False
    manifest_on_finish: dict = {}

    def data_streams(self, model_config: ModelConfig) -> tuple[str, ...]:
        """Speaker inputs plus the listener targets."""
        return tuple(dict.fromkeys(tuple(model_config.streams) + TARGETS))

    def trainable_parameters(self, model: nn.Module) -> list[nn.Parameter]:
        return list(model.parameters())

    def datasets(self, model: nn.Module, data_root, streams: tuple[str, ...], crop_frames: int, device: torch.device):
        """Random crops of both directions of every train pair (the original's mirrored pairs and
        random role swap); val on whole clips (the original used random crops)."""
        train = ReactPairDataset(data_root, "train", streams, train=True, crop_frames=crop_frames)
        return train, ReactPairDataset.val_split(data_root, streams, crop_frames)

    def loss(self, model: nn.Module, batch: dict, generator: torch.Generator | None):
        speaker = {name: batch["speaker"][name] for name in model.config.streams}
        return model.loss(speaker, batch["listener"]["emotion"], batch["listener"]["3dmm"], generator)

    def finish(self, model: nn.Module, dataset, device: torch.device, batch_size: int) -> None:
        """Nothing to add after training."""

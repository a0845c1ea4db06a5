"""REGNN's one training stage: the whole model against every appropriate reaction of each training
speaker (and the emotion -> 3DMM regressor on the true listeners' frames, in the same steps)."""

from __future__ import annotations

import torch
from torch import nn

from reactdiff.methods.regnn.config import ModelConfig
from reactdiff.methods.regnn.neighbours import LISTENER_STREAMS, AppropriateReactions


class RegnnStage:
    name = "reaction"
    finish_changes_weights = False
    manifest_on_finish: dict = {}

    def data_streams(self, model_config: ModelConfig) -> tuple[str, ...]:
        """The speaker inputs plus the listener streams the targets come from."""
        return tuple(dict.fromkeys(model_config.streams + LISTENER_STREAMS))

    def trainable_parameters(self, model: nn.Module) -> list[nn.Parameter]:
        return list(model.parameters())

    def datasets(self, model: nn.Module, data_root, streams: tuple[str, ...], crop_frames: int, device: torch.device):
        """Train and val :class:`AppropriateReactions` (val None without a val split or its matrix).
        Also sets the model's audio standardisation from the train split's clips."""
        config = model.config
        inputs = tuple(config.streams)
        train = AppropriateReactions(data_root, "train", inputs, crop_frames, True, config.max_neighbours, config.stride)
        model.set_audio_stats(*audio_statistics(train, model.audio_streams, device))
        val = None
        layout = train.pairs.layout
        if layout.has_split("val") and layout.has_neighbours("val"):
            val = AppropriateReactions(data_root, "val", inputs, crop_frames, False, config.max_neighbours, config.stride)
            val = val if len(val) else None
        return train, val

    def loss(self, model: nn.Module, batch: dict, generator: torch.Generator | None):
        listener = batch["listener"]
        return model.loss(batch["speaker"], listener["neighbours"], listener["neighbour_mask"], listener["emotion"], listener["3dmm"])

    def finish(self, model: nn.Module, dataset, device: torch.device, batch_size: int) -> None:
        """Nothing to add after training."""


def audio_statistics(dataset: AppropriateReactions, streams: tuple[str, ...], device: torch.device) -> tuple[torch.Tensor, torch.Tensor]:
    """Per-dimension mean and std of the concatenated ``streams`` over every clip of the split."""
    clips = dataset.pairs.layout.clips(dataset.split)
    values = torch.cat([torch.cat([dataset.clip(clip)[name] for name in streams], dim=-1) for clip in clips])
    return values.mean(dim=0).to(device), values.std(dim=0).to(device)

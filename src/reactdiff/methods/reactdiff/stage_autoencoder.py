"""Stage 1: the behaviour autoencoder, trained on every person's own streams.

Speakers and listeners are both "persons" here: a batch of B pairs gives 2B sequences, each
encoded from its own audio-visual streams and decoded back to its own emotion and 3DMM.
"""

from __future__ import annotations

import torch
from torch import nn

from reactdiff.data.dataset import ReactPairDataset
from reactdiff.methods.reactdiff.config import ModelConfig

#: Store streams that are the reconstruction targets (and the model's output names).
TARGETS = {"emotion": "emotion", "3dmm": "coeffs_3dmm"}


class AutoencoderStage:
    """What stage 1 trains, on which streams, with which loss, and what it does at the end."""

    name = "autoencoder"
    #: ``finish`` adds latent statistics, so the best checkpoint is finished too.
    finish_changes_weights = True
    #: Recorded in the final checkpoints' manifest; stage 2 refuses an autoencoder without it.
    manifest_on_finish = {"latent_stats": True}

    def data_streams(self, model_config: ModelConfig) -> tuple[str, ...]:
        """Model inputs plus the two target streams."""
        return tuple(dict.fromkeys(model_config.streams + tuple(TARGETS)))

    def trainable_parameters(self, model: nn.Module) -> list[nn.Parameter]:
        """Only the autoencoder learns; the (untrained) diffusion part stays frozen."""
        model.requires_grad_(False)
        model.autoencoder.requires_grad_(True)
        return [p for p in model.parameters() if p.requires_grad]

    def datasets(self, model: nn.Module, data_root, streams: tuple[str, ...], crop_frames: int, device: torch.device):
        """Train (random crops, both directions) and val (full clips; None when there is none) pairs."""
        train = ReactPairDataset(data_root, "train", streams, train=True, crop_frames=crop_frames)
        return train, ReactPairDataset.val_split(data_root, streams, crop_frames)

    def loss(self, model: nn.Module, batch: dict, generator: torch.Generator | None):
        persons = {name: torch.cat([batch["speaker"][name], batch["listener"][name]]) for name in batch["speaker"]}
        inputs = {name: persons[name] for name in model.config.streams}
        targets = {output: persons[stream] for stream, output in TARGETS.items()}
        return model.autoencoder_loss(inputs, targets)

    @torch.no_grad()
    def finish(self, model: nn.Module, dataset, device: torch.device, batch_size: int) -> None:
        """Store latent statistics over the training set (whole clips) in ``model``: per dimension,
        or per frame position and dimension (``diffusion.stats``), accumulated batch by batch."""
        model.eval()
        statistics = model.latent_statistics()
        for start in range(0, len(dataset), batch_size):
            items = [dataset[i] for i in range(start, min(start + batch_size, len(dataset)))]
            # The evaluation order lists every pair in both directions, so speakers cover everyone.
            streams = {name: torch.stack([item["speaker"][name] for item in items]).to(device) for name in model.config.streams}
            statistics.update(model.encode(streams))
        model.set_latent_stats(statistics)

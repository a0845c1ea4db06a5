"""Stage 1: the emotion VAE and its 3DMM head, trained on every person's own windows.

Speakers and listeners are both "persons": a batch of B pairs gives 2B sequences, each cut into
50-frame windows, encoded, decoded back to its own emotion, and mapped to its own 3DMM.
"""

from __future__ import annotations

import torch
from torch import nn

from reactdiff.data.dataset import ReactPairDataset
from reactdiff.methods.belfusion.config import ModelConfig


class VAEStage:
    """What stage 1 trains (the VAE with ``coeff_reg``), on which streams, with which loss."""

    name = "vae"
    #: ``finish`` adds the latent min-max statistics, so the best checkpoint is finished too.
    finish_changes_weights = True
    #: Recorded in the final checkpoints' manifest; stage 2 refuses a VAE without it.
    manifest_on_finish = {"latent_stats": True}

    def data_streams(self, model_config: ModelConfig) -> tuple[str, ...]:
        """Emotion (input and target) and the person's real 3DMM (target of ``coeff_reg``)."""
        return ("emotion", "3dmm")

    def trainable_parameters(self, model: nn.Module) -> list[nn.Parameter]:
        model.requires_grad_(False)
        model.vae.requires_grad_(True)
        return list(model.vae.parameters())

    def datasets(self, model: nn.Module, data_root, streams: tuple[str, ...], crop_frames: int, device: torch.device):
        """Train (random crops, both directions) and val (full clips; None when there is none) pairs."""
        train = ReactPairDataset(data_root, "train", streams, train=True, crop_frames=crop_frames)
        return train, ReactPairDataset.val_split(data_root, streams, crop_frames)

    def loss(self, model: nn.Module, batch: dict, generator: torch.Generator | None):
        emotion = torch.cat([batch["speaker"]["emotion"], batch["listener"]["emotion"]])
        coeffs = torch.cat([batch["speaker"]["3dmm"], batch["listener"]["3dmm"]])
        return model.vae_loss(emotion, coeffs, generator)

    @torch.no_grad()
    def finish(self, model: nn.Module, dataset, device: torch.device, batch_size: int) -> None:
        """Per-dimension min and max of the latent over every training window of every person
        (window-aligned from frame 0; the evaluation order lists each person as a speaker)."""
        model.eval()
        latents = []
        for start in range(0, len(dataset), batch_size):
            items = [dataset[i] for i in range(start, min(start + batch_size, len(dataset)))]
            emotion = torch.stack([item["speaker"]["emotion"] for item in items]).to(device)
            latents.append(model.encode(emotion).flatten(0, 1))
        model.set_latent_stats(torch.cat(latents))

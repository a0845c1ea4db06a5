"""Stage 2: latent diffusion of the listener's behaviour given the speaker's, with the stage-1
autoencoder frozen (loaded from its checkpoint)."""

from __future__ import annotations

import torch
from torch import nn

from reactdiff.errors import DataError
from reactdiff.model.config import ModelConfig
from reactdiff.train.checkpoint import Checkpoint


class DiffusionStage:
    """What stage 2 trains (denoiser + condition encoder), on which streams, with which loss."""

    name = "diffusion"
    finish_changes_weights = False
    manifest_on_finish: dict = {}

    def data_streams(self, model_config: ModelConfig) -> tuple[str, ...]:
        return tuple(model_config.streams)

    def trainable_parameters(self, model: nn.Module) -> list[nn.Parameter]:
        model.requires_grad_(False)
        parameters = list(model.diffusion_parameters())
        for parameter in parameters:
            parameter.requires_grad_(True)
        return parameters

    def loss(self, model: nn.Module, batch: dict, generator: torch.Generator | None):
        # The model encodes both sides with the frozen encoder (no grad, no dropout) itself.
        return model.diffusion_loss(batch["speaker"], batch["listener"], generator=generator)

    def finish(self, model: nn.Module, dataset, device: torch.device, batch_size: int) -> None:
        """Nothing to add after stage 2."""


def load_autoencoder(model: nn.Module, checkpoint: Checkpoint) -> None:
    """Copy the stage-1 weights (EMA) into ``model``: every tensor except the diffusion part must
    be in the checkpoint with the same shape, so a mismatched autoencoder fails loudly."""
    if checkpoint.stage != "autoencoder":
        raise DataError(checkpoint.directory, f"is a {checkpoint.stage} checkpoint; stage 2 needs an autoencoder checkpoint")
    if not checkpoint.manifest.get("latent_stats", False):
        raise DataError(
            checkpoint.directory,
            "has no latent statistics (stage-1 training did not finish); re-run `reactdiff train autoencoder` with the same --out to finish it",
        )
    weights = checkpoint.weights(ema=True)
    diffusion_ids = {id(p) for p in model.diffusion_parameters()}
    diffusion_names = {name for name, p in model.named_parameters() if id(p) in diffusion_ids}
    state = model.state_dict()
    source = checkpoint.directory / "model.safetensors"
    for name, tensor in state.items():
        if name in diffusion_names:
            continue
        fits = name in weights and weights[name].shape == tensor.shape
        if fits:
            state[name] = weights[name]
        elif name.startswith("autoencoder."):
            # The autoencoder itself must match exactly; other buffers (noise schedule, latent
            # statistics) are taken when they fit and otherwise belong to the new settings.
            found = f"shape {tuple(weights[name].shape)}" if name in weights else "nothing"
            raise DataError(source, f"'{name}': found {found}, the model expects {tuple(tensor.shape)}; the autoencoder does not fit this model config")
    model.load_state_dict(state)

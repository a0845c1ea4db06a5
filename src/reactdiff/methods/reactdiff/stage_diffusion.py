"""Stage 2: latent diffusion of the listener's behaviour given the speaker's, with the stage-1
autoencoder frozen (loaded from its checkpoint).

The frozen encoder has no dropout and no gradients in stage 2, so a clip's latents never change:
they are encoded once, whole clips at a time, before the first step (:class:`LatentWindows`), and
every step trains only the condition encoder and the denoiser. Encoding whole clips also gives
every training window the same latents and the same previous speaker window that generation gives
it (a crop encoded on its own would shift the encoder's attention chunks and see zeros before its
first window).
"""

from __future__ import annotations

import torch
from torch import nn
from tqdm import tqdm

from reactdiff.constants import CLIP_FRAMES
from reactdiff.data.dataset import ReactPairDataset
from reactdiff.errors import DataError
from reactdiff.methods.reactdiff.config import ModelConfig
from reactdiff.checkpoint import Checkpoint


class LatentWindows:
    """Stage-2 items over a :class:`ReactPairDataset`, from latents encoded once per clip.

    An item is ``{"speaker": {"condition": (n, condition_span * window, latent)},
    "listener": {"latent": (n, window, latent), "first_window": ()}, "index": i}``: ``n`` consecutive listener windows
    of pair ``i`` (a random window-aligned crop of ``crop_frames`` frames for the train split, the
    whole clip otherwise) and the speaker frames each is conditioned on
    (``model.condition_windows`` of the whole clip). Latents are raw (the loss normalises them)
    and live on ``device``: 0.73 MiB per clip, 2.3 GiB for the full REACT 2024 train split (3186 clips).
    """

    def __init__(self, model: nn.Module, pairs: ReactPairDataset, device: torch.device, batch_size: int = 16):
        self.model = model
        self.pairs = pairs.pairs
        self.crop_windows = (pairs.crop_frames or CLIP_FRAMES) // model.window if pairs.train else None
        clips = list(dict.fromkeys(clip for pair in self.pairs for clip in (pair.speaker, pair.listener)))
        self.latents: dict[str, torch.Tensor] = {}
        for start in tqdm(range(0, len(clips), batch_size), desc=f"encoding {pairs.split} clips", unit="batch", leave=False):
            names = clips[start : start + batch_size]
            read = [pairs.clip(clip) for clip in names]  # each clip's streams read once
            streams = {name: torch.stack([clip[name] for clip in read]).to(device) for name in model.config.streams}
            self.latents.update(zip(names, model.encode_windows(streams)))

    def __len__(self) -> int:
        return len(self.pairs)

    def __getitem__(self, index: int) -> dict:
        pair = self.pairs[index]
        speaker = self.model.condition_windows(self.latents[pair.speaker][None])[0]
        listener = self.latents[pair.listener]
        start = 0
        if self.crop_windows is not None and self.crop_windows < listener.shape[0]:
            # Same RNG as the frame crops of ReactPairDataset, so runs stay reproducible and resumable.
            start = int(torch.randint(0, listener.shape[0] - self.crop_windows + 1, ()).item())
            speaker = speaker[start : start + self.crop_windows]
            listener = listener[start : start + self.crop_windows]
        # The crop's first clip window: per-position latent statistics need where the windows sit.
        listener_item = {"latent": listener, "first_window": torch.tensor(start, device=listener.device)}
        return {"speaker": {"condition": speaker}, "listener": listener_item, "index": index}


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

    def datasets(self, model: nn.Module, data_root, streams: tuple[str, ...], crop_frames: int, device: torch.device):
        """Train and val :class:`LatentWindows` (val None when the dataset has no val pairs)."""
        train = LatentWindows(model, ReactPairDataset(data_root, "train", streams, train=True, crop_frames=crop_frames), device)
        val = ReactPairDataset.val_split(data_root, streams)
        return train, None if val is None else LatentWindows(model, val, device)

    def initialize(self, model: nn.Module, checkpoint: Checkpoint) -> None:
        """Start from the stage-1 checkpoint: its frozen autoencoder and latent statistics."""
        load_autoencoder(model, checkpoint)

    def loss(self, model: nn.Module, batch: dict, generator: torch.Generator | None):
        listener = batch["listener"]
        # Batches built from whole clips (no crop) may omit first_window: they start at window 0.
        first_window = listener.get("first_window", 0)
        return model.window_loss(batch["speaker"]["condition"], listener["latent"], generator=generator, first_window=first_window)

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

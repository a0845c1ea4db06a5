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

from reactdiff.chunks import OFFLINE_CHUNK
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

    Clips are encoded as generation encodes them: in consecutive ``chunk_frames`` chunks
    (:mod:`reactdiff.generation`), each on its own, each conditioned only on its own windows; a
    REACT 2024 clip is one chunk. A chunk's last partial window (shorter clips of REACT 2025/2026)
    is left out of training. Val items of a split whose clips differ in length are cut to the
    shortest clip's windows, so they batch together.
    """

    def __init__(self, model: nn.Module, pairs: ReactPairDataset, device: torch.device, batch_size: int = 16,
                 chunk_frames: int = OFFLINE_CHUNK):
        from reactdiff.chunks import offline_chunks

        self.model = model
        self.pairs = pairs.pairs
        window = model.window
        self.crop_windows = (pairs.crop_frames or CLIP_FRAMES) // window if pairs.train else None
        clips = list(dict.fromkeys(clip for pair in self.pairs for clip in (pair.speaker, pair.listener)))
        #: Per clip, the window ranges [w0, w1) of its chunks (conditions never cross them).
        self.segments: dict[str, list[tuple[int, int]]] = {}
        pieces: dict[int, list[tuple[str, int, int]]] = {}  # usable frames -> (clip, chunk start, segment index)
        for clip in clips:
            self.segments[clip] = []
            windows = 0
            for start, stop in offline_chunks(pairs.frames(clip), chunk_frames):
                usable = (stop - start) // window * window
                if usable:
                    pieces.setdefault(usable, []).append((clip, start, len(self.segments[clip])))
                    self.segments[clip].append((windows, windows + usable // window))
                    windows += usable // window
        encoded: dict[tuple[str, int], torch.Tensor] = {}
        jobs = [(usable, group[first : first + batch_size]) for usable, group in pieces.items() for first in range(0, len(group), batch_size)]
        for usable, batch in tqdm(jobs, desc=f"encoding {pairs.split} clips", unit="batch", leave=False):
            read = [pairs.read(clip, start, usable) for clip, start, _ in batch]  # each chunk's streams read once
            streams = {name: torch.stack([piece[name] for piece in read]).to(device) for name in model.config.streams}
            for (clip, _, segment), latent in zip(batch, model.encode_windows(streams)):
                encoded[(clip, segment)] = latent
        self.latents: dict[str, torch.Tensor] = {
            clip: torch.cat([encoded.pop((clip, index)) for index in range(len(segments))]) for clip, segments in self.segments.items() if segments
        }
        missing = [clip for clip, segments in self.segments.items() if not segments]
        if missing:
            raise DataError(pairs.store.directory, f"clip {missing[0]} of {pairs.split} is shorter than one {window}-frame window")
        lengths = [min(len(self.latents[pair.speaker]), len(self.latents[pair.listener])) for pair in self.pairs]
        #: Windows of a val item (all of them for REACT 2024, whose clips have one length).
        self.item_windows = min(lengths, default=0) if not pairs.train else None

    def __len__(self) -> int:
        return len(self.pairs)

    def _condition(self, clip: str) -> torch.Tensor:
        latents = self.latents[clip]
        return torch.cat([self.model.condition_windows(latents[w0:w1][None])[0] for w0, w1 in self.segments[clip]])

    def __getitem__(self, index: int) -> dict:
        pair = self.pairs[index]
        speaker, listener = self._condition(pair.speaker), self.latents[pair.listener]
        windows = min(len(speaker), len(listener))
        speaker, listener = speaker[:windows], listener[:windows]
        start = 0
        if self.crop_windows is not None and self.crop_windows < listener.shape[0]:
            # Same RNG as the frame crops of ReactPairDataset, so runs stay reproducible and resumable.
            start = int(torch.randint(0, listener.shape[0] - self.crop_windows + 1, ()).item())
            speaker = speaker[start : start + self.crop_windows]
            listener = listener[start : start + self.crop_windows]
        elif self.item_windows is not None:
            speaker, listener = speaker[: self.item_windows], listener[: self.item_windows]
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

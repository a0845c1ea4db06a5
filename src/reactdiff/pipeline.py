"""``ReactDiff``: a trained model for generating listener reactions, loaded from one checkpoint.

    from reactdiff.pipeline import ReactDiff
    model = ReactDiff.from_checkpoint("runs/diffusion")
    reactions = model.generate({"emotion": e, "3dmm": c, "mfcc": m}, num_samples=10, seed=0)
    reactions["emotion"].shape  # (10, T, 25); reactions["coeffs_3dmm"]: (10, T, 58)

Speaker streams are (T, D) arrays named as in the checkpoint's ``streams.json`` (the feature
store's stream names). T need not be a multiple of the 50-frame window: the last window is padded
by repeating the last frame and the output is trimmed back to T frames. In the default offline
mode the padding can only influence the frames of that last (partial) window.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any, Mapping, Sequence

import numpy as np
import torch

from reactdiff.errors import DataError


class ReactDiff:
    """A trained ReactDiff model (EMA weights, eval mode) plus the streams it expects."""

    def __init__(self, model, streams: dict[str, dict[str, Any]], device: str | torch.device = "cpu", source: str | Path = "model"):
        self.model = model.to(device).eval()
        self.streams = streams
        self.device = torch.device(device)
        self.source = str(source)

    @classmethod
    def from_checkpoint(cls, path: str | Path, device: str | torch.device = "cpu") -> "ReactDiff":
        """Load a diffusion checkpoint directory (or a run folder: its ``best`` checkpoint)."""
        from reactdiff.methods.reactdiff import build_model
        from reactdiff.checkpoint import load_checkpoint, load_weights

        checkpoint = load_checkpoint(path)
        if checkpoint.stage != "diffusion":
            raise DataError(checkpoint.directory, f"is a {checkpoint.stage} checkpoint; generation needs a diffusion checkpoint (`reactdiff train diffusion`)")
        streams = checkpoint.streams
        model = build_model(
            checkpoint.model_config,
            {name: int(info["dim"]) for name, info in streams.items()},
            {name: info["kind"] for name, info in streams.items()},
        )
        load_weights(model, checkpoint.weights(ema=True), checkpoint.directory / "model.safetensors")
        return cls(model, streams, device=device, source=checkpoint.directory)

    @property
    def stream_names(self) -> tuple[str, ...]:
        """The speaker streams the model reads, in order."""
        return tuple(self.model.config.streams)

    @property
    def window(self) -> int:
        return int(self.model.window)

    def check_streams(self, available: Mapping[str, int], source: str | Path = "speaker streams") -> None:
        """Raise DataError naming any stream the model needs that ``available`` (name -> width)
        lacks or holds with another width."""
        missing = [name for name in self.stream_names if name not in available]
        if missing:
            raise DataError(
                source,
                f"missing stream(s) {', '.join(missing)} needed by the checkpoint {self.source} "
                f"(needs {', '.join(self.stream_names)}; has {', '.join(available) or 'none'})",
            )
        for name in self.stream_names:
            expected = int(self.streams[name]["dim"])
            if int(available[name]) != expected:
                raise DataError(source, f"stream '{name}' is {available[name]}-d but the checkpoint {self.source} expects {expected}-d")

    def generate(
        self,
        speaker_streams: Mapping[str, np.ndarray],
        num_samples: int = 10,
        steps: int = 20,
        seed: int | None = None,
        eta: float = 0.0,
        sampler: str = "ddim",
    ) -> dict[str, np.ndarray]:
        """K = ``num_samples`` listener reactions to one speaker: ``{"emotion": (K, T, 25),
        "coeffs_3dmm": (K, T, 58)}`` float32 (3DMM mean-face subtracted, as the data)."""
        batch = {name: np.asarray(value)[None] for name, value in speaker_streams.items()}
        result = self.generate_batch(batch, num_samples=num_samples, steps=steps, seed=seed, eta=eta, sampler=sampler)
        return {name: value[0] for name, value in result.items()}

    @torch.no_grad()
    def generate_batch(
        self,
        speaker_streams: Mapping[str, np.ndarray] | Sequence[Mapping[str, np.ndarray]],
        num_samples: int = 10,
        steps: int = 20,
        seed: int | None = None,
        eta: float = 0.0,
        sampler: str = "ddim",
    ) -> dict[str, np.ndarray]:
        """Reactions for B speakers at once: a dict of (B, T, D) arrays or a list of B dicts of
        (T, D) arrays (same T). Returns ``{"emotion": (B, K, T, 25), "coeffs_3dmm": (B, K, T, 58)}``.
        All K samples of all speakers are drawn in one batched sampling call."""
        if not isinstance(speaker_streams, Mapping):
            if not speaker_streams:
                raise DataError("speaker streams", "empty list of speakers")
            self.check_streams({name: np.shape(value)[-1] for name, value in speaker_streams[0].items()})
            speaker_streams = {name: np.stack([np.asarray(s[name]) for s in speaker_streams]) for name in self.stream_names}
        self.check_streams({name: np.shape(value)[-1] for name, value in speaker_streams.items()})
        arrays = {name: np.asarray(speaker_streams[name], dtype=np.float32) for name in self.stream_names}
        lengths = {name: value.shape[1] for name, value in arrays.items() if value.ndim == 3}
        if len(lengths) != len(arrays) or len(set(lengths.values())) != 1:
            shapes = {name: value.shape for name, value in arrays.items()}
            raise DataError("speaker streams", f"need (B, T, D) arrays with one T for all streams, got {shapes}")
        frames = next(iter(lengths.values()))
        if frames == 0:
            raise DataError("speaker streams", "no frames")
        padded = -(-frames // self.window) * self.window
        inputs = {}
        for name, value in arrays.items():
            tensor = torch.from_numpy(value).to(self.device)
            if padded > frames:
                # Repeat the last frame to fill the last window; the output is trimmed back below.
                tensor = torch.cat([tensor, tensor[:, -1:].expand(-1, padded - frames, -1)], dim=1)
            inputs[name] = tensor
        generator = torch.Generator(device=self.device)
        if seed is None:
            generator.seed()
        else:
            generator.manual_seed(seed)
        output = self.model.sample(inputs, num_samples=num_samples, steps=steps, eta=eta, sampler=sampler, generator=generator)
        return {name: value[:, :, :frames].float().cpu().numpy() for name, value in output.items()}

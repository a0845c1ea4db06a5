"""``ReactionModel``: any registered method's trained model, loaded from one checkpoint, that
generates listener reactions.

    from reactdiff.pipeline import ReactionModel
    model = ReactionModel.from_checkpoint("runs/reactdiff/diffusion")      # any method's checkpoint
    reactions = model.generate({"emotion": e, "3dmm": c, "mfcc": m}, num_samples=10, seed=0)
    reactions["emotion"].shape  # (10, T, 25); reactions["coeffs_3dmm"]: (10, T, 58)

Speaker streams are (T, D) arrays named as in the checkpoint's ``streams.json`` (the feature
store's stream names). T need not be a multiple of the method's frame granularity (ReactDiff's
50-frame window): the speaker is padded by repeating its last frame and the output trimmed back
to T frames. Sampling options (ReactDiff: ``steps``, ``eta``, ``sampler``) default to what the
checkpoint was trained with.

This module is the inference path: it imports nothing from ``reactdiff.train``.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any, Mapping, Sequence

import numpy as np
import torch

from reactdiff.constants import FPS
from reactdiff.device import resolve_device
from reactdiff.errors import ConfigError, DataError


class ReactionModel:
    """A trained model of any registered method (EMA weights, eval mode) plus the streams it expects."""

    def __init__(self, method, config, model, streams: dict[str, dict[str, Any]], device: str | torch.device = "cpu",
                 source: str | Path = "model", stage: str = "", fps: float = FPS):
        self.method = method
        self.config = config
        self.device = resolve_device(str(device)) if not isinstance(device, torch.device) else device
        self.model = model.to(self.device).eval()
        self.streams = streams
        self.source = str(source)
        self.stage = stage
        #: Frames per second of the data the model was trained on (25 for checkpoints that predate the record).
        self.fps = float(fps)

    @classmethod
    def from_checkpoint(cls, path: str | Path, device: str | torch.device = "cpu") -> "ReactionModel":
        """Load a checkpoint directory (or a run folder: its ``best`` checkpoint) of any method.
        The checkpoint must be of the method's last training stage."""
        from reactdiff.methods.loading import load_method_checkpoint

        device = device if isinstance(device, torch.device) else resolve_device(device)
        loaded = load_method_checkpoint(path)
        method, checkpoint = loaded.method, loaded.checkpoint
        final = method.stages[-1].name
        if checkpoint.stage != final:
            raise DataError(
                checkpoint.directory,
                f"is a {method.name} {checkpoint.stage} checkpoint; generation needs its final stage '{final}' "
                f"(`reactdiff train {method.name}{'' if len(method.stages) == 1 else ' ' + final} ...`)",
            )
        fps = checkpoint.manifest.get("fps", FPS)
        if isinstance(fps, bool) or not isinstance(fps, (int, float)) or not 0 < fps <= 1000:
            raise DataError(checkpoint.directory / "checkpoint.json", f"'fps' must be a positive frame rate, got {fps!r}")
        return cls(method, loaded.config, loaded.build(ema=True), checkpoint.streams, device=device,
                   source=checkpoint.directory, stage=checkpoint.stage, fps=fps)

    @property
    def name(self) -> str:
        return self.method.name

    @property
    def stream_names(self) -> tuple[str, ...]:
        """The speaker streams the model reads, in order."""
        return tuple(self.method.input_streams(self.config))

    @property
    def online(self) -> bool:
        return self.method.is_online(self.config)

    @property
    def frame_multiple(self) -> int:
        return self.method.frame_multiple(self.config)

    def sampling(self, **options: Any) -> dict[str, Any]:
        """The sampling options generation uses: the checkpoint's, updated with ``options`` (None
        values ignored); a ConfigError names an option the method does not take or a bad value."""
        return self.method.check_sampling(self.config, {k: v for k, v in options.items() if v is not None})

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

    def generate(self, speaker_streams: Mapping[str, np.ndarray], num_samples: int = 10, seed: int | None = None,
                 **sampling: Any) -> dict[str, np.ndarray]:
        """K = ``num_samples`` listener reactions to one speaker: ``{"emotion": (K, T, 25),
        "coeffs_3dmm": (K, T, 58)}`` float32 (3DMM mean-face subtracted, as the data)."""
        batch = {name: np.asarray(value)[None] for name, value in speaker_streams.items()}
        result = self.generate_batch(batch, num_samples=num_samples, seed=seed, **sampling)
        return {name: value[0] for name, value in result.items()}

    @torch.no_grad()
    def generate_batch(self, speaker_streams: Mapping[str, np.ndarray] | Sequence[Mapping[str, np.ndarray]],
                       num_samples: int = 10, seed: int | None = None, **sampling: Any) -> dict[str, np.ndarray]:
        """Reactions for B speakers at once: a dict of (B, T, D) arrays or a list of B dicts of
        (T, D) arrays (same T). Returns ``{"emotion": (B, K, T, 25), "coeffs_3dmm": (B, K, T, 58)}``."""
        if isinstance(num_samples, bool) or not isinstance(num_samples, int) or num_samples < 1:
            raise ConfigError(f"--samples: must be a positive integer, got {num_samples!r}")
        options = self.sampling(**sampling)
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
        for name, value in arrays.items():
            if not np.isfinite(value).all():
                raise DataError("speaker streams", f"stream '{name}' holds NaN or infinite values")
        padded = -(-frames // self.frame_multiple) * self.frame_multiple
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
        output = self.method.generate(self.model, inputs, num_samples, generator, **options)
        return {name: output[name][:, :, :frames].float().cpu().numpy() for name in ("emotion", "coeffs_3dmm")}

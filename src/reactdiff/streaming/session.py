"""A live reaction session: speaker feature frames in, listener frames out as soon as they are
determined, by any online checkpoint.

    from reactdiff.pipeline import ReactionModel
    from reactdiff.streaming import ReactionSession
    session = ReactionSession(ReactionModel.from_checkpoint(ckpt), num_samples=1, seed=0)
    for rows in live_feature_rows:                      # {name: (n, D)} per arrival, any n
        for chunk in session.push(rows):                 # ListenerChunk: frames start .. stop - 1
            show(chunk.emotion[0], chunk.coeffs_3dmm[0])

Causal by construction: only checkpoints whose method says they are online are accepted (an
online listener frame depends on speaker frames before it only), so a listener frame can be
emitted once the speaker frames it depends on have arrived.

ReactDiff runs window by window with carried state (the raw speaker latents of the last
``context_windows`` windows and the per-sample initial noise window), through
:class:`reactdiff.methods.reactdiff.online.OnlineWindows`, the path offline generation of an
online checkpoint takes too. Listener window w depends on speaker windows before w, so it is
emitted the moment speaker window w - 1 is complete (window 0 at once). For one speaker and the
same seed, the streamed reactions are bit-identical to ``ReactionModel.generate`` of the whole
clip, with any sampler and eta (tests/test_streaming.py): the benchmark's online numbers are the
live agent's.

Other online methods run through their ``generate`` on the causal prefix received so far,
re-generated on every push (the same seed each time): frames 0 .. n - 1 are emitted once n
speaker frames have arrived. That costs a whole-prefix generation per push; it is the fallback for
methods without a window-level API.
"""

from __future__ import annotations

import secrets
from dataclasses import dataclass
from typing import Any, Mapping

import numpy as np
import torch

from reactdiff.errors import ConfigError, DataError


@dataclass
class ListenerChunk:
    """Listener frames ``start .. stop - 1`` of K reactions (frame indices on the speaker's 25 fps clock)."""

    start: int
    emotion: np.ndarray  # (K, n, 25) float32, in the data's ranges (AUs 0/1)
    coeffs_3dmm: np.ndarray  # (K, n, 58) float32, mean face subtracted
    faces: np.ndarray | None = None  # (n, size, size, 3) uint8: reaction 0 drawn by the 2-D renderer

    @property
    def stop(self) -> int:
        return self.start + self.emotion.shape[1]


class ReactionSession:
    """K listener reactions to a live speaker (see the module docstring)."""

    def __init__(self, model, num_samples: int = 1, seed: int | None = 0, render_size: int | None = None,
                 window_api: bool = True, **sampling: Any):
        if not model.online:
            raise ConfigError(
                f"checkpoint {model.source} ({model.name}) generates offline (it looks at later speaker frames); "
                f"a live session needs an online checkpoint (train with --model.diffusion.online true or the "
                f"'tiny-online' preset)"
            )
        if isinstance(num_samples, bool) or not isinstance(num_samples, int) or num_samples < 1:
            raise ConfigError(f"samples: must be a positive integer, got {num_samples!r}")
        if render_size is not None and render_size < 16:
            raise ConfigError(f"render_size: at least 16 pixels, got {render_size}")
        self.model = model
        self.num_samples = num_samples
        # One seed for the whole session (the prefix path regenerates with it on every push).
        self.seed = secrets.randbits(31) if seed is None else seed
        self.render_size = render_size
        self.options = model.sampling(**sampling)
        self.dims = {name: int(model.streams[name]["dim"]) for name in model.stream_names}
        self._pending = {name: np.zeros((0, dim), np.float32) for name, dim in self.dims.items()}
        #: Speaker frames received, listener frames emitted.
        self.frames_in = 0
        self.frames_out = 0
        self._stepper = _WindowStepper(self) if window_api and _WindowStepper.supports(model) else _PrefixStepper(self)

    @property
    def window(self) -> int:
        """Listener frames emitted together (ReactDiff: the diffusion window; 1 on the prefix path)."""
        return self._stepper.window

    def first_dependent(self, speaker_frame: int) -> int:
        """The first listener frame that depends on speaker frame ``speaker_frame``."""
        return self._stepper.first_dependent(speaker_frame)

    def emitted_after(self, speaker_frames: int) -> int:
        """Listener frames emitted once ``speaker_frames`` speaker frames have arrived."""
        return self._stepper.emitted_after(speaker_frames)

    def push(self, rows: Mapping[str, np.ndarray]) -> list[ListenerChunk]:
        """Feed speaker feature rows ``{stream: (n, D)}`` (every stream the checkpoint reads, the
        same n); returns the listener frames that became determined, in order."""
        missing = [name for name in self.dims if name not in rows]
        if missing:
            raise DataError("live speaker", f"missing stream(s) {', '.join(missing)} (the checkpoint reads {', '.join(self.dims)})")
        arrays = {}
        for name, dim in self.dims.items():
            value = np.asarray(rows[name], dtype=np.float32)
            if not value.size:
                value = np.zeros((0, dim), np.float32)
            elif value.ndim != 2 or value.shape[1] != dim:
                raise DataError("live speaker", f"stream '{name}' rows are {value.shape}; the checkpoint expects (n, {dim})")
            arrays[name] = value
        counts = {len(value) for value in arrays.values()}
        if len(counts) != 1:
            raise DataError("live speaker", f"streams hold different frame counts: { {n: len(v) for n, v in arrays.items()} }")
        for name, value in arrays.items():
            if not np.isfinite(value).all():
                raise DataError("live speaker", f"stream '{name}' holds NaN or infinite values")
        self.frames_in += counts.pop()
        chunks = self._stepper.push(arrays)
        if self.render_size is not None:
            from reactdiff.render.face2d import render_faces

            for chunk in chunks:
                chunk.faces = render_faces(chunk.emotion[0], chunk.coeffs_3dmm[0], size=self.render_size)
        for chunk in chunks:
            self.frames_out = chunk.stop
        return chunks


def _generator(seed: int | None, device) -> torch.Generator:
    generator = torch.Generator(device=device)
    if seed is None:
        generator.seed()
    else:
        generator.manual_seed(seed)
    return generator


class _WindowStepper:
    """ReactDiff: one listener window per completed speaker window, with carried state
    (:class:`reactdiff.methods.reactdiff.online.OnlineWindows`, which offline generation of an
    online checkpoint runs too)."""

    @staticmethod
    def supports(model) -> bool:
        return model.name == "reactdiff" and all(hasattr(model.model, name) for name in ("sample_windows", "encode", "decode"))

    def __init__(self, session: ReactionSession):
        from reactdiff.methods.reactdiff.online import OnlineWindows

        self.session = session
        self.device = session.model.device
        options = session.options
        self.runner = OnlineWindows(session.model.model, session.num_samples, _generator(session.seed, self.device),
                                    steps=options["steps"], eta=options["eta"], sampler=options["sampler"],
                                    decoder_dropout=options["decoder_dropout"], guidance=options["guidance"])
        self.window = self.runner.window
        self.buffer = {name: np.zeros((0, dim), np.float32) for name, dim in session.dims.items()}

    def first_dependent(self, speaker_frame: int) -> int:
        return (speaker_frame // self.window + 1) * self.window

    def emitted_after(self, speaker_frames: int) -> int:
        return (speaker_frames // self.window + 1) * self.window

    @torch.no_grad()
    def push(self, arrays: dict[str, np.ndarray]) -> list[ListenerChunk]:
        chunks = []
        if self.runner.windows_out == 0:
            chunks.append(self._next_window())  # window 0 depends on no speaker frame
        self.buffer = {name: np.concatenate([self.buffer[name], value]) for name, value in arrays.items()}
        while len(next(iter(self.buffer.values()))) >= self.window:
            streams = {name: torch.from_numpy(np.ascontiguousarray(value[: self.window]))[None].to(self.device)
                       for name, value in self.buffer.items()}
            self.buffer = {name: value[self.window :] for name, value in self.buffer.items()}
            self.runner.push(streams)
            chunks.append(self._next_window())
        return chunks

    def _next_window(self) -> ListenerChunk:
        start = self.runner.windows_out * self.window
        decoded = self.runner.next_window()
        return ListenerChunk(start, decoded["emotion"].float().cpu().numpy(), decoded["coeffs_3dmm"].float().cpu().numpy())


class _PrefixStepper:
    """Any online method: its ``generate`` on the causal prefix, frames emitted once determined."""

    window = 1

    def __init__(self, session: ReactionSession):
        self.session = session
        self.received = {name: [] for name in session.dims}
        self.count = 0

    def first_dependent(self, speaker_frame: int) -> int:
        return speaker_frame + 1

    def emitted_after(self, speaker_frames: int) -> int:
        return speaker_frames

    def push(self, arrays: dict[str, np.ndarray]) -> list[ListenerChunk]:
        added = len(next(iter(arrays.values())))
        if not added:
            return []
        for name, value in arrays.items():
            self.received[name].append(value)
        self.count += added
        session = self.session
        prefix = {name: np.concatenate(parts) for name, parts in self.received.items()}
        self.received = {name: [value] for name, value in prefix.items()}
        # Output frame t of an online method depends on speaker frames before t only, so the
        # frames not yet emitted are final: later speaker frames cannot change them.
        result = session.model.generate(prefix, num_samples=session.num_samples, seed=session.seed, **session.options)
        start = session.frames_out
        return [ListenerChunk(start, result["emotion"][:, start:], result["coeffs_3dmm"][:, start:])]

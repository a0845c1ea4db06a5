"""Decode a clip's audio once, to mono float32 at a fixed rate, and compute per-frame streams.

``AUDIO_FUNCTIONS`` maps each audio stream of :data:`reactdiff.streams.AUDIO_STREAMS` to its ``function`` where
``function(samples, sample_rate, num_frames, fps=25) -> (num_frames, dim) float32`` and frames are
video frames at ``fps`` (25 for REACT 2024, 30 for MARS), so one decode serves any subset of streams.
"""

from __future__ import annotations

from pathlib import Path
from typing import Callable

import numpy as np

from reactdiff.constants import FPS
from reactdiff.errors import FeatureError
from reactdiff.features.mfcc import mfcc26, mfcc39, mfcc78
from reactdiff.features.resample import resample  # noqa: F401  (part of this module's API)
from reactdiff.features.voice import prosody, voice_activity

#: Peak amplitude under which a track counts as silent (-80 dBFS, below 16-bit dither noise).
SILENCE_PEAK = 1e-4

AudioStream = Callable[..., np.ndarray]

#: name -> function(samples, sample_rate, num_frames, fps) -> (num_frames, dim) float32; the widths are
#: in the stream registry (reactdiff.streams.AUDIO_STREAMS).
AUDIO_FUNCTIONS: dict[str, AudioStream] = {
    "mfcc": mfcc26,
    "mfcc78": mfcc78,
    "mfcc39": mfcc39,
    "voice": voice_activity,
    "prosody": prosody,
}


def _decode(path: Path) -> tuple[np.ndarray, int]:
    """All of the first audio track as float32 ``(channels, samples)`` at its own rate (PyAV)."""
    import av

    try:
        container = av.open(str(path))
    except (av.error.FFmpegError, OSError) as exc:
        raise FeatureError(path, f"cannot read audio: {exc}") from exc
    with container:
        if not container.streams.audio:
            raise FeatureError(path, "no audio track")
        stream = container.streams.audio[0]
        # Convert every decoded frame (int16, planar float, ...) to planar float32 at the same
        # rate and layout: swresample scales integers to [-1, 1) exactly (x / 2^15 for int16).
        converter = av.AudioResampler(format="fltp")
        blocks: list[np.ndarray] = []
        try:
            for frame in container.decode(stream):
                blocks.extend(converted.to_ndarray() for converted in converter.resample(frame))
            blocks.extend(converted.to_ndarray() for converted in converter.resample(None))
        except av.error.FFmpegError as exc:
            raise FeatureError(path, f"audio track cannot be decoded: {exc}") from exc
        sample_rate = stream.codec_context.sample_rate or stream.rate
    if not blocks or sum(block.shape[1] for block in blocks) == 0:
        raise FeatureError(path, "audio track is empty")
    return np.concatenate(blocks, axis=1).astype(np.float32, copy=False), int(sample_rate)


def load_audio(path: str | Path, sample_rate: int = 16000, check_silence: bool = False) -> tuple[np.ndarray, int]:
    """Decode any audio or video file's first audio track to mono float32 in [-1, 1] at ``sample_rate``.

    Channels are averaged, then resampled with :func:`resample`. With ``check_silence`` a track
    whose peak stays under :data:`SILENCE_PEAK` raises :class:`FeatureError` (e.g. a muted
    camera track, which would otherwise give constant features). Returns ``(samples, sample_rate)``.
    """
    path = Path(path)
    if not path.is_file():
        raise FeatureError(path, "audio file not found")
    channels, source_rate = _decode(path)
    mono = channels.mean(axis=0) if channels.shape[0] > 1 else channels[0]
    samples = resample(mono, source_rate, sample_rate)
    if check_silence and float(np.abs(samples).max()) < SILENCE_PEAK:
        raise FeatureError(path, f"audio track is silent (peak below {SILENCE_PEAK:g})")
    return samples, sample_rate


def audio_streams_at(fps: int) -> list[str]:
    """Every audio stream that applies at ``fps``: MFCC deltas are defined per Kaldi window, so
    mfcc78 (two windows a frame) is for 25 fps and mfcc39 (one) for 30."""
    return [name for name in AUDIO_FUNCTIONS if name != ("mfcc39" if fps == FPS else "mfcc78")]


def num_video_frames(samples: np.ndarray, sample_rate: int, fps: int = FPS) -> int:
    """Frames at ``fps`` that cover the audio (a partial last frame counts)."""
    return -(-len(samples) * fps // sample_rate)


def compute_audio_streams(
    samples: np.ndarray,
    sample_rate: int,
    num_frames: int,
    names: tuple[str, ...] | list[str] | None = None,
    fps: int = FPS,
) -> dict[str, np.ndarray]:
    """Compute the named streams (by default every one that applies at ``fps``: mfcc78 at 25 fps,
    mfcc39 at 30) from one decoded track, one row per frame at ``fps``."""
    if names is None:
        names = audio_streams_at(fps)
    names = list(names)
    unknown = [name for name in names if name not in AUDIO_FUNCTIONS]
    if unknown:
        raise ValueError(f"unknown audio stream(s) {unknown}; known: {sorted(AUDIO_FUNCTIONS)}")
    return {name: AUDIO_FUNCTIONS[name](samples, sample_rate, num_frames, fps=fps) for name in names}

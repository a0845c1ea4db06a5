"""Small building blocks for frame-rate behaviour signals: smooth noise, episodes, bumps, lags.

Time constants are given in seconds and turned into frames at the corpus's frame rate (25 fps for
REACT 2024, 30 fps for MARS) by ``frames_in`` / ``sigma_in``, so both corpora have the same
structure in seconds. Both round so that at 25 fps they give exactly the frame values the 2024
generator was written with (its bytes must not change)."""

from __future__ import annotations

import numpy as np
from scipy.ndimage import gaussian_filter1d

from reactdiff.constants import FPS

Episode = tuple[int, int]  # (start frame, duration in frames)


def frames_in(seconds: float, fps: int) -> int:
    """A duration in seconds as a whole number of frames at ``fps``."""
    return int(round(seconds * fps))


def sigma_in(seconds: float, fps: int) -> float:
    """A smoothing width in seconds as (fractional) frames at ``fps``; rounded to 1e-6 so that
    e.g. 1.6 s at 25 fps is exactly 40.0, not 40.000000000000004."""
    return round(seconds * fps, 6)


def smooth_noise(
    rng: np.random.Generator, num_frames: int, sigma_frames: float, channels: int | None = None
) -> np.ndarray:
    """Gaussian-smoothed white noise, (T,) or (T, channels), each channel at unit standard deviation."""
    # Pad so the edges are as smooth as the middle (mode="reflect" would mirror the noise).
    pad = int(4 * sigma_frames) + 1
    shape = (num_frames + 2 * pad,) if channels is None else (num_frames + 2 * pad, channels)
    noise = gaussian_filter1d(rng.standard_normal(shape), sigma_frames, axis=0)[pad:-pad]
    return noise / np.maximum(noise.std(axis=0), 1e-8)


def poisson_episodes(
    rng: np.random.Generator,
    num_frames: int,
    rate_per_s: float,
    duration_s: tuple[float, float],
    allowed: np.ndarray | None = None,
    fps: int = FPS,
) -> list[Episode]:
    """Episodes whose onsets form a Poisson process; ``allowed`` (bool per frame) gates onsets."""
    count = rng.poisson(rate_per_s * num_frames / fps)
    starts = np.sort(rng.integers(0, num_frames, size=count))
    durations = np.round(rng.uniform(*duration_s, size=count) * fps).astype(int)
    return [
        (int(start), max(int(duration), 1))
        for start, duration in zip(starts, durations)
        if allowed is None or allowed[start]
    ]


def bumps(
    num_frames: int, episodes: list[Episode], amplitudes: np.ndarray | float = 1.0, fps: int = FPS
) -> np.ndarray:
    """Plateaus over the episodes with soft (about 0.1 s) onsets and offsets."""
    signal = np.zeros(num_frames)
    amplitudes = np.broadcast_to(np.asarray(amplitudes, dtype=float), (len(episodes),))
    for (start, duration), amplitude in zip(episodes, amplitudes):
        end = min(start + duration, num_frames)
        if start < num_frames:
            signal[start:end] = np.maximum(signal[start:end], amplitude)
    return gaussian_filter1d(signal, sigma_in(0.06, fps))


def delayed(signal: np.ndarray, lag_frames: int) -> np.ndarray:
    """``signal`` delayed by ``lag_frames`` (the first value held before the start)."""
    if lag_frames <= 0:
        return signal.copy()
    return np.concatenate([np.full(lag_frames, signal[0]), signal[:-lag_frames]])


def damped_oscillation(
    num_frames: int, onsets: list[int], amplitude: float, hz: float, decay_s: float, fps: int = FPS
) -> np.ndarray:
    """Sum of decaying sine bursts starting at ``onsets`` (head nods)."""
    signal = np.zeros(num_frames)
    burst_len = int(3 * decay_s * fps)
    t = np.arange(burst_len) / fps
    burst = amplitude * np.sin(2 * np.pi * hz * t) * np.exp(-t / decay_s)
    for onset in onsets:
        if 0 <= onset < num_frames:
            end = min(onset + burst_len, num_frames)
            signal[onset:end] += burst[: end - onset]
    return signal


def segments_of(mask: np.ndarray) -> list[Episode]:
    """Runs of True in a boolean frame mask as (start, duration)."""
    padded = np.concatenate([[False], mask.astype(bool), [False]])
    changes = np.flatnonzero(padded[1:] != padded[:-1])
    return [(int(start), int(end - start)) for start, end in zip(changes[::2], changes[1::2])]

"""Speech-like audio for a behaviour state: voiced syllables (a harmonic source following the
person's pitch contour, shaped by vowel formants and a loudness envelope), short consonant noise
bursts, and a quiet room-noise floor. It is not intelligible speech; it is what makes MFCCs carry
the talking/pausing, loudness and pitch information of the latent behaviour."""

from __future__ import annotations

import numpy as np
from scipy.signal import lfilter

from reactdiff.synth.behaviour import VOWELS, BehaviourState, PersonStyle

#: Harmonics are kept below this frequency (speech energy above it is small anyway).
_MAX_HARMONIC_HZ = 3800.0
_NOISE_FLOOR = 0.002


def _resonator(frequency: float, bandwidth: float, sample_rate: int) -> tuple[np.ndarray, np.ndarray]:
    """Second-order all-pole resonator (a formant) as lfilter coefficients."""
    radius = np.exp(-np.pi * bandwidth / sample_rate)
    theta = 2 * np.pi * frequency / sample_rate
    a = np.array([1.0, -2 * radius * np.cos(theta), radius**2])
    return np.array([1.0 - radius]), a


def _syllable(
    start_s: float,
    duration_s: float,
    vowel: str,
    f0_at: np.ndarray,
    loudness: float,
    sample_rate: int,
    rng: np.random.Generator,
) -> np.ndarray:
    """One voiced syllable: harmonic source, formant filter, rise-fall envelope."""
    num_samples = int(duration_s * sample_rate)
    f0 = np.interp(start_s + np.arange(num_samples) / sample_rate, f0_at[0], f0_at[1])
    f0 *= 1 + 0.01 * rng.standard_normal()  # a little per-syllable jitter
    phase = np.mod(2 * np.pi * np.cumsum(f0) / sample_rate, 2 * np.pi)
    num_harmonics = max(1, int(_MAX_HARMONIC_HZ / f0.max()))
    # sum_{k=1..K} sin(k phase) in closed form (a band-limited pulse train), then a one-pole
    # low-pass for the falling spectral tilt of a glottal source.
    half = np.sin(phase / 2)
    safe = np.where(np.abs(half) < 1e-9, 1.0, half)
    pulses = np.where(
        np.abs(half) < 1e-9, 0.0, np.sin(num_harmonics * phase / 2) * np.sin((num_harmonics + 1) * phase / 2) / safe
    )
    voiced = lfilter([1.0], [1.0, -0.9], pulses)
    for formant, bandwidth in zip(VOWELS[vowel], (80, 100, 150)):
        b, a = _resonator(formant, bandwidth, sample_rate)
        voiced = lfilter(b, a, voiced)
    voiced /= max(float(np.sqrt(np.mean(voiced**2))), 1e-8)
    envelope = np.sin(np.pi * np.arange(num_samples) / num_samples) ** 0.6
    return loudness * envelope * voiced


def synthesize_audio(
    state: BehaviourState, style: PersonStyle, rng: np.random.Generator, sample_rate: int, num_frames: int
) -> np.ndarray:
    """Mono float32 waveform in [-1, 1] spanning ``num_frames`` video frames (at ``state.fps``)."""
    fps = state.fps
    num_samples = int(round(num_frames / fps * sample_rate))
    audio = _NOISE_FLOOR * rng.standard_normal(num_samples)
    frame_times = (np.arange(num_frames) + 0.5) / fps
    f0_at = np.stack([frame_times, style.f0_hz * 2.0 ** state.pitch_octaves])
    for start_s, duration_s, vowel in state.syllables:
        frame = min(int(start_s * fps), num_frames - 1)
        # Louder when aroused; backchannel murmurs ("m") are soft.
        loudness = state.voice_level * (0.05 if vowel == "m" else 0.1) * (1.0 + 0.5 * state.arousal[frame])
        begin = int(start_s * sample_rate)
        segment = _syllable(start_s, duration_s, vowel, f0_at, loudness, sample_rate, rng)
        end = min(begin + len(segment), num_samples)
        audio[begin:end] += segment[: end - begin]
        if vowel != "m":
            # A consonant before the vowel: a 20-50 ms burst of high-passed noise.
            burst_len = int(rng.uniform(0.02, 0.05) * sample_rate)
            burst_start = max(begin - burst_len // 2, 0)
            burst = np.diff(rng.standard_normal(burst_len + 1)) * 0.3 * loudness * np.hanning(burst_len)
            stop = min(burst_start + burst_len, num_samples)
            audio[burst_start:stop] += burst[: stop - burst_start]
    return np.clip(audio, -1.0, 1.0).astype(np.float32)

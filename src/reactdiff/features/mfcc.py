"""Kaldi-compatible MFCC in vectorised numpy, cut into one audio chunk per video frame.

Frames are 25 fps (REACT 2024) unless an ``fps`` is given (30 for REACT 2025/2026).

Follows Kaldi's ``compute-mfcc-feats`` as reproduced by ``torchaudio.compliance.kaldi.mfcc``
(dither 0): per analysis window remove the DC offset, take the raw log energy, pre-emphasise
(0.97), apply the Povey window, zero-pad to a power of two, power spectrum, triangular mel
banks from 20 Hz to Nyquist, log, orthonormal DCT-II, cepstral lifter 22, and the log energy
replaces c0. ``snip_edges``: only windows that fit completely inside a chunk are used.
"""

from __future__ import annotations

from functools import lru_cache

import numpy as np

from reactdiff.constants import FPS

#: float32 machine epsilon: Kaldi's floor for every log (mel energies and signal energy).
_EPSILON = float(np.finfo(np.float32).eps)


def samples_per_frame(sample_rate: int, fps: int = FPS) -> int:
    """Audio samples per video frame (640 at 16 kHz and 25 fps; 533 at 16 kHz and 30 fps).

    At 25 fps the rate must be a multiple of 25, as every REACT 2024 pipeline assumes. At another
    rate a frame's chunk is ``sample_rate // fps`` samples starting at ``floor(i * sample_rate / fps)``
    (:func:`frame_starts`): 16 kHz is not a multiple of 30, and keeping each chunk on its frame's
    time avoids the drift of cutting fixed ``sample_rate // fps`` slices back to back (the REACT 2025
    baseline's way: 0.33 samples per frame, 0.4 s after 20000 frames)."""
    if fps <= 0:
        raise ValueError(f"frame rate {fps} is not positive")
    if fps == FPS and (sample_rate <= 0 or sample_rate % FPS):
        raise ValueError(f"sample rate {sample_rate} Hz is not a positive multiple of {FPS} (one chunk per video frame)")
    if sample_rate < fps:
        raise ValueError(f"sample rate {sample_rate} Hz is below the frame rate {fps} (one chunk per video frame)")
    return sample_rate // fps


def frame_starts(sample_rate: int, num_frames: int, fps: int = FPS) -> np.ndarray:
    """First sample of each frame's chunk: ``floor(i * sample_rate / fps)`` (``i * chunk`` when the
    rate is a multiple of ``fps``)."""
    return (np.arange(num_frames, dtype=np.int64) * sample_rate) // fps


def frame_chunks(samples: np.ndarray, sample_rate: int, num_frames: int, fps: int = FPS) -> np.ndarray:
    """Cut ``samples`` into ``num_frames`` chunks of one video frame each.

    Returns ``(num_frames, sample_rate // fps)`` float64: audio past the last frame is dropped and
    missing audio at the end (a partial last chunk, or a clip shorter than its video) is zeros.
    """
    chunk = samples_per_frame(sample_rate, fps)
    samples = np.asarray(samples, dtype=np.float64).reshape(-1)
    if sample_rate % fps == 0:
        needed = num_frames * chunk
        padded = np.zeros(needed, dtype=np.float64)
        used = min(needed, samples.size)
        padded[:used] = samples[:used]
        return padded.reshape(num_frames, chunk)
    starts = frame_starts(sample_rate, num_frames, fps)
    needed = int(starts[-1]) + chunk if num_frames else 0
    padded = np.zeros(needed, dtype=np.float64)
    used = min(needed, samples.size)
    padded[:used] = samples[:used]
    return padded[starts[:, None] + np.arange(chunk)[None, :]]


def _mel(freq: np.ndarray | float) -> np.ndarray:
    """Kaldi's mel scale (natural-log form, 1127 ln(1 + f / 700))."""
    return 1127.0 * np.log1p(np.asarray(freq, dtype=np.float64) / 700.0)


@lru_cache(maxsize=16)
def mel_banks(num_mel_bins: int, fft_size: int, sample_rate: int, low_freq: float = 20.0) -> np.ndarray:
    """Triangular mel filters ``(fft_size // 2 + 1, num_mel_bins)`` spanning ``low_freq``..Nyquist.

    Triangles are equally spaced on the mel scale with num_bins + 1 gaps so the outer bins keep
    a full slope; the Nyquist FFT bin gets weight 0, as in Kaldi.
    """
    nyquist = 0.5 * sample_rate
    mel_low, mel_high = _mel(low_freq), _mel(nyquist)
    delta = (mel_high - mel_low) / (num_mel_bins + 1)
    edges = mel_low + delta * np.arange(num_mel_bins + 2)
    left, center, right = edges[:-2, None], edges[1:-1, None], edges[2:, None]
    fft_mel = _mel(sample_rate / fft_size * np.arange(fft_size // 2))[None, :]
    rising = (fft_mel - left) / (center - left)
    falling = (right - fft_mel) / (right - center)
    banks = np.maximum(0.0, np.minimum(rising, falling))
    banks = np.concatenate([banks, np.zeros((num_mel_bins, 1))], axis=1)
    banks.setflags(write=False)
    return banks.T


@lru_cache(maxsize=16)
def _dct_and_lifter(num_ceps: int, num_mel_bins: int, cepstral_lifter: float) -> np.ndarray:
    """Orthonormal DCT-II ``(num_mel_bins, num_ceps)`` with the cepstral lifter folded in."""
    mel_index = np.arange(num_mel_bins)[:, None] + 0.5
    cep_index = np.arange(num_ceps)[None, :]
    dct = np.sqrt(2.0 / num_mel_bins) * np.cos(np.pi / num_mel_bins * mel_index * cep_index)
    dct[:, 0] = np.sqrt(1.0 / num_mel_bins)
    # Kaldi's lifter leaves c0 alone (sin 0 = 0) and boosts higher cepstra.
    lifter = 1.0 + 0.5 * cepstral_lifter * np.sin(np.pi * np.arange(num_ceps) / cepstral_lifter)
    matrix = dct * lifter[None, :]
    matrix.setflags(write=False)
    return matrix


@lru_cache(maxsize=16)
def _povey_window(window_size: int) -> np.ndarray:
    """Kaldi's Povey window: a symmetric Hann window raised to 0.85 (zero at both ends).

    Built in float32 arithmetic like torchaudio's: on band-limited audio the top mel bands sit
    ~1e-7 below the peak power, where the window's own rounding moves c11-c12 by ~1e-4.
    """
    angle = np.arange(window_size, dtype=np.float32) * np.float32(2.0 * np.pi / (window_size - 1))
    hann = np.float32(0.5) - np.float32(0.5) * np.cos(angle)
    window = hann ** np.float32(0.85)
    window.setflags(write=False)
    return window


def kaldi_mfcc(
    chunks: np.ndarray,
    sample_rate: int,
    frame_length_ms: float = 25.0,
    frame_shift_ms: float = 10.0,
    num_ceps: int = 13,
    num_mel_bins: int = 23,
    cepstral_lifter: float = 22.0,
    preemphasis: float = 0.97,
    energy_floor: float = 1.0,
    window_samples: int | None = None,
) -> np.ndarray:
    """Kaldi MFCC (``use_energy=True``, dither 0, ``snip_edges``) of every row of ``chunks``.

    ``chunks`` is ``(..., num_samples)``; each row is analysed on its own, exactly as if Kaldi
    were run on it as a whole file. ``window_samples`` sets window and shift in samples (one window
    per chunk), where milliseconds would round (a 30 fps frame at 16 kHz is 533.3 samples). Returns ``(..., num_windows, num_ceps)`` float32 with
    ``num_windows = 1 + (num_samples - window) // shift``.
    """
    # float32 throughout, like Kaldi (BaseFloat) and torchaudio. On band-limited audio the top
    # mel bands sit ~1e-7 below the peak power, so their logs carry float32 rounding; computing
    # the same way keeps us within ~1e-3 of torchaudio on the liftered high cepstra.
    chunks = np.asarray(chunks, dtype=np.float32)
    window_size = int(sample_rate * frame_length_ms * 0.001) if window_samples is None else window_samples
    window_shift = int(sample_rate * frame_shift_ms * 0.001) if window_samples is None else window_samples
    if not 2 <= window_size <= chunks.shape[-1]:
        raise ValueError(f"MFCC window of {window_size} samples does not fit chunks of {chunks.shape[-1]} samples")
    if num_ceps > num_mel_bins:
        raise ValueError(f"num_ceps ({num_ceps}) cannot exceed num_mel_bins ({num_mel_bins})")
    fft_size = 1 << (window_size - 1).bit_length()

    # (..., num_windows, window_size): strided views, copied by the first subtraction.
    windows = np.lib.stride_tricks.sliding_window_view(chunks, window_size, axis=-1)[..., ::window_shift, :]
    windows = windows - windows.mean(axis=-1, keepdims=True)

    # Raw energy: measured after DC removal but before pre-emphasis and windowing.
    log_energy = np.log(np.maximum((windows**2).sum(axis=-1), np.float32(_EPSILON)))
    if energy_floor > 0.0:
        log_energy = np.maximum(log_energy, np.float32(np.log(energy_floor)))

    # Pre-emphasis x[j] - k x[j-1], with the first sample reusing itself (x[-1] := x[0]).
    previous = np.concatenate([windows[..., :1], windows[..., :-1]], axis=-1)
    windows = windows - np.float32(preemphasis) * previous

    windows = windows * _povey_window(window_size)

    power = np.abs(np.fft.rfft(windows, n=fft_size, axis=-1)) ** 2
    banks = mel_banks(num_mel_bins, fft_size, sample_rate).astype(np.float32)
    log_mel = np.log(np.maximum(power @ banks, np.float32(_EPSILON)))
    cepstra = log_mel @ _dct_and_lifter(num_ceps, num_mel_bins, cepstral_lifter).astype(np.float32)
    cepstra[..., 0] = log_energy
    return cepstra


def deltas(features: np.ndarray, win_length: int = 5) -> np.ndarray:
    """Regression deltas along the last axis, edges padded by repetition.

    ``d[t] = sum_{n=1..N} n (x[t+n] - x[t-n]) / (2 sum n^2)`` with ``N = (win_length - 1) // 2``
    (torchaudio's ``compute_deltas`` with ``mode="replicate"``).
    """
    half = (win_length - 1) // 2
    length = features.shape[-1]
    padded = np.concatenate(
        [np.repeat(features[..., :1], half, axis=-1), features, np.repeat(features[..., -1:], half, axis=-1)], axis=-1
    )
    result = np.zeros_like(features, dtype=np.float64)
    for offset in range(1, half + 1):
        result += offset * (padded[..., half + offset : half + offset + length] - padded[..., half - offset : half - offset + length])
    return result / (2.0 * sum(n * n for n in range(1, half + 1)))


#: Frames analysed per block (one minute at 25 fps): bounds the spectra held in memory on long audio.
_BLOCK_FRAMES = 1500


def _blockwise(chunks: np.ndarray, analyse) -> np.ndarray:
    """Apply ``analyse`` to consecutive blocks of frame chunks and concatenate the results."""
    return np.concatenate([analyse(chunks[start : start + _BLOCK_FRAMES]) for start in range(0, max(len(chunks), 1), _BLOCK_FRAMES)])


def mfcc26(samples: np.ndarray, sample_rate: int, num_frames: int, fps: int = FPS) -> np.ndarray:
    """ReactDiff's audio features: ``(num_frames, 26)`` float32, one Kaldi MFCC per frame.

    Each frame's chunk is one window (frame length = shift = one frame: 40 ms at 25 fps, 33.3 ms at
    30 fps), 26 cepstra over 26 mel bins, log energy in place of c0.
    """
    chunks = frame_chunks(samples, sample_rate, num_frames, fps)
    window = chunks.shape[1]
    cepstra = _blockwise(
        chunks, lambda block: kaldi_mfcc(block, sample_rate, num_ceps=26, num_mel_bins=26, window_samples=window)
    )
    return cepstra[:, 0, :]


def _mfcc_with_deltas(samples: np.ndarray, sample_rate: int, num_frames: int, fps: int, windows: int, name: str) -> np.ndarray:
    """Kaldi's default MFCC (25 ms window, 10 ms shift, 13 cepstra, 23 mel bins) of each frame's
    chunk, then deltas and delta-deltas over the chunk's windows (window 5, edges repeated), laid
    out as ``(3 [mfcc, delta, delta2], 13 cepstra, windows)`` flattened: the REACT baselines'
    ``extract_audio_features``. The number of windows per chunk depends on the frame rate."""
    chunks = frame_chunks(samples, sample_rate, num_frames, fps)
    window, shift = int(sample_rate * 0.025), int(sample_rate * 0.010)
    fitted = 1 + (chunks.shape[1] - window) // shift if chunks.shape[1] >= window else 0
    if fitted != windows:
        raise ValueError(
            f"{name} needs {windows} Kaldi window(s) per frame; a {fps} fps frame at {sample_rate} Hz holds {fitted} "
            f"(mfcc78 is for 25 fps, mfcc39 for 30 fps)"
        )
    cepstra = _blockwise(chunks, lambda block: kaldi_mfcc(block, sample_rate)).swapaxes(-1, -2)  # (num_frames, 13, windows)
    first = deltas(cepstra)
    stacked = np.stack([cepstra, first, deltas(first)], axis=1)
    return stacked.reshape(num_frames, -1).astype(np.float32)


def mfcc78(samples: np.ndarray, sample_rate: int, num_frames: int, fps: int = FPS) -> np.ndarray:
    """The REACT 2023/2024 baselines' audio features: ``(num_frames, 78)`` float32.

    Per 25 fps frame's 40 ms chunk, Kaldi's default MFCC gives 2 windows; 13 cepstra, deltas and
    delta-deltas over those 2 windows (see :func:`_mfcc_with_deltas`). Other frame rates are refused.
    """
    return _mfcc_with_deltas(samples, sample_rate, num_frames, fps, 2, "mfcc78")


def mfcc39(samples: np.ndarray, sample_rate: int, num_frames: int, fps: int = 30) -> np.ndarray:
    """The REACT 2025/2026 baselines' MFCC option at 30 fps: ``(num_frames, 39)`` float32.

    The same computation as :func:`mfcc78`, but a 33.3 ms chunk holds one 25 ms Kaldi window, so
    the result is 13 cepstra + 13 deltas + 13 delta-deltas, and the deltas over a single window
    are zero (the baseline's code comment says 78-d, a 25 fps leftover; see the MARS data spec §1.1).
    """
    return _mfcc_with_deltas(samples, sample_rate, num_frames, fps, 1, "mfcc39")

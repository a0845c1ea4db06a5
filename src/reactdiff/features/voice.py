"""Who is talking and how: voice activity (silero-vad) and prosody (Praat pitch via parselmouth).

Both return one row per video frame (25 fps unless ``fps`` is given), aligned with :func:`reactdiff.features.mfcc.frame_chunks`.
The VAD network ships inside the ``silero-vad`` wheel and runs on torch (TorchScript), so
nothing is downloaded; its own audio reader needs torchaudio, so it is fed our decoded samples.
"""

from __future__ import annotations

import warnings
from functools import lru_cache

import numpy as np

from reactdiff.constants import FPS
from reactdiff.features.mfcc import frame_chunks, frame_starts, samples_per_frame

#: silero-vad scores windows of 512 samples (32 ms) at 16 kHz.
VAD_SAMPLE_RATE = 16000
VAD_WINDOW = 512
#: Praat's default pitch range for speech (Hz); the floor also sets the 40 ms analysis window.
PITCH_FLOOR = 75.0
PITCH_CEILING = 600.0
PITCH_TIME_STEP = 0.01
#: Floor on the mean power before the log (-100 dB), so digital silence stays finite.
ENERGY_FLOOR = 1e-10


@lru_cache(maxsize=1)
def _silero_model():
    """The packaged silero-vad TorchScript model, loaded once per process."""
    import torch

    # silero_vad sets torch's global thread count to 1 when imported; keep the caller's setting.
    threads = torch.get_num_threads()
    with warnings.catch_warnings():
        # Its loader uses importlib.resources.path and torch.jit.load, both deprecated upstream.
        warnings.simplefilter("ignore", DeprecationWarning)
        from silero_vad import load_silero_vad

        model = load_silero_vad(onnx=False)
    torch.set_num_threads(threads)
    return model


def voice_activity(samples: np.ndarray, sample_rate: int, num_frames: int, fps: int = FPS) -> np.ndarray:
    """Speech probability per video frame, ``(num_frames, 1)`` float32 in [0, 1].

    silero-vad scores each 32 ms window; a frame's probability is the average over its
    40 ms weighted by overlap (done by spreading scores to samples and averaging per frame).
    Frames past the end of the audio get 0.
    """
    import torch

    from reactdiff.features.resample import resample

    samples_per_frame(sample_rate, fps)  # validates the rate before any work
    audio = resample(samples, sample_rate, VAD_SAMPLE_RATE)
    if audio.size == 0:
        return np.zeros((num_frames, 1), dtype=np.float32)
    model = _silero_model()
    threads = torch.get_num_threads()
    # The network steps through ~31 tiny windows per second of audio: intra-op threads only add
    # synchronisation (measured 10x slower with 2 threads on a busy 2-core machine), so use one.
    torch.set_num_threads(1)
    try:
        with torch.inference_mode():
            # audio_forward resets the recurrent state, pads the tail and scores every window.
            scores = model.audio_forward(torch.from_numpy(np.ascontiguousarray(audio)), VAD_SAMPLE_RATE)
    finally:
        torch.set_num_threads(threads)
    per_sample = np.repeat(scores[0].numpy().astype(np.float64), VAD_WINDOW)[: audio.size]
    probability = frame_chunks(per_sample, VAD_SAMPLE_RATE, num_frames, fps).mean(axis=1)
    return probability.astype(np.float32)[:, None]


def _pitch_track(samples: np.ndarray, sample_rate: int) -> tuple[np.ndarray, np.ndarray]:
    """Praat's autocorrelation pitch (Boersma 1993): frame times (s) and F0 (Hz, 0 = unvoiced)."""
    import parselmouth

    sound = parselmouth.Sound(np.asarray(samples, dtype=np.float64), sampling_frequency=float(sample_rate))
    pitch = sound.to_pitch_ac(time_step=PITCH_TIME_STEP, pitch_floor=PITCH_FLOOR, pitch_ceiling=PITCH_CEILING)
    return np.asarray(pitch.xs()), np.nan_to_num(pitch.selected_array["frequency"])


def prosody(samples: np.ndarray, sample_rate: int, num_frames: int, fps: int = FPS) -> np.ndarray:
    """Per video frame: ``[log energy, pitch Hz (0 when unvoiced), voiced flag]``, float32.

    Log energy is ``ln(mean power)`` of the frame's 40 ms chunk, floored at
    :data:`ENERGY_FLOOR`. Pitch is Praat's ``To Pitch (ac)`` (75-600 Hz, 10 ms step) read at
    the pitch frame nearest the video frame's centre.
    """
    chunks = frame_chunks(samples, sample_rate, num_frames, fps)
    log_energy = np.log(np.maximum((chunks**2).mean(axis=1), ENERGY_FLOOR))
    pitch_hz = np.zeros(num_frames)
    # Praat needs three periods of the pitch floor for one analysis window; shorter clips are unvoiced.
    if len(samples) >= 3.0 / PITCH_FLOOR * sample_rate + 1:
        times, frequency = _pitch_track(samples, sample_rate)
        if times.size:
            # Chunk centres in seconds ((i + 0.5) / fps exactly when the rate is a multiple of fps).
            centres = (frame_starts(sample_rate, num_frames, fps) + 0.5 * chunks.shape[1]) / sample_rate
            nearest = np.clip(np.searchsorted(times, centres), 1, times.size - 1)
            nearest -= (centres - times[nearest - 1]) < (times[nearest] - centres)
            nearest = np.clip(nearest, 0, times.size - 1)
            # Frame centres beyond the analysed span (first/last 20 ms, padding) stay unvoiced.
            covered = np.abs(times[nearest] - centres) <= PITCH_TIME_STEP
            pitch_hz = np.where(covered, frequency[nearest], 0.0)
    voiced = (pitch_hz > 0).astype(np.float64)
    return np.stack([log_energy, pitch_hz, voiced], axis=1).astype(np.float32)

"""Audio resampling, shared by decoding (:mod:`reactdiff.features.audio`) and voice activity
(:mod:`reactdiff.features.voice`), which needs 16 kHz whatever the stream's rate."""

from __future__ import annotations

from fractions import Fraction

import numpy as np


def resample(samples: np.ndarray, source_rate: int, target_rate: int) -> np.ndarray:
    """Polyphase resampling (scipy ``resample_poly``, Kaiser-windowed FIR) to ``target_rate``."""
    if source_rate == target_rate:
        return np.asarray(samples, dtype=np.float32)
    from scipy.signal import resample_poly

    ratio = Fraction(int(target_rate), int(source_rate))
    resampled = resample_poly(np.asarray(samples, dtype=np.float64), ratio.numerator, ratio.denominator)
    # The anti-aliasing filter can overshoot full-scale peaks slightly; keep the [-1, 1] contract.
    return np.clip(resampled, -1.0, 1.0).astype(np.float32)

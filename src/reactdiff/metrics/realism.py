"""Realism substitutes: Frechet distances between Gaussian fits of generated and real features.

The challenge's FRRea is an Inception FID on photoreal renders whose assets are not public; these
are NOT FRRea and are always reported under their own names:

- ``FD-<stream>-frame``: features are single frames (C-d).
- ``FD-<stream>-window``: features summarise non-overlapping 2 s windows (50 frames): per channel the
  window mean, standard deviation and mean absolute frame-to-frame change (3C-d), so that the
  distance also sees motion, not only poses.

Generated features pool all K reactions of every speaker; real features are the listener sequences.
"""

from __future__ import annotations

import numpy as np
import torch

from reactdiff.constants import WINDOW_FRAMES
from reactdiff.device import batch_for
from reactdiff.metrics.validation import MetricInputError, as_array, check_predictions

#: Sequences per torch batch when accumulating moments, on a CPU / a GPU (cache-sized blocks ran
#: fastest on 2 CPU cores, docs/metrics.md).
_SEQUENCES_PER_BATCH = (32, 256)


def frechet_distance(mean_a: np.ndarray, cov_a: np.ndarray, mean_b: np.ndarray, cov_b: np.ndarray) -> float:
    """``||m_a - m_b||^2 + tr(S_a + S_b - 2 (S_a S_b)^(1/2))`` between two Gaussians.

    The trace of the matrix square root is taken from the eigenvalues of the symmetric matrix
    ``S_a^(1/2) S_b S_a^(1/2)`` (same spectrum as ``S_a S_b``), which is stable for the singular
    covariances that never-firing AUs produce.
    """
    values, vectors = np.linalg.eigh(cov_a)
    sqrt_a = (vectors * np.sqrt(values.clip(min=0))) @ vectors.T
    product = np.linalg.eigvalsh(sqrt_a @ cov_b @ sqrt_a)
    trace_sqrt = np.sqrt(product.clip(min=0)).sum()
    distance = np.sum((mean_a - mean_b) ** 2) + np.trace(cov_a) + np.trace(cov_b) - 2.0 * trace_sqrt
    # The distance is >= 0; identical distributions can come out as -1e-16 from rounding.
    return max(float(distance), 0.0)


def window_features(sequences: torch.Tensor, window: int = WINDOW_FRAMES) -> torch.Tensor:
    """(S, T, C) sequences -> (S * T // window, 3C) window summaries (mean, std, mean |change|)."""
    count = sequences.shape[1] // window
    windows = sequences[:, : count * window].reshape(sequences.shape[0] * count, window, sequences.shape[2])
    motion = windows.diff(dim=1).abs().mean(dim=1)
    return torch.cat([windows.mean(dim=1), windows.std(dim=1, correction=0), motion], dim=1)


class _Moments:
    """One-pass sums for the mean and covariance of feature vectors, about the first batch's mean
    (so the sums suffer no cancellation)."""

    def __init__(self, first: torch.Tensor):
        self.shift = first.mean(dim=0)
        self.total = torch.zeros_like(self.shift)
        self.outer = torch.zeros(self.shift.shape[0], self.shift.shape[0], dtype=first.dtype, device=first.device)
        self.count = 0

    def add(self, features: torch.Tensor) -> None:
        features = features - self.shift
        self.total += features.sum(dim=0)
        self.outer += features.T @ features
        self.count += features.shape[0]

    def result(self) -> tuple[np.ndarray, np.ndarray]:
        if self.count < 2:
            raise MetricInputError("sequences", f"a Frechet distance needs at least 2 feature vectors, got {self.count}")
        mean = self.total / self.count
        covariance = (self.outer - self.count * torch.outer(mean, mean)) / (self.count - 1)
        return (mean + self.shift).cpu().numpy(), covariance.cpu().numpy()


def _moments(sequences: np.ndarray, kinds: tuple[str, ...], device: str) -> dict[str, tuple[np.ndarray, np.ndarray]]:
    """Mean and unbiased covariance of the frame and/or window features (``kinds``) of (S, T, C)
    sequences, from one pass: each float64 batch serves every kind."""
    sums: dict[str, _Moments] = {}
    step = batch_for(device, *_SEQUENCES_PER_BATCH)
    for start in range(0, sequences.shape[0], step):
        batch = torch.from_numpy(sequences[start : start + step]).to(device, torch.float64)
        for kind in kinds:
            features = window_features(batch) if kind == "window" else batch.reshape(-1, batch.shape[-1])
            if kind not in sums:
                sums[kind] = _Moments(features)
            sums[kind].add(features)
    return {kind: moments.result() for kind, moments in sums.items()}


def frechet_distances(predictions, real, name: str, device: str = "cpu") -> dict[str, float]:
    """``{"FD-<name>-frame": ..., "FD-<name>-window": ...}`` between generated (N, K, T, C) and real
    (M, T', C) sequences of the same feature stream (``name`` is e.g. "emotion" or "3dmm")."""
    predictions = check_predictions(predictions, name=f"{name} predictions")
    real = as_array(real, f"real {name}", 3)
    if real.shape[2] != predictions.shape[3]:
        raise MetricInputError(
            f"real {name}", f"has {real.shape[2]} channels but the predictions have {predictions.shape[3]}"
        )
    generated = predictions.reshape(-1, predictions.shape[2], predictions.shape[3])
    if min(generated.shape[1], real.shape[1]) < WINDOW_FRAMES:
        raise MetricInputError(
            f"{name} predictions", f"window features need at least {WINDOW_FRAMES} frames per sequence"
        )
    kinds = ("frame", "window")
    fake, true = _moments(generated, kinds, device), _moments(real, kinds, device)
    return {f"FD-{name}-{kind}": frechet_distance(*fake[kind], *true[kind]) for kind in kinds}

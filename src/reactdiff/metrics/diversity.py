"""Diversity: FRDiv (across the K reactions to one speaker), FRDvs (across speakers), FRVar (over time).

The published code forms all pairwise distances with ``torch.cdist``; here the sums of squared
pairwise distances come from the identity ``sum_{a,b} ||x_a - x_b||^2 = 2 n sum_a ||x_a - m||^2``
(``m`` the mean of the n items), which needs one pass instead of n^2 pairs and, centred, no
cancellation. Identical to the definitions up to float rounding.
"""

from __future__ import annotations

import numpy as np
import torch

from reactdiff.metrics.validation import MetricInputError, check_predictions

#: Speaker rows per torch batch (a float64 (rows, K, T, C) block at a time).
_ROWS_PER_BATCH = 64


def _batches(predictions: np.ndarray, device: str):
    for start in range(0, predictions.shape[0], _ROWS_PER_BATCH):
        yield torch.from_numpy(predictions[start : start + _ROWS_PER_BATCH]).to(device, torch.float64)


def frdiv(predictions, device: str = "cpu") -> float:
    """FRDiv / S-MSE (higher is more diverse): per speaker, the sum over ordered reaction pairs (i, j)
    of ``||P[k,i] - P[k,j]||^2 / (K (K-1) T C)``, averaged over speakers."""
    predictions = check_predictions(predictions, min_samples=2)
    n, k, t, c = predictions.shape
    total = 0.0
    for batch in _batches(predictions, device):
        spread = (batch - batch.mean(dim=1, keepdim=True)).square().sum(dim=(1, 2, 3))  # (B,)
        total += float((2.0 * k * spread).sum())
    return total / (k * (k - 1) * t * c) / n


def frdvs(predictions, device: str = "cpu") -> float:
    """FRDvs (higher is more diverse): for each reaction index i, the sum over ordered speaker pairs
    of ``||P[k,i] - P[l,i]||^2``, summed over i and divided by ``N (N-1) K T C``."""
    predictions = check_predictions(predictions)
    n, k, t, c = predictions.shape
    if n < 2:
        raise MetricInputError("predictions", f"FRDvs needs at least 2 speakers (N), got N = {n}")
    # Two passes: the mean over speakers of every reaction index, then the centred sum of squares.
    mean = sum(batch.sum(dim=0) for batch in _batches(predictions, device)) / n  # (K, T, C)
    spread = sum(float((batch - mean).square().sum()) for batch in _batches(predictions, device))
    return 2.0 * n * spread / (n * (n - 1) * k) / (t * c)


def frvar(predictions, device: str = "cpu") -> float:
    """FRVar (higher is more varied over time): mean of the unbiased (ddof 1) variance over time,
    over all speakers, reactions and channels."""
    predictions = check_predictions(predictions)
    n, k, _, c = predictions.shape
    total = sum(float(batch.var(dim=2, correction=1).sum()) for batch in _batches(predictions, device))
    return total / (n * k * c)

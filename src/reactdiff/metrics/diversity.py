"""Diversity: FRDiv (across the K reactions to one speaker), FRDvs (across speakers), FRVar (over time).

The published code forms all pairwise distances with ``torch.cdist``; here the sums of squared
pairwise distances come from the identity ``sum_{a,b} ||x_a - x_b||^2 = 2 n sum_a ||x_a - m||^2``
(``m`` the mean of the n items), which needs one pass instead of n^2 pairs: FRDiv centred on each
speaker's mean reaction, FRDvs on sums about a shift near the mean (``diversity`` computes all three
from one pass over the predictions). Identical to the definitions up to float rounding.
"""

from __future__ import annotations

import numpy as np
import torch

from reactdiff.device import batch_for
from reactdiff.metrics.validation import MetricInputError, check_predictions

#: Speaker rows per torch batch on a CPU / a GPU (a float64 (rows, K, T, C) block at a time; blocks
#: that stay in the caches ran fastest on 2 CPU cores, docs/metrics.md).
_ROWS_PER_BATCH = (8, 64)


def _batches(predictions: np.ndarray, device: str):
    step = batch_for(device, *_ROWS_PER_BATCH)
    for start in range(0, predictions.shape[0], step):
        yield torch.from_numpy(predictions[start : start + step]).to(device, torch.float64)


def diversity(predictions, device: str = "cpu", metrics=("FRDiv", "FRVar", "FRDvs")) -> dict[str, float]:
    """The diversity ``metrics`` (any of FRDiv, FRVar, FRDvs) from one pass over the predictions:
    each float64 batch is made once and serves all of them."""
    predictions = check_predictions(predictions, min_samples=2 if "FRDiv" in metrics else 1)
    n, k, t, c = predictions.shape
    if "FRDvs" in metrics and n < 2:
        raise MetricInputError("predictions", f"FRDvs needs at least 2 speakers (N), got N = {n}")
    pairs = variance = spread = 0.0
    shift = total = None
    for batch in _batches(predictions, device):
        if "FRDiv" in metrics:
            pairs += 2.0 * k * float((batch - batch.mean(dim=1, keepdim=True)).square().sum())
        if "FRVar" in metrics:
            variance += float(batch.var(dim=2, correction=1).sum())
        if "FRDvs" in metrics:
            # Sums about the first batch's mean over speakers (one pass, no cancellation to speak of):
            # sum_n ||x_n - m||^2 = sum_n ||x_n - s||^2 - n ||m - s||^2 for any shift s.
            if shift is None:
                shift = batch.mean(dim=0)
                total = torch.zeros_like(shift)
            centred = batch - shift
            total += centred.sum(dim=0)
            spread += float(centred.square().sum())
    scores = {}
    if "FRDiv" in metrics:
        scores["FRDiv"] = pairs / (k * (k - 1) * t * c) / n
    if "FRVar" in metrics:
        scores["FRVar"] = variance / (n * k * c)
    if "FRDvs" in metrics:
        spread -= float((total / n).square().sum()) * n
        scores["FRDvs"] = 2.0 * n * spread / (n * (n - 1) * k) / (t * c)
    return scores


def frdiv(predictions, device: str = "cpu") -> float:
    """FRDiv / S-MSE (higher is more diverse): per speaker, the sum over ordered reaction pairs (i, j)
    of ``||P[k,i] - P[k,j]||^2 / (K (K-1) T C)``, averaged over speakers."""
    return diversity(predictions, device, ("FRDiv",))["FRDiv"]


def frdvs(predictions, device: str = "cpu") -> float:
    """FRDvs (higher is more diverse): for each reaction index i, the sum over ordered speaker pairs
    of ``||P[k,i] - P[l,i]||^2``, summed over i and divided by ``N (N-1) K T C``."""
    return diversity(predictions, device, ("FRDvs",))["FRDvs"]


def frvar(predictions, device: str = "cpu") -> float:
    """FRVar (higher is more varied over time): mean of the unbiased (ddof 1) variance over time,
    over all speakers, reactions and channels."""
    return diversity(predictions, device, ("FRVar",))["FRVar"]

"""Appropriateness: FRCorr and FRDist against the appropriate real reactions of each speaker.

For speaker row ``k`` the appropriate reactions are the real listener sequences ``L[j]`` with
``neighbours[k, j] == 1``. Each generated reaction ``P[k, i]`` is matched to its best appropriate
reaction; the published scores sum over the K reactions (range up to K) and average over speakers.
"""

from __future__ import annotations

import numpy as np
import torch

from reactdiff.device import batch_for, resolve_device
from reactdiff.metrics.ccc import channel_stats, ccc_from_moments
from reactdiff.metrics.dtw import FRDIST_GROUPS, min_grouped_dtw
from reactdiff.metrics.dtw_wavefront import min_grouped_dtw_wavefront
from reactdiff.metrics.validation import check_neighbours, check_predictions, check_protocol, check_sequences

#: Speaker rows per torch batch on a CPU / a GPU: bounds the gathered (C, rows, A, T) float64
#: neighbour block; small blocks that stay in the caches ran fastest on 2 CPU cores (docs/metrics.md).
_ROWS_PER_BATCH = (4, 64)


def _padded_neighbours(neighbours: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """(N, A) column indices of each row's appropriate reactions, padded with -1, and the mask."""
    counts = neighbours.sum(axis=1)
    width = int(counts.max())
    index = np.full((neighbours.shape[0], width), -1, dtype=np.int64)
    rows, columns = np.nonzero(neighbours)
    # np.nonzero walks row by row, so a running position inside each row is the column rank.
    positions = np.arange(rows.size) - np.repeat(np.cumsum(counts) - counts, counts)
    index[rows, positions] = columns
    return index, index >= 0


def best_ccc(predictions, listener, neighbours, protocol: str = "corrected", device: str = "cpu") -> np.ndarray:
    """(N, K): for every reaction, the largest CCC with any of its speaker's appropriate reactions."""
    return best_ccc_protocols(predictions, listener, neighbours, (check_protocol(protocol),), device)[protocol]


def best_ccc_protocols(predictions, listener, neighbours, protocols, device: str = "cpu") -> dict[str, np.ndarray]:
    """``best_ccc`` under several protocols at once: ``{protocol: (N, K)}``. The moments and the
    covariances, nearly all of the work, are the same for every protocol and computed once."""
    protocols = tuple(check_protocol(protocol) for protocol in protocols)
    predictions = check_predictions(predictions)
    listener = check_sequences(listener, predictions, "listener")
    neighbours = check_neighbours(neighbours, predictions.shape[0])
    index, mask = _padded_neighbours(neighbours)
    # Channel-major (C, rows, ..., T) tensors: every channel's covariances are then one batched
    # matrix product (K x T by T x A) over contiguous memory, with no copy inside the product.
    real = channel_stats(torch.from_numpy(listener).to(device).permute(2, 0, 1), time_dim=-1)  # (C, N, T)
    index_t = torch.from_numpy(index.clip(min=0)).to(device)
    mask_t = torch.from_numpy(mask).to(device)
    best: dict[str, list[torch.Tensor]] = {protocol: [] for protocol in protocols}
    step = batch_for(device, *_ROWS_PER_BATCH)
    for start in range(0, predictions.shape[0], step):
        rows = slice(start, start + step)
        batch = torch.from_numpy(predictions[rows]).to(device).permute(3, 0, 1, 2)  # (C, B, K, T)
        generated = channel_stats(batch.to(torch.float64, memory_format=torch.contiguous_format), time_dim=-1)
        columns = index_t[rows]  # (B, A)
        # Population covariance of every (reaction, appropriate reaction) pair, per channel: (C, B, K, A).
        covariance = torch.matmul(generated.centred, real.centred[:, columns].transpose(-1, -2))
        covariance = covariance / predictions.shape[2]
        moments = (real.mean[:, columns].unsqueeze(2), real.var[:, columns].unsqueeze(2),
                   generated.mean.unsqueeze(3), generated.var.unsqueeze(3))
        for protocol in protocols:
            per_channel = ccc_from_moments(covariance, *moments, protocol)
            scores = per_channel.mean(dim=0).masked_fill(~mask_t[rows].unsqueeze(1), -torch.inf)
            best[protocol].append(scores.amax(dim=-1).cpu())
    return {protocol: torch.cat(values).numpy() for protocol, values in best.items()}


def frcorr(predictions, listener, neighbours, protocol: str = "corrected", device: str = "cpu") -> float:
    """FRCorr (higher is better): mean over speakers of the SUM over the K reactions of the best CCC
    with an appropriate real reaction. Divide by K for the per-reaction value."""
    return float(best_ccc(predictions, listener, neighbours, protocol, device).sum(axis=1).mean())


def min_dtw(predictions, listener, neighbours, device: str = "cpu") -> np.ndarray:
    """(N, K): for every reaction, the smallest grouped DTW distance (AUs / 15 + VA + expressions / 8)
    to any of its speaker's appropriate reactions. On a CUDA device ("cuda", or "auto" with a GPU) the
    torch wavefront kernel, batched over pairs (same values to float64 rounding); otherwise the
    compiled CPU kernel, parallel over all cores."""
    predictions = check_predictions(predictions)
    if predictions.shape[3] != FRDIST_GROUPS[-1][1]:
        raise ValueError(f"FRDist needs the {FRDIST_GROUPS[-1][1]}-d emotion vector, got {predictions.shape[3]} channels")
    listener = check_sequences(listener, predictions, "listener")
    neighbours = check_neighbours(neighbours, predictions.shape[0])
    device = resolve_device(str(device), "device")
    # The wavefront computes in float64, which MPS lacks: there the compiled CPU kernel runs.
    if device.type == "cuda":
        return min_grouped_dtw_wavefront(predictions, listener, neighbours, FRDIST_GROUPS, device)
    return min_grouped_dtw(predictions, listener, neighbours, FRDIST_GROUPS)


def frdist(predictions, listener, neighbours, device: str = "cpu") -> float:
    """FRDist (lower is better): mean over speakers of the SUM over the K reactions of the smallest
    grouped DTW to an appropriate real reaction. Divide by K for the per-reaction value."""
    return float(min_dtw(predictions, listener, neighbours, device).sum(axis=1).mean())

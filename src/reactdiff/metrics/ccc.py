"""Concordance correlation coefficient (CCC) between emotion sequences, in torch (CPU or GPU).

Both protocols average the per-channel CCC over the channels:

- ``official`` (the published evaluation): ``2 r sy sp / (sy^2 + sp^2 + (my - mp)^2 + 1e-8)`` with
  ``r`` the Pearson correlation clipped to [-1, 1]; a channel that is constant in either sequence
  has an undefined ``r`` that scores 0, even when both sequences are identical.
- ``corrected``: ``2 cov / (vy + vp + (my - mp)^2)`` from the covariance directly; a constant
  channel that disagrees scores 0 and two identical constant channels score 1.

All statistics use population moments (ddof 0) and are computed in float64.
"""

from __future__ import annotations

from typing import NamedTuple

import numpy as np
import torch

from reactdiff.metrics.validation import check_protocol

#: Stabiliser of the published CCC denominator.
OFFICIAL_EPS = 1e-8


class ChannelStats(NamedTuple):
    """Per-channel moments over the time axis of a sequence tensor (time at ``time_dim``)."""

    mean: torch.Tensor  # the input's shape without the time axis
    var: torch.Tensor  # same shape, population variance
    centred: torch.Tensor  # the input's shape
    constant: torch.Tensor  # same shape as mean, bool


def channel_stats(sequences: torch.Tensor, time_dim: int = -2) -> ChannelStats:
    """Moments over time (axis ``time_dim``: -2 for (..., T, C), -1 for channel-major (..., C, T)),
    in float64, with constant channels detected exactly.

    A constant channel gets exactly zero variance and centred values (a float mean of identical
    values can differ from them by an ulp, which would turn "constant" into a tiny random variance).
    """
    sequences = sequences.to(torch.float64)
    constant = sequences.amax(dim=time_dim) == sequences.amin(dim=time_dim)
    mean = torch.where(constant, sequences.select(time_dim, 0), sequences.mean(dim=time_dim))
    centred = (sequences - mean.unsqueeze(time_dim)).masked_fill(constant.unsqueeze(time_dim), 0.0)
    var = centred.square().mean(dim=time_dim)
    return ChannelStats(mean, var, centred, constant)


def ccc_from_moments(
    covariance: torch.Tensor,
    mean_true: torch.Tensor,
    var_true: torch.Tensor,
    mean_pred: torch.Tensor,
    var_pred: torch.Tensor,
    protocol: str,
) -> torch.Tensor:
    """Per-channel CCC from broadcastable moments (population covariance and variances)."""
    squared_bias = (mean_true - mean_pred).square()
    if protocol == "official":
        scale = torch.sqrt(var_true) * torch.sqrt(var_pred)
        # r is undefined (NaN in the published code) for a constant channel and then counts as 0.
        r = torch.where(scale > 0, covariance / scale.clamp_min(torch.finfo(scale.dtype).tiny), 0.0)
        numerator = 2.0 * r.clamp(-1.0, 1.0) * scale
        return numerator / (var_true + var_pred + squared_bias + OFFICIAL_EPS)
    denominator = var_true + var_pred + squared_bias
    # Zero denominator: both channels constant with the same value, i.e. perfect agreement.
    return torch.where(denominator > 0, 2.0 * covariance / denominator.clamp_min(torch.finfo(denominator.dtype).tiny), 1.0)


def ccc(y_true, y_pred, protocol: str = "corrected") -> np.ndarray:
    """CCC averaged over channels between (..., T, C) sequences (broadcasting over leading axes)."""
    check_protocol(protocol)
    true = channel_stats(torch.as_tensor(np.asarray(y_true, dtype=np.float32)))
    pred = channel_stats(torch.as_tensor(np.asarray(y_pred, dtype=np.float32)))
    covariance = (true.centred * pred.centred).mean(dim=-2)
    per_channel = ccc_from_moments(covariance, true.mean, true.var, pred.mean, pred.var, protocol)
    return per_channel.mean(dim=-1).numpy()

"""Synchrony: FRSyn, the time-lagged cross-correlation (TLCC) offset between a reaction and its speaker.

For every lag in -49..49 the reaction and speaker sequences are shifted against each other
(lag > 0: ``p[lag:]`` with ``s[:-lag]``; lag < 0: ``p[:lag]`` with ``s[-lag:]``), the Pearson
correlation is taken per channel over the overlap and averaged over channels; the offset is
``49 - argmax`` over the 99 lags and FRSyn is the mean absolute offset (lower is better).

All lags and channels are computed at once: the cross products of every lag come from one FFT
cross-correlation, the window sums from prefix sums, and "is this channel constant inside this
window" from a prefix count of value changes (exact, so the published NaN behaviour is reproduced).

Protocols:
- ``official``: a channel constant inside the window has an undefined correlation, which makes the
  lag's channel mean NaN; the published argmax then returns the first NaN lag (index 0 when every
  lag is NaN, i.e. offset 49). Per-channel correlations are averaged in float32 like the published
  code. By default only the first of the K reactions is scored (the published multiprocessing code).
- ``corrected``: constant channels are left out of that lag's mean; a lag with no usable channel is
  skipped; a reaction with no usable lag gets offset NaN and is counted instead of scored 49. All K
  reactions are scored.
"""

from __future__ import annotations

import numpy as np
import torch

from reactdiff.device import batch_for
from reactdiff.metrics.validation import (
    MAX_LAG,
    MIN_SYNCHRONY_FRAMES,
    MetricInputError,
    check_predictions,
    check_protocol,
    check_sequences,
)

#: Speaker rows per torch batch on a CPU / a GPU (cache-sized blocks ran fastest on 2 CPU cores,
#: docs/metrics.md).
_ROWS_PER_BATCH = (4, 64)


def _prefix(values: torch.Tensor) -> torch.Tensor:
    """Prefix sums along the last axis with a leading zero: window [a, b) sums to out[b] - out[a]."""
    return torch.nn.functional.pad(values.cumsum(dim=-1), (1, 0))


def _changes_prefix(values: torch.Tensor) -> torch.Tensor:
    """out[m] = number of t in [1, m) with values[t] != values[t-1]; window [a, b) is constant
    exactly when out[b] - out[a + 1] == 0."""
    changes = (values[..., 1:] != values[..., :-1]).to(torch.int32)
    return torch.nn.functional.pad(changes.cumsum(dim=-1), (2, 0))


def _lag_correlations(reactions: torch.Tensor, speaker: torch.Tensor):
    """Per-lag, per-channel Pearson correlations and constant-window masks.

    ``reactions`` (B, K, C, T) and ``speaker`` (B, 1, C, T), float64. Returns ``r`` (B, K, C, L) and
    ``constant`` (B, K, C, L) for the L = 2 * MAX_LAG + 1 lags in increasing order.
    """
    frames = reactions.shape[-1]
    device = reactions.device
    lags = torch.arange(-MAX_LAG, MAX_LAG + 1, device=device)
    # Sequences shorter than 2 * MAX_LAG + 1 (REACT 2025 items, 58 frames and up) have lags whose
    # window holds fewer than 2 frames or none: their correlation is undefined (NaN in np.corrcoef),
    # so they count as constant. Clamping the windows to [0, frames] keeps their indices in range.
    short = frames - lags.abs() < 2
    overlap = (frames - lags.abs()).clamp(min=1).to(torch.float64)
    # Windows [start, stop) of the reaction and of the speaker for every lag.
    reaction_start, reaction_stop = lags.clamp(min=0, max=frames), (frames + lags.clamp(max=0)).clamp(min=0)
    speaker_start, speaker_stop = (-lags).clamp(min=0, max=frames), (frames - lags.clamp(min=0)).clamp(min=0)
    reaction_start, speaker_start = torch.minimum(reaction_start, reaction_stop), torch.minimum(speaker_start, speaker_stop)

    def window_sums(prefix: torch.Tensor, start: torch.Tensor, stop: torch.Tensor) -> torch.Tensor:
        return prefix[..., stop] - prefix[..., start]

    # Constancy is judged on the raw values, before any arithmetic can blur it.
    constant = (
        (window_sums(_changes_prefix(reactions), (reaction_start + 1).clamp(max=frames), reaction_stop) == 0)
        | (window_sums(_changes_prefix(speaker), (speaker_start + 1).clamp(max=frames), speaker_stop) == 0)
        | short
    )
    # Centring on the whole-sequence mean keeps the one-pass moment formulas free of cancellation.
    reactions = reactions - reactions.mean(dim=-1, keepdim=True)
    speaker = speaker - speaker.mean(dim=-1, keepdim=True)
    size = 1 << int(np.ceil(np.log2(frames + MAX_LAG)))  # no circular wrap-around within +-MAX_LAG
    spectrum = torch.fft.rfft(reactions, n=size) * torch.fft.rfft(speaker, n=size).conj()
    # cross[m] = sum_u p[u + m] s[u]: exactly the lag-m cross product of both shift conventions.
    cross = torch.fft.irfft(spectrum, n=size)[..., lags % size]
    sum_p = window_sums(_prefix(reactions), reaction_start, reaction_stop)
    sum_pp = window_sums(_prefix(reactions.square()), reaction_start, reaction_stop)
    sum_s = window_sums(_prefix(speaker), speaker_start, speaker_stop)
    sum_ss = window_sums(_prefix(speaker.square()), speaker_start, speaker_stop)
    covariance = cross - sum_p * sum_s / overlap
    variance = (sum_pp - sum_p.square() / overlap).clamp_min(0) * (sum_ss - sum_s.square() / overlap).clamp_min(0)
    r = (covariance / variance.sqrt()).clamp(-1.0, 1.0)
    return r.masked_fill(constant, torch.nan), constant


def _official_best_lag(lag_means: torch.Tensor) -> torch.Tensor:
    """The published argmax: NaN compares as the maximum, so the first NaN lag wins if there is one."""
    is_nan = torch.isnan(lag_means)
    first_nan = is_nan.to(torch.int8).argmax(dim=-1)
    first_max = torch.nan_to_num(lag_means, nan=-torch.inf).argmax(dim=-1)
    return torch.where(is_nan.any(dim=-1), first_nan, first_max)


def tlcc_offsets(predictions, speaker, protocol: str = "corrected", device: str = "cpu") -> np.ndarray:
    """(N, K) absolute TLCC offsets in frames between each reaction and its speaker (NaN: no usable
    lag, ``corrected`` only). Sequences must have at least MIN_SYNCHRONY_FRAMES (99) frames."""
    return tlcc_offsets_protocols(predictions, speaker, (check_protocol(protocol),), device)[protocol]


def tlcc_offsets_protocols(predictions, speaker, protocols, device: str = "cpu") -> dict[str, np.ndarray]:
    """``tlcc_offsets`` under several protocols at once, ``{protocol: (N, K)}``: the lagged
    correlations, nearly all of the work, are computed once."""
    protocols = tuple(check_protocol(protocol) for protocol in protocols)
    predictions = check_predictions(predictions)
    speaker = check_sequences(speaker, predictions, "speaker")
    if predictions.shape[2] < MIN_SYNCHRONY_FRAMES:
        raise MetricInputError(
            "predictions",
            f"FRSyn needs at least {MIN_SYNCHRONY_FRAMES} frames (lags up to {MAX_LAG} with an overlap of at "
            f"least {MAX_LAG + 1} frames), got T = {predictions.shape[2]}",
        )
    offsets: dict[str, list[torch.Tensor]] = {protocol: [] for protocol in protocols}
    step = batch_for(device, *_ROWS_PER_BATCH)
    for start in range(0, predictions.shape[0], step):
        rows = slice(start, start + step)
        reactions = torch.from_numpy(predictions[rows]).to(device, torch.float64)
        speakers = torch.from_numpy(speaker[rows]).to(device, torch.float64)
        for protocol, values in lag_offsets_protocols(reactions, speakers, protocols).items():
            offsets[protocol].append(values.cpu())
    return {protocol: torch.cat(values).numpy() for protocol, values in offsets.items()}


def lag_offsets(reactions: torch.Tensor, speaker: torch.Tensor, protocol: str) -> torch.Tensor:
    """(B, K) float64 absolute TLCC offsets of reactions (B, K, T, C) against speakers (B, T, C),
    float64 tensors on any device, no input checks (callers validate). ``protocol``: ``official``
    (constant channel -> NaN lag mean -> first NaN lag wins) or ``corrected`` (constant channels left
    out of each lag's mean; NaN where no lag is usable). Any T >= 2 works: lags whose window holds
    fewer than 2 frames are undefined, as in the published code."""
    return lag_offsets_protocols(reactions, speaker, (protocol,))[protocol]


def lag_offsets_protocols(reactions: torch.Tensor, speaker: torch.Tensor, protocols) -> dict[str, torch.Tensor]:
    """``lag_offsets`` under several protocols from one computation of the lagged correlations."""
    r, constant = _lag_correlations(reactions.transpose(-1, -2), speaker.transpose(-1, -2).unsqueeze(1))
    return {protocol: _offsets(r, constant, protocol) for protocol in protocols}


def _offsets(r: torch.Tensor, constant: torch.Tensor, protocol: str) -> torch.Tensor:
    if protocol == "official":
        # The published code stores each channel's correlation in a float32 tensor and averages there.
        best = _official_best_lag(r.to(torch.float32).mean(dim=-2))
        return (MAX_LAG - best).abs().to(torch.float64)
    usable = (~constant).sum(dim=-2)
    lag_means = torch.nan_to_num(r, nan=0.0).sum(dim=-2) / usable.clamp_min(1)
    lag_means = lag_means.masked_fill(usable == 0, -torch.inf)
    offset = (MAX_LAG - lag_means.argmax(dim=-1)).abs().to(torch.float64)
    return offset.masked_fill((usable == 0).all(dim=-1), torch.nan)


def frsyn(
    predictions, speaker, protocol: str = "corrected", device: str = "cpu", all_reactions: bool | None = None
) -> float:
    """FRSyn: mean absolute TLCC offset (frames, lower is better).

    ``all_reactions`` defaults to the protocol's choice: the first reaction per speaker for
    ``official`` (the published number), all K for ``corrected``. Under ``corrected``, reactions with
    no usable lag are left out (count them with ``tlcc_offsets``); NaN if none is usable.
    """
    if all_reactions is None:
        all_reactions = protocol == "corrected"
    predictions = check_predictions(predictions)
    # The first reaction alone needs a K-th of the work.
    offsets = tlcc_offsets(predictions if all_reactions else predictions[:, :1], speaker, protocol, device)
    usable = offsets[~np.isnan(offsets)]
    return float(usable.mean()) if usable.size else float("nan")

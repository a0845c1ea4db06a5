"""The REACT 2025/2026 (MARS) evaluation, protocol ``react2025``: items of any length.

Each item n has K predictions (K, L_n, 25), its speaker's attributes (L_n, 25) and G raw ground
truths of any length (the paired one first). As the official ``compute_metrics`` does (spec
REACT2025_DATA.md section 4):

- prediction AU columns 0-14 are rounded half-to-even (``data_clamp``; not clipped);
- each ground truth is aligned to L_n frames (:mod:`reactdiff.metrics.alignment`);
- FRC_n = sum over k of max over g of the mean over channels of the official CCC (Pearson r from the
  patched corrcoef: NaN -> 0, clipped; a constant channel scores 0);
- FRD_n = sum over k of min over g of DTW(AU)/15 + DTW(VA) + DTW(expr)/8 (tslearn's DTW);
- smse_n = sum over ordered pairs i != j of ||y_i - y_j||^2 / (K (K-1) L_n 25);
- FRVar_n = mean over k and channels of the ddof-1 temporal variance;
- TLCC_n = |offset| of the first prediction against the speaker, lags -49..49 (``official``: a
  channel constant inside a lag window makes that lag NaN and the first NaN lag wins; ``nan_safe``:
  those channels are left out of the lag's mean, an item with no usable lag is counted, not scored);
- every score is a plain mean over items.

Memory stays bounded by working on buckets of items of equal length (a few tens of MiB of
predictions at a time), never on one padded tensor of everything.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Sequence
from typing import Any

import numpy as np
import torch

from reactdiff.device import resolve_device
from reactdiff.metrics.alignment import (
    ALIGNMENT_NOTES,
    AU_COLUMNS,
    CHANNELS,
    DEFAULT_ALIGNMENT,
    align_ground_truth,
    check_alignment,
)
from reactdiff.metrics.ccc import ccc_from_moments, channel_stats
from reactdiff.metrics.dtw import FRDIST_GROUPS, min_grouped_dtw
from reactdiff.metrics.dtw_wavefront import min_grouped_dtw_wavefront
from reactdiff.metrics.evaluate import PROTOCOL_NOTES
from reactdiff.metrics.synchrony import lag_offsets
from reactdiff.metrics.validation import MAX_LAG, MetricInputError, as_array

PROTOCOL = "react2025"
#: FRSyn variants: the official TLCC (NaN-first argmax) and the NaN-safe one.
TLCC_VARIANTS = ("official", "nan_safe")
#: float32 prediction bytes per bucket of equal-length items (an item longer than this is a bucket alone).
_BUCKET_BYTES = 64 << 20

TLCC_NOTES = {
    "official": (
        f"FRSyn (TLCC) official: first prediction only, lags -{MAX_LAG}..{MAX_LAG}; a channel constant in a lag's "
        f"window (e.g. an AU that never fires after rounding) makes that lag NaN and the NaN-first argmax gives "
        f"offset {MAX_LAG}."
    ),
    "nan_safe": (
        f"FRSyn (TLCC) nan_safe, NOT the official number: first prediction only, lags -{MAX_LAG}..{MAX_LAG}; channels "
        "constant in a lag's window are left out of that lag's mean; items with no usable lag are counted in "
        "FRSyn_no_valid_lag and left out of the mean."
    ),
}
NOT_COMPUTED_NOTE = (
    "Not computed: FRDvs (dropped by the 2025 evaluation code: it needs equal-length items stacked across "
    "speakers) and FRRea (not part of the 2025 evaluation code; the FD-* substitutes need equal-length stacks)."
)


def round_action_units(predictions: np.ndarray) -> np.ndarray:
    """A copy with AU columns 0-14 rounded half-to-even (``data_clamp``: torch.round; 0.5 -> 0,
    1.5 -> 2, 1.7 -> 2, -0.6 -> -1, no clipping); other columns unchanged."""
    rounded = np.array(predictions, dtype=np.float32, copy=True)
    rounded[..., AU_COLUMNS] = np.round(rounded[..., AU_COLUMNS])
    return rounded


def check_items(predictions, appropriate, speaker) -> tuple[list[np.ndarray], list[list[np.ndarray]], list[np.ndarray]]:
    """Validated float32 items: predictions (K, L_n, 25) with one K > 1 for all, speakers (L_n, 25),
    1 or more ground truths (T >= 1, 25) each. Raises MetricInputError (a ValueError) naming the item."""
    for name, value in (("predictions", predictions), ("appropriate", appropriate), ("speaker", speaker)):
        if isinstance(value, (str, bytes)) or not isinstance(value, (Sequence, np.ndarray)):
            raise MetricInputError(name, f"must be a sequence of per-item arrays, got {type(value).__name__}")
    count = len(predictions)
    if count == 0:
        raise MetricInputError("predictions", "no items to evaluate")
    for name, value in (("appropriate", appropriate), ("speaker", speaker)):
        if len(value) != count:
            raise MetricInputError(name, f"has {len(value)} items, predictions has {count}")
    items, truths, speakers = [], [], []
    reactions = None
    for n in range(count):
        item = as_array(predictions[n], f"predictions[{n}]", 3, "predictions")
        k, length, channels = item.shape
        if channels != CHANNELS:
            raise MetricInputError("predictions", f"item {n} has {channels} channels, expected {CHANNELS}")
        if k < 2:
            raise MetricInputError("predictions", f"item {n} has K = {k} predictions; smse needs K > 1")
        if reactions is None:
            reactions = k
        elif k != reactions:
            raise MetricInputError("predictions", f"item {n} has K = {k} predictions, item 0 has {reactions}")
        if length < 2:
            raise MetricInputError("predictions", f"item {n} has {length} frames; FRVar and CCC need at least 2")
        spk = as_array(speaker[n], f"speaker[{n}]", 2, "speaker")
        if spk.shape != (length, CHANNELS):
            raise MetricInputError("speaker", f"item {n} has shape {spk.shape}, expected ({length}, {CHANNELS})")
        pool = appropriate[n]
        if isinstance(pool, (str, bytes)) or not isinstance(pool, (Sequence, np.ndarray)) or len(pool) < 1:
            raise MetricInputError("appropriate", f"item {n} needs a sequence of at least 1 ground truth (the paired one first)")
        gts = []
        for g, gt in enumerate(pool):
            gt = as_array(gt, f"appropriate[{n}][{g}]", 2, "appropriate")
            if gt.shape[0] < 1 or gt.shape[1] != CHANNELS:
                raise MetricInputError("appropriate", f"item {n} ground truth {g} has shape {gt.shape}, expected (T >= 1, {CHANNELS})")
            gts.append(gt)
        items.append(item)
        truths.append(gts)
        speakers.append(spk)
    return items, truths, speakers


def _buckets(items: list[np.ndarray]) -> list[list[int]]:
    """Item indices grouped by length, each group split to hold at most _BUCKET_BYTES of predictions."""
    by_length: dict[int, list[int]] = defaultdict(list)
    for n, item in enumerate(items):
        by_length[item.shape[1]].append(n)
    buckets = []
    for length in sorted(by_length):
        indices = by_length[length]
        per_item = max(1, items[indices[0]].nbytes)
        size = max(1, _BUCKET_BYTES // per_item)
        buckets.extend(indices[start : start + size] for start in range(0, len(indices), size))
    return buckets


def _best_ccc_sum(prediction: np.ndarray, truths: np.ndarray, device) -> float:
    """FRC_n: sum over the K predictions (K, L, 25) of the best official CCC over truths (G, L, 25)."""
    generated = channel_stats(torch.from_numpy(prediction).to(device))
    real = channel_stats(torch.from_numpy(truths).to(device))
    covariance = torch.einsum("ktc,gtc->kgc", generated.centred, real.centred) / prediction.shape[1]
    per_channel = ccc_from_moments(
        covariance, real.mean.unsqueeze(0), real.var.unsqueeze(0),
        generated.mean.unsqueeze(1), generated.var.unsqueeze(1), "official",
    )
    return float(per_channel.mean(dim=-1).amax(dim=-1).sum())


def evaluate_react2025(
    predictions,
    appropriate,
    speaker,
    *,
    alignment: str = DEFAULT_ALIGNMENT,
    tlcc: str = "official",
    round_aus: bool = True,
    device: str = "cpu",
) -> dict[str, Any]:
    """The REACT 2025/2026 metrics on N items of any length (see the module docstring).

    ``predictions``: N arrays (K, L_n, 25), one K > 1 for all; ``appropriate``: N sequences of G_n >= 1
    raw ground truths (T, 25) of any length, the paired one first; ``speaker``: N arrays (L_n, 25).
    ``alignment`` one of :data:`reactdiff.metrics.alignment.ALIGNMENTS`, ``tlcc`` one of
    :data:`TLCC_VARIANTS`, ``round_aus`` applies ``data_clamp`` to the predictions. ``device``: the
    torch parts run there, and FRD's DTW runs in the GPU wavefront kernel on CUDA, in the compiled
    CPU kernel otherwise.

    Returns a flat dict: ``FRCorr`` (= FRC), ``FRDist`` (= FRD), their ``*_per_reaction`` (/ K),
    ``FRDiv`` (= smse), ``FRVar``, ``FRSyn`` (= TLCC; ``FRSyn_no_valid_lag`` with ``nan_safe``),
    ``protocol``, ``alignment``, ``tlcc``, ``round_aus``, ``num_speakers``, ``num_reactions``,
    ``num_ground_truths`` and ``notes``.
    """
    check_alignment(alignment)
    if tlcc not in TLCC_VARIANTS:
        raise ValueError(f"tlcc must be one of {', '.join(map(repr, TLCC_VARIANTS))}, got {tlcc!r}")
    device = resolve_device(str(device), "device")
    items, truths, speakers = check_items(predictions, appropriate, speaker)
    count, reactions = len(items), items[0].shape[0]

    frc = np.empty(count)
    frd = np.empty(count)
    smse = np.empty(count)
    variance = np.empty(count)
    offsets = np.empty(count)
    for bucket in _buckets(items):
        length = items[bucket[0]].shape[1]
        block = np.stack([items[n] for n in bucket])  # (B, K, L, 25)
        if round_aus:
            block[..., AU_COLUMNS] = np.round(block[..., AU_COLUMNS])
        aligned = [np.stack([align_ground_truth(gt, length, alignment) for gt in truths[n]]) for n in bucket]
        for row, n in enumerate(bucket):
            frc[n] = _best_ccc_sum(block[row], aligned[row], device)

        # FRD: every item's reactions against its own ground truths, one kernel call per bucket.
        references = np.concatenate(aligned)
        sizes = [len(gts) for gts in aligned]
        owners = np.repeat(np.arange(len(bucket)), sizes)
        candidates = np.zeros((len(bucket), references.shape[0]), dtype=np.int8)
        candidates[owners, np.arange(references.shape[0])] = 1
        if device.type == "cuda":
            distances = min_grouped_dtw_wavefront(block, references, candidates, FRDIST_GROUPS, device)
        else:
            distances = min_grouped_dtw(block, references, candidates, FRDIST_GROUPS)
        frd[bucket] = distances.sum(axis=1)
        del references, aligned

        values = torch.from_numpy(block).to(device, torch.float64)
        # sum over ordered pairs ||y_i - y_j||^2 = 2 K sum_i ||y_i - mean||^2 (no K^2 pairs).
        spread = (values - values.mean(dim=1, keepdim=True)).square().sum(dim=(1, 2, 3))
        smse[bucket] = (2.0 * reactions * spread / (reactions * (reactions - 1) * length * CHANNELS)).cpu().numpy()
        variance[bucket] = values.var(dim=2, correction=1).mean(dim=(1, 2)).cpu().numpy()
        spk = torch.from_numpy(np.stack([speakers[n] for n in bucket])).to(device, torch.float64)
        protocol = "official" if tlcc == "official" else "corrected"
        offsets[bucket] = lag_offsets(values[:, :1], spk, protocol)[:, 0].cpu().numpy()
        del values, spk, block

    usable = ~np.isnan(offsets)
    scores: dict[str, Any] = {
        "protocol": PROTOCOL,
        "FRCorr": float(frc.mean()),
        "FRCorr_per_reaction": float(frc.mean() / reactions),
        "FRDist": float(frd.mean()),
        "FRDist_per_reaction": float(frd.mean() / reactions),
        "FRDiv": float(smse.mean()),
        "FRVar": float(variance.mean()),
        "FRSyn": float(offsets[usable].mean()) if usable.any() else float("nan"),
    }
    if tlcc == "nan_safe":
        scores["FRSyn_no_valid_lag"] = int((~usable).sum())
    scores.update(
        {
            "num_speakers": count,
            "num_reactions": int(reactions),
            "num_ground_truths": int(sum(len(gts) for gts in truths)),
            "alignment": alignment,
            "tlcc": tlcc,
            "round_aus": bool(round_aus),
            "notes": [
                PROTOCOL_NOTES[PROTOCOL],
                ALIGNMENT_NOTES[alignment],
                TLCC_NOTES[tlcc],
                "AU columns of the predictions rounded half-to-even before scoring (data_clamp)."
                if round_aus
                else "AU columns NOT rounded (round_aus=False; the official evaluation rounds them).",
                NOT_COMPUTED_NOTE,
            ],
        }
    )
    return scores

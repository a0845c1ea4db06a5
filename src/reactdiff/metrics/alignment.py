"""Ground-truth length alignment for the REACT 2025/2026 evaluation, deterministic.

MARS ground truths have any length T, predictions the speaker's length P. The official evaluation
re-synthesises every ground truth of another length to P frames with a learned VAE, the
"post-processor" (spec REACT2025_DATA.md section 4.1). Its weights are not public and it samples its
latent, so its output cannot be reproduced; the methods here stand in for it, and every result
names the one used:

- ``index_emulation`` (the default): the post-processor's segment/index mapping, done with copies.
  Where the VAE reconstructs a ground-truth frame the frame is copied; where it extrapolates, the
  segment's last reconstructed frame is repeated. Every output frame then goes through the VAE's
  output rule: AUs binarised at 0.5, expression probabilities renormalised. It keeps exactly the
  frames the official evaluation keeps, in the same places, and for items of up to 1000 frames it
  is crop_pad plus that output rule.
- ``crop_pad``: keep the time line: the first P frames, or the whole ground truth followed by its
  last frame repeated. Frames are real ones, unchanged.
- ``resample``: stretch the time line: linear interpolation at P evenly spaced positions, AUs
  re-binarised at 0.5 and expression rows renormalised. Not what the official evaluation does
  (it never stretches), offered for comparison.

Every method returns the ground truth unchanged when T == P, as the official evaluation does (the
paired ground truth normally has the speaker's length). The spec's ``pairwise_truncate`` (score
each pair on min(P, T) frames) is not offered: it changes the prediction too, so it is not a
ground-truth alignment.
"""

from __future__ import annotations

import math

import numpy as np

from reactdiff.metrics.validation import MetricInputError, as_array

ALIGNMENTS = ("crop_pad", "resample", "index_emulation")
DEFAULT_ALIGNMENT = "index_emulation"

#: The post-processor's segment length (``post_clip_length`` / ``clip_len_test``).
POST_CLIP = 1000
#: Column blocks of the 25-d attribute vector: 15 binary AUs, valence/arousal, 8 expression probabilities.
AU_COLUMNS = slice(0, 15)
EXPRESSION_COLUMNS = slice(17, 25)
CHANNELS = 25

#: One line per method for reports.
ALIGNMENT_NOTES = {
    "index_emulation": (
        "alignment index_emulation (deterministic stand-in for the official learned post-processor): "
        "ground truths of another length follow its segment mapping (1000-frame segments), copying the "
        "frames it reconstructs and repeating each segment's last copied frame where it would extrapolate; "
        "AUs binarised at 0.5, expressions renormalised; equal lengths unchanged. The 9 sampled ground "
        "truths will not match leaderboard values (the official VAE is stochastic and its weights are not public)."
    ),
    "crop_pad": (
        "alignment crop_pad: ground truths of another length cropped to the prediction length, or padded "
        "by repeating their last frame; equal lengths unchanged. Not the official post-processor."
    ),
    "resample": (
        "alignment resample: ground truths of another length linearly resampled in time to the prediction "
        "length, AUs re-binarised at 0.5, expressions renormalised; equal lengths unchanged. Not the "
        "official post-processor (which never stretches time)."
    ),
}


def check_alignment(method: str) -> str:
    if method not in ALIGNMENTS:
        raise ValueError(f"alignment must be one of {', '.join(map(repr, ALIGNMENTS))}, got {method!r}")
    return method


def resynthesise(frames: np.ndarray) -> np.ndarray:
    """The post-processor's output rule on (T, 25) frames, in place: AU = 1[value >= 0.5] (its
    sigmoid >= 0.5 on logits), expressions renormalised to sum 1 (its softmax); a row with no
    positive mass becomes uniform, as a softmax of equal logits would."""
    frames[:, AU_COLUMNS] = frames[:, AU_COLUMNS] >= 0.5
    expressions = np.clip(frames[:, EXPRESSION_COLUMNS], 0.0, None)
    total = expressions.sum(axis=1, keepdims=True)
    width = expressions.shape[1]
    frames[:, EXPRESSION_COLUMNS] = np.where(total > 0, expressions / np.where(total > 0, total, 1.0), 1.0 / width)
    return frames


def emulation_index(frames: int, length: int, segment: int = POST_CLIP) -> np.ndarray:
    """(length,) indices into the ground truth zero-padded to a whole number of pieces (indices >=
    ``frames`` are padding zeros, which the official encoder also sees): output frame -> the
    ground-truth frame the post-processor reconstructs there, or the segment's last encoded frame
    where it extrapolates. Spec section 4.1, lengths T = ``frames`` and P = ``length``."""
    if length > frames:
        # S segments of M output frames; the ground truth is cut into S pieces of m frames.
        count = math.ceil(length / segment)
        encode_span, decode_span = math.ceil(frames / count), segment
    else:
        # S pieces of M ground-truth frames; each decodes to m output frames.
        count = math.ceil(frames / segment)
        encode_span, decode_span = segment, math.ceil(length / count)
    pieces = []
    for i in range(count):
        last = i == count - 1
        encoded = (frames % encode_span or encode_span) if last else encode_span
        decoded = (length % decode_span or decode_span) if last else decode_span
        pieces.append(i * encode_span + np.minimum(np.arange(decoded), encoded - 1))
    index = np.concatenate(pieces)
    # For some P <= (S - 1)^2 (e.g. a 301-frame prediction against a 20000-frame ground truth: 317) the
    # official segments do not add up to P (its concatenation would have the wrong length); here
    # the output is cut, or extended with its last frame, to P.
    if index.size >= length:
        return index[:length]
    return np.concatenate([index, np.full(length - index.size, index[-1])])


def align_ground_truth(gt, length: int, method: str = DEFAULT_ALIGNMENT) -> np.ndarray:
    """A (T, 25) ground truth aligned to ``length`` frames by ``method`` (see the module docstring):
    a new float32 (length, 25) array."""
    check_alignment(method)
    gt = as_array(gt, "ground truth", 2)
    if gt.shape[1] != CHANNELS or gt.shape[0] < 1:
        raise MetricInputError("ground truth", f"must have shape (T >= 1, {CHANNELS}), got {gt.shape}")
    if isinstance(length, bool) or not isinstance(length, (int, np.integer)) or length < 1:
        raise ValueError(f"alignment length must be a positive integer, got {length!r}")
    frames = gt.shape[0]
    if frames == length:
        return gt.copy()
    if method == "crop_pad":
        if frames > length:
            return gt[:length].copy()
        return np.concatenate([gt, np.repeat(gt[-1:], length - frames, axis=0)])
    if method == "resample":
        positions = np.linspace(0.0, frames - 1, length)
        lower = np.floor(positions).astype(np.int64)
        upper = np.minimum(lower + 1, frames - 1)
        weight = (positions - lower)[:, None]
        values = gt[lower].astype(np.float64) * (1.0 - weight) + gt[upper].astype(np.float64) * weight
        return resynthesise(values).astype(np.float32)
    index = emulation_index(frames, length)
    padded = np.zeros((max(frames, int(index.max()) + 1), CHANNELS), dtype=np.float32)
    padded[:frames] = gt
    return resynthesise(padded[index])

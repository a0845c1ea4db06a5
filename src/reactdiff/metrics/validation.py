"""Input checks shared by the metric functions: wrong inputs fail with a message naming the input
and the problem instead of producing a silently wrong number."""

from __future__ import annotations

import numpy as np

from reactdiff.errors import DataError

#: FRSyn's lags run over -MAX_LAG..MAX_LAG frames (2 s at 25 fps minus one frame, as published).
MAX_LAG = 49
#: Shortest sequence FRSyn accepts: at the extreme lags the correlation window (T - MAX_LAG frames)
#: must still be at least as long as MAX_LAG + 1 frames, i.e. cover half of the sequence or more.
MIN_SYNCHRONY_FRAMES = 2 * MAX_LAG + 1


class MetricInputError(DataError, ValueError):
    """A metric input has the wrong shape or values; ``path`` names the input (or its file)."""


def as_array(values, name: str, ndim: int, source: str | None = None) -> np.ndarray:
    """``values`` as a float32 array with ``ndim`` dimensions and only finite values."""
    source = source or name
    array = np.asarray(values)
    if array.ndim != ndim:
        raise MetricInputError(source, f"'{name}' must have {ndim} dimensions, got shape {array.shape}")
    if not np.issubdtype(array.dtype, np.number):
        raise MetricInputError(source, f"'{name}' must be numeric, got dtype {array.dtype}")
    array = array.astype(np.float32, copy=False)
    # NaN and inf propagate into a float64 sum, which finite float32 values cannot overflow: one
    # streaming pass with no temporary the size of the input (1.2 GB of REACT 2024 test predictions).
    with np.errstate(invalid="ignore"):  # inf + -inf: the NaN that flags them, not a warning
        total = array.sum(dtype=np.float64)
    if not np.isfinite(total):
        bad = ~np.isfinite(array)
        index = tuple(int(i) for i in np.argwhere(bad)[0])
        raise MetricInputError(source, f"'{name}' has {int(bad.sum())} NaN/inf values (first at index {index})")
    return array


def check_predictions(predictions, name: str = "predictions", min_samples: int = 1) -> np.ndarray:
    """(N, K, T, C) predictions; diversity metrics need ``min_samples=2`` reactions per speaker."""
    array = as_array(predictions, name, 4)
    if array.shape[1] < min_samples:
        raise MetricInputError(
            name, f"needs at least {min_samples} reactions per speaker (K), got K = {array.shape[1]}"
        )
    if array.shape[2] < 2:
        raise MetricInputError(name, f"needs at least 2 frames per sequence, got T = {array.shape[2]}")
    return array


def check_sequences(sequences, predictions: np.ndarray, name: str) -> np.ndarray:
    """(N, T, C) ground-truth sequences matching ``predictions`` (N, K, T, C) row by row."""
    array = as_array(sequences, name, 3)
    n, _, frames, channels = predictions.shape
    if array.shape != (n, frames, channels):
        raise MetricInputError(
            name, f"shape {array.shape} does not match the predictions: expected ({n}, {frames}, {channels})"
        )
    return array


def check_neighbours(neighbours, n: int, name: str = "neighbours") -> np.ndarray:
    """The (N, N) 0/1 appropriateness matrix with a unit diagonal, as int8."""
    array = np.asarray(neighbours)
    if array.shape != (n, n):
        raise MetricInputError(name, f"must have shape ({n}, {n}) to match {n} prediction rows, got {array.shape}")
    if not np.isin(array, (0, 1)).all():
        raise MetricInputError(name, f"must hold only 0 and 1, found {np.unique(array)[:5].tolist()}")
    zero_diagonal = np.flatnonzero(np.diagonal(array) != 1)
    if zero_diagonal.size:
        raise MetricInputError(
            name,
            f"diagonal must be 1 (a listener's own reaction is appropriate); "
            f"{zero_diagonal.size} rows have 0, first row {int(zero_diagonal[0])}",
        )
    return array.astype(np.int8)


#: Protocols on stacked (N, K, 750, 25) arrays with the 2024 neighbour matrix.
STACKED_PROTOCOLS = ("official", "corrected")
#: Every protocol name: the stacked ones and REACT 2025/2026 (``react2025``: items of any length,
#: lists of appropriate ground truths; ``reactdiff.metrics.react2025``).
ALL_PROTOCOLS = STACKED_PROTOCOLS + ("react2025",)


def check_protocol(protocol: str, allowed: tuple[str, ...] = STACKED_PROTOCOLS) -> str:
    """``protocol`` if it is one of ``allowed``; a ValueError naming the accepted ones otherwise (and,
    for a known protocol that does not apply here, why)."""
    if protocol not in allowed:
        names = " or ".join(repr(name) for name in allowed)
        if protocol in ALL_PROTOCOLS:
            raise ValueError(
                f"protocol {protocol!r} does not apply here (accepted: {names}); "
                "'react2025' scores lists of variable-length items with evaluate_react2025, "
                "'official'/'corrected' stacked arrays with evaluate"
            )
        raise ValueError(f"protocol must be {names}, got {protocol!r}")
    return protocol

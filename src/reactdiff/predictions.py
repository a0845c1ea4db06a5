"""The predictions file: what ``reactdiff generate`` writes and ``reactdiff evaluate`` reads.

An ``.npz`` holding
- ``emotion``: (N, K, T, 25) float32, K reactions per speaker,
- ``coeffs_3dmm`` (optional): (N, K, T, 58) float32, mean face already subtracted,
- ``speaker_path`` and ``listener_path``: (N,) strings, the pair of every row, so rows stay tied to
  their pairs (the neighbour matrix is only meaningful in the split's evaluation order),
- ``meta``: a JSON string (model, checkpoint, split, sampler settings...).
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from reactdiff.constants import AU_SLICE, COEFFS_3DMM_DIM, EMOTION_DIM, EXPRESSION_SLICE, VA_SLICE
from reactdiff.errors import DataError
from reactdiff.io import load_npz, require_real, save_npz


@dataclass
class Predictions:
    emotion: np.ndarray  # (N, K, T, 25)
    speaker_path: list[str]
    listener_path: list[str]
    coeffs_3dmm: np.ndarray | None = None  # (N, K, T, 58)
    meta: dict[str, Any] = field(default_factory=dict)

    @property
    def num_samples(self) -> int:
        return int(self.emotion.shape[1])

    def validate(self, source: str | Path = "predictions") -> "Predictions":
        """Check shapes, dtypes and finiteness; raise DataError naming ``source`` otherwise."""
        emotion = self.emotion
        if emotion.ndim != 4 or emotion.shape[-1] != EMOTION_DIM:
            raise DataError(source, f"'emotion' must have shape (N, K, T, {EMOTION_DIM}), got {emotion.shape}")
        n = emotion.shape[0]
        if len(self.speaker_path) != n or len(self.listener_path) != n:
            raise DataError(
                source,
                f"'speaker_path'/'listener_path' have {len(self.speaker_path)}/{len(self.listener_path)} "
                f"rows but 'emotion' has {n}",
            )
        _check_finite(emotion, "emotion", source)
        if self.coeffs_3dmm is not None:
            coeffs = self.coeffs_3dmm
            expected = emotion.shape[:3] + (COEFFS_3DMM_DIM,)
            if coeffs.shape != expected:
                raise DataError(source, f"'coeffs_3dmm' must have shape {expected}, got {coeffs.shape}")
            _check_finite(coeffs, "coeffs_3dmm", source)
        return self

    def save(self, path: str | Path) -> None:
        self.validate(path)
        arrays = {
            "emotion": self.emotion.astype(np.float32),
            "speaker_path": np.asarray(self.speaker_path, dtype=str),
            "listener_path": np.asarray(self.listener_path, dtype=str),
            "meta": np.asarray(json.dumps(self.meta)),
        }
        if self.coeffs_3dmm is not None:
            arrays["coeffs_3dmm"] = self.coeffs_3dmm.astype(np.float32)
        save_npz(path, **arrays)

    @classmethod
    def load(cls, path: str | Path) -> "Predictions":
        """Read and validate a predictions file; anything malformed is one DataError naming it."""
        path = Path(path)
        data = load_npz(path, "predictions file")
        for key in ("emotion", "speaker_path", "listener_path"):
            if key not in data:
                raise DataError(path, f"missing array '{key}' (has: {', '.join(data) or 'nothing'})")
        arrays = {key: data[key] for key in ("emotion", "coeffs_3dmm") if key in data}
        for key, array in arrays.items():
            require_real(array, path, f"'{key}'")
        predictions = cls(
            emotion=arrays["emotion"].astype(np.float32, copy=False),
            speaker_path=_clip_paths(data["speaker_path"], "speaker_path", path),
            listener_path=_clip_paths(data["listener_path"], "listener_path", path),
            coeffs_3dmm=arrays["coeffs_3dmm"].astype(np.float32, copy=False) if "coeffs_3dmm" in arrays else None,
            meta=_meta(data["meta"], path) if "meta" in data else {},
        )
        return predictions.validate(path)


#: The data contract's range of each part of the emotion vector (see docs/data.md).
EMOTION_RANGES = (
    ("AU occurrence", AU_SLICE, 0.0, 1.0),
    ("valence/arousal", VA_SLICE, -1.0, 1.0),
    ("expression probability", EXPRESSION_SLICE, 0.0, 1.0),
)
#: Slack for float rounding before a value counts as outside its range.
RANGE_SLACK = 1e-3


def range_warnings(predictions: Predictions, listener_3dmm: np.ndarray | None = None) -> list[str]:
    """What lies outside the data's ranges: emotion parts outside the contract's ranges, and 3DMM
    coefficients farther from the ground truth's range ``[lo, hi]`` than its own span
    (``listener_3dmm``: the split's real listeners, (N, T, 58)). Such predictions are still scored,
    but metrics computed on them say little (a constant 7 correlates and matches nothing)."""
    warnings = []
    for name, columns, low, high in EMOTION_RANGES:
        part = predictions.emotion[..., columns]
        warnings += _outside(part, low - RANGE_SLACK, high + RANGE_SLACK, f"{name} values", f"[{low:g}, {high:g}]", columns.start)
    if predictions.coeffs_3dmm is not None and listener_3dmm is not None:
        low, high = listener_3dmm.min(axis=(0, 1)), listener_3dmm.max(axis=(0, 1))
        span = high - low
        warnings += _outside(predictions.coeffs_3dmm, low - span, high + span, "3DMM coefficients", "the ground truth's range widened by its span")
    return warnings


def _outside(values: np.ndarray, low, high, what: str, bounds: str, first_column: int = 0) -> list[str]:
    # min/max first: no temporary arrays for the common, in-range case.
    if (values.min(axis=tuple(range(values.ndim - 1))) >= low).all() and (values.max(axis=tuple(range(values.ndim - 1))) <= high).all():
        return []
    outside = (values < low) | (values > high)
    first = tuple(int(i) for i in np.argwhere(outside)[0])
    return [
        f"{outside.mean():.1%} of {what} lie outside {bounds} (first: row {first[0]}, sample {first[1]}, "
        f"frame {first[2]}, column {first_column + first[3]}: {values[first]:g})"
    ]


def _clip_paths(array: np.ndarray, name: str, source: Path) -> list[str]:
    """A column of clip paths as strings. Where they are opened against a dataset (evaluate,
    render), :class:`~reactdiff.data.layout.ReactLayout` refuses any that leaves its root; here they
    may also name a user's own video (``reactdiff react``)."""
    if array.dtype.kind != "U" or array.ndim != 1:
        raise DataError(source, f"'{name}' must be a 1-D array of strings, got dtype {array.dtype}, shape {array.shape}")
    return [str(item) for item in array]


def _meta(array: np.ndarray, source: Path) -> dict[str, Any]:
    if array.dtype.kind != "U" or array.ndim != 0:
        raise DataError(source, f"'meta' must be one JSON string, got dtype {array.dtype}, shape {array.shape}")
    try:
        meta = json.loads(str(array))
    except json.JSONDecodeError as exc:
        raise DataError(source, f"'meta' is not valid JSON ({exc})") from exc
    if not isinstance(meta, dict):
        raise DataError(source, f"'meta' must be a JSON object, got {type(meta).__name__}")
    return meta


def _check_finite(array: np.ndarray, name: str, source: str | Path) -> None:
    bad = ~np.isfinite(array)
    if bad.any():
        index = tuple(int(i) for i in np.argwhere(bad)[0])
        raise DataError(source, f"'{name}' has {int(bad.sum())} NaN/inf values (first at index {index})")

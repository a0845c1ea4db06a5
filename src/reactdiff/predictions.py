"""The predictions file: what ``reactdiff generate`` writes and ``reactdiff evaluate`` reads.

An ``.npz`` holding
- ``emotion``: (N, K, T, 25) float32, K reactions per speaker,
- ``coeffs_3dmm`` (optional): (N, K, T, 58) float32, mean face already subtracted,
- ``speaker_path`` and ``listener_path``: (N,) strings, the pair of every row, so rows stay tied to
  their pairs (the neighbour matrix is only meaningful in the split's evaluation order),
- ``meta``: a JSON string (model, checkpoint, split, sampler settings...).

Rows of different lengths (REACT 2025/2026 clips run from 58 to over 20,000 frames) are stored
without padding: ``emotion`` (K, sum of T_n, 25) and ``coeffs_3dmm`` (K, sum of T_n, 58) hold
the rows one after another along time, and ``lengths`` (N,) says where each ends. In Python such
predictions hold a list of per-row arrays (K, T_n, D) instead of one 4-D array (``ragged``).
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Union

import numpy as np

from reactdiff.constants import AU_SLICE, COEFFS_3DMM_DIM, EMOTION_DIM, EXPRESSION_SLICE, VA_SLICE
from reactdiff.errors import DataError
from reactdiff.io import load_npz, require_real, save_npz

#: One 4-D array (N, K, T, D), or one (K, T_n, D) array per row when rows differ in length.
Rows = Union[np.ndarray, list]


@dataclass
class Predictions:
    emotion: Rows  # (N, K, T, 25), or a list of N arrays (K, T_n, 25)
    speaker_path: list[str]
    listener_path: list[str]
    coeffs_3dmm: Rows | None = None  # (N, K, T, 58), or a list of N arrays (K, T_n, 58)
    meta: dict[str, Any] = field(default_factory=dict)

    @property
    def ragged(self) -> bool:
        """Whether rows are stored one array each (rows of different lengths)."""
        return isinstance(self.emotion, list)

    @property
    def num_rows(self) -> int:
        return len(self.emotion)

    @property
    def num_samples(self) -> int:
        return int(self.emotion[0].shape[0] if self.ragged else self.emotion.shape[1])

    @property
    def lengths(self) -> list[int]:
        """Frames of every row."""
        if self.ragged:
            return [int(row.shape[1]) for row in self.emotion]
        return [int(self.emotion.shape[2])] * int(self.emotion.shape[0])

    def row(self, index: int) -> tuple[np.ndarray, np.ndarray | None]:
        """Row ``index``: emotion (K, T, 25) and 3DMM (K, T, 58) or None."""
        coeffs = None if self.coeffs_3dmm is None else self.coeffs_3dmm[index]
        return self.emotion[index], coeffs

    def validate(self, source: str | Path = "predictions") -> "Predictions":
        """Check shapes, dtypes and finiteness; raise DataError naming ``source`` otherwise."""
        rows = self.emotion if self.ragged else [self.emotion]
        shape = "(K, T, {})" if self.ragged else "(N, K, T, {})"
        samples = set()
        for index, emotion in enumerate(rows):
            where = f"row {index} of " if self.ragged else ""
            if not isinstance(emotion, np.ndarray) or emotion.ndim != 4 - self.ragged or emotion.shape[-1] != EMOTION_DIM:
                raise DataError(source, f"{where}'emotion' must have shape {shape.format(EMOTION_DIM)}, got {np.shape(emotion)}")
            samples.add(emotion.shape[-3])
            _check_finite(emotion, "emotion", source)
        if len(samples) > 1:
            raise DataError(source, f"rows hold different numbers of reactions K: {sorted(samples)}")
        n = self.num_rows
        if len(self.speaker_path) != n or len(self.listener_path) != n:
            raise DataError(
                source,
                f"'speaker_path'/'listener_path' have {len(self.speaker_path)}/{len(self.listener_path)} "
                f"rows but 'emotion' has {n}",
            )
        if self.coeffs_3dmm is not None:
            if self.ragged != isinstance(self.coeffs_3dmm, list) or len(self.coeffs_3dmm) != n:
                raise DataError(source, "'coeffs_3dmm' must have the rows of 'emotion'")
            for index in range(n) if self.ragged else [None]:
                coeffs = self.coeffs_3dmm if index is None else self.coeffs_3dmm[index]
                emotion = self.emotion if index is None else self.emotion[index]
                expected = emotion.shape[:-1] + (COEFFS_3DMM_DIM,)
                if coeffs.shape != expected:
                    where = f"row {index} of " if index is not None else ""
                    raise DataError(source, f"{where}'coeffs_3dmm' must have shape {expected}, got {coeffs.shape}")
                _check_finite(coeffs, "coeffs_3dmm", source)
        return self

    def save(self, path: str | Path) -> None:
        self.validate(path)
        arrays = {
            "speaker_path": np.asarray(self.speaker_path, dtype=str),
            "listener_path": np.asarray(self.listener_path, dtype=str),
            "meta": np.asarray(json.dumps(self.meta)),
        }
        if self.ragged:
            arrays["lengths"] = np.asarray(self.lengths, dtype=np.int64)
            arrays["emotion"] = np.concatenate(self.emotion, axis=1).astype(np.float32)
            if self.coeffs_3dmm is not None:
                arrays["coeffs_3dmm"] = np.concatenate(self.coeffs_3dmm, axis=1).astype(np.float32)
        else:
            arrays["emotion"] = self.emotion.astype(np.float32)
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
            arrays[key] = array.astype(np.float32, copy=False)
        if "lengths" in data:
            arrays = {key: _split_rows(array, data["lengths"], key, path) for key, array in arrays.items()}
        predictions = cls(
            emotion=arrays["emotion"],
            speaker_path=_clip_paths(data["speaker_path"], "speaker_path", path),
            listener_path=_clip_paths(data["listener_path"], "listener_path", path),
            coeffs_3dmm=arrays.get("coeffs_3dmm"),
            meta=_meta(data["meta"], path) if "meta" in data else {},
        )
        return predictions.validate(path)


def _split_rows(array: np.ndarray, lengths: np.ndarray, name: str, source: Path) -> list[np.ndarray]:
    """The rows of an array stored without padding (K, sum of T_n, D), by ``lengths``."""
    if lengths.dtype.kind not in "iu" or lengths.ndim != 1 or not lengths.size or (lengths < 1).any():
        raise DataError(source, f"'lengths' must be a 1-D array of positive integers, got dtype {lengths.dtype}, shape {lengths.shape}")
    if array.ndim != 3 or array.shape[1] != int(lengths.sum()):
        raise DataError(source, f"'{name}' must have shape (K, {int(lengths.sum())} = sum of 'lengths', D), got {array.shape}")
    return np.split(array, np.cumsum(lengths)[:-1], axis=1)


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
    # Rows of different lengths are checked together along time (frame numbers then run across rows).
    emotion = np.concatenate(predictions.emotion, axis=1)[None] if predictions.ragged else predictions.emotion
    for name, columns, low, high in EMOTION_RANGES:
        part = emotion[..., columns]
        warnings += _outside(part, low - RANGE_SLACK, high + RANGE_SLACK, f"{name} values", f"[{low:g}, {high:g}]", columns.start)
    if predictions.coeffs_3dmm is not None and listener_3dmm is not None:
        coeffs = np.concatenate(predictions.coeffs_3dmm, axis=1)[None] if predictions.ragged else predictions.coeffs_3dmm
        real = np.concatenate(listener_3dmm)[None] if isinstance(listener_3dmm, list) else listener_3dmm
        low, high = real.min(axis=(0, 1)), real.max(axis=(0, 1))
        span = high - low
        warnings += _outside(coeffs, low - span, high + span, "3DMM coefficients", "the ground truth's range widened by its span")
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

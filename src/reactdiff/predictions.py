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

from reactdiff.constants import COEFFS_3DMM_DIM, EMOTION_DIM
from reactdiff.errors import DataError
from reactdiff.io import save_npz


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
        path = Path(path)
        if not path.is_file():
            raise DataError(path, "predictions file not found")
        try:
            data = np.load(path, allow_pickle=False)
        except (OSError, ValueError) as exc:
            raise DataError(path, f"not a readable .npz predictions file ({exc})") from exc
        for key in ("emotion", "speaker_path", "listener_path"):
            if key not in data.files:
                raise DataError(path, f"missing array '{key}' (has: {', '.join(data.files)})")
        meta = json.loads(str(data["meta"])) if "meta" in data.files else {}
        predictions = cls(
            emotion=data["emotion"].astype(np.float32, copy=False),
            speaker_path=[str(p) for p in data["speaker_path"]],
            listener_path=[str(p) for p in data["listener_path"]],
            coeffs_3dmm=data["coeffs_3dmm"].astype(np.float32, copy=False) if "coeffs_3dmm" in data.files else None,
            meta=meta,
        )
        return predictions.validate(path)


def _check_finite(array: np.ndarray, name: str, source: str | Path) -> None:
    bad = ~np.isfinite(array)
    if bad.any():
        index = tuple(int(i) for i in np.argwhere(bad)[0])
        raise DataError(source, f"'{name}' has {int(bad.sum())} NaN/inf values (first at index {index})")

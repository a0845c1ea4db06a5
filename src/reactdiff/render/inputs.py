"""What ``reactdiff render`` and ``reactdiff plot`` read: one row of a predictions file, and the
speaker's and real listener's clips of that row (emotion, 3DMM, video, audio) from a REACT-layout
dataset."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import numpy as np

from reactdiff.errors import DataError
from reactdiff.predictions import Predictions


@dataclass
class PredictionRow:
    """Row ``index`` of a predictions file: K listener reactions to one speaker clip."""

    index: int
    emotion: np.ndarray  # (K, T, 25)
    coeffs_3dmm: np.ndarray | None  # (K, T, 58), mean-face subtracted
    speaker_path: str
    listener_path: str
    split: str | None  # from the file's meta, when recorded
    fps: float | None  # from the file's meta, when recorded


def load_prediction_row(path: str | Path, index: int) -> PredictionRow:
    """Load and validate a predictions file (shapes, NaNs) and pick row ``index``."""
    predictions = Predictions.load(path)
    num_rows = predictions.num_rows
    if not -num_rows <= index < num_rows:
        raise DataError(path, f"--index {index} is out of range: the file has {num_rows} rows (0..{num_rows - 1})")
    index = index % num_rows
    emotion, coeffs = predictions.row(index)
    meta = predictions.meta if isinstance(predictions.meta, dict) else {}
    split, fps = meta.get("split"), meta.get("fps")
    return PredictionRow(
        index=index,
        emotion=np.asarray(emotion),
        coeffs_3dmm=None if coeffs is None else np.asarray(coeffs),
        speaker_path=predictions.speaker_path[index],
        listener_path=predictions.listener_path[index],
        split=split if isinstance(split, str) else None,
        fps=float(fps) if isinstance(fps, (int, float)) and not isinstance(fps, bool) and fps > 0 else None,
    )


@dataclass
class ClipInputs:
    """One person's side of a row (speaker or real listener), cut to the reactions' length."""

    emotion: np.ndarray  # (T, 25)
    coeffs_3dmm: np.ndarray | None  # (T, 58), mean-face subtracted
    video: Path | None  # mp4 file or folder of PNG frames
    audio: Path | None
    fps: float  # the dataset's frame rate


def clip_from_dataset(root: str | Path, split: str, clip: str, num_frames: int, mean_face: str | Path | None = None) -> ClipInputs:
    """Find a clip in a REACT-layout dataset (either layout): its video if present, its emotion (and
    3DMM when the file and the mean face exist) to render it otherwise, and its audio."""
    from reactdiff.data.layouts import open_layout

    layout = open_layout(root, mean_face=mean_face)
    emotion = layout.load_emotion(split, clip)[:num_frames]
    coeffs = None
    if layout.coeffs_path(split, clip).is_file() and layout.mean_face_path.is_file():
        coeffs = layout.load_3dmm(split, clip)[:num_frames]
    audio = layout.audio_path(split, clip)
    return ClipInputs(emotion, coeffs, layout.video_path(split, clip), audio if audio.is_file() else None, float(layout.fps))

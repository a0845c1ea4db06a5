"""``reactdiff data check``: validate a REACT-layout dataset and report every problem with its file."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import numpy as np

from reactdiff.constants import AU_SLICE, CLIP_FRAMES, EXPRESSION_SLICE, SPLITS, VA_SLICE
from reactdiff.data.layout import (
    ReactLayout,
    neighbour_matrix_problems,
    read_3dmm_npy,
    read_emotion_csv,
    read_split_csv,
)
from reactdiff.errors import DataError

#: Expression probabilities are softmax outputs: their sum may differ from 1 by rounding only.
PROBABILITY_SUM_TOLERANCE = 0.05


@dataclass(frozen=True)
class Problem:
    path: Path
    message: str

    def __str__(self) -> str:
        return f"{self.path}: {self.message}"


def emotion_problems(values: np.ndarray) -> list[str]:
    """Range and finiteness problems of an emotion array (frames, 25)."""
    problems = []
    if not np.isfinite(values).all():
        rows = np.flatnonzero(~np.isfinite(values).all(axis=1))
        return [f"{rows.size} frames with NaN/inf values (first: frame {rows[0]})"]
    aus = values[:, AU_SLICE]
    if ((aus < 0) | (aus > 1)).any():
        frame, column = np.argwhere((aus < 0) | (aus > 1))[0]
        problems.append(f"AU occurrence outside [0, 1] (frame {frame}, column {column}: {aus[frame, column]:g})")
    va = values[:, VA_SLICE]
    if (np.abs(va) > 1).any():
        frame, column = np.argwhere(np.abs(va) > 1)[0]
        problems.append(f"valence/arousal outside [-1, 1] (frame {frame}: {va[frame, column]:g})")
    sums = values[:, EXPRESSION_SLICE].sum(axis=1)
    bad = np.flatnonzero(np.abs(sums - 1) > PROBABILITY_SUM_TOLERANCE)
    if bad.size:
        problems.append(f"expression probabilities do not sum to 1 in {bad.size} frames (frame {bad[0]}: {sums[bad[0]]:.3f})")
    return problems


def check_dataset(root: str | Path, splits=SPLITS, mean_face: str | Path | None = None) -> list[Problem]:
    """Every problem found in the dataset (an empty list means it is valid)."""
    layout = ReactLayout(root, mean_face=mean_face)
    problems: list[Problem] = []
    try:
        layout.mean_face
    except DataError as exc:
        problems.append(Problem(exc.path, exc.problem))
    for split in splits:
        csv_path = layout.split_csv(split)
        try:
            pairs = read_split_csv(csv_path)
        except DataError as exc:
            problems.append(Problem(exc.path, exc.problem))
            continue
        problems += _pair_list_problems(csv_path, pairs)
        for clip in layout.clips(split):
            problems += _clip_problems(layout, split, clip)
        # Optional for train (the release ships none; the synthetic corpus and REACT 2025 do).
        if split != "train" or layout.neighbours_path(split).is_file():
            problems += _neighbour_problems(layout, split, 2 * len(pairs))
    return problems


def _pair_list_problems(csv_path: Path, pairs) -> list[Problem]:
    problems = []
    seen = set()
    for row, pair in enumerate(pairs):
        if pair.speaker == pair.listener:
            problems.append(Problem(csv_path, f"row {row}: speaker and listener are the same clip {pair.speaker}"))
        if pair in seen:
            problems.append(Problem(csv_path, f"row {row}: duplicate pair {pair.speaker} -> {pair.listener}"))
        seen.add(pair)
    return problems


def _per_frame_file_problems(path: Path, missing: str, read, value_problems) -> list[Problem]:
    """Problems of one per-frame array file: missing, unreadable, too short, bad values."""
    if not path.is_file():
        return [Problem(path, missing)]
    try:
        values = read(path)
    except DataError as exc:
        return [Problem(exc.path, exc.problem)]
    problems = [] if values.shape[0] >= CLIP_FRAMES else [Problem(path, f"{values.shape[0]} frames; at least {CLIP_FRAMES} needed")]
    return problems + [Problem(path, message) for message in value_problems(values)]


def _finite_problems(values: np.ndarray) -> list[str]:
    return [] if np.isfinite(values).all() else ["NaN/inf values"]


def _clip_problems(layout: ReactLayout, split: str, clip: str) -> list[Problem]:
    problems = _per_frame_file_problems(
        layout.emotion_path(split, clip), "Emotion CSV missing (looked under both person-naming conventions)",
        read_emotion_csv, emotion_problems,
    )
    problems += _per_frame_file_problems(
        layout.coeffs_path(split, clip), "3DMM coefficient file missing", read_3dmm_npy, _finite_problems,
    )
    audio_path = layout.audio_path(split, clip)
    if not audio_path.is_file():
        problems.append(Problem(audio_path, "audio WAV missing"))
    else:
        problems += _audio_problems(audio_path)
    video = layout.video_path(split, clip)
    if video is not None and video.is_dir() and not any(video.glob("*.png")):
        problems.append(Problem(video, "video frame folder has no PNG frames"))
    return problems


def _audio_problems(path: Path) -> list[Problem]:
    import soundfile

    try:
        info = soundfile.info(str(path))
    except (RuntimeError, soundfile.LibsndfileError) as exc:
        return [Problem(path, f"unreadable audio ({exc})")]
    if info.frames == 0:
        return [Problem(path, "audio has no samples")]
    return []


def _neighbour_problems(layout: ReactLayout, split: str, size: int) -> list[Problem]:
    path = layout.neighbours_path(split)
    if not path.is_file():
        return [Problem(path, "neighbour (appropriateness) matrix missing")]
    try:
        matrix = np.load(path, allow_pickle=False)
    except (OSError, ValueError) as exc:
        return [Problem(path, f"unreadable ({exc})")]
    return [Problem(path, message) for message in neighbour_matrix_problems(matrix, size)]


__all__ = ["Problem", "check_dataset", "emotion_problems"]

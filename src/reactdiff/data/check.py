"""``reactdiff data check``: validate a REACT-layout dataset and report every problem with its file."""

from __future__ import annotations

from pathlib import Path

import numpy as np

from reactdiff.constants import CLIP_FRAMES, CLIP_FRAMES_STORED, SPLITS
from reactdiff.data.layout import (
    ReactLayout,
    neighbour_matrix_problems,
    read_3dmm_npy,
    read_emotion_csv,
    read_split_csv,
)
from reactdiff.data.problems import Problem, emotion_problems, mean_face_problems
from reactdiff.data.wav import wav_problems
from reactdiff.errors import DataError
from reactdiff.io import first_non_finite, load_npy


def check_dataset(root: str | Path, splits=SPLITS, mean_face: str | Path | None = None, layout: str = "auto") -> list[Problem]:
    """Every problem found in the dataset (an empty list means it is valid); ``layout`` is one of
    :data:`reactdiff.data.layouts.LAYOUTS` (``auto`` detects it)."""
    from reactdiff.data.layouts import open_layout

    reader = open_layout(root, layout, mean_face=mean_face)
    if reader.name == "react2025":
        from reactdiff.data.mars_check import check_mars

        return check_mars(reader, splits)
    return _check_react2024(reader, splits)


def _check_react2024(layout: ReactLayout, splits) -> list[Problem]:
    problems: list[Problem] = mean_face_problems(layout)
    for split in splits:
        try:
            csv_path = layout.split_csv(split)
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


def _per_frame_file_problems(path: Path, missing: str, read, value_problems) -> tuple[list[Problem], int | None]:
    """Problems of one per-frame array file (missing, unreadable, too short, bad values), and its
    frame count when it could be read."""
    if not path.is_file():
        return [Problem(path, missing)], None
    try:
        values = read(path)
    except DataError as exc:
        return [Problem(exc.path, exc.problem)], None
    problems = [] if values.shape[0] >= CLIP_FRAMES else [Problem(path, f"{values.shape[0]} frames; at least {CLIP_FRAMES} needed")]
    return problems + [Problem(path, message) for message in value_problems(values)], int(values.shape[0])


def _finite_problems(values: np.ndarray) -> list[str]:
    bad = first_non_finite(values)
    return [] if bad is None else [f"NaN/inf values (first at frame {bad[0]}, column {bad[1]})"]


def _clip_problems(layout: ReactLayout, split: str, clip: str) -> list[Problem]:
    try:
        emotion_path, coeffs_path = layout.emotion_path(split, clip), layout.coeffs_path(split, clip)
        audio_path, video = layout.audio_path(split, clip), layout.video_path(split, clip)
    except DataError as exc:  # a file of the clip resolves outside the root
        return [Problem(exc.path, exc.problem)]
    problems, frames = _per_frame_file_problems(
        emotion_path, "Emotion CSV missing (looked under both person-naming conventions)",
        read_emotion_csv, emotion_problems,
    )
    problems += _per_frame_file_problems(coeffs_path, "3DMM coefficient file missing", read_3dmm_npy, _finite_problems)[0]
    if not audio_path.is_file():
        problems.append(Problem(audio_path, "audio WAV missing"))
    else:
        # Without a readable Emotion CSV the clip is taken to have the release's length.
        problems += [Problem(audio_path, message) for message in wav_problems(audio_path, frames or CLIP_FRAMES_STORED)]
    if video is not None and video.is_dir() and not any(video.glob("*.png")):
        problems.append(Problem(video, "video frame folder has no PNG frames"))
    return problems


def _neighbour_problems(layout: ReactLayout, split: str, size: int) -> list[Problem]:
    try:
        path = layout.neighbours_path(split)
        if not path.is_file():
            return [Problem(path, "neighbour (appropriateness) matrix missing")]
        matrix = load_npy(path, "neighbour matrix")
    except DataError as exc:
        return [Problem(exc.path, exc.problem)]
    return [Problem(path, message) for message in neighbour_matrix_problems(matrix, size)]


__all__ = ["Problem", "check_dataset", "emotion_problems"]

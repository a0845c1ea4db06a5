"""Reading the REACT 2023/2024 dataset layout (see docs/data.md and the data contract).

A clip is named by its path as written in the split CSVs, without extension, e.g.
``NoXI/065_2016-04-14_Nottingham/Expert_video/1``; every file of a clip is found from that name:

    <root>/<split>/Emotion/<site>/<session>/<person'>/<clip>.csv   (person' renamed to P1/P2 in 2024)
    <root>/<split>/3D_FV_files/<clip path>.npy                     (751, 58) or (751, 1, 1, 58)
    <root>/<split>/Audio_files/<clip path>.wav
    <root>/<split>/Video_files/<clip path>.mp4  or  <clip path>/1.png ...
"""

from __future__ import annotations

import csv
import warnings
from pathlib import Path

import numpy as np

from reactdiff.constants import CLIP_FRAMES, COEFFS_3DMM_DIM, EMOTION_DIM, FPS, SPLITS
from reactdiff.data.base import Pair, RootedLayout, check_finite
from reactdiff.errors import DataError
from reactdiff.io import load_npy, require_real

#: The 2024 release renames persons in the Emotion folder only (NoXI experts/novices and the
#: RECOLA participants of each group become P1/P2); 2023 keeps the original names.
PERSON_RENAMES_2024 = {
    "Expert_video": "P1",
    "Novice_video": "P2",
    "P25": "P1",
    "P41": "P1",
    "P45": "P1",
    "P26": "P2",
    "P42": "P2",
    "P46": "P2",
}


def renamed_person_path(clip: str) -> str:
    """The Emotion-folder name of a clip in the 2024 release (person folder renamed to P1/P2)."""
    parts = clip.split("/")
    if len(parts) >= 2 and parts[-2] in PERSON_RENAMES_2024:
        parts[-2] = PERSON_RENAMES_2024[parts[-2]]
    return "/".join(parts)


def read_split_csv(path: Path) -> list[Pair]:
    """Read a split list (header ``,speaker_path,listener_path``; column 0 a running index)."""
    return [pair for _line, pair in split_rows(path)]


def split_rows(path: Path) -> list[tuple[int, Pair]]:
    """The pairs of a split list with the line each is on (line 1 is the header).

    Clip paths must stay inside the dataset: a path with a ``..`` component is refused here,
    naming the lines, before any file is opened (symlinks are checked by :class:`ReactLayout`)."""
    if not path.is_file():
        raise DataError(path, "split list not found")
    try:
        with open(path, newline="") as handle:
            rows = list(csv.reader(handle))
    except (OSError, UnicodeDecodeError, csv.Error) as exc:
        raise DataError(path, f"unreadable split list ({exc})") from exc
    if not rows:
        raise DataError(path, "empty split list (expected a header ',speaker_path,listener_path')")
    header = [cell.strip() for cell in rows[0]]
    if "speaker_path" not in header or "listener_path" not in header:
        raise DataError(path, f"header must name speaker_path and listener_path, got {rows[0]}")
    speaker_col, listener_col = header.index("speaker_path"), header.index("listener_path")
    pairs, escaping = [], []
    for line_number, row in enumerate(rows[1:], start=2):
        if not any(cell.strip() for cell in row):
            continue
        if len(row) <= max(speaker_col, listener_col):
            raise DataError(path, f"line {line_number}: expected {len(header)} columns, got {len(row)}")
        speaker, listener = row[speaker_col].strip(), row[listener_col].strip()
        if not speaker or not listener:
            raise DataError(path, f"line {line_number}: empty speaker_path or listener_path")
        pair = Pair(_strip_extension(speaker), _strip_extension(listener))
        bad = [clip for clip in (pair.speaker, pair.listener) if not is_safe_clip_path(clip)]
        if bad:
            escaping.append(f"line {line_number} ({bad[0]!r})")
        pairs.append((line_number, pair))
    if escaping:
        shown = ", ".join(escaping[:3]) + (f" and {len(escaping) - 3} more" if len(escaping) > 3 else "")
        raise DataError(path, f"clip paths must stay inside the dataset root (no '..' component); refused {shown}")
    if not pairs:
        raise DataError(path, "split list has a header but no pairs")
    return pairs


def is_safe_clip_path(clip: str) -> bool:
    """Whether a clip path (as written in a split list or a predictions file) names a place inside
    the dataset: relative, no ``..`` component, no NUL or other control character."""
    if not clip or clip.startswith("/") or any(ord(char) < 32 for char in clip):
        return False
    return ".." not in clip.replace("\\", "/").split("/")


def _strip_extension(clip: str) -> str:
    # Paths are stored without extension; tolerate stray ones and leading slashes.
    clip = clip.replace("\\", "/").strip("/")
    for suffix in (".mp4", ".wav", ".csv", ".npy"):
        if clip.endswith(suffix):
            return clip[: -len(suffix)]
    return clip


#: Header names of a leading index column (pandas writes an empty name or ``Unnamed: 0``).
INDEX_COLUMN_NAMES = ("", "index", "frame", "unnamed: 0")


def read_emotion_csv(path: Path) -> np.ndarray:
    """An Emotion CSV: a header row then one row of 25 values per frame.

    A 26th column is taken as a leading index column only where the header says so (its first name
    empty, ``index``, ``frame`` or ``Unnamed: 0``); otherwise the file is refused, since dropping a
    real column would shift every dimension by one."""
    try:
        with open(path, newline="") as handle:
            header = next(csv.reader(handle), [])
        with warnings.catch_warnings():  # an empty file is reported below, not warned about
            warnings.simplefilter("ignore", UserWarning)
            values = np.loadtxt(path, delimiter=",", skiprows=1, dtype=np.float64, ndmin=2)
    except (OSError, ValueError, UnicodeDecodeError, csv.Error) as exc:
        raise DataError(path, f"unreadable Emotion CSV ({exc})") from exc
    if values.size == 0:
        raise DataError(path, "Emotion CSV has no frames (expected a header row and one row per frame)")
    if values.shape[1] == EMOTION_DIM + 1:
        first = header[0].strip() if header else None
        if len(header) != EMOTION_DIM + 1 or first.lower() not in INDEX_COLUMN_NAMES:
            raise DataError(
                path,
                f"{EMOTION_DIM + 1} values per row, but the header ({len(header)} names, first {first!r}) "
                f"does not name a leading index column; expected {EMOTION_DIM} columns",
            )
        values = values[:, 1:]
    if values.shape[1] != EMOTION_DIM:
        raise DataError(path, f"expected {EMOTION_DIM} columns, got {values.shape[1]}")
    return values.astype(np.float32)


def read_3dmm_npy(path: Path) -> np.ndarray:
    """A FaceVerse coefficient file, (T, 58) or (T, 1, 1, 58), as (T, 58) float32."""
    values = require_real(load_npy(path, "3DMM coefficient array"), path, "3DMM coefficient array")
    if values.ndim == 4 and values.shape[1:3] == (1, 1):
        values = values[:, 0, 0, :]
    if values.ndim != 2 or values.shape[1] != COEFFS_3DMM_DIM:
        raise DataError(path, f"expected shape (T, {COEFFS_3DMM_DIM}) or (T, 1, 1, {COEFFS_3DMM_DIM}), got {values.shape}")
    return values.astype(np.float32)


class ReactLayout(RootedLayout):
    """A REACT-layout dataset on disk (the real release or ``reactdiff synth`` output).

    Every file a clip path leads to must lie inside the root once symlinks are resolved: a split
    list cannot send a reader (or, through the store key, a writer) elsewhere on the disk. The root
    itself may be a symlink; a link inside it that leaves it is refused like a ``..`` path."""

    name = "react2024"
    fps = FPS

    # -- split lists ------------------------------------------------------------------------
    def has_split(self, split: str) -> bool:
        """Whether the split's list (``<split>.csv``) exists."""
        return self.split_csv(split).is_file()

    def split_csv(self, split: str) -> Path:
        if split not in SPLITS:
            raise DataError(None, f"unknown split {split!r}; expected one of {', '.join(SPLITS)}")
        return self._inside(self.root / f"{split}.csv")

    def pairs(self, split: str) -> list[Pair]:
        """The pairs as listed in ``<split>.csv`` (speaker -> listener)."""
        return read_split_csv(self.split_csv(split))

    def eval_order(self, split: str) -> list[Pair]:
        """The fixed evaluation order: all pairs as listed, then all pairs mirrored (N = 2 x rows).
        Neighbour matrices and predictions files are indexed in this order."""
        pairs = self.pairs(split)
        return pairs + [pair.mirrored() for pair in pairs]

    def clips(self, split: str) -> list[str]:
        """Every clip of a split once, in order of first appearance."""
        seen: dict[str, None] = {}
        for pair in self.pairs(split):
            seen.setdefault(pair.speaker)
            seen.setdefault(pair.listener)
        return list(seen)

    # -- file locations ------------------------------------------------------------------------
    def _where(self, split: str | None, clip: str) -> str:
        return self._row_of(split, clip) if split is not None else ""

    def _row_of(self, split: str, clip: str) -> str:
        try:
            rows = split_rows(self.root / f"{split}.csv")
        except DataError:
            return ""
        lines = [line for line, pair in rows if clip in (pair.speaker, pair.listener)]
        return f", line {lines[0]} of {split}.csv" if lines else ""

    def _clip_file(self, split: str, folder: str, name: str, clip: str) -> Path:
        if not is_safe_clip_path(clip):
            raise DataError(self.root / split / folder, f"clip path {clip!r} leaves the dataset root {self.root}")
        return self._inside(self.root / split / folder / name, split, clip)

    def emotion_path(self, split: str, clip: str) -> Path:
        """The Emotion CSV, under either person-naming convention (2024 P1/P2, or original)."""
        candidates = [self._clip_file(split, "Emotion", f"{name}.csv", clip) for name in (renamed_person_path(clip), clip)]
        for candidate in candidates:
            if candidate.is_file():
                return candidate
        return candidates[0]

    def coeffs_path(self, split: str, clip: str) -> Path:
        return self._clip_file(split, "3D_FV_files", f"{clip}.npy", clip)

    def audio_path(self, split: str, clip: str) -> Path:
        return self._clip_file(split, "Audio_files", f"{clip}.wav", clip)

    def video_path(self, split: str, clip: str) -> Path | None:
        """The clip's video: an .mp4 (2024) or a folder of PNG frames (2023); None when absent."""
        mp4 = self._clip_file(split, "Video_files", f"{clip}.mp4", clip)
        if mp4.is_file():
            return mp4
        frames = self._clip_file(split, "Video_files", clip, clip)
        if frames.is_dir():
            return frames
        return None

    def neighbours_path(self, split: str) -> Path:
        return self._inside(self.root / f"neighbour_emotion_{split}.npy")

    # -- loading -------------------------------------------------------------------------------
    def load_emotion(self, split: str, clip: str) -> np.ndarray:
        """(frames, 25) float32 as stored (751 frames in the release)."""
        path = self.emotion_path(split, clip)
        if not path.is_file():
            raise DataError(path, "Emotion CSV not found (also looked under the original person name)")
        return check_finite(_check_length(read_emotion_csv(path), path), path)

    def load_3dmm(self, split: str, clip: str) -> np.ndarray:
        """(frames, 58) float32 with the mean face subtracted (the only normalisation any
        published pipeline applies; the release's std_face is never used)."""
        path = self.coeffs_path(split, clip)
        if not path.is_file():
            raise DataError(path, "3DMM coefficient file not found")
        return check_finite(_check_length(read_3dmm_npy(path), path), path) - self.mean_face

    def clip_frames(self, split: str, clip: str) -> int:
        """Frames of a clip: those of its Emotion CSV (751 in the release)."""
        return int(self.load_emotion(split, clip).shape[0])

    def length_sources(self, split: str, clip: str) -> list[Path]:
        """Files that set a clip's stored length beyond its own files: none (clips are stored whole)."""
        return []

    def has_neighbours(self, split: str) -> bool:
        """Whether the split has an appropriateness matrix (the release ships none for train)."""
        return self.neighbours_path(split).is_file()

    def neighbours(self, split: str) -> np.ndarray:
        """The appropriateness matrix of a split, validated against its evaluation order."""
        path = self.neighbours_path(split)
        if not path.is_file():
            raise DataError(path, "neighbour (appropriateness) matrix not found")
        matrix = load_npy(path, "neighbour matrix")
        problems = neighbour_matrix_problems(matrix, 2 * len(self.pairs(split)))
        if problems:
            raise DataError(path, "; ".join(problems))
        return matrix.astype(np.int8)


def _check_length(values: np.ndarray, path: Path) -> np.ndarray:
    if values.shape[0] < CLIP_FRAMES:
        raise DataError(path, f"{values.shape[0]} frames; at least {CLIP_FRAMES} are needed")
    return values


def neighbour_matrix_problems(matrix: np.ndarray, expected_size: int) -> list[str]:
    """What is wrong with an appropriateness matrix (empty list when it is valid)."""
    if matrix.dtype.kind not in "biuf":
        return [f"dtype {matrix.dtype}; expected 0/1 integers"]
    if matrix.ndim != 2 or matrix.shape != (expected_size, expected_size):
        return [f"shape {matrix.shape}, expected ({expected_size}, {expected_size}) = 2 x pairs in the split list"]
    problems = []
    if not np.isin(matrix, (0, 1)).all():
        problems.append("values must be 0 or 1")
    missing_diagonal = np.flatnonzero(np.diagonal(matrix) != 1)
    if missing_diagonal.size:
        problems.append(f"diagonal must be 1 (a reaction is appropriate to its own speaker); row {missing_diagonal[0]} is not")
    return problems

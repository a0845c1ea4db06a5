"""What every dataset layout shares: a root whose files must stay inside it, a mean face, and the
:class:`Pair` of clips an evaluation item is made of.

:class:`~reactdiff.data.layout.ReactLayout` (REACT 2023/2024) and
:class:`~reactdiff.data.mars.MarsLayout` (REACT 2025/2026, MARS) both build on :class:`RootedLayout`,
so the symlink check and the mean-face reader exist once.
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from functools import cached_property
from pathlib import Path

import numpy as np

from reactdiff.constants import COEFFS_3DMM_DIM
from reactdiff.errors import DataError
from reactdiff.io import first_non_finite, load_npy, require_real


@dataclass(frozen=True)
class Pair:
    """One direction of a dyadic interaction: the speaker's clip and the listener's clip."""

    speaker: str
    listener: str

    def mirrored(self) -> "Pair":
        return Pair(self.listener, self.speaker)


class RootedLayout:
    """A dataset folder whose every file must resolve inside it (see :meth:`_inside`).

    The root itself may be a symlink; a link inside it that leaves it is refused like a ``..`` path,
    so no data file (or, through a store key, a write) can be sent elsewhere on the disk."""

    #: Layout name (``react2024``, ``react2025``) and frame rate of its per-frame files.
    name = ""
    fps = 0

    def __init__(self, root: str | Path, mean_face: str | Path | None = None):
        self.root = Path(root)
        if not self.root.is_dir():
            raise DataError(self.root, "dataset folder not found")
        # Strings, not Paths: this check runs for every file of every clip.
        self._real_root = os.path.realpath(self.root)
        self._real_root_prefix = self._real_root.rstrip(os.sep) + os.sep
        self._real_folders: dict[str, str] = {}
        self.mean_face_path = Path(mean_face) if mean_face else self.root / "mean_face.npy"

    def _inside(self, path: Path, split: str | None = None, clip: str | None = None) -> Path:
        """``path`` when it resolves inside the root; a DataError naming the clip otherwise."""
        resolved = self._realpath(path)
        if resolved == self._real_root or resolved.startswith(self._real_root_prefix):
            return path
        where = f" (clip {clip!r}{self._where(split, clip)})" if clip is not None else ""
        raise DataError(path, f"resolves to {resolved}, outside the dataset root {self.root}{where}; refusing to follow it")

    def _where(self, split: str | None, clip: str) -> str:
        """Extra words locating a clip in an error message (the 2024 layout names its CSV line)."""
        return ""

    def _realpath(self, path: Path) -> str:
        """``os.path.realpath`` with the folders' answers cached: clips share their folders, and
        resolving every component of every file again was most of an up-to-date ``prepare``."""
        folder, name = os.path.split(os.fspath(path))
        real_folder = self._real_folders.get(folder)
        if real_folder is None:
            real_folder = self._real_folders[folder] = os.path.realpath(folder)
        resolved = os.path.join(real_folder, name)
        return os.path.realpath(resolved) if os.path.islink(resolved) else resolved

    @cached_property
    def mean_face(self) -> np.ndarray:
        """The FaceVerse mean face, (58,) float32, subtracted from every 3DMM frame."""
        path = self.mean_face_path
        if not path.is_file():
            raise DataError(path, "mean face not found (set its path with --mean-face)")
        mean = require_real(load_npy(path, "mean face"), path, "mean face").astype(np.float32).reshape(-1)
        if mean.shape != (COEFFS_3DMM_DIM,):
            raise DataError(path, f"mean face must have {COEFFS_3DMM_DIM} values, got {mean.size}")
        bad = first_non_finite(mean)
        if bad is not None:
            raise DataError(path, f"mean face holds NaN/inf (first at coefficient {bad[0]})")
        return mean


def check_finite(values: np.ndarray, path: Path) -> np.ndarray:
    """``values`` when every entry is finite; a DataError naming the first bad frame otherwise."""
    bad = first_non_finite(values)
    if bad is not None:
        raise DataError(path, f"NaN/inf value at frame {bad[0]}, column {bad[1]}; fix or remove the clip")
    return values

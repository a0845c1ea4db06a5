"""Which dataset layout a root holds, and one entry point that opens either.

- ``react2024``: the REACT 2023/2024 release (split CSVs, Emotion CSVs, 3D_FV_files, 25 fps);
- ``react2025``: the REACT 2025/2026 MARS release (folders walked, facial-attributes .npy, 30 fps).

Both readers share one public interface (``pairs``, ``eval_order``, ``clips``, ``load_emotion``,
``load_3dmm``, ``clip_frames``, ``fps``, ``name``...), so ``data check``, ``prepare`` and callers
downstream take whichever :func:`open_layout` returns.
"""

from __future__ import annotations

from pathlib import Path

from reactdiff.constants import SPLITS
from reactdiff.errors import ConfigError, DataError

LAYOUTS = ("auto", "react2024", "react2025")


def validate_layout(layout: str) -> str:
    if layout not in LAYOUTS:
        raise ConfigError(f"layout: {layout!r} is not one of {', '.join(LAYOUTS)}")
    return layout


def detect_layout(root: str | Path) -> str:
    """``react2024`` when ``<root>/{train,val,test}.csv`` exists, ``react2025`` when
    ``<root>/<split>/facial-attributes`` does; a DataError naming the root otherwise."""
    root = Path(root)
    if not root.is_dir():
        raise DataError(root, "dataset folder not found")
    if any((root / f"{split}.csv").is_file() for split in SPLITS):
        return "react2024"
    if any((root / split / "facial-attributes").is_dir() for split in SPLITS):
        return "react2025"
    raise DataError(
        root,
        "not a REACT dataset: found neither split lists (train.csv, val.csv, test.csv: REACT 2024) nor "
        "<split>/facial-attributes folders (REACT 2025/2026 MARS); pass the dataset root",
    )


def open_layout(root: str | Path, layout: str = "auto", mean_face: str | Path | None = None):
    """The reader of ``root``: a :class:`~reactdiff.data.layout.ReactLayout` or a
    :class:`~reactdiff.data.mars.MarsLayout` (``layout="auto"`` detects which)."""
    name = detect_layout(root) if validate_layout(layout) == "auto" else layout
    if name == "react2024":
        from reactdiff.data.layout import ReactLayout

        return ReactLayout(root, mean_face=mean_face)
    from reactdiff.data.mars import MarsLayout

    return MarsLayout(root, mean_face=mean_face)


__all__ = ["LAYOUTS", "detect_layout", "open_layout", "validate_layout"]

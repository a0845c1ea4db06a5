"""The feature store: every per-clip feature stream computed once, memory-mapped by training.

Layout::

    <store>/streams.json              name -> StreamInfo (dim, kind, source, approximation flag)
    <store>/<stream>/<key>.npy        (frames, dim) float32, one file per clip

A key is ``<split>/<clip path>`` for dataset clips, or a clip name for a user's own clip. Files are
written atomically, so a file that exists is complete; a stream file newer than its source files is
up to date, which is how ``reactdiff prepare`` skips work and resumes after an interruption.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass
from pathlib import Path

import numpy as np

from reactdiff.errors import DataError
from reactdiff.io import load_json, save_json, save_npy
from reactdiff.streams import KINDS, StreamInfo  # noqa: F401  (re-exported: the store's record type)

class FeatureStore:
    """Named, typed per-clip feature streams in a folder (see module docstring)."""

    def __init__(self, directory: str | Path):
        self.directory = Path(directory)

    @property
    def index_path(self) -> Path:
        return self.directory / "streams.json"

    @property
    def streams(self) -> dict[str, StreamInfo]:
        if not self.index_path.is_file():
            return {}
        return {name: StreamInfo(**info) for name, info in load_json(self.index_path).items()}

    def register(self, info: StreamInfo) -> None:
        """Declare a stream (idempotent); refuse a redefinition with another dimension."""
        streams = self.streams
        known = streams.get(info.name)
        if known == info:
            return
        if known is not None and known.dim != info.dim:
            raise DataError(
                self.index_path,
                f"stream '{info.name}' is stored with dim {known.dim}; refusing to redefine it as {info.dim} "
                f"(delete {self.directory / info.name} to recompute it)",
            )
        streams[info.name] = info
        save_json(self.index_path, {name: asdict(stream) for name, stream in sorted(streams.items())})

    def info(self, stream: str) -> StreamInfo:
        streams = self.streams
        if stream not in streams:
            available = ", ".join(streams) or "none"
            raise DataError(self.index_path, f"stream '{stream}' is not in the store (available: {available}); run `reactdiff prepare` with it")
        return streams[stream]

    def path(self, stream: str, key: str) -> Path:
        return self.directory / stream / f"{key}.npy"

    def has(self, stream: str, key: str, newer_than: float | None = None) -> bool:
        """Whether the stream file exists (and, given a source mtime, is at least as new)."""
        path = self.path(stream, key)
        if not path.is_file():
            return False
        return newer_than is None or path.stat().st_mtime >= newer_than

    def write(self, stream: str, key: str, array: np.ndarray) -> None:
        info = self.info(stream)
        array = np.asarray(array, dtype=np.float32)
        if array.ndim != 2 or array.shape[1] != info.dim:
            raise ValueError(f"stream '{stream}' expects (frames, {info.dim}) arrays, got {array.shape} for {key}")
        if not np.isfinite(array).all():
            raise ValueError(f"stream '{stream}' of {key}: refusing to store NaN/inf values")
        save_npy(self.path(stream, key), array)

    def read(self, stream: str, key: str, mmap: bool = True) -> np.ndarray:
        """(frames, dim) float32, memory-mapped by default (no copy until sliced)."""
        path = self.path(stream, key)
        if not path.is_file():
            raise DataError(path, f"feature file missing; run `reactdiff prepare` (stream '{stream}', clip '{key}')")
        return np.load(path, mmap_mode="r" if mmap else None, allow_pickle=False)

    def keys(self, stream: str) -> list[str]:
        root = self.directory / stream
        return sorted(str(p.relative_to(root).with_suffix("")) for p in root.rglob("*.npy") if not p.name.startswith("."))

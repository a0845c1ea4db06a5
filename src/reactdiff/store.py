"""The feature store: every per-clip feature stream computed once, memory-mapped by training.

Layout::

    <store>/streams.json              name -> StreamInfo (dim, kind, source, approximation flag)
    <store>/<stream>/<key>.npy        (frames, dim) float32, one file per clip

    <store>/_sources/<key>.json       stream -> signature of its inputs and of the file written
    <store>/_clips/<key>.json         the clip's frame rate and length (``write_clip_info``)

A key is ``<split>/<clip path>`` for dataset clips, or a clip name for a user's own clip; every path
a key or stream name leads to must stay inside the store. Files are written atomically, so a file
that exists is complete. A stream file is up to date when the signature of its inputs (size,
mtime_ns and ctime_ns of every source file, plus the settings it was computed with) is the one
recorded when it was written: an in-place edit that restores the old mtime still changes the ctime,
and a source replaced by another file changes its size or times. That is how ``reactdiff prepare``
and ``reactdiff extract`` skip work and resume after an interruption.
"""

from __future__ import annotations

import contextlib
import fcntl
import hashlib
import json
import os
import re
from dataclasses import asdict
from pathlib import Path

import numpy as np

from reactdiff.errors import DataError
from reactdiff.io import load_json, save_json, save_npy
from reactdiff.streams import StreamInfo  # noqa: F401  (re-exported: the store's record type)


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
        index = load_json(self.index_path)
        try:
            return {name: StreamInfo(**info) for name, info in index.items()}
        except (AttributeError, TypeError, ValueError) as exc:
            raise DataError(self.index_path, f"not a valid stream index ({exc}); delete the store to rebuild it") from exc

    def register(self, info: StreamInfo) -> None:
        """Declare a stream (idempotent); refuse a redefinition with another dimension.

        Safe when several processes (``prepare --shard``, ``--workers``) register at once: the
        read-modify-write of ``streams.json`` holds an exclusive lock on ``<store>/streams.lock``,
        and the file is replaced atomically, so no registration is lost and no reader sees half a file."""
        self._check_stream_name(info.name)
        if self.streams.get(info.name) == info:
            return  # the common case needs no lock
        with self._index_lock():
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

    @contextlib.contextmanager
    def _index_lock(self):
        # flock (POSIX advisory lock): released by the kernel if the holder dies, so a killed
        # run cannot leave the store locked.
        self.directory.mkdir(parents=True, exist_ok=True)
        with open(self.directory / "streams.lock", "a") as handle:
            fcntl.flock(handle, fcntl.LOCK_EX)
            try:
                yield
            finally:
                fcntl.flock(handle, fcntl.LOCK_UN)

    # -- per-clip frame rate and length ---------------------------------------------------------
    def _clip_info_path(self, key: str) -> Path:
        return self.directory / CLIP_INFO / f"{self.check_key(key)}.json"

    def write_clip_info(self, key: str, fps: int | float, frames: int, **extra) -> None:
        """Record a clip's frame rate and length (and ``extra`` notes, e.g. a stream filled in for a
        missing file); written atomically, rewritten only when it changes."""
        if frames < 0 or fps <= 0:
            raise DataError(self._clip_info_path(key), f"invalid clip info fps={fps}, frames={frames} for {key}")
        info = {"fps": fps, "frames": int(frames), **extra}
        if self.clip_info(key) != info:
            save_json(self._inside(self._clip_info_path(key)), info)

    def clip_info(self, key: str) -> dict | None:
        """``{"fps": ..., "frames": ..., ...}`` as recorded by :meth:`write_clip_info`, or None."""
        path = self._clip_info_path(key)
        if not path.is_file():
            return None
        try:
            info = json.loads(path.read_text())
        except (OSError, UnicodeDecodeError, json.JSONDecodeError):
            return None
        return info if isinstance(info, dict) else None

    def info(self, stream: str) -> StreamInfo:
        streams = self.streams
        if stream not in streams:
            available = ", ".join(streams) or "none"
            raise DataError(self.index_path, f"stream '{stream}' is not in the store (available: {available}); run `reactdiff prepare` with it")
        return streams[stream]

    def path(self, stream: str, key: str) -> Path:
        """Where a stream file lives; a stream name or key that would lead outside the store is a DataError."""
        return self.directory / self._check_stream_name(stream) / f"{self.check_key(key)}.npy"

    def _check_stream_name(self, stream: str) -> str:
        if not _STREAM_NAME.fullmatch(stream) or ".." in stream:
            raise DataError(self.directory, f"stream name {stream!r} is not a plain folder name (letters, digits, '_', '-', '.')")
        return stream

    def check_key(self, key: str) -> str:
        """``key`` when it is a relative path without ``..``, empty or control characters; else a DataError."""
        parts = key.replace("\\", "/").split("/")
        if not key or key.startswith("/") or ".." in parts or "" in parts or any(ord(char) < 32 for char in key):
            raise DataError(self.directory, f"store key {key!r} is not a relative path inside the store")
        return key

    def _inside(self, path: Path) -> Path:
        """``path`` when it resolves inside the store (a symlink in the store cannot redirect a write)."""
        resolved, root = os.path.realpath(path), os.path.realpath(self.directory)
        if not resolved.startswith(root.rstrip(os.sep) + os.sep):
            raise DataError(path, f"resolves to {resolved}, outside the store {self.directory}; refusing to write it")
        return path

    def _signature_path(self, key: str) -> Path:
        return self.directory / SIGNATURES / f"{self.check_key(key)}.json"

    def _signatures(self, key: str) -> dict:
        path = self._signature_path(key)
        if not path.is_file():
            return {}
        try:
            record = json.loads(path.read_text())
        except (OSError, UnicodeDecodeError, json.JSONDecodeError):
            return {}  # an unreadable record only means "recompute"
        return record if isinstance(record, dict) else {}

    def has(self, stream: str, key: str) -> bool:
        """Whether the stream file exists (up to date or not; see :meth:`is_current`)."""
        return self.path(stream, key).is_file()

    def is_current(self, stream: str, key: str, sources: str) -> bool:
        """Whether the stream file exists, is the one this store wrote, and was computed from inputs
        with the signature ``sources`` (see :func:`sources_signature`)."""
        path = self.path(stream, key)
        if not path.is_file():
            return False
        recorded = self._signatures(key).get(stream)
        return (
            isinstance(recorded, dict)
            and recorded.get("sources") == sources
            and recorded.get("output") == _output_signature(path)
        )

    def is_recorded(self, stream: str, key: str) -> bool:
        """Whether :meth:`write` recorded the inputs of this stream file (see :meth:`is_current`)."""
        return isinstance(self._signatures(key).get(stream), dict)

    def origin(self, stream: str, key: str) -> str | None:
        """What a stream file was computed from, as recorded by :meth:`write` (None when unknown)."""
        recorded = self._signatures(key).get(stream)
        return recorded.get("origin") if isinstance(recorded, dict) else None

    def write(self, stream: str, key: str, array: np.ndarray, sources: str | None = None, origin: str | None = None) -> None:
        """Store one clip's stream; with ``sources``, record it as computed from inputs of that
        signature (and ``origin``, e.g. the clip's file, to tell clips that share a key apart)."""
        info = self.info(stream)
        path = self.path(stream, key)
        array = np.asarray(array)
        if array.dtype.kind not in "fiub":
            raise DataError(path, f"stream '{stream}' of {key}: dtype {array.dtype} is not numeric")
        array = array.astype(np.float32)
        if array.ndim != 2 or array.shape[1] != info.dim:
            raise DataError(path, f"stream '{stream}' expects (frames, {info.dim}) arrays, got {array.shape} for {key}")
        if not np.isfinite(array).all():
            raise DataError(path, f"stream '{stream}' of {key}: refusing to store NaN/inf values")
        # Forget the old record first: a crash after the new file lands then means "recompute".
        record, record_path = self._signatures(key), self._inside(self._signature_path(key))
        if record.pop(stream, None) is not None:
            save_json(record_path, record)
        save_npy(self._inside(path), array)
        if sources is not None:
            record[stream] = {"sources": sources, "output": _output_signature(path)}
            if origin is not None:
                record[stream]["origin"] = origin
            save_json(record_path, record)

    def read(self, stream: str, key: str, mmap: bool = True) -> np.ndarray:
        """(frames, dim) float32, memory-mapped by default (no copy until sliced)."""
        path = self.path(stream, key)
        if not path.is_file():
            raise DataError(path, f"feature file missing; run `reactdiff prepare` (stream '{stream}', clip '{key}')")
        return np.load(path, mmap_mode="r" if mmap else None, allow_pickle=False)

    def keys(self, stream: str) -> list[str]:
        root = self.directory / stream
        return sorted(str(p.relative_to(root).with_suffix("")) for p in root.rglob("*.npy") if not p.name.startswith("."))


#: Stream names become folder names: letters, digits, ``_``, ``-`` and ``.`` (not leading).
_STREAM_NAME = re.compile(r"[A-Za-z0-9][A-Za-z0-9_.-]*")
#: Folder of the signature records (a name no stream can have).
SIGNATURES = "_sources"
#: Folder of the per-clip frame rate and length records (a name no stream can have).
CLIP_INFO = "_clips"


def file_signature(path: str | Path) -> str:
    """Size, mtime_ns and ctime_ns of a file, or of every file in a folder (PNG-frame videos)."""
    path = Path(path)
    if path.is_dir():
        digest = hashlib.sha256()
        for child in sorted(path.iterdir()):
            if child.is_file():
                digest.update(f"{child.name}={file_signature(child)};".encode())
        return f"dir:{digest.hexdigest()}"
    stat = path.stat()
    return f"{stat.st_size}:{stat.st_mtime_ns}:{stat.st_ctime_ns}"


def sources_signature(*paths: str | Path | None, **settings) -> str:
    """One signature of several input files (None: absent) and the settings a stream depends on."""
    # Contents only: which clip a file belongs to is the store key's business (and extract's origin).
    parts = [file_signature(p) if p is not None else "-" for p in paths]
    parts += [f"{name}={value!r}" for name, value in sorted(settings.items())]
    return hashlib.sha256("\n".join(parts).encode()).hexdigest()


def _output_signature(path: Path) -> str:
    # The store is ours: size and mtime tell a file we wrote from one put there by hand.
    stat = path.stat()
    return f"{stat.st_size}:{stat.st_mtime_ns}"

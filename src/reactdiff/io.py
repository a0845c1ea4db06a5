"""Atomic writes, and reads that turn any malformed file into one DataError naming it.

Every artefact (features, checkpoints, predictions, reports) is written to a temporary file in the
same folder and renamed into place, so an interrupted run never leaves a half-written file and
re-runs can trust that a file that exists is complete. Arrays are read with ``allow_pickle=False``
only, and every way a file can be broken (empty, truncated, text, an archive where an array was
expected or the reverse, object arrays) is reported as :class:`~reactdiff.errors.DataError`.
"""

from __future__ import annotations

import contextlib
import json
import os
import tempfile
import zipfile
import zlib
from pathlib import Path
from typing import Any, Iterator

import numpy as np

_UMASK = os.umask(0)
os.umask(_UMASK)


@contextlib.contextmanager
def atomic_path(path: str | Path) -> Iterator[Path]:
    """Yield a temporary path beside ``path``; on success rename it to ``path``."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    # Keep the real suffix so libraries that infer a format from it (np.save, PyAV) behave.
    fd, tmp = tempfile.mkstemp(prefix=f".{path.stem}.", suffix=f".tmp{path.suffix}", dir=path.parent)
    os.close(fd)
    tmp_path = Path(tmp)
    try:
        yield tmp_path
        # mkstemp creates files readable by their owner only; give the result the usual mode.
        os.chmod(tmp_path, 0o666 & ~_UMASK)
        os.replace(tmp_path, path)
    finally:
        if tmp_path.exists():
            tmp_path.unlink()


def save_npy(path: str | Path, array: np.ndarray) -> None:
    with atomic_path(path) as tmp:
        with open(tmp, "wb") as handle:
            np.save(handle, np.ascontiguousarray(array))


def save_npz(path: str | Path, **arrays: np.ndarray) -> None:
    with atomic_path(path) as tmp:
        with open(tmp, "wb") as handle:
            np.savez(handle, **arrays)


def save_json(path: str | Path, data: Any) -> None:
    with atomic_path(path) as tmp:
        tmp.write_text(json.dumps(data, indent=2, sort_keys=False) + "\n")


def save_text(path: str | Path, text: str) -> None:
    with atomic_path(path) as tmp:
        tmp.write_text(text)


def save_safetensors(path: str | Path, tensors: dict, metadata: dict[str, str] | None = None) -> None:
    """Save a dict of torch tensors as safetensors (never a pickle)."""
    from safetensors.torch import save_file

    tensors = {name: tensor.detach().contiguous().cpu() for name, tensor in tensors.items()}
    with atomic_path(path) as tmp:
        save_file(tensors, str(tmp), metadata=metadata)


def load_json(path: str | Path) -> Any:
    from reactdiff.errors import DataError

    path = Path(path)
    if not path.is_file():
        raise DataError(path, "file not found")
    try:
        return json.loads(path.read_text())
    except json.JSONDecodeError as exc:
        raise DataError(path, f"not valid JSON ({exc})") from exc


#: What numpy raises on a malformed .npy/.npz: a bad header or pickled data (ValueError), no bytes
#: at all (EOFError), a broken zip archive or member (BadZipFile, zlib.error), an unreadable file.
_NUMPY_READ_ERRORS = (OSError, ValueError, EOFError, zipfile.BadZipFile, zlib.error)


def load_npy(path: str | Path, what: str = "array") -> np.ndarray:
    """One array from a ``.npy`` file; a missing, malformed or archive file is a DataError."""
    from reactdiff.errors import DataError

    path = Path(path)
    if not path.is_file():
        raise DataError(path, f"{what} not found")
    if path.stat().st_size == 0:
        raise DataError(path, f"empty file (0 bytes), expected a .npy {what}")
    try:
        loaded = np.load(path, allow_pickle=False)
    except _NUMPY_READ_ERRORS as exc:
        raise DataError(path, f"unreadable .npy {what} ({_reason(exc)})") from exc
    if not isinstance(loaded, np.ndarray):
        loaded.close()
        raise DataError(path, f"is a .npz archive, expected a single .npy {what}")
    return loaded


def load_npz(path: str | Path, what: str = "archive") -> dict[str, np.ndarray]:
    """Every array of a ``.npz`` file, read eagerly so that a broken member fails here, naming the file."""
    from reactdiff.errors import DataError

    path = Path(path)
    if not path.is_file():
        raise DataError(path, f"{what} not found")
    if path.stat().st_size == 0:
        raise DataError(path, f"empty file (0 bytes), expected a .npz {what}")
    try:
        loaded = np.load(path, allow_pickle=False)
        if isinstance(loaded, np.ndarray):
            raise DataError(path, f"is a single .npy array, expected a .npz {what}")
        with loaded:
            return {name: loaded[name] for name in loaded.files}
    except _NUMPY_READ_ERRORS as exc:
        raise DataError(path, f"unreadable .npz {what} ({_reason(exc)})") from exc


def _reason(exc: Exception) -> str:
    if isinstance(exc, ValueError) and "pickle" in str(exc):
        # numpy's advice to load it unsafely is the wrong advice here.
        return "holds pickled or object data, which is never loaded, or is not a numpy file at all"
    if isinstance(exc, EOFError):
        return "file ends early"
    if isinstance(exc, (zipfile.BadZipFile, zlib.error)):
        return f"not a complete zip archive, truncated or corrupt: {exc}"
    return str(exc) or type(exc).__name__


def require_real(array: np.ndarray, path: str | Path, name: str = "array") -> np.ndarray:
    """Refuse arrays that are not real numbers (bool, complex, datetime, strings, structured)."""
    from reactdiff.errors import DataError

    if array.dtype.kind not in "fiu":
        raise DataError(path, f"{name} has dtype {array.dtype}; real numbers (float or int) are required")
    return array


def first_non_finite(array: np.ndarray) -> tuple[int, ...] | None:
    """Index of the first NaN/inf value, or None when every value is finite."""
    bad = ~np.isfinite(array)
    if not bad.any():
        return None
    return tuple(int(i) for i in np.argwhere(bad)[0])

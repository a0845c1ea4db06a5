"""One training run per run folder: an exclusive lock on ``<out>/.lock`` held for the whole run.

Two trainings into the same ``--out`` would interleave checkpoints and leave a
``train_config.json`` that describes neither; the second one stops at once with a message naming
the process that holds the folder. The lock is an OS file lock (``fcntl.flock``), so it disappears
with its process even after a crash: a stale lock file never blocks a later run.
"""

from __future__ import annotations

import os
from pathlib import Path

from reactdiff.errors import ConfigError


class RunLock:
    """Context manager holding the exclusive lock of a run folder."""

    def __init__(self, out_dir: Path):
        self.path = Path(out_dir) / ".lock"
        self._handle = None

    def __enter__(self) -> "RunLock":
        import fcntl

        self.path.parent.mkdir(parents=True, exist_ok=True)
        handle = open(self.path, "a+")
        try:
            fcntl.flock(handle, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            handle.seek(0)
            holder = handle.read().strip() or "another process"
            handle.close()
            raise ConfigError(f"{self.path.parent}: a training run is already writing here ({holder}); wait for it or choose another --out") from None
        handle.seek(0)
        handle.truncate()
        handle.write(f"pid {os.getpid()}\n")
        handle.flush()
        self._handle = handle
        return self

    def __exit__(self, *exc) -> None:
        import fcntl

        if self._handle is not None:
            fcntl.flock(self._handle, fcntl.LOCK_UN)
            self._handle.close()
            self._handle = None

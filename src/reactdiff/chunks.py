"""How REACT 2025/2026 test items of any length are cut for generation (spec REACT2025_DATA.md section 3).

- Offline: B = ceil(L / 750) consecutive 750-frame chunks generated independently, the last one
  holding the remainder. The 2025 baseline appended an empty chunk when L is a multiple of 750; the
  2026 fix (no empty chunk) is what :func:`offline_chunks` returns.
- Online, the baseline slides non-overlapping 30-frame windows, each seeing speaker frames
  [30i - 30, 30i + 30); our online models are causal to the frame instead and run window by window
  over the whole clip with carried state (``reactdiff.methods.reactdiff.online``), so no helper
  for the baseline's windows is needed here.
"""

from __future__ import annotations

import numpy as np

#: Offline chunk (``clip_length``).
OFFLINE_CHUNK = 750


def _positive(value: int, name: str) -> int:
    if isinstance(value, bool) or not isinstance(value, (int, np.integer)) or value < 1:
        raise ValueError(f"{name} must be a positive integer, got {value!r}")
    return int(value)


def offline_chunks(length: int, chunk: int = OFFLINE_CHUNK) -> list[tuple[int, int]]:
    """[(start, stop)] of the ceil(length / chunk) offline chunks covering frames [0, length); never
    an empty chunk (a multiple of ``chunk`` gives exactly length / chunk chunks)."""
    length, chunk = _positive(length, "length"), _positive(chunk, "chunk")
    return [(start, min(start + chunk, length)) for start in range(0, length, chunk)]

"""How REACT 2025/2026 test items of any length are cut for generation (spec REACT2025_DATA.md section 3).

- Offline: B = ceil(L / 750) consecutive 750-frame chunks generated independently, the last one
  holding the remainder. The 2025 baseline appended an empty chunk when L is a multiple of 750; the
  2026 fix (no empty chunk) is what :func:`offline_chunks` returns.
- Online: non-overlapping 30-frame output windows; window i sees speaker frames [30i - 30, 30i + 30)
  (its own window plus the 30 before it), zero-padded outside the clip, and outputs frames
  [30i, 30i + 30) cut at L.

Pure functions on integers; :func:`padded_window` cuts a context out of a sequence with the zeros.
"""

from __future__ import annotations

import numpy as np

#: Offline chunk (``clip_length``), online output window (``window_size``) and speaker context (s_ratio x window).
OFFLINE_CHUNK = 750
ONLINE_WINDOW = 30
ONLINE_CONTEXT = 60


def _positive(value: int, name: str) -> int:
    if isinstance(value, bool) or not isinstance(value, (int, np.integer)) or value < 1:
        raise ValueError(f"{name} must be a positive integer, got {value!r}")
    return int(value)


def offline_chunks(length: int, chunk: int = OFFLINE_CHUNK) -> list[tuple[int, int]]:
    """[(start, stop)] of the ceil(length / chunk) offline chunks covering frames [0, length); never
    an empty chunk (a multiple of ``chunk`` gives exactly length / chunk chunks)."""
    length, chunk = _positive(length, "length"), _positive(chunk, "chunk")
    return [(start, min(start + chunk, length)) for start in range(0, length, chunk)]


def online_windows(
    length: int, window: int = ONLINE_WINDOW, context: int = ONLINE_CONTEXT
) -> list[tuple[int, int, int, int]]:
    """[(out_start, out_stop, ctx_start, ctx_stop)] of the ceil(length / window) online windows.

    Window i outputs frames [window * i, min(window * (i + 1), length)) and sees speaker frames
    [window * (i + 1) - context, window * (i + 1)): with the defaults [30i - 30, 30i + 30). The
    context bounds are NOT clipped to the clip: indices below 0 or at/after ``length`` are zeros
    (cut with :func:`padded_window`), so every context has exactly ``context`` frames.
    """
    length, window, context = _positive(length, "length"), _positive(window, "window"), _positive(context, "context")
    if context < window:
        raise ValueError(f"context ({context}) must cover at least the output window ({window})")
    return [
        (start, min(start + window, length), start + window - context, start + window)
        for start in range(0, length, window)
    ]


def padded_window(sequence: np.ndarray, start: int, stop: int) -> np.ndarray:
    """sequence[start:stop] along axis 0 with zeros where [start, stop) leaves [0, len(sequence)):
    always ``stop - start`` frames."""
    sequence = np.asarray(sequence)
    if stop < start:
        raise ValueError(f"window stop ({stop}) is before its start ({start})")
    out = np.zeros((stop - start,) + sequence.shape[1:], dtype=sequence.dtype)
    first, last = max(start, 0), min(stop, sequence.shape[0])
    if last > first:
        out[first - start : last - start] = sequence[first:last]
    return out

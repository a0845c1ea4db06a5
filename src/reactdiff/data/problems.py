"""A problem ``data check`` reports, and the value checks both dataset layouts share."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import numpy as np

from reactdiff.constants import AU_SLICE, EXPRESSION_SLICE, VA_SLICE


#: Expression probabilities are softmax outputs: their sum may differ from 1 by rounding only.
PROBABILITY_SUM_TOLERANCE = 0.05


@dataclass(frozen=True)
class Problem:
    path: Path
    message: str

    def __str__(self) -> str:
        return f"{self.path}: {self.message}"


def emotion_problems(values: np.ndarray) -> list[str]:
    """Range and finiteness problems of an emotion array (frames, 25)."""
    problems = []
    if not np.isfinite(values).all():
        rows = np.flatnonzero(~np.isfinite(values).all(axis=1))
        return [f"{rows.size} frames with NaN/inf values (first: frame {rows[0]})"]
    aus = values[:, AU_SLICE]
    if ((aus < 0) | (aus > 1)).any():
        frame, column = np.argwhere((aus < 0) | (aus > 1))[0]
        problems.append(f"AU occurrence outside [0, 1] (frame {frame}, column {column}: {aus[frame, column]:g})")
    va = values[:, VA_SLICE]
    if (np.abs(va) > 1).any():
        frame, column = np.argwhere(np.abs(va) > 1)[0]
        problems.append(f"valence/arousal outside [-1, 1] (frame {frame}: {va[frame, column]:g})")
    sums = values[:, EXPRESSION_SLICE].sum(axis=1)
    bad = np.flatnonzero(np.abs(sums - 1) > PROBABILITY_SUM_TOLERANCE)
    if bad.size:
        problems.append(f"expression probabilities do not sum to 1 in {bad.size} frames (frame {bad[0]}: {sums[bad[0]]:.3f})")
    return problems


def mean_face_problems(layout) -> list[Problem]:
    """The mean-face problem of either layout (missing, wrong size, not finite), if any."""
    from reactdiff.errors import DataError

    try:
        layout.mean_face
    except DataError as exc:
        return [Problem(exc.path, exc.problem)]
    return []

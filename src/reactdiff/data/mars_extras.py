"""REACT 2026 side data of a MARS split: Big-Five personality tables and per-clip EEG CSVs.

Both are read as the 2026 baseline reads them (``dataset/perfrdiff_rewrite_weight.py``,
``dataset/react_2025.py``; see the MARS data spec, section 5):

- personality: ``<split>/personality/{listener,speaker}.csv``, UTF-8 (a BOM is allowed), columns
  ``video_name`` (its stem is the key), optional ``session``, and the five traits; the vector is
  ``[E, A, C, N, O]`` mapped by ``(x - 1) / 4`` (raw scale 1-5 presumed);
- EEG: ``<split>/eeg_processed/<role>/<session>/<stem>.csv`` with a header; the 14 target columns
  in :data:`EEG_COLUMNS` (the 4 raw channels divided by 1000); a blank, non-numeric or non-finite
  cell gives value 0 and mask 0; one row per second, frame ``t`` reads row ``floor(t / fps)``,
  clipped to the last row.
"""

from __future__ import annotations

import csv
import io
import math
import tarfile
from pathlib import Path

import numpy as np

from reactdiff.errors import DataError

PERSONALITY_TRAITS = ("Extraversion", "Agreeableness", "Conscientiousness", "Neuroticism", "Openness")
#: Raw trait scores are presumed 1-5: (x - 1) / 4 maps them to [0, 1].
PERSONALITY_RANGE = (1.0, 5.0)

EEG_RAW_CHANNELS = ("TP9", "AF7", "AF8", "TP10")
EEG_BANDS = ("Delta", "Theta", "Alpha", "Beta", "Gamma")
#: The 14 EEG targets in order: 4 raw channels, then 5 band powers of TP9 and of TP10.
EEG_COLUMNS = EEG_RAW_CHANNELS + tuple(f"{band}_{site}" for site in ("TP9", "TP10") for band in EEG_BANDS)
#: The baseline's ``eeg_channel_scale``: raw channels are divided by it, band powers are not.
EEG_CHANNEL_SCALE = 1000.0
#: EEG rows per second of video (the loader maps frame t to row floor(t / 30) at 30 fps).
EEG_ROWS_PER_SECOND = 1


def _read_rows(path: Path, what: str, data: bytes | None = None) -> tuple[list[str], list[list[str]]]:
    """Header and data rows of a UTF-8 CSV (BOM allowed), blank lines dropped; ``data`` holds the
    file's bytes when it comes from an archive (``path`` then names the member)."""
    if data is None and not path.is_file():
        raise DataError(path, f"{what} not found")
    try:
        text = path.read_bytes() if data is None else data
        rows = [row for row in csv.reader(io.StringIO(text.decode("utf-8-sig"), newline="")) if any(cell.strip() for cell in row)]
    except (OSError, UnicodeDecodeError, csv.Error) as exc:
        raise DataError(path, f"unreadable {what} ({exc})") from exc
    if not rows:
        raise DataError(path, f"empty {what} (expected a header row)")
    return [cell.strip() for cell in rows[0]], rows[1:]


def _stem(name: str) -> str:
    # ``video_name`` may carry a folder and an extension; the baseline keys on the stem.
    return Path(name.strip().replace("\\", "/")).stem


def read_personality_csv(path: Path) -> dict[tuple[str | None, str], np.ndarray]:
    """``{(session, stem): vector, (None, stem): vector}`` of a personality table; each vector is
    ``[E, A, C, N, O]`` mapped by ``(x - 1) / 4``, float32. The session key exists only when the
    table has a ``session`` column; (None, stem) keeps the first row of a stem, for tables without it."""
    header, rows = _read_rows(path, "personality table")
    missing = [name for name in ("video_name", *PERSONALITY_TRAITS) if name not in header]
    if missing:
        raise DataError(path, f"personality table lacks column(s) {', '.join(missing)} (header: {', '.join(header)})")
    name_col = header.index("video_name")
    session_col = header.index("session") if "session" in header else None
    trait_cols = [header.index(trait) for trait in PERSONALITY_TRAITS]
    table: dict[tuple[str | None, str], np.ndarray] = {}
    for line, row in enumerate(rows, start=2):
        if len(row) < len(header):
            raise DataError(path, f"line {line}: {len(row)} columns, the header has {len(header)}")
        try:
            raw = [float(row[col]) for col in trait_cols]
        except ValueError as exc:
            raise DataError(path, f"line {line}: a trait score is not a number ({exc})") from exc
        if not all(math.isfinite(value) for value in raw):
            raise DataError(path, f"line {line}: a trait score is NaN/inf")
        stem = _stem(row[name_col])
        if not stem:
            raise DataError(path, f"line {line}: empty video_name")
        vector = (np.asarray(raw, dtype=np.float32) - 1.0) / 4.0
        if session_col is not None and row[session_col].strip():
            table[(row[session_col].strip(), stem)] = vector
        table.setdefault((None, stem), vector)
    return table


def personality_range_problems(path: Path) -> list[str]:
    """Raw scores outside 1-5 (the presumed scale), for ``data check``."""
    low, high = PERSONALITY_RANGE
    table = read_personality_csv(path)
    bad = sorted({stem for (_session, stem), vector in table.items() if not ((vector >= 0) & (vector <= 1)).all()})
    if not bad:
        return []
    return [f"trait scores outside {low:g}-{high:g} for {len(bad)} video(s) (first: {bad[0]})"]


def lookup_personality(table: dict, session: str, stem: str) -> np.ndarray | None:
    """The row of (session, stem), else of the stem alone (the baseline's lookup order)."""
    found = table.get((session, stem))
    return found if found is not None else table.get((None, stem))


def read_eeg_csv(path: Path, data: bytes | None = None) -> tuple[np.ndarray, np.ndarray]:
    """``(values, mask)``, each ``(rows, 14)`` float32, of an EEG file (one row per second);
    ``data``: the file's bytes, read from an archive member named ``path``."""
    header, rows = _read_rows(path, "EEG file", data)
    missing = [name for name in EEG_COLUMNS if name not in header]
    if missing:
        raise DataError(path, f"EEG file lacks column(s) {', '.join(missing)}")
    if not rows:
        raise DataError(path, "EEG file has a header but no rows")
    columns = [header.index(name) for name in EEG_COLUMNS]
    values = np.zeros((len(rows), len(EEG_COLUMNS)), dtype=np.float64)
    mask = np.zeros_like(values)
    for index, row in enumerate(rows):
        for target, col in enumerate(columns):
            try:
                value = float(row[col]) if col < len(row) else math.nan
            except ValueError:
                value = math.nan  # blank or text: missing, as the baseline reads it
            if math.isfinite(value):
                values[index, target], mask[index, target] = value, 1.0
    values[:, : len(EEG_RAW_CHANNELS)] /= EEG_CHANNEL_SCALE
    return values.astype(np.float32), mask.astype(np.float32)


class EegArchive:
    """The baseline's fallback ``<split>/eeg_processed.tar.gz``: members ``eeg_processed/<clip>.csv``
    or ``<clip>.csv``, read in memory (nothing is extracted to disk, so member paths cannot escape)."""

    def __init__(self, path: Path):
        self.path = path
        try:
            self._tar = tarfile.open(path, "r:*")
            self._members = {member.name.lstrip("./"): member for member in self._tar.getmembers() if member.isfile()}
        except (OSError, tarfile.TarError, EOFError) as exc:
            raise DataError(path, f"unreadable EEG archive ({exc})") from exc

    def read(self, clip: str) -> bytes | None:
        """The bytes of the clip's member, or None when the archive has none."""
        for name in (f"eeg_processed/{clip}.csv", f"{clip}.csv"):
            member = self._members.get(name)
            if member is not None:
                try:
                    return self._tar.extractfile(member).read()
                except (OSError, tarfile.TarError, EOFError) as exc:
                    raise DataError(self.path, f"member {name}: unreadable ({exc})") from exc
        return None


def eeg_per_frame(values: np.ndarray, mask: np.ndarray, num_frames: int, fps: int) -> tuple[np.ndarray, np.ndarray]:
    """Per-frame ``(num_frames, 14)`` EEG and mask: frame t takes row floor(t / fps), clipped to the
    last row (step-constant over each second)."""
    rows = np.minimum(np.arange(num_frames) * EEG_ROWS_PER_SECOND // fps, len(values) - 1)
    return values[rows], mask[rows]


def missing_eeg(num_frames: int) -> tuple[np.ndarray, np.ndarray]:
    """What the baseline gives a clip without an EEG file: zero values and zero masks."""
    zeros = np.zeros((num_frames, len(EEG_COLUMNS)), dtype=np.float32)
    return zeros, zeros.copy()


__all__ = [
    "EEG_COLUMNS", "PERSONALITY_TRAITS", "eeg_per_frame", "lookup_personality", "missing_eeg",
    "personality_range_problems", "read_eeg_csv", "read_personality_csv",
]

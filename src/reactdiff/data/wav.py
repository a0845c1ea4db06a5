"""Is a clip's WAV whole, and as long as its clip? (``data check`` reports, ``prepare`` refuses.)

A WAV of a few samples, or one cut short in a copy, decodes without complaint: libsndfile and FFmpeg
silently take the samples that are there, and the MFCC code pads a short track to the clip's frame
count, so 30 s of a clip would get constant audio features. Two checks catch that:

- truncation: the RIFF ``data`` chunk claims more bytes than the file holds. No library reports
  this (libsndfile clamps the frame count and only writes it into a log string), so the chunk
  headers are walked here; formats other than RIFF/WAVE are left to the decoder.
- duration: audio shorter than the clip by more than :data:`SHORTFALL_TOLERANCE_SECONDS`.

Float WAVs are also read whole for NaN/inf samples (integer PCM cannot hold them).
"""

from __future__ import annotations

import struct
from pathlib import Path

import numpy as np

from reactdiff.constants import FPS

#: Audio may be this much shorter than its clip (rounding of clip cuts to samples and frames);
#: 0.2 s is 5 video frames, far less than any real gap.
SHORTFALL_TOLERANCE_SECONDS = 0.2

#: Data-chunk sizes that streaming writers leave as placeholders (the size is then unknown).
_UNKNOWN_SIZES = (0, 0xFFFFFFFF)


def truncation_problem(path: Path) -> str | None:
    """A message when the WAV's ``data`` chunk claims more bytes than the file holds, else None."""
    size = path.stat().st_size
    with open(path, "rb") as handle:
        head = handle.read(12)
        if len(head) < 12 or head[:4] != b"RIFF" or head[8:12] != b"WAVE":
            return None
        offset = 12
        while offset + 8 <= size:
            handle.seek(offset)
            chunk_id, chunk_size = struct.unpack("<4sI", handle.read(8))
            if chunk_id == b"data":
                available = size - offset - 8
                if chunk_size in _UNKNOWN_SIZES or chunk_size <= available:
                    return None
                return (
                    f"truncated: the header claims {chunk_size} bytes of samples, the file holds {available} "
                    f"({100 * available / chunk_size:.0f}%)"
                )
            offset += 8 + chunk_size + (chunk_size & 1)  # chunks are padded to an even size
    return None


def shortfall_problem(num_samples: int, sample_rate: int, num_frames: int, fps: int = FPS) -> str | None:
    """A message when the audio is much shorter than a clip of ``num_frames`` video frames at ``fps``."""
    audio_seconds = num_samples / sample_rate
    clip_seconds = num_frames / fps
    if audio_seconds >= clip_seconds - SHORTFALL_TOLERANCE_SECONDS:
        return None
    return (
        f"audio is {audio_seconds:.2f} s ({num_samples} samples at {sample_rate} Hz), the clip is "
        f"{clip_seconds:.2f} s ({num_frames} frames at {fps} fps); more than {SHORTFALL_TOLERANCE_SECONDS} s short"
    )


def wav_problems(path: Path, num_frames: int, fps: int = FPS) -> list[str]:
    """Everything wrong with a clip's WAV without decoding it (an empty list when it is fine)."""
    import soundfile

    try:
        info = soundfile.info(str(path))
    except (RuntimeError, soundfile.LibsndfileError) as exc:
        return [f"unreadable audio ({exc})"]
    if info.frames == 0:
        return ["audio has no samples"]
    problems = [message for message in (truncation_problem(path),) if message]
    short = shortfall_problem(info.frames, info.samplerate, num_frames, fps)
    problems += [short] if short else []
    if info.subtype in ("FLOAT", "DOUBLE"):  # only float samples can be NaN/inf
        samples, _rate = soundfile.read(str(path), dtype="float32", always_2d=True)
        bad = np.flatnonzero(~np.isfinite(samples).all(axis=1))
        if bad.size:
            problems.append(f"{bad.size} NaN/inf samples (first at {bad[0] / info.samplerate:.2f} s)")
    return problems

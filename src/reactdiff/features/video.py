"""Decode a video (any container PyAV/FFmpeg reads, any frame rate, or a folder of frame images)
and resample it to 25 fps by frame-time selection.

Resampling picks, for each output time ``i / 25`` s (measured from the first frame), the decoded
frame whose timestamp is nearest: no frames are blended, so every output frame is a real frame of
the clip (a 30 fps clip drops one frame in six, a 24 fps clip repeats one frame in twenty-four).
Frames are streamed, never all held in memory, so long or high-resolution clips stay cheap.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import Path
from typing import Iterator

import numpy as np

from reactdiff.constants import FPS
from reactdiff.errors import FeatureError

#: Image files accepted in a frame folder (REACT 2023 ships clips as folders of PNG frames at 25 fps).
FRAME_SUFFIXES = (".png", ".jpg", ".jpeg")


@dataclass(frozen=True)
class VideoInfo:
    """What :func:`probe_video` learns about a clip without decoding it."""

    path: Path
    width: int
    height: int
    source_fps: float
    duration: float  # seconds
    has_audio: bool

    def num_frames(self, fps: int = FPS) -> int:
        """Frames the clip has once resampled to ``fps`` (duration x fps, rounded)."""
        return max(1, int(round(self.duration * fps)))


def _frame_files(folder: Path) -> list[Path]:
    files = [p for p in folder.iterdir() if p.suffix.lower() in FRAME_SUFFIXES]

    # Natural order: 2.png before 10.png.
    def natural(path: Path):
        return [int(part) if part.isdigit() else part for part in re.split(r"(\d+)", path.stem)]

    return sorted(files, key=natural)


def _open(path: Path):
    import av

    if not path.exists():
        raise FeatureError(path, "video file not found")
    try:
        container = av.open(str(path))
    except (av.FFmpegError, OSError) as exc:
        raise FeatureError(path, f"not a readable video file ({exc})") from exc
    if not container.streams.video:
        container.close()
        raise FeatureError(path, "no video track")
    return container


def probe_video(path: str | Path) -> VideoInfo:
    """Size, source frame rate, duration and whether there is an audio track."""
    path = Path(path)
    if path.is_dir():
        from PIL import Image

        files = _frame_files(path)
        if not files:
            raise FeatureError(path, f"frame folder holds no {'/'.join(FRAME_SUFFIXES)} images")
        with Image.open(files[0]) as first:
            width, height = first.size
        # A frame folder carries no timing: REACT's folders are 25 fps by the data contract.
        return VideoInfo(path, width, height, float(FPS), len(files) / FPS, has_audio=False)
    container = _open(path)
    try:
        stream = container.streams.video[0]
        rate = float(stream.average_rate) if stream.average_rate else 0.0
        if stream.duration is not None and stream.time_base is not None:
            duration = float(stream.duration * stream.time_base)
        elif container.duration is not None:
            duration = container.duration / 1e6
        elif stream.frames and rate:
            duration = stream.frames / rate
        else:
            duration = _decoded_duration(container)
        if duration <= 0:
            raise FeatureError(path, "video track has no frames")
        return VideoInfo(
            path, stream.codec_context.width, stream.codec_context.height, rate, duration,
            has_audio=bool(container.streams.audio),
        )
    finally:
        container.close()


def _decoded_duration(container) -> float:
    """Fallback for streams that declare no duration: decode and time the last frame."""
    stream = container.streams.video[0]
    last, step = 0.0, 0.0
    for frame in container.decode(stream):
        if frame.time is not None:
            step = frame.time - last if frame.time > last else step
            last = frame.time
    return last + step


def _scaled_size(width: int, height: int, max_side: int) -> tuple[int, int]:
    if max_side <= 0 or max(width, height) <= max_side:
        return width, height
    scale = max_side / max(width, height)
    # Even sizes keep swscale's chroma handling exact.
    return max(2, int(round(width * scale / 2)) * 2), max(2, int(round(height * scale / 2)) * 2)


def iter_frames(
    path: str | Path, fps: int = FPS, max_side: int = 0, num_frames: int | None = None
) -> Iterator[np.ndarray]:
    """Yield the clip's frames resampled to ``fps`` as RGB ``(H, W, 3)`` uint8 arrays.

    ``max_side`` > 0 downscales frames whose longer side exceeds it (done by FFmpeg's scaler while
    converting, so it costs nothing extra). ``num_frames`` fixes the output length (the last frame
    is repeated if the clip is shorter); by default it is duration x fps.
    """
    path = Path(path)
    info = probe_video(path)
    total = info.num_frames(fps) if num_frames is None else num_frames
    if path.is_dir():
        yield from _iter_folder(path, total, max_side)
        return
    container = _open(path)
    try:
        stream = container.streams.video[0]
        stream.thread_type = "AUTO"  # frame + slice threads: decoding is not the bottleneck then
        width, height = _scaled_size(info.width, info.height, max_side)
        emitted = 0
        start = None
        previous_time, previous_frame, previous_rgb = 0.0, None, None
        for index, frame in enumerate(container.decode(stream)):
            # Some streams lack timestamps: fall back to the nominal rate.
            time = frame.time if frame.time is not None else index / (info.source_fps or fps)
            start = time if start is None else start
            time -= start
            if previous_frame is not None:
                # Output time i/fps goes to the nearest source frame: the previous one until the midpoint.
                boundary = (previous_time + time) / 2
                while emitted < total and emitted / fps < boundary:
                    if previous_rgb is None:  # convert once, even when the frame is repeated
                        previous_rgb = _to_rgb(previous_frame, width, height)
                    yield previous_rgb
                    emitted += 1
            if emitted >= total:
                break
            previous_time, previous_frame, previous_rgb = time, frame, None
        if previous_frame is None:
            raise FeatureError(path, "video track decoded to no frames")
        while emitted < total:
            if previous_rgb is None:
                previous_rgb = _to_rgb(previous_frame, width, height)
            yield previous_rgb
            emitted += 1
    except FeatureError:
        raise
    except Exception as exc:  # FFmpeg decoding errors mid-stream
        import av

        if isinstance(exc, av.FFmpegError):
            raise FeatureError(path, f"video decoding failed ({exc})") from exc
        raise
    finally:
        container.close()


def upright(rgb: np.ndarray, rotation: float) -> np.ndarray:
    """Apply a display rotation (degrees counterclockwise, FFmpeg's display-matrix convention:
    phones store portrait clips sideways with -90 or 90) so faces are upright for the landmarker."""
    quarter_turns = int(round(rotation / 90)) % 4
    return np.ascontiguousarray(np.rot90(rgb, k=quarter_turns)) if quarter_turns else rgb


def _to_rgb(frame, width: int, height: int) -> np.ndarray:
    # getattr: VideoFrame.rotation only exists in recent PyAV releases.
    return upright(frame.to_ndarray(format="rgb24", width=width, height=height), getattr(frame, "rotation", 0) or 0)


def _iter_folder(folder: Path, total: int, max_side: int) -> Iterator[np.ndarray]:
    from PIL import Image

    files = _frame_files(folder)
    for index in range(total):
        path = files[min(index, len(files) - 1)]
        try:
            with Image.open(path) as image:
                image = image.convert("RGB")
                width, height = _scaled_size(image.width, image.height, max_side)
                if (width, height) != image.size:
                    image = image.resize((width, height), Image.BILINEAR)
                yield np.asarray(image)
        except OSError as exc:
            raise FeatureError(path, f"unreadable frame image ({exc})") from exc

"""Writing rendered frames: H.264 MP4 with AAC audio via PyAV, or an animated GIF via Pillow.

Both are written atomically (a temporary file beside the target, renamed on success), so an
interrupted render never leaves a truncated video that looks finished.
"""

from __future__ import annotations

import itertools
from collections.abc import Iterable
from fractions import Fraction
from fractions import Fraction
from pathlib import Path

import numpy as np

from reactdiff.constants import FPS
from reactdiff.io import atomic_path

#: AAC encoders want a common rate; 16 kHz speech is resampled by PyAV's audio resampler.
AUDIO_RATE = 44100


def _check_frames(frames: np.ndarray) -> np.ndarray:
    frames = np.asarray(frames)
    if frames.ndim != 4 or frames.shape[-1] != 3 or frames.shape[0] == 0:
        raise ValueError(f"frames must have shape (T, H, W, 3) with T >= 1, got {frames.shape}")
    if frames.dtype != np.uint8:
        raise ValueError(f"frames must be uint8, got {frames.dtype}")
    return frames


def _pad_even(frames: np.ndarray) -> np.ndarray:
    """yuv420p stores chroma at half resolution, so H.264 needs even sizes: pad by edge pixels."""
    height, width = frames.shape[1:3]
    pad_h, pad_w = height % 2, width % 2
    if pad_h or pad_w:
        frames = np.pad(frames, ((0, 0), (0, pad_h), (0, pad_w), (0, 0)), mode="edge")
    return frames


def write_video(
    path: str | Path,
    frames: np.ndarray | Iterable[np.ndarray],
    fps: int = FPS,
    audio: tuple[np.ndarray, int] | None = None,
    crf: int = 20,
) -> Path:
    """Write uint8 frames (T, H, W, 3) as an H.264 (yuv420p) MP4, with ``audio`` muxed as AAC.

    ``frames`` may also be an iterable of (H, W, 3) frames (e.g. ``compose_grid``), so a long grid
    video is encoded as it is drawn and never held in memory. ``audio`` is
    ``(samples, sample_rate)`` with mono float samples in [-1, 1]; it is cut or zero-padded to the
    video's duration so players keep picture and sound in step. A path ending in ``.gif`` writes a
    GIF instead (no audio).
    """
    import av

    path = Path(path)
    if path.suffix.lower() == ".gif":
        return write_gif(path, frames, fps=fps)
    iterator = iter(frames)
    first = next(iterator, None)
    if first is None:
        raise ValueError("no frames to write")
    first = _pad_even(_check_frames(np.asarray(first)[None]))[0]
    height, width = first.shape[:2]
    num_frames = 0
    with atomic_path(path) as tmp:
        with av.open(str(tmp), mode="w", format="mp4") as container:
            # PyAV wants an exact rate: 30.0 -> 30, 29.97 -> 2997/100.
            video_stream = container.add_stream("libx264", rate=Fraction(fps).limit_denominator(1001))
            video_stream.width, video_stream.height = width, height
            video_stream.pix_fmt = "yuv420p"
            video_stream.options = {"crf": str(crf), "preset": "veryfast"}
            # Streams must exist before the first packet is muxed, so add audio up front.
            audio_stream = None
            if audio is not None:
                audio_stream = container.add_stream("aac", rate=AUDIO_RATE)
                audio_stream.layout = "mono"
            for frame_array in itertools.chain([first], iterator):
                frame_array = _pad_even(_check_frames(np.asarray(frame_array)[None]))[0]
                if frame_array.shape[:2] != (height, width):
                    raise ValueError(f"frame {num_frames} has size {frame_array.shape[:2]}, expected {(height, width)}")
                frame = av.VideoFrame.from_ndarray(frame_array, format="rgb24")
                container.mux(video_stream.encode(frame))
                num_frames += 1
            container.mux(video_stream.encode())
            if audio_stream is not None:
                samples, sample_rate = _prepare_audio(audio, num_frames / fps)
                _encode_audio(container, audio_stream, samples, sample_rate)
    return path


def _prepare_audio(audio: tuple[np.ndarray, int], duration_s: float) -> tuple[np.ndarray, int]:
    samples, sample_rate = audio
    samples = np.asarray(samples, dtype=np.float32)
    if samples.ndim == 2:  # (samples, channels): mix down, the renders are mono
        samples = samples.mean(axis=1)
    if samples.ndim != 1 or int(sample_rate) <= 0:
        raise ValueError(f"audio must be (samples, sample_rate) with mono samples, got shape {samples.shape}")
    wanted = int(round(duration_s * sample_rate))
    samples = np.clip(samples[:wanted], -1.0, 1.0)
    if len(samples) < wanted:
        samples = np.pad(samples, (0, wanted - len(samples)))
    return samples, int(sample_rate)


def _encode_audio(container, stream, samples: np.ndarray, sample_rate: int) -> None:
    """Resample to the AAC rate and encode in chunks (AAC frames are 1024 samples)."""
    import av

    resampler = av.AudioResampler(format="fltp", layout="mono", rate=AUDIO_RATE)
    chunk = 4096
    for start in range(0, len(samples), chunk):
        piece = samples[start : start + chunk][None, :]
        frame = av.AudioFrame.from_ndarray(np.ascontiguousarray(piece), format="flt", layout="mono")
        frame.sample_rate = sample_rate
        frame.time_base = Fraction(1, sample_rate)
        frame.pts = start
        for resampled in resampler.resample(frame):
            container.mux(stream.encode(resampled))
    for resampled in resampler.resample(None):
        container.mux(stream.encode(resampled))
    container.mux(stream.encode(None))


def write_gif(path: str | Path, frames: np.ndarray | Iterable[np.ndarray], fps: float = FPS, max_colours: int = 128) -> Path:
    """Write uint8 frames (T, H, W, 3) as a looping animated GIF (Pillow, adaptive palette)."""
    from PIL import Image

    frames = _check_frames(np.stack(list(frames)) if not isinstance(frames, np.ndarray) else frames)
    images = [Image.fromarray(frame).quantize(colors=max_colours, method=Image.Quantize.MEDIANCUT) for frame in frames]
    # GIF delays are in hundredths of a second; 25 fps is exactly 4 of them.
    duration_ms = int(round(1000 / fps))
    with atomic_path(path) as tmp:
        images[0].save(tmp, format="GIF", save_all=True, append_images=images[1:], duration=duration_ms, loop=0, optimize=False)
    return Path(path)


def read_video_frames(path: str | Path, fps: int = FPS, size: tuple[int, int] | None = None, max_frames: int | None = None) -> np.ndarray:
    """Decode a video (or a folder of numbered frames) to uint8 frames (T, H, W, 3) at ``fps``.

    Decoding and the resampling to 25 fps are the feature extractor's
    (:func:`reactdiff.features.video.iter_frames`), so renders show exactly the frames that features
    were computed from; ``size`` = (width, height) centre-crops and resizes each frame as it arrives,
    so a long full-HD clip never sits in memory at full size.
    """
    from PIL import Image

    from reactdiff.features.video import iter_frames, probe_video

    total = probe_video(path).num_frames(fps)
    if max_frames is not None:
        total = min(total, max_frames)
    frames = [np.asarray(_resized(Image.fromarray(rgb), size)) for rgb in iter_frames(path, fps=fps, num_frames=total)]
    return np.stack(frames)


def _resized(image, size: tuple[int, int] | None):
    """Centre-crop to the aspect ratio of ``size`` and resize, so a 16:9 clip is not squashed."""
    from PIL import Image, ImageOps

    return image if size is None else ImageOps.fit(image, size, method=Image.Resampling.BILINEAR)

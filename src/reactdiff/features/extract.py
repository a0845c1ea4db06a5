"""Per-clip feature extraction from a person's own video (and audio): the streams a ReactDiff model
or the REACT data layer reads, at 25 fps.

Video streams (:data:`VIDEO_STREAMS`) come from one pass of MediaPipe's face landmarker over the
clip resampled to 25 fps, plus the fer expression model on the tracked face; audio streams come
from :mod:`reactdiff.features.audio`. ``emotion`` and ``3dmm`` are approximations of the REACT
streams of the same names (see :mod:`reactdiff.features.emotion_map`).

Frames without a detected face: the last tracked face is carried forward for gaps up to
``max_gap_seconds`` (frames before the first face take the first one); past that the face relaxes to
neutral (blendshapes 0, expression Neutral) while the head pose is held. ``face_present`` marks
every frame without a detection with 0. A clip with no face at all is a FeatureError.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Callable

import numpy as np

from reactdiff.constants import FPS, WINDOW_FRAMES
from reactdiff.store import FeatureStore
from reactdiff.errors import ConfigError, FeatureError
from reactdiff.features.face import NUM_BLENDSHAPES
from reactdiff.streams import AUDIO_STREAMS, EXTRACT_STREAMS, VIDEO_STREAMS, StreamInfo

#: What ``reactdiff extract`` computes unless told otherwise: every video stream and ReactDiff's MFCC.
DEFAULT_STREAMS = EXTRACT_STREAMS
#: Rate the audio streams are computed at (ReactDiff's MFCC: 640-sample chunks per 25 fps frame).
AUDIO_SAMPLE_RATE = 16000


@dataclass
class VideoFeatureConfig:
    """Settings of the video streams."""

    #: Longest face-less gap (seconds) over which the last face is carried forward.
    max_gap_seconds: float = 1.0
    #: Frames whose longer side exceeds this are downscaled before tracking (0: never).
    detection_max_side: int = 640
    min_detection_confidence: float = 0.5
    min_tracking_confidence: float = 0.5
    #: Margin around the landmarks' bounding square for the expression model's face crop.
    face_margin: float = 0.1
    #: Model files; empty: $REACTDIFF_FACE_LANDMARKER / $REACTDIFF_EXPRESSION_MODEL, then $REACTDIFF_HOME/models.
    face_landmarker_path: str = ""
    expression_model_path: str = ""
    #: CPU threads of the expression model's TFLite runtime.
    num_threads: int = 2


@dataclass
class ExtractConfig:
    """Settings of ``reactdiff extract``."""

    streams: tuple[str, ...] = DEFAULT_STREAMS
    video: VideoFeatureConfig = field(default_factory=VideoFeatureConfig)
    #: Frame rate of the extracted streams: 25 for REACT 2024 models, 30 for REACT 2025/2026 (MARS)
    #: ones; 0: the video's own rate (rounded) when it has one, else 25 (a frame folder). The
    #: default stays 25 so a clip filmed at 30 fps still feeds a 25 fps model unchanged.
    fps: int = FPS


def split_streams(streams) -> tuple[tuple[str, ...], tuple[str, ...]]:
    """(video streams, audio streams) of a request; unknown names are a ConfigError."""
    streams = tuple(streams)
    if not streams:
        raise ConfigError("no streams requested")
    known_audio = tuple(AUDIO_STREAMS)
    unknown = [name for name in streams if name not in VIDEO_STREAMS and name not in known_audio]
    if unknown:
        raise ConfigError(
            f"unknown stream(s) {', '.join(unknown)}; video streams: {', '.join(VIDEO_STREAMS)}; "
            f"audio streams: {', '.join(known_audio)}"
        )
    return tuple(s for s in streams if s in VIDEO_STREAMS), tuple(s for s in streams if s not in VIDEO_STREAMS)


def fill_gaps(values: np.ndarray, present: np.ndarray, max_gap: int | None, neutral: np.ndarray | None = None) -> np.ndarray:
    """Fill the rows of ``values`` where ``present`` is False.

    Rows before the first present row take the first present row; a row at most ``max_gap`` rows
    after a present row takes that row (None: no limit); rows further into a gap take ``neutral``.
    """
    present = np.asarray(present, dtype=bool)
    if not present.any():
        raise ValueError("fill_gaps needs at least one present row")
    index = np.arange(len(present))
    # Index of the last present row at or before each row (-1 before the first face).
    last = np.maximum.accumulate(np.where(present, index, -1))
    source = np.where(last >= 0, last, np.argmax(present))
    filled = values[source].copy()
    if max_gap is not None and neutral is not None:
        too_far = (last >= 0) & (index - last > max_gap)
        filled[too_far] = neutral
    return filled


@dataclass
class FaceTrack:
    """Per-frame landmarker and expression outputs of one clip (rows without a face are zeros)."""

    present: np.ndarray  # (T,) bool
    blendshapes: np.ndarray  # (T, 52)
    rotation: np.ndarray  # (T, 3)
    translation: np.ndarray  # (T, 3)
    fer_probabilities: np.ndarray | None  # (T, 7) or None when not needed


def track_face(
    video_path: str | Path,
    num_frames: int,
    config: VideoFeatureConfig,
    with_expression: bool = True,
    progress: Callable[[int], None] | None = None,
    fps: int = FPS,
) -> FaceTrack:
    """Run the face landmarker (and the expression model) over the clip at ``fps``."""
    from reactdiff.features.expression import FER_CLASSES, ExpressionModel, crop_face
    from reactdiff.features.face import FaceTracker
    from reactdiff.features.video import iter_frames

    present = np.zeros(num_frames, dtype=bool)
    blendshapes = np.zeros((num_frames, NUM_BLENDSHAPES), dtype=np.float32)
    rotation = np.zeros((num_frames, 3), dtype=np.float32)
    translation = np.zeros((num_frames, 3), dtype=np.float32)
    crops: list[np.ndarray] = []
    # Load the expression model before decoding, so a missing file fails before minutes of work.
    expression_model = (
        ExpressionModel(config.expression_model_path or None, num_threads=config.num_threads) if with_expression else None
    )
    with FaceTracker(
        config.face_landmarker_path or None, config.min_detection_confidence, config.min_tracking_confidence
    ) as tracker:
        frames = iter_frames(video_path, fps, max_side=config.detection_max_side, num_frames=num_frames)
        for index, rgb in enumerate(frames):
            # VIDEO mode wants increasing timestamps in ms: the output frame's time.
            face = tracker.track(rgb, index * 1000 // fps)
            if face is not None:
                present[index] = True
                blendshapes[index], rotation[index], translation[index] = face.blendshapes, face.rotation, face.translation
                if with_expression:
                    crops.append(crop_face(rgb, face.landmarks, config.face_margin))
            if progress is not None:
                progress(1)
    fer_probabilities = None
    if expression_model is not None:
        fer_probabilities = np.zeros((num_frames, len(FER_CLASSES)), dtype=np.float32)
        if crops:
            # One batched pass over every tracked face is far cheaper than one call per frame.
            fer_probabilities[present] = expression_model.predict(np.stack(crops))
    return FaceTrack(present, blendshapes, rotation, translation, fer_probabilities)


def compute_video_streams(
    video_path: str | Path,
    num_frames: int,
    streams=tuple(VIDEO_STREAMS),
    config: VideoFeatureConfig | None = None,
    progress: Callable[[int], None] | None = None,
    fps: int = FPS,
) -> dict[str, np.ndarray]:
    """The requested video streams of one clip as ``(num_frames, dim)`` float32 arrays at ``fps``.

    Used by ``reactdiff extract`` and by ``reactdiff prepare`` (with the dataset's frames and rate).
    """
    from reactdiff.features import emotion_map
    from reactdiff.features.expression import FER_CLASSES

    config = config or VideoFeatureConfig()
    unknown = [name for name in streams if name not in VIDEO_STREAMS]
    if unknown:
        raise ConfigError(f"unknown video stream(s) {', '.join(unknown)}; choose from {', '.join(VIDEO_STREAMS)}")
    track = track_face(video_path, num_frames, config, with_expression="emotion" in streams, progress=progress, fps=fps)
    if not track.present.any():
        raise FeatureError(video_path, f"no face detected in any of its {num_frames} frames")

    max_gap = int(round(config.max_gap_seconds * fps))
    # Past a long gap the face relaxes to neutral; the head pose (neutral=None) is held.
    blendshapes = fill_gaps(track.blendshapes, track.present, max_gap, np.zeros(NUM_BLENDSHAPES, np.float32))
    rotation = fill_gaps(track.rotation, track.present, None)
    translation = fill_gaps(track.translation, track.present, None)
    result = {}
    if "blendshapes" in streams:
        result["blendshapes"] = blendshapes
    if "head_pose" in streams:
        result["head_pose"] = np.concatenate([rotation, translation], axis=1)
    if "face_present" in streams:
        result["face_present"] = track.present.astype(np.float32)[:, None]
    if "emotion" in streams:
        neutral = np.eye(len(FER_CLASSES), dtype=np.float32)[FER_CLASSES.index("neutral")]
        fer_probabilities = fill_gaps(track.fer_probabilities, track.present, max_gap, neutral)
        result["emotion"] = emotion_map.emotion_vector(blendshapes, fer_probabilities)
    if "3dmm" in streams:
        result["3dmm"] = emotion_map.coeffs_3dmm(blendshapes, rotation, translation)
    return {name: np.ascontiguousarray(result[name], dtype=np.float32) for name in streams}


def clip_fps(video_path: str | Path, fps: int = 0) -> int:
    """The frame rate to extract at: ``fps`` when positive; for 0 the video's own rate rounded (25
    for a frame folder or a file that reports none)."""
    from reactdiff.features.video import probe_video

    if fps < 0:
        raise ConfigError(f"fps: {fps} must be positive (or 0 for the video's own rate)")
    if fps:
        return fps
    own = probe_video(video_path).source_fps
    return int(round(own)) if own and own > 0 else FPS


def clip_frames(video_path: str | Path, fps: int = FPS) -> int:
    """Frames of the clip at ``fps``; a clip shorter than one 50-frame window is a FeatureError."""
    from reactdiff.features.video import probe_video

    info = probe_video(video_path)
    num_frames = info.num_frames(fps)
    if num_frames < WINDOW_FRAMES:
        raise FeatureError(
            video_path,
            f"clip is {info.duration:.2f} s ({num_frames} frames at {fps} fps), shorter than one {WINDOW_FRAMES}-frame window",
        )
    return num_frames


def extract(
    video_path: str | Path,
    audio_path: str | Path | None = None,
    streams=DEFAULT_STREAMS,
    config: VideoFeatureConfig | None = None,
    progress: Callable[[int], None] | None = None,
    fps: int = FPS,
) -> dict[str, np.ndarray]:
    """Feature streams of one clip: name -> ``(frames, dim)`` float32 at ``fps``.

    ``audio_path`` None takes the video's own audio track (needed only for audio streams).
    """
    from reactdiff.features.video import probe_video

    video_path = Path(video_path)
    video, audio = split_streams(streams)
    num_frames = clip_frames(video_path, fps)
    if audio:
        if audio_path is None and not probe_video(video_path).has_audio:
            raise FeatureError(video_path, f"no audio track for audio stream(s) {', '.join(audio)}; pass --audio FILE")
    result = {}
    if audio:  # cheap, and a silent track should fail before the landmarker pass
        from reactdiff.features.audio import compute_audio_streams, load_audio

        samples, sample_rate = load_audio(audio_path or video_path, AUDIO_SAMPLE_RATE, check_silence=True)
        result.update(compute_audio_streams(samples, sample_rate, num_frames, audio, fps=fps))
    if video:
        result.update(compute_video_streams(video_path, num_frames, video, config, progress, fps=fps))
    return {name: result[name] for name in streams}


def stream_infos(streams) -> dict[str, StreamInfo]:
    """StreamInfo of each requested stream, for registering in a FeatureStore."""
    video, audio = split_streams(streams)
    infos = {name: VIDEO_STREAMS[name] for name in video}
    infos.update({name: AUDIO_STREAMS[name] for name in audio})
    return {name: infos[name] for name in streams}


def extract_to_store(
    video_path: str | Path,
    store_dir: str | Path,
    key: str | None = None,
    audio_path: str | Path | None = None,
    config: ExtractConfig | None = None,
    progress: Callable[[int], None] | None = None,
) -> tuple[str, bool]:
    """Extract one clip into the FeatureStore at ``store_dir`` under ``key`` (default: file stem).

    Returns ``(key, computed)``; ``computed`` is False when every stream is stored and was computed
    from these very inputs (same files, unchanged, same settings), so a re-run resumes where it
    stopped. A key that holds another clip's features (``a/clip.mp4`` stored, then ``b/clip.mp4``
    asked for) is a ConfigError: answering "up to date" would hand back the wrong clip, and
    overwriting would lose the first one.
    """
    import dataclasses
    import json

    from reactdiff.store import sources_signature

    config = config or ExtractConfig()
    video_path = Path(video_path)
    key = key or video_path.stem
    store = FeatureStore(store_dir)
    infos = stream_infos(config.streams)
    missing = [p for p in (video_path, audio_path) if p is not None and not Path(p).exists()]
    if missing:
        raise FeatureError(missing[0], "file not found")
    origin = str(video_path.resolve())
    for name in config.streams:
        stored_origin = store.origin(name, key)
        if store.has(name, key) and stored_origin not in (None, origin):
            raise ConfigError(
                f"{store.path(name, key)} holds the features of {stored_origin}, not {video_path}; "
                f"give this clip another --key, or delete key '{key}' from {store.directory} to replace it"
            )
    settings = json.dumps(dataclasses.asdict(config.video), sort_keys=True)
    fps = clip_fps(video_path, config.fps)
    # 25 fps stays out of the signature: stores extracted before the setting existed stay current.
    sources = sources_signature(video_path, audio_path, video_settings=settings, **({"fps": fps} if fps != FPS else {}))
    if all(store.is_current(name, key, sources) for name in config.streams):
        return key, False
    features = extract(video_path, audio_path, config.streams, config.video, progress, fps=fps)
    for info in infos.values():
        store.register(info)
    for name, array in features.items():
        store.write(name, key, array, sources, origin=origin)
    store.write_clip_info(key, fps, next(iter(features.values())).shape[0])
    return key, True

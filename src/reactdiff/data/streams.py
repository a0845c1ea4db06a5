"""Which feature streams ``reactdiff prepare`` can compute for a REACT-layout dataset, and from what.

Stream names are shared across the package: ``emotion`` (25) and ``3dmm`` (58) come from the
dataset's own files; audio streams (``mfcc``, ``mfcc78``, ``voice``, ``prosody``) from the clip's WAV
through :mod:`reactdiff.features.audio`; video streams (``blendshapes``, ``head_pose``,
``face_present``) from the clip's video through :mod:`reactdiff.features.extract`.
"""

from __future__ import annotations

from dataclasses import dataclass

from reactdiff.constants import COEFFS_3DMM_DIM, EMOTION_DIM
from reactdiff.data.store import StreamInfo

#: Streams every prepared dataset has by default: the REACT targets and ReactDiff's MFCC.
DEFAULT_STREAMS = ("emotion", "3dmm", "mfcc")

DATASET_STREAMS = {
    "emotion": StreamInfo(
        "emotion", EMOTION_DIM, kind="visual", source="Emotion CSV",
        description="15 AU occurrences, valence, arousal, 8 expression probabilities",
    ),
    "3dmm": StreamInfo(
        "3dmm", COEFFS_3DMM_DIM, kind="visual", source="3D_FV_files minus mean face",
        description="FaceVerse v2: 52 expression, 3 rotation, 3 translation coefficients",
    ),
}


@dataclass(frozen=True)
class StreamPlan:
    """The streams to compute, grouped by the input they are computed from."""

    dataset: tuple[str, ...]
    audio: tuple[str, ...]
    video: tuple[str, ...]

    @property
    def all(self) -> tuple[str, ...]:
        return self.dataset + self.audio + self.video


def audio_stream_infos() -> dict[str, StreamInfo]:
    from reactdiff.features.audio import AUDIO_STREAMS

    return {name: StreamInfo(name, dim, kind="audio", source="audio") for name, (dim, _fn) in AUDIO_STREAMS.items()}


def video_stream_infos() -> dict[str, StreamInfo]:
    """Video streams that can be added to a REACT dataset (the dataset's own emotion and 3DMM
    files take precedence over their video approximations)."""
    from reactdiff.features.extract import VIDEO_STREAMS

    return {
        name: info if isinstance(info, StreamInfo) else StreamInfo(name, int(info), kind="visual", source="video")
        for name, info in VIDEO_STREAMS.items()
        if name not in DATASET_STREAMS
    }


def plan_streams(names: tuple[str, ...] | list[str]) -> tuple[StreamPlan, dict[str, StreamInfo]]:
    """Split requested stream names by input; unknown names are an error listing the valid ones."""
    from reactdiff.errors import ConfigError

    infos: dict[str, StreamInfo] = dict(DATASET_STREAMS)
    dataset, audio, video = [], [], []
    audio_infos = video_infos = None
    for name in names:
        if name in DATASET_STREAMS:
            dataset.append(name)
            continue
        audio_infos = audio_infos if audio_infos is not None else audio_stream_infos()
        if name in audio_infos:
            audio.append(name)
            infos[name] = audio_infos[name]
            continue
        try:
            video_infos = video_infos if video_infos is not None else video_stream_infos()
        except ImportError as exc:
            raise ConfigError(f"stream '{name}' is not a dataset or audio stream, and video streams are unavailable ({exc})") from exc
        if name in video_infos:
            video.append(name)
            infos[name] = video_infos[name]
            continue
        valid = list(DATASET_STREAMS) + list(audio_infos) + list(video_infos)
        raise ConfigError(f"unknown stream '{name}'; valid streams: {', '.join(valid)}")
    plan = StreamPlan(tuple(dataset), tuple(audio), tuple(video))
    return plan, {name: infos[name] for name in plan.all}

"""``reactdiff prepare``: compute every per-clip feature stream of a dataset once into the store.

Decoding audio/video and computing MFCCs happens here, never in a Dataset's ``__getitem__``. Work is
skipped for stream files whose recorded input signature (see :mod:`reactdiff.store`) matches
their sources now, and every file is written atomically, so an interrupted run resumes where it
stopped and never leaves a half-written file. Bad input (NaN, a truncated or short WAV, a path
leaving the dataset) stops the run with a DataError naming the file before anything of it is stored.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

from reactdiff.constants import SPLITS
from reactdiff.data.layout import ReactLayout
from reactdiff.data.streams import plan_streams
from reactdiff.data.wav import wav_problems
from reactdiff.errors import DataError
from reactdiff.store import FeatureStore, sources_signature
from reactdiff.streams import PREPARE_STREAMS


@dataclass
class PrepareConfig:
    """Settings of ``reactdiff prepare``."""

    streams: tuple[str, ...] = PREPARE_STREAMS
    splits: tuple[str, ...] = SPLITS
    #: Store folder; empty means ``<root>/features``.
    store: str = ""
    #: Mean face to subtract from 3DMM coefficients; empty means ``<root>/mean_face.npy``.
    mean_face: str = ""
    #: Audio is resampled to this rate before feature extraction (the reference MFCCs use 16 kHz).
    audio_sample_rate: int = 16000


@dataclass
class PrepareSummary:
    computed: int = 0
    skipped: int = 0
    splits: list[str] = field(default_factory=list)


def store_for(root: str | Path, config: PrepareConfig | None = None) -> FeatureStore:
    """The feature store of a dataset root (``<root>/features`` unless configured)."""
    if config is not None and config.store:
        return FeatureStore(config.store)
    return FeatureStore(Path(root) / "features")


def prepare(root: str | Path, config: PrepareConfig = PrepareConfig(), progress: bool = True) -> PrepareSummary:
    """Fill the store of ``root`` with ``config.streams`` for every clip of ``config.splits``."""
    from tqdm import tqdm

    layout = ReactLayout(root, mean_face=config.mean_face or None)
    store = store_for(root, config)
    plan, infos = plan_streams(config.streams)
    splits = [split for split in config.splits if layout.split_csv(split).is_file()]
    if not splits:
        wanted = ", ".join(f"{split}.csv" for split in config.splits)
        raise DataError(layout.root, f"no split list found (looked for {wanted}); nothing to prepare")
    jobs = [(split, clip) for split in splits for clip in layout.clips(split)]
    for info in infos.values():
        store.register(info)

    summary = PrepareSummary(splits=splits)
    for split, clip in tqdm(jobs, desc="prepare", unit="clip", disable=not progress):
        computed = _prepare_clip(layout, store, plan, split, clip, config)
        summary.computed += computed
        summary.skipped += len(plan.all) - computed
    return summary


def _signature(*paths: Path | None, **settings) -> str | None:
    """The inputs' signature, or None when one is missing (its loader then names it)."""
    if any(path is None or not path.exists() for path in paths):
        return None
    return sources_signature(*paths, **settings)


def dataset_stream_sources(layout: ReactLayout, split: str, clip: str, stream: str) -> str | None:
    """The input signature of a clip's ``emotion`` or ``3dmm`` stream, as ``prepare`` records it
    (None when an input is missing). The mean face is an input of ``3dmm``: a new mean face
    invalidates the normalised coefficients."""
    if stream == "emotion":
        return _signature(layout.emotion_path(split, clip))
    if stream == "3dmm":
        return _signature(layout.coeffs_path(split, clip), layout.mean_face_path)
    raise ValueError(f"{stream!r} is not a dataset stream")


def prepared_layout(root: str | Path, store: FeatureStore) -> ReactLayout:
    """The dataset as ``store`` was prepared from it: with the mean face its ``prepare_config.json``
    names, when that file still exists (else the default ``<root>/mean_face.npy``)."""
    from reactdiff.io import load_json

    mean_face = None
    path = store.directory / "prepare_config.json"
    if path.is_file():
        try:
            mean_face = load_json(path).get("mean_face")
        except (DataError, AttributeError):
            mean_face = None
    usable = isinstance(mean_face, str) and mean_face and Path(mean_face).is_file()
    return ReactLayout(root, mean_face=mean_face if usable else None)


def store_agrees(store: FeatureStore, layout: ReactLayout, split: str, clip: str, stream: str) -> bool | None:
    """Whether a clip's stored ``emotion``/``3dmm`` was computed from the dataset files as they are
    now; None when the store cannot tell (no record: written by hand or by an older reactdiff)."""
    key = f"{split}/{clip}"
    if not store.has(stream, key) or not store.is_recorded(stream, key):
        return None
    sources = dataset_stream_sources(layout, split, clip, stream)
    return sources is not None and store.is_current(stream, key, sources)


def _prepare_clip(layout: ReactLayout, store: FeatureStore, plan, split: str, clip: str, config: PrepareConfig) -> int:
    """Compute the out-of-date streams of one clip; return how many were written."""
    key = f"{split}/{clip}"
    emotion_source = layout.emotion_path(split, clip)
    written = 0

    def stale(name: str, sources: str | None) -> bool:
        return sources is None or not store.is_current(name, key, sources)

    loaders = {"emotion": layout.load_emotion, "3dmm": layout.load_3dmm}
    for name in plan.dataset:
        sources = dataset_stream_sources(layout, split, clip, name)
        if stale(name, sources):
            store.write(name, key, loaders[name](split, clip), sources)
            written += 1
    if plan.audio:
        # Audio streams have as many frames as the Emotion CSV, so it is one of their inputs.
        source = layout.audio_path(split, clip)
        sources = _signature(source, emotion_source, sample_rate=config.audio_sample_rate)
        todo = [name for name in plan.audio if stale(name, sources)]
        if todo:
            from reactdiff.features.audio import AUDIO_FUNCTIONS

            num_frames = _num_frames(layout, split, clip)
            samples, sample_rate = _load_clip_audio(source, num_frames, config.audio_sample_rate)
            for name in todo:
                compute = AUDIO_FUNCTIONS[name]
                store.write(name, key, compute(samples, sample_rate, num_frames), sources)
                written += 1
    if plan.video:
        source = layout.video_path(split, clip)
        if source is None:
            raise DataError(layout.root / split / "Video_files" / clip, "video not found (.mp4 or PNG-frame folder) for video streams")
        sources = _signature(source, emotion_source)
        todo = [name for name in plan.video if stale(name, sources)]
        if todo:
            from reactdiff.features.extract import compute_video_streams

            num_frames = _num_frames(layout, split, clip)
            for name, values in compute_video_streams(source, num_frames, tuple(todo)).items():
                store.write(name, key, values, sources)
                written += 1
    return written


def _load_clip_audio(path: Path, num_frames: int, sample_rate: int):
    """The clip's audio, refused (as ``data check`` reports it) when unreadable, truncated, much
    shorter than the clip, or not finite."""
    from reactdiff.features.audio import load_audio

    if not path.is_file():
        raise DataError(path, "audio WAV not found")
    problems = wav_problems(path, num_frames)
    if problems:
        raise DataError(path, "; ".join(problems))
    return load_audio(path, sample_rate=sample_rate)


def _num_frames(layout: ReactLayout, split: str, clip: str) -> int:
    """Frames of a clip: as many as its Emotion CSV has (751 in the release)."""
    return int(layout.load_emotion(split, clip).shape[0])

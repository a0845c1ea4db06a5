"""``reactdiff prepare``: compute every per-clip feature stream of a dataset once into the store.

Decoding audio/video and computing MFCCs happens here, never in a Dataset's ``__getitem__``. Work is
skipped for stream files that are newer than their sources, and every file is written atomically,
so an interrupted run resumes where it stopped and never leaves a half-written file.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

from reactdiff.constants import SPLITS
from reactdiff.data.layout import ReactLayout
from reactdiff.store import FeatureStore
from reactdiff.data.streams import plan_streams
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


def _mtime(path: Path) -> float:
    return path.stat().st_mtime


def prepare(root: str | Path, config: PrepareConfig = PrepareConfig(), progress: bool = True) -> PrepareSummary:
    """Fill the store of ``root`` with ``config.streams`` for every clip of ``config.splits``."""
    from tqdm import tqdm

    layout = ReactLayout(root, mean_face=config.mean_face or None)
    store = store_for(root, config)
    plan, infos = plan_streams(config.streams)
    for info in infos.values():
        store.register(info)

    summary = PrepareSummary()
    splits = [split for split in config.splits if layout.split_csv(split).is_file()]
    jobs = [(split, clip) for split in splits for clip in layout.clips(split)]
    summary.splits = splits
    for split, clip in tqdm(jobs, desc="prepare", unit="clip", disable=not progress):
        key = f"{split}/{clip}"
        computed = _prepare_clip(layout, store, plan, split, clip, key, config)
        summary.computed += computed
        summary.skipped += len(plan.all) - computed
    return summary


def _prepare_clip(layout, store, plan, split, clip, key, config) -> int:
    """Compute the out-of-date streams of one clip; return how many were written."""
    written = 0
    if "emotion" in plan.dataset:
        source = layout.emotion_path(split, clip)
        if not (source.is_file() and store.has("emotion", key, _mtime(source))):
            store.write("emotion", key, layout.load_emotion(split, clip))
            written += 1
    if "3dmm" in plan.dataset:
        source = layout.coeffs_path(split, clip)
        # The mean face is an input too: a new mean face invalidates the normalised coefficients.
        newest = max(_mtime(source), _mtime(layout.mean_face_path)) if source.is_file() and layout.mean_face_path.is_file() else None
        if newest is None or not store.has("3dmm", key, newest):
            store.write("3dmm", key, layout.load_3dmm(split, clip))
            written += 1
    num_frames = None
    if plan.audio:
        source = layout.audio_path(split, clip)
        todo = [name for name in plan.audio if not (source.is_file() and store.has(name, key, _mtime(source)))]
        if todo:
            from reactdiff.features.audio import AUDIO_FUNCTIONS, load_audio

            num_frames = _num_frames(layout, split, clip)
            samples, sample_rate = load_audio(source, sample_rate=config.audio_sample_rate)
            for name in todo:
                compute = AUDIO_FUNCTIONS[name]
                store.write(name, key, compute(samples, sample_rate, num_frames))
                written += 1
    if plan.video:
        source = layout.video_path(split, clip)
        from reactdiff.errors import DataError

        if source is None:
            raise DataError(layout.root / split / "Video_files" / clip, "video not found (.mp4 or PNG-frame folder) for video streams")
        todo = [name for name in plan.video if not store.has(name, key, _mtime(source))]
        if todo:
            from reactdiff.features.extract import compute_video_streams

            num_frames = num_frames or _num_frames(layout, split, clip)
            for name, values in compute_video_streams(source, num_frames, tuple(todo)).items():
                store.write(name, key, values)
                written += 1
    return written


def _num_frames(layout: ReactLayout, split: str, clip: str) -> int:
    """Frames of a clip: as many as its Emotion CSV has (751 in the release)."""
    return int(layout.load_emotion(split, clip).shape[0])

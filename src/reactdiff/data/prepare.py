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

from reactdiff.constants import FPS, SPLITS
from reactdiff.data.streams import StreamPlan, plan_streams
from reactdiff.data.wav import wav_problems
from reactdiff.errors import ConfigError, DataError
from reactdiff.parallel import check_workers, parse_shard, run_jobs, shard_jobs
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
    #: Dataset layout: auto (detected), react2024 (split CSVs, 25 fps) or react2025 (MARS, 30 fps).
    layout: str = "auto"
    #: Processes computing clips in parallel (1: in this process).
    workers: int = 1
    #: "I/N": only the clips whose position in the sorted job list is I mod N (empty: all). Shards
    #: write disjoint per-clip files, so N runs into one store add up to one unsharded run.
    shard: str = ""


@dataclass
class PrepareSummary:
    computed: int = 0
    skipped: int = 0
    splits: list[str] = field(default_factory=list)
    #: The layout read (react2024 or react2025), as detected when the setting is auto.
    layout: str = ""
    #: Clips whose optional stream was filled in or left out (e.g. "eeg: file missing, zeros with mask 0").
    notes: dict[str, int] = field(default_factory=dict)


def store_for(root: str | Path, config: PrepareConfig | None = None) -> FeatureStore:
    """The feature store of a dataset root (``<root>/features`` unless configured)."""
    if config is not None and config.store:
        return FeatureStore(config.store)
    return FeatureStore(Path(root) / "features")


def _check_config(config: PrepareConfig, layout, plan: StreamPlan) -> None:
    check_workers(config.workers)
    parse_shard(config.shard)
    if plan.extras and layout.name != "react2025":
        raise ConfigError(f"stream(s) {', '.join(plan.extras)} exist in REACT 2026 (MARS) data only; {layout.root} is {layout.name}")
    # Kaldi windows per frame fix the width of the delta MFCCs: 2 at 25 fps, 1 at 30 fps.
    wrong = {"mfcc78": "mfcc39"} if layout.fps != FPS else {"mfcc39": "mfcc78"}
    for name, instead in wrong.items():
        if name in plan.audio:
            raise ConfigError(f"stream {name} does not exist at {layout.fps} fps ({layout.name}); use {instead}")


def prepare(root: str | Path, config: PrepareConfig = PrepareConfig(), progress: bool = True) -> PrepareSummary:
    """Fill the store of ``root`` with ``config.streams`` for every clip of ``config.splits``."""
    from tqdm import tqdm

    from reactdiff.data.layouts import open_layout

    layout = open_layout(root, config.layout, mean_face=config.mean_face or None)
    store = store_for(root, config)
    plan, infos = plan_streams(config.streams)
    _check_config(config, layout, plan)
    splits = [split for split in config.splits if layout.has_split(split)]
    if not splits:
        wanted = ", ".join(f"{split}.csv" if layout.name == "react2024" else f"{split}/facial-attributes" for split in config.splits)
        raise DataError(layout.root, f"no split found (looked for {wanted}); nothing to prepare")
    jobs = [(split, clip) for split in splits for clip in layout.clips(split)]
    jobs = shard_jobs(jobs, config.shard)
    for info in infos.values():
        store.register(info)
    if layout.name == "react2025":
        _write_appropriate_sets(layout, store, splits)

    summary = PrepareSummary(splits=splits, layout=layout.name)

    def done(result: tuple[int, list[str]]) -> None:
        computed, notes = result
        summary.computed += computed
        summary.skipped += len(plan.all) - computed
        for note in notes:
            summary.notes[note] = summary.notes.get(note, 0) + 1
        bar.update(1)

    with tqdm(total=len(jobs), desc="prepare", unit="clip", disable=not progress) as bar:
        if config.workers == 1:
            run_jobs(lambda split, clip: _prepare_clip(layout, store, plan, split, clip, config), jobs, 1, done)
        else:
            run_jobs(_prepare_job, [(str(root), config, layout.name, split, clip) for split, clip in jobs], config.workers, done)
    return summary


#: Per worker process: the layout, store and plan of the run (built once, reused for every clip).
_WORKER_STATE: dict = {}


def _prepare_job(root: str, config: PrepareConfig, layout_name: str, split: str, clip: str) -> tuple[int, list[str]]:
    from reactdiff.data.layouts import open_layout

    state_key = (root, layout_name, config.mean_face, config.store, tuple(config.streams))
    if state_key not in _WORKER_STATE:
        _WORKER_STATE.clear()
        layout = open_layout(root, layout_name, mean_face=config.mean_face or None)
        _WORKER_STATE[state_key] = (layout, store_for(root, config), plan_streams(config.streams)[0])
    layout, store, plan = _WORKER_STATE[state_key]
    return _prepare_clip(layout, store, plan, split, clip, config)


def _write_appropriate_sets(layout, store: FeatureStore, splits) -> None:
    """``<store>/appropriate_<split>.json``: the recorded ground-truth sets every run scores against."""
    from reactdiff.data.mars import APPROPRIATE_SEED, save_appropriate_sets

    for split in splits:
        items = layout.eval_order(split)
        if items:
            save_appropriate_sets(
                store.directory / f"appropriate_{split}.json", layout.appropriate_sets(split, APPROPRIATE_SEED), APPROPRIATE_SEED, items
            )


def _signature(*paths: Path | None, **settings) -> str | None:
    """The inputs' signature, or None when one is missing (its loader then names it)."""
    if any(path is None or not path.exists() for path in paths):
        return None
    return sources_signature(*paths, **settings)


def dataset_stream_sources(layout, split: str, clip: str, stream: str) -> str | None:
    """The input signature of a clip's ``emotion`` or ``3dmm`` stream, as ``prepare`` records it
    (None when an input is missing). The mean face is an input of ``3dmm``: a new mean face
    invalidates the normalised coefficients."""
    lengths = layout.length_sources(split, clip)
    if stream == "emotion":
        return _signature(layout.emotion_path(split, clip), *lengths)
    if stream == "3dmm":
        return _signature(layout.coeffs_path(split, clip), layout.mean_face_path, *lengths)
    raise ValueError(f"{stream!r} is not a dataset stream")


def prepared_layout(root: str | Path, store: FeatureStore):
    """The dataset as ``store`` was prepared from it: with the layout and mean face its
    ``prepare_config.json`` names, when that file still exists (else detected, and the default
    ``<root>/mean_face.npy``)."""
    from reactdiff.data.layouts import LAYOUTS, open_layout
    from reactdiff.io import load_json

    mean_face, layout = None, "auto"
    path = store.directory / "prepare_config.json"
    if path.is_file():
        try:
            recorded = load_json(path)
            mean_face, layout = recorded.get("mean_face"), recorded.get("layout", "auto")
        except (DataError, AttributeError):
            mean_face = None
    usable = isinstance(mean_face, str) and mean_face and Path(mean_face).is_file()
    return open_layout(root, layout if layout in LAYOUTS else "auto", mean_face=mean_face if usable else None)


def store_agrees(store: FeatureStore, layout, split: str, clip: str, stream: str) -> bool | None:
    """Whether a clip's stored ``emotion``/``3dmm`` was computed from the dataset files as they are
    now; None when the store cannot tell (no record: written by hand or by an older reactdiff)."""
    key = f"{split}/{clip}"
    if not store.has(stream, key) or not store.is_recorded(stream, key):
        return None
    sources = dataset_stream_sources(layout, split, clip, stream)
    return sources is not None and store.is_current(stream, key, sources)


def _prepare_clip(layout, store: FeatureStore, plan: StreamPlan, split: str, clip: str, config: PrepareConfig) -> tuple[int, list[str]]:
    """Compute the out-of-date streams of one clip; return how many were written and the notes
    (optional streams filled in or left out) recorded in its clip info."""
    key = f"{split}/{clip}"
    emotion_source = layout.emotion_path(split, clip)
    lengths = layout.length_sources(split, clip)
    mars = layout.name == "react2025"
    written = 0
    frames_known: list[int] = []
    notes: dict[str, str] = {}

    def num_frames() -> int:
        # MARS: the dyad's shortest file; REACT 2024: the Emotion CSV's frames (751 in the release).
        if not frames_known:
            frames_known.append(layout.clip_frames(split, clip))
        return frames_known[0]

    def stale(name: str, sources: str | None) -> bool:
        return sources is None or not store.is_current(name, key, sources)

    loaders = {"emotion": layout.load_emotion, "3dmm": layout.load_3dmm}
    for name in plan.dataset:
        sources = dataset_stream_sources(layout, split, clip, name)
        if stale(name, sources):
            values = loaders[name](split, clip)
            store.write(name, key, values[: num_frames()] if mars else values, sources)
            written += 1
    # The frame rate is an input of the audio streams; 25 fps is left out of the signature so
    # stores prepared before the setting existed stay up to date.
    rate = {"fps": layout.fps} if layout.fps != FPS else {}
    if plan.audio:
        # Audio streams have as many frames as the clip, so the files setting that are inputs.
        source = layout.audio_path(split, clip)
        sources = _signature(source, emotion_source, *lengths, sample_rate=config.audio_sample_rate, **rate)
        todo = [name for name in plan.audio if stale(name, sources)]
        if todo:
            from reactdiff.features.audio import AUDIO_FUNCTIONS

            samples, sample_rate = _load_clip_audio(source, num_frames(), config.audio_sample_rate, layout.fps)
            for name in todo:
                compute = AUDIO_FUNCTIONS[name]
                store.write(name, key, compute(samples, sample_rate, num_frames(), fps=layout.fps), sources)
                written += 1
    if plan.video:
        source = layout.video_path(split, clip)
        if source is None:
            raise DataError(layout.root / split, f"video of clip {clip} not found (.mp4 or PNG-frame folder) for video streams")
        sources = _signature(source, emotion_source, *lengths, **rate)
        todo = [name for name in plan.video if stale(name, sources)]
        if todo:
            from reactdiff.features.extract import compute_video_streams

            for name, values in compute_video_streams(source, num_frames(), tuple(todo), fps=layout.fps).items():
                store.write(name, key, values, sources)
                written += 1
    if plan.extras:
        written += _prepare_extras(layout, store, plan, split, clip, lengths, num_frames, notes)
    if written or store.clip_info(key) is None or notes:
        store.write_clip_info(key, layout.fps, num_frames(), **notes)
    return written, [f"{name}: {note}" for name, note in notes.items()]


def _prepare_extras(layout, store: FeatureStore, plan: StreamPlan, split: str, clip: str, lengths, num_frames, notes: dict) -> int:
    """The REACT 2026 side streams of one clip (EEG, personality); see reactdiff.data.mars_extras."""
    key, written = f"{split}/{clip}", 0
    eeg_streams = [name for name in plan.extras if name in ("eeg", "eeg_mask")]
    if eeg_streams:
        source = layout.eeg_source(split, clip)  # the clip's CSV, the split's archive, or None
        # A missing file is an input too ("-"): the streams are recomputed when it appears.
        sources = sources_signature(*lengths, source)
        if any(not store.is_current(name, key, sources) for name in eeg_streams):
            values, mask, found = layout.load_eeg(split, clip, num_frames())
            for name, array in (("eeg", values), ("eeg_mask", mask)):
                if name in eeg_streams:
                    store.write(name, key, array, sources)
                    written += 1
        else:  # up to date: what was recorded when the streams were computed still holds
            found = "eeg" not in (store.clip_info(key) or {})
        if not found:
            notes["eeg"] = "file missing: zeros with mask 0 (as the 2026 loader)"
    if "personality" in plan.extras:
        role = clip.split("/")[0]
        path = layout.personality_path(split, role)
        if not path.is_file() and role == "speaker":
            notes["personality"] = "no speaker table: not stored"  # speaker.csv is optional in 2026
            return written
        sources = sources_signature(path) if path.is_file() else None
        if sources is None or not store.is_current("personality", key, sources):
            vector = layout.personality(split, clip)  # a missing or malformed table is a DataError
            if vector is None:
                notes["personality"] = "no row: not stored (the 2026 loader drops such items)"
                return written
            store.write("personality", key, vector, sources)
            written += 1
    return written


def _load_clip_audio(path: Path, num_frames: int, sample_rate: int, fps: int = FPS):
    """The clip's audio, refused (as ``data check`` reports it) when unreadable, truncated, much
    shorter than the clip, or not finite."""
    from reactdiff.features.audio import load_audio

    if not path.is_file():
        raise DataError(path, "audio WAV not found")
    problems = wav_problems(path, num_frames, fps)
    if problems:
        raise DataError(path, "; ".join(problems))
    return load_audio(path, sample_rate=sample_rate)

"""Write a synthetic dataset in the REACT 2024 layout, pair by pair (streaming, so memory stays
flat whatever the preset), every file atomically; a re-run skips pairs whose files all exist."""

from __future__ import annotations

from pathlib import Path

import numpy as np

from reactdiff.config import from_dict, save_config, to_dict
from reactdiff.constants import CLIP_FRAMES_STORED, EMOTION_COLUMNS, FPS, SPLITS
from reactdiff.errors import ConfigError
from reactdiff.io import atomic_path, load_json, save_json, save_npy, save_text
from reactdiff.synth.behaviour import PROTOTYPES, REACTION_MODES
from reactdiff.synth.face import mean_face
from reactdiff.synth.generate import ClipData, generate_pair
from reactdiff.synth.plan import PairPlan, build_plan, emotion_path, neighbour_matrix
from reactdiff.synth.settings import SynthConfig

CONFIG_NAME = "synth_config.json"
#: Hidden generating labels per pair (for benchmarks and tests; models must not read them).
LABELS_NAME = "synth_labels.json"


def clip_files(root: Path, split: str, clip: str, video: bool) -> dict[str, Path]:
    """The files of one clip: emotion CSV, 3DMM npy, audio wav (and mp4 with ``video``)."""
    files = {
        "emotion": root / split / "Emotion" / f"{emotion_path(clip)}.csv",
        "3dmm": root / split / "3D_FV_files" / f"{clip}.npy",
        "audio": root / split / "Audio_files" / f"{clip}.wav",
    }
    if video:
        files["video"] = root / split / "Video_files" / f"{clip}.mp4"
    return files


def _emotion_csv(emotion: np.ndarray) -> str:
    # %.9g round-trips float32 exactly, so the CSV holds exactly the generated values.
    header = ",".join(EMOTION_COLUMNS)
    rows = "\n".join(",".join(f"{value:.9g}" for value in row) for row in emotion.tolist())
    return f"{header}\n{rows}\n"


def _save_wav(path: Path, audio: np.ndarray, sample_rate: int) -> None:
    import soundfile

    # Quantise ourselves so the bytes never depend on libsndfile's float conversion.
    pcm = np.round(np.clip(audio, -1.0, 1.0) * 32767).astype(np.int16)
    with atomic_path(path) as tmp:
        soundfile.write(str(tmp), pcm, sample_rate, subtype="PCM_16", format="WAV")


def _save_video(path: Path, clip: ClipData, sample_rate: int, size: int) -> None:
    from reactdiff.render.face2d import render_faces
    from reactdiff.render.video import write_video

    frames = render_faces(clip.emotion, clip.coeffs_3dmm, size=size)
    write_video(path, frames, fps=FPS, audio=(clip.audio, sample_rate))


def write_clip(root: Path, split: str, clip_path: str, clip: ClipData, config: SynthConfig, mean: np.ndarray) -> None:
    """Write one clip's files (the stored 3DMM is the mean face plus the generated offsets)."""
    files = clip_files(root, split, clip_path, config.video)
    save_text(files["emotion"], _emotion_csv(clip.emotion))
    save_npy(files["3dmm"], (clip.coeffs_3dmm + mean).astype(np.float32))
    _save_wav(files["audio"], clip.audio, config.sample_rate)
    if config.video:
        _save_video(files["video"], clip, config.sample_rate, config.video_size)


def _split_csv(rows: list[PairPlan]) -> str:
    lines = [",speaker_path,listener_path"]
    lines += [f"{row.index},{row.speaker_path},{row.listener_path}" for row in rows]
    return "\n".join(lines) + "\n"


def _labels(plan: dict[str, list[PairPlan]]) -> dict:
    return {
        "prototypes": [prototype.name for prototype in PROTOTYPES],
        "reaction_modes": [mode.name for mode in REACTION_MODES],
        "splits": {
            split: [
                {"speaker_path": row.speaker_path, "listener_path": row.listener_path,
                 "prototype": row.prototype, "mode": row.mode}
                for row in rows
            ]
            for split, rows in plan.items()
        },
    }


def _check_same_config(root: Path, config: SynthConfig) -> None:
    """Refuse to mix two configs in one folder; the same config resumes (videos may be added)."""
    path = root / CONFIG_NAME
    rendering_only = ("video", "video_size")
    current = {key: value for key, value in to_dict(config).items() if key not in rendering_only}
    if path.exists() and {k: v for k, v in load_json(path).items() if k not in rendering_only} != current:
        raise ConfigError(
            f"{path}: the folder holds a dataset made with other settings; "
            "use a new output folder or the same settings to resume"
        )


def write_dataset(root: str | Path, config: SynthConfig, progress: bool = True) -> dict[str, int]:
    """Generate and write the whole dataset; returns the number of pairs per split."""
    from tqdm import tqdm

    config.validate()
    root = Path(root)
    if root.exists() and not root.is_dir():
        raise ConfigError(f"{root}: output exists and is not a folder")
    _check_same_config(root, config)
    save_config(config, root / CONFIG_NAME)

    plan = build_plan(config)
    mean = mean_face()
    save_npy(root / "mean_face.npy", mean)
    for split, rows in plan.items():
        save_text(root / f"{split}.csv", _split_csv(rows))
        # Train too: methods that learn from every appropriate reaction (ReactFace, REGNN) need it.
        save_npy(root / f"neighbour_emotion_{split}.npy", neighbour_matrix(rows))
    save_json(root / LABELS_NAME, _labels(plan))

    total_clips = 2 * sum(len(rows) for rows in plan.values())
    with tqdm(total=total_clips, unit="clip", desc="synth", disable=not progress) as bar:
        for split in SPLITS:
            for row in plan[split]:
                paths = (row.speaker_path, row.listener_path)
                done = all(
                    path.exists() for clip in paths for path in clip_files(root, split, clip, config.video).values()
                )
                if not done:
                    speaker, listener = generate_pair(config.seed, row, config.sample_rate, CLIP_FRAMES_STORED)
                    write_clip(root, split, row.speaker_path, speaker, config, mean)
                    write_clip(root, split, row.listener_path, listener, config, mean)
                bar.update(2)
    return {split: len(rows) for split, rows in plan.items()}




def write_clip_videos(root: str | Path, split: str, clips: list[str], size: int | None = None) -> list[Path]:
    """Draw the face videos (with their audio) of just ``clips`` of a corpus written without
    ``--video``: the same frames ``--video`` would write, for the few clips someone watches.
    Clips whose video exists are skipped; returns the video paths."""
    from reactdiff.errors import DataError

    root = Path(root)
    config = from_dict(SynthConfig, load_json(root / CONFIG_NAME))
    size = size or config.video_size
    wanted = set(clips)
    paths = []
    for row in build_plan(config)[split]:
        roles = [(role, clip) for role, clip in (("speaker", row.speaker_path), ("listener", row.listener_path)) if clip in wanted]
        missing = [(role, clip) for role, clip in roles if not clip_files(root, split, clip, True)["video"].exists()]
        if missing:
            speaker, listener = generate_pair(config.seed, row, config.sample_rate, CLIP_FRAMES_STORED)
            for role, clip in missing:
                _save_video(clip_files(root, split, clip, True)["video"], speaker if role == "speaker" else listener, config.sample_rate, size)
        paths += [clip_files(root, split, clip, True)["video"] for _, clip in roles]
        wanted -= {clip for _, clip in roles}
    if wanted:
        raise DataError(root / f"{split}.csv", f"no such clip(s) in the corpus: {', '.join(sorted(wanted))}")
    return paths

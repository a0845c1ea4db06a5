"""Write a synthetic dataset in the REACT 2024 layout, pair by pair (streaming, so memory stays
flat whatever the preset), every file atomically; a re-run skips pairs whose files all exist.
``write_dataset`` hands the MARS presets to ``mars_writer``."""

from __future__ import annotations

from pathlib import Path

import numpy as np

from reactdiff.config import from_dict
from reactdiff.constants import CLIP_FRAMES_STORED, EMOTION_COLUMNS, FPS, SPLITS
from reactdiff.io import load_json, save_json, save_npy, save_text
from reactdiff.synth.behaviour import PROTOTYPES, REACTION_MODES
from reactdiff.synth.face import mean_face
from reactdiff.synth.files import CONFIG_NAME, LABELS_NAME, prepare_root, save_video, save_wav
from reactdiff.synth.generate import ClipData, generate_pair
from reactdiff.synth.plan import PairPlan, build_plan, emotion_path, neighbour_matrix
from reactdiff.synth.settings import SynthConfig

__all__ = ["CONFIG_NAME", "LABELS_NAME", "clip_files", "write_clip", "write_clip_videos", "write_dataset"]


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


def write_clip(root: Path, split: str, clip_path: str, clip: ClipData, config: SynthConfig, mean: np.ndarray) -> None:
    """Write one clip's files (the stored 3DMM is the mean face plus the generated offsets)."""
    files = clip_files(root, split, clip_path, config.video)
    save_text(files["emotion"], _emotion_csv(clip.emotion))
    save_npy(files["3dmm"], (clip.coeffs_3dmm + mean).astype(np.float32))
    save_wav(files["audio"], clip.audio, config.sample_rate)
    if config.video:
        save_video(files["video"], clip, config.sample_rate, config.video_size, FPS)


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


def write_dataset(root: str | Path, config: SynthConfig, progress: bool = True) -> dict[str, int]:
    """Generate and write the whole dataset; returns the number of pairs (MARS: stems) per split."""
    from tqdm import tqdm

    if config.is_mars:
        from reactdiff.synth.mars_writer import write_mars_dataset

        return write_mars_dataset(root, config, progress)
    root = prepare_root(root, config)

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
    if config.is_mars:
        from reactdiff.errors import ConfigError

        raise ConfigError(f"{root / CONFIG_NAME}: a MARS-layout corpus; re-run `reactdiff synth` on it with --video")
    size = size or config.video_size
    wanted = set(clips)
    paths = []
    for row in build_plan(config)[split]:
        roles = [(role, clip) for role, clip in (("speaker", row.speaker_path), ("listener", row.listener_path)) if clip in wanted]
        missing = [(role, clip) for role, clip in roles if not clip_files(root, split, clip, True)["video"].exists()]
        if missing:
            speaker, listener = generate_pair(config.seed, row, config.sample_rate, CLIP_FRAMES_STORED)
            for role, clip in missing:
                save_video(clip_files(root, split, clip, True)["video"], speaker if role == "speaker" else listener, config.sample_rate, size, FPS)
        paths += [clip_files(root, split, clip, True)["video"] for _, clip in roles]
        wanted -= {clip for _, clip in roles}
    if wanted:
        raise DataError(root / f"{split}.csv", f"no such clip(s) in the corpus: {', '.join(sorted(wanted))}")
    return paths

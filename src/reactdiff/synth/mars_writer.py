"""Write a synthetic corpus in the REACT 2025/2026 MARS layout (/work/shared/spec/REACT2025_DATA.md
sections 1 and 5), stem by stem, every file atomically; a re-run skips stems whose files all exist.

    <root>/<split>/facial-attributes/<role>/<session>/<stem>.npy   (T, 25) float32
    <root>/<split>/coefficients/<role>/<session>/<stem>.npy        (T, 1, 58) float32, raw (mean face added)
    <root>/<split>/audio/<role>/<session>/<stem>.wav               16-bit PCM mono, T / 30 s
    <root>/<split>/video-face-crop/<role>/<session>/<stem>.mp4     --video: rendered face, 30 fps, audio muxed
    <root>/<split>/personality/{listener,speaker}.csv              --personality (REACT 2026)
    <root>/<split>/eeg_processed/<role>/<session>/<stem>.csv       --eeg (REACT 2026), one row per second
    <root>/mean_face.npy, std_face.npy, synth_config.json, synth_labels.json
"""

from __future__ import annotations

import csv
import dataclasses
import io
import math
import zlib
from pathlib import Path

import numpy as np

from reactdiff.constants import SPLITS
from reactdiff.io import save_json, save_npy, save_text
from reactdiff.synth.behaviour import PROTOTYPES, REACTION_MODES, PersonStyle, person_style
from reactdiff.synth.face import mean_face, std_face
from reactdiff.synth.files import LABELS_NAME, prepare_root, save_video, save_wav
from reactdiff.synth.generate import ClipData, react_pair
from reactdiff.synth.mars_plan import BIG_FIVE, ROLES, MarsPlan, MarsStem, build_mars_plan, content_mood, session_script
from reactdiff.synth.settings import MARS_FPS, SynthConfig

#: The 14 EEG target columns the REACT 2026 loaders read, in order (spec section 5).
EEG_RAW_CHANNELS = ("TP9", "AF7", "AF8", "TP10")
EEG_BANDS = ("Delta", "Theta", "Alpha", "Beta", "Gamma")
EEG_COLUMNS = EEG_RAW_CHANNELS + tuple(f"{band}_{side}" for side in ("TP9", "TP10") for band in EEG_BANDS)
#: Share of EEG cells left blank (sensor drop-outs; the loaders mask them).
EEG_BLANK_PROBABILITY = 0.01

#: Shortest span generated (frames at 30 fps: the 30 s of a 2024 clip). A shorter stem is the start
#: of such a span: the generator scales each slow noise signal (smoothed over up to 4 s) to unit
#: spread over the generated span, which over a 3 s span would blow a near-constant drift up.
MIN_GENERATED_FRAMES = 900

# Tags that keep the MARS random streams apart from each other and from the 2024 corpus's.
_STEM_STREAM = 0x4D535445
_STYLE_STREAM = 0x4D53544C
_EEG_STREAM = 0x4D454547


def stem_files(root: Path, stem: MarsStem, role: str, config: SynthConfig) -> dict[str, Path]:
    """The files one role of one stem has under ``config``."""
    split_root = root / stem.split
    relative = stem.path(role)
    files = {
        "attributes": split_root / "facial-attributes" / f"{relative}.npy",
        "coefficients": split_root / "coefficients" / f"{relative}.npy",
        "audio": split_root / "audio" / f"{relative}.wav",
    }
    if config.video:
        files["video"] = split_root / "video-face-crop" / f"{relative}.mp4"
    if config.eeg:
        files["eeg"] = split_root / "eeg_processed" / f"{relative}.csv"
    return files


def mars_style(seed: int, split: str, person: str) -> PersonStyle:
    """A person's style, the same in every session they appear in."""
    key = zlib.crc32(f"mars/{split}/{person}".encode())
    return person_style(np.random.default_rng(np.random.SeedSequence([seed, _STYLE_STREAM, key])))


def stem_rng(seed: int, stem: MarsStem) -> np.random.Generator:
    return np.random.default_rng(np.random.SeedSequence([seed, _STEM_STREAM, SPLITS.index(stem.split), stem.index]))


def generate_stem(seed: int, stem: MarsStem, sample_rate: int) -> tuple[ClipData, ClipData]:
    """The speaker and listener clips of one stem (its own random stream: any order, resumable).
    Arrays and audio are ``stem.num_frames`` long; the latent ``state`` may run longer (see
    ``MIN_GENERATED_FRAMES``)."""
    script = session_script(seed, stem.script)
    listener = content_mood(mars_style(seed, stem.split, stem.listener_person), script)
    clips = react_pair(
        stem_rng(seed, stem),
        script.speaker,
        REACTION_MODES[stem.mode],
        mars_style(seed, stem.split, stem.speaker_person),
        listener,
        sample_rate,
        max(stem.num_frames, MIN_GENERATED_FRAMES),
        MARS_FPS,
    )
    frames, samples = stem.num_frames, int(round(stem.num_frames / MARS_FPS * sample_rate))
    speaker, listener_clip = (
        ClipData(clip.emotion[:frames], clip.coeffs_3dmm[:frames], clip.audio[:samples], clip.state) for clip in clips
    )
    return speaker, listener_clip


def eeg_table(seed: int, stem: MarsStem, role: str, clip: ClipData) -> str:
    """The EEG CSV of one clip: a header, then one row per second (frame t -> row t // 30).

    Weakly tied to the person's arousal in that second, as in real EEG: alpha power falls and
    beta/gamma rise with arousal, raw channels (in the units the loaders divide by 1000) drift with
    it; everything else is noise. About 1 % of the cells are blank (masked by the loaders)."""
    rng = np.random.default_rng(
        np.random.SeedSequence([seed, _EEG_STREAM, SPLITS.index(stem.split), stem.index, ROLES.index(role)])
    )
    num_rows = math.ceil(stem.num_frames / MARS_FPS)
    arousal = clip.state.arousal[: stem.num_frames]
    arousal = np.array([arousal[row * MARS_FPS : (row + 1) * MARS_FPS].mean() for row in range(num_rows)])
    noise = lambda scale, count=1: rng.normal(0, scale, size=(num_rows, count))  # noqa: E731
    raw = 820.0 + rng.normal(0, 15, size=4) + 40.0 * arousal[:, None] + noise(25.0, 4)
    levels = {"Delta": (0.9, 0.0), "Theta": (0.6, -0.1), "Alpha": (0.8, -0.4), "Beta": (0.4, 0.3), "Gamma": (0.1, 0.25)}
    bands = [level + gain * arousal[:, None] + noise(0.15) for side in range(2) for level, gain in (levels[b] for b in EEG_BANDS)]
    values = np.concatenate([raw, *bands], axis=1)
    blank = rng.random(values.shape) < EEG_BLANK_PROBABILITY
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\n")
    writer.writerow(("timestamp",) + EEG_COLUMNS)
    for row in range(num_rows):
        cells = ["" if blank[row, col] else f"{values[row, col]:.4f}" for col in range(values.shape[1])]
        writer.writerow([f"{row:d}.0", *cells])
    return out.getvalue()


def write_stem(root: Path, stem: MarsStem, clips: tuple[ClipData, ClipData], config: SynthConfig, mean: np.ndarray) -> None:
    """Write both roles' files of one stem (3DMM stored raw, as (T, 1, 58): mean face + offsets)."""
    for role, clip in zip(ROLES, clips):
        files = stem_files(root, stem, role, config)
        save_npy(files["attributes"], clip.emotion.astype(np.float32))
        save_npy(files["coefficients"], (clip.coeffs_3dmm + mean).astype(np.float32)[:, None, :])
        save_wav(files["audio"], clip.audio, config.sample_rate)
        if config.video:
            save_video(files["video"], clip, config.sample_rate, config.video_size, MARS_FPS)
        if config.eeg:
            save_text(files["eeg"], eeg_table(config.seed, stem, role, clip))


def personality_table(plan: MarsPlan, split: str, role: str) -> str:
    """``personality/<role>.csv``: one row per file of the role (video_name, session, Big Five)."""
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\n")
    writer.writerow(("video_name", "session") + BIG_FIVE)
    for stem in plan.stems[split]:
        person = stem.speaker_person if role == "speaker" else stem.listener_person
        writer.writerow([f"{stem.stem}.mp4", stem.session, *(f"{plan.traits[person][t]:.2f}" for t in BIG_FIVE)])
    return out.getvalue()


def _labels(config: SynthConfig, plan: MarsPlan) -> dict:
    sessions = sorted({stem.script for stems in plan.stems.values() for stem in stems})
    return {
        "layout": "mars",
        "fps": MARS_FPS,
        "prototypes": [prototype.name for prototype in PROTOTYPES],
        "reaction_modes": [mode.name for mode in REACTION_MODES],
        "scripts": {f"session{n}": dataclasses.asdict(session_script(config.seed, n)) for n in sessions},
        "preferred_modes": plan.preferred_modes,
        "traits": plan.traits,
        "splits": {
            split: [
                {"session": stem.session, "stem": stem.stem, "speaker_person": stem.speaker_person,
                 "listener_person": stem.listener_person, "prototype": stem.script % len(PROTOTYPES),
                 "mode": stem.mode, "num_frames": stem.num_frames}
                for stem in stems
            ]
            for split, stems in plan.stems.items()
        },
    }


def write_mars_dataset(root: str | Path, config: SynthConfig, progress: bool = True) -> dict[str, int]:
    """Generate and write a MARS-layout corpus; returns the number of stems per split."""
    from tqdm import tqdm

    root = prepare_root(root, config)
    plan = build_mars_plan(config)
    mean = mean_face()
    save_npy(root / "mean_face.npy", mean)
    save_npy(root / "std_face.npy", std_face())
    save_json(root / LABELS_NAME, _labels(config, plan))
    if config.personality:
        for split in SPLITS:
            for role in ROLES:
                save_text(root / split / "personality" / f"{role}.csv", personality_table(plan, split, role))

    total = sum(stem.num_frames for stems in plan.stems.values() for stem in stems)
    with tqdm(total=total, unit="frame", unit_scale=True, desc="synth", disable=not progress) as bar:
        for split in SPLITS:
            for stem in plan.stems[split]:
                done = all(path.exists() for role in ROLES for path in stem_files(root, stem, role, config).values())
                if not done:
                    write_stem(root, stem, generate_stem(config.seed, stem, config.sample_rate), config, mean)
                bar.update(stem.num_frames)
    return {split: len(stems) for split, stems in plan.stems.items()}

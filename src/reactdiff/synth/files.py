"""What both corpus writers (REACT 2024 and MARS layouts) share: the settings file that guards a
folder against mixing two configs, and the atomic wav / mp4 writers."""

from __future__ import annotations

from pathlib import Path

import numpy as np

from reactdiff.errors import ConfigError
from reactdiff.io import atomic_path, load_json, save_json
from reactdiff.synth.generate import ClipData
from reactdiff.synth.settings import SynthConfig

CONFIG_NAME = "synth_config.json"
#: Hidden generating labels (for benchmarks and tests; models must not read them).
LABELS_NAME = "synth_labels.json"
#: Settings that only add files (videos, 2026 extras): a folder may be resumed with them changed.
ADDITIVE_SETTINGS = ("video", "video_size", "personality", "eeg")


def save_wav(path: Path, audio: np.ndarray, sample_rate: int) -> None:
    import soundfile

    # Quantise ourselves so the bytes never depend on libsndfile's float conversion.
    pcm = np.round(np.clip(audio, -1.0, 1.0) * 32767).astype(np.int16)
    with atomic_path(path) as tmp:
        soundfile.write(str(tmp), pcm, sample_rate, subtype="PCM_16", format="WAV")


def save_video(path: Path, clip: ClipData, sample_rate: int, size: int, fps: int) -> None:
    """The clip's rendered face (from the mean-face offsets) with its audio muxed in."""
    from reactdiff.render.face2d import render_faces
    from reactdiff.render.video import write_video

    frames = render_faces(clip.emotion, clip.coeffs_3dmm, size=size)
    write_video(path, frames, fps=fps, audio=(clip.audio, sample_rate))


def _comparable(settings: dict) -> dict:
    return {key: value for key, value in settings.items() if key not in ADDITIVE_SETTINGS}


def prepare_root(root: str | Path, config: SynthConfig) -> Path:
    """Validate ``config``, refuse a folder made with other settings (the same settings resume,
    videos and 2026 extras may be added), and save the settings as ``synth_config.json``."""
    config.validate()
    root = Path(root)
    if root.exists() and not root.is_dir():
        raise ConfigError(f"{root}: output exists and is not a folder")
    path = root / CONFIG_NAME
    if path.exists() and _comparable(load_json(path)) != _comparable(config.stored()):
        raise ConfigError(
            f"{path}: the folder holds a dataset made with other settings; "
            "use a new output folder or the same settings to resume"
        )
    save_json(path, config.stored())
    return root

"""A hand-made REACT-layout dataset for data-layer tests (independent of the synthetic generator),
in either person-naming convention, either 3DMM shape and either video form."""

from __future__ import annotations

import csv
from pathlib import Path

import numpy as np
import soundfile

from reactdiff.constants import CLIP_FRAMES_STORED, EMOTION_COLUMNS

SESSIONS = {
    "NoXI/001_2016-03-17_Paris": ("Expert_video", "Novice_video"),
    "RECOLA/group-1": ("P25", "P26"),
}
RENAMES = {"Expert_video": "P1", "Novice_video": "P2", "P25": "P1", "P26": "P2"}


def emotion_values(rng: np.random.Generator, frames: int = CLIP_FRAMES_STORED) -> np.ndarray:
    aus = (rng.random((frames, 15)) < 0.3).astype(np.float32)
    va = rng.uniform(-1, 1, (frames, 2)).astype(np.float32)
    logits = rng.normal(size=(frames, 8))
    probs = np.exp(logits) / np.exp(logits).sum(axis=1, keepdims=True)
    return np.concatenate([aus, va, probs.astype(np.float32)], axis=1)


def write_emotion_csv(path: Path, values: np.ndarray) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    with open(path, "w", newline="") as handle:
        writer = csv.writer(handle)
        writer.writerow(EMOTION_COLUMNS)
        writer.writerows(values.tolist())


def make_react_dataset(
    root: Path,
    convention: str = "2024",
    coeffs_shape: str = "flat",
    video: str | None = None,
    seed: int = 0,
    clips_per_session: int = 1,
) -> Path:
    """Write a small dataset: every split has one pair per session and clip index."""
    rng = np.random.default_rng(seed)
    root.mkdir(parents=True, exist_ok=True)
    mean_face = rng.normal(size=58).astype(np.float32)
    np.save(root / "mean_face.npy", mean_face)
    for split in ("train", "val", "test"):
        rows = []
        for session, (first, second) in SESSIONS.items():
            for clip_index in range(1, clips_per_session + 1):
                rows.append((f"{session}/{first}/{clip_index}", f"{session}/{second}/{clip_index}"))
                for person in (first, second):
                    clip = f"{session}/{person}/{clip_index}"
                    emotion_name = f"{session}/{RENAMES[person] if convention == '2024' else person}/{clip_index}"
                    write_emotion_csv(root / split / "Emotion" / f"{emotion_name}.csv", emotion_values(rng))
                    coeffs = (mean_face + rng.normal(scale=0.1, size=(CLIP_FRAMES_STORED, 58))).astype(np.float32)
                    if coeffs_shape == "4d":
                        coeffs = coeffs.reshape(CLIP_FRAMES_STORED, 1, 1, 58)
                    coeffs_path = root / split / "3D_FV_files" / f"{clip}.npy"
                    coeffs_path.parent.mkdir(parents=True, exist_ok=True)
                    np.save(coeffs_path, coeffs)
                    audio_path = root / split / "Audio_files" / f"{clip}.wav"
                    audio_path.parent.mkdir(parents=True, exist_ok=True)
                    samples = 0.1 * rng.standard_normal(16000 * 30 + 640).astype(np.float32)
                    soundfile.write(audio_path, samples, 16000, subtype="PCM_16")
                    if video == "png":
                        frames = root / split / "Video_files" / clip
                        frames.mkdir(parents=True, exist_ok=True)
                        from PIL import Image

                        for index in range(1, 4):
                            Image.new("RGB", (8, 8), (index, 0, 0)).save(frames / f"{index}.png")
                    elif video == "mp4":
                        path = root / split / "Video_files" / f"{clip}.mp4"
                        path.parent.mkdir(parents=True, exist_ok=True)
                        _write_tiny_mp4(path)
        with open(root / f"{split}.csv", "w", newline="") as handle:
            writer = csv.writer(handle)
            writer.writerow(["", "speaker_path", "listener_path"])
            writer.writerows([index, speaker, listener] for index, (speaker, listener) in enumerate(rows))
        if split != "train":
            n = 2 * len(rows)
            matrix = np.eye(n, dtype=np.int64)
            matrix[0, n // 2] = matrix[n // 2, 0] = 1
            np.save(root / f"neighbour_emotion_{split}.npy", matrix)
    return root


def _write_tiny_mp4(path: Path) -> None:
    import av

    with av.open(str(path), "w") as container:
        stream = container.add_stream("libx264", rate=25)
        stream.width = stream.height = 16
        stream.pix_fmt = "yuv420p"
        for index in range(5):
            frame = av.VideoFrame.from_ndarray(np.full((16, 16, 3), index * 40, np.uint8), format="rgb24")
            for packet in stream.encode(frame):
                container.mux(packet)
        for packet in stream.encode():
            container.mux(packet)

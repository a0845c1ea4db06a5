"""``reactdiff react``: a user's own speaker clip in, K listener reactions out (features,
predictions and a side-by-side video with the speaker's real video and sound), by any method's
checkpoint."""

from __future__ import annotations

import sys
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from reactdiff.predictions import Predictions


@dataclass
class ReactConfig:
    """Settings of ``reactdiff react``."""

    samples: int = 10
    #: Sampling steps of a diffusion method (null: the checkpoint's).
    steps: int | None = None
    seed: int = 0
    #: Render the side-by-side video (speaker + K listeners, speaker audio muxed in).
    render: bool = True
    device: str = "cpu"

    def validate(self) -> "ReactConfig":
        from reactdiff.errors import ConfigError

        if self.samples < 1:
            raise ConfigError(f"samples: must be positive, got {self.samples}")
        if self.steps is not None and self.steps < 1:
            raise ConfigError(f"steps: must be positive, got {self.steps}")
        return self


def react(video: str | Path, checkpoint: str | Path, out: str | Path, audio: str | Path | None = None,
          config: ReactConfig = ReactConfig()) -> dict[str, Path]:
    """Run the whole own-clip path; return the paths written. Every setting (and the checkpoint)
    is checked before features are extracted."""
    from reactdiff.features import extract
    from reactdiff.pipeline import ReactionModel

    config.validate()
    out = Path(out)
    model = ReactionModel.from_checkpoint(checkpoint, device=config.device)
    sampling = model.sampling(steps=config.steps)
    warnings = _audio_warnings(video, audio)
    for warning in warnings:
        print(f"WARNING: {warning}", file=sys.stderr)
    # At the frame rate the model was trained at (REACT 2024: 25 fps, MARS: 30).
    fps = int(round(model.fps))
    streams = extract(video, audio_path=audio, streams=model.stream_names, fps=fps)
    num_frames = min(len(values) for values in streams.values())
    speaker = {name: np.asarray(values[:num_frames], dtype=np.float32) for name, values in streams.items()}
    reactions = model.generate(speaker, num_samples=config.samples, seed=config.seed, **sampling)
    predictions = Predictions(
        emotion=reactions["emotion"][None],
        coeffs_3dmm=reactions["coeffs_3dmm"][None],
        speaker_path=[str(video)],
        listener_path=["generated"],
        meta={"method": model.name, "checkpoint": str(checkpoint), "video": str(video), "audio": str(audio) if audio else None, "fps": fps,
              "samples": config.samples, **sampling, "seed": config.seed, "warnings": warnings},
    )
    paths = {"predictions": out / "predictions.npz"}
    predictions.save(paths["predictions"])
    if config.render:
        from reactdiff.render.rows import render_row

        paths["video"] = render_row(paths["predictions"], 0, out / "reactions.mp4", speaker_video=video, audio=audio)
    return paths


def _audio_warnings(video: str | Path, audio: str | Path | None) -> list[str]:
    """A warning when the speaker's audio is much shorter than the video (its MFCCs would be
    padded silence for the rest of the clip, and the listener would react to nothing)."""
    if audio is None:
        return []
    from reactdiff.data.wav import shortfall_problem
    from reactdiff.features.audio import load_audio
    from reactdiff.features.extract import clip_frames

    samples, rate = load_audio(audio, sample_rate=16000)
    problem = shortfall_problem(len(samples), rate, clip_frames(video))
    return [f"{audio}: {problem}"] if problem else []

"""``reactdiff react``: a user's own speaker clip in, K listener reactions out (features,
predictions and a side-by-side video with the speaker's real video and sound)."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import numpy as np

from reactdiff.predictions import Predictions


@dataclass
class ReactConfig:
    """Settings of ``reactdiff react``."""

    samples: int = 10
    steps: int = 20
    seed: int = 0
    #: Render the side-by-side video (speaker + K listeners, speaker audio muxed in).
    render: bool = True
    device: str = "cpu"


def react(video: str | Path, checkpoint: str | Path, out: str | Path, audio: str | Path | None = None,
          config: ReactConfig = ReactConfig()) -> dict[str, Path]:
    """Run the whole own-clip path; return the paths written."""
    from reactdiff.features import extract
    from reactdiff.pipeline import ReactDiff

    out = Path(out)
    model = ReactDiff.from_checkpoint(checkpoint, device=config.device)
    streams = extract(video, audio_path=audio, streams=model.stream_names)
    num_frames = min(len(values) for values in streams.values())
    speaker = {name: np.asarray(values[:num_frames], dtype=np.float32) for name, values in streams.items()}
    reactions = model.generate(speaker, num_samples=config.samples, steps=config.steps, seed=config.seed)
    predictions = Predictions(
        emotion=reactions["emotion"][None],
        coeffs_3dmm=reactions["coeffs_3dmm"][None],
        speaker_path=[str(video)],
        listener_path=["generated"],
        meta={"checkpoint": str(checkpoint), "video": str(video), "audio": str(audio) if audio else None,
              "samples": config.samples, "steps": config.steps, "seed": config.seed},
    )
    paths = {"predictions": out / "predictions.npz"}
    predictions.save(paths["predictions"])
    if config.render:
        from reactdiff.cli import main as cli
        from reactdiff.errors import ReactDiffError

        paths["video"] = out / "reactions.mp4"
        argv = ["render", "--predictions", str(paths["predictions"]), "--index", "0",
                "--speaker-video", str(video), "--out", str(paths["video"])]
        if audio:
            argv += ["--audio", str(audio)]
        if cli(argv):
            raise ReactDiffError(f"rendering failed: reactdiff {' '.join(argv)}")
    return paths

"""`reactdiff demo` end to end on the tiny preset with a one-minute training budget, its resume,
and `reactdiff react` on a real clip with the checkpoint the demo trained."""

from pathlib import Path

import av
import numpy as np
import pytest

from reactdiff.trivial import BASELINES
from reactdiff.cli import main
from reactdiff.data.layout import ReactLayout
from reactdiff.hardware import numerics
from reactdiff.predictions import Predictions

SHARED = Path(__file__).resolve().parents[1].parent / "shared"
DEMO_ARGS = ["--preset", "tiny", "--budget", "tiny", "--samples", "3", "--render_rows", "1"]


@pytest.fixture(scope="module")
def demo_dir(tmp_path_factory):
    out = tmp_path_factory.mktemp("demo")
    assert main(["demo", "--out", str(out), *DEMO_ARGS]) == 0
    return out


def _video_facts(path: Path) -> tuple[int, float, float]:
    """(video frames, frame rate, audio seconds) read back with PyAV."""
    with av.open(str(path)) as container:
        video = container.streams.video[0]
        rate = float(video.average_rate)  # read before decoding, which updates the stream's counters
        frames = sum(1 for _ in container.decode(video))
    with av.open(str(path)) as container:
        audio = container.streams.audio[0]
        samples = sum(frame.samples for frame in container.decode(audio))
        return frames, rate, samples / audio.sample_rate


def test_demo_writes_every_artefact(demo_dir):
    data = demo_dir / "data"
    assert main(["data", "check", str(data)]) == 0
    for stream in ("emotion", "3dmm", "mfcc"):
        assert (data / "features" / stream).is_dir()
    for stage in ("autoencoder", "diffusion"):
        checkpoints = list((demo_dir / "runs" / stage).glob("*/checkpoint.json"))
        assert checkpoints, f"no complete {stage} checkpoint"

    predictions = Predictions.load(demo_dir / "predictions_val.npz")
    order = ReactLayout(data).eval_order("val")
    assert predictions.emotion.shape == (len(order), 3, 750, 25)
    assert predictions.speaker_path == [pair.speaker for pair in order]

    report = (demo_dir / "report.md").read_text()
    header = next(line for line in report.splitlines() if line.startswith("| metric"))
    for name in ("reactdiff", *BASELINES):
        for protocol in ("official", "corrected"):
            assert f"{name} / {protocol}" in header
    for metric in ("FRCorr", "FRDist", "FRDiv", "FRVar", "FRDvs", "FRSyn", "FD-emotion-frame"):
        assert f"| {metric} |" in report
    # The digits are reproducible only on the same numerics, so the report names them.
    assert f"- trained with: {numerics()}\n" in report

    frames, rate, audio_seconds = _video_facts(demo_dir / "media" / "val_row0.mp4")
    assert (frames, rate) == (750, 25.0)
    assert abs(audio_seconds - 30.0) < 0.2
    plots = sorted(p.name for p in (demo_dir / "media" / "val_row0_plots").glob("*.png"))
    assert plots == ["au_raster.png", "diversity.png", "expressions.png", "valence_arousal.png"]


def test_demo_rerun_resumes_without_redoing_stages(demo_dir, capsys):
    before = (demo_dir / "predictions_val.npz").stat().st_mtime
    assert main(["demo", "--out", str(demo_dir), *DEMO_ARGS]) == 0
    out = capsys.readouterr().out
    assert out.count("done earlier, skipped") == 7
    assert (demo_dir / "predictions_val.npz").stat().st_mtime == before


def test_react_on_a_real_clip(demo_dir, video_extras, tmp_path):
    out = tmp_path / "react"
    argv = ["react", str(SHARED / "media" / "face_expressive.mp4"), "--audio", str(SHARED / "media" / "conversation_16k.wav"),
            "--checkpoint", str(demo_dir / "runs" / "diffusion"), "--out", str(out), "--samples", "2"]
    assert main(argv) == 0
    predictions = Predictions.load(out / "predictions.npz")
    # 19.7 s of video at 25 fps; K = 2 reactions of the same length.
    assert predictions.emotion.shape[:2] == (1, 2) and abs(predictions.emotion.shape[2] - 19.7 * 25) <= 2
    assert not np.allclose(predictions.emotion[0, 0], predictions.emotion[0, 1])
    frames, rate, audio_seconds = _video_facts(out / "reactions.mp4")
    assert frames == predictions.emotion.shape[2] and rate == 25.0 and audio_seconds > 15

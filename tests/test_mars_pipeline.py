"""The whole pipeline on the synthetic REACT 2025/2026 corpus (MARS layout, 30 fps, clips of many
lengths) with the same commands as on the 2024 corpus: synth, data check, prepare, train,
generate, evaluate (react2025), render, plot."""

from __future__ import annotations

import json

import numpy as np
import pytest

from reactdiff.cli import main


@pytest.fixture(scope="module")
def mars(tmp_path_factory):
    """A prepared mars-tiny corpus and a ReactDiff trained on it with the tiny recipe."""
    root = tmp_path_factory.mktemp("mars")
    data, run = root / "data", root / "run"
    assert main(["synth", str(data), "--preset", "mars-tiny", "--no-progress"]) == 0
    assert main(["data", "check", str(data)]) == 0
    assert main(["prepare", str(data)]) == 0
    assert main(["train", "reactdiff", "--data", str(data), "--out", str(run), "--recipe", "tiny", "--device", "cpu"]) == 0
    return data, run


def test_generate_evaluate_render_on_mars(mars, tmp_path):
    from reactdiff.data.layouts import open_layout
    from reactdiff.predictions import Predictions

    data, run = mars
    predictions = tmp_path / "val.npz"
    assert main(["generate", "--checkpoint", str(run), "--data", str(data), "--samples", "3", "--out", str(predictions), "--device", "cpu"]) == 0
    loaded = Predictions.load(predictions)
    layout = open_layout(data)
    pairs = layout.eval_order("val")
    # One row per pair and direction, each as long as its speaker clip (lengths differ: stored unpadded).
    assert loaded.speaker_path == [pair.speaker for pair in pairs]
    assert loaded.lengths == [layout.clip_frames("val", pair.speaker) for pair in pairs]
    assert loaded.ragged and len(set(loaded.lengths)) > 1
    assert loaded.meta["fps"] == 30 and loaded.meta["layout"] == "react2025"

    assert main(["evaluate", "--data", str(data), "--predictions", str(predictions), "--baselines", "--num_samples", "3"]) == 0
    report = json.loads((tmp_path / "val_metrics.json").read_text())
    columns = report["results"]
    assert set(columns) == {f"{name} / react2025" for name in ("val", "gt", "mime", "random", "mean-seq", "mean-frame", "oracle")}
    # The corpus's own process (fresh listeners of the session's script) beats holding a mean frame, and differs across K.
    assert columns["oracle / react2025"]["FRDist"] < columns["mean-frame / react2025"]["FRDist"]
    assert columns["oracle / react2025"]["FRDiv"] > 0
    scores = columns["val / react2025"]
    assert scores["protocol"] == "react2025" and scores["alignment"] == "index_emulation"
    assert all(np.isfinite(scores[metric]) for metric in ("FRCorr", "FRDist", "FRDiv", "FRVar", "FRSyn"))
    # The paired listener copied K times matches its own ground truth: FRDist 0, the best FRCorr.
    assert columns["gt / react2025"]["FRDist"] == 0.0
    assert columns["gt / react2025"]["FRCorr"] > max(columns[f"{name} / react2025"]["FRCorr"] for name in ("random", "mime"))
    assert any("appropriate sets" in note for note in scores["notes"])

    # The 2024 protocols do not apply to MARS data: a clear refusal, not a wrong number.
    assert main(["evaluate", "--data", str(data), "--predictions", str(predictions), "--protocol", "official"]) == 2

    video = tmp_path / "row0.mp4"
    assert main(["render", "--predictions", str(predictions), "--data", str(data), "--index", "0", "--out", str(video)]) == 0
    from reactdiff.features.video import probe_video

    info = probe_video(video)
    assert info.source_fps == pytest.approx(30.0) and info.has_audio
    assert info.duration == pytest.approx(loaded.lengths[0] / 30, abs=0.1)
    assert main(["plot", "--predictions", str(predictions), "--data", str(data), "--index", "0", "--out", str(tmp_path / "plots")]) == 0


def test_long_clips_are_generated_in_independent_chunks(mars, monkeypatch):
    """No method ever sees more than one chunk: a clip of any length costs one chunk's memory."""
    from reactdiff.generation import generate_split
    from reactdiff.pipeline import ReactionModel

    data, run = mars
    model = ReactionModel.from_checkpoint(run, device="cpu")
    seen = []
    original = model.generate_batch

    def spy(streams, **kwargs):
        seen.append(next(iter(streams.values())).shape[1])
        return original(streams, **kwargs)

    monkeypatch.setattr(model, "generate_batch", spy)
    chunked = generate_split(model, data, "val", num_samples=2, chunk_frames=100, progress=False)
    assert max(seen) == 100 and min(seen) < 100  # full chunks and each clip's remainder
    assert chunked.lengths == generate_split(model, data, "val", num_samples=2, progress=False).lengths


def test_mars_windows_are_settings(mars, tmp_path):
    """ReactDiff trains and generates online with MARS's 30-frame windows and 60 frames of context."""
    import yaml

    from reactdiff.methods.registry import METHODS
    from reactdiff.pipeline import ReactionModel

    data, _ = mars
    budget = METHODS["reactdiff"].budget("tiny")
    model = {"diffusion": {"window": 30, "context_windows": 2, "online": True, "lookahead_windows": 0},
             "autoencoder": {"context_frames": 30}}
    config = tmp_path / "mars_online.yaml"
    config.write_text(yaml.safe_dump({"autoencoder": {"model": model, "steps": 4, "crop_frames": 90},
                                      "diffusion": {"steps": 4, "crop_frames": 90}}))
    run = tmp_path / "online"
    argv = ["train", "reactdiff", "--data", str(data), "--out", str(run), "--recipe", "tiny", "--config", str(config), "--device", "cpu"]
    assert budget["autoencoder"]["preset"] == "tiny" and main(argv) == 0
    loaded = ReactionModel.from_checkpoint(run, device="cpu")
    assert loaded.online and loaded.model.window == 30
    clip = {name: np.random.default_rng(0).standard_normal((95, int(loaded.streams[name]["dim"]))).astype(np.float32)
            for name in loaded.stream_names}
    assert loaded.generate(clip, num_samples=2, seed=0)["emotion"].shape == (2, 95, 25)


@pytest.mark.parametrize("name", ["transvae", "belfusion", "regnn", "reactface"])
def test_every_method_trains_generates_and_is_scored_on_mars(name, mars, tmp_path):
    """The same commands for every registered method (ReactDiff above): any clip length, 30 fps."""
    from reactdiff.methods.registry import METHODS
    from reactdiff.predictions import Predictions

    assert set(METHODS) == {"reactdiff", "transvae", "belfusion", "regnn", "reactface"}  # a new method joins this list
    data, _ = mars
    run, predictions = tmp_path / "run", tmp_path / "val.npz"
    assert main(["train", name, "--data", str(data), "--out", str(run), "--recipe", "tiny", "--device", "cpu"]) == 0
    assert main(["generate", "--checkpoint", str(run), "--data", str(data), "--samples", "2", "--out", str(predictions), "--device", "cpu"]) == 0
    loaded = Predictions.load(predictions)
    assert loaded.ragged and loaded.meta["method"] == name
    assert main(["evaluate", "--data", str(data), "--predictions", str(predictions)]) == 0
    scores = json.loads((tmp_path / "val_metrics.json").read_text())["results"]["react2025"]
    assert np.isfinite(scores["FRDist"]) and scores["num_speakers"] == loaded.num_rows


def test_benchmark_on_mars_with_a_recipe_row(mars, tmp_path):
    """`reactdiff benchmark` scores MARS under react2025 (with the oracle), and METHOD:RECIPE adds a
    row trained with one of the method's named recipes beside the budget's."""
    data, _ = mars
    out = tmp_path / "bench"
    argv = ["benchmark", "--data", str(data), "--budget", "tiny", "--seeds", "1", "--samples", "2", "--out", str(out),
            "--device", "cpu", "--methods", "transvae", "transvae:tiny"]
    assert main(argv) == 0
    results = json.loads((out / "benchmark.json").read_text())
    rows = results["summary"]["rows"]
    assert {"transvae", "transvae:tiny", "oracle", "mime"} <= set(rows)
    assert set(rows["transvae:tiny"]) == {"react2025"}
    # Same settings, same seed: the recipe row is the budget row trained again, bit for bit.
    assert rows["transvae:tiny"]["react2025"]["FRDist"] == rows["transvae"]["react2025"]["FRDist"]
    assert "transvae:tiny" in results["summary"]["frdist_gap_closed"]
    markdown = (out / "benchmark.md").read_text()
    assert "## react2025 protocol" in markdown and "--methods transvae transvae:tiny" in markdown


def test_a_1234_frame_clip_at_30_fps_goes_through_unchanged(tmp_path):
    """No 25 fps / 750-frame assumption anywhere: 1,234-frame clips are prepared, trained on (one
    step a stage), generated (two chunks: 750 + 484) and scored at their own length."""
    import yaml

    from reactdiff.predictions import Predictions
    from reactdiff.store import FeatureStore

    data, run = tmp_path / "data", tmp_path / "run"
    assert main(["synth", str(data), "--preset", "mars-tiny", "--lengths", "1234", "1234", "--pairs", "2", "2", "1", "--no-progress"]) == 0
    assert main(["prepare", str(data)]) == 0
    store = FeatureStore(data / "features")
    key = next(iter(store.keys("emotion")))
    info = store.clip_info(key)
    assert (info["fps"], info["frames"]) == (30, 1234)
    assert store.read("mfcc", key).shape[0] == 1234  # audio features at 30 fps: one row per video frame
    config = tmp_path / "one_step.yaml"
    config.write_text(yaml.safe_dump({stage: {"steps": 1, "batch_size": 2, "crop_frames": 100, "val_every": 1}
                                      for stage in ("autoencoder", "diffusion")}))
    assert main(["train", "reactdiff", "--data", str(data), "--out", str(run), "--recipe", "tiny", "--config", str(config), "--device", "cpu"]) == 0
    predictions = tmp_path / "val.npz"
    assert main(["generate", "--checkpoint", str(run), "--data", str(data), "--samples", "2", "--out", str(predictions), "--device", "cpu"]) == 0
    loaded = Predictions.load(predictions)
    assert loaded.lengths == [1234] * loaded.num_rows and loaded.emotion.shape[1:] == (2, 1234, 25)
    assert main(["evaluate", "--data", str(data), "--predictions", str(predictions)]) == 0
    assert json.loads((tmp_path / "val_metrics.json").read_text())["results"]["react2025"]["num_speakers"] == loaded.num_rows


def test_out_of_range_mars_predictions_are_scored_with_a_warning(mars, tmp_path):
    from reactdiff.evaluation import evaluate_split
    from reactdiff.generation import generate_split
    from reactdiff.pipeline import ReactionModel

    data, run = mars
    predictions = generate_split(ReactionModel.from_checkpoint(run, device="cpu"), data, "val", num_samples=2, progress=False)
    predictions.emotion = [row + 5.0 for row in predictions.emotion]
    report = evaluate_split(data, "val", predictions={"shifted": predictions})
    assert any("shifted: predictions out of range" in warning for warning in report.warnings)
    assert np.isfinite(report.columns["react2025"]["FRDist"])


def test_a_checkpoint_keeps_its_frame_rate_and_own_clips_are_read_at_it(mars, video_extras, tmp_path):
    """A MARS model learned time at 30 fps: `react` extracts an own clip at 30 fps for it, and the
    live page (whose features run at 25 fps) says why it cannot take it."""
    from pathlib import Path

    from reactdiff.features.extract import clip_frames
    from reactdiff.pipeline import ReactionModel
    from reactdiff.predictions import Predictions
    from reactdiff.serve.live import live_problem

    data, run = mars
    model = ReactionModel.from_checkpoint(run, device="cpu")
    assert model.fps == 30
    media = Path(__file__).resolve().parents[1].parent / "shared" / "media"
    video, audio = media / "face_expressive.mp4", media / "conversation_16k.wav"
    out = tmp_path / "react"
    assert main(["react", str(video), "--audio", str(audio), "--checkpoint", str(run), "--out", str(out), "--samples", "2", "--render", "false"]) == 0
    predictions = Predictions.load(out / "predictions.npz")
    assert predictions.lengths == [clip_frames(video, 30)] and predictions.meta["fps"] == 30
    model.model.config.diffusion.online = True  # as if it were an online checkpoint
    assert "trained at 30 fps" in live_problem(model)

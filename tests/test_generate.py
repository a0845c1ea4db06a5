"""Generation: shapes, padding of a partial last window, determinism under a seed, K distinct
samples, stream mismatch errors, and the CLI end to end (synth -> prepare -> train -> generate)."""

from __future__ import annotations

import numpy as np
import pytest
import torch
from test_checkpoint import STREAMS_JSON, save_tiny
from test_train import TINY_MODEL, tiny_model

from reactdiff.cli import main
from reactdiff.data.layout import ReactLayout
from reactdiff.errors import DataError
from reactdiff.pipeline import ReactionModel
from reactdiff.predictions import Predictions


@pytest.fixture(scope="module")
def generator_model(tmp_path_factory):
    model = tiny_model()
    with torch.no_grad():
        model.set_latent_stats(torch.randn(64, 8))
        # Stand-in for training: a fresh denoiser has zero-initialised outputs, so an x0-predicting
        # one would map every noise draw to the same window.
        for parameter in model.denoiser.parameters():
            torch.nn.init.normal_(parameter, std=0.05)
    return ReactionModel.from_checkpoint(save_tiny(tmp_path_factory.mktemp("ckpt") / "ckpt", model))


def speaker(frames: int, seed: int = 0) -> dict[str, np.ndarray]:
    rng = np.random.default_rng(seed)
    return {name: rng.normal(size=(frames, info["dim"])).astype(np.float32) for name, info in STREAMS_JSON.items()}


def test_shapes_with_a_partial_last_window(generator_model):
    result = generator_model.generate(speaker(120), num_samples=3, steps=2, seed=0)
    assert result["emotion"].shape == (3, 120, 25)
    assert result["coeffs_3dmm"].shape == (3, 120, 58)
    assert all(np.isfinite(value).all() for value in result.values())


def test_same_seed_same_reactions_and_k_distinct_samples(generator_model):
    first = generator_model.generate(speaker(50), num_samples=4, steps=2, seed=7)
    again = generator_model.generate(speaker(50), num_samples=4, steps=2, seed=7)
    other = generator_model.generate(speaker(50), num_samples=4, steps=2, seed=8)
    np.testing.assert_array_equal(first["coeffs_3dmm"], again["coeffs_3dmm"])
    assert not np.allclose(first["coeffs_3dmm"], other["coeffs_3dmm"])
    samples = first["coeffs_3dmm"].reshape(4, -1)
    for i in range(4):
        for j in range(i + 1, 4):
            assert not np.allclose(samples[i], samples[j]), (i, j)


def test_batch_of_speakers_as_list_or_dict(generator_model):
    speakers = [speaker(50, seed) for seed in range(3)]
    from_list = generator_model.generate_batch(speakers, num_samples=2, steps=2, seed=1)
    stacked = {name: np.stack([s[name] for s in speakers]) for name in speakers[0]}
    from_dict = generator_model.generate_batch(stacked, num_samples=2, steps=2, seed=1)
    assert from_list["emotion"].shape == (3, 2, 50, 25)
    np.testing.assert_array_equal(from_list["emotion"], from_dict["emotion"])


def test_missing_stream_is_named(generator_model):
    streams = speaker(50)
    del streams["mfcc"]
    with pytest.raises(DataError, match="mfcc"):
        generator_model.generate(streams, num_samples=1, steps=1)


def test_wrong_stream_width_is_named(generator_model):
    streams = speaker(50)
    streams["3dmm"] = streams["3dmm"][:, :52]
    with pytest.raises(DataError, match="'3dmm' is 52-d"):
        generator_model.generate(streams, num_samples=1, steps=1)


def test_cli_trains_both_stages_and_writes_predictions(tmp_path, capsys):
    data = tmp_path / "data"
    assert main(["synth", str(data), "--preset", "tiny"]) == 0
    assert main(["prepare", str(data)]) == 0
    tiny = [arg for key, value in TINY_MODEL.items() for arg in (f"--model.{key}", str(value))]
    budget = ["--steps", "2", "--batch_size", "2", "--crop_frames", "50", "--val_batches", "1", "--device", "cpu"]
    assert main(["train", "reactdiff", "autoencoder", "--data", str(data), "--out", str(tmp_path / "ae"), *budget, *tiny]) == 0
    assert main(["train", "reactdiff", "diffusion", "--data", str(data), "--autoencoder", str(tmp_path / "ae"), "--out", str(tmp_path / "dm"), *budget]) == 0
    out = tmp_path / "predictions.npz"
    assert main(["generate", "--checkpoint", str(tmp_path / "dm"), "--data", str(data), "--split", "val", "--samples", "2", "--steps", "2", "--out", str(out), "--device", "cpu"]) == 0
    predictions = Predictions.load(out)
    order = ReactLayout(data).eval_order("val")
    assert predictions.speaker_path == [pair.speaker for pair in order]
    assert predictions.listener_path == [pair.listener for pair in order]
    assert predictions.emotion.shape == (len(order), 2, 750, 25)
    assert predictions.coeffs_3dmm.shape == (len(order), 2, 750, 58)
    assert predictions.meta["steps"] == 2 and predictions.meta["checkpoint"].endswith("best")
    # A checkpoint whose streams the data lacks fails with the stream's name.
    (data / "features" / "streams.json").write_text((data / "features" / "streams.json").read_text().replace('"mfcc"', '"mfcc_renamed"'))
    assert main(["generate", "--checkpoint", str(tmp_path / "dm"), "--data", str(data), "--out", str(tmp_path / "x.npz")]) == 2
    assert "mfcc" in capsys.readouterr().err

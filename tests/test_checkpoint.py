"""Checkpoints: safetensors round trip, incomplete checkpoints refused, and exact resume
(N steps, resume, M steps == N + M steps straight)."""

from __future__ import annotations

import json

import pytest
import torch
from safetensors.torch import load_file
from test_train import random_corpus, tiny_model, tiny_model_config, tiny_train_config

from reactdiff.errors import DataError
from reactdiff.methods.reactdiff import build_model
from reactdiff.methods.loading import load_method_checkpoint
from reactdiff.methods.reactdiff.method import METHOD
from reactdiff.pipeline import ReactionModel
from reactdiff.methods.reactdiff.stage_autoencoder import AutoencoderStage
from reactdiff.checkpoint import load_checkpoint, save_checkpoint
from reactdiff.train import loop
from reactdiff.train.loop import train

STREAMS_JSON = {"emotion": {"dim": 25, "kind": "visual"}, "3dmm": {"dim": 58, "kind": "visual"}, "mfcc": {"dim": 26, "kind": "audio"}}


def save_tiny(directory, model, stage="diffusion"):
    weights = dict(model.state_dict())
    return save_checkpoint(
        directory, method="reactdiff", method_version=1, stage=stage, step=0, model_config=tiny_model_config(), train_config=tiny_train_config(),
        streams=STREAMS_JSON, ema_weights=weights, raw_weights=weights,
    )


def test_round_trip_gives_identical_outputs(tmp_path):
    model = tiny_model().eval()
    speaker = {name: torch.randn(1, 100, info["dim"]) for name, info in STREAMS_JSON.items()}
    with torch.no_grad():
        model.set_latent_stats(torch.randn(64, 8))
        expected = model.sample(speaker, num_samples=2, steps=3, generator=torch.Generator().manual_seed(0))
    save_tiny(tmp_path / "ckpt", model)
    loaded = ReactionModel.from_checkpoint(tmp_path / "ckpt")
    actual = loaded.generate({name: value[0].numpy() for name, value in speaker.items()}, num_samples=2, steps=3, seed=0)
    for name in ("emotion", "coeffs_3dmm"):
        assert torch.equal(torch.from_numpy(actual[name]), expected[name][0]), name
    config = json.loads((tmp_path / "ckpt" / "config.json").read_text())
    assert config["model"]["autoencoder"]["latent_dim"] == 8 and config["stage"] == "diffusion"


def test_checkpoint_from_before_a_setting_keeps_its_behaviour(tmp_path):
    """A config.json written before ``diffusion.lookahead_windows`` existed loads with 0 (what it
    was trained with), not today's default; its weights then fit."""
    from reactdiff.config import replace

    old_config = replace(tiny_model_config(), **{"diffusion.lookahead_windows": 0})
    torch.manual_seed(0)
    model = build_model(old_config, {n: i["dim"] for n, i in STREAMS_JSON.items()}, {n: i["kind"] for n, i in STREAMS_JSON.items()})
    save_checkpoint(
        tmp_path / "ckpt", method="reactdiff", method_version=1, stage="diffusion", step=0, model_config=old_config, train_config=tiny_train_config(),
        streams=STREAMS_JSON, ema_weights=dict(model.state_dict()), raw_weights=dict(model.state_dict()),
    )
    path = tmp_path / "ckpt" / "config.json"
    config = json.loads(path.read_text())
    del config["model"]["diffusion"]["lookahead_windows"]
    path.write_text(json.dumps(config))
    # As format version 1 wrote it: no method (ReactDiff was the only one), no file hashes.
    manifest_path = tmp_path / "ckpt" / "checkpoint.json"
    manifest = json.loads(manifest_path.read_text())
    for key in ("method", "method_version", "sha256"):
        del manifest[key]
    manifest_path.write_text(json.dumps(dict(manifest, version=1)))
    assert load_method_checkpoint(tmp_path / "ckpt").config.diffusion.lookahead_windows == 0
    ReactionModel.from_checkpoint(tmp_path / "ckpt")  # the weights fit


def test_checkpoint_without_manifest_is_refused(tmp_path):
    save_tiny(tmp_path / "ckpt", tiny_model())
    (tmp_path / "ckpt" / "checkpoint.json").unlink()
    with pytest.raises(DataError, match="checkpoint.json"):
        load_checkpoint(tmp_path / "ckpt")


def test_autoencoder_checkpoint_is_not_a_generator(tmp_path):
    save_tiny(tmp_path / "ckpt", tiny_model(), stage="autoencoder")
    with pytest.raises(DataError, match="final stage 'diffusion'"):
        ReactionModel.from_checkpoint(tmp_path / "ckpt")


def _stage_setup(stage: str, data, tmp_path):
    """(stage object, a model factory for a fresh run) for ``stage``; stage 2 starts from a
    freshly trained stage-1 checkpoint, as ``reactdiff train diffusion`` does."""
    if stage == "autoencoder":
        return AutoencoderStage(), lambda: None
    from reactdiff.methods.reactdiff.stage_diffusion import DiffusionStage, load_autoencoder

    train(METHOD, AutoencoderStage(), tiny_train_config(steps=2, val_every=2), data, tmp_path / "ae")
    autoencoder = load_checkpoint(tmp_path / "ae" / "best")

    def fresh_model():
        model = tiny_model()
        load_autoencoder(model, autoencoder)
        return model

    return DiffusionStage(), fresh_model


@pytest.mark.parametrize("stage", ["autoencoder", "diffusion"])
def test_resume_continues_exactly(tmp_path, monkeypatch, stage):
    # Two pairs = 4 items = 2 batches: the 4 steps cross an epoch boundary.
    data = random_corpus(tmp_path / "data", pairs={"train": 2, "val": 1})
    stage_object, fresh_model = _stage_setup(stage, data, tmp_path)
    # Validation every step (it must not disturb the RNG), a checkpoint every 2 steps, and an LR
    # decay half-way, so optimizer, schedule, EMA, data order and RNG all have to resume right.
    # Stage 2 crops 2 of the 15 cached latent windows per item: the crops must resume too.
    config = tiny_train_config(
        stage, steps=4, val_every=1, checkpoint_every=2, crop_frames=100 if stage == "diffusion" else 50,
        **{"optim.warmup_steps": 2, "optim.milestones": [0.5]},
    )
    train(METHOD, stage_object, config, data, tmp_path / "straight", model=fresh_model())

    def interrupt_after_step_2(directory, **kwargs):
        saved = save_checkpoint(directory, **kwargs)
        if directory.name == "last" and kwargs["step"] == 2:
            raise KeyboardInterrupt
        return saved

    monkeypatch.setattr(loop, "save_checkpoint", interrupt_after_step_2)
    with pytest.raises(KeyboardInterrupt):
        train(METHOD, stage_object, config, data, tmp_path / "resumed", model=fresh_model())
    monkeypatch.undo()
    assert load_checkpoint(tmp_path / "resumed" / "last").step == 2
    # Resumed as the CLI does: the model is rebuilt from the checkpoint alone.
    train(METHOD, stage_object, config, data, tmp_path / "resumed", resume=True)
    for name in ("weights.safetensors", "model.safetensors"):
        straight = load_file(tmp_path / "straight" / "last" / name)
        resumed = load_file(tmp_path / "resumed" / "last" / name)
        assert straight.keys() == resumed.keys()
        for key in straight:
            assert torch.allclose(straight[key], resumed[key], atol=1e-6, rtol=0), (name, key)
    state = json.loads((tmp_path / "resumed" / "last" / "training_state.json").read_text())
    assert state["step"] == 4
    if stage == "autoencoder":
        assert load_checkpoint(tmp_path / "resumed" / "last").manifest["latent_stats"] is True


def test_flipped_bytes_in_the_weights_are_refused(tmp_path):
    save_tiny(tmp_path / "ckpt", tiny_model())
    weights = tmp_path / "ckpt" / "model.safetensors"
    data = bytearray(weights.read_bytes())
    data[-10] ^= 0xFF  # inside the tensor data: safetensors itself would load it
    weights.write_bytes(bytes(data))
    with pytest.raises(DataError, match="SHA-256"):
        ReactionModel.from_checkpoint(tmp_path / "ckpt")


@pytest.mark.parametrize("left", ["previous", "staging", "both"])
def test_a_save_interrupted_between_its_renames_is_recovered(tmp_path, left):
    """A crash after `last` -> `.last.previous` and before `.last.staging` -> `last` leaves no
    `last/`: loading adopts the newest complete copy instead of restarting from step 0."""
    run = tmp_path / "run"
    save_tiny(run / "last", tiny_model())
    if left in ("previous", "both"):
        (run / "last").rename(run / ".last.previous")
    if left in ("staging", "both"):
        if left == "staging":
            (run / "last").rename(run / ".last.staging")
        else:
            save_tiny(run / "fresh", tiny_model(seed=1))
            (run / "fresh").rename(run / ".last.staging")
    checkpoint = load_checkpoint(run)
    assert checkpoint.directory == run / "last" and (run / "last" / "checkpoint.json").is_file()
    if left == "both":  # the staged copy is the newer one
        assert not (run / ".last.staging").exists() and (run / ".last.previous").exists()


def test_malformed_manifests_and_training_states_are_one_line_errors(tmp_path):
    save_tiny(tmp_path / "ckpt", tiny_model())
    manifest_path = tmp_path / "ckpt" / "checkpoint.json"
    manifest = json.loads(manifest_path.read_text())
    manifest_path.write_text(json.dumps(dict(manifest, version="2")))
    with pytest.raises(DataError, match="'version' must be an integer"):
        load_checkpoint(tmp_path / "ckpt")
    manifest_path.write_text(json.dumps(manifest))


def test_resume_without_rng_state_is_refused(tmp_path):
    data = random_corpus(tmp_path / "data", pairs={"train": 2, "val": 1})
    config = tiny_train_config(steps=2, val_every=2)
    train(METHOD, AutoencoderStage(), config, data, tmp_path / "run")
    state_path = tmp_path / "run" / "last" / "training_state.json"
    state = json.loads(state_path.read_text())
    del state["rng"]
    state_path.write_text(json.dumps(state))
    manifest_path = tmp_path / "run" / "last" / "checkpoint.json"
    manifest = json.loads(manifest_path.read_text())
    del manifest["sha256"]["training_state.json"]  # an edit that keeps the hash check quiet
    manifest_path.write_text(json.dumps(manifest))
    with pytest.raises(DataError, match="missing rng"):
        train(METHOD, AutoencoderStage(), tiny_train_config(steps=4, val_every=2), data, tmp_path / "run", resume=True)


def test_a_whole_method_run_folder_reads_as_its_final_stage(tmp_path):
    from reactdiff.checkpoint import RUN_RECORD, find_checkpoint

    model = tiny_model().eval()
    with torch.no_grad():
        model.set_latent_stats(torch.randn(64, 8))
    save_tiny(tmp_path / "run" / "diffusion" / "best", model)
    (tmp_path / "run" / RUN_RECORD).write_text(json.dumps({"method": "reactdiff", "final_stage": "diffusion"}))
    assert find_checkpoint(tmp_path / "run") == tmp_path / "run" / "diffusion" / "best"
    assert ReactionModel.from_checkpoint(tmp_path / "run").name == "reactdiff"
    (tmp_path / "run" / RUN_RECORD).write_text(json.dumps({"final_stage": "../elsewhere"}))
    with pytest.raises(DataError, match="final_stage"):
        find_checkpoint(tmp_path / "run")

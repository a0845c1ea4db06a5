"""Every registered method, tested by being registered: one optimiser step lowers each stage's loss
on a fixed batch; save -> load -> generate is bit-identical for a fixed seed; outputs have the
contract's shapes and ranges; online configurations never look ahead; the CLI trains and generates
through the same commands for all of them."""

from __future__ import annotations

import pytest
import torch
from test_train import random_corpus

from reactdiff.constants import AU_SLICE, EXPRESSION_SLICE, VA_SLICE
from reactdiff.methods.registry import METHODS

NAMES = list(METHODS)


@pytest.fixture(scope="module")
def corpus(tmp_path_factory):
    return random_corpus(tmp_path_factory.mktemp("methods") / "data", pairs={"train": 4, "val": 2, "test": 1})


def _tiny_budget(method, preset: str = "tiny") -> dict:
    budget = method.budget("tiny")
    first = method.stages[0].name
    budget[first] = dict(budget.get(first, {}), preset=preset)
    return {stage: dict(values, device="cpu", seed=0) for stage, values in budget.items()}


@pytest.fixture(scope="module")
def trained(corpus, tmp_path_factory):
    """Each method trained on its tiny budget: name -> run folder (one sub-folder per stage)."""
    from reactdiff.train.run import train_method

    runs = {}
    for name in NAMES:
        out = tmp_path_factory.mktemp(f"run-{name}")
        train_method(name, corpus, out, settings=_tiny_budget(METHODS[name]))
        runs[name] = out
    return runs


def _speaker(frames: int, seed: int = 0) -> dict:
    generator = torch.Generator().manual_seed(seed)
    return {name: torch.randn(frames, dim, generator=generator).numpy() for name, dim in (("emotion", 25), ("3dmm", 58), ("mfcc", 26))}


def _final(run, method):
    return run / method.stages[-1].name


@pytest.mark.parametrize("name", NAMES)
def test_every_method_has_the_presets_and_budgets_the_tools_use(name):
    method = METHODS[name]
    assert {"default", "tiny"} <= set(method.presets)
    assert {"tiny", "demo", "long"} <= set(method.budgets)
    for preset in method.presets:
        method.validate_config(method.preset(preset))
    online = method.online_variant(method.preset("tiny"))
    if method.is_online(method.preset("tiny")) or online is not None:
        assert "tiny-online" in method.presets or method.is_online(method.preset("tiny"))


@pytest.mark.parametrize("name", NAMES)
def test_one_optimiser_step_lowers_each_stage_loss(name, corpus, trained):
    from reactdiff.methods.loading import load_method_checkpoint
    from reactdiff.train.loop import collate, stream_description
    from reactdiff.store import FeatureStore

    method = METHODS[name]
    for stage in method.stages:
        loaded = load_method_checkpoint(trained[name] / stage.name / "last")
        model = loaded.build(ema=False).train()
        trainer = stage.load_trainer()
        streams = stream_description(FeatureStore(corpus / "features"), tuple(trainer.data_streams(loaded.config)))
        crop = max(loaded.checkpoint.train_config.get("crop_frames", 100), method.frame_multiple(loaded.config))
        torch.manual_seed(0)
        dataset, _ = trainer.datasets(model, corpus, tuple(streams), crop, torch.device("cpu"))
        batch = collate([dataset[i] for i in range(2)], torch.device("cpu"))
        parameters = trainer.trainable_parameters(model)

        def loss() -> torch.Tensor:
            torch.manual_seed(1)  # the same dropout masks and noise draws before and after the step
            return trainer.loss(model, batch, torch.Generator().manual_seed(2))[0]

        before = loss()
        optimizer = torch.optim.SGD(parameters, lr=1e-3)
        optimizer.zero_grad()
        before.backward()
        optimizer.step()
        with torch.no_grad():
            after = loss()
        assert float(after) < float(before.detach()), (stage.name, float(before.detach()), float(after))


@pytest.mark.parametrize("name", NAMES)
def test_save_load_generate_is_bit_identical_and_in_range(name, trained, tmp_path):
    from reactdiff.checkpoint import load_checkpoint, save_checkpoint
    from reactdiff.pipeline import ReactionModel

    method = METHODS[name]
    first = ReactionModel.from_checkpoint(_final(trained[name], method))
    reactions = first.generate(_speaker(130), num_samples=3, seed=5)
    assert reactions["emotion"].shape == (3, 130, 25) and reactions["coeffs_3dmm"].shape == (3, 130, 58)
    emotion = torch.from_numpy(reactions["emotion"])
    assert set(emotion[..., AU_SLICE].unique().tolist()) <= {0.0, 1.0}
    assert emotion[..., VA_SLICE].abs().max() <= 1.0
    expressions = emotion[..., EXPRESSION_SLICE]
    assert expressions.min() >= 0 and torch.allclose(expressions.sum(-1), torch.ones(()), atol=1e-4)
    assert torch.isfinite(torch.from_numpy(reactions["coeffs_3dmm"])).all()

    # Save the loaded model again and load that: the same seed gives the same bits.
    source = load_checkpoint(first.source)
    weights = dict(first.model.state_dict())
    save_checkpoint(tmp_path / "again", method=name, method_version=method.version, stage=source.stage, step=source.step,
                    model_config=first.config, train_config=source.train_config, streams=source.streams,
                    ema_weights=weights, raw_weights=weights)
    again = ReactionModel.from_checkpoint(tmp_path / "again").generate(_speaker(130), num_samples=3, seed=5)
    for key in ("emotion", "coeffs_3dmm"):
        assert (again[key] == reactions[key]).all(), key
    other_seed = first.generate(_speaker(130), num_samples=3, seed=6)
    assert not (other_seed["coeffs_3dmm"] == reactions["coeffs_3dmm"]).all()


@pytest.mark.parametrize("name", NAMES)
def test_online_generation_never_looks_ahead(name, corpus, tmp_path):
    from reactdiff.pipeline import ReactionModel
    from reactdiff.train.run import train_method

    method = METHODS[name]
    tiny = method.preset("tiny")
    if not method.is_online(tiny) and method.online_variant(tiny) is None:
        pytest.skip(f"{name} is offline only")
    preset = "tiny" if method.is_online(tiny) else "tiny-online"
    train_method(name, corpus, tmp_path, settings=_tiny_budget(method, preset))
    model = ReactionModel.from_checkpoint(_final(tmp_path, method))
    assert model.online
    speaker = _speaker(200)
    changed = {key: value.copy() for key, value in speaker.items()}
    cut = 120
    for value in changed.values():
        value[cut:] += 3.0
    before = model.generate(speaker, num_samples=2, seed=0)
    after = model.generate(changed, num_samples=2, seed=0)
    for key in ("emotion", "coeffs_3dmm"):
        assert (before[key][:, :cut] == after[key][:, :cut]).all(), key
        assert not (before[key][:, cut:] == after[key][:, cut:]).all(), key


@pytest.mark.parametrize("name", NAMES)
def test_cli_trains_generates_and_evaluates_every_method(name, tmp_path_factory):
    """The same commands for every method, end to end on the tiny synthetic corpus."""
    import json

    import yaml

    from reactdiff.cli import main

    method = METHODS[name]
    data = tmp_path_factory.getbasetemp() / "cli-tiny-corpus"
    if not (data / "features").is_dir():
        assert main(["synth", str(data), "--preset", "tiny", "--no-progress"]) == 0
        assert main(["prepare", str(data)]) == 0
    tmp = tmp_path_factory.mktemp(f"cli-{name}")
    config = tmp / "budget.yaml"
    budget = _tiny_budget(method)
    if len(method.stages) == 1:
        argv = ["train", name]
        stage = method.stages[0]
        config.write_text(yaml.safe_dump(_nested(budget[stage.name])))
    else:
        argv = ["train", name]
        config.write_text(yaml.safe_dump({stage: _nested(values) for stage, values in budget.items()}))
    assert main([*argv, "--data", str(data), "--out", str(tmp / "run"), "--config", str(config)]) == 0
    checkpoint = tmp / "run"  # a multi-stage run folder reads as its final stage (run.json)
    predictions = tmp / "predictions.npz"
    assert main(["generate", "--checkpoint", str(checkpoint), "--data", str(data), "--samples", "2", "--out", str(predictions), "--device", "cpu"]) == 0
    assert main(["evaluate", "--data", str(data), "--predictions", str(predictions), "--protocol", "corrected"]) == 0
    report = json.loads((tmp / "predictions_metrics.json").read_text())
    assert report["results"]["corrected"]["FRDist"] > 0
    video = tmp / "row0.mp4"
    assert main(["render", "--predictions", str(predictions), "--data", str(data), "--index", "0", "--out", str(video), "--max_frames", "50"]) == 0
    assert video.stat().st_size > 0


@pytest.mark.parametrize("name", NAMES)
def test_every_method_reacts_to_a_real_clip(name, trained, video_extras, tmp_path):
    from pathlib import Path

    from reactdiff.cli import main
    from reactdiff.predictions import Predictions

    media = Path(__file__).resolve().parents[1].parent / "shared" / "media"
    out = tmp_path / "react"
    argv = ["react", str(media / "face_expressive.mp4"), "--audio", str(media / "conversation_16k.wav"),
            "--checkpoint", str(_final(trained[name], METHODS[name])), "--out", str(out), "--samples", "2"]
    assert main(argv) == 0
    predictions = Predictions.load(out / "predictions.npz")
    assert predictions.emotion.shape[:2] == (1, 2) and predictions.meta["method"] == name
    assert (out / "reactions.mp4").stat().st_size > 0


def _nested(dotted: dict) -> dict:
    nested: dict = {}
    for key, value in dotted.items():
        parts = key.split(".")
        target = nested
        for part in parts[:-1]:
            target = target.setdefault(part, {})
        target[parts[-1]] = value
    return nested


@pytest.mark.parametrize("name", [name for name in NAMES if len(METHODS[name].stages) > 1])
def test_a_later_stage_starts_from_the_same_model_whatever_the_process_rng(name, corpus, trained, tmp_path):
    """A stage that continues an earlier one builds its new networks before the loop seeds; the
    same command must still give the same model, whatever ran before it in the process."""
    from safetensors.torch import load_file

    from reactdiff.train.run import train_stage

    method = METHODS[name]
    first, later = method.stages[0].name, method.stages[1].name
    settings = dict(_tiny_budget(method)[later], steps=1)
    weights = []
    for process_seed in (1, 2):
        torch.manual_seed(process_seed)  # what an earlier computation in the process leaves behind
        out = tmp_path / f"after-{process_seed}"
        train_stage(name, later, corpus, out, settings=settings, previous=trained[name] / first)
        weights.append(load_file(out / "last" / "weights.safetensors"))
    assert weights[0].keys() == weights[1].keys()
    assert all(torch.equal(weights[0][key], weights[1][key]) for key in weights[0])


@pytest.mark.parametrize("name", NAMES)
def test_every_recipe_resolves_to_a_valid_stage_config(name, tmp_path):
    """A recipe (``--recipe``, a benchmark row ``METHOD:RECIPE``) names only settings its stages
    know, with values the method accepts (e.g. ReactDiff's demo-guided sets condition dropout)."""
    from reactdiff.train.run import resolve_stage_config

    method = METHODS[name]
    for recipe in method.budgets:
        for stage in method.stages:
            settings = method.budget(recipe).get(stage.name, {})
            config = resolve_stage_config(method, stage, tmp_path / recipe / stage.name, settings)
            config.validate(frame_multiple=method.frame_multiple(config.model))
            method.validate_config(config.model)
            if (name, recipe, stage.name) == ("reactdiff", "demo-guided", "diffusion"):
                assert (config.model.diffusion.cond_dropout, config.model.diffusion.guidance) == (0.1, 1.5)

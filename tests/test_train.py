"""Training: one step lowers the loss on a fixed batch (both stages), the LR schedule, the EMA and
the config checks. Also holds the small random feature corpus the other training tests use."""

from __future__ import annotations

import csv
from pathlib import Path

import numpy as np
import pytest
import torch

from reactdiff.config import replace
from reactdiff.constants import CLIP_FRAMES_STORED
from reactdiff.store import FeatureStore, StreamInfo
from reactdiff.errors import ConfigError
from reactdiff.methods.reactdiff import ModelConfig, build_model
from reactdiff.methods.reactdiff.stage_autoencoder import AutoencoderStage
from reactdiff.methods.base import OptimConfig
from reactdiff.methods.reactdiff.config import AutoencoderTrainConfig, DiffusionTrainConfig
from reactdiff.methods.reactdiff.stage_diffusion import DiffusionStage
from reactdiff.train.ema import EMA
from reactdiff.train.schedule import WarmupStepDecay

STREAMS = {"emotion": (25, "visual"), "3dmm": (58, "visual"), "mfcc": (26, "audio")}
#: A model small enough for many CPU steps inside a unit test.
TINY_MODEL = {
    "autoencoder.hidden_dim": 16, "autoencoder.latent_dim": 8, "autoencoder.decoder_ff_dim": 16,
    "autoencoder.intra_depth": 1, "autoencoder.inter_depth": 1, "autoencoder.decoder_layers": 1,
    "autoencoder.dropout": 0.0, "denoiser.width": 16, "denoiser.depth": 1, "denoiser.cond_dim": 64,
    "diffusion.train_steps": 50,
}


def tiny_model_config() -> ModelConfig:
    return replace(ModelConfig(), **TINY_MODEL)


def tiny_model(seed: int = 0):
    torch.manual_seed(seed)
    return build_model(tiny_model_config(), {n: d for n, (d, _) in STREAMS.items()}, {n: k for n, (_, k) in STREAMS.items()})


def tiny_train_config(stage: str = "autoencoder", **overrides):
    """A few-step config on the tiny model; dotted ``overrides`` (``optim.lr`` as ``optim__lr``)."""
    config_class = AutoencoderTrainConfig if stage == "autoencoder" else DiffusionTrainConfig
    config = config_class(model=tiny_model_config(), batch_size=2, crop_frames=50, val_batches=1, log_every=1, device="cpu")
    return replace(config, **overrides)


def random_corpus(root: Path, pairs: dict[str, int] | None = None, seed: int = 0) -> Path:
    """A REACT-layout split list plus a prepared feature store of random streams (no media files:
    training and generation only read the store). The listener's emotion follows the speaker's."""
    rng = np.random.default_rng(seed)
    store = FeatureStore(root / "features")
    for name, (dim, kind) in STREAMS.items():
        store.register(StreamInfo(name, dim, kind=kind, source="test"))
    for split, count in (pairs or {"train": 4, "val": 2, "test": 1}).items():
        rows = []
        for index in range(count):
            speaker, listener = (f"NoXI/{index:03d}_{split}/{person}/1" for person in ("Expert_video", "Novice_video"))
            rows.append((speaker, listener))
            base = rng.normal(size=(CLIP_FRAMES_STORED, 1)).astype(np.float32)
            for clip in (speaker, listener):
                for name, (dim, _) in STREAMS.items():
                    values = base + 0.5 * rng.normal(size=(CLIP_FRAMES_STORED, dim)).astype(np.float32)
                    store.write(name, f"{split}/{clip}", values.astype(np.float32))
        with open(root / f"{split}.csv", "w", newline="") as handle:
            writer = csv.writer(handle)
            writer.writerow(["", "speaker_path", "listener_path"])
            writer.writerows([(i, s, l) for i, (s, l) in enumerate(rows)])
        # Appropriateness matrix in evaluation order (pairs, then mirrored): each speaker's own
        # listener plus the next row's (methods that train on every appropriate reaction read it).
        size = 2 * count
        np.save(root / f"neighbour_emotion_{split}.npy", np.maximum(np.eye(size, dtype=np.int8), np.eye(size, k=1, dtype=np.int8)))
    return root


def fixed_batch(batch: int = 2, frames: int = 50, seed: int = 0) -> dict:
    generator = torch.Generator().manual_seed(seed)
    return {
        role: {name: torch.randn(batch, frames, dim, generator=generator) for name, (dim, _) in STREAMS.items()}
        for role in ("speaker", "listener")
    }


def _fit(stage, model, batch, steps: int, lr: float, noise_seed: int | None = None) -> tuple[float, float]:
    parameters = stage.trainable_parameters(model)
    optimizer = torch.optim.AdamW(parameters, lr=lr)
    model.train()

    def loss_now():
        generator = None if noise_seed is None else torch.Generator().manual_seed(noise_seed)
        return stage.loss(model, batch, generator)[0]

    with torch.no_grad():
        before = float(loss_now())
    for _ in range(steps):
        optimizer.zero_grad()
        loss_now().backward()
        optimizer.step()
    with torch.no_grad():
        after = float(loss_now())
    return before, after


def test_autoencoder_training_lowers_loss_on_a_fixed_batch():
    model = tiny_model()
    before, after = _fit(AutoencoderStage(), model, fixed_batch(), steps=8, lr=3e-3)
    assert after < before


def test_autoencoder_stage_trains_only_the_autoencoder():
    model = tiny_model()
    trainable = {id(p) for p in AutoencoderStage().trainable_parameters(model)}
    assert trainable == {id(p) for p in model.autoencoder.parameters()}
    assert not trainable & {id(p) for p in model.diffusion_parameters()}


def test_diffusion_training_lowers_loss_and_keeps_the_autoencoder_frozen():
    model = tiny_model()
    streams = fixed_batch()
    with torch.no_grad():
        model.set_latent_stats(model.encode(streams["speaker"]).reshape(-1, 8))
    # Stage 2 trains on latents encoded once (LatentWindows items), not on the streams.
    speaker, listener = model.encode_windows(streams["speaker"]), model.encode_windows(streams["listener"])
    batch = {"speaker": {"condition": model.condition_windows(speaker)}, "listener": {"latent": listener}}
    frozen = {name: p.clone() for name, p in model.autoencoder.named_parameters()}
    before, after = _fit(DiffusionStage(), model, batch, steps=8, lr=3e-3, noise_seed=1)
    assert after < before
    for name, parameter in model.autoencoder.named_parameters():
        assert torch.equal(parameter, frozen[name]), name


def test_latent_windows_give_the_loss_of_the_whole_clips(tmp_path):
    """Stage-2 items from latents encoded once: a val item's loss equals the loss computed from its
    streams, and train crops are window-aligned slices that keep the real previous speaker window."""
    from reactdiff.data.dataset import ReactPairDataset
    from reactdiff.methods.reactdiff.stage_diffusion import LatentWindows
    from reactdiff.train.loop import collate

    root = random_corpus(tmp_path)
    model = tiny_model().eval()
    with torch.no_grad():
        model.set_latent_stats(torch.randn(64, 8))
    names = tuple(STREAMS)
    val = ReactPairDataset(root, "val", names)
    items = LatentWindows(model, val, torch.device("cpu"))
    batch = collate([items[0], items[1]], torch.device("cpu"))
    clips = collate([val[0], val[1]], torch.device("cpu"))
    with torch.no_grad():
        cached, _ = model.window_loss(batch["speaker"]["condition"], batch["listener"]["latent"], torch.Generator().manual_seed(3))
        direct, _ = model.diffusion_loss(clips["speaker"], clips["listener"], torch.Generator().manual_seed(3))
    torch.testing.assert_close(cached, direct)

    train = LatentWindows(model, ReactPairDataset(root, "train", names, train=True, crop_frames=100), torch.device("cpu"))
    whole = model.condition_windows(train.latents[train.pairs[0].speaker][None])[0]
    listener = train.latents[train.pairs[0].listener]
    starts = set()
    for _ in range(40):
        item = train[0]
        assert item["listener"]["latent"].shape == (2, 50, 8)
        start = next(s for s in range(listener.shape[0] - 1) if torch.equal(listener[s : s + 2], item["listener"]["latent"]))
        assert torch.equal(item["speaker"]["condition"], whole[start : start + 2])
        starts.add(start)
    assert len(starts) > 1 and max(starts) > 0  # random crops, and later crops see a real previous window
    assert torch.count_nonzero(whole[max(starts)]) == whole[max(starts)].numel()


def test_schedule_warms_up_linearly_then_decays_at_budget_fractions():
    config = OptimConfig(lr=1e-3, warmup_steps=10, milestones=(0.5, 0.75), gamma=0.1)
    schedule = WarmupStepDecay(config)
    assert schedule.lr(0, 0.0) == pytest.approx(config.lr / config.warmup_steps)
    assert schedule.lr(4, 0.0) == pytest.approx(config.lr * 5 / config.warmup_steps)
    assert schedule.lr(50, 0.49) == pytest.approx(config.lr)
    assert schedule.lr(50, 0.5) == pytest.approx(config.lr * config.gamma)
    assert schedule.lr(90, 0.8) == pytest.approx(config.lr * config.gamma**2)


def test_stage_defaults_are_the_published_learning_rates():
    assert AutoencoderTrainConfig().optim.lr == 1e-4
    assert DiffusionTrainConfig().optim.lr == 5e-5
    assert AutoencoderTrainConfig().optim.weight_decay == DiffusionTrainConfig().optim.weight_decay == 5e-4


def test_ema_follows_the_weights_with_warmed_up_decay():
    model = torch.nn.Linear(3, 1)
    ema = EMA(model, decay=0.999)
    start = model.weight.detach().clone()
    with torch.no_grad():
        model.weight.add_(1.0)
    ema.update(model)
    weight = 1 - min(0.999, 1 / 10)  # first update: decay (1 + 0) / (10 + 0)
    assert torch.allclose(ema.module.weight, start + weight, atol=1e-6)


@pytest.mark.parametrize("overrides", [
    {"crop_frames": 75}, {"steps": 0}, {"ema_decay": 1.0}, {"optim.milestones": [1.5]}, {"optim.lr": -1.0}, {"batch_size": -2},
])
def test_config_rejects_settings_that_cannot_train(overrides):
    key = next(iter(overrides))
    with pytest.raises(ConfigError, match=key.replace(".", r"\.")):
        # ReactDiff crops whole 50-frame windows.
        replace(AutoencoderTrainConfig(), **overrides).validate(frame_multiple=50)


def test_the_training_loop_validates_with_a_stages_validation_loss():
    from types import SimpleNamespace

    from reactdiff.train.loop import validate

    class Stage:
        def loss(self, model, batch, generator):
            return torch.tensor(100.0), {}

        def validation_loss(self, model, batch, generator):
            return torch.tensor(7.0)

    dataset = [{"speaker": {"x": torch.zeros(2)}, "listener": {"y": torch.zeros(1)}} for _ in range(3)]
    config = SimpleNamespace(val_batches=0, batch_size=2, seed=0)
    model = torch.nn.Linear(1, 1)
    assert validate(Stage(), model, dataset, config, torch.device("cpu")) == 7.0
    del Stage.validation_loss
    assert validate(Stage(), model, dataset, config, torch.device("cpu")) == 100.0

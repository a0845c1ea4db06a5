"""BeLFusion specifics beyond the registry-wide tests (tests/test_methods.py): the original's sizes,
the window semantics (independent windows offline, the previous speaker window online), the fixed
defects (3DMM head trained on real 3DMM, training windows over the whole clip), the latent
statistics, and the settings it refuses."""

from __future__ import annotations

import dataclasses

import pytest
import torch
from test_train import random_corpus

from reactdiff.errors import ConfigError
from reactdiff.methods.registry import METHODS

METHOD = METHODS["belfusion"]


@pytest.fixture(scope="module")
def corpus(tmp_path_factory):
    return random_corpus(tmp_path_factory.mktemp("belfusion") / "data", pairs={"train": 3, "val": 1})


def _tiny(online: bool = False):
    config = METHOD.preset("tiny-online" if online else "tiny")
    torch.manual_seed(0)
    model = METHOD.build(config, {"emotion": 25}, {"emotion": "visual"}).eval()
    model.set_latent_stats(torch.randn(64, config.vae.latent_dim))
    return model


def test_original_preset_has_the_original_parameter_counts():
    # PEER_MODELS.md section 2: VAE 242,579 (with coeff_reg 10,810), MLPSkipNet 12,300,928.
    model = METHOD.build(METHOD.preset("original"), {"emotion": 25}, {"emotion": "visual"})
    assert METHOD.describe(model) == {"vae": 242_579, "coeff_reg": 10_810, "denoiser": 12_300_928, "total": 12_543_507}


@pytest.mark.parametrize("online", [False, True])
def test_each_listener_window_reads_only_its_speaker_window(online):
    """Offline window j reads speaker window j, online window j reads window j - 1: changing
    speaker window 1 changes listener window 1 (offline) or 2 (online) and nothing else."""
    model = _tiny(online)
    speaker = torch.randn(1, 200, 25, generator=torch.Generator().manual_seed(1))
    changed = speaker.clone()
    changed[:, 50:100] += 2.0
    before = model.sample(speaker, num_samples=2, generator=torch.Generator().manual_seed(0))["coeffs_3dmm"]
    after = model.sample(changed, num_samples=2, generator=torch.Generator().manual_seed(0))["coeffs_3dmm"]
    affected = 2 if online else 1
    for window in range(4):
        same = torch.equal(before[..., window * 50 : (window + 1) * 50, :], after[..., window * 50 : (window + 1) * 50, :])
        assert same == (window != affected), window


def test_shared_noise_starts_every_window_of_a_sample_from_one_draw():
    """With one noise per sample, windows with the same speaker window decode to the same reaction;
    with the original's noise per window they differ."""
    model = _tiny()
    speaker = torch.randn(1, 50, 25, generator=torch.Generator().manual_seed(1)).repeat(1, 3, 1)
    for shared in (True, False):
        out = model.sample(speaker, num_samples=2, shared_noise=shared, generator=torch.Generator().manual_seed(0))["coeffs_3dmm"]
        windows = out.reshape(1, 2, 3, 50, 58)
        # Equal up to float rounding: the same window at another batch position may round differently.
        assert torch.allclose(windows[:, :, 0], windows[:, :, 2], atol=1e-5, rtol=0) == shared
        assert not torch.equal(windows[:, 0], windows[:, 1])  # samples still differ


def test_vae_stage_trains_the_3dmm_head_on_the_persons_real_3dmm():
    """The original's dataset passed 0 as the 3DMM target (its head learned the mean face)."""
    from reactdiff.methods.belfusion.stage_vae import VAEStage

    model, stage = _tiny(), VAEStage()
    generator = torch.Generator().manual_seed(0)
    batch = {role: {"emotion": torch.randn(2, 50, 25, generator=generator), "3dmm": torch.randn(2, 50, 58, generator=generator)}
             for role in ("speaker", "listener")}
    _, logs = stage.loss(model, batch, torch.Generator().manual_seed(1))
    shifted = {role: dict(streams, **{"3dmm": streams["3dmm"] + 1.0}) for role, streams in batch.items()}
    _, shifted_logs = stage.loss(model, shifted, torch.Generator().manual_seed(1))
    assert shifted_logs["mse_emotion"] == logs["mse_emotion"]
    assert shifted_logs["mse_3dmm"] > logs["mse_3dmm"] + 0.5


def test_diffusion_windows_come_from_the_whole_clip(corpus):
    """The original only trained on listener frames [0, 100); our crops start anywhere."""
    from reactdiff.constants import CLIP_FRAMES
    from reactdiff.methods.belfusion.stage_diffusion import DiffusionStage

    train, _ = DiffusionStage().datasets(_tiny(), corpus, ("emotion",), 50, torch.device("cpu"))
    torch.manual_seed(0)
    starts = []
    for index in range(len(train)):
        full = train.clip(train.pairs[index].listener)["emotion"]
        crop = train[index]["listener"]["emotion"]
        starts += [s for s in range(CLIP_FRAMES - 49) if torch.equal(full[s : s + 50], crop)]
    assert len(starts) == len(train) and max(starts) > 100


def test_latent_statistics_span_every_training_window(corpus):
    from reactdiff.data.dataset import ReactPairDataset
    from reactdiff.methods.belfusion.stage_vae import VAEStage

    model = _tiny()
    dataset = ReactPairDataset(corpus, "train", ("emotion", "3dmm"), train=False)
    VAEStage().finish(model, dataset, torch.device("cpu"), batch_size=4)
    persons = {clip for pair in dataset.pairs for clip in (pair.speaker, pair.listener)}
    emotion = torch.stack([dataset.clip(clip)["emotion"] for clip in sorted(persons)])
    with torch.no_grad():
        normalized = model.normalize(model.encode(emotion)).flatten(0, 1)
    assert torch.allclose(normalized.min(0).values, torch.tensor(-1.0), atol=1e-5)
    assert torch.allclose(normalized.max(0).values, torch.tensor(1.0), atol=1e-5)


def test_refused_settings_name_the_setting():
    config = METHOD.preset("tiny")
    with pytest.raises(ConfigError, match="model.streams"):
        METHOD.validate_config(dataclasses.replace(config, streams=("emotion", "mfcc")))
    with pytest.raises(ConfigError, match="model.vae.latent_dim"):
        METHOD.validate_config(dataclasses.replace(config, vae=dataclasses.replace(config.vae, latent="hidden")))
    with pytest.raises(ConfigError, match="--steps"):
        METHOD.check_sampling(config, {"steps": config.diffusion.train_steps + 1})
    with pytest.raises(ConfigError, match="--eta"):
        METHOD.check_sampling(config, {"eta": -1.0})
    with pytest.raises(ConfigError, match="sampler"):
        METHOD.check_sampling(config, {"sampler": "ddpm"})
    assert METHOD.check_sampling(config, {"steps": 4}) == {"steps": 4, "eta": 0.0, "shared_noise": False}


def test_online_training_needs_two_windows_per_crop(corpus):
    from reactdiff.methods.belfusion.stage_diffusion import DiffusionStage

    with pytest.raises(ConfigError, match="crop_frames"):
        DiffusionStage().datasets(_tiny(online=True), corpus, ("emotion",), 50, torch.device("cpu"))

"""Trans-VAE specifics beyond the registry-wide tests (tests/test_methods.py): the original's sizes,
per-frame causality of the online mode, no zero tail, the permutation-invariant latent, errors."""

from __future__ import annotations

import dataclasses

import pytest
import torch

from reactdiff.errors import ConfigError
from reactdiff.methods.registry import METHODS

DIMS = {"emotion": 25, "3dmm": 58, "mfcc": 26, "mfcc78": 78}
KINDS = {"emotion": "visual", "3dmm": "visual", "mfcc": "audio", "mfcc78": "audio"}
METHOD = METHODS["transvae"]


def _build(config):
    torch.manual_seed(0)
    return METHOD.build(config, {n: DIMS[n] for n in config.streams}, {n: KINDS[n] for n in config.streams}).eval()


def _speaker(frames: int, batch: int = 1, seed: int = 0) -> dict[str, torch.Tensor]:
    generator = torch.Generator().manual_seed(seed)
    return {name: torch.randn(batch, frames, DIMS[name], generator=generator) for name in ("emotion", "3dmm", "mfcc")}


@pytest.mark.parametrize("preset, expected", [("original", 651_731), ("original-online", 1_033_811)])
def test_original_preset_has_the_specs_parameter_count(preset, expected):
    # docs/shared spec: 1,288,755 parameters in use offline and 1,670,835 online, of which the
    # per-frame CNN + Linear(128, 128) is 664,288; we replace the CNN by Linear(83, 128) (10,752)
    # and keep the Linear(128, 128) (16,512). With the 78-d MFCC layout nothing else changes.
    config = dataclasses.replace(METHOD.preset(preset), streams=("emotion", "3dmm", "mfcc78"))
    with torch.device("meta"):
        model = _build(config)
    assert METHOD.describe(model)["total"] == expected == 1_288_755 + (1_670_835 - 1_288_755) * config.online - 664_288 + 10_752 + 16_512


def test_online_frames_never_depend_on_later_speaker_frames():
    config = METHOD.preset("tiny-online")
    model = _build(config)
    window = config.window
    speaker = _speaker(5 * window)
    reference = model.sample(speaker, 2, torch.Generator().manual_seed(3))
    # Cuts inside a window, at a window's first frame, and one frame after it.
    for cut in (window // 2, 2 * window, 2 * window + 1, 4 * window - 1):
        changed = {name: value.clone() for name, value in speaker.items()}
        for value in changed.values():
            value[:, cut:] += 3.0
        result = model.sample(changed, 2, torch.Generator().manual_seed(3))
        for key in ("emotion", "coeffs_3dmm"):
            assert torch.equal(result[key][:, :, :cut], reference[key][:, :, :cut]), (cut, key)
        assert not torch.equal(result["coeffs_3dmm"][:, :, cut:], reference["coeffs_3dmm"][:, :, cut:]), cut


def test_online_covers_every_frame_when_the_clip_is_not_a_multiple_of_the_window():
    config = METHOD.preset("tiny-online")
    model = _build(config)
    frames = 3 * config.window + 3
    coeffs, emotion, latents = model(_speaker(frames), torch.Generator().manual_seed(0))
    assert coeffs.shape == (1, frames, 58) and emotion.shape == (1, frames, 25)
    assert len(latents) == 4  # ceil(T / W) windows, one latent each
    assert coeffs[:, -3:].abs().sum() > 0  # the original left these frames zero


def test_offline_latent_summarises_the_speaker_frames_as_a_set():
    model = _build(METHOD.preset("tiny"))
    speaker = _speaker(40)
    order = torch.randperm(40, generator=torch.Generator().manual_seed(1))
    shuffled = {name: value[:, order] for name, value in speaker.items()}
    with torch.no_grad():
        encode = lambda s: model.latent_encoder(model.speaker_encoder(torch.cat([s["emotion"], s["3dmm"]], -1), s["mfcc"]))
        for first, second in zip(encode(speaker), encode(shuffled)):
            torch.testing.assert_close(first, second)


def test_samples_differ_and_emotion_is_in_range():
    model = _build(METHOD.preset("tiny"))
    out = model.sample(_speaker(30, batch=2), 3, torch.Generator().manual_seed(0))
    assert out["coeffs_3dmm"].shape == (2, 3, 30, 58) and out["emotion"].shape == (2, 3, 30, 25)
    assert not torch.equal(out["coeffs_3dmm"][:, 0], out["coeffs_3dmm"][:, 1])
    assert set(out["emotion"][..., :15].unique().tolist()) <= {0.0, 1.0}


def test_bad_settings_name_the_setting():
    with pytest.raises(ConfigError, match="model.width"):
        METHOD.validate_config(dataclasses.replace(METHOD.preset("tiny"), width=15, num_heads=2))
    with pytest.raises(ConfigError, match="model.window"):
        METHOD.validate_config(dataclasses.replace(METHOD.preset("tiny-online"), window=0))
    with pytest.raises(ConfigError, match="model.streams"):
        _build(dataclasses.replace(METHOD.preset("tiny"), streams=("emotion", "3dmm")))

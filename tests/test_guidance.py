"""Classifier-free guidance of ReactDiff: condition dropout in training, the guided sampler."""

import pytest
import torch

from reactdiff.errors import ConfigError
from reactdiff.methods.reactdiff.condition import Condition, guided
from reactdiff.methods.reactdiff.method import METHOD

from test_model import person, tiny_config, tiny_model


def weighted(model):
    # Untrained denoisers predict 0 (zero-initialised outputs): give them weights.
    for parameter in model.denoiser.parameters():
        torch.nn.init.normal_(parameter, std=0.05)
    return model


def test_guided_prediction_is_uncond_plus_scale_times_the_difference():
    model = weighted(tiny_model(cond_dropout=0.1))
    x_t = torch.randn(6, 10, 8)
    t = torch.randint(0, 100, (6,))
    cond = model.condition_encoder(torch.randn(6, 30, 8))
    with torch.no_grad():
        conditional = model.denoiser(x_t, t, cond)
        null = Condition(*(None if value is None else torch.zeros_like(value) for value in cond))
        unconditional = model.denoiser(x_t, t, null)
        assert not torch.allclose(conditional, unconditional)  # the condition matters to this network
        for scale in (0.0, 0.5, 2.0):
            torch.testing.assert_close(guided(model.denoiser, scale)(x_t, t, cond.with_null()),
                                       unconditional + scale * (conditional - unconditional))


def test_guidance_one_is_the_plain_sampler_and_other_scales_change_the_samples():
    model = weighted(tiny_model(cond_dropout=0.1))
    speaker = person(batch=2)

    def sample(guidance=None):
        return model.sample(speaker, num_samples=2, generator=torch.Generator().manual_seed(3), guidance=guidance)

    plain = sample()
    assert torch.equal(sample(1.0)["coeffs_3dmm"], plain["coeffs_3dmm"])
    assert not torch.allclose(sample(0.5)["coeffs_3dmm"], plain["coeffs_3dmm"])


def test_condition_dropout_trains_the_dropped_windows_on_the_null_condition():
    speaker, listener = person(seed=1), person(seed=2)
    model = tiny_model(cond_dropout=0.999).train()
    seen = []
    model.denoiser.register_forward_hook(lambda module, inputs, output: seen.append(inputs[2]))
    model.diffusion_loss(speaker, listener, generator=torch.Generator().manual_seed(0))
    assert all(value is None or not value.any() for value in seen[0])
    # Not in eval mode (validation loss), and never without dropout.
    seen.clear()
    model.eval().diffusion_loss(speaker, listener, generator=torch.Generator().manual_seed(0))
    assert seen[0].vector.abs().sum() > 0


def test_dropout_off_draws_no_extra_random_numbers():
    """Without condition dropout the timesteps are the generator's first draw, as before the option
    existed, so default models train on exactly the same random numbers."""
    speaker, listener = person(seed=1), person(seed=2)
    for dropout, first_draw in ((0.0, True), (0.5, False)):
        model = tiny_model(cond_dropout=dropout).train()
        seen = []
        model.denoiser.register_forward_hook(lambda module, inputs, output: seen.append(inputs[1]))
        model.diffusion_loss(speaker, listener, generator=torch.Generator().manual_seed(0))
        expected = model.schedule.sample_timesteps(len(seen[0]), generator=torch.Generator().manual_seed(0))
        assert torch.equal(seen[0], expected) == first_draw


def test_guidance_without_condition_dropout_is_refused_with_the_fix():
    config = tiny_config()
    with pytest.raises(ConfigError, match="cond_dropout"):
        METHOD.check_sampling(config, {"guidance": 0.5})
    assert METHOD.check_sampling(config, {})["guidance"] == 1.0
    trained = tiny_config(cond_dropout=0.1)
    assert METHOD.check_sampling(trained, {"guidance": 0.5})["guidance"] == 0.5
    with pytest.raises(ConfigError, match="negative"):
        METHOD.check_sampling(trained, {"guidance": -1.0})
    with pytest.raises(ConfigError, match="cond_dropout"):
        METHOD.validate_config(tiny_config(cond_dropout=1.0))
    with pytest.raises(ConfigError, match="guidance"):
        METHOD.validate_config(tiny_config(guidance=2.0))

"""Noise schedules and samplers against hand-computed values."""

import math

import pytest
import torch

from reactdiff.diffusion import NoiseSchedule, ddim_sample, ddim_step, ddpm_sample, ddpm_step
from reactdiff.diffusion.samplers import ddim_sigma, predict_x0


def cosine_alpha_bar(s: float, steps: int = 1000, offset: float = 0.008) -> float:
    return math.cos((s / steps + offset) / (1 + offset) * math.pi / 2) ** 2


def test_cosine_alphas_cumprod_matches_closed_form():
    schedule = NoiseSchedule(1000, "cosine")
    abar = schedule.alphas_cumprod
    # Without clipping the product of (1 - beta) telescopes to alpha_bar(t + 1) / alpha_bar(0).
    for t in (0, 1, 250, 499, 900):
        assert abar[t].item() == pytest.approx(cosine_alpha_bar(t + 1) / cosine_alpha_bar(0), rel=1e-9)
    assert abar[499].item() == pytest.approx(0.4938435904, abs=1e-9)
    # The last beta would be 1 (alpha_bar(T) = cos(pi/2)^2 ~ 0) and is clipped at 0.999.
    assert abar[999].item() == pytest.approx(cosine_alpha_bar(999) / cosine_alpha_bar(0) * 1e-3, rel=1e-6)
    assert torch.all(abar[1:] < abar[:-1])


def test_linear_schedule_first_and_last_beta():
    abar = NoiseSchedule(1000, "linear").alphas_cumprod
    assert abar[0].item() == pytest.approx(1 - 1e-4)
    assert (abar[999] / abar[998]).item() == pytest.approx(1 - 0.02)


def test_unknown_schedule_kind_is_an_error():
    with pytest.raises(ValueError, match="unknown schedule"):
        NoiseSchedule(10, "quadratic")


def test_add_noise_uses_the_timestep_of_each_item():
    schedule = NoiseSchedule(1000)
    x0 = torch.full((2, 3), 2.0)
    noise = torch.full((2, 3), -1.0)
    t = torch.tensor([0, 499])
    x_t = schedule.add_noise(x0, noise, t)
    for row, step in enumerate(t.tolist()):
        abar = cosine_alpha_bar(step + 1) / cosine_alpha_bar(0)
        assert x_t[row, 0].item() == pytest.approx(2 * math.sqrt(abar) - math.sqrt(1 - abar), rel=1e-5)


def test_respace_spans_the_training_steps():
    schedule = NoiseSchedule(1000)
    steps = schedule.respace(20)
    assert len(steps) == 20 and steps[0] == 999 and steps[-1] == 0
    assert torch.all(steps[1:] < steps[:-1])
    assert torch.equal(schedule.respace(1000), torch.arange(999, -1, -1))
    with pytest.raises(ValueError):
        schedule.respace(1001)


def test_ddim_step_eta0_by_hand():
    # x_t = 1, eps = 0.5, abar_t = 0.5, abar_prev = 0.8 (DDIM eq. 12 with sigma = 0):
    # x0 = (1 - sqrt(0.5) * 0.5) / sqrt(0.5) = 0.914214; x_prev = sqrt(0.8) x0 + sqrt(0.2) * 0.5
    # = 0.817698 + 0.223607 = 1.041304.
    x_prev = ddim_step(torch.tensor([1.0]), torch.tensor([0.5]), 0.5, 0.8, eta=0.0)
    assert x_prev.item() == pytest.approx(1.0413043, abs=1e-6)
    # The final step (abar_prev = 1) returns the predicted x0.
    final = ddim_step(torch.tensor([1.0]), torch.tensor([0.5]), 0.5, 1.0)
    assert final.item() == pytest.approx(0.9142136, abs=1e-6)


def test_ddim_eta1_is_the_ddpm_posterior():
    abar_t, abar_prev = 0.3, 0.6
    beta = 1 - abar_t / abar_prev
    posterior_variance = (1 - abar_prev) / (1 - abar_t) * beta
    assert ddim_sigma(abar_t, abar_prev, 1.0) ** 2 == pytest.approx(posterior_variance)
    generator = torch.Generator().manual_seed(0)
    x_t, eps, noise = torch.randn(3, 64, generator=generator)
    ddim = ddim_step(x_t, eps, abar_t, abar_prev, eta=1.0, noise=noise)
    ddpm = ddpm_step(x_t, eps, abar_t, abar_prev, noise=noise)
    torch.testing.assert_close(ddim, ddpm, rtol=1e-5, atol=1e-6)


def test_clipping_bounds_the_predicted_x0():
    x_t, eps = torch.tensor([5.0]), torch.tensor([0.0])
    assert predict_x0(x_t, eps, 0.25).item() == pytest.approx(10.0)
    assert ddim_step(x_t, eps, 0.25, 1.0, clip_x0=1.0).item() == pytest.approx(1.0)


def exact_eps(target: torch.Tensor, schedule: NoiseSchedule):
    """The ideal denoiser of a data distribution concentrated on one point."""
    def denoise(x_t, t, cond):
        abar = schedule.abar(t, x_t)
        return (x_t - abar.sqrt() * target) / (1 - abar).sqrt()
    return denoise


@pytest.mark.parametrize("sampler", ["ddim", "ddpm"])
def test_samplers_recover_a_point_mass(sampler):
    schedule = NoiseSchedule(1000)
    target = torch.linspace(-1, 1, 12).reshape(3, 4)
    generator = torch.Generator().manual_seed(1)
    if sampler == "ddim":
        out = ddim_sample(exact_eps(target, schedule), (3, 4), schedule, steps=10, eta=0.5, generator=generator)
    else:
        out = ddpm_sample(exact_eps(target, schedule), (3, 4), schedule, steps=50, generator=generator)
    torch.testing.assert_close(out, target, rtol=1e-4, atol=1e-4)


def test_ddim_loop_visits_the_respaced_steps_and_passes_the_condition():
    schedule = NoiseSchedule(1000)
    seen = []

    def dummy(x_t, t, cond):
        seen.append((int(t[0]), cond))
        return 0.1 * x_t + cond * torch.cos(t.float() / 1000)[:, None]

    x_T = torch.linspace(-2, 2, 24).reshape(4, 6)
    cond = torch.full((4, 1), 0.3)
    out = ddim_sample(dummy, (4, 6), schedule, steps=20, cond=cond, x_T=x_T, clip_x0=1.0)
    assert [step for step, _ in seen] == schedule.respace(20).tolist()
    assert all(c is cond for _, c in seen)
    # The sampler maths are checked against a closed-form oracle (tests/test_sampling_oracle.py),
    # not against numbers this loop printed; here only the clip it was asked for.
    assert out.abs().max().item() <= 1.0


def test_eta0_ignores_the_generator_and_eta1_does_not():
    schedule = NoiseSchedule(100)
    denoise = lambda x, t, cond: 0.5 * x  # noqa: E731
    x_T = torch.randn(2, 5, generator=torch.Generator().manual_seed(3))
    runs = [
        ddim_sample(denoise, (2, 5), schedule, steps=5, eta=eta, x_T=x_T, generator=torch.Generator().manual_seed(seed))
        for eta in (0.0, 1.0)
        for seed in (0, 1)
    ]
    assert torch.equal(runs[0], runs[1])
    assert not torch.allclose(runs[2], runs[3])


def test_schedule_moves_with_its_module():
    schedule = NoiseSchedule(10)
    assert "alphas_cumprod" not in schedule.state_dict()
    assert schedule.to(torch.float32).alphas_cumprod.dtype == torch.float32


@pytest.mark.parametrize("eta", [0.0, 1.0])
def test_steps_from_an_x0_prediction_equal_steps_from_the_matching_eps(eta):
    generator = torch.Generator().manual_seed(4)
    x_t, eps, noise = (torch.randn(3, 5, generator=generator) for _ in range(3))
    abar_t, abar_prev = 0.3, 0.7
    x0 = predict_x0(x_t, eps, abar_t)
    for step, options in ((ddim_step, {"eta": eta}), (ddpm_step, {})):
        from_eps = step(x_t, eps, abar_t, abar_prev, noise=noise, **options)
        from_x0 = step(x_t, x0, abar_t, abar_prev, noise=noise, prediction="x0", **options)
        torch.testing.assert_close(from_x0, from_eps, rtol=1e-5, atol=1e-5)
    with pytest.raises(ValueError, match="prediction"):
        ddim_step(x_t, eps, abar_t, abar_prev, prediction="v")


@pytest.mark.parametrize("prediction", ["eps", "x0"])
@pytest.mark.parametrize("eta", [0.0, 0.5])
def test_folded_ddim_step_equals_the_textbook_step(prediction, eta):
    """Unclipped DDIM steps fold their coefficients; a clip no value reaches takes the textbook
    path (x0 and eps explicitly, DDIM eq. 12), which must give the same step."""
    generator = torch.Generator().manual_seed(5)
    x_t, output, noise = (torch.randn(4, 6, generator=generator) for _ in range(3))
    for abar_t, abar_prev in ((0.05, 0.2), (0.3, 0.7), (0.9, 1.0)):
        folded = ddim_step(x_t, output, abar_t, abar_prev, eta=eta, noise=noise, prediction=prediction)
        textbook = ddim_step(x_t, output, abar_t, abar_prev, eta=eta, noise=noise, prediction=prediction, clip_x0=1e30)
        torch.testing.assert_close(folded, textbook, rtol=1e-5, atol=1e-5)

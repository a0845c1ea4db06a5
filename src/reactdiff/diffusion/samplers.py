"""Samplers: plain functions of a denoiser callable ``denoise_fn(x_t, t, cond)``, which predicts
eps or x0 (the ``prediction`` argument says which).

The condition is opaque to the samplers (a tensor, a dict, anything the denoiser takes), so one
sampler serves every model. Every step sees one batched network call.
"""

from __future__ import annotations

from typing import Any, Callable

import torch

from reactdiff.diffusion.schedule import NoiseSchedule

DenoiseFn = Callable[[torch.Tensor, torch.Tensor, Any], torch.Tensor]


def draw_noise(
    shape: tuple[int, ...], generator: torch.Generator | None, device: torch.device | str, dtype: torch.dtype
) -> torch.Tensor:
    """Standard normal noise on ``device``, drawn from ``generator`` on the generator's own device.

    A CPU generator may drive a GPU model (the numbers are then the same on every device).
    """
    source = generator.device if generator is not None else device
    return torch.randn(shape, generator=generator, device=source, dtype=dtype).to(device)


def predict_x0(x_t: torch.Tensor, eps: torch.Tensor, abar_t: float) -> torch.Tensor:
    """Invert ``x_t = sqrt(abar) x0 + sqrt(1 - abar) eps`` for x0 (DDIM paper eq. 9)."""
    return (x_t - (1 - abar_t) ** 0.5 * eps) / abar_t**0.5


def ddim_sigma(abar_t: float, abar_prev: float, eta: float) -> float:
    """Noise scale of a DDIM step (DDIM paper eq. 16); eta = 1 gives the DDPM posterior std."""
    return eta * ((1 - abar_prev) / (1 - abar_t) * (1 - abar_t / abar_prev)) ** 0.5


def _check_prediction(prediction: str) -> None:
    if prediction not in ("eps", "x0"):
        raise ValueError(f"prediction must be 'eps' or 'x0', got {prediction!r}")


def _clipped(x_t: torch.Tensor, output: torch.Tensor, abar_t: float, clip_x0: float | None, prediction: str):
    """Predicted x0, clipped if asked, and the eps consistent with it, from the network's output
    (eps or x0 by ``prediction``). Coefficients are Python floats (float64)."""
    _check_prediction(prediction)
    eps = output if prediction == "eps" else None
    x0 = predict_x0(x_t, output, abar_t) if prediction == "eps" else output
    if clip_x0 is not None:
        x0 = x0.clamp(-clip_x0, clip_x0)
        # Re-derive eps from the clipped x0 so the step stays on the same DDIM trajectory family.
        eps = None
    if eps is None:
        eps = (x_t - abar_t**0.5 * x0) / (1 - abar_t) ** 0.5
    return x0, eps


def ddim_step(
    x_t: torch.Tensor,
    output: torch.Tensor,
    abar_t: float,
    abar_prev: float,
    eta: float = 0.0,
    noise: torch.Tensor | None = None,
    clip_x0: float | None = None,
    prediction: str = "eps",
) -> torch.Tensor:
    """One DDIM update from ``x_t`` to the previous (less noisy) respaced step, given the network
    ``output`` (eps, or x0 with ``prediction="x0"``).

    DDIM paper (Song et al. 2021) eq. 12:
    ``x_prev = sqrt(abar_prev) x0_pred + sqrt(1 - abar_prev - sigma^2) eps + sigma * noise``.
    ``abar_prev = 1`` is the final step and returns the predicted x0.
    """
    sigma = ddim_sigma(abar_t, abar_prev, eta)
    # max(., 0) guards the square root against rounding when eta = 1 and abar_prev -> abar_t.
    direction = max(1 - abar_prev - sigma**2, 0.0) ** 0.5
    if clip_x0 is None:
        # Unclipped, the step is linear in (x_t, output): fold the coefficients (float64 scalars)
        # so a step costs two passes over x_t instead of six (it runs on 10 x 15 windows each step).
        _check_prediction(prediction)
        sqrt_abar, sqrt_one_minus = abar_t**0.5, (1 - abar_t) ** 0.5
        if prediction == "eps":  # x0 = (x_t - sqrt(1 - abar) eps) / sqrt(abar)
            x_coefficient = abar_prev**0.5 / sqrt_abar
            output_coefficient = direction - abar_prev**0.5 * sqrt_one_minus / sqrt_abar
        else:  # eps = (x_t - sqrt(abar) x0) / sqrt(1 - abar)
            x_coefficient = direction / sqrt_one_minus
            output_coefficient = abar_prev**0.5 - direction * sqrt_abar / sqrt_one_minus
        x_prev = torch.add(output * output_coefficient, x_t, alpha=x_coefficient)
    else:
        x0, eps = _clipped(x_t, output, abar_t, clip_x0, prediction)
        x_prev = abar_prev**0.5 * x0 + direction * eps
    if sigma > 0:
        if noise is None:
            raise ValueError("ddim_step with eta > 0 needs a noise tensor")
        x_prev = x_prev + sigma * noise
    return x_prev


def ddpm_step(
    x_t: torch.Tensor,
    output: torch.Tensor,
    abar_t: float,
    abar_prev: float,
    noise: torch.Tensor | None = None,
    clip_x0: float | None = None,
    prediction: str = "eps",
) -> torch.Tensor:
    """One ancestral step: a draw from the posterior ``q(x_prev | x_t, x0_pred)`` (DDPM eq. 6-7).

    Works between any two steps of a respaced schedule (improved-diffusion's respacing): the
    per-step ``beta`` is ``1 - abar_t / abar_prev``.
    """
    x0, _ = _clipped(x_t, output, abar_t, clip_x0, prediction)
    beta = 1 - abar_t / abar_prev
    mean = (abar_prev**0.5 * beta / (1 - abar_t)) * x0 + ((1 - beta) ** 0.5 * (1 - abar_prev) / (1 - abar_t)) * x_t
    variance = (1 - abar_prev) / (1 - abar_t) * beta
    if variance > 0:
        if noise is None:
            raise ValueError("ddpm_step needs a noise tensor before the final step")
        mean = mean + variance**0.5 * noise
    return mean


def _loop(step, denoise_fn, shape, schedule, steps, cond, generator, x_T, device, dtype, stochastic):
    """Shared sampling loop: start from noise, visit the respaced timesteps, step down to x0."""
    if device is None:
        device = x_T.device if x_T is not None else schedule.alphas_cumprod.device
    x = x_T if x_T is not None else draw_noise(shape, generator, device, dtype)
    # Plain floats on the host: the coefficients are scalars, so no device syncs inside the loop.
    timesteps = schedule.respace(steps).tolist()
    abars = schedule.alphas_cumprod.double().cpu().tolist()
    for index, t in enumerate(timesteps):
        is_last = index + 1 == len(timesteps)
        abar_t = abars[t]
        abar_prev = 1.0 if is_last else abars[timesteps[index + 1]]
        t_batch = torch.full((x.shape[0],), t, device=x.device, dtype=torch.long)
        output = denoise_fn(x, t_batch, cond)
        # Deterministic samplers draw nothing, so the generator state and the cost stay untouched.
        noise = None
        if stochastic and not is_last:
            noise = draw_noise(x.shape, generator, x.device, x.dtype)
        x = step(x, output, abar_t, abar_prev, noise)
    return x


@torch.no_grad()
def ddim_sample(
    denoise_fn: DenoiseFn,
    shape: tuple[int, ...],
    schedule: NoiseSchedule,
    steps: int = 20,
    eta: float = 0.0,
    cond: Any = None,
    generator: torch.Generator | None = None,
    clip_x0: float | None = None,
    x_T: torch.Tensor | None = None,
    device: torch.device | str | None = None,
    dtype: torch.dtype = torch.float32,
    prediction: str = "eps",
) -> torch.Tensor:
    """DDIM sampling (Song et al. 2021) over ``steps`` respaced timesteps; eta = 0 is deterministic.

    ``denoise_fn(x_t, t (B,), cond)`` predicts eps (or x0 with ``prediction="x0"``). Starts from
    ``x_T`` if given, else from noise drawn with ``generator``. Returns x0 of ``shape``.
    """
    def step(x, output, abar_t, abar_prev, noise):
        return ddim_step(x, output, abar_t, abar_prev, eta=eta, noise=noise, clip_x0=clip_x0, prediction=prediction)

    return _loop(step, denoise_fn, shape, schedule, steps, cond, generator, x_T, device, dtype, eta > 0)


@torch.no_grad()
def ddpm_sample(
    denoise_fn: DenoiseFn,
    shape: tuple[int, ...],
    schedule: NoiseSchedule,
    steps: int | None = None,
    cond: Any = None,
    generator: torch.Generator | None = None,
    clip_x0: float | None = None,
    x_T: torch.Tensor | None = None,
    device: torch.device | str | None = None,
    dtype: torch.dtype = torch.float32,
    prediction: str = "eps",
) -> torch.Tensor:
    """Ancestral DDPM sampling (Ho et al. 2020), over all training steps or a respaced subset."""
    def step(x, output, abar_t, abar_prev, noise):
        return ddpm_step(x, output, abar_t, abar_prev, noise=noise, clip_x0=clip_x0, prediction=prediction)

    steps = schedule.num_train_steps if steps is None else steps
    return _loop(step, denoise_fn, shape, schedule, steps, cond, generator, x_T, device, dtype, True)


#: Samplers by name, for configuration and the CLI.
SAMPLERS = {"ddim": ddim_sample, "ddpm": ddpm_sample}

"""Sampling checked against a closed-form oracle, through the code path generation uses.

Data: every (normalised) latent window is Gaussian, x0 ~ N(mu, Sigma) over its window x latent
numbers. For x_t = sqrt(abar) x0 + sqrt(1 - abar) eps the optimal denoiser is analytic:
E[x0 | x_t] = mu + sqrt(abar) Sigma (abar Sigma + (1 - abar) I)^-1 (x_t - sqrt(abar) mu), and
E[eps | x_t] = (x_t - sqrt(abar) E[x0 | x_t]) / sqrt(1 - abar). Plugged into
``ReactDiffModel.sample_windows`` in place of the network, every sampler must return windows whose
raw (denormalised) mean and covariance are ``m + s mu`` and ``diag(s) Sigma diag(s)``, where m and s
are the latent statistics the model holds. The test compares in the oracle's whitened basis:
sample mean ~ N(0, 1/N) per direction, sample covariance ~ I +- O(1/sqrt(N)).

Assumption: samplers follow the probability-flow / ancestral dynamics exactly only as the step
count grows. With the exact denoiser, 20 DDIM steps on the cosine schedule under-disperse Gaussian
data by 12-26 % in variance (a discretisation effect that vanishes with more steps; it applies to
generation too), so the oracle runs 1000 steps of a 1000-step schedule, where that bias is below
0.8 % for the variances used here (0.25..4; propagated through the scalar recursions of each
sampler), which the tolerances below allow for.
"""

import pytest
import torch

from reactdiff.config import from_dict
from reactdiff.methods.reactdiff import ModelConfig, build_model

DIMS = {"emotion": 25, "3dmm": 58, "mfcc": 26}
KINDS = {"emotion": "visual", "3dmm": "visual", "mfcc": "audio"}
WINDOW, LATENT, NUM_WINDOWS, NUM_SAMPLES = 5, 8, 3, 1000  # 3000 windows of 40 numbers
STEPS = 1000


def oracle_model(prediction: str, clip_x0: float | None):
    config = from_dict(
        ModelConfig,
        {
            "autoencoder": {"hidden_dim": 16, "num_heads": 2, "intra_depth": 1, "inter_depth": 1, "latent_dim": LATENT,
                            "decoder_layers": 1, "decoder_heads": 2, "decoder_ff_dim": 16, "context_frames": WINDOW},
            "denoiser": {"cond_dim": 16, "width": 16, "depth": 1, "num_heads": 2, "patch_frames": WINDOW},
            "diffusion": {"train_steps": STEPS, "window": WINDOW, "prediction": prediction, "clip_x0": clip_x0,
                          "clip_noise": False},
        },
    )
    torch.manual_seed(0)
    model = build_model(config, DIMS, KINDS).eval()
    generator = torch.Generator().manual_seed(1)
    # Latent statistics far from (0, 1), so a wrong denormalisation shows in the raw samples.
    latents = torch.randn(4000, LATENT, generator=generator) * torch.linspace(0.5, 3, LATENT) + torch.linspace(-2, 2, LATENT)
    model.set_latent_stats(latents)
    return model, latents.mean(0).double(), latents.std(0).double()


class GaussianOracle(torch.nn.Module):
    """The exact E[x0 | x_t] (or E[eps | x_t]) of x0 ~ N(mu, U diag(lam) U^T).

    Both are affine in x_t: ``x0 = A x_t + b`` with ``A = sqrt(abar) U diag(lam / (abar lam + 1 - abar)) U^T``
    and ``b = mu - sqrt(abar) A mu``; the map is built in float64 once per timestep.
    """

    def __init__(self, schedule, mu, basis, lam, prediction):
        super().__init__()
        self.abar = schedule.alphas_cumprod.double()
        self.mu, self.basis, self.lam, self.prediction = mu, basis, lam, prediction

    def forward(self, x_t, t, cond):
        assert bool((t == t[0]).all()), "samplers denoise one timestep per call"
        abar = self.abar[t[0]]
        gain = abar.sqrt() * self.lam / (abar * self.lam + (1 - abar))
        matrix = (self.basis * gain) @ self.basis.T
        offset = self.mu - abar.sqrt() * (matrix @ self.mu)
        if self.prediction == "eps":  # eps = (x_t - sqrt(abar) x0) / sqrt(1 - abar)
            identity = torch.eye(matrix.shape[0], dtype=matrix.dtype)
            matrix = (identity - abar.sqrt() * matrix) / (1 - abar).sqrt()
            offset = -abar.sqrt() * offset / (1 - abar).sqrt()
        x = x_t.reshape(x_t.shape[0], -1)
        out = torch.addmm(offset.to(x.dtype), x, matrix.T.to(x.dtype))
        return out.reshape(x_t.shape)


def gaussian(seed=2):
    generator = torch.Generator().manual_seed(seed)
    dim = WINDOW * LATENT
    basis, _ = torch.linalg.qr(torch.randn(dim, dim, generator=generator, dtype=torch.float64))
    lam = torch.logspace(-0.6, 0.6, dim, dtype=torch.float64)  # variances 0.25 .. 4
    mu = 0.7 * torch.randn(dim, generator=generator, dtype=torch.float64)
    return mu, basis, lam


@pytest.mark.parametrize("prediction", ["eps", "x0"])
@pytest.mark.parametrize(
    ("sampler", "eta", "clip_x0"),
    [("ddim", 0.0, None), ("ddim", 0.0, 50.0), ("ddim", 0.5, None), ("ddim", 0.5, 50.0), ("ddpm", None, None)],
    ids=["ddim-eta0-folded", "ddim-eta0-clipped", "ddim-eta0.5-folded", "ddim-eta0.5-clipped", "ddpm"],
)
def test_samples_have_the_oracles_mean_and_covariance(prediction, sampler, eta, clip_x0):
    # clip_x0 = 50 never binds here (|x0| < 10): it runs the explicit x0/eps branch of the DDIM
    # step, None the folded one generation uses by default; both must give the same distribution.
    # DDPM has a single branch (clipping only adds a clamp).
    model, mean, std = oracle_model(prediction, clip_x0)
    mu, basis, lam = gaussian()
    model.denoiser = GaussianOracle(model.schedule, mu, basis, lam, prediction)
    speaker = model.condition_windows(torch.randn(1, NUM_WINDOWS, WINDOW, LATENT, generator=torch.Generator().manual_seed(3)))
    windows = model.sample_windows(
        speaker, num_samples=NUM_SAMPLES, steps=STEPS, eta=eta, sampler=sampler, generator=torch.Generator().manual_seed(4)
    )
    raw = windows.reshape(-1, WINDOW, LATENT).double()
    count = raw.shape[0]
    # Undo the model's latent statistics by hand, then whiten with the oracle's covariance.
    normalised = ((raw - mean) / std).reshape(count, -1)
    whitened = ((normalised - mu) @ basis) / lam.sqrt()
    sample_mean = whitened.mean(0)
    centred = whitened - sample_mean
    sample_cov = centred.T @ centred / (count - 1)
    # Whitened mean: N(0, 1/N) per direction; covariance entries: I +- ~sqrt(2/N) on the diagonal,
    # ~1/sqrt(N) off it: bounds of 5 and 6 standard errors over 40 (1600) entries. The mean of the
    # 40 variances has a standard error of sqrt(2 / (N x 40)): 5 of them plus the 1 % step bias.
    dim = sample_cov.shape[0]
    assert sample_mean.abs().max().item() < 5 / count**0.5, sample_mean.abs().max().item()
    deviation = sample_cov - torch.eye(dim, dtype=torch.float64)
    assert deviation.abs().max().item() < 6 * (2 / count) ** 0.5, deviation.abs().max().item()
    overall = deviation.diagonal().mean().item()
    assert abs(overall) < 5 * (2 / (count * dim)) ** 0.5 + 0.01, overall

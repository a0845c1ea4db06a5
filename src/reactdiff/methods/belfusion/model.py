"""The BeLFusion model: the stage-1 emotion VAE, min-max statistics of its latents, and the stage-2
latent diffusion (MLPSkipNet, cosine schedule over few steps, x0 prediction, best-of-k loss).

Every window of 50 frames is one item: a clip of T frames is T / 50 independent windows, both in
training and in generation (as the original; the windows are not smoothed into each other).
"""

from __future__ import annotations

import torch
import torch.nn.functional as F
from torch import nn

from reactdiff.diffusion.samplers import ddim_sample, draw_noise
from reactdiff.diffusion.schedule import NoiseSchedule
from reactdiff.methods.base import OUTPUT_DIMS
from reactdiff.methods.belfusion.config import ModelConfig
from reactdiff.methods.belfusion.networks import EmotionVAE, MLPSkipNet
from reactdiff.methods.outputs import postprocess_emotion


class BeLFusionModel(nn.Module):
    """Stage 1 trains :attr:`vae` with :meth:`vae_loss`; ``set_latent_stats`` then fixes the
    min-max normalisation; stage 2 trains :attr:`denoiser` with :meth:`diffusion_loss` (VAE frozen)."""

    def __init__(self, config: ModelConfig, stream_dims: dict[str, int]):
        super().__init__()
        self.config = config
        self.window = config.diffusion.window
        emotion_dim = stream_dims["emotion"]
        self.vae = EmotionVAE(config.vae, emotion_dim, OUTPUT_DIMS["coeffs_3dmm"])
        latent = config.vae.latent_dim if config.vae.latent == "mu" else config.vae.hidden_dim
        # The condition is the speaker window encoded and normalised like the listener's latent.
        self.denoiser = MLPSkipNet(config.denoiser, latent, latent)
        self.schedule = NoiseSchedule(config.diffusion.train_steps, "cosine")
        # Per-dimension min and max of the latent over the training windows (set after stage 1);
        # NaN until then, so a model without them cannot silently normalise with made-up values.
        self.register_buffer("latent_min", torch.full((latent,), float("nan")))
        self.register_buffer("latent_max", torch.full((latent,), float("nan")))

    # ----- windows and latents --------------------------------------------------------------
    def to_windows(self, frames: torch.Tensor) -> torch.Tensor:
        """(B, T, D) -> (B, T / window, window, D); T must be a multiple of the window."""
        batch, length, dim = frames.shape
        if length % self.window:
            raise ValueError(f"{length} frames are not a multiple of the {self.window}-frame window")
        return frames.reshape(batch, length // self.window, self.window, dim)

    def has_latent_stats(self) -> bool:
        return bool(torch.isfinite(self.latent_min).all() and torch.isfinite(self.latent_max).all())

    @torch.no_grad()
    def set_latent_stats(self, latents: torch.Tensor) -> None:
        """Store the per-dimension min and max of ``latents`` (M, latent) over the training windows."""
        self.latent_min.copy_(latents.min(0).values)
        self.latent_max.copy_(latents.max(0).values)

    def _span(self) -> torch.Tensor:
        if not self.has_latent_stats():
            raise RuntimeError("the VAE has no latent statistics: finish stage 1 (`reactdiff train belfusion vae`) first")
        return (self.latent_max - self.latent_min).clamp_min(1e-6)

    def normalize(self, latent: torch.Tensor) -> torch.Tensor:
        """Raw latent -> [-1, 1] per dimension over the training windows: 2 (h - min) / (max - min) - 1."""
        return 2 * (latent - self.latent_min) / self._span() - 1

    def denormalize(self, normalized: torch.Tensor) -> torch.Tensor:
        return (normalized + 1) / 2 * self._span() + self.latent_min

    def encode(self, emotion: torch.Tensor) -> torch.Tensor:
        """(B, T, 25) emotion -> (B, T / window, latent) raw latents, one per window."""
        windows = self.to_windows(emotion)
        return self.vae.latent(windows.flatten(0, 1)).reshape(*windows.shape[:2], -1)

    def decode(self, latent: torch.Tensor) -> dict[str, torch.Tensor]:
        """(N, latent) raw latents -> emotion (N, window, 25) and coeffs_3dmm (N, window, 58), raw."""
        emotion = self.vae.decode(latent, self.window)
        return {"emotion": emotion, "coeffs_3dmm": self.vae.coeff_reg(emotion)}

    # ----- stage 1 ---------------------------------------------------------------------------
    def vae_loss(self, emotion: torch.Tensor, coeffs: torch.Tensor, generator: torch.Generator | None = None):
        """MSE(emotion) + kld_weight * KLD + coeff_weight * MSE(3DMM) on persons' own (P, T, .)
        streams. KLD is summed over windows and dimensions and divided by the number of persons
        (the original divides by clips). The 3DMM target is the person's real 3DMM (the original's
        dataset passed 0 here, so its head learned the mean face)."""
        config = self.config.vae
        windows = self.to_windows(emotion).flatten(0, 1)
        _, mu, logvar = self.vae.encode(windows)
        z = mu + draw_noise(mu.shape, generator, mu.device, mu.dtype) * (0.5 * logvar).exp()
        decoded = self.decode(z)
        reconstruction = F.mse_loss(decoded["emotion"], windows)
        coeff = F.mse_loss(decoded["coeffs_3dmm"], self.to_windows(coeffs).flatten(0, 1))
        kld = -0.5 * (1 + logvar - mu.pow(2) - logvar.exp()).sum() / emotion.shape[0]
        loss = reconstruction + config.kld_weight * kld + config.coeff_weight * coeff
        return loss, {"mse_emotion": reconstruction.item(), "kld": kld.item(), "mse_3dmm": coeff.item()}

    # ----- stage 2 ---------------------------------------------------------------------------
    def condition_pairs(self, speaker_emotion: torch.Tensor, listener_emotion: torch.Tensor):
        """Normalised (condition, target) latents (N, latent) of every listener window of the crop
        and the speaker window it is conditioned on: the same window offline, the one before online
        (so the crop's first listener window has no pair in training, as in the original)."""
        with torch.no_grad():
            speaker = self.normalize(self.encode(speaker_emotion))
            listener = self.normalize(self.encode(listener_emotion))
        if self.config.diffusion.online:
            speaker, listener = speaker[:, :-1], listener[:, 1:]
        return speaker.flatten(0, 1), listener.flatten(0, 1)

    def diffusion_loss(self, speaker_emotion: torch.Tensor, listener_emotion: torch.Tensor, generator: torch.Generator | None = None):
        """Best-of-k loss: each listener window repeated k times with one t and independent noise;
        latent_weight * min_k L1(x0_hat, x0) + decoded_weight * min_k MSE(D(x0_hat), D(x0)), each
        minimum taken separately, D the frozen VAE decoder (its reconstruction is the target)."""
        config = self.config.diffusion
        cond, x0 = self.condition_pairs(speaker_emotion, listener_emotion)
        windows, k = x0.shape[0], config.best_of
        t = self.schedule.sample_timesteps(windows, generator=generator).repeat_interleave(k)
        x0_k = x0.repeat_interleave(k, dim=0)
        noise = draw_noise(x0_k.shape, generator, x0.device, x0.dtype)
        predicted = self.denoiser(self.schedule.add_noise(x0_k, noise, t), t, cond.repeat_interleave(k, dim=0))
        latent_l1 = (predicted - x0_k).abs().mean(-1).reshape(windows, k).min(-1).values.mean()
        with torch.no_grad():
            target = self.vae.decode(self.denormalize(x0), self.window).repeat_interleave(k, dim=0)
        decoded = self.vae.decode(self.denormalize(predicted), self.window)
        decoded_mse = (decoded - target).pow(2).mean((-2, -1)).reshape(windows, k).min(-1).values.mean()
        loss = config.latent_weight * latent_l1 + config.decoded_weight * decoded_mse
        return loss, {"l1_latent": latent_l1.item(), "mse_decoded": decoded_mse.item()}

    # ----- generation ------------------------------------------------------------------------
    @torch.no_grad()
    def sample(self, speaker_emotion: torch.Tensor, num_samples: int = 10, steps: int | None = None, eta: float | None = None,
               shared_noise: bool | None = None, generator: torch.Generator | None = None) -> dict[str, torch.Tensor]:
        """K listener reactions per speaker: ``{"emotion": (B, K, T, 25), "coeffs_3dmm": (B, K, T, 58)}``.

        Every window is an independent DDIM run (initial noise of its own, x0 clamped to [-1, 1]
        at each step) conditioned on its speaker window (online: the previous one, zeros first).
        ``shared_noise``: the windows of a sample start from one noise draw instead."""
        config = self.config.diffusion
        steps = config.sample_steps if steps is None else steps
        eta = config.eta if eta is None else eta
        shared_noise = config.shared_noise if shared_noise is None else shared_noise
        if config.online:
            # Shift the speaker right by one window: listener window j sees speaker window j - 1 only.
            speaker_emotion = torch.cat([torch.zeros_like(speaker_emotion[:, : self.window]), speaker_emotion[:, : -self.window]], dim=1)
        cond = self.normalize(self.encode(speaker_emotion))
        batch, num_windows, latent = cond.shape
        cond = cond[:, None].expand(batch, num_samples, num_windows, latent).reshape(-1, latent)
        x_T = None
        if shared_noise:
            # Rows are ordered (speaker, sample, window): one draw per (speaker, sample), repeated over windows.
            x_T = draw_noise((batch * num_samples, 1, latent), generator, cond.device, cond.dtype)
            x_T = x_T.expand(-1, num_windows, -1).reshape(-1, latent)
        normalized = ddim_sample(
            lambda x, t, c: self.denoiser(x, t, c), (cond.shape[0], latent), self.schedule, steps=steps, eta=eta, cond=cond,
            generator=generator, clip_x0=1.0, x_T=x_T, device=cond.device, dtype=cond.dtype, prediction="x0",
        )
        decoded = self.decode(self.denormalize(normalized))
        decoded["emotion"] = postprocess_emotion(decoded["emotion"])
        frames = num_windows * self.window
        return {name: value.reshape(batch, num_samples, frames, value.shape[-1]) for name, value in decoded.items()}

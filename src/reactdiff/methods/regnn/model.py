"""The composed REGNN model (Xu et al., 2023): perceptual -> cognitive -> motor processors, plus the
per-frame emotion -> 3DMM regressor our framework needs.

Everything works on windows of ``window`` frames. Training (:meth:`RegnnModel.loss`) maps the
speaker window to its latent X_s and edges E, runs every appropriate listener reaction of that
speaker forward through the motor flow (with the speaker's E) to latents Z_n, and pulls the
nearest Z_n onto X_s (thresholded min-over-neighbours MSE) and the Z_n of a speaker together
(MidLoss). Generation (:meth:`RegnnModel.sample`) perturbs X_s with bounded noise and inverts the
flow, window by window at the ``stride``, averaging where windows overlap.
"""

from __future__ import annotations

import torch
import torch.nn.functional as F
from torch import nn

from reactdiff.constants import COEFFS_3DMM_DIM, EMOTION_DIM
from reactdiff.errors import ConfigError
from reactdiff.methods.outputs import postprocess_emotion
from reactdiff.methods.regnn.cognitive import CognitiveProcessor
from reactdiff.methods.regnn.config import ModelConfig
from reactdiff.methods.regnn.motor import LipschitzGraph
from reactdiff.methods.regnn.perceptual import PerceptualProcessor

#: The graph has one node per emotion dimension.
NODES = EMOTION_DIM


def window_starts(frames: int, window: int, stride: int) -> list[int]:
    """Start frames of the windows covering ``frames`` (a multiple of ``window``) at ``stride``."""
    return list(range(0, frames - window + 1, stride))


def overlap_average(windows: torch.Tensor, starts: list[int], frames: int) -> torch.Tensor:
    """(..., W, window, D) windows at ``starts`` -> (..., frames, D), averaging overlapping frames
    (with stride = window / 2 this is the original's ``combine_preds``)."""
    window = windows.shape[-2]
    total = windows.new_zeros(*windows.shape[:-3], frames, windows.shape[-1])
    count = windows.new_zeros(frames, 1)
    for index, start in enumerate(starts):
        total[..., start : start + window, :] += windows[..., index, :, :]
        count[start : start + window] += 1
    return total / count


class RegnnModel(nn.Module):
    """REGNN over the speaker streams ``config.streams`` (visual ones -> video input, audio ones ->
    audio input). Build with :meth:`reactdiff.methods.regnn.method.RegnnMethod.build`."""

    def __init__(self, config: ModelConfig, stream_dims: dict[str, int], stream_kinds: dict[str, str]):
        super().__init__()
        self.config = config
        self.window, self.stride = config.window, config.stride
        other = [name for name in config.streams if stream_kinds[name] not in ("visual", "audio")]
        if other:
            raise ConfigError(f"model.streams: REGNN reads visual and audio streams; {', '.join(other)} is neither")
        self.visual_streams = tuple(name for name in config.streams if stream_kinds[name] == "visual")
        self.audio_streams = tuple(name for name in config.streams if stream_kinds[name] == "audio")
        if not self.visual_streams or not self.audio_streams:
            raise ConfigError(f"model.streams: REGNN's video queries attend to audio: it needs a visual and an audio stream, got {list(config.streams)}")
        audio_dim = sum(stream_dims[name] for name in self.audio_streams)
        self.perceptual = PerceptualProcessor(sum(stream_dims[name] for name in self.visual_streams), audio_dim, config.perceptual)
        self.cognitive = CognitiveProcessor(config.perceptual.out_dim, NODES, config.window, config.cognitive)
        self.motor = LipschitzGraph(NODES, config.window, config.cognitive.edge_channels, config.motor)
        self.regressor = nn.Sequential(
            nn.Linear(EMOTION_DIM, config.regressor_hidden), nn.Tanh(), nn.Linear(config.regressor_hidden, COEFFS_3DMM_DIM)
        )
        # Audio standardisation (train-split statistics, set by the training stage).
        self.register_buffer("audio_mean", torch.zeros(audio_dim))
        self.register_buffer("audio_std", torch.ones(audio_dim))
        # The loss threshold theta and the running sum of the current "epoch" (see ``loss``):
        # training state kept with the weights so a resumed run continues exactly.
        self.register_buffer("threshold", torch.zeros(()))
        self.register_buffer("epoch_loss_sum", torch.zeros((), dtype=torch.float64))
        self.register_buffer("epoch_steps", torch.zeros((), dtype=torch.int64))

    # ----- shared forward parts ----------------------------------------------------------------
    def set_audio_stats(self, mean: torch.Tensor, std: torch.Tensor) -> None:
        if self.config.standardize_audio:
            self.audio_mean.copy_(mean)
            self.audio_std.copy_(std.clamp_min(1e-6))

    def perceive(self, speaker: dict[str, torch.Tensor]) -> tuple[torch.Tensor, torch.Tensor]:
        """Speaker windows ``{stream: (N, window, D)}`` -> (X_s (N, 25, window), E (N, P, 25, 25))."""
        video = torch.cat([speaker[name] for name in self.visual_streams], dim=-1)
        audio = (torch.cat([speaker[name] for name in self.audio_streams], dim=-1) - self.audio_mean) / self.audio_std
        return self.cognitive(self.perceptual(video, audio))

    def _windows(self, sequences: torch.Tensor, starts: list[int]) -> torch.Tensor:
        """(B, T, D) -> (B, W, window, D)."""
        return torch.stack([sequences[:, start : start + self.window] for start in starts], dim=1)

    # ----- training --------------------------------------------------------------------------------
    def loss(self, speaker: dict[str, torch.Tensor], neighbours: torch.Tensor, neighbour_mask: torch.Tensor,
             listener_emotion: torch.Tensor, listener_3dmm: torch.Tensor) -> tuple[torch.Tensor, dict[str, torch.Tensor]]:
        """The training objective on (B, T) crops, T a multiple of ``window`` (cut into T / window windows).

        ``speaker``: {stream: (B, T, D)}; ``neighbours``: (B, A, T, 25) emotion of the appropriate
        reactions (``neighbour_mask`` (B, A) marks the real ones); ``listener_*``: the true
        listener's frames, which fit the emotion -> 3DMM regressor.

        Loss = min-over-neighbours MSE(X_s, Z_n), zeroed where <= theta (AllThreMse), + MidLoss, +
        the regressor's MSE. In training mode (with gradients) theta is refreshed every
        ``threshold_epoch_steps`` steps to the epoch's mean AllThreMse / ``threshold_divisor``;
        in eval mode (validation) no threshold is applied, so values are comparable over a run.
        """
        batch, frames = neighbours.shape[0], neighbours.shape[2]
        if frames % self.window:
            raise ValueError(f"training crops must be a multiple of the {self.window}-frame window, got {frames}")
        count = frames // self.window
        updating = self.training and torch.is_grad_enabled()
        if updating and int(self.epoch_steps) >= self.config.threshold_epoch_steps:
            self.threshold.fill_(float(self.epoch_loss_sum) / int(self.epoch_steps) / self.config.threshold_divisor)
            self.epoch_loss_sum.zero_()
            self.epoch_steps.zero_()
        threshold = self.threshold if updating else self.threshold.new_zeros(())

        starts = window_starts(frames, self.window, self.window)
        latent, edges = self.perceive({name: self._windows(speaker[name], starts).flatten(0, 1) for name in self.visual_streams + self.audio_streams})
        # Neighbour windows (B, A, T, 25) -> (B * W, A, 25, window), grouped by speaker window.
        slots = neighbours.shape[1]
        grouped = neighbours.reshape(batch, slots, count, self.window, NODES).permute(0, 2, 1, 4, 3).flatten(0, 1)
        mask = neighbour_mask.bool()[:, None, :].expand(batch, count, slots).flatten(0, 1)
        rows, columns = mask.nonzero(as_tuple=True)
        reactions = self.motor(grouped[rows, columns], edges[rows])
        mse = (latent[rows] - reactions).pow(2).mean(dim=(1, 2))
        table = torch.full(mask.shape, float("inf"), device=mse.device, dtype=mse.dtype).index_put((rows, columns), mse)
        nearest = table.min(dim=1).values
        all_thre_mse = torch.where(nearest > threshold, nearest, torch.zeros_like(nearest)).mean()

        sums = torch.zeros_like(latent).index_add(0, rows, reactions)
        means = sums / mask.sum(dim=1).clamp_min(1).to(sums.dtype)[:, None, None]
        mid = (reactions - means[rows]).pow(2).mean()

        regression = F.mse_loss(self.regressor(listener_emotion), listener_3dmm)
        total = all_thre_mse + self.config.mid_weight * mid + self.config.regressor_weight * regression
        if updating:
            self.epoch_loss_sum += all_thre_mse.detach().to(torch.float64)
            self.epoch_steps += 1
        logs = {"min_mse": all_thre_mse.detach(), "mid": mid.detach(), "regressor": regression.detach(), "threshold": threshold.detach().clone()}
        return total, logs

    # ----- generation ------------------------------------------------------------------------------
    @torch.no_grad()
    def sample(self, speaker: dict[str, torch.Tensor], num_samples: int, generator: torch.Generator | None = None,
               noise_threshold: float | None = None, iterations: int | None = None) -> dict[str, torch.Tensor]:
        """K reactions per speaker clip: ``{stream: (B, T, D)}`` with T a multiple of ``window`` ->
        ``{"emotion": (B, K, T, 25), "coeffs_3dmm": (B, K, T, 58)}``, emotion in the data's ranges
        (AUs 0/1) and 3DMM regressed from it frame by frame. Call ``model.eval()`` first (dropout).

        Each sample draws n ~ N(0, I) over all windows of the clip and scales it so that
        max |n| <= sqrt(noise_threshold) (the maximum is over the whole clip, per sample, as the
        original), adds it to X_s and inverts the motor flow with the speaker's edges.
        """
        noise_threshold = self.config.noise_threshold if noise_threshold is None else noise_threshold
        reference = next(iter(speaker.values()))
        batch, frames = reference.shape[:2]
        starts = window_starts(frames, self.window, self.stride)
        windows = len(starts)
        latent, edges = self.perceive({name: self._windows(speaker[name], starts).flatten(0, 1) for name in self.visual_streams + self.audio_streams})
        latent = latent.reshape(batch, 1, windows, NODES, self.window)
        noise = torch.randn((batch, num_samples, windows, NODES, self.window), generator=generator, device=latent.device, dtype=latent.dtype)
        peak = noise.abs().amax(dim=(2, 3, 4), keepdim=True)
        noise = noise * (noise_threshold**0.5 / peak).clamp(max=1.0)
        edges = edges.reshape(batch, 1, windows, *edges.shape[1:]).expand(-1, num_samples, -1, -1, -1, -1)
        reactions = self.motor.inverse((latent + noise).flatten(0, 2), edges.flatten(0, 2), iterations=iterations)
        reactions = reactions.reshape(batch, num_samples, windows, NODES, self.window).transpose(-1, -2)
        emotion = postprocess_emotion(overlap_average(reactions, starts, frames))
        return {"emotion": emotion, "coeffs_3dmm": self.regressor(emotion)}

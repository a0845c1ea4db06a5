"""The composed ReactDiff model: behaviour autoencoder + conditional latent diffusion over windows."""

from __future__ import annotations

import contextlib
from typing import Iterator

import torch
import torch.nn.functional as F
from torch import nn

from reactdiff.diffusion.samplers import SAMPLERS, draw_noise
from reactdiff.diffusion.schedule import NoiseSchedule
from reactdiff.errors import ConfigError
from reactdiff.methods.reactdiff.autoencoder import BehaviourAutoencoder
from reactdiff.methods.reactdiff.condition import ConditionEncoder, guided
from reactdiff.methods.reactdiff.config import ModelConfig
from reactdiff.methods.reactdiff.denoisers import DENOISERS
from reactdiff.methods.outputs import postprocess_emotion
from reactdiff.methods.reactdiff.latent_stats import LatentStatistics


@contextlib.contextmanager
def _eval_mode(module: nn.Module) -> Iterator[None]:
    """Run ``module`` in eval mode (no dropout) and restore its previous mode afterwards."""
    was_training = module.training
    module.eval()
    try:
        yield
    finally:
        module.train(was_training)


class ReactDiffModel(nn.Module):
    """Listener reaction generation: stage-1 autoencoder, stage-2 window-wise latent diffusion.

    Build with :func:`reactdiff.methods.reactdiff.build_model`. Stage 1 trains ``model.autoencoder`` with
    :meth:`autoencoder_loss`; then :meth:`set_latent_stats`; stage 2 trains
    :meth:`diffusion_parameters` with :meth:`window_loss` (the autoencoder stays frozen).
    """

    def __init__(self, config: ModelConfig, stream_dims: dict[str, int], stream_kinds: dict[str, str]):
        super().__init__()
        if not config.streams:
            raise ValueError("model.streams is empty: the model needs at least one input stream")
        unknown = [name for name in config.streams if name not in stream_dims]
        if unknown:
            raise ValueError(
                f"model stream(s) {unknown} are not in the feature store (available: {sorted(stream_dims)})"
            )
        context = config.autoencoder.context_frames
        if config.diffusion.online and (context <= 0 or config.diffusion.window % context):
            # Attention across window borders would let window w's condition see later speaker frames.
            raise ValueError(
                f"online generation needs autoencoder.context_frames dividing the {config.diffusion.window}-frame "
                f"window (got {context}); whole-sequence attention would look into the future"
            )
        self.config = config
        self.streams = tuple(config.streams)
        self.window = config.diffusion.window
        latent = config.autoencoder.latent_dim
        self.autoencoder = BehaviourAutoencoder(
            config.autoencoder,
            {name: stream_dims[name] for name in self.streams},
            {name: stream_kinds.get(name, "") for name in self.streams},
        )
        diffusion = config.diffusion
        if diffusion.context_windows < 1:
            raise ValueError(f"diffusion.context_windows must be at least 1, got {diffusion.context_windows}")
        if diffusion.lookahead_windows < 0 or (diffusion.online and diffusion.lookahead_windows):
            raise ValueError(
                f"diffusion.lookahead_windows must be 0 online and >= 0 offline, got {diffusion.lookahead_windows} "
                f"(online {diffusion.online}): online generation never sees later speaker windows; "
                "set --model.diffusion.lookahead_windows 0"
            )
        #: How many speaker windows each listener window is conditioned on.
        self.condition_span = diffusion.context_windows + diffusion.lookahead_windows
        # Stage-2 networks: trained while the autoencoder above stays frozen.
        denoiser = config.denoiser
        self.condition_encoder = ConditionEncoder(
            self.condition_span * self.window,
            latent,
            denoiser.cond_dim,
            token_patch=denoiser.patch_frames if denoiser.cross_attention else 0,
            token_dim=denoiser.width,
            token_heads=denoiser.num_heads,
            aligned_window=(diffusion.context_windows - 1, self.window),
        )
        if config.denoiser.name not in DENOISERS:
            raise ValueError(f"unknown denoiser {config.denoiser.name!r}; choose from {sorted(DENOISERS)}")
        self.denoiser = DENOISERS[config.denoiser.name](config.denoiser, self.window, latent)
        # Rebuilt from the config on load (non-persistent buffer), so checkpoints hold no schedule.
        self.schedule = NoiseSchedule(config.diffusion.train_steps, config.diffusion.schedule)
        # Latent statistics over the training set, saved with the weights (persistent buffers):
        # one per dimension, or one per frame position of the clip and dimension (the reference).
        if diffusion.stats == "per_position":
            if self.condition_span != 1 or diffusion.clip_frames % self.window:
                raise ConfigError(
                    "diffusion.stats per_position needs a condition of one window (context_windows 1, "
                    f"lookahead_windows 0; got {diffusion.context_windows} + {diffusion.lookahead_windows}) and "
                    f"diffusion.clip_frames ({diffusion.clip_frames}) a multiple of the {self.window}-frame window"
                )
            stats_shape: tuple[int, ...] = (diffusion.clip_frames, latent)
        elif diffusion.stats == "per_dimension":
            stats_shape = (latent,)
        else:
            raise ConfigError(f"diffusion.stats: unknown {diffusion.stats!r}; choose from per_dimension, per_position")
        self.register_buffer("latent_mean", torch.zeros(stats_shape))
        self.register_buffer("latent_std", torch.ones(stats_shape))
        self.register_buffer("latent_min", -torch.ones(stats_shape))
        self.register_buffer("latent_max", torch.ones(stats_shape))
        self.register_buffer("latent_stats_ready", torch.tensor(False))

    # ----- stage 1 -------------------------------------------------------------------------
    def encode(self, streams: dict[str, torch.Tensor]) -> torch.Tensor:
        """Input streams name -> (B, T, D) to behaviour latents (B, T, latent_dim)."""
        return self.autoencoder.encode(streams)

    def decode(self, latent: torch.Tensor) -> dict[str, torch.Tensor]:
        """Latents (B, T, latent_dim) to raw ``{"emotion": (B, T, 25), "coeffs_3dmm": (B, T, 58)}``."""
        return self.autoencoder.decode(latent)

    def decode_generated(self, latent: torch.Tensor, decoder_dropout: bool = False,
                         generator: torch.Generator | None = None) -> dict[str, torch.Tensor]:
        """:meth:`decode` for generation. ``decoder_dropout`` reproduces the reference's defect for
        comparisons with published numbers: its ``eval()`` touched only the U-Net, so the decoder's
        dropout stayed active while generating (part of its FRDiv may come from it). The dropout
        masks are drawn from ``generator`` (through a seed), so the result stays reproducible."""
        if not decoder_dropout:
            return self.decode(latent)
        seed = int(torch.randint(0, 2**31 - 1, (1,), generator=generator, device=generator.device if generator else "cpu"))
        devices = [latent.device] if latent.device.type == "cuda" else []
        was_training = self.autoencoder.training
        with torch.random.fork_rng(devices=devices):
            torch.manual_seed(seed)
            self.autoencoder.train()
            try:
                return self.decode(latent)
            finally:
                self.autoencoder.train(was_training)

    def autoencoder_loss(
        self, streams: dict[str, torch.Tensor], targets: dict[str, torch.Tensor]
    ) -> tuple[torch.Tensor, dict[str, float]]:
        """``weight_3dmm * MSE(3DMM) + weight_emotion * L1(emotion)`` of the reconstruction."""
        decoded = self.decode(self.encode(streams))
        mse_3dmm = F.mse_loss(decoded["coeffs_3dmm"], targets["coeffs_3dmm"])
        l1_emotion = F.l1_loss(decoded["emotion"], targets["emotion"])
        config = self.config.autoencoder
        loss = config.weight_3dmm * mse_3dmm + config.weight_emotion * l1_emotion
        return loss, {"loss": loss.item(), "mse_3dmm": mse_3dmm.item(), "l1_emotion": l1_emotion.item()}

    def latent_statistics(self) -> LatentStatistics:
        """An empty accumulator of the statistics this model keeps (``diffusion.stats``)."""
        return LatentStatistics(per_position=self.config.diffusion.stats == "per_position")

    @torch.no_grad()
    def set_latent_stats(self, latents: torch.Tensor | LatentStatistics) -> None:
        """Store mean/std/min/max of training latents for normalisation: from latents (M, latent_dim)
        or whole clips (N, clip_frames, latent_dim), or from an accumulator that saw them batch by
        batch (:meth:`latent_statistics`; stage 1 uses it to cover the whole training set)."""
        if isinstance(latents, torch.Tensor):
            statistics = self.latent_statistics()
            statistics.update(latents)
            latents = statistics
        result = latents.result()
        if result["mean"].shape != self.latent_mean.shape:
            raise ValueError(
                f"latent statistics of shape {tuple(result['mean'].shape)}; this model keeps {tuple(self.latent_mean.shape)} "
                f"(diffusion.stats {self.config.diffusion.stats}, clip_frames {self.config.diffusion.clip_frames})"
            )
        for name, value in result.items():
            getattr(self, f"latent_{name}").copy_(value)
        self.latent_stats_ready.fill_(True)

    def _stats_for(self, latent: torch.Tensor, first_window: torch.Tensor | int) -> dict[str, torch.Tensor]:
        """The statistics broadcast against ``latent``.

        Per dimension: any layout (..., latent_dim). Per position: windows (B, W, window, latent),
        window w of row b being clip window ``first_window (+ [b]) + w``, or whole clips
        (..., clip_frames, latent). A window's condition row is normalised with its listener
        window's positions, as the reference's shifted speaker sequence is (online).
        """
        stats = {"mean": self.latent_mean, "std": self.latent_std.clamp_min(1e-6), "min": self.latent_min, "max": self.latent_max}
        if self.latent_mean.dim() == 1:
            return stats
        if latent.dim() == 4:
            batch, num_windows, frames, dim = latent.shape
            clip_windows = self.latent_mean.shape[0] // self.window
            first = torch.as_tensor(first_window, device=latent.device).reshape(-1, 1)
            index = first + torch.arange(num_windows, device=latent.device)  # (B or 1, W)
            # An int start is checked on the host; per-row starts (training crops) need one sync.
            if isinstance(first_window, int):
                low, high = first_window, first_window + num_windows - 1
            else:
                low, high = int(index.min()), int(index.max())
            if frames != self.window or low < 0 or high >= clip_windows:
                raise ValueError(
                    f"per_position statistics cover {clip_windows} windows of {self.window} frames; got windows "
                    f"{low}..{high} of {frames} frames"
                )
            return {name: value.reshape(clip_windows, self.window, dim)[index] for name, value in stats.items()}
        if latent.shape[-2] != self.latent_mean.shape[0]:
            raise ValueError(f"per_position statistics need whole clips of {self.latent_mean.shape[0]} frames, got {latent.shape[-2]}")
        return stats

    def normalize_latent(self, latent: torch.Tensor, first_window: torch.Tensor | int = 0) -> torch.Tensor:
        """Latents to the diffusion space: standardised, or min-max to [-1, 1] (correct precedence).
        ``first_window``: the clip window of the first window (per_position statistics only)."""
        stats = self._stats_for(latent, first_window)
        if self.config.diffusion.normalization == "minmax":
            # Parenthesised as intended; the reference computes 2 (z - min) + smooth / (max - min + smooth) - 1.
            span = (stats["max"] - stats["min"]).clamp_min(1e-6)
            return 2 * (latent - stats["min"]) / span - 1
        return (latent - stats["mean"]) / stats["std"]

    def denormalize_latent(self, latent: torch.Tensor, first_window: torch.Tensor | int = 0) -> torch.Tensor:
        """Inverse of :meth:`normalize_latent`."""
        stats = self._stats_for(latent, first_window)
        if self.config.diffusion.normalization == "minmax":
            span = (stats["max"] - stats["min"]).clamp_min(1e-6)
            return (latent + 1) / 2 * span + stats["min"]
        return latent * stats["std"] + stats["mean"]

    # ----- windows ------------------------------------------------------------------------
    def to_windows(self, latent: torch.Tensor) -> torch.Tensor:
        """(B, T, latent) -> (B, W, window, latent); T must be a multiple of the window (crop first)."""
        batch, frames, dim = latent.shape
        if frames % self.window:
            raise ValueError(f"sequence of {frames} frames is not a multiple of the {self.window}-frame window")
        return latent.reshape(batch, frames // self.window, self.window, dim)

    def condition_windows(self, speaker_windows: torch.Tensor) -> torch.Tensor:
        """The speaker latent frames each listener window is conditioned on, from the speaker's
        latent windows (raw, B x W x window x latent): (B, W, condition_span * window, latent),
        ``condition_span = context_windows + lookahead_windows``.

        Offline: windows w - context_windows + 1 .. w + lookahead_windows. Online: windows
        w - context_windows .. w - 1, so no listener window depends on speaker frames at or after
        its own start. Windows before or after the clip are zero latents.
        """
        diffusion = self.config.diffusion
        num_windows = speaker_windows.shape[1]
        before = diffusion.context_windows - 1 + int(diffusion.online)
        zeros = speaker_windows.new_zeros
        padded = torch.cat(
            [
                zeros(speaker_windows.shape[0], before, *speaker_windows.shape[2:]),
                speaker_windows,
                zeros(speaker_windows.shape[0], diffusion.lookahead_windows, *speaker_windows.shape[2:]),
            ],
            dim=1,
        )
        # Window w of the output takes padded windows w .. w + span - 1 (original w - before .. w - before + span - 1).
        frames = torch.stack([padded[:, start : start + num_windows] for start in range(self.condition_span)], dim=2)
        return frames.flatten(2, 3)

    def diffusion_parameters(self) -> list[nn.Parameter]:
        """Parameters trained in stage 2 (condition encoder + denoiser; the autoencoder is frozen)."""
        return [*self.condition_encoder.parameters(), *self.denoiser.parameters()]

    def _require_stats(self) -> None:
        if not bool(self.latent_stats_ready):
            raise RuntimeError("latent statistics are not set: call set_latent_stats after stage 1")

    # ----- stage 2 -------------------------------------------------------------------------
    @torch.no_grad()
    def encode_windows(self, streams: dict[str, torch.Tensor]) -> torch.Tensor:
        """Raw latent windows (B, W, window, latent) of whole clips, as stage 2 sees them: the
        frozen encoder without gradients and without dropout; T must be a multiple of the window."""
        with _eval_mode(self.autoencoder):
            return self.to_windows(self.encode(streams))

    def diffusion_loss(
        self,
        speaker_streams: dict[str, torch.Tensor],
        listener_streams: dict[str, torch.Tensor],
        generator: torch.Generator | None = None,
    ) -> tuple[torch.Tensor, dict[str, float]]:
        """:meth:`window_loss` of whole clips given as feature streams (encodes both sides)."""
        speaker = self.condition_windows(self.encode_windows(speaker_streams))
        return self.window_loss(speaker, self.encode_windows(listener_streams), generator)

    def window_loss(
        self,
        speaker_condition: torch.Tensor,
        listener_windows: torch.Tensor,
        generator: torch.Generator | None = None,
        first_window: torch.Tensor | int = 0,
    ) -> tuple[torch.Tensor, dict[str, float]]:
        """Loss (``diffusion.loss``) of the denoiser's prediction (eps or x0, ``diffusion.prediction``)
        on listener latent windows (B, W, window, latent) given the speaker frames each is conditioned
        on (B, W, condition_span * window, latent; :meth:`condition_windows`). Raw latents: both are
        normalised here. Stage-2 training passes latents encoded once per clip (see
        ``reactdiff.methods.reactdiff.stage_diffusion.LatentWindows``). ``first_window`` (int or (B,)):
        the clip window each row starts at, which ``per_position`` statistics need for crops.
        """
        self._require_stats()
        # Windows become the batch: (B, W, window, latent) -> (B * W, window, latent).
        x0 = self.normalize_latent(listener_windows, first_window).flatten(0, 1)
        cond = self.condition_encoder(self.normalize_latent(speaker_condition, first_window).flatten(0, 1))
        dropout = self.config.diffusion.cond_dropout
        if dropout > 0 and self.denoiser.training:
            # Drawn only when enabled, so a model without condition dropout trains on the same random numbers.
            drop = torch.rand(x0.shape[0], generator=generator, device=generator.device if generator else x0.device)
            cond = cond.dropped(drop.to(x0.device) < dropout)
        # One timestep per window, uniform over the training steps.
        t = self.schedule.sample_timesteps(x0.shape[0], generator=generator)
        noise = draw_noise(x0.shape, generator, x0.device, x0.dtype)
        predicted = self.denoiser(self.schedule.add_noise(x0, noise, t), t, cond)
        target = noise if self.config.diffusion.prediction == "eps" else x0
        kind = self.config.diffusion.loss
        error = F.l1_loss(predicted, target) if kind == "l1" else F.mse_loss(predicted, target)
        loss = self.config.diffusion.loss_weight * error
        return loss, {"loss": loss.item(), f"{kind}_{self.config.diffusion.prediction}": error.item()}

    @torch.no_grad()
    def sample_windows(
        self,
        speaker_windows: torch.Tensor,
        num_samples: int = 10,
        steps: int | None = None,
        eta: float | None = None,
        sampler: str = "ddim",
        generator: torch.Generator | None = None,
        x_T: torch.Tensor | None = None,
        first_window: int = 0,
        guidance: float | None = None,
    ) -> torch.Tensor:
        """Generate listener latent windows (B, K, W, window, latent) from the speaker latent frames
        (B, W, condition_span * window, latent) each is conditioned on (raw latents, not normalised).

        Window w of the output is conditioned on entry w of the input: ``condition_windows`` builds
        them for a clip (``sample`` does); a stream passes the latest complete speaker windows.
        All K samples and W windows are denoised in one batched call per step.

        ``x_T`` (B, K, W, window, latent) fixes the initial noise. Without it the noise is drawn
        from ``generator``: one window per sample repeated over the W windows with
        ``diffusion.clip_noise``, else one per window. A stream that generates one window per call
        passes the same per-sample noise window every time to get the clip-level result, and the
        clip window it is at as ``first_window`` (used by ``per_position`` statistics only).
        ``guidance``: classifier-free guidance scale (None: ``diffusion.guidance``; 1 = unguided, one
        network call per step, else two in one doubled batch; see :func:`condition.guided`).
        """
        self._require_stats()
        if sampler not in SAMPLERS:
            raise ValueError(f"unknown sampler {sampler!r}; choose from {sorted(SAMPLERS)}")
        batch, num_windows = speaker_windows.shape[:2]
        expected = self.condition_span * self.window
        if speaker_windows.shape[2] != expected:
            raise ValueError(
                f"speaker condition has {speaker_windows.shape[2]} frames per window; this model conditions on "
                f"{expected} ((diffusion.context_windows + lookahead_windows) x window): build it with condition_windows"
            )
        # The condition is computed once and shared by the K samples and every denoising step.
        speaker = self.normalize_latent(speaker_windows, first_window)
        cond = self.condition_encoder(speaker.flatten(0, 1)).repeat_samples(batch, num_samples)
        # Samples-major layout (B, K, W): the reshape below recovers the windows of each sample in order.
        shape = (batch * num_samples * num_windows, self.window, speaker_windows.shape[-1])
        diffusion = self.config.diffusion
        if x_T is None and diffusion.clip_noise:
            # One noise window per sample, repeated over its windows (see DiffusionConfig.clip_noise).
            per_sample = draw_noise((batch, num_samples, 1, *shape[1:]), generator, speaker_windows.device, speaker_windows.dtype)
            x_T = per_sample.expand(-1, -1, num_windows, -1, -1)
        options = {"eta": diffusion.eta if eta is None else eta} if sampler == "ddim" else {}
        guidance = diffusion.guidance if guidance is None else guidance
        denoiser = self.denoiser
        if guidance != 1:
            denoiser, cond = guided(self.denoiser, guidance), cond.with_null()
        x0 = SAMPLERS[sampler](
            denoiser,
            shape,
            self.schedule,
            steps=diffusion.sample_steps if steps is None else steps,
            cond=cond,
            generator=generator,
            clip_x0=diffusion.clip_x0,
            x_T=None if x_T is None else x_T.reshape(shape),  # reshape copies an expanded x_T
            device=speaker_windows.device,
            dtype=speaker_windows.dtype,
            prediction=diffusion.prediction,
            **options,
        )
        windows = x0.reshape(batch * num_samples, num_windows, self.window, -1)
        return self.denormalize_latent(windows, first_window).reshape(batch, num_samples, num_windows, self.window, -1)

    @torch.no_grad()
    def sample(
        self,
        speaker_streams: dict[str, torch.Tensor],
        num_samples: int = 10,
        steps: int | None = None,
        eta: float | None = None,
        sampler: str = "ddim",
        generator: torch.Generator | None = None,
        decoder_dropout: bool = False,
        guidance: float | None = None,
    ) -> dict[str, torch.Tensor]:
        """K listener reactions per speaker clip: ``{"emotion": (B, K, T, 25), "coeffs_3dmm": (B, K, T, 58)}``.

        T (the speaker's frames) must be a multiple of the window. Emotion is post-processed into
        valid ranges (:func:`postprocess_emotion`). Call ``model.eval()`` first (dropout);
        ``decoder_dropout``: see :meth:`decode_generated`.
        """
        speaker = self.to_windows(self.encode(speaker_streams))
        batch, num_windows = speaker.shape[:2]
        listener = self.sample_windows(
            self.condition_windows(speaker), num_samples, steps=steps, eta=eta, sampler=sampler, generator=generator,
            guidance=guidance,
        )
        # Windows of a sample are consecutive in memory, so this reshape re-joins them into the clip.
        decoded = self.decode_generated(listener.reshape(batch * num_samples, num_windows * self.window, -1), decoder_dropout, generator)
        decoded["emotion"] = postprocess_emotion(decoded["emotion"])
        return {name: value.reshape(batch, num_samples, *value.shape[1:]) for name, value in decoded.items()}

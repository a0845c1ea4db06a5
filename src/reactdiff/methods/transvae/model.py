"""Trans-VAE networks (REACT 2024 baseline, ``model/TransformerVAE.py``), on per-frame streams.

Offline: per-frame speaker features S -> one latent z per sequence (two learned tokens through a
transformer encoder layer, no positions, so z summarises the speaker frames as a set) -> zero
queries + sinusoidal positions through two transformer decoder layers (the first attends to z, the
second to its own input) -> 3DMM head, then an emotion head on [3DMM, decoder features].

Online: window by window, a new z from the speaker prefix fused with the listener frames generated
so far; from the second window on, the 3DMM comes from a decoder over [past 3DMM, current features]
and an LSTM started from the last past frame. Unlike the original (which reads the speaker up to the
end of the window it generates, W - 1 frames of look-ahead), window i reads the speaker only up to
its first frame iW, so no output frame depends on a later speaker frame.
"""

from __future__ import annotations

import torch
from torch import nn
from torch.nn import functional as F

from reactdiff.constants import COEFFS_3DMM_DIM, EMOTION_DIM, EXPRESSION_COEFFS_SLICE
from reactdiff.errors import ConfigError
from reactdiff.methods.outputs import postprocess_emotion
from reactdiff.methods.transvae.config import ModelConfig
from reactdiff.nn.layers import sinusoidal_embedding

#: 3DMM pose coefficients (rotation and translation), weighted ``pose_weight`` in the loss.
POSE_SLICE = slice(EXPRESSION_COEFFS_SLICE.stop, COEFFS_3DMM_DIM)


def _causal_mask(frames: int, device: torch.device) -> torch.Tensor:
    """True above the diagonal: frame i attends to frames <= i. (The original's stepped-ALiBi mask
    with period = length has zero bias, i.e. exactly this.)"""
    return torch.ones(frames, frames, dtype=torch.bool, device=device).triu(1)


def _decoder_layer(config: ModelConfig) -> nn.TransformerDecoderLayer:
    # PyTorch defaults as the original: post-LN, ReLU.
    return nn.TransformerDecoderLayer(config.width, config.num_heads, config.ff_dim, config.dropout, batch_first=True)


def diversity(first: torch.Tensor, second: torch.Tensor) -> torch.Tensor:
    """The original ``div_loss``: batch mean of exp(-||Y1 - Y2||^2 / 100) over whole sequences."""
    distance = (first - second).flatten(1).pow(2).sum(-1)
    return torch.exp(-distance / 100).mean()


class SpeakerEncoder(nn.Module):
    """Per-frame speaker features (B, T, F): visual streams -> Linear -> ReLU -> Linear (stands in
    for the original's per-frame CNN, whose last layer is ReLU and whose head is Linear(128, 128)),
    audio -> Linear, then Linear on [visual, audio]. No positions, as the original."""

    def __init__(self, visual_dim: int, audio_dim: int, width: int):
        super().__init__()
        self.visual = nn.Sequential(nn.Linear(visual_dim, width), nn.ReLU(), nn.Linear(width, width))
        self.audio = nn.Linear(audio_dim, width)
        self.fusion = nn.Linear(2 * width, width)

    def forward(self, visual: torch.Tensor, audio: torch.Tensor) -> torch.Tensor:
        return self.fusion(torch.cat([self.visual(visual), self.audio(audio)], dim=-1))


class LatentEncoder(nn.Module):
    """``VAEModel``: q(z | frames) from two learned tokens (mu, log variance) prepended to the
    projected frames and one transformer encoder layer; no positions."""

    def __init__(self, config: ModelConfig):
        super().__init__()
        width = config.width
        self.input = nn.Linear(width, width)
        self.mu_token = nn.Parameter(torch.randn(width))
        self.logvar_token = nn.Parameter(torch.randn(width))
        self.layer = nn.TransformerEncoderLayer(width, config.num_heads, config.ff_dim, config.dropout, batch_first=True)

    def forward(self, frames: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        """(B, N, F) -> mu, log variance, each (B, F)."""
        tokens = torch.stack([self.mu_token, self.logvar_token]).expand(frames.shape[0], -1, -1)
        out = self.layer(torch.cat([tokens, self.input(frames)], dim=1))
        return out[:, 0], out[:, 1]


class Decoder(nn.Module):
    """Zero queries + sinusoidal positions 0..n-1; ``decoder_1`` (causal self-attention, memory z)
    then ``decoder_2`` (causal self-attention, memory = its own input, unmasked, as the original)."""

    def __init__(self, config: ModelConfig):
        super().__init__()
        self.width = config.width
        self.dropout = nn.Dropout(config.dropout)
        self.decoder_1 = _decoder_layer(config)
        self.decoder_2 = _decoder_layer(config)

    def forward(self, z: torch.Tensor, frames: int) -> torch.Tensor:
        """z (B, F) -> features (B, frames, F)."""
        # Our shared table puts cos then sin halves where the original interleaves sin and cos: a
        # fixed permutation of channels, which the layers (linear maps, LayerNorm) absorb.
        positions = sinusoidal_embedding(torch.arange(frames, device=z.device), self.width).to(z.dtype)
        queries = self.dropout(positions.expand(z.shape[0], -1, -1))
        mask = _causal_mask(frames, z.device)
        hidden = self.decoder_1(queries, z[:, None], tgt_mask=mask)
        return self.decoder_2(hidden, hidden, tgt_mask=mask)


class OnlineRefiner(nn.Module):
    """The online 3DMM path from the second window on: ``decoder_3d`` over [embedded past 3DMM,
    embedded current features] (causal self-attention, unmasked memory = itself), its last W frames
    through an LSTM whose state starts from the embedding of the last past frame."""

    def __init__(self, config: ModelConfig):
        super().__init__()
        width = config.width
        self.past = nn.Linear(COEFFS_3DMM_DIM, width)
        self.current = nn.Linear(width, width)
        self.decoder_3d = _decoder_layer(config)
        self.lstm = nn.LSTM(width, width, batch_first=True)

    def forward(self, past_3dmm: torch.Tensor, features: torch.Tensor) -> torch.Tensor:
        """past (B, P, 58), current features (B, W, F) -> (B, W, F) for the 3DMM head."""
        past = self.past(past_3dmm)
        sequence = torch.cat([past, self.current(features)], dim=1)
        hidden = self.decoder_3d(sequence, sequence, tgt_mask=_causal_mask(sequence.shape[1], sequence.device))
        state = past[:, -1:].transpose(0, 1).contiguous()  # (1, B, F)
        out, _ = self.lstm(hidden[:, -features.shape[1]:], (state, state))
        return out


class TransVAEModel(nn.Module):
    """Trans-VAE for the framework's streams; ``sample`` gives K reactions, ``loss`` the training loss."""

    def __init__(self, config: ModelConfig, stream_dims: dict[str, int], stream_kinds: dict[str, str]):
        super().__init__()
        self.config = config
        self.visual_streams = tuple(name for name in config.streams if stream_kinds[name] == "visual")
        self.audio_streams = tuple(name for name in config.streams if stream_kinds[name] == "audio")
        if not self.visual_streams or not self.audio_streams:
            raise ConfigError(
                f"model.streams: Trans-VAE needs at least one visual and one audio stream, got {list(config.streams)}"
            )
        width = config.width
        self.speaker_encoder = SpeakerEncoder(
            sum(stream_dims[name] for name in self.visual_streams), sum(stream_dims[name] for name in self.audio_streams), width
        )
        self.latent_encoder = LatentEncoder(config)
        self.decoder = Decoder(config)
        self.head_3dmm = nn.Linear(width, COEFFS_3DMM_DIM)
        # Two linear maps without a nonlinearity between them, as the original.
        self.head_emotion = nn.Sequential(nn.Linear(COEFFS_3DMM_DIM + width, width), nn.Linear(width, EMOTION_DIM))
        if config.online:
            # Speaker features fused with the listener frames generated so far (zeros for the current one).
            self.online_fusion = nn.Linear(width + COEFFS_3DMM_DIM + EMOTION_DIM, width)
            self.refiner = OnlineRefiner(config)

    # ----- forward -------------------------------------------------------------------------
    def _sample_latent(self, mu: torch.Tensor, logvar: torch.Tensor, generator: torch.Generator | None) -> torch.Tensor:
        noise = torch.randn(mu.shape, generator=generator, device=mu.device, dtype=mu.dtype)
        return mu + torch.exp(0.5 * logvar) * noise

    def _outputs(self, features: torch.Tensor, coeffs: torch.Tensor) -> torch.Tensor:
        return self.head_emotion(torch.cat([coeffs, features], dim=-1))

    def forward(self, speaker: dict[str, torch.Tensor], generator: torch.Generator | None = None):
        """Speaker streams {name: (B, T, D)} -> 3DMM (B, T, 58), raw emotion (B, T, 25), and the
        list of (mu, log variance) of every latent drawn (one offline, one per window online)."""
        visual = torch.cat([speaker[name] for name in self.visual_streams], dim=-1)
        audio = torch.cat([speaker[name] for name in self.audio_streams], dim=-1)
        features = self.speaker_encoder(visual, audio)
        if self.config.online:
            return self._online(features, generator)
        mu, logvar = self.latent_encoder(features)
        decoded = self.decoder(self._sample_latent(mu, logvar, generator), features.shape[1])
        coeffs = self.head_3dmm(decoded)
        return coeffs, self._outputs(decoded, coeffs), [(mu, logvar)]

    def _online(self, features: torch.Tensor, generator: torch.Generator | None):
        batch, frames, _ = features.shape
        window = self.config.window
        coeffs = features.new_zeros(batch, 0, COEFFS_3DMM_DIM)
        emotion = features.new_zeros(batch, 0, EMOTION_DIM)
        blank = features.new_zeros(batch, 1, COEFFS_3DMM_DIM + EMOTION_DIM)
        distributions = []
        # ceil(T / W) windows, cropped at the end (the original left the last T mod W frames zero).
        for start in range(0, frames, window):
            # The speaker up to this window's first frame, never later (the original read to its end).
            listener = torch.cat([torch.cat([coeffs, emotion], dim=-1), blank], dim=1)
            prefix = self.online_fusion(torch.cat([features[:, : start + 1], listener], dim=-1))
            mu, logvar = self.latent_encoder(prefix)
            distributions.append((mu, logvar))
            decoded = self.decoder(self._sample_latent(mu, logvar, generator), window)
            hidden = decoded if start == 0 else self.refiner(coeffs, decoded)
            window_coeffs = self.head_3dmm(hidden)
            coeffs = torch.cat([coeffs, window_coeffs], dim=1)
            emotion = torch.cat([emotion, self._outputs(decoded, window_coeffs)], dim=1)
        return coeffs[:, :frames], emotion[:, :frames], distributions

    # ----- training and sampling -----------------------------------------------------------
    def loss(self, speaker: dict[str, torch.Tensor], emotion: torch.Tensor, coeffs: torch.Tensor,
             generator: torch.Generator | None = None) -> tuple[torch.Tensor, dict[str, torch.Tensor]]:
        """The original ``VAELoss`` + ``div_loss``: reconstruction (pose x ``pose_weight``), KL to
        N(0, I) (element mean, averaged over the latents), and the diversity term against a second
        pass drawn without gradients in the same mode."""
        config = self.config
        predicted_coeffs, predicted_emotion, distributions = self(speaker, generator)
        with torch.no_grad():
            second_coeffs, second_emotion, _ = self(speaker, generator)
        reconstruction = (
            F.mse_loss(predicted_emotion, emotion)
            + F.mse_loss(predicted_coeffs[..., EXPRESSION_COEFFS_SLICE], coeffs[..., EXPRESSION_COEFFS_SLICE])
            + config.pose_weight * F.mse_loss(predicted_coeffs[..., POSE_SLICE], coeffs[..., POSE_SLICE])
        )
        kl = torch.stack([
            (0.5 * (mu.pow(2) + logvar.exp() - 1 - logvar)).mean() for mu, logvar in distributions
        ]).mean()
        div = diversity(predicted_coeffs, second_coeffs) + diversity(predicted_emotion, second_emotion)
        total = reconstruction + config.kl_weight * kl + config.div_weight * div
        return total, {"reconstruction": reconstruction.detach(), "kl": kl.detach(), "diversity": div.detach()}

    @torch.no_grad()
    def sample(self, speaker: dict[str, torch.Tensor], num_samples: int, generator: torch.Generator | None = None) -> dict[str, torch.Tensor]:
        """K reactions per speaker, each with its own latent(s) drawn from q(z | speaker):
        ``{"emotion": (B, K, T, 25), "coeffs_3dmm": (B, K, T, 58)}``. Call ``eval()`` first
        (the original samples in eval mode)."""
        batch = next(iter(speaker.values())).shape[0]
        # The K passes run as one batch of B * K: in eval mode they differ only in their latents.
        repeated = {name: value.repeat_interleave(num_samples, dim=0) for name, value in speaker.items()}
        coeffs, emotion, _ = self(repeated, generator)
        outputs = {"emotion": postprocess_emotion(emotion), "coeffs_3dmm": coeffs}
        return {name: value.reshape(batch, num_samples, *value.shape[1:]) for name, value in outputs.items()}

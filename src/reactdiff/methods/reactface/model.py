"""ReactFace's networks: SpeakFormer (speaker encoder), the past-listener fusion, the interaction
VAE, the momentum and the listener decoder, and the window loop that ties them together.

The loop is the same in training and generation (one protocol; the original trains on
whole-clip, non-causal speaker features and evaluates on prefixes). Window i (frames
[iW, (i+1)W)) is generated from

- a latent z_i drawn from the VAE over the *previous* window of fused listener frames (the
  listener's own output of frames [(i-1)W, iW) fused with the speaker's audio and motion features
  up to frame iW - 1; before the clip, a window of zeros), momentum-smoothed with z_(i-1);
- the speaker's audio and motion features of frames iW..t for output frame t (causal masks).

Every speaker feature at frame t depends on speaker frames <= t only, and every attention keeps
a key/value cache of the past (bounded by ``context_frames``), so a clip is encoded once, in
linear time, whether it arrives whole or window by window (:class:`ReactFaceStream`).
"""

from __future__ import annotations

from typing import Mapping

import torch
import torch.nn.functional as F
from torch import nn

from reactdiff.constants import COEFFS_3DMM_DIM, EMOTION_DIM
from reactdiff.methods.reactface.config import ReactFaceConfig
from reactdiff.methods.reactface.layers import CausalDecoderLayer, sinusoid_table

#: 3DMM coefficients [0:52] are expression, [52:58] pose (rotation, translation).
EXPRESSION_DIMS = 52


def periodic_encoding(start: int, length: int, dim: int, period: int, device) -> torch.Tensor:
    """The original's periodic PE: the sinusoid table indexed by (t mod period), (L, dim)."""
    positions = torch.arange(start, start + length, device=device) % period
    return sinusoid_table(positions, dim)


class SpeakerEncoder(nn.Module):
    """SpeakFormer on per-frame streams: a causal Conv1d over the visual streams (the original: a
    3-D CNN on raw frames) plus the periodic PE; a Linear over the audio streams (the original:
    wav2vec2 + Linear, 2 tokens per frame); three decoder layers: (1) causal stepped-ALiBi self-
    attention and causal attention to the visual features (the original leaves this one unmasked),
    (2) and (3) attention to the audio token of their own frame. (2) gives the speaker vector,
    (3) the speaker motion."""

    def __init__(self, config: ReactFaceConfig, visual_dim: int, audio_dim: int):
        super().__init__()
        dim, kernel = config.feature_dim, config.visual_kernel
        self.config = config
        self.visual_dim = visual_dim
        self.visual = nn.Conv1d(visual_dim, dim, kernel)
        self.audio = nn.Linear(audio_dim, dim)
        self.drop = nn.Dropout(config.dropout)
        layer = dict(dim=dim, num_heads=config.num_heads, ff_dim=config.ff_dim, dropout=config.dropout,
                     period=config.period, context=config.context_frames)
        self.layers = nn.ModuleList([
            CausalDecoderLayer(**layer, cross="causal"),
            CausalDecoderLayer(**layer, cross="aligned"),
            CausalDecoderLayer(**layer, cross="aligned"),
        ])

    def forward(self, visual: torch.Tensor, audio: torch.Tensor, start: int = 0, state: dict | None = None):
        """visual (B, L, Dv), audio (B, L, Da) at frames start..start+L-1 -> motion, audio
        features, speaker vector (each (B, L, F)) and the state to continue from."""
        state = state or {}
        kernel = self.config.visual_kernel
        tail = state.get("tail")
        if tail is None:  # zeros before the first frame: the convolution is causal
            tail = visual.new_zeros(visual.shape[0], kernel - 1, visual.shape[2])
        frames = torch.cat([tail, visual], dim=1)
        features = self.visual(frames.transpose(1, 2)).transpose(1, 2)
        features = self.drop(features + periodic_encoding(start, visual.shape[1], features.shape[-1], self.config.period, visual.device))
        audio_features = self.audio(audio)
        caches = state.get("layers", [None] * 3)
        first, c1 = self.layers[0](features, features, start, caches[0])
        vector, c2 = self.layers[1](first, audio_features, start, caches[1])
        motion, c3 = self.layers[2](vector, audio_features, start, caches[2])
        new_state = {"tail": frames[:, frames.shape[1] - (kernel - 1):], "layers": [c1, c2, c3]}
        return motion, audio_features, vector, new_state


class ListenerFusion(nn.Module):
    """The listener's past 3DMM, embedded (Linear(58, F) + periodic PE; the original adds the
    embedding twice, ``u + PPE(u) = 2u + pe``, fixed here to ``u + pe``), attending causally to the
    speaker's audio features, then to the speaker's motion (``fusion_plm2sa``, ``fusion_plm2sm``)."""

    def __init__(self, config: ReactFaceConfig):
        super().__init__()
        self.config = config
        self.embed = nn.Linear(COEFFS_3DMM_DIM, config.feature_dim)
        self.drop = nn.Dropout(config.dropout)
        layer = dict(dim=config.feature_dim, num_heads=config.num_heads, ff_dim=config.ff_dim, dropout=config.dropout,
                     period=config.period, context=config.context_frames, cross="causal")
        self.to_audio = CausalDecoderLayer(**layer)
        self.to_motion = CausalDecoderLayer(**layer)

    def forward(self, past: torch.Tensor, audio: torch.Tensor, motion: torch.Tensor, start: int, caches: list | None = None):
        caches = caches or [None, None]
        embedded = self.embed(past)
        embedded = self.drop(embedded + periodic_encoding(start, past.shape[1], embedded.shape[-1], self.config.period, past.device))
        fused, c1 = self.to_audio(embedded, audio, start, caches[0])
        fused, c2 = self.to_motion(fused, motion, start, caches[1])
        return fused, [c1, c2]


class InteractionVAE(nn.Module):
    """The original's ``VanillaVAE``: Linear(F, F) on the fused frames, two learned tokens (mu,
    logvar) in front, a TransformerEncoder without PE; z is sampled, in generation too."""

    def __init__(self, config: ReactFaceConfig):
        super().__init__()
        dim = config.feature_dim
        self.embed = nn.Linear(dim, dim)
        self.tokens = nn.Parameter(torch.randn(2, dim))
        layer = nn.TransformerEncoderLayer(dim, config.vae_heads, config.vae_ff_dim, config.dropout, batch_first=True)
        self.encoder = nn.TransformerEncoder(layer, config.vae_layers, enable_nested_tensor=False)

    def forward(self, fused: torch.Tensor, generator: torch.Generator | None):
        tokens = torch.cat([self.tokens.expand(fused.shape[0], -1, -1), self.embed(fused)], dim=1)
        encoded = self.encoder(tokens)
        mu, logvar = encoded[:, 0], encoded[:, 1]
        noise = torch.randn(mu.shape, generator=generator, device=mu.device, dtype=mu.dtype)
        return mu + torch.exp(0.5 * logvar) * noise, mu, logvar


class ListenerDecoder(nn.Module):
    """Zero queries + sinusoidal PE (positions 0..W-1 of the window) read the momentum memory
    (2-layer TransformerDecoder), then attend causally to the window's speaker audio and motion
    features; Linear(F, 58) gives 3DMM and the emotion head Linear(F + 58, F), Linear(F, 25) reads
    [3DMM, features] (not in the published ReactFace; the spec's addition, as Trans-VAE's head)."""

    def __init__(self, config: ReactFaceConfig):
        super().__init__()
        dim = config.feature_dim
        layer = nn.TransformerDecoderLayer(dim, config.num_heads, config.ff_dim, config.dropout, batch_first=True)
        self.queries = nn.TransformerDecoder(layer, config.decoder_layers)
        self.drop = nn.Dropout(config.dropout)
        fusion = dict(dim=dim, num_heads=config.num_heads, ff_dim=config.ff_dim, dropout=config.dropout,
                      period=config.period, context=config.context_frames, cross="causal")
        self.to_audio = CausalDecoderLayer(**fusion)
        self.to_motion = CausalDecoderLayer(**fusion)
        self.coeffs_head = nn.Linear(dim, COEFFS_3DMM_DIM)
        self.emotion_head = nn.Sequential(nn.Linear(dim + COEFFS_3DMM_DIM, dim), nn.Linear(dim, EMOTION_DIM))

    def forward(self, memory: torch.Tensor, audio: torch.Tensor, motion: torch.Tensor):
        batch, window, dim = audio.shape
        queries = self.drop(sinusoid_table(torch.arange(window, device=audio.device), dim).expand(batch, -1, -1))
        features = self.queries(queries, memory)
        features, _ = self.to_audio(features, audio)
        features, _ = self.to_motion(features, motion)
        coeffs = self.coeffs_head(features)
        return coeffs, self.emotion_head(torch.cat([coeffs, features], dim=-1))


class SpeakerHead(nn.Module):
    """Training only: the speaker vector -> the speaker's own 3DMM (one decoder layer over itself,
    unmasked, then a zero-initialised Linear), the original's auxiliary reconstruction."""

    def __init__(self, config: ReactFaceConfig):
        super().__init__()
        self.layer = nn.TransformerDecoderLayer(config.feature_dim, config.num_heads, config.ff_dim, config.dropout, batch_first=True)
        self.out = nn.Linear(config.feature_dim, COEFFS_3DMM_DIM)
        nn.init.zeros_(self.out.weight)
        nn.init.zeros_(self.out.bias)

    def forward(self, vector: torch.Tensor) -> torch.Tensor:
        return self.out(self.layer(vector, vector))


class ReactFaceModel(nn.Module):
    """All of ReactFace; see the module docstring for the window loop."""

    def __init__(self, config: ReactFaceConfig, stream_dims: Mapping[str, int], stream_kinds: Mapping[str, str]):
        super().__init__()
        self.config = config
        self.visual_streams = tuple(s for s in config.streams if stream_kinds[s] == "visual")
        self.audio_streams = tuple(s for s in config.streams if stream_kinds[s] == "audio")
        self.speaker_encoder = SpeakerEncoder(config, sum(stream_dims[s] for s in self.visual_streams),
                                              sum(stream_dims[s] for s in self.audio_streams))
        self.fusion = ListenerFusion(config)
        self.vae = InteractionVAE(config)
        self.decoder = ListenerDecoder(config)
        self.speaker_head = SpeakerHead(config)

    @property
    def window(self) -> int:
        return self.config.window

    def split_streams(self, speaker: Mapping[str, torch.Tensor]) -> tuple[torch.Tensor, torch.Tensor]:
        visual = torch.cat([speaker[s] for s in self.visual_streams], dim=-1)
        audio = torch.cat([speaker[s] for s in self.audio_streams], dim=-1)
        return visual, audio

    def encode_speaker(self, speaker: Mapping[str, torch.Tensor], start: int = 0, state: dict | None = None):
        """Speaker streams {name: (B, L, D)} at frames start..start+L-1 -> (motion, audio
        features, speaker vector, state)."""
        return self.speaker_encoder(*self.split_streams(speaker), start, state)

    # ----- the listener window loop -------------------------------------------------------
    def start_listener(self, batch: int, device) -> dict:
        """State before the first window: the pre-clip window of zeros, no previous latent."""
        window, dim = self.window, self.config.feature_dim
        zeros = torch.zeros(batch, window, dim, device=device)
        return {"position": 0, "caches": None, "past": torch.zeros(batch, window, COEFFS_3DMM_DIM, device=device),
                "past_audio": zeros, "past_motion": zeros, "z": None}

    def latent_memory(self, fused_window: torch.Tensor, z_prev: torch.Tensor | None, generator, momentum: float):
        """z from the previous window's fused frames, smoothed with the previous latent: the decoder
        memory is z alone in the first window, then the linear interpolation from z_prev to z
        over W steps (F.interpolate, as the original)."""
        z, mu, logvar = self.vae(fused_window, generator)
        if z_prev is None:
            return z, z[:, None], (mu, logvar)
        z = momentum * z_prev + (1 - momentum) * z
        memory = F.interpolate(torch.stack([z_prev, z], dim=-1), size=self.window, mode="linear").transpose(1, 2)
        return z, memory, (mu, logvar)

    def listener_window(self, state: dict, audio: torch.Tensor, motion: torch.Tensor, generator, momentum: float):
        """Generate one window given the speaker's (B, W, F) audio features and motion of its
        frames; returns (3DMM (B, W, 58), emotion (B, W, 25), (mu, logvar)) and updates ``state``."""
        fused, state["caches"] = self.fusion(state["past"], state["past_audio"], state["past_motion"], state["position"], state["caches"])
        z, memory, distribution = self.latent_memory(fused, state["z"], generator, momentum)
        coeffs, emotion = self.decoder(memory, audio, motion)
        state.update(position=state["position"] + self.window, past=coeffs, past_audio=audio, past_motion=motion, z=z)
        return coeffs, emotion, distribution

    def react(self, speaker: Mapping[str, torch.Tensor], generator, num_samples: int = 1, momentum: float | None = None,
              speaker_head: bool = False) -> dict:
        """Whole clips: speaker streams {name: (B, T, D)} (T a multiple of the window) -> raw
        ``coeffs_3dmm`` (B*K, T, 58) and ``emotion`` (B*K, T, 25), sample k of speaker b at row
        b*K + k, plus the per-window (mu, logvar) and, on request, the speaker-3DMM prediction."""
        momentum = self.config.momentum if momentum is None else momentum
        motion, audio, vector, _ = self.encode_speaker(speaker)
        out = {}
        if speaker_head:
            out["speaker_3dmm"] = self.speaker_head(vector)
        motion, audio = motion.repeat_interleave(num_samples, 0), audio.repeat_interleave(num_samples, 0)
        state = self.start_listener(motion.shape[0], motion.device)
        coeffs, emotion, distributions = [], [], []
        for start in range(0, motion.shape[1], self.window):
            window = slice(start, start + self.window)
            c, e, d = self.listener_window(state, audio[:, window], motion[:, window], generator, momentum)
            coeffs.append(c)
            emotion.append(e)
            distributions.append(d)
        out.update(coeffs_3dmm=torch.cat(coeffs, 1), emotion=torch.cat(emotion, 1), distributions=distributions)
        return out


class ReactFaceStream:
    """Window-by-window generation with carried state: feed the speaker's next W frames, get the
    listener's next W frames (K samples per speaker), each window costing the same time however
    long the clip has run. Equals :meth:`ReactFaceModel.react` on the whole clip for the same
    generator (tested)."""

    def __init__(self, model: ReactFaceModel, num_samples: int, generator: torch.Generator | None, momentum: float | None = None):
        self.model, self.num_samples, self.generator = model, num_samples, generator
        self.momentum = model.config.momentum if momentum is None else momentum
        self.position = 0
        self.speaker_state: dict | None = None
        self.listener_state: dict | None = None

    @torch.no_grad()
    def step(self, speaker: Mapping[str, torch.Tensor]) -> tuple[torch.Tensor, torch.Tensor]:
        """Speaker streams {name: (B, W, D)} -> raw 3DMM (B*K, W, 58) and emotion (B*K, W, 25)."""
        model = self.model
        motion, audio, _, self.speaker_state = model.encode_speaker(speaker, self.position, self.speaker_state)
        motion, audio = motion.repeat_interleave(self.num_samples, 0), audio.repeat_interleave(self.num_samples, 0)
        if self.listener_state is None:
            self.listener_state = model.start_listener(motion.shape[0], motion.device)
        self.position += motion.shape[1]
        coeffs, emotion, _ = model.listener_window(self.listener_state, audio, motion, self.generator, self.momentum)
        return coeffs, emotion

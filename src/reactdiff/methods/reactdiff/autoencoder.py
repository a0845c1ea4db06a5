"""Stage 1: the behaviour autoencoder (MMT encoder to a per-frame latent, transformer decoder)."""

from __future__ import annotations

import torch
from torch import nn

from reactdiff.constants import COEFFS_3DMM_DIM, EMOTION_DIM
from reactdiff.methods.reactdiff.config import AutoencoderConfig
from reactdiff.nn.layers import ContextChunks, mlp, sinusoidal_embedding
from reactdiff.methods.reactdiff.mmt import MultiModalityTransformer


class BehaviourAutoencoder(nn.Module):
    """Encodes a person's audio-visual streams to latents (B, T, latent_dim) and decodes them to
    3DMM coefficients (B, T, 58) and emotion (B, T, 25).

    Attention (encoder and decoder) runs inside chunks of ``config.context_frames`` frames, so each
    window's latent depends on that window's frames only.
    """

    def __init__(self, config: AutoencoderConfig, stream_dims: dict[str, int], stream_kinds: dict[str, str]):
        super().__init__()
        self.config = config
        latent = config.latent_dim
        self.mmt = MultiModalityTransformer(
            stream_dims,
            stream_kinds,
            hidden_dim=config.hidden_dim,
            out_dim=latent,
            num_heads=config.num_heads,
            intra_depth=config.intra_depth,
            inter_depth=config.inter_depth,
            dropout=config.dropout,
            feedforward=config.feedforward,
            positional=config.positional,
        )
        # Encoder head and decoder input MLP have the published shape: latent -> 2 latent -> latent.
        self.encoder_head = mlp(latent, 2 * latent, latent)
        self.decoder_input = mlp(latent, 2 * latent, latent)
        layer = nn.TransformerEncoderLayer(
            latent, config.decoder_heads, config.decoder_ff_dim, config.dropout, batch_first=True
        )
        # A self-attention stack is what the reference's decoder layers compute (memory = the sequence).
        self.decoder = nn.TransformerEncoder(layer, config.decoder_layers, enable_nested_tensor=False)
        self.head_3dmm = mlp(latent, 2 * latent, COEFFS_3DMM_DIM)
        self.head_emotion = mlp(latent, 2 * latent, EMOTION_DIM)

    def encode(self, streams: dict[str, torch.Tensor]) -> torch.Tensor:
        """Input streams name -> (B, T, D) to latents (B, T, latent_dim)."""
        missing = [name for name in self.mmt.stream_dims if name not in streams]
        if missing:
            raise ValueError(f"missing input stream(s) {missing}; the model expects {list(self.mmt.stream_dims)}")
        first = streams[next(iter(self.mmt.stream_dims))]
        # Every stream is cut at the same frames, so chunk i of each stream covers the same time.
        chunks = ContextChunks(first.shape[1], self.config.context_frames)
        behaviour = self.mmt({name: chunks.split(streams[name]) for name in self.mmt.stream_dims})
        return chunks.merge(self.encoder_head(behaviour))

    def decode(self, latent: torch.Tensor) -> dict[str, torch.Tensor]:
        """Latents (B, T, latent_dim) to raw ``{"coeffs_3dmm": (B, T, 58), "emotion": (B, T, 25)}``."""
        chunks = ContextChunks(latent.shape[1], self.config.context_frames)
        x = chunks.split(self.decoder_input(latent))
        # Positions restart in every chunk: a window decodes the same wherever it sits in the clip.
        frames = torch.arange(x.shape[1], device=x.device)
        x = self.decoder(x + sinusoidal_embedding(frames, x.shape[-1]).to(x.dtype))
        x = chunks.merge(x)
        return {"coeffs_3dmm": self.head_3dmm(x), "emotion": self.head_emotion(x)}

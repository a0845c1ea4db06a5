"""Stage 1: the behaviour autoencoder (MMT encoder to a per-frame latent, transformer decoder)."""

from __future__ import annotations

import torch
from torch import nn

from reactdiff.constants import COEFFS_3DMM_DIM, EMOTION_DIM
from reactdiff.errors import ConfigError
from reactdiff.methods.reactdiff.config import AutoencoderConfig
from reactdiff.nn.layers import ContextChunks, mlp, sinusoidal_embedding
from reactdiff.methods.reactdiff.mmt import MultiModalityTransformer


class BehaviourAutoencoder(nn.Module):
    """Encodes a person's audio-visual streams to latents (B, T, latent_dim) and decodes them to
    3DMM coefficients (B, T, 58) and emotion (B, T, 25).

    The decoder is ours (``decoder = "self_attention"``) or the reference's (``"two_stacks"``);
    decoder positions are added only with ``config.positional``, like the MMT's.

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
            dropout=config.dropout if config.mmt_dropout is None else config.mmt_dropout,
            feedforward=config.feedforward,
            positional=config.positional,
            audio_depth=config.audio_depth,
            audio_self_attention=config.audio_self_attention,
        )
        # Encoder head and decoder input MLP have the published shape: latent -> 2 latent -> latent.
        self.encoder_head = mlp(latent, 2 * latent, latent)
        if config.decoder == "two_stacks":
            # The reference's decoder: two stacks of decoder layers in sequence, each layer self- and
            # cross-attending to its stack's input. Its input MLP is built but never called in the
            # reference's forward pass, so it is not built here.
            self.decoder_input = None
            self.decoder = nn.ModuleList(
                nn.TransformerDecoder(
                    nn.TransformerDecoderLayer(
                        latent, config.decoder_heads, config.decoder_ff_dim, config.dropout, batch_first=True
                    ),
                    config.decoder_layers,
                )
                for _ in range(2)
            )
        elif config.decoder == "self_attention":
            self.decoder_input = mlp(latent, 2 * latent, latent)
            layer = nn.TransformerEncoderLayer(
                latent, config.decoder_heads, config.decoder_ff_dim, config.dropout, batch_first=True
            )
            self.decoder = nn.TransformerEncoder(layer, config.decoder_layers, enable_nested_tensor=False)
        else:
            raise ConfigError(
                f"autoencoder.decoder: unknown decoder {config.decoder!r}; choose from self_attention, two_stacks"
            )
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
        x = chunks.split(latent if self.decoder_input is None else self.decoder_input(latent))
        if self.config.positional:
            # Positions restart in every chunk: a window decodes the same wherever it sits in the clip.
            frames = torch.arange(x.shape[1], device=x.device)
            x = x + sinusoidal_embedding(frames, x.shape[-1]).to(x.dtype)
        if self.decoder_input is None:
            for stack in self.decoder:
                # memory = the stack's own input: cross-attention reads what the stack started from.
                x = stack(x, x)
        else:
            x = self.decoder(x)
        x = chunks.merge(x)
        return {"coeffs_3dmm": self.head_3dmm(x), "emotion": self.head_emotion(x)}

"""A small diffusion transformer over patch tokens of a latent window (the default denoiser)."""

from __future__ import annotations

import torch
import torch.nn.functional as F
from torch import nn

from reactdiff.errors import ConfigError
from reactdiff.methods.reactdiff.condition import Condition
from reactdiff.methods.reactdiff.config import DenoiserConfig
from reactdiff.nn.layers import attention, sinusoidal_embedding, split_heads


def modulate(x: torch.Tensor, shift: torch.Tensor, scale: torch.Tensor) -> torch.Tensor:
    """Adaptive LayerNorm modulation (DiT): per-sample shift and scale broadcast over tokens."""
    return x * (1 + scale[:, None]) + shift[:, None]


class CrossAttention(nn.Module):
    """Window tokens attend to the speaker's condition tokens.

    Keys and values are the condition tokens themselves: the condition encoder has already
    projected them, and a key/value projection here would be recomputed at every denoising step
    for inputs that do not change between steps. The output projection is zero-initialised, so a
    new block starts as the identity like the adaLN-Zero sub-layers.
    """

    def __init__(self, width: int, num_heads: int):
        super().__init__()
        self.num_heads = num_heads
        self.norm = nn.LayerNorm(width, eps=1e-6)
        self.query = nn.Linear(width, width)
        self.proj = nn.Linear(width, width)
        nn.init.zeros_(self.proj.weight)
        nn.init.zeros_(self.proj.bias)

    def forward(self, x: torch.Tensor, speaker_tokens: torch.Tensor) -> torch.Tensor:
        """``speaker_tokens``: (B, heads, S, width / heads), as :class:`Condition` holds them."""
        query = split_heads(self.query(self.norm(x)), self.num_heads)
        attended = attention(query, speaker_tokens, speaker_tokens)
        return x + self.proj(attended.transpose(1, 2).reshape(x.shape))


class DiTBlock(nn.Module):
    """Pre-norm transformer block with adaLN-Zero conditioning (Peebles & Xie 2023), optionally
    with cross-attention to the speaker's condition tokens between its two sub-layers.

    The timestep+condition vector regresses shift, scale and gate of both sub-layers; gates start
    at zero so every block starts as the identity, which DiT found trains best.
    """

    def __init__(self, width: int, num_heads: int, mlp_ratio: float, dropout: float, cross_attention: bool = False):
        super().__init__()
        self.num_heads = num_heads
        self.norm1 = nn.LayerNorm(width, elementwise_affine=False, eps=1e-6)
        self.qkv = nn.Linear(width, 3 * width)
        self.proj = nn.Linear(width, width)
        self.norm2 = nn.LayerNorm(width, elementwise_affine=False, eps=1e-6)
        hidden = int(width * mlp_ratio)
        self.mlp = nn.Sequential(
            nn.Linear(width, hidden), nn.GELU(approximate="tanh"), nn.Dropout(dropout), nn.Linear(hidden, width)
        )
        self.modulation = nn.Linear(width, 6 * width)
        nn.init.zeros_(self.modulation.weight)
        nn.init.zeros_(self.modulation.bias)
        self.cross = CrossAttention(width, num_heads) if cross_attention else None

    def forward(self, x: torch.Tensor, conditioning: torch.Tensor, speaker_tokens: torch.Tensor | None = None) -> torch.Tensor:
        shift1, scale1, gate1, shift2, scale2, gate2 = self.modulation(conditioning).chunk(6, dim=-1)
        batch, tokens, width = x.shape
        # (B, tokens, 3 * width) -> three (B, heads, tokens, head_dim) tensors.
        qkv = self.qkv(modulate(self.norm1(x), shift1, scale1))
        q, k, v = qkv.reshape(batch, tokens, 3, self.num_heads, width // self.num_heads).permute(2, 0, 3, 1, 4)
        attended = attention(q, k, v).transpose(1, 2).reshape(batch, tokens, width)
        x = x + gate1[:, None] * self.proj(attended)
        if self.cross is not None:
            x = self.cross(x, speaker_tokens)
        return x + gate2[:, None] * self.mlp(modulate(self.norm2(x), shift2, scale2))


class TransformerDenoiser(nn.Module):
    """``f(x_t (B, window, latent), t (B,), cond: Condition) -> eps or x0`` (``diffusion.prediction``;
    same shape as x_t).

    A window is cut into tokens of ``patch_frames`` consecutive frames (each token sees
    ``patch_frames * latent`` numbers), so the cost per window stays a few million multiply-adds:
    the budget that lets 10 reactions of a 750-frame clip sample in about a second on a CPU.

    Tokens are narrower than the patches they carry, so full-rank noise cannot pass through them.
    A learned, timestep- and condition-dependent per-dimension gate adds ``gate * x_t`` to the
    output: at high noise eps is almost x_t, and the tokens only have to model the data's
    low-dimensional part (without it the eps loss barely falls below that of predicting zero).

    The condition vector joins the timestep embedding that drives every block's adaLN; with
    ``cross_attention`` every block also attends to the condition's per-frame speaker tokens.
    """

    def __init__(self, config: DenoiserConfig, window: int, latent_dim: int):
        super().__init__()
        if config.condition_join != "add":
            raise ConfigError(
                f"denoiser.condition_join {config.condition_join!r} is a unet1d option; the transformer denoiser "
                "adds the projected condition to its timestep embedding (set denoiser.condition_join add)"
            )
        if window % config.patch_frames:
            raise ValueError(f"window {window} is not a multiple of denoiser.patch_frames {config.patch_frames}")
        if config.width % config.num_heads:
            raise ValueError(f"denoiser.width {config.width} is not divisible by num_heads {config.num_heads}")
        self.window = window
        self.latent_dim = latent_dim
        self.patch_frames = config.patch_frames
        width = config.width
        num_tokens = window // config.patch_frames
        self.patch_in = nn.Linear(config.patch_frames * latent_dim, width)
        # Learned token positions: only window / patch_frames of them, fixed by the config.
        self.position = nn.Parameter(torch.randn(1, num_tokens, width) * 0.02)
        self.time_embed = nn.Sequential(nn.Linear(width, width), nn.SiLU(), nn.Linear(width, width))
        # The speaker condition is added to the timestep embedding, which drives every block's adaLN.
        self.cond_embed = nn.Linear(config.cond_dim, width)
        self.cross_attention = config.cross_attention
        self.blocks = nn.ModuleList(
            DiTBlock(width, config.num_heads, config.mlp_ratio, config.dropout, config.cross_attention)
            for _ in range(config.depth)
        )
        self.final_norm = nn.LayerNorm(width, elementwise_affine=False, eps=1e-6)
        self.final_modulation = nn.Linear(width, 2 * width)
        self.patch_out = nn.Linear(width, config.patch_frames * latent_dim)
        self.skip_gate = nn.Linear(width, latent_dim)
        # Zero-initialised output: the untrained network predicts eps = 0 (DiT's adaLN-Zero).
        for layer in (self.final_modulation, self.patch_out, self.skip_gate):
            nn.init.zeros_(layer.weight)
            nn.init.zeros_(layer.bias)

    def forward(self, x_t: torch.Tensor, t: torch.Tensor, cond: Condition) -> torch.Tensor:
        if self.cross_attention and cond.tokens is None:
            raise ValueError("this denoiser cross-attends to condition tokens, but the condition has none")
        batch = x_t.shape[0]
        # (B, window, latent) -> (B, window / patch, patch * latent): consecutive frames form a token.
        tokens = self.patch_in(x_t.reshape(batch, -1, self.patch_frames * self.latent_dim)) + self.position
        if self.cross_attention:
            # The aligned window of speaker tokens is also added token by token: a direct path from
            # what the speaker does at (or, online, one window before) each moment, which the blocks
            # then shift by the few tokens of a reaction lag. Computed once per window, not per step.
            tokens = tokens + cond.aligned
        time = sinusoidal_embedding(t, self.time_embed[0].in_features).to(x_t.dtype)
        conditioning = F.silu(self.time_embed(time) + self.cond_embed(cond.vector))
        for block in self.blocks:
            tokens = block(tokens, conditioning, cond.tokens)
        # Final adaLN then the linear un-patching back to (B, window, latent).
        shift, scale = self.final_modulation(conditioning).chunk(2, dim=-1)
        out = self.patch_out(modulate(self.final_norm(tokens), shift, scale))
        return torch.addcmul(out.reshape(batch, self.window, self.latent_dim), self.skip_gate(conditioning)[:, None], x_t)

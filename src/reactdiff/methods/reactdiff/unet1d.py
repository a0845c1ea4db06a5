"""The paper's 1-D U-Net denoiser (improved-diffusion style): window frames as channels, latent
dimensions as the length axis."""

from __future__ import annotations

import torch
import torch.nn.functional as F
from torch import nn

from reactdiff.methods.reactdiff.condition import Condition
from reactdiff.methods.reactdiff.config import DenoiserConfig
from reactdiff.nn.layers import group_count, sinusoidal_embedding


def _norm(channels: int) -> nn.GroupNorm:
    return nn.GroupNorm(group_count(channels), channels)


def _zero(module: nn.Module) -> nn.Module:
    """Zero-initialise a layer so its residual branch starts as the identity (improved-diffusion)."""
    for parameter in module.parameters():
        nn.init.zeros_(parameter)
    return module


class ResBlock(nn.Module):
    """GroupNorm-SiLU-conv twice, with the timestep+condition embedding added in between."""

    def __init__(self, in_channels: int, out_channels: int, embed_dim: int, dropout: float):
        super().__init__()
        self.in_layers = nn.Sequential(
            _norm(in_channels), nn.SiLU(), nn.Conv1d(in_channels, out_channels, 3, padding=1)
        )
        self.embed = nn.Sequential(nn.SiLU(), nn.Linear(embed_dim, out_channels))
        self.out_layers = nn.Sequential(
            _norm(out_channels),
            nn.SiLU(),
            nn.Dropout(dropout),
            _zero(nn.Conv1d(out_channels, out_channels, 3, padding=1)),
        )
        self.skip = nn.Identity() if in_channels == out_channels else nn.Conv1d(in_channels, out_channels, 1)

    def forward(self, x: torch.Tensor, embedding: torch.Tensor) -> torch.Tensor:
        # The embedding is a per-channel bias, broadcast along the latent axis.
        h = self.in_layers(x) + self.embed(embedding)[:, :, None]
        return self.skip(x) + self.out_layers(h)


class AttentionBlock1d(nn.Module):
    """Self-attention over the length positions, channels as features."""

    def __init__(self, channels: int, num_heads: int):
        super().__init__()
        self.num_heads = num_heads
        self.norm = _norm(channels)
        self.qkv = nn.Conv1d(channels, 3 * channels, 1)
        self.proj = _zero(nn.Conv1d(channels, channels, 1))

    def forward(self, x: torch.Tensor, embedding: torch.Tensor | None = None) -> torch.Tensor:
        batch, channels, length = x.shape
        # Positions along the latent axis attend to each other; heads split the channels.
        qkv = self.qkv(self.norm(x)).reshape(batch, 3, self.num_heads, channels // self.num_heads, length)
        q, k, v = (part.transpose(-1, -2) for part in qkv.unbind(1))
        attended = F.scaled_dot_product_attention(q, k, v).transpose(-1, -2).reshape(batch, channels, length)
        return x + self.proj(attended)


class Downsample(nn.Module):
    def __init__(self, channels: int):
        super().__init__()
        # A strided convolution rather than pooling, as improved-diffusion's conv_resample.
        self.conv = nn.Conv1d(channels, channels, 3, stride=2, padding=1)

    def forward(self, x: torch.Tensor, embedding: torch.Tensor | None = None) -> torch.Tensor:
        return self.conv(x)


class Upsample(nn.Module):
    def __init__(self, channels: int):
        super().__init__()
        self.conv = nn.Conv1d(channels, channels, 3, padding=1)

    def forward(self, x: torch.Tensor, embedding: torch.Tensor | None = None) -> torch.Tensor:
        # Nearest-neighbour upsampling then a convolution avoids transposed-convolution checkerboards.
        return self.conv(F.interpolate(x, scale_factor=2, mode="nearest"))


class Level(nn.ModuleList):
    """A sequence of U-Net layers that all take (x, embedding)."""

    def forward(self, x: torch.Tensor, embedding: torch.Tensor) -> torch.Tensor:
        for layer in self:
            x = layer(x, embedding)
        return x


class UNet1D(nn.Module):
    """``f(x_t (B, window, latent), t (B,), cond: Condition) -> eps or x0`` (uses ``cond.vector``).

    As in the paper the window's frames are the input channels and the latent dimensions the
    length axis; the condition vector joins the timestep embedding that every residual block
    receives, projected and added (``condition_join = "add"``) or concatenated as the reference does
    (``"concat"``). ``latent_dim`` must be divisible by ``2 ** (len(channel_mult) - 1)``.
    """

    def __init__(self, config: DenoiserConfig, window: int, latent_dim: int):
        super().__init__()
        if config.cross_attention:
            raise ValueError(
                "denoiser.cross_attention is a transformer-denoiser option; the unet1d denoiser takes the "
                "condition vector only (set denoiser.cross_attention false, as the paper preset does)"
            )
        levels = len(config.channel_mult)
        if latent_dim % 2 ** (levels - 1):
            raise ValueError(f"latent_dim {latent_dim} is not divisible by 2**{levels - 1} (denoiser.channel_mult)")
        base = config.model_channels
        # improved-diffusion's timestep embedding width: four times the base channels.
        time_dim = 4 * base
        self.model_channels = base
        self.time_embed = nn.Sequential(nn.Linear(base, time_dim), nn.SiLU(), nn.Linear(time_dim, time_dim))
        # The speaker condition joins the timestep embedding, so every residual block sees both.
        # Added, it needs a projection to the embedding width; concatenated (the reference), every
        # block's embedding layer reads both and no projection exists.
        if config.condition_join == "concat":
            self.cond_embed = None
            embed_dim = time_dim + config.cond_dim
        else:
            self.cond_embed = nn.Linear(config.cond_dim, time_dim)
            embed_dim = time_dim

        def attention(channels: int, factor: int) -> list[nn.Module]:
            return [AttentionBlock1d(channels, config.unet_heads)] if factor in config.attention_levels else []

        # Frames are channels: the first convolution mixes all frames at each latent position.
        self.input_conv = nn.Conv1d(window, base, 3, padding=1)
        self.input_blocks = nn.ModuleList()
        # Channel counts of every encoder output, consumed in reverse by the decoder's skip concatenations.
        skip_channels = [base]
        # ``factor`` is the current downsampling of the latent axis; attention_levels are given in it.
        channels, factor = base, 1
        for level, mult in enumerate(config.channel_mult):
            for _ in range(config.num_res_blocks):
                layers = [ResBlock(channels, base * mult, embed_dim, config.dropout)]
                channels = base * mult
                self.input_blocks.append(Level(layers + attention(channels, factor)))
                skip_channels.append(channels)
            if level < levels - 1:
                self.input_blocks.append(Level([Downsample(channels)]))
                skip_channels.append(channels)
                factor *= 2
        self.middle = Level(
            [
                ResBlock(channels, channels, embed_dim, config.dropout),
                AttentionBlock1d(channels, config.unet_heads),
                ResBlock(channels, channels, embed_dim, config.dropout),
            ]
        )
        # Decoder: one more block per level than the encoder, each eating one skip connection.
        self.output_blocks = nn.ModuleList()
        for level, mult in reversed(list(enumerate(config.channel_mult))):
            for index in range(config.num_res_blocks + 1):
                layers = [ResBlock(channels + skip_channels.pop(), base * mult, embed_dim, config.dropout)]
                channels = base * mult
                layers += attention(channels, factor)
                if level and index == config.num_res_blocks:
                    layers.append(Upsample(channels))
                    factor //= 2
                self.output_blocks.append(Level(layers))
        # Zero-initialised output convolution: the untrained network predicts eps = 0.
        self.out = nn.Sequential(_norm(channels), nn.SiLU(), _zero(nn.Conv1d(channels, window, 3, padding=1)))

    def forward(self, x_t: torch.Tensor, t: torch.Tensor, cond: Condition) -> torch.Tensor:
        embedding = self.time_embed(sinusoidal_embedding(t, self.model_channels).to(x_t.dtype))
        if self.cond_embed is None:
            embedding = torch.cat([embedding, cond.vector], dim=-1)
        else:
            embedding = embedding + self.cond_embed(cond.vector)
        h = self.input_conv(x_t)
        # Keep every encoder activation for the matching decoder block (U-Net skip connections).
        skips = [h]
        for block in self.input_blocks:
            h = block(h, embedding)
            skips.append(h)
        h = self.middle(h, embedding)
        for block in self.output_blocks:
            h = block(torch.cat([h, skips.pop()], dim=1), embedding)
        return self.out(h)

"""Stage-2 condition: what each listener window is generated from, computed once per window."""

from __future__ import annotations

from typing import NamedTuple

import torch
from torch import nn

from reactdiff.nn.layers import group_count, split_heads


class Condition(NamedTuple):
    """The condition a denoiser receives for a batch of windows (opaque to the samplers).

    ``vector`` (B, cond_dim) is the paper's condition vector. ``tokens`` (B, heads, S, width /
    heads) are speaker tokens, one per ``patch_frames`` frames, that the transformer denoiser
    cross-attends to, laid out per attention head once so that no denoising step has to re-layout
    them; ``aligned`` (B, window / patch_frames, width) are those of the speaker window aligned
    with the listener window (its own offline, the one before online), which it adds token by
    token (both None when the configuration has no cross-attention).
    """

    vector: torch.Tensor
    tokens: torch.Tensor | None = None
    aligned: torch.Tensor | None = None

    def repeat_samples(self, batch: int, num_samples: int) -> "Condition":
        """(B * W, ...) -> (B * K * W, ...): the K samples of a speaker share its condition, samples-major."""

        def repeat(value: torch.Tensor | None) -> torch.Tensor | None:
            if value is None:
                return None
            per_speaker = value.reshape(batch, 1, -1, *value.shape[1:])
            return per_speaker.expand(-1, num_samples, *per_speaker.shape[2:]).reshape(-1, *value.shape[1:])

        return Condition(*(repeat(value) for value in self))

    def dropped(self, drop: torch.Tensor) -> "Condition":
        """The condition with the rows where ``drop`` (B,) is true replaced by the null condition:
        every part zero. Training with dropped rows (``diffusion.cond_dropout``) teaches the one
        network the unconditional model too, which classifier-free guidance needs."""
        keep = (~drop).to(self.vector.dtype)
        return Condition(*(None if value is None else value * keep.reshape(-1, *[1] * (value.dim() - 1)) for value in self))

    def with_null(self) -> "Condition":
        """(2B, ...): this condition, then the null condition (all zeros) for the same rows, so a
        guided step runs the conditional and the unconditional prediction in one network call."""
        return Condition(*(None if value is None else torch.cat([value, torch.zeros_like(value)]) for value in self))


def guided(denoise_fn, scale: float):
    """Classifier-free guidance (Ho & Salimans 2022) as a thin wrapper around a denoiser
    ``f(x_t, t, cond: Condition)``: ``f_null + scale (f_cond - f_null)``, both predictions from one
    network call on a doubled batch. Linear in the output, so it is the same for eps and x0.

    The wrapper takes the doubled condition, ``cond.with_null()``, built once per sampling call
    rather than once per denoising step."""

    def guided_fn(x_t: torch.Tensor, t: torch.Tensor, doubled: Condition) -> torch.Tensor:
        conditional, unconditional = denoise_fn(torch.cat([x_t, x_t]), torch.cat([t, t]), doubled).chunk(2)
        return unconditional + scale * (conditional - unconditional)

    return guided_fn


class ConditionEncoder(nn.Module):
    """Speaker latent frames of a window's context (B, frames, latent) -> :class:`Condition`.

    The vector path is the published one: flatten, Linear, GroupNorm, SiLU. The optional token
    path cuts the frames into patches of ``token_patch`` frames and projects each to ``token_dim``
    with a learned position, so the denoiser can attend to *when* the speaker did something; a
    single vector has to squeeze a 50-frame trajectory into ``cond_dim`` numbers that reach the
    denoiser only as a global scale and shift. Both run once per window before sampling, not once
    per denoising step.
    """

    def __init__(
        self,
        frames: int,
        latent_dim: int,
        cond_dim: int,
        token_patch: int = 0,
        token_dim: int = 0,
        token_heads: int = 1,
        aligned_window: tuple[int, int] | None = None,
    ):
        """``aligned_window = (index, window)``: the aligned speaker window is frames
        ``index * window .. (index + 1) * window`` of the context (default: the whole context is
        one window); ``token_heads``: the attention heads the tokens are laid out for."""
        super().__init__()
        # At least 8 channels per group: a group of one channel normalises every input to zero.
        groups = group_count(cond_dim, preferred=max(1, min(32, cond_dim // 8)))
        self.vector = nn.Sequential(
            nn.Flatten(1), nn.Linear(frames * latent_dim, cond_dim), nn.GroupNorm(groups, cond_dim), nn.SiLU()
        )
        self.token_patch = token_patch
        if token_patch:
            if frames % token_patch:
                raise ValueError(f"condition frames {frames} are not a multiple of the token patch {token_patch}")
            self.token_in = nn.Linear(token_patch * latent_dim, token_dim)
            self.token_position = nn.Parameter(torch.randn(1, frames // token_patch, token_dim) * 0.02)
            self.token_norm = nn.LayerNorm(token_dim)
            self.token_heads = token_heads
            index, window = aligned_window or (0, frames)
            self.aligned = slice(index * window // token_patch, (index + 1) * window // token_patch)

    def forward(self, speaker_frames: torch.Tensor) -> Condition:
        vector = self.vector(speaker_frames)
        if not self.token_patch:
            return Condition(vector)
        batch, frames, latent = speaker_frames.shape
        patches = speaker_frames.reshape(batch, frames // self.token_patch, self.token_patch * latent)
        tokens = self.token_norm(self.token_in(patches) + self.token_position)
        return Condition(vector, split_heads(tokens, self.token_heads).contiguous(), tokens[:, self.aligned])

"""REGNN's motor processor: an invertible graph flow between emotion windows and latents.

Input and output are (B, 25 nodes, F frames). Each :class:`GraphLayer` is an ActNorm over the
nodes followed by the residual y = x + f(x, E), where f is message passing over the cognitive
processor's edges E, reweighted by an attention of the (squashed) nodes, and divided by a bound L
on the Lipschitz constant of its attention weights: L = ||I + 2 W_q W_k^T / sqrt(F)||_2 + margin,
computed without gradient. With f a contraction the layer is invertible and the inverse is the
fixed point of x <- y - f(x, E) (invertible residual networks, Behrmann et al., 2019).

Training runs the flow forward (appropriate listener reactions -> latents); generation runs it
backward from a perturbed speaker latent. The original's log-determinant terms are off in its
recipe and its LU "1x1 convolution" is never applied (5,050 dead parameters): neither is built.
"""

from __future__ import annotations

import warnings

import torch
import torch.nn.functional as F
from torch import nn

from reactdiff.methods.regnn.config import MotorConfig


class ActNorm(nn.Module):
    """Per-node affine map y = x * exp(log_scale) + shift, initialised on the first training batch
    so that every node has zero mean and unit variance there. The "initialised" flag is a buffer,
    saved with the weights (the original keeps it as a plain attribute, which survives only
    because it pickles the whole model)."""

    def __init__(self, nodes: int, eps: float, min_std: float = 0.0):
        super().__init__()
        self.eps = eps
        self.min_std = min_std
        self.log_scale = nn.Parameter(torch.zeros(nodes))
        self.shift = nn.Parameter(torch.zeros(nodes))
        self.register_buffer("initialized", torch.zeros((), dtype=torch.bool))

    @torch.no_grad()
    def initialize(self, x: torch.Tensor) -> None:
        mean = x.mean(dim=(0, 2))
        # The floor keeps a node that is nearly constant in this one batch (a rare AU) from being
        # scaled by up to 1 / sqrt(eps) ~ 300 (MotorConfig.actnorm_min_std).
        std = (x.var(dim=(0, 2), unbiased=False) + self.eps).sqrt().clamp_min(self.min_std)
        self.log_scale.copy_(-std.log())
        self.shift.copy_(-mean / std)
        self.initialized.fill_(True)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        if self.training and not bool(self.initialized):
            self.initialize(x)
        return x * self.log_scale.exp()[None, :, None] + self.shift[None, :, None]

    def inverse(self, y: torch.Tensor) -> torch.Tensor:
        return (y - self.shift[None, :, None]) * (-self.log_scale).exp()[None, :, None]


class GraphAttention(nn.Module):
    """The residual branch f(x, E) of a graph layer (B, N, F) -> (B, N, F)."""

    def __init__(self, frames: int, edge_channels: int, margin: float):
        super().__init__()
        self.frames = frames
        self.margin = margin
        self.qk = nn.Linear(frames, 2 * frames)
        #: Mixing weights of the edge channels (normalised by their sum), initialised to ones.
        self.channel_weights = nn.Parameter(torch.ones(edge_channels))
        self.scale = frames**-0.5

    @torch.no_grad()
    def lipschitz_bound(self) -> torch.Tensor:
        w_q, w_k = self.qk.weight[: self.frames], self.qk.weight[self.frames :]
        eye = torch.eye(self.frames, device=w_q.device, dtype=w_q.dtype)
        return torch.linalg.matrix_norm(eye + 2 * (w_q @ w_k.T) * self.scale, ord=2) + self.margin

    def forward(self, x: torch.Tensor, edges: torch.Tensor, bound: torch.Tensor | None = None) -> torch.Tensor:
        if bound is None:
            bound = self.lipschitz_bound()
        squashed = torch.sigmoid(F.elu(x))
        q, k = self.qk(squashed).chunk(2, dim=-1)
        attention = ((q @ k.transpose(-1, -2)) * self.scale).softmax(dim=-1)  # (B, N, N)
        weighted = attention.unsqueeze(1) * edges  # (B, P, N, N)
        weighted = weighted / weighted.sum(dim=-1, keepdim=True).clamp_min(1e-16)
        mixing = self.channel_weights / self.channel_weights.sum()
        mixed = torch.einsum("bpnm,p->bnm", weighted, mixing)
        return (mixed @ squashed) / bound


class GraphLayer(nn.Module):
    """ActNorm, then y = x + f(x, E); inverted by fixed-point iteration."""

    def __init__(self, nodes: int, frames: int, edge_channels: int, config: MotorConfig):
        super().__init__()
        self.norm = ActNorm(nodes, config.actnorm_eps, config.actnorm_min_std)
        self.attention = GraphAttention(frames, edge_channels, config.lipschitz_margin)

    def forward(self, x: torch.Tensor, edges: torch.Tensor) -> torch.Tensor:
        x = self.norm(x)
        return x + self.attention(x, edges)

    @torch.no_grad()
    def inverse(self, y: torch.Tensor, edges: torch.Tensor, iterations: int, tolerance: float) -> tuple[torch.Tensor, float]:
        """x with x + f(x, E) = y, then the ActNorm undone; also the last update's largest change."""
        bound = self.attention.lipschitz_bound()
        x, change = y, float("inf")
        for _ in range(iterations):
            updated = y - self.attention(x, edges, bound)
            change = float((updated - x).abs().max()) if x.numel() else 0.0
            x = updated
            if change <= tolerance:
                break
        return self.norm.inverse(x), change


class LipschitzGraph(nn.Module):
    """The flow: ``forward(x, E)`` maps emotion windows (B, 25, F) to latents, ``inverse(z, E)`` back."""

    def __init__(self, nodes: int, frames: int, edge_channels: int, config: MotorConfig):
        super().__init__()
        self.layers = nn.ModuleList(GraphLayer(nodes, frames, edge_channels, config) for _ in range(config.layers))
        self.iterations = config.inverse_iterations
        self.tolerance = config.inverse_tolerance

    def forward(self, x: torch.Tensor, edges: torch.Tensor) -> torch.Tensor:
        for layer in self.layers:
            x = layer(x, edges)
        return x

    @torch.no_grad()
    def inverse(self, z: torch.Tensor, edges: torch.Tensor, iterations: int | None = None, tolerance: float | None = None) -> torch.Tensor:
        iterations = self.iterations if iterations is None else iterations
        tolerance = self.tolerance if tolerance is None else tolerance
        for index in reversed(range(len(self.layers))):
            z, change = self.layers[index].inverse(z, edges, iterations, tolerance)
            if change > tolerance:
                warnings.warn(
                    f"REGNN motor layer {index}: the fixed-point inverse moved by {change:.2e} in its last of {iterations} "
                    f"iterations (tolerance {tolerance:g}); the inverse is approximate",
                    RuntimeWarning,
                    stacklevel=2,
                )
        return z

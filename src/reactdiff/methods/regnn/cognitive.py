"""REGNN's cognitive processor: per-frame features -> the speaker latent X_s, a graph of 25 nodes
(one per emotion dimension) whose feature is the node's trajectory over the window, and the
multi-channel edges E between the nodes.

The original also builds a 6-component GMM head on X_s that no loss uses (30,600 dead
parameters); it is not built here.
"""

from __future__ import annotations

import torch
from torch import nn

from reactdiff.methods.regnn.config import CognitiveConfig


def gelu_mlp(in_dim: int, hidden_dim: int, out_dim: int) -> nn.Sequential:
    """Linear, GELU, Linear (the original's timm-style ``Mlp`` without dropout)."""
    return nn.Sequential(nn.Linear(in_dim, hidden_dim), nn.GELU(), nn.Linear(hidden_dim, out_dim))


def normalise_edges(edges: torch.Tensor) -> torch.Tensor:
    """E = R C^T with R the row-normalised and C the column-normalised R (per channel)."""
    rows = edges / (edges.sum(dim=-1, keepdim=True) + 1e-16)
    columns = rows / (rows.sum(dim=-2, keepdim=True) + 1e-16)
    return rows @ columns.transpose(-1, -2)


class EdgeLayer(nn.Module):
    """Node trajectories (B, N, F) -> edges (B, channels, N, N): ``channels`` attention maps
    softmax(q k^T / sqrt(F)) from an MLP of the nodes, sparsified to the strongest
    ``edge_neighbours`` edges per node plus self-loops, then normalised (:func:`normalise_edges`)."""

    def __init__(self, frames: int, config: CognitiveConfig):
        super().__init__()
        self.channels = config.edge_channels
        self.neighbours = config.edge_neighbours
        self.mask_mode = config.edge_mask
        self.mlp = gelu_mlp(frames, frames, frames)
        self.qk = nn.Linear(frames, 2 * config.edge_channels * frames, bias=False)
        self.scale = frames**-0.5

    def forward(self, nodes: torch.Tensor) -> torch.Tensor:
        batch, count, frames = nodes.shape
        qk = self.qk(self.mlp(nodes)).reshape(batch, count, 2, self.channels, frames).permute(2, 0, 3, 1, 4)
        attention = ((qk[0] @ qk[1].transpose(-1, -2)) * self.scale).softmax(dim=-1)
        return normalise_edges(self.mask(attention.detach()).unsqueeze(1) * attention)

    def mask(self, attention: torch.Tensor) -> torch.Tensor:
        """(B, N, N) 0/1 mask of the kept edges, chosen on the attention summed over channels."""
        strength = attention.sum(dim=1)
        batch, count, _ = strength.shape
        top = strength.topk(min(self.neighbours, count), dim=-1).indices  # (B, N, k)
        mask = torch.eye(count, device=attention.device, dtype=attention.dtype).expand(batch, count, count).clone()
        if self.mask_mode == "per_row":
            return mask.scatter_(-1, top, 1.0)
        # The original's mask: every row gets the union of all rows' top-k columns.
        columns = torch.zeros(batch, count, device=attention.device, dtype=attention.dtype).scatter_(-1, top.flatten(1), 1.0)
        return torch.maximum(mask, columns.unsqueeze(1).expand(batch, count, count))


class CognitiveProcessor(nn.Module):
    """Per-frame features (B, F, in_dim) -> (speaker latent X_s (B, 25, F), edges (B, P, 25, 25))."""

    def __init__(self, in_dim: int, nodes: int, frames: int, config: CognitiveConfig):
        super().__init__()
        self.convert = gelu_mlp(in_dim, config.hidden_dim, nodes)
        self.edges = EdgeLayer(frames, config)

    def forward(self, features: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        nodes = self.convert(features).transpose(1, 2)
        return nodes, self.edges(nodes)

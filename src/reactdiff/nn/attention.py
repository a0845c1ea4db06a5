"""The attention block of the Multi-Modality Transformer."""

from __future__ import annotations

import torch
from torch import nn


class AttentionBlock(nn.Module):
    """Multi-head attention then ``LayerNorm(attention + query)``, as published.

    ``feedforward=True`` adds the standard post-norm feed-forward sub-layer
    ``LayerNorm(x + FFN(x))``: the published block has none, which leaves stacked blocks with no
    per-frame non-linearity between attentions (see docs/model.md).
    """

    def __init__(self, dim: int, num_heads: int, dropout: float = 0.0, feedforward: bool = True):
        super().__init__()
        # nn.MultiheadAttention's in-projections are the block's q/k/v projections.
        self.attention = nn.MultiheadAttention(dim, num_heads, dropout=dropout, batch_first=True)
        self.norm = nn.LayerNorm(dim)
        self.feedforward = None
        if feedforward:
            self.feedforward = nn.Sequential(
                nn.Linear(dim, 2 * dim), nn.GELU(), nn.Dropout(dropout), nn.Linear(2 * dim, dim)
            )
            self.feedforward_norm = nn.LayerNorm(dim)

    def forward(self, query: torch.Tensor, context: torch.Tensor | None = None) -> torch.Tensor:
        """Attend from ``query`` (B, T, D) to ``context`` (B, S, D); self-attention if None."""
        context = query if context is None else context
        attended, _ = self.attention(query, context, context, need_weights=False)
        x = self.norm(query + attended)
        if self.feedforward is not None:
            x = self.feedforward_norm(x + self.feedforward(x))
        return x

"""Multi-Modality Transformer (MMT): fuses named per-frame feature streams into one behaviour feature."""

from __future__ import annotations

import torch
from torch import nn

from reactdiff.nn.attention import AttentionBlock
from reactdiff.nn.layers import mlp, sinusoidal_embedding

#: The stream classes the MMT fuses; every stream belongs to exactly one.
STREAM_CLASSES = ("visual", "audio")


class ClassFusion(nn.Module):
    """Intra-class attention: the class's first stream queries the others.

    A self-attention block first (``self_attention``), then ``depth`` rounds of one cross-attention
    block per other stream (the reference's visual class: AU stream, then expression and
    valence/arousal streams in turn; its audio class: one cross-attention, wav2vec2 querying MFCC,
    no self-attention). A class with a single stream gets ``depth`` further self-attention blocks
    instead.
    """

    def __init__(
        self, num_streams: int, dim: int, num_heads: int, depth: int, dropout: float, feedforward: bool,
        self_attention: bool = True,
    ):
        super().__init__()
        self.num_streams = num_streams
        self.self_attention = self_attention
        # One cross-attention block per other stream in each round; a lone stream attends to itself.
        blocks_per_round = max(num_streams - 1, 1)
        self.blocks = nn.ModuleList(
            AttentionBlock(dim, num_heads, dropout, feedforward)
            for _ in range(int(self_attention) + depth * blocks_per_round)
        )

    def forward(self, streams: list[torch.Tensor]) -> torch.Tensor:
        x = streams[0]
        rounds = self.blocks
        if self.self_attention:
            x = self.blocks[0](x)
            rounds = self.blocks[1:]
        others = streams[1:]
        # Cycle through the other streams: round r, block j attends to stream j + 1.
        for index, block in enumerate(rounds):
            x = block(x, others[index % len(others)] if others else None)
        return x


class MultiModalityTransformer(nn.Module):
    """Per-frame fusion of visual and audio streams into a behaviour feature (B, T, out_dim).

    Each stream is projected to ``hidden_dim``; streams of a class are fused by :class:`ClassFusion`;
    visual and audio are fused by ``inter_depth`` cross-attention blocks (visual queries, audio
    keys/values); a Linear-LayerNorm-SiLU-Linear projection gives the output. Any non-empty subset
    of streams works: with one class only, the inter-class stage is skipped.
    """

    def __init__(
        self,
        stream_dims: dict[str, int],
        stream_kinds: dict[str, str],
        hidden_dim: int,
        out_dim: int,
        num_heads: int = 4,
        intra_depth: int = 2,
        inter_depth: int = 2,
        dropout: float = 0.0,
        feedforward: bool = True,
        positional: bool = True,
        audio_depth: int | None = None,
        audio_self_attention: bool = True,
    ):
        super().__init__()
        if not stream_dims:
            raise ValueError("the Multi-Modality Transformer needs at least one input stream")
        self.stream_dims = dict(stream_dims)
        self.hidden_dim = hidden_dim
        self.positional = positional
        # Group the configured streams by class, keeping the configured order (the first is the query).
        self.classes: dict[str, list[str]] = {}
        for name in stream_dims:
            kind = stream_kinds.get(name)
            if kind not in STREAM_CLASSES:
                raise ValueError(f"stream {name!r} has kind {kind!r}; the model fuses {list(STREAM_CLASSES)} streams")
            self.classes.setdefault(kind, []).append(name)
        self.project = nn.ModuleDict({name: nn.Linear(dim, hidden_dim) for name, dim in stream_dims.items()})
        # The audio class may be fused differently (the reference: one cross-attention, no self-attention).
        depth = {"visual": intra_depth, "audio": intra_depth if audio_depth is None else audio_depth}
        self_attention = {"visual": True, "audio": audio_self_attention}
        self.intra = nn.ModuleDict(
            {
                kind: ClassFusion(len(names), hidden_dim, num_heads, depth[kind], dropout, feedforward, self_attention[kind])
                for kind, names in self.classes.items()
            }
        )
        # Inter-class fusion exists only when both visual and audio streams are configured.
        both = len(self.classes) == len(STREAM_CLASSES)
        self.inter = nn.ModuleList(
            AttentionBlock(hidden_dim, num_heads, dropout, feedforward) for _ in range(inter_depth if both else 0)
        )
        self.output = mlp(hidden_dim, 2 * hidden_dim, out_dim)

    def forward(self, streams: dict[str, torch.Tensor]) -> torch.Tensor:
        """``streams``: name -> (B, T, D) for every configured stream (extra names are ignored)."""
        for name, dim in self.stream_dims.items():
            if name not in streams:
                raise ValueError(f"missing input stream {name!r}; the model expects {sorted(self.stream_dims)}")
            if streams[name].shape[-1] != dim:
                raise ValueError(f"stream {name!r} has {streams[name].shape[-1]} features per frame, expected {dim}")
        first = streams[next(iter(self.stream_dims))]
        position = 0
        if self.positional:
            # Frame positions let attention tell neighbours from distant frames (no recurrence here).
            frames = torch.arange(first.shape[1], device=first.device)
            position = sinusoidal_embedding(frames, self.hidden_dim).to(first.dtype)
        projected = {name: self.project[name](streams[name]) + position for name in self.stream_dims}
        fused = {kind: self.intra[kind]([projected[name] for name in names]) for kind, names in self.classes.items()}
        # Visual queries, audio keys/values; with a single class its fused sequence is the result.
        x = fused.get("visual", fused.get("audio"))
        for block in self.inter:
            x = block(x, fused["audio"])
        return self.output(x)

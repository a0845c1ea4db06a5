"""What every method's generated emotion looks like: the data contract's ranges.

Methods train their emotion outputs with plain regression losses on raw values; at generation
every method maps them into the contract's ranges with :func:`postprocess_emotion`, so reactions of
different methods are scored and rendered alike.
"""

from __future__ import annotations

import torch

from reactdiff.constants import AU_SLICE, EXPRESSION_SLICE, VA_SLICE


#: Decoder output above which an AU counts as occurring.
AU_THRESHOLD = 0.5


def postprocess_emotion(emotion: torch.Tensor) -> torch.Tensor:
    """Map raw decoder emotion outputs (..., 25) into the valid ranges of the data contract.

    Training uses L1 on raw outputs (as the reference); at generation AU occurrences become 0/1 by
    thresholding at 0.5 (the data contract defines them as occurrences, and a reaction whose AU is
    "0.07 active" all clip long is not a facial behaviour), valence/arousal are clamped to [-1, 1],
    and expression probabilities clipped at 0 and renormalised to sum to one (uniform where all
    eight were clipped to zero). ``decode`` still gives the raw outputs.
    """
    aus = (emotion[..., AU_SLICE] > AU_THRESHOLD).to(emotion.dtype)
    valence_arousal = emotion[..., VA_SLICE].clamp(-1, 1)
    expression = emotion[..., EXPRESSION_SLICE].clamp_min(0)
    total = expression.sum(-1, keepdim=True)
    uniform = torch.full_like(expression, 1 / expression.shape[-1])
    expression = torch.where(total > 0, expression / total.clamp_min(1e-12), uniform)
    return torch.cat([aus, valence_arousal, expression], dim=-1)

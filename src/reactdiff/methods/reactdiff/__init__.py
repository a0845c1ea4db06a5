"""ReactDiff networks: Multi-Modality Transformer autoencoder, condition encoder, denoisers.

Names are resolved lazily (PEP 562) so that importing the configuration dataclasses, as every
command's ``--help`` does, does not import torch.
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING

from reactdiff.methods.reactdiff.config import AutoencoderConfig, DenoiserConfig, DiffusionConfig, ModelConfig

if TYPE_CHECKING:
    from reactdiff.methods.reactdiff.model import ReactDiffModel

_LAZY = {
    "DENOISERS": "reactdiff.methods.reactdiff.denoisers",
    "MODEL_PRESETS": "reactdiff.methods.reactdiff.presets",
    "ReactDiffModel": "reactdiff.methods.reactdiff.model",
    "postprocess_emotion": "reactdiff.methods.outputs",
}


def __getattr__(name: str):
    if name in _LAZY:
        return getattr(importlib.import_module(_LAZY[name]), name)
    raise AttributeError(f"module 'reactdiff.methods.reactdiff' has no attribute {name!r}")


def build_model(config: ModelConfig, stream_dims: dict[str, int], stream_kinds: dict[str, str]) -> "ReactDiffModel":
    """Build the model for ``config.streams``, given every available stream's width and kind
    ("visual" or "audio"), e.g. from ``FeatureStore.streams``."""
    from reactdiff.methods.reactdiff.model import ReactDiffModel

    return ReactDiffModel(config, stream_dims, stream_kinds)


__all__ = [
    "AutoencoderConfig", "DENOISERS", "DenoiserConfig", "DiffusionConfig", "MODEL_PRESETS", "ModelConfig",
    "ReactDiffModel", "build_model", "postprocess_emotion",
]

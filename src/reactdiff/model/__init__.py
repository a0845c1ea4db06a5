"""ReactDiff networks: Multi-Modality Transformer autoencoder, condition encoder, denoisers."""

from __future__ import annotations

from reactdiff.model.config import AutoencoderConfig, DenoiserConfig, DiffusionConfig, ModelConfig
from reactdiff.model.denoisers import DENOISERS
from reactdiff.model.presets import MODEL_PRESETS
from reactdiff.model.reactdiff import ReactDiffModel, postprocess_emotion


def build_model(config: ModelConfig, stream_dims: dict[str, int], stream_kinds: dict[str, str]) -> ReactDiffModel:
    """Build the model for ``config.streams``, given every available stream's width and kind
    ("visual" or "audio"), e.g. from ``FeatureStore.streams``."""
    return ReactDiffModel(config, stream_dims, stream_kinds)


__all__ = [
    "AutoencoderConfig", "DENOISERS", "DenoiserConfig", "DiffusionConfig", "MODEL_PRESETS", "ModelConfig",
    "ReactDiffModel", "build_model", "postprocess_emotion",
]

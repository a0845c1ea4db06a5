"""Registry of stage-2 denoiser networks, chosen by ``DenoiserConfig.name``."""

from __future__ import annotations

from reactdiff.methods.reactdiff.transformer_denoiser import TransformerDenoiser
from reactdiff.methods.reactdiff.unet1d import UNet1D

#: name -> class built as ``cls(config: DenoiserConfig, window: int, latent_dim: int)``.
DENOISERS = {"transformer": TransformerDenoiser, "unet1d": UNet1D}

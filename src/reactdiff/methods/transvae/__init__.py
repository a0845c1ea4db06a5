"""Trans-VAE (REACT 2024 official baseline) in the method registry: one latent per speaker
sequence (offline) or per window (online), decoded by a transformer into 3DMM, then emotion.

Declaration: :mod:`.method`; settings and presets: :mod:`.config`; networks: :mod:`.model`; the
one training stage: :mod:`.stage`. docs/methods/transvae.md says what we kept and what we changed.
"""

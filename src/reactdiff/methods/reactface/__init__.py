"""ReactFace (Luo et al., TVCG 2024): online listener reaction generation, window by window, from
the speaker's past and the listener's own past, with a per-window VAE latent smoothed by momentum.
Declared in :mod:`reactdiff.methods.reactface.method`; see docs/methods/reactface.md."""

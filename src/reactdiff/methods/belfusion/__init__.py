"""BeLFusion for faces (the REACT 2024 official baseline, after Barquero et al., ICCV 2023): a
windowed GRU behaviour VAE (stage 1) and a latent diffusion with an MLP denoiser (stage 2)."""
